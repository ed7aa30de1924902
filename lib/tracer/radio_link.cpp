// An attached ble::Radio: advertises the current payload, rotates it at interval boundaries,
// and feeds what it hears to on_advertisement.
#include <sotto/core/payload.hpp>
#include <sotto/log.hpp>

#include "tracer/tracer_impl.hpp"

namespace sotto {

Result<void> Tracer::Impl::attach_radio(std::unique_ptr<ble::Radio> r) {
    if (!r) return make_error(ErrorCode::kInvalidArgument, "tracer: attach_radio needs a radio");
    if (auto d = detach_radio(); !d) write_log(LogLevel::kWarning, "tracer: old radio did not stop");
    auto adv = current_advertisement();
    if (!adv) return adv.error();

    std::lock_guard lock(radio_mu);
    const auto kept = [](const Result<void>& res) {
        return res || res.error().code == ErrorCode::kBleUnavailable;  // the backend keeps the wish
    };
    auto a = r->start_advertising(adv->to_radio(options.metadata.tx_power_dbm));
    if (!kept(a)) {
        counters.radio_errors.fetch_add(1, std::memory_order_relaxed);
        return a.error();
    }
    // The callback runs on the radio's thread. `this` outlives it: detach_radio (also run by
    // the destructor) stops scanning before the Impl goes away.
    auto s = r->start_scanning([this](const ble::HeardAdvertisement& h) {
        if (h.service_uuid != core::kExposureNotificationUuid) return;  // not GAEN: not ours
        try {
            (void)on_advertisement(h.service_data, h.rssi_dbm, h.time_ms);
        } catch (...) {  // out of memory: the packet is lost, the radio thread goes on
            counters.dropped_overflow.fetch_add(1, std::memory_order_relaxed);
        }
    });
    if (!kept(s)) {
        counters.radio_errors.fetch_add(1, std::memory_order_relaxed);
        (void)r->stop_advertising();
        return s.error();
    }
    radio = std::move(r);
    radio_payload = adv->service_data;
    radio_attached = true;
    write_log(LogLevel::kInfo, "tracer: radio attached");
    return {};
}

Result<void> Tracer::Impl::detach_radio() {
    std::unique_ptr<ble::Radio> r;
    {
        std::lock_guard lock(radio_mu);
        r = std::move(radio);
        radio_payload.reset();
        radio_attached = false;
    }
    if (!r) return {};
    // Outside radio_mu: stop_scanning waits for a running callback, which may be flushing.
    auto s = r->stop_scanning();
    auto a = r->stop_advertising();
    r.reset();
    write_log(LogLevel::kInfo, "tracer: radio detached");
    if (!s) return s.error();
    if (!a) return a.error();
    return {};
}

Result<void> Tracer::Impl::refresh_radio() {
    {
        std::lock_guard lock(radio_mu);
        if (!radio) return {};
    }
    auto adv = current_advertisement();
    if (!adv) return adv.error();
    std::lock_guard lock(radio_mu);
    if (!radio) return {};
    // Rotate when the payload changed: a new interval, or a key rolled (released, erased).
    if (radio_payload && *radio_payload == adv->service_data) return {};
    auto r = radio->rotate(adv->to_radio(options.metadata.tx_power_dbm));
    if (!r && r.error().code == ErrorCode::kFailedPrecondition)
        r = radio->start_advertising(adv->to_radio(options.metadata.tx_power_dbm));
    if (!r) {
        counters.radio_errors.fetch_add(1, std::memory_order_relaxed);
        return r.error();
    }
    radio_payload = adv->service_data;
    return {};
}

}  // namespace sotto
