// The loop side of the BlueZ radio: one connection-level match per kind of signal. sdbus-c++
// 1.2.0 does not catch exceptions of addMatch handlers, so every handler body is wrapped; a
// signal that cannot be read is dropped (and counted when it was a Device1 signal).
#include <algorithm>
#include <optional>

#include "bluez_radio_impl.hpp"
#include "callback_guard.hpp"
#include "device1.hpp"

namespace sotto::platform::bluez {
namespace {

std::optional<bool> bool_property(const PropertyMap& m, const char* name) {
    auto it = m.find(name);
    if (it == m.end() || !it->second.containsValueOfType<bool>()) return std::nullopt;
    return it->second.get<bool>();
}

}  // namespace

void BluezRadioImpl::on_device_properties(const std::string& path,
                                          const PropertyMap& properties) noexcept {
    try {
        const auto plain = to_plain(properties);
        const auto outcome = decode_device_properties(path, plain);
        if (outcome.malformed) malformed_.fetch_add(1);
        if (outcome.dropped_entries > 0) dropped_entries_.fetch_add(outcome.dropped_entries);
        if (!outcome.report) return;
        const std::int64_t now = clock_.now_ms();
        std::lock_guard lock(scan_mutex_);
        if (!on_heard_) return;
        InCallback mark;
        for (const auto& entry : outcome.report->entries) {
            ble::HeardAdvertisement heard;
            heard.service_data = entry.data;
            heard.service_uuid = entry.uuid;
            heard.rssi_dbm = outcome.report->rssi_dbm;
            heard.time_ms = now;
            heard.address = outcome.report->address;
            heard_.fetch_add(1);
            try {
                on_heard_(heard);
            } catch (...) {
                // The callback's exception is its own problem; keep delivering.
            }
        }
    } catch (...) {
        malformed_.fetch_add(1);
    }
}

Result<void> BluezRadioImpl::subscribe() noexcept {
    try {
        const std::string props_rule =
            "type='signal',sender='org.bluez',interface='org.freedesktop.DBus.Properties',"
            "member='PropertiesChanged',";
        device_match_ = connection_->addMatch(
            props_rule + "arg0='org.bluez.Device1',path_namespace='" + adapter_path_ + "'",
            [this](sdbus::Message& msg) {
                try {
                    std::string iface;
                    PropertyMap changed;
                    msg >> iface >> changed;
                    if (iface != kDeviceIface) return;
                    on_device_properties(msg.getPath(), changed);
                } catch (...) {
                    malformed_.fetch_add(1);
                }
            });
        adapter_match_ = connection_->addMatch(
            props_rule + "arg0='org.bluez.Adapter1',path='" + adapter_path_ + "'",
            [this](sdbus::Message& msg) {
                try {
                    std::string iface;
                    PropertyMap changed;
                    msg >> iface >> changed;
                    if (iface != kAdapterIface) return;
                    const auto powered = bool_property(changed, "Powered");
                    const auto discoverable = bool_property(changed, "Discoverable");
                    if (!powered && !discoverable) return;
                    worker_.post([this, powered, discoverable] {
                        AdapterState s = adapter_state_;
                        if (powered) s.powered = *powered;
                        if (discoverable) s.discoverable = *discoverable;
                        on_adapter_properties(s);
                    });
                } catch (...) {
                }
            });
        objects_match_ = connection_->addMatch(
            "type='signal',sender='org.bluez',interface='org.freedesktop.DBus.ObjectManager',path='"
            "/'",
            [this](sdbus::Message& msg) {
                try {
                    sdbus::ObjectPath path;
                    msg >> path;
                    const std::string member = msg.getMemberName();
                    if (member == "InterfacesAdded") {
                        InterfaceMap interfaces;
                        msg >> interfaces;
                        if (path == adapter_path_ && interfaces.count(kAdapterIface) != 0) {
                            worker_.post([this] { refresh_adapter(); });
                        } else if (path.rfind(adapter_path_ + "/", 0) == 0) {
                            auto dev = interfaces.find(kDeviceIface);
                            if (dev != interfaces.end()) on_device_properties(path, dev->second);
                        }
                    } else if (member == "InterfacesRemoved") {
                        std::vector<std::string> interfaces;
                        msg >> interfaces;
                        if (path == adapter_path_ && std::find(interfaces.begin(), interfaces.end(),
                                                               kAdapterIface) != interfaces.end())
                            worker_.post([this] { on_adapter_removed(); });
                    }
                } catch (...) {
                }
            });
        owner_match_ = connection_->addMatch(
            "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
            "member='NameOwnerChanged',arg0='org.bluez'",
            [this](sdbus::Message& msg) {
                try {
                    std::string name, old_owner, new_owner;
                    msg >> name >> old_owner >> new_owner;
                    if (name != kBluezService) return;
                    const bool present = !new_owner.empty();
                    worker_.post([this, present] { on_service_owner(present); });
                } catch (...) {
                }
            });
        return ok();
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "bluez: out of memory");
    } catch (...) {
        return make_error(ErrorCode::kBleUnavailable, "bluez: cannot subscribe to BlueZ signals");
    }
}

}  // namespace sotto::platform::bluez
