#include <new>
#include <utility>

#include "bluez_radio_impl.hpp"
#include "callback_guard.hpp"

namespace sotto::platform::bluez {
namespace {

bool valid_adapter_name(const std::string& name) noexcept {
    if (name.empty() || name.size() > 32) return false;
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    return true;
}

Result<void> validate(const BluezOptions& o) noexcept {
    if (!valid_adapter_name(o.adapter))
        return make_error(ErrorCode::kInvalidArgument,
                          "bluez: adapter name must be 1-32 of [A-Za-z0-9_]");
    if (o.call_timeout < std::chrono::milliseconds{10} ||
        o.call_timeout > std::chrono::seconds{120})
        return make_error(ErrorCode::kInvalidArgument, "bluez: call_timeout must be 10 ms - 120 s");
    if (o.release_backoff < std::chrono::milliseconds{0} ||
        o.release_backoff > std::chrono::seconds{60})
        return make_error(ErrorCode::kInvalidArgument, "bluez: release_backoff must be 0 - 60 s");
    return ok();
}

// Our advertisement object, one per connection (object paths are per connection).
constexpr const char* kAdvertisementPath = "/org/sotto/advertisement0";

}  // namespace

BluezRadioImpl::BluezRadioImpl(const Clock& clock, BluezOptions options)
    : clock_(clock),
      options_(std::move(options)),
      adapter_path_("/org/bluez/" + options_.adapter) {}

BluezRadioImpl::~BluezRadioImpl() {
    // 1. No more BlueZ calls or events: finish the running task, drop the queued ones.
    worker_.stop();
    // 2. No more signals, reads of our object or scan callbacks.
    if (loop_) loop_->stop();
    // 3. Closing the connection makes bluetoothd drop our advertisement and discovery session
    //    (it watches our bus name), so nothing needs to be unregistered by hand, and nothing
    //    here waits for bluetoothd or for a bus that may be gone.
    try {
        device_match_.reset();
        adapter_match_.reset();
        objects_match_.reset();
        owner_match_.reset();
        advertisement_.reset();
        adapter_.reset();
        manager_.reset();
        object_manager_.reset();
        loop_.reset();
        connection_.reset();
    } catch (...) {
    }
}

Result<void> BluezRadioImpl::open() noexcept {
    try {
        connection_ = sdbus::createSystemBusConnection();
        loop_ = std::make_unique<EventLoop>(*connection_, [this] {
            // Loop thread, connection gone: the worker reports it (it may be stopping already).
            worker_.post([this] { mark_lost(); });
        });
        advertisement_ = std::make_unique<LEAdvertisement1>(
            *connection_, kAdvertisementPath, [this] { worker_.post([this] { on_released(); }); });
        adapter_ =
            std::make_unique<Adapter1>(*connection_, adapter_path_, *loop_, options_.call_timeout);
        manager_ = std::make_unique<LEAdvertisingManager1>(*connection_, adapter_path_, *loop_,
                                                           options_.call_timeout);
        object_manager_ =
            std::make_unique<ObjectManager>(*connection_, *loop_, options_.call_timeout);
    } catch (const sdbus::Error& e) {
        try {
            return map_dbus_error(e.getName(), CallKind::kQuery);
        } catch (...) {
            return make_error(ErrorCode::kBleUnavailable,
                              "bluez: cannot connect to the system bus");
        }
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "bluez: out of memory");
    } catch (...) {
        return make_error(ErrorCode::kBleUnavailable, "bluez: cannot connect to the system bus");
    }
    if (auto r = subscribe(); !r) return r;
    if (auto r = worker_.start(); !r) return r;
    if (auto r = loop_->start(); !r) return r;
    // The loop runs before the first call: bluetoothd may call us back before it answers.
    return worker_.run([this]() -> Result<void> {
        refresh_adapter();
        return ok();
    });
}

Result<void> BluezRadioImpl::guard_reentry() const noexcept {
    if (t_in_callback || worker_.on_worker_thread())
        return make_error(ErrorCode::kFailedPrecondition,
                          "bluez: radio methods must not be called from its callbacks");
    return ok();
}

Result<void> BluezRadioImpl::start_advertising(const ble::Advertisement& adv) {
    if (auto g = guard_reentry(); !g) return g;
    return worker_.run([this, adv]() -> Result<void> {
        {
            std::lock_guard lock(state_mutex_);
            wanted_adv_ = adv;
        }
        if (!available())
            return make_error(ErrorCode::kBleUnavailable, "bluez: no powered adapter (wish kept)");
        if (adv_registered_) {
            if (auto r = unregister_current(); !r) return r;
        }
        return register_current();
    });
}

