#include "adapter1.hpp"

#include "dbus_call.hpp"

namespace sotto::platform::bluez {

Adapter1::Adapter1(sdbus::IConnection& connection, const std::string& path, EventLoop& loop,
                   std::chrono::milliseconds timeout)
    : proxy_(sdbus::createProxy(connection, kBluezService, path)), loop_(loop), timeout_(timeout) {}

Result<void> Adapter1::set_discovery_filter() noexcept {
    try {
        auto msg = proxy_->createMethodCall(kAdapterIface, "SetDiscoveryFilter");
        msg << PropertyMap{
            {"UUIDs", sdbus::Variant(std::vector<std::string>{kFd6fUuid})},
            {"Transport", sdbus::Variant(std::string("le"))},
            {"DuplicateData", sdbus::Variant(true)},
        };
        auto r = call_and_wait(*proxy_, msg, CallKind::kDiscovery, timeout_, loop_);
        if (!r) return r.error();
        return ok();
    } catch (...) {
        return make_error(ErrorCode::kInternal, "bluez: cannot build SetDiscoveryFilter");
    }
}

Result<void> Adapter1::call(const char* method, CallKind kind, std::string& error_name) noexcept {
    try {
        auto msg = proxy_->createMethodCall(kAdapterIface, method);
        auto r = call_and_wait(*proxy_, msg, kind, timeout_, loop_, error_name);
        if (!r) return r.error();
        return ok();
    } catch (...) {
        return make_error(ErrorCode::kInternal, "bluez: cannot build an Adapter1 call");
    }
}

Result<void> Adapter1::start_discovery() noexcept {
    std::string name;
    auto r = call("StartDiscovery", CallKind::kDiscovery, name);
    if (!r && name == "org.bluez.Error.InProgress") return ok();
    return r;
}

Result<void> Adapter1::stop_discovery() noexcept {
    std::string name;
    auto r = call("StopDiscovery", CallKind::kDiscovery, name);
    if (!r && (name == "org.bluez.Error.NotAuthorized" || name == "org.bluez.Error.NotReady" ||
               name == "org.bluez.Error.Failed"))
        return ok();
    return r;
}

}  // namespace sotto::platform::bluez
