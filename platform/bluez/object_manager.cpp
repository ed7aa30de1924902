#include "object_manager.hpp"

#include "dbus_call.hpp"

namespace sotto::platform::bluez {

void apply_adapter_properties(const PropertyMap& properties, AdapterState& state) noexcept {
    try {
        if (auto it = properties.find("Powered");
            it != properties.end() && it->second.containsValueOfType<bool>())
            state.powered = it->second.get<bool>();
        if (auto it = properties.find("Discoverable");
            it != properties.end() && it->second.containsValueOfType<bool>())
            state.discoverable = it->second.get<bool>();
    } catch (...) {
        // A variant that lies about its type: keep what we knew.
    }
}

ObjectManager::ObjectManager(sdbus::IConnection& connection, EventLoop& loop,
                             std::chrono::milliseconds timeout)
    : proxy_(sdbus::createProxy(connection, kBluezService, "/")), loop_(loop), timeout_(timeout) {}

Result<AdapterState> ObjectManager::adapter_state(const std::string& adapter_path) noexcept {
    try {
        auto msg = proxy_->createMethodCall(kObjectManagerIface, "GetManagedObjects");
        auto r = call_and_wait(*proxy_, msg, CallKind::kQuery, timeout_, loop_);
        AdapterState state;
        if (!r) {
            if (r.error().code == ErrorCode::kBleUnavailable) return state;  // no bluetoothd
            return r.error();
        }
        state.service_up = true;
        ManagedObjects objects;
        r.value() >> objects;
        const auto it = objects.find(sdbus::ObjectPath(adapter_path));
        if (it == objects.end()) return state;
        const auto adapter = it->second.find(kAdapterIface);
        if (adapter == it->second.end()) return state;
        state.exists = true;
        apply_adapter_properties(adapter->second, state);
        return state;
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "bluez: out of memory");
    } catch (...) {
        return make_error(ErrorCode::kBleUnavailable, "bluez: malformed GetManagedObjects reply");
    }
}

}  // namespace sotto::platform::bluez
