#pragma once
/// \file
/// A deterministic in-memory BLE medium ("air") shared by many `SimulatedRadio`s: for tests, the
/// demo and `sotto-bench air`. The same seed, configuration and calls give bit-identical
/// deliveries, whatever the chunks `advance_to` is called with (on one build: the RSSI model
/// uses libm's log10, log and cos, whose last bits may differ between C libraries).
///
/// Model (docs/ble.md "The simulated air"):
/// * Devices stand on a plane (metres). Each has a fixed position or a waypoint path (linear
///   between waypoints, holding still before the first and after the last). Positions are
///   sampled once per step of `AirConfig::step_ms` (at the step's midpoint; steps are aligned to
///   multiples of `step_ms` since the epoch).
/// * An advertiser sends one packet every `interval + jitter` ms: the interval is drawn per
///   advertising session (each `start_advertising` / `rotate`) uniformly in
///   [min_adv_interval_ms, max_adv_interval_ms] (GAEN: 200-270 ms), the jitter per packet
///   uniformly in [0, 10) ms (BLE advDelay), not accumulated.
/// * RSSI (dBm) = rssi_at_1m_dbm - 10 * path_loss_exponent * log10(max(d, 0.1 m))
///   - walls crossed - per-pair attenuation + N(0, noise_sigma_db), rounded to an integer.
///   A packet is lost with probability `packet_loss`, and not received when its RSSI is below
///   `sensitivity_dbm` or the devices are farther apart than `max_range_m`.
/// * Randomness is a counter-based hash of (seed, sender, receiver, session, packet index), so
///   one pair's draws never depend on what other devices do.
/// * Only receivers whose scanner is on get packets; devices are found through a spatial grid
///   of cells `max_range_m` wide (not all pairs).
/// * A relay hears, at one place, what real radios broadcast (with its own gain) and sends the
///   exact bytes again, from the same address, at another place after `delay_ms`. It holds at
///   most 2^20 packets (about 60 MB) waiting; further captures are dropped and counted.
/// * While no radio scans and there is no relay, `advance_to` only moves the clock.
///
/// Threading: every method is thread-safe. Scan and event callbacks run on the thread that calls
/// `advance_to`, after the clock was set to the end of the step they belong to, without the air's
/// lock held. A callback must not call `advance_to` (kFailedPrecondition); it may call radio
/// methods. `SimulatedRadio::stop_scanning` called from another thread waits until the running
/// `advance_to` finished delivering.

#include <cstdint>
#include <memory>
#include <vector>

#include <sotto/clock.hpp>
#include <sotto/result.hpp>

