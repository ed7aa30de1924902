#include <string_view>

#include "dbus.hpp"

namespace sotto::platform::bluez {

Error map_dbus_error(const std::string& name, CallKind kind) noexcept {
    const std::string_view n = name;
    if (n == "org.freedesktop.DBus.Error.Timeout" || n == "org.freedesktop.DBus.Error.NoReply" ||
        n == "org.freedesktop.DBus.Error.TimedOut")
        return {ErrorCode::kBleTimeout, "bluez: bluetoothd did not answer in time"};
    if (n == "org.freedesktop.DBus.Error.ServiceUnknown" ||
        n == "org.freedesktop.DBus.Error.NameHasNoOwner" ||
        n == "org.freedesktop.DBus.Error.Disconnected" ||
        n == "org.freedesktop.DBus.Error.NoServer")
        return {ErrorCode::kBleUnavailable, "bluez: bluetoothd is not running"};
    if (n == "org.freedesktop.DBus.Error.UnknownObject" ||
        n == "org.freedesktop.DBus.Error.UnknownMethod" ||
        n == "org.freedesktop.DBus.Error.UnknownInterface")
        return {ErrorCode::kBleUnavailable, "bluez: no such adapter or interface"};
    if (n == "org.bluez.Error.NotReady" || n == "org.bluez.Error.NotPowered")
        return {ErrorCode::kBleUnavailable, "bluez: adapter not ready (powered off)"};
    if (n == "org.freedesktop.DBus.Error.AccessDenied" || n == "org.bluez.Error.NotAuthorized")
        return {ErrorCode::kBlePermissionDenied,
                "bluez: access denied by D-Bus policy or bluetoothd"};
    if (n == "org.bluez.Error.InProgress" || n == "org.bluez.Error.Busy")
        return {ErrorCode::kBleBusy, "bluez: adapter busy"};
    if (kind == CallKind::kAdvertising) {
        if (n == "org.bluez.Error.NotPermitted")
            return {ErrorCode::kBleBusy, "bluez: no free advertising slot"};
        if (n == "org.bluez.Error.InvalidLength")
            return {ErrorCode::kBleRefused, "bluez: advertisement too long for the adapter"};
        return {ErrorCode::kBleRefused, "bluez: the adapter refused the advertisement"};
    }
    if (n == "org.bluez.Error.NotPermitted")
        return {ErrorCode::kBlePermissionDenied, "bluez: operation not permitted"};
    if (kind == CallKind::kDiscovery)
        return {ErrorCode::kBleRefused, "bluez: the adapter refused to start discovery"};
    return {ErrorCode::kBleUnavailable, "bluez: D-Bus call failed"};
}

}  // namespace sotto::platform::bluez
