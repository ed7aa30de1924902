#pragma once
// org.freedesktop.DBus.ObjectManager of bluetoothd (on "/"): what adapters exist and their state.

#include <chrono>
#include <memory>
#include <string>

#include "dbus.hpp"
#include "event_loop.hpp"

namespace sotto::platform::bluez {

/// What the backend needs to know about its adapter.
struct AdapterState {
    bool service_up = false;  ///< org.bluez answered
    bool exists = false;      ///< the adapter object has org.bluez.Adapter1
    bool powered = false;
    bool discoverable = false;
};

/// Reads Powered / Discoverable from an Adapter1 property map (changed or full). Members the
/// map lacks, or has with a wrong type, keep their value in `state`. Never throws.
void apply_adapter_properties(const PropertyMap& properties, AdapterState& state) noexcept;

class ObjectManager {
public:
    ObjectManager(sdbus::IConnection& connection, EventLoop& loop,
                  std::chrono::milliseconds timeout);

    /// GetManagedObjects, reduced to the state of `adapter_path`. kBleUnavailable with
    /// `service_up` false when bluetoothd is not on the bus is *not* an error: the state says so.
    /// Errors: kBleTimeout, kBlePermissionDenied, kOutOfMemory.
    Result<AdapterState> adapter_state(const std::string& adapter_path) noexcept;

private:
    std::unique_ptr<sdbus::IProxy> proxy_;
    EventLoop& loop_;
    std::chrono::milliseconds timeout_;
};

}  // namespace sotto::platform::bluez
