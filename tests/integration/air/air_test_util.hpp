#pragma once
// A simulated device for the air tests: radio, rotation scheduler, duty cycle and beacon feed,
// driven exactly when they ask to be.
#include <algorithm>
#include <limits>
#include <memory>
#include <vector>

#include <sotto/ble/beacon_feed.hpp>
#include <sotto/ble/rotation.hpp>
#include <sotto/ble/scan_duty_cycle.hpp>
#include <sotto/platform/simulated/simulated_radio.hpp>
#include <sotto/store/encounter_store.hpp>

#include "support.hpp"

namespace sotto::test {

namespace sim = sotto::platform::simulated;

/// Hands observations to an encounter store, as the Tracer does. Both must outlive the sink.
struct StoreSink final : ble::ObservationSink {
    StoreSink(store::EncounterStore& s, const Clock& c) : store(&s), clock(&c) {}
    store::EncounterStore* store = nullptr;
    const Clock* clock = nullptr;
    Result<void> accept(std::span<const core::HeardBeacon> batch) noexcept override {
        auto r = store->ingest(batch, clock->now_seconds());
        if (!r) return r.error();
        return ok();
    }
};

/// Scanning all the time instead of GAEN's duty cycle.
inline ble::ScanDutyConfig continuous_scan() {
    ble::ScanDutyConfig c;
    c.continuous = true;
    return c;
}

struct Device {
    std::unique_ptr<sim::SimulatedRadio> radio;
    std::unique_ptr<core::DeterministicRng> rng;
    std::unique_ptr<ble::RotationScheduler> rotation;
    std::unique_ptr<ble::ScanDutyCycle> duty;
    std::unique_ptr<ble::BeaconFeed> feed;
    std::vector<ble::Broadcast> broadcasts;  // every new broadcast, in order
    bool advertising = false, scanning = false;
    std::int64_t next_rotation = std::numeric_limits<std::int64_t>::min();
    std::int64_t next_scan = std::numeric_limits<std::int64_t>::min();

    /// Does what is due at `now`.
    void update(std::int64_t now) {
        if (now >= next_rotation) {
            auto b = rotation->at(now);
            REQUIRE(b.has_value());
            if (b->changed) {
                if (b->active) {
                    REQUIRE((advertising ? radio->rotate(b->advertisement)
                                         : radio->start_advertising(b->advertisement))
                                .has_value());
                    advertising = true;
                    broadcasts.push_back(*b);
                } else {
                    REQUIRE(radio->stop_advertising().has_value());
                    advertising = false;
                }
            }
            next_rotation = b->next_change_ms;
        }
        if (now >= next_scan) {
            const auto s = duty->at(now);
            if (s.scanning && !scanning)
                REQUIRE(radio
                            ->start_scanning([f = feed.get()](const ble::HeardAdvertisement& h) {
                                f->on_heard(h);
                            })
                            .has_value());
            if (!s.scanning && scanning) REQUIRE(radio->stop_scanning().has_value());
            scanning = s.scanning;
            next_scan = s.next_switch_ms;
        }
        REQUIRE(feed->tick(now).has_value());
    }
    std::int64_t next_event() const { return std::min(next_rotation, next_scan); }
};

inline Device make_device(sim::Air& air, sim::Point at, std::uint64_t seed,
                          ble::ObservationSink& sink, ble::ScanDutyConfig duty = {}) {
    Device d;
    auto radio = air.add_radio(at);
    REQUIRE(radio.has_value());
    d.radio = std::move(*radio);
    d.rng = std::make_unique<core::DeterministicRng>(seed);
    auto rot = ble::RotationScheduler::create({}, *d.rng);
    REQUIRE(rot.has_value());
    d.rotation = std::make_unique<ble::RotationScheduler>(std::move(*rot));
    auto dc = ble::ScanDutyCycle::create(duty, *d.rng);
    REQUIRE(dc.has_value());
    d.duty = std::make_unique<ble::ScanDutyCycle>(std::move(*dc));
    auto f = ble::BeaconFeed::create(sink);
    REQUIRE(f.has_value());
    d.feed = std::move(*f);
    return d;
}

/// Runs the air and the devices until `until` (ms), waking each device exactly when it asked.
inline void run(sim::Air& air, const ManualClock& clock, std::vector<Device*> devices,
                std::int64_t until) {
    for (auto* d : devices) d->update(clock.now_ms());
    while (clock.now_ms() < until) {
        std::int64_t next = until;
        for (auto* d : devices) next = std::min(next, d->next_event());
        REQUIRE(air.advance_to(std::max(next, clock.now_ms())).has_value());
        for (auto* d : devices) d->update(clock.now_ms());
    }
}

}  // namespace sotto::test
