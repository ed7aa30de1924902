// The device's own TEKs (resumed from the store, generated and stored before first use, rolled
// at once when released) and the advertisement, chosen by lib/ble's RotationScheduler.
#include <sotto/core/interval.hpp>
#include <sotto/core/keys.hpp>
#include <sotto/log.hpp>

#include "tracer/tracer_impl.hpp"

namespace sotto {
namespace {

Result<core::IntervalNumber> now_interval(const Clock& clock) noexcept {
    auto enin = core::interval_number(clock.now_seconds());
    if (!enin) return make_error(ErrorCode::kOutOfRange, "tracer: clock outside the ENIN range");
    return *enin;
}

// The unpublished stored key valid at `enin` that started last, if any; and whether a published
// key covers `enin` (then a new key must start at `enin`, not at midnight).
struct Resume {
    std::optional<core::ExposureKey> key;
    bool published_covers = false;
};

Resume find_key(const std::vector<store::OwnKey>& keys, core::IntervalNumber enin) {
    Resume r;
    for (const auto& k : keys) {
        if (!k.key.valid_at(enin) || k.key.rolling_start < core::day_start_interval(enin)) continue;
        if (k.published) {
            r.published_covers = true;
        } else if (!r.key || k.key.rolling_start >= r.key->rolling_start) {
            r.key = k.key.clone();
        }
    }
    return r;
}

}  // namespace

// The scheduler's TEK source: the store's key for the day (resumed after a restart), or a new
// one, stored before it is used.
Result<core::ExposureKey> Tracer::Impl::tek_for(core::IntervalNumber enin) {
    auto keys = store.own_keys();
    if (!keys) return keys.error();
    Resume found = find_key(*keys, enin);
    if (found.key) return std::move(*found.key);
    core::ExposureKey k = core::generate_tek(*rng, enin);
    if (found.published_covers) {
        // Today's key was released: the rest of the day gets a new key from this interval on.
        k.rolling_start = enin;
        k.rolling_period = static_cast<std::uint32_t>(core::day_start_interval(enin) +
                                                      core::kTekRollingPeriod - enin);
    }
    if (auto r = store.add_own_key(k, clock.now_seconds()); !r) return r.error();
    counters.own_keys_created.fetch_add(1, std::memory_order_relaxed);
    write_log(LogLevel::kInfo, "tracer: new temporary exposure key");
    return k;
}

void Tracer::Impl::roll_now() {
    if (scheduler) last_used_enin = std::max(last_used_enin, scheduler->last_used_enin());
    // Nothing more in the current interval: a released (or erased) key's last RPI and the next
    // key's first never share one.
    if (auto now = core::interval_number(clock.now_seconds()))
        last_used_enin = std::max(last_used_enin, *now);
    scheduler.reset();
}

Result<OwnAdvertisement> Tracer::Impl::current_advertisement() {
    std::lock_guard lock(own_mu);
    auto now = now_interval(clock);
    if (!now) return now.error();
    if (!scheduler) {
        if (last_used_enin == 0) {
            // After a restart with today's key stored, the current interval may already have been
            // broadcast (by the process before): never derive for it again.
            auto keys = store.own_keys();
            if (!keys) return keys.error();
            if (find_key(*keys, *now).key) last_used_enin = *now;
        }
        ble::RotationConfig rc;
        rc.min_rotation_ms = options.min_rotation_ms;
        rc.max_rotation_ms = options.max_rotation_ms;
        rc.metadata = options.metadata;
        auto s = ble::RotationScheduler::create(
            rc, *rng, [this](core::IntervalNumber enin) { return tek_for(enin); }, last_used_enin);
        if (!s) return s.error();
        scheduler.emplace(std::move(*s));
    }
    auto b = scheduler->at(clock.now_ms());
    if (!b) return b.error();

    OwnAdvertisement adv;
    adv.active = b->active;
    adv.valid_until_ms = b->next_change_ms;
    if (!b->active) return adv;
    adv.service_data = b->advertisement.service_data;
    auto beacon = core::decode_service_data(adv.service_data);
    if (!beacon) return beacon.error();
    adv.advertising_data = core::encode_advertising_data(*beacon, options.advertising_form);
    adv.address = b->advertisement.address;
    adv.interval = b->enin;
    if (!last_payload || *last_payload != adv.service_data) {
        last_payload = adv.service_data;
        counters.rotations.fetch_add(1, std::memory_order_relaxed);
        write_log(LogLevel::kDebug, "tracer: advertisement rotated");
    }
    return adv;
}

Result<std::vector<ReleasedKey>> Tracer::Impl::release_own_keys() {
    std::vector<ReleasedKey> out;
    {
        std::lock_guard lock(own_mu);
        auto now = now_interval(clock);
        if (!now) return now.error();
        auto cutoff = store::retention_cutoff(clock.now_seconds(), store.retention_days());
        if (!cutoff) return cutoff.error();
        auto keys = store.own_keys();
        if (!keys) return keys.error();
        for (auto& k : *keys) {
            if (k.key.rolling_start > *now) continue;      // not broadcast yet
            if (k.key.rolling_end() <= *cutoff) continue;  // outside the retention window
            ReleasedKey rk{k.key.clone(), k.published};
            if (k.key.valid_at(*now))
                rk.key.rolling_period = static_cast<std::uint32_t>(*now - k.key.rolling_start + 1);
            out.push_back(std::move(rk));
        }
        for (const auto& rk : out)
            if (!rk.released_before)
                if (auto r = store.mark_published(rk.key.tek); !r) return r.error();
        // Roll now: the released key is never broadcast again (the scheduler asks the store for
        // a new key, and never reuses the current interval).
        roll_now();
        write_log_count(LogLevel::kInfo, "tracer: own keys released for upload", out.size());
    }
    // An attached radio must stop sending the released key at once.
    if (auto r = refresh_radio(); !r) return r.error();
    return out;
}

}  // namespace sotto
