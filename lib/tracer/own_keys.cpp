// The device's own TEKs: resumed from the store, rolled at the UTC day boundary, rolled at once
// when released for upload; and the advertisement built from them.
#include <algorithm>

#include <sotto/core/interval.hpp>
#include <sotto/core/keys.hpp>
#include <sotto/core/rolling_id.hpp>
#include <sotto/log.hpp>

#include "tracer/tracer_impl.hpp"

namespace sotto {
namespace {

// A random non-resolvable private address: the two top bits 00, and the 46 random bits neither
// all zero nor all one (Bluetooth Core Spec v5.3, Vol 6, Part B, 1.3.2.2).
ble::Address random_address(core::Rng& rng) noexcept {
    ble::Address a;
    for (;;) {
        rng.fill(a.bytes);
        a.bytes[0] &= 0x3F;
        const bool zeros = a.bytes[0] == 0 && std::all_of(a.bytes.begin() + 1, a.bytes.end(),
                                                          [](std::uint8_t b) { return b == 0; });
        const bool ones = a.bytes[0] == 0x3F && std::all_of(a.bytes.begin() + 1, a.bytes.end(),
                                                            [](std::uint8_t b) { return b == 0xFF; });
        if (!zeros && !ones) return a;
    }
}

Result<core::IntervalNumber> now_interval(const Clock& clock) noexcept {
    auto enin = core::interval_number(clock.now_seconds());
    if (!enin) return make_error(ErrorCode::kOutOfRange, "tracer: clock outside the ENIN range");
    return *enin;
}

// The unpublished stored key valid at `now` that started last, if any; and whether a published
// key covers `now` (then a new key must start at `now`, not at midnight).
struct Resume {
    std::optional<core::ExposureKey> key;
    bool published_covers_now = false;
};

Resume find_key(const std::vector<store::OwnKey>& keys, core::IntervalNumber now) {
    Resume r;
    for (const auto& k : keys) {
        if (!k.key.valid_at(now)) continue;
        if (k.published) {
            r.published_covers_now = true;
        } else if (!r.key || k.key.rolling_start >= r.key->rolling_start) {
            r.key = k.key.clone();
        }
    }
    return r;
}

}  // namespace

Result<OwnAdvertisement> Tracer::Impl::current_advertisement() {
    std::lock_guard lock(own_mu);
    auto now = now_interval(clock);
    if (!now) return now.error();

    if (!current_key || !current_key->valid_at(*now)) {
        current_adv.reset();
        auto keys = store.own_keys();
        if (!keys) return keys.error();
        Resume found = find_key(*keys, *now);
        if (found.key) {
            current_key = std::move(found.key);  // resumed after a restart: never replaced
        } else {
            core::ExposureKey k = core::generate_tek(*rng, *now);
            if (found.published_covers_now) {
                // Today's key was released: the rest of the day gets a new key from now on.
                k.rolling_start = *now;
                k.rolling_period = static_cast<std::uint32_t>(
                    core::day_start_interval(*now) + core::kTekRollingPeriod - *now);
            }
            // Stored before it is broadcast, so a key heard by others can always be published.
            if (auto r = store.add_own_key(k, clock.now_seconds()); !r) return r.error();
            counters.own_keys_created.fetch_add(1, std::memory_order_relaxed);
            write_log(LogLevel::kInfo, "tracer: new temporary exposure key");
            current_key = std::move(k);
        }
    }

    if (current_adv && current_adv->interval == *now) return *current_adv;

    auto beacon = core::make_beacon(*current_key, *now, options.metadata);
    if (!beacon) return beacon.error();
    OwnAdvertisement adv;
    adv.service_data = core::encode_service_data(*beacon);
    adv.advertising_data = core::encode_advertising_data(*beacon, options.advertising_form);
    adv.address = random_address(*rng);
    adv.interval = *now;
    adv.valid_until_ms = core::interval_start_seconds(*now + 1) * 1000;
    current_adv = adv;
    counters.rotations.fetch_add(1, std::memory_order_relaxed);
    write_log(LogLevel::kDebug, "tracer: advertisement rotated");
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
            if (k.key.rolling_start > *now) continue;        // not broadcast yet
            if (k.key.rolling_end() <= *cutoff) continue;     // outside the retention window
            ReleasedKey rk{k.key.clone(), k.published};
            if (k.key.valid_at(*now))
                rk.key.rolling_period = static_cast<std::uint32_t>(*now - k.key.rolling_start + 1);
            out.push_back(std::move(rk));
        }
        for (const auto& rk : out)
            if (!rk.released_before)
                if (auto r = store.mark_published(rk.key.tek); !r) return r.error();
        // Roll now: the released key is never broadcast again.
        current_key.reset();
        current_adv.reset();
        write_log_count(LogLevel::kInfo, "tracer: own keys released for upload", out.size());
    }
    // A radio must stop sending the released key at once.
    if (auto r = refresh_radio(); !r) return r.error();
    return out;
}

}  // namespace sotto
