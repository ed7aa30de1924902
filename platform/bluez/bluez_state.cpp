// The worker side of the BlueZ radio: reconciling what is wanted (advertise, scan) with what
// bluetoothd has, after every call and every adapter or service event.
#include "bluez_radio_impl.hpp"
#include "callback_guard.hpp"

namespace sotto::platform::bluez {

bool BluezRadioImpl::available() const noexcept {
    return adapter_state_.service_up && adapter_state_.exists && adapter_state_.powered;
}

void BluezRadioImpl::emit(ble::RadioEventKind kind, Error error) noexcept {
    // Events run on the D-Bus loop thread, like the scan callback (radio.hpp); if the loop has
    // ended with the connection, on this (control) thread instead.
    // Only to the callback installed when the event happened: one installed later does not get
    // older events, and one removed meanwhile is never called again.
    std::uint64_t generation = 0;
    {
        std::lock_guard lock(event_mutex_);
        if (!on_event_) return;
        generation = event_generation_;
    }
    auto deliver = [this, kind, error, generation] {
        try {
            std::lock_guard lock(event_mutex_);
            if (!on_event_ || event_generation_ != generation) return;
            InCallback mark;
            on_event_(ble::RadioEvent{kind, error});
        } catch (...) {
            // A throwing callback must not take the radio down.
        }
    };
    try {
        if (loop_->post(deliver)) return;
    } catch (...) {
    }
    deliver();
}

Result<void> BluezRadioImpl::register_current() noexcept {
    if (!wanted_adv_) return ok();
    advertisement_->set_payload(wanted_adv_->service_data);
    std::string error_name;
    auto r = manager_->register_advertisement(advertisement_->path(), error_name);
    if (!r && error_name == "org.bluez.Error.AlreadyExists") {
        // bluetoothd still holds an earlier registration of ours (one whose reply timed out, or
        // one kept across a power cycle) with an older payload: replace it, once.
        if (auto u = manager_->unregister_advertisement(advertisement_->path()); !u) return u;
        r = manager_->register_advertisement(advertisement_->path(), error_name);
    }
    if (r) {
        registrations_.fetch_add(1);
        std::lock_guard lock(state_mutex_);
        adv_registered_ = true;
    }
    return r;
}

Result<void> BluezRadioImpl::unregister_current() noexcept {
    auto r = manager_->unregister_advertisement(advertisement_->path());
    if (r || r.error().code != ErrorCode::kBleTimeout) {
        // Gone (or the adapter with it). After a timeout we do not know, so keep the flag and
        // let the caller see the error.
        std::lock_guard lock(state_mutex_);
        adv_registered_ = false;
    }
    return r;
}

Result<void> BluezRadioImpl::start_discovery() noexcept {
    auto r = adapter_->set_discovery_filter();
    if (r) r = adapter_->start_discovery();
    if (r) {
        std::lock_guard lock(state_mutex_);
        discovery_active_ = true;
    }
    return r;
}

void BluezRadioImpl::reconcile() noexcept {
    if (!available()) {
        std::lock_guard lock(state_mutex_);
        adv_registered_ = false;
        discovery_active_ = false;
        return;
    }
    if (wanted_adv_ && !adv_registered_) {
        // bluetoothd may still hold our object from before a power cycle: clear it first, so the
        // registration reads the current payload instead of failing with AlreadyExists.
        (void)manager_->unregister_advertisement(advertisement_->path());
        if (auto r = register_current(); !r)
            emit(ble::RadioEventKind::kAdvertisingFailed, r.error());
    }
    if (wanted_scan_ && !discovery_active_) {
        if (auto r = start_discovery(); !r) emit(ble::RadioEventKind::kScanningFailed, r.error());
    }
}

void BluezRadioImpl::after_change(bool was_available) noexcept {
    const bool now = available();
    if (now) reconcile();
    if (now && !was_available) {
        emit(ble::RadioEventKind::kAdapterAvailable);
        if (restart_pending_) {
            restart_pending_ = false;
            emit(ble::RadioEventKind::kServiceRestarted);
        }
    } else if (!now && was_available) {
        {
            std::lock_guard lock(state_mutex_);
            adv_registered_ = false;
            discovery_active_ = false;
        }
        emit(ble::RadioEventKind::kAdapterUnavailable,
             {ErrorCode::kBleUnavailable, !adapter_state_.service_up
                                              ? "bluez: bluetoothd left the bus"
                                          : !adapter_state_.exists ? "bluez: adapter removed"
                                                                   : "bluez: adapter powered off"});
    }
}

void BluezRadioImpl::refresh_adapter() noexcept {
    const bool was = available();
    auto state = object_manager_->adapter_state(adapter_path_);
    if (!state) return;  // timeout: keep what we knew; the next signal tries again
    {
        std::lock_guard lock(state_mutex_);
        if (state->service_up && !adapter_state_.service_up && ever_up_) {
            restart_pending_ = true;
            restarts_.fetch_add(1);
        }
        if (state->service_up) ever_up_ = true;
        adapter_state_ = *state;
        if (!available()) {
            adv_registered_ = false;
            discovery_active_ = false;
        }
    }
    after_change(was);
}

void BluezRadioImpl::on_service_owner(bool present) noexcept {
    if (present) {
        refresh_adapter();
        return;
    }
    const bool was = available();
    {
        std::lock_guard lock(state_mutex_);
        if (adapter_state_.service_up) restart_pending_ = true;
        adapter_state_ = AdapterState{};
        adv_registered_ = false;    // bluetoothd forgot every registration
        discovery_active_ = false;  // and every discovery session
    }
    after_change(was);
}

void BluezRadioImpl::on_adapter_properties(const AdapterState& changed_into) noexcept {
    const bool was = available();
    {
        std::lock_guard lock(state_mutex_);
        adapter_state_.powered = changed_into.powered;
        adapter_state_.discoverable = changed_into.discoverable;
        if (!available()) {
            adv_registered_ = false;
            discovery_active_ = false;  // bluetoothd ends discovery sessions at power-off
        }
    }
    after_change(was);
}

void BluezRadioImpl::on_adapter_removed() noexcept {
    const bool was = available();
    {
        std::lock_guard lock(state_mutex_);
        adapter_state_.exists = false;
        adapter_state_.powered = false;
        adapter_state_.discoverable = false;
    }
    after_change(was);
}

void BluezRadioImpl::on_released() noexcept {
    {
        std::lock_guard lock(state_mutex_);
        adv_registered_ = false;
    }
    if (!wanted_adv_) return;
    emit(ble::RadioEventKind::kAdvertisingFailed,
         {ErrorCode::kBleRefused, "bluez: bluetoothd released the advertisement"});
    // Re-register after a back-off, if still wanted and possible by then.
    worker_.post(
        [this] {
            if (available() && wanted_adv_ && !adv_registered_) reconcile();
        },
        options_.release_backoff);
}

void BluezRadioImpl::mark_lost() noexcept {
    const bool was = available();
    {
        std::lock_guard lock(state_mutex_);
        adapter_state_ = AdapterState{};
        adv_registered_ = false;
        discovery_active_ = false;
    }
    if (was)
        emit(ble::RadioEventKind::kAdapterUnavailable,
             {ErrorCode::kBleUnavailable, "bluez: D-Bus connection lost"});
}

}  // namespace sotto::platform::bluez
