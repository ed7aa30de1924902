#pragma once
// The one door to sdbus-c++: every file of the backend that talks D-Bus includes this header and
// no other sdbus header. Public headers never include it.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

#include <sotto/error.hpp>
#include <sotto/result.hpp>

namespace sotto::platform::bluez {

inline constexpr const char* kBluezService = "org.bluez";
inline constexpr const char* kAdapterIface = "org.bluez.Adapter1";
inline constexpr const char* kDeviceIface = "org.bluez.Device1";
inline constexpr const char* kAdvManagerIface = "org.bluez.LEAdvertisingManager1";
inline constexpr const char* kAdvertisementIface = "org.bluez.LEAdvertisement1";
inline constexpr const char* kPropertiesIface = "org.freedesktop.DBus.Properties";
inline constexpr const char* kObjectManagerIface = "org.freedesktop.DBus.ObjectManager";
/// The full form BlueZ uses for the Exposure Notification service UUID 0xFD6F.
inline constexpr const char* kFd6fUuid = "0000fd6f-0000-1000-8000-00805f9b34fb";

using PropertyMap = std::map<std::string, sdbus::Variant>;
using InterfaceMap = std::map<std::string, PropertyMap>;
using ManagedObjects = std::map<sdbus::ObjectPath, InterfaceMap>;

/// Which call failed, for mapping BlueZ's error names to ours.
enum class CallKind : std::uint8_t { kAdvertising, kDiscovery, kQuery };

/// Maps a D-Bus error (BlueZ's org.bluez.Error.*, the bus's org.freedesktop.DBus.Error.*) to a
/// kBle* error with a static message.
Error map_dbus_error(const std::string& name, CallKind kind) noexcept;

/// Runs `fn` (which makes sdbus-c++ calls) and turns every exception into an Error: sdbus::Error
/// through map_dbus_error, std::bad_alloc into kOutOfMemory, anything else into kInternal.
template <class Fn>
Result<void> guarded(CallKind kind, Fn&& fn) noexcept {
    try {
        fn();
        return ok();
    } catch (const sdbus::Error& e) {
        try {
            return map_dbus_error(e.getName(), kind);
        } catch (...) {
            return make_error(ErrorCode::kBleUnavailable, "bluez: D-Bus call failed");
        }
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "bluez: out of memory");
    } catch (...) {
        return make_error(ErrorCode::kInternal, "bluez: unexpected exception");
    }
}

/// Converts a std::chrono duration into the microseconds sdbus-c++ takes.
inline std::uint64_t to_usec(std::chrono::milliseconds d) noexcept {
    return static_cast<std::uint64_t>(d.count()) * 1000U;
}

}  // namespace sotto::platform::bluez
