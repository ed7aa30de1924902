// An attached ble::Radio: advertises what the rotation scheduler chooses (rotating payload and
// address together), scans on lib/ble's duty cycle, and feeds what it hears to the BeaconFeed.
#include <sotto/core/payload.hpp>
#include <sotto/log.hpp>

#include "tracer/tracer_impl.hpp"

namespace sotto {
namespace {

bool kept(const Result<void>& r) {
    return r || r.error().code == ErrorCode::kBleUnavailable;  // the backend keeps the wish
}

}  // namespace

Result<void> Tracer::Impl::attach_radio(std::unique_ptr<ble::Radio> r) {
    if (!r) return make_error(ErrorCode::kInvalidArgument, "tracer: attach_radio needs a radio");
    if (auto d = detach_radio(); !d)
        write_log(LogLevel::kWarning, "tracer: old radio did not stop");
    auto duty_cycle = ble::ScanDutyCycle::create(options.scan, *rng);
    if (!duty_cycle) return duty_cycle.error();
    auto adv = current_advertisement();
    if (!adv) return adv.error();

    std::lock_guard lock(radio_mu);
    if (adv->active) {
        auto a = r->start_advertising(adv->to_radio(options.metadata.tx_power_dbm));
        if (!kept(a)) {
            counters.radio_errors.fetch_add(1, std::memory_order_relaxed);
            return a.error();
        }
        radio_advertising = true;
        radio_payload = adv->service_data;
    }
    duty.emplace(*duty_cycle);
    if (duty->at(clock.now_ms()).scanning) {
        // The callback runs on the radio's thread and only enters the feed, which outlives it:
        // detach_radio (also run by the destructor) stops scanning first.
        auto s = r->start_scanning(
            [f = feed.get()](const ble::HeardAdvertisement& h) { f->on_heard(h); });
        if (!kept(s)) {
            counters.radio_errors.fetch_add(1, std::memory_order_relaxed);
            (void)r->stop_advertising();
            radio_advertising = false;
            radio_payload.reset();
            duty.reset();
            return s.error();
        }
        radio_scanning = true;
    }
    radio = std::move(r);
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
        radio_advertising = false;
        radio_scanning = false;
        duty.reset();
        radio_attached = false;
    }
    if (!r) return {};
    auto s = r->stop_scanning();  // once it returns, no scan callback runs
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
    std::lock_guard lock(radio_mu);
    if (!radio) return {};
    Result<void> first;
    auto keep = [&](Result<void> r) {
        if (r) return;
        counters.radio_errors.fetch_add(1, std::memory_order_relaxed);
        if (first) first = r.error();
    };
    // Advertising: rotate payload and address together; stop when nothing may be broadcast
    // (scheduler error, or the clock moved back onto used intervals).
    if (!adv || !adv->active) {
        if (radio_advertising) keep(radio->stop_advertising());
        radio_advertising = false;
        radio_payload.reset();
        if (!adv) keep(adv.error());
    } else if (!radio_advertising) {
        auto r = radio->start_advertising(adv->to_radio(options.metadata.tx_power_dbm));
        if (kept(r)) {
            radio_advertising = true;
            radio_payload = adv->service_data;
        }
        keep(r);
    } else if (!radio_payload || *radio_payload != adv->service_data) {
        auto r = radio->rotate(adv->to_radio(options.metadata.tx_power_dbm));
        if (r) radio_payload = adv->service_data;
        keep(r);
    }
    // Scanning on the duty cycle.
    if (duty) {
        const bool want = duty->at(clock.now_ms()).scanning;
        if (want && !radio_scanning) {
            auto r = radio->start_scanning(
                [f = feed.get()](const ble::HeardAdvertisement& h) { f->on_heard(h); });
            if (kept(r)) radio_scanning = true;
            keep(r);
        } else if (!want && radio_scanning) {
            auto r = radio->stop_scanning();
            if (r) radio_scanning = false;
            keep(r);
        }
    }
    return first;
}

}  // namespace sotto