Result<void> BluezRadioImpl::rotate(const ble::Advertisement& adv) {
    if (auto g = guard_reentry(); !g) return g;
    return worker_.run([this, adv]() -> Result<void> {
        if (!wanted_adv_)
            return make_error(ErrorCode::kFailedPrecondition,
                              "bluez: rotate while not advertising");
        {
            std::lock_guard lock(state_mutex_);
            wanted_adv_ = adv;
        }
        if (!available())
            return make_error(ErrorCode::kBleUnavailable, "bluez: no powered adapter (wish kept)");
        // Tear the old instance down first: the new payload is set only once it is gone, so it
        // never goes out from the old address (and the old payload never from a new one).
        if (adv_registered_) {
            if (auto r = unregister_current(); !r) return r;
        }
        auto r = register_current();
        if (r) rotations_.fetch_add(1);
        return r;
    });
}

Result<void> BluezRadioImpl::stop_advertising() {
    if (auto g = guard_reentry(); !g) return g;
    return worker_.run([this]() -> Result<void> {
        {
            std::lock_guard lock(state_mutex_);
            wanted_adv_.reset();
        }
        if (!adv_registered_) return ok();
        auto r = unregister_current();
        if (!r && r.error().code != ErrorCode::kBleTimeout) return ok();  // gone with the adapter
        return r;
    });
}

Result<void> BluezRadioImpl::start_scanning(ble::ScanCallback on_heard) {
    if (auto g = guard_reentry(); !g) return g;
    {
        std::lock_guard lock(scan_mutex_);
        on_heard_ = std::move(on_heard);
    }
    return worker_.run([this]() -> Result<void> {
        {
            std::lock_guard lock(state_mutex_);
            wanted_scan_ = true;
        }
        if (!available())
            return make_error(ErrorCode::kBleUnavailable, "bluez: no powered adapter (wish kept)");
        if (discovery_active_) return ok();
        return start_discovery();
    });
}

Result<void> BluezRadioImpl::stop_scanning() {
    if (auto g = guard_reentry(); !g) return g;
    {
        // Waits for a running scan callback; none starts after this (on_heard_ is empty).
        std::lock_guard lock(scan_mutex_);
        on_heard_ = nullptr;
    }
    return worker_.run([this]() -> Result<void> {
        {
            std::lock_guard lock(state_mutex_);
            wanted_scan_ = false;
        }
        if (!discovery_active_) return ok();
        auto r = adapter_->stop_discovery();
        std::lock_guard lock(state_mutex_);
        discovery_active_ = false;
        if (!r && r.error().code != ErrorCode::kBleTimeout) return ok();
        return r;
    });
}

void BluezRadioImpl::set_event_callback(ble::EventCallback on_event) {
    if (t_in_callback || worker_.on_worker_thread()) return;  // would deadlock; documented
    std::lock_guard lock(event_mutex_);
    on_event_ = std::move(on_event);
    ++event_generation_;
}

ble::RadioStatus BluezRadioImpl::status() const {
    ble::RadioStatus s;
    {
        std::lock_guard lock(state_mutex_);
        s.adapter_present = available();
        s.advertising = wanted_adv_.has_value() && adv_registered_;
        s.scanning = wanted_scan_ && discovery_active_;
    }
    s.advertisements_heard = heard_.load();
    s.rotations = rotations_.load();
    return s;
}

BluezStatus BluezRadioImpl::bluez_status() const {
    BluezStatus s;
    {
        std::lock_guard lock(state_mutex_);
        s.adapter_discoverable = adapter_state_.exists && adapter_state_.discoverable;
    }
    s.malformed_signals = malformed_.load();
    s.dropped_entries = dropped_entries_.load();
    s.registrations = registrations_.load();
    s.service_restarts = restarts_.load();
    return s;
}

Result<std::unique_ptr<BluezRadio>> create(const Clock& clock, const BluezOptions& options) {
    if (auto v = validate(options); !v) return v.error();
    try {
        auto radio = std::make_unique<BluezRadioImpl>(clock, options);
        if (auto r = radio->open(); !r) return r.error();
        return std::unique_ptr<BluezRadio>(std::move(radio));
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "bluez: out of memory");
    } catch (...) {
        return make_error(ErrorCode::kInternal, "bluez: unexpected exception");
    }
}

}  // namespace sotto::platform::bluez
