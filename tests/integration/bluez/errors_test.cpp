// BlueZ and bus error names -> sotto error codes (no bus needed).
#include <cstring>

#include "bluez/dbus.hpp"
#include "support.hpp"

using namespace sotto;
using sotto::platform::bluez::CallKind;
using sotto::platform::bluez::map_dbus_error;

TEST_CASE("BlueZ error names map to the kBle codes radio.hpp promises", "[bluez][errors]") {
    struct Case {
        const char* name;
        CallKind kind;
        ErrorCode code;
    };
    const Case cases[] = {
        {"org.freedesktop.DBus.Error.NoReply", CallKind::kAdvertising, ErrorCode::kBleTimeout},
        {"org.freedesktop.DBus.Error.Timeout", CallKind::kQuery, ErrorCode::kBleTimeout},
        {"org.freedesktop.DBus.Error.ServiceUnknown", CallKind::kAdvertising,
         ErrorCode::kBleUnavailable},
        {"org.freedesktop.DBus.Error.UnknownObject", CallKind::kDiscovery,
         ErrorCode::kBleUnavailable},
        {"org.bluez.Error.NotReady", CallKind::kDiscovery, ErrorCode::kBleUnavailable},
        {"org.freedesktop.DBus.Error.AccessDenied", CallKind::kAdvertising,
         ErrorCode::kBlePermissionDenied},
        {"org.bluez.Error.NotAuthorized", CallKind::kDiscovery, ErrorCode::kBlePermissionDenied},
        {"org.bluez.Error.NotPermitted", CallKind::kAdvertising, ErrorCode::kBleBusy},
        {"org.bluez.Error.NotPermitted", CallKind::kDiscovery, ErrorCode::kBlePermissionDenied},
        {"org.bluez.Error.InvalidLength", CallKind::kAdvertising, ErrorCode::kBleRefused},
        {"org.bluez.Error.Failed", CallKind::kAdvertising, ErrorCode::kBleRefused},
        {"org.bluez.Error.AlreadyExists", CallKind::kAdvertising, ErrorCode::kBleRefused},
        {"org.bluez.Error.Failed", CallKind::kDiscovery, ErrorCode::kBleRefused},
        {"org.bluez.Error.InProgress", CallKind::kDiscovery, ErrorCode::kBleBusy},
        {"com.example.Unknown", CallKind::kQuery, ErrorCode::kBleUnavailable},
        {"", CallKind::kQuery, ErrorCode::kBleUnavailable},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name, static_cast<int>(c.kind));
        const Error e = map_dbus_error(c.name, c.kind);
        CHECK(e.code == c.code);
        // Static text only: never the (bus-supplied) error name itself.
        CHECK(std::strstr(e.what, "bluez: ") == e.what);
        if (std::strlen(c.name) > 0) CHECK(std::strstr(e.what, c.name) == nullptr);
    }
}