namespace sotto::platform::simulated {

class SimulatedRadio;
struct AirCore;

/// A point on the plane, in metres.
struct Point {
    double x_m = 0;
    double y_m = 0;
};

/// Where a device is at `time_ms` (Unix ms).
struct Waypoint {
    std::int64_t time_ms = 0;
    Point at;
};

/// A wall (or a body, a shelf...): a segment that takes `attenuation_db` off every packet whose
/// straight path crosses it.
struct Wall {
    Point a;
    Point b;
    double attenuation_db = 10;
};

/// Physics and timing of the air. Validated by `Air::create`.
struct AirConfig {
    std::uint64_t seed = 1;
    double rssi_at_1m_dbm = -59;             ///< mean RSSI at 1 m (-127 .. 20)
    double path_loss_exponent = 2.0;         ///< 1 .. 6 (2: free space; 2.5-4 indoors)
    double noise_sigma_db = 0;               ///< Gaussian noise, 0 .. 30 dB
    double packet_loss = 0;                  ///< probability a packet is lost, 0 .. 1
    double sensitivity_dbm = -100;           ///< weaker packets are not received (-127 .. 20)
    double max_range_m = 100;                ///< farther pairs are never considered (1 .. 10,000)
    std::int64_t min_adv_interval_ms = 200;  ///< 20 .. max
    std::int64_t max_adv_interval_ms = 270;  ///< .. 10,240
    std::int64_t step_ms = 1000;             ///< position sampling step, 10 .. 60,000
};

/// Identifies a radio (or relay) in its air.
using NodeId = std::uint32_t;

/// A relay: the attack where beacons are recorded in one place and replayed in another, or later.
struct RelayConfig {
    Point listen_at;
    Point emit_at;
    std::int64_t delay_ms = 0;  ///< 0 .. 1 day
    double gain_db = 0;         ///< added both when hearing and when re-sending (-50 .. 50)
};

/// What the air did (no identifiers).
struct AirCounters {
    std::uint64_t packets_considered = 0;  ///< packets of senders in range of a listening receiver
    std::uint64_t packets_lost = 0;        ///< dropped by the loss probability
    std::uint64_t packets_too_weak = 0;    ///< below the receiver's sensitivity
    std::uint64_t packets_delivered = 0;   ///< handed to a scan callback
    std::uint64_t packets_relayed = 0;     ///< captured by relays for re-sending
    std::uint64_t relay_overflow = 0;      ///< captures dropped: a relay held 2^20 packets
    std::uint64_t steps = 0;               ///< steps simulated (skipped while nobody listens)
};

/// The shared medium. Create with `create`, then add radios, walls and relays.
class Air {
public:
    /// `clock` is the clock of every radio in this air and must outlive it; only `advance_to`
    /// should move it.
    /// kInvalidArgument for a configuration out of range.
    static Result<std::unique_ptr<Air>> create(ManualClock& clock,
                                               const AirConfig& config) noexcept;
    ~Air();
    Air(const Air&) = delete;
    Air& operator=(const Air&) = delete;

    /// A new radio standing at `at`. The radio may outlive the air (it then reports
    /// kBleUnavailable). kInvalidArgument for a non-finite position.
    Result<std::unique_ptr<SimulatedRadio>> add_radio(Point at) noexcept;

    /// A relay (see `RelayConfig`). Returns its id (used in the randomness hash).
    Result<NodeId> add_relay(const RelayConfig& relay) noexcept;

    /// A wall crossing every path between its two ends. kInvalidArgument for bad values.
    Result<void> add_wall(const Wall& wall) noexcept;

    /// Extra attenuation (dB, >= 0) between two radios, both ways (a body, a bag).
    Result<void> set_pair_attenuation(NodeId a, NodeId b, double db) noexcept;

    /// Moves a radio (takes effect from the next step). kInvalidArgument for an unknown radio.
    Result<void> set_position(NodeId radio, Point at) noexcept;

    /// Removes (false) or restores (true) a radio's adapter, as unplugging a dongle would.
    /// While it is away the radio neither sends nor hears, its calls return kBleUnavailable and
    /// keep what was asked; when it is back, advertising and scanning resume as asked. Raises
    /// kAdapterUnavailable / kAdapterAvailable, delivered to the event callback at the start of
    /// the next `advance_to` on its thread. kInvalidArgument for an unknown radio.
    Result<void> set_adapter_present(NodeId radio, bool present) noexcept;

    /// Gives a radio a path (replacing its position). Times strictly increasing, at least one
    /// waypoint, finite coordinates; otherwise kInvalidArgument.
    Result<void> set_path(NodeId radio, std::vector<Waypoint> path) noexcept;

    /// Where a radio is at `time_ms` per its position or path.
    Result<Point> position(NodeId radio, std::int64_t time_ms) const noexcept;

    /// Runs the air up to `time_ms` (Unix ms), step by step: moves the clock and delivers every
    /// packet heard in between to the scan callbacks (in time order per receiver, receivers in
    /// id order). Costs time in proportion to the span simulated while anyone listens.
    /// kInvalidArgument if `time_ms` is before the clock or past the ENIN range (year 2106);
    /// kFailedPrecondition when called from a scan callback; kOutOfMemory.
    Result<void> advance_to(std::int64_t time_ms) noexcept;

    AirCounters counters() const noexcept;

private:
    explicit Air(std::shared_ptr<AirCore> core) noexcept;
    std::shared_ptr<AirCore> core_;
};

}  // namespace sotto::platform::simulated
