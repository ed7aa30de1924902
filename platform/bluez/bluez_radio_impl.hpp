#pragma once
// The BlueZ radio. Three threads meet here:
// * the caller of the public methods, which queues a task on the worker and waits for it;
// * the worker (control thread), the only one that calls bluetoothd and changes the state below;
// * the D-Bus loop thread, which serves bluetoothd's reads of our advertisement, decodes Device1
//   signals, calls the scan and event callbacks, and turns every other signal into a worker task.

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <sotto/platform/bluez_radio.hpp>

#include "adapter1.hpp"
#include "dbus.hpp"
#include "event_loop.hpp"
#include "le_advertisement1.hpp"
#include "le_advertising_manager1.hpp"
#include "object_manager.hpp"
#include "worker.hpp"

namespace sotto::platform::bluez {

class BluezRadioImpl final : public BluezRadio {
public:
    BluezRadioImpl(const Clock& clock, BluezOptions options);
    ~BluezRadioImpl() override;

    /// Connects, exports, subscribes and reads the initial adapter state.
    Result<void> open() noexcept;

    Result<void> start_advertising(const ble::Advertisement& adv) override;
    Result<void> rotate(const ble::Advertisement& adv) override;
    Result<void> stop_advertising() override;
    Result<void> start_scanning(ble::ScanCallback on_heard) override;
    Result<void> stop_scanning() override;
    void set_event_callback(ble::EventCallback on_event) override;
    ble::RadioStatus status() const override;
    BluezStatus bluez_status() const override;

private:
    // ---- worker side (bluez_state.cpp) ----
    bool available() const noexcept;  // service up, adapter exists and powered
    void refresh_adapter() noexcept;
    void reconcile() noexcept;
    void after_change(bool was_available) noexcept;
    Result<void> register_current() noexcept;
    Result<void> unregister_current() noexcept;
    Result<void> start_discovery() noexcept;
    void mark_lost() noexcept;
    void emit(ble::RadioEventKind kind, Error error = {ErrorCode::kOk, ""}) noexcept;
    void on_service_owner(bool present) noexcept;
    void on_adapter_properties(const AdapterState& changed_into) noexcept;
    void on_adapter_removed() noexcept;
    void on_released() noexcept;

    // ---- loop side (bluez_signals.cpp) ----
    Result<void> subscribe() noexcept;
    void on_device_properties(const std::string& path, const PropertyMap& properties) noexcept;
    Result<void> guard_reentry() const noexcept;

    const Clock& clock_;
    const BluezOptions options_;
    const std::string adapter_path_;

    std::unique_ptr<sdbus::IConnection> connection_;
    std::unique_ptr<EventLoop> loop_;
    std::unique_ptr<LEAdvertisement1> advertisement_;
    std::unique_ptr<Adapter1> adapter_;
    std::unique_ptr<LEAdvertisingManager1> manager_;
    std::unique_ptr<ObjectManager> object_manager_;
    sdbus::Slot device_match_, adapter_match_, objects_match_, owner_match_;
    Worker worker_;

    // State: written on the worker only, read by status() under state_mutex_.
    mutable std::mutex state_mutex_;
    AdapterState adapter_state_;
    std::optional<ble::Advertisement> wanted_adv_;
    bool wanted_scan_ = false;
    bool adv_registered_ = false;
    bool discovery_active_ = false;
    bool restart_pending_ = false;  // bluetoothd left; report kServiceRestarted once restored
    bool ever_up_ = false;

    // Callbacks: each called under its mutex, so clearing one waits for a running call.
    std::mutex scan_mutex_;
    ble::ScanCallback on_heard_;
    std::mutex event_mutex_;
    ble::EventCallback on_event_;
    std::uint64_t event_generation_ = 0;  // under event_mutex_; +1 per set_event_callback

    std::atomic<std::uint64_t> heard_{0}, rotations_{0}, registrations_{0}, restarts_{0};
    std::atomic<std::uint64_t> malformed_{0}, dropped_entries_{0};
};

}  // namespace sotto::platform::bluez
