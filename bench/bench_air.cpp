// sotto-bench air: a day of GAEN BLE traffic between many moving devices in the simulated air.
// Each device has a real RotationScheduler (10-20 min), ScanDutyCycle (4 s every 3.5-5 min) and
// BeaconFeed; the feeds hand their observations to a counting sink (no store), so this measures
// the air, the scheduling and the feed.
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <queue>
#include <stdexcept>
#include <vector>

#include <fmt/core.h>

#include <sotto/ble/beacon_feed.hpp>
#include <sotto/ble/rotation.hpp>
#include <sotto/ble/scan_duty_cycle.hpp>
#include <sotto/platform/simulated/simulated_radio.hpp>

#include "bench.hpp"

namespace sotto::bench {
namespace {

namespace sim = sotto::platform::simulated;

struct CountingSink final : ble::ObservationSink {
    std::uint64_t observations = 0;
    Result<void> accept(std::span<const core::HeardBeacon> batch) noexcept override {
        observations += batch.size();
        return ok();
    }
};

struct Device {
    std::unique_ptr<sim::SimulatedRadio> radio;
    std::unique_ptr<core::DeterministicRng> rng;
    std::unique_ptr<ble::RotationScheduler> rotation;
    std::unique_ptr<ble::ScanDutyCycle> duty;
    std::unique_ptr<ble::BeaconFeed> feed;
    bool advertising = false, scanning = false;
};

template <class T>
T must(Result<T> r, const char* what) {
    if (!r) throw std::runtime_error(fmt::format("{}: {}", what, r.error().what));
    return std::move(*r);
}
void must(Result<void> r, const char* what) {
    if (!r) throw std::runtime_error(fmt::format("{}: {}", what, r.error().what));
}

// Random-waypoint walk over the map: walk at 0.8-1.6 m/s to a random point, stay 0-60 min.
std::vector<sim::Waypoint> make_path(core::DeterministicRng& rng, double map_m, std::int64_t start,
                                     std::int64_t end) {
    auto unit = [&rng] {
        std::uint64_t v = 0;
        rng.fill({reinterpret_cast<std::uint8_t*>(&v), sizeof v});
        return static_cast<double>(v >> 11) * 0x1.0p-53;
    };
    std::vector<sim::Waypoint> path;
    sim::Point p{unit() * map_m, unit() * map_m};
    std::int64_t t = start;
    path.push_back({t, p});
    while (t < end) {
        const std::int64_t stay = static_cast<std::int64_t>(unit() * 3'600'000.0);
        t += std::max<std::int64_t>(stay, 1);
        path.push_back({t, p});
        const sim::Point q{unit() * map_m, unit() * map_m};
        const double speed = 0.8 + 0.8 * unit();
        const double d = std::hypot(q.x_m - p.x_m, q.y_m - p.y_m);
        t += std::max<std::int64_t>(1, static_cast<std::int64_t>(d / speed * 1000.0));
        path.push_back({t, q});
        p = q;
    }
    return path;
}

void run_air(std::size_t n_devices, double hours, double map_m, std::uint64_t seed) {
    const std::int64_t start = 1'700'000'000'000;
    const std::int64_t end = start + static_cast<std::int64_t>(hours * 3'600'000.0);
    ManualClock clock(start);
    sim::AirConfig cfg;
    cfg.seed = seed;
    cfg.noise_sigma_db = 4;
    cfg.packet_loss = 0.1;
    cfg.sensitivity_dbm = -100;
    cfg.max_range_m = 100;
    auto air = must(sim::Air::create(clock, cfg), "air");
    CountingSink sink;
    std::vector<Device> devices(n_devices);
    core::DeterministicRng path_rng(seed ^ 0xA11);
    for (std::size_t i = 0; i < n_devices; ++i) {
        Device& d = devices[i];
        d.radio = must(air->add_radio({0, 0}), "radio");
        must(air->set_path(d.radio->id(), make_path(path_rng, map_m, start, end)), "path");
        d.rng = std::make_unique<core::DeterministicRng>(seed * 1'000'003 + i);
        d.rotation = std::make_unique<ble::RotationScheduler>(
            must(ble::RotationScheduler::create({}, *d.rng), "rotation"));
        d.duty = std::make_unique<ble::ScanDutyCycle>(
            must(ble::ScanDutyCycle::create({}, *d.rng), "duty"));
        d.feed = must(ble::BeaconFeed::create(sink), "feed");
    }

    // (time, device, 0 = rotation / 1 = scanner), earliest first.
    using Event = std::tuple<std::int64_t, std::uint32_t, int>;
    std::priority_queue<Event, std::vector<Event>, std::greater<>> events;
    std::uint64_t rotations = 0, scan_windows = 0;
    auto handle = [&](std::uint32_t i, int kind, std::int64_t now) {
        Device& d = devices[i];
        if (kind == 0) {
            auto b = must(d.rotation->at(now), "rotation");
            if (b.changed) {
                if (b.active) {
                    must(d.advertising ? d.radio->rotate(b.advertisement)
                                       : d.radio->start_advertising(b.advertisement),
                         "advertise");
                    d.advertising = true;
                    ++rotations;
                } else {
                    must(d.radio->stop_advertising(), "stop advertising");
                    d.advertising = false;
                }
            }
            events.emplace(b.next_change_ms, i, 0);
        } else {
            const auto s = d.duty->at(now);
            if (s.scanning && !d.scanning) {
                must(d.radio->start_scanning(
                         [f = d.feed.get()](const ble::HeardAdvertisement& h) { f->on_heard(h); }),
                     "scan");
                ++scan_windows;
            }
            if (!s.scanning && d.scanning) {
                must(d.radio->stop_scanning(), "stop scanning");
                must(d.feed->tick(now), "tick");
            }
            d.scanning = s.scanning;
            events.emplace(s.next_switch_ms, i, 1);
        }
    };
    for (std::uint32_t i = 0; i < n_devices; ++i) {
        // Devices start their scan cycles spread over the first 5 minutes.
        handle(i, 0, start);
        events.emplace(
            start + static_cast<std::int64_t>(i) * 300'000 / static_cast<std::int64_t>(n_devices),
            i, 1);
    }

    auto cpu_seconds = [] {
        rusage u{};
        getrusage(RUSAGE_SELF, &u);
        return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
               static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
    };
    const double cpu0 = cpu_seconds();
    const auto t0 = Clock::now();
    while (!events.empty()) {
        const std::int64_t t = std::get<0>(events.top());
        if (t >= end) break;
        must(air->advance_to(t), "advance");
        while (!events.empty() && std::get<0>(events.top()) <= t) {
            const auto [when, i, kind] = events.top();
            events.pop();
            handle(i, kind, t);
        }
    }
    must(air->advance_to(end), "advance");
    ble::FeedCounters total;
    for (auto& d : devices) {
        must(d.feed->stop(), "stop");
        const auto c = d.feed->counters();
        total.heard += c.heard;
        total.accepted += c.accepted;
        total.deduplicated += c.deduplicated;
        total.dropped_overflow += c.dropped_overflow;
        total.dropped_bad_rssi += c.dropped_bad_rssi;
    }
    const double wall = seconds_since(t0);
    const double cpu = cpu_seconds() - cpu0;
    const auto ac = air->counters();
    const double device_hours = static_cast<double>(n_devices) * hours;
    fmt::print("devices: {} on {:.0f} m x {:.0f} m for {:.1f} h (seed {})\n", n_devices, map_m,
               map_m, hours, seed);
    fmt::print("rotations: {}  scan windows: {}\n", rotations, scan_windows);
    fmt::print("packets considered: {}  lost: {}  too weak: {}  delivered: {}\n",
               ac.packets_considered, ac.packets_lost, ac.packets_too_weak, ac.packets_delivered);
    fmt::print("feed: heard {}  observations {}  folded {}  overflow {}  bad rssi {}  to sink {}\n",
               total.heard, total.accepted, total.deduplicated, total.dropped_overflow,
               total.dropped_bad_rssi, sink.observations);
    fmt::print("wall time: {:.2f} s  cpu time: {:.2f} s (one thread)  peak RSS: {} kB\n", wall, cpu,
               vm_hwm_kb());
    fmt::print("air_device_hours_per_s={:.0f} packets_per_s={:.0f}\n", device_hours / wall,
               static_cast<double>(ac.packets_delivered) / wall);
}

}  // namespace

void add_air_bench(CLI::App& app) {
    auto* cmd =
        app.add_subcommand("air", "A day of 1,000 moving GAEN devices in the simulated air");
    static std::size_t devices = 1000;
    static double hours = 24;
    static double map_m = 2000;
    static std::uint64_t seed = 1;
    cmd->add_option("--devices", devices, "Number of devices")
        ->capture_default_str()
        ->check(CLI::Range(2, 100'000));
    cmd->add_option("--hours", hours, "Simulated hours")
        ->capture_default_str()
        ->check(CLI::Range(0.01, 240.0));
    cmd->add_option("--map", map_m, "Side of the square map in metres")
        ->capture_default_str()
        ->check(CLI::Range(10.0, 1e6));
    cmd->add_option("--seed", seed, "Seed of the air, the paths and the devices")
        ->capture_default_str();
    cmd->callback([] { run_air(devices, hours, map_m, seed); });
}

}  // namespace sotto::bench
