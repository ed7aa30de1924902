#pragma once
// Proxy of org.bluez.LEAdvertisingManager1 on the adapter object.

#include <chrono>
#include <memory>
#include <string>

#include "dbus.hpp"
#include "event_loop.hpp"

namespace sotto::platform::bluez {

class LEAdvertisingManager1 {
public:
    LEAdvertisingManager1(sdbus::IConnection& connection, const std::string& adapter_path,
                          EventLoop& loop, std::chrono::milliseconds timeout);

    /// RegisterAdvertisement(path, {}). bluetoothd reads the object back (GetAll) before it
    /// answers. Errors: kBleRefused (InvalidLength, Failed, AlreadyExists ...), kBleBusy (no free
    /// slot), kBleUnavailable, kBlePermissionDenied, kBleTimeout. `error_name` receives BlueZ's
    /// error name (empty on success or for local failures).
    Result<void> register_advertisement(const std::string& object_path,
                                        std::string& error_name) noexcept;
    /// UnregisterAdvertisement(path). "DoesNotExist" counts as success (already gone).
    Result<void> unregister_advertisement(const std::string& object_path) noexcept;

private:
    std::unique_ptr<sdbus::IProxy> proxy_;
    EventLoop& loop_;
    std::chrono::milliseconds timeout_;
};

}  // namespace sotto::platform::bluez
