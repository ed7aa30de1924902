#pragma once
/// \file
/// The scanner's duty cycle: GAEN scans a few seconds every few minutes (Google Play services:
/// 4 s every 300 s minus a random 0-90 s, i.e. every 3.5-5 min; gaen.md 2.5), or continuously.

#include <cstdint>

#include <sotto/core/rng.hpp>
#include <sotto/result.hpp>

namespace sotto::ble {

/// Configuration of a `ScanDutyCycle`. All times in milliseconds.
struct ScanDutyConfig {
    /// Scan continuously (window and period are ignored).
    bool continuous = false;
    /// How long each scan lasts. 100 ms .. min_period_ms.
    std::int64_t window_ms = 4'000;
    /// Time from the start of one scan to the start of the next, uniform in [min, max].
    /// Requires window_ms <= min_period_ms <= max_period_ms <= 1 h.
    std::int64_t min_period_ms = 210'000;
    std::int64_t max_period_ms = 300'000;
};

/// Whether the scanner should be on, and until when.
struct ScanState {
    bool scanning = false;
    /// When the state changes next (Unix ms); call `at` again then. INT64_MAX when continuous.
    std::int64_t next_switch_ms = 0;
};

/// Decides when the scanner is on. Passive (no thread, no clock); not thread-safe.
///
/// Rules: the first call starts a scan window at `now`. A window lasts `window_ms`, then the
/// scanner is off until the cycle's period (drawn uniformly from `rng` for each cycle) is over;
/// a call at or after the end of a cycle starts the next cycle at that call's time, so a late
/// caller never gets a shortened window. If the clock moves back before the current cycle's
/// start, a new cycle starts at the new time.
class ScanDutyCycle {
public:
    /// kInvalidArgument for a bad configuration. `rng` must outlive the object.
    static Result<ScanDutyCycle> create(const ScanDutyConfig& config, core::Rng& rng) noexcept;

    /// The state at `now_ms` (Unix ms).
    ScanState at(std::int64_t now_ms) noexcept;

    const ScanDutyConfig& config() const noexcept { return config_; }

private:
    ScanDutyCycle(const ScanDutyConfig& config, core::Rng& rng) noexcept
        : config_(config), rng_(&rng) {}
    void start_cycle(std::int64_t now_ms) noexcept;

    ScanDutyConfig config_;
    core::Rng* rng_;
    bool started_ = false;
    std::int64_t cycle_start_ms_ = 0;
    std::int64_t cycle_period_ms_ = 0;
};

}  // namespace sotto::ble
