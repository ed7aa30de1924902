#pragma once
/// \file
/// When a diagnosis key was certainly public, and whether an RPI forged from it could still pass
/// for a genuine one (the publication rule, docs/threat-model.md).
///
/// Once a key is published anyone can compute its RPIs and broadcast them near a victim. A
/// sighting first heard after the key's publication is therefore suspect. What decides is the
/// *earliest* publication of the key: servers publish the same key again in later files (the
/// Corona-Warn-App puts it in an hourly file and again in the daily file, up to a day later), and
/// the later file must not reopen the window the earlier one closed.
///
/// Pure: no clock, no I/O.

#include <array>
#include <cstdint>

#include <sotto/core/interval.hpp>
#include <sotto/core/keys.hpp>

namespace sotto::core {

/// Intervals after a key's window end for which a publication is remembered, at least: GAEN's
/// largest matching tolerance (±2 h). Callers use the larger of this and their own tolerance, so a
/// record written under one tolerance still covers a check run with a wider one (up to 2 h).
inline constexpr std::uint32_t kPublicationMemoryIntervals = 12;

/// The earliest known publication of one diagnosis key.
struct KeyPublication {
    /// The published TEK, used as an identifier only (it is public, but never logged).
    std::array<std::uint8_t, kTekBytes> tek{};
    /// `rolling_start + rolling_period` of the key (ENIN): its last RPI belongs to the interval
    /// before.
    IntervalNumber window_end = 0;
    /// Unix seconds: the key was public from then on.
    std::int64_t published_at = 0;

    friend bool operator==(const KeyPublication&, const KeyPublication&) = default;
};

/// True when a key whose validity ends at `window_end` (ENIN) and that was published at
/// `published_at` (Unix seconds) could still yield a valid-looking sighting after publication:
/// an RPI of its last interval heard up to `tolerance_intervals` intervals later would match,
/// i.e. `(window_end + tolerance_intervals) * 600 > published_at`. Only such keys need their
/// publication remembered; for the others every sighting heard after publication already fails
/// the matcher's tolerance check.
constexpr bool forgeable_after_publication(IntervalNumber window_end,
                                           std::uint32_t tolerance_intervals,
                                           std::int64_t published_at) noexcept {
    return (static_cast<std::int64_t>(window_end) +
            static_cast<std::int64_t>(tolerance_intervals)) *
               kIntervalSeconds >
           published_at;
}

}  // namespace sotto::core
