#pragma once
/// \file
/// The rotation scheduler: what a device broadcasts at a given time and when that changes
/// (EN Bluetooth Spec v1.2 "Rotation"; docs/ble.md has the rules with their reasons).
///
/// Rules, each shown by a test in tests/unit/ble/rotation_test.cpp:
/// * RPI and address change together, never one without the other (one `Broadcast` = both).
/// * A broadcast lasts a random time, uniform in [min_rotation_ms, max_rotation_ms]
///   (10-20 min by default), drawn from the injected `core::Rng`. The last broadcast of a UTC day
///   is shortened (or the one before it chosen shorter) so that a new one starts exactly at
///   00:00 UTC; only a broadcast started less than `min_rotation_ms` before midnight (first start,
///   or a host that called late) can be shorter than the minimum.
/// * The RPI is derived for the ENIN of the time the broadcast starts, from the TEK valid then.
///   A new TEK is used from the first broadcast of each UTC day: nothing derived from yesterday's
///   TEK is broadcast after midnight.
/// * A late host call never stretches a broadcast: once `now >= expires_ms` the next call
///   starts a new broadcast at `now`, which lasts at most `max_rotation_ms` from `now`.
/// * Clock jumps: an RPI is only ever derived for an ENIN strictly greater than every ENIN used
///   before by this scheduler (or passed as `last_used_enin` at creation). When a call sees the
///   clock earlier than at the previous call, the current broadcast ends at once (how long it was
///   on the air is unknown); a new one starts if the clock's ENIN is fresh, otherwise the
///   scheduler answers "broadcast nothing" (`Broadcast::active == false`) until the clock enters
///   a fresh interval. So no RPI is ever used for a second interval, and none outlives
///   `max_rotation_ms` of the clock's time between calls.

#include <cstdint>
#include <functional>

#include <sotto/ble/radio.hpp>
#include <sotto/core/interval.hpp>
#include <sotto/core/keys.hpp>
#include <sotto/core/metadata.hpp>
#include <sotto/core/rng.hpp>
#include <sotto/result.hpp>

namespace sotto::ble {

/// One minute in milliseconds.
inline constexpr std::int64_t kMinuteMs = 60'000;

/// Answers "a TEK valid at interval `enin`", for example from the Tracer's store (so a restart
/// resumes today's TEK) or freshly generated and persisted. The key must satisfy
/// `valid_at(enin)` and start on the UTC day of `enin` (`rolling_start >=
/// day_start_interval(enin)`); otherwise the scheduler refuses it with kFailedPrecondition.
/// Called on the thread that calls `RotationScheduler::at`, whenever the current key is not valid
/// for the new broadcast's ENIN (normally once per UTC day) and after a failure. Errors are passed
/// through to the caller of `at`.
using TekSource = std::function<Result<core::ExposureKey>(core::IntervalNumber enin)>;

/// A `TekSource` that generates a fresh TEK (`core::generate_tek`) from `rng`. `rng` must
/// outlive the source; it is used on the caller's thread.
TekSource generating_tek_source(core::Rng& rng);

/// Configuration of a `RotationScheduler`.
struct RotationConfig {
    /// Shortest and longest broadcast, in milliseconds: 10 and 20 minutes in GAEN.
    /// Requires 60 s <= min <= max <= 60 min.
    std::int64_t min_rotation_ms = 10 * kMinuteMs;
    std::int64_t max_rotation_ms = 20 * kMinuteMs;
    /// Metadata put (encrypted) into every AEM: version 1.x (minor 0 or 1), the calibrated TX
    /// power in dBm and, for minor version 1, the calibration confidence. Must pass
    /// `core::validate_metadata`. The default is Android's -15 dBm (ADVERTISE_TX_POWER_LOW).
    core::Metadata metadata{1, -15, core::CalibrationConfidence::kLowest};
};

/// What to broadcast now.
struct Broadcast {
    /// False when nothing may be broadcast now (clock moved back onto used intervals): stop
    /// advertising until `next_change_ms`.
    bool active = false;
    /// Payload, address and TX power (valid when `active`).
    Advertisement advertisement;
    /// The ENIN the RPI was derived for (valid when `active`).
    core::IntervalNumber enin = 0;
    /// When this broadcast started (Unix ms, the scheduler's clock).
    std::int64_t started_ms = 0;
    /// When to call `at` again at the latest: the broadcast must change then. Unix ms.
    std::int64_t next_change_ms = 0;
    /// True when this answer differs from the previous one (the radio must `rotate`, or start
    /// or stop advertising).
    bool changed = false;
    /// A sequence number, incremented with every new broadcast.
    std::uint64_t generation = 0;
};

/// Decides what to broadcast at which time. Passive: it holds no thread and reads no clock;
/// the caller passes the time to every call.
///
/// Not thread-safe: call it from one thread (or under the caller's lock). Keeps the current TEK
/// in a wiped `SecretBytes`.
class RotationScheduler {
public:
    /// kInvalidArgument for a bad configuration. `rng` must outlive the scheduler. An empty
    /// `tek_source` means `generating_tek_source(rng)`. `last_used_enin` is the highest ENIN an
    /// RPI was broadcast for before (e.g. persisted by the Tracer before a restart; 0 if none):
    /// the scheduler never derives for it or any earlier interval.
    static Result<RotationScheduler> create(const RotationConfig& config, core::Rng& rng,
                                            TekSource tek_source = {},
                                            core::IntervalNumber last_used_enin = 0) noexcept;

    /// What to broadcast at `now_ms` (Unix ms) and when to ask again.
    /// Errors: kOutOfRange for a time outside the ENIN range (before 1970 or after 2106);
    /// kFailedPrecondition when the TEK source returned an unusable key; the TEK source's own
    /// error; kOutOfMemory. After an error nothing may be broadcast (stop advertising); the
    /// next call tries again. Never returns a payload after its `next_change_ms`.
    Result<Broadcast> at(std::int64_t now_ms) noexcept;

    /// The highest ENIN an RPI was derived for (0 if none yet): persist it to resume after a
    /// restart.
    core::IntervalNumber last_used_enin() const noexcept { return last_used_enin_; }

    const RotationConfig& config() const noexcept { return config_; }

private:
    RotationScheduler(const RotationConfig& config, core::Rng& rng, TekSource source,
                      core::IntervalNumber last_used) noexcept;
    Result<Broadcast> start_new(std::int64_t now_ms, core::IntervalNumber enin) noexcept;
    Address draw_address() noexcept;

    RotationConfig config_;
    core::Rng* rng_;
    TekSource tek_source_;
    core::IntervalNumber last_used_enin_ = 0;
    bool has_key_ = false;
    core::ExposureKey key_;
    Broadcast current_;
    Address last_address_;
    std::int64_t last_call_ms_ = 0;
    bool called_ = false;
    bool idle_ = false;  // the last answer was "broadcast nothing"
    std::uint64_t generation_ = 0;
};

}  // namespace sotto::ble
