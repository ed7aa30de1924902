#pragma once
// `--radio simulated`: the daemon's device stands in a small simulated air (platform/simulated)
// with `--sim-peers` phones around it, 1.5 m, 3 m, 4.5 m ... away. Each peer broadcasts real GAEN
// beacons (RotationScheduler: 10-20 min rotation, TEK per UTC day) from a key derived from
// `--sim-seed` (see `peer_tek`), so a test can publish a peer's key and watch the daemon find it.
// Simulated time starts at `--sim-start` (default: now) and runs `--sim-speed` times faster than
// the system clock. Test and demo use only: nothing here is a real radio.

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <sotto/ble/radio.hpp>
#include <sotto/ble/rotation.hpp>
#include <sotto/clock.hpp>
#include <sotto/core/keys.hpp>
#include <sotto/core/rng.hpp>
#include <sotto/platform/simulated/air.hpp>
#include <sotto/platform/simulated/simulated_radio.hpp>
#include <sotto/result.hpp>

namespace sotto::sottod {

/// The TEK peer `index` of a world with `seed` uses on the UTC day of `enin` when that day is the
/// first it broadcasts on (the key of later days follows from the same generator). Tests use it.
core::ExposureKey peer_tek(std::uint64_t seed, int index, core::IntervalNumber enin) noexcept;

class SimWorld {
public:
    /// The air, the peers and a radio for the daemon. Not thread-safe: `pump` from one thread.
    static Result<std::unique_ptr<SimWorld>> create(std::uint64_t seed, int peers,
                                                    std::int64_t start_ms, int speed) noexcept;
    ~SimWorld();

    /// The clock of everything in this world (Tracer included).
    const Clock& clock() const noexcept { return clock_; }
    /// The daemon's own radio (hand it to the Tracer once).
    std::unique_ptr<ble::Radio> take_radio() noexcept { return std::move(own_radio_); }
    /// Moves simulated time to match the system clock (times the speed): rotates the peers'
    /// broadcasts when due and delivers every packet heard in between (scan callbacks run here).
    Result<void> pump() noexcept;

private:
    struct Peer {
        std::unique_ptr<core::DeterministicRng> rng;      // rotation timing and addresses
        std::unique_ptr<core::DeterministicRng> tek_rng;  // the peer's TEKs
        std::unique_ptr<platform::simulated::SimulatedRadio> radio;
        std::optional<ble::RotationScheduler> rotation;
        bool advertising = false;
        std::int64_t next_change_ms = 0;
    };
    SimWorld(std::int64_t start_ms, int speed) noexcept;

    ManualClock clock_;
    std::int64_t start_ms_;
    std::int64_t real_start_ms_;
    int speed_;
    std::unique_ptr<platform::simulated::Air> air_;
    std::vector<Peer> peers_;
    std::unique_ptr<ble::Radio> own_radio_;
};

}  // namespace sotto::sottod
