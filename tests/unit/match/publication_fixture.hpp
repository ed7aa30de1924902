// Shared fixture of the publication-rule tests: a same-day key, its genuine sighting at 10:00 and
// a forged copy of its last RPI broadcast after the key was published, and the two publication
// times of a real server (an hourly file, then the daily file with the same key).
#pragma once

#include <algorithm>
#include <vector>

#include <catch2/catch.hpp>

#include <sotto/match/session.hpp>

#include "support.hpp"

namespace sotto::test::publication {

using namespace sotto::core;

constexpr IntervalNumber kDay = 2690496;  // 2021-02-24
constexpr IntervalNumber kNextDay = kDay + 144;
inline const Metadata kMeta{1, 1, CalibrationConfidence::kHigh};

// A same-day key: valid all of `start`'s day, published just after midnight (still forgeable).
inline DiagnosisKey make_key(std::uint64_t seed, IntervalNumber start = kDay,
                             ReportType type = ReportType::kConfirmedTest) {
    DeterministicRng rng(seed);
    DiagnosisKey k;
    rng.fill(k.exposure_key.tek.expose_secret_mut());
    k.exposure_key.rolling_start = start;
    k.exposure_key.rolling_period = 144;
    k.report_type = type;
    k.transmission_risk_level = 6;
    return k;
}

inline Observation packet(const DiagnosisKey& key, IntervalNumber j, std::int64_t t, int rssi) {
    auto b = make_beacon(key.exposure_key, j, kMeta);
    REQUIRE(b);
    return {t, static_cast<std::int8_t>(rssi), *b};
}

// P1: the hourly file, 00:10 after the key's day. P2: the daily file with the same key, 20 h later.
inline const std::int64_t kP1 = interval_start_seconds(kNextDay) + 10 * 60;
inline const std::int64_t kP2 = kP1 + 20 * 3600;
// Genuine: the key's RPI of 10:00 heard at 10:00. Forged: its last RPI (23:50), computed from the
// published key and broadcast at P1 + 30 min (within the ±1 h tolerance of the matcher).
inline const IntervalNumber kGenuineJ = kDay + 60;
inline const IntervalNumber kLastJ = kDay + 143;
inline const std::int64_t kForgedAt = kP1 + 30 * 60;

inline std::vector<Sighting> genuine_and_forged(const DiagnosisKey& key) {
    return {make_sighting(packet(key, kGenuineJ, interval_start_seconds(kGenuineJ) + 30, -70)),
            make_sighting(packet(key, kLastJ, kForgedAt, -40))};
}

// One kept file holding `key`, signed `published`, obtained by the device at `obtained`.
inline void add_file(match::MatchSession& session, std::uint32_t index, const DiagnosisKey& key,
                     std::int64_t published, std::int64_t obtained) {
    REQUIRE(session.begin_file(index));
    REQUIRE(session.add_key(key.clone()));
    REQUIRE(session.end_file(true, {.end_timestamp = published, .obtained_at = obtained}));
}

inline const match::RpiMatch* find(const std::vector<match::RpiMatch>& m, IntervalNumber j) {
    auto it = std::find_if(m.begin(), m.end(), [&](const auto& r) { return r.interval == j; });
    return it == m.end() ? nullptr : &*it;
}

inline const match::RpiMatch* find(const std::vector<match::RpiMatch>& m, IntervalNumber j,
                                   MatchStatus status) {
    auto it = std::find_if(m.begin(), m.end(),
                           [&](const auto& r) { return r.interval == j && r.status == status; });
    return it == m.end() ? nullptr : &*it;
}

}  // namespace sotto::test::publication
