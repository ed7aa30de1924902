#include "le_advertising_manager1.hpp"

#include "dbus_call.hpp"

namespace sotto::platform::bluez {

LEAdvertisingManager1::LEAdvertisingManager1(sdbus::IConnection& connection,
                                             const std::string& adapter_path, EventLoop& loop,
                                             std::chrono::milliseconds timeout)
    : proxy_(sdbus::createProxy(connection, kBluezService, adapter_path)),
      loop_(loop),
      timeout_(timeout) {}

Result<void> LEAdvertisingManager1::register_advertisement(const std::string& object_path,
                                                           std::string& error_name) noexcept {
    try {
        auto msg = proxy_->createMethodCall(kAdvManagerIface, "RegisterAdvertisement");
        msg << sdbus::ObjectPath(object_path) << PropertyMap{};
        auto r = call_and_wait(*proxy_, msg, CallKind::kAdvertising, timeout_, loop_, error_name);
        if (!r) return r.error();
        return ok();
    } catch (...) {
        return make_error(ErrorCode::kInternal, "bluez: cannot build RegisterAdvertisement");
    }
}

Result<void> LEAdvertisingManager1::unregister_advertisement(
    const std::string& object_path) noexcept {
    try {
        auto msg = proxy_->createMethodCall(kAdvManagerIface, "UnregisterAdvertisement");
        msg << sdbus::ObjectPath(object_path);
        std::string name;
        auto r = call_and_wait(*proxy_, msg, CallKind::kAdvertising, timeout_, loop_, name);
        if (!r && name == "org.bluez.Error.DoesNotExist") return ok();
        if (!r) return r.error();
        return ok();
    } catch (...) {
        return make_error(ErrorCode::kInternal, "bluez: cannot build UnregisterAdvertisement");
    }
}

}  // namespace sotto::platform::bluez
