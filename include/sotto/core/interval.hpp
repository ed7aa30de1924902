#pragma once
/// \file
/// GAEN time base: ENIntervalNumber, 10-minute intervals since the Unix epoch (EN Crypto Spec
/// v1.2 §"ENIntervalNumber"), and the TEK rolling period.

#include <cstdint>

#include <sotto/result.hpp>

namespace sotto::core {

/// ENIntervalNumber: `floor(unix_seconds / 600)`, carried as uint32 on the wire.
using IntervalNumber = std::uint32_t;

/// Length of one interval in seconds.
inline constexpr std::int64_t kIntervalSeconds = 600;
/// TEKRollingPeriod: intervals per TEK (24 h).
inline constexpr std::uint32_t kTekRollingPeriod = 144;
/// Seconds per UTC day.
inline constexpr std::int64_t kSecondsPerDay = 86400;

/// ENIntervalNumber of a Unix time. Fails with kOutOfRange for negative times and for times past
/// the uint32 range of the wire format.
Result<IntervalNumber> interval_number(std::int64_t unix_seconds) noexcept;

/// Unix time (seconds) at which interval `enin` starts.
constexpr std::int64_t interval_start_seconds(IntervalNumber enin) noexcept {
    return static_cast<std::int64_t>(enin) * kIntervalSeconds;
}

/// First interval of the UTC day containing `enin` (a multiple of 144).
constexpr IntervalNumber day_start_interval(IntervalNumber enin) noexcept {
    return enin - enin % kTekRollingPeriod;
}

/// Days since the Unix epoch of the UTC day containing `enin`.
constexpr std::uint32_t day_number(IntervalNumber enin) noexcept {
    return enin / kTekRollingPeriod;
}

}  // namespace sotto::core
