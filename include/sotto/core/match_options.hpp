#pragma once
/// \file
/// How matching is configured and what a matched sighting's status is: the plain values of
/// matcher.hpp, for declarations that need them without the matcher.

#include <cstdint>

namespace sotto::core {

/// Margin over GAEN's 20-minute replay window for phones that advertise an RPI a little longer.
inline constexpr std::int64_t kReplayMarginSeconds = 5 * 60;

/// How strict and how thorough matching is.
struct MatchOptions {
    /// A sighting is valid only within this many intervals of its RPI's interval. The default,
    /// 6 (±1 h), covers senders that rotate their address up to 20 minutes late plus receiver
    /// clocks off by up to 40 minutes; GAEN itself allows 12 (±2 h), which also admits relays that
    /// are two hours old.
    std::uint32_t tolerance_intervals = 6;
    /// Derive only the RPIs of intervals that have sightings within the tolerance (exact for valid
    /// exposures; far-off replays of an RPI are then found only when the RPI was also heard near
    /// its own interval). `false` derives all 144 RPIs of every key.
    bool prefilter = true;
    /// Sightings of one RPI later than this after its first valid sighting are suspect. GAEN's
    /// rule is 2 × 10 minutes; real phones overrun it (randomized 10-20 minute rotation, restart
    /// latency of the advertiser, scan timing: a German sensor log shows 20.4 minutes), so the
    /// default adds kReplayMarginSeconds. A copy heard an hour later is still a replay.
    std::int64_t replay_window_seconds = 20 * 60 + kReplayMarginSeconds;
};

/// The outcome of a matched sighting.
enum class MatchStatus : std::uint8_t {
    kValid,    ///< an exposure
    kSuspect,  ///< the RPI matched but a check failed: never counted as an exposure
};

}  // namespace sotto::core
