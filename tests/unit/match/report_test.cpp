#include <catch2/catch.hpp>

#include <sotto/match/report.hpp>

#include "support.hpp"

using namespace sotto;
using namespace sotto::core;

namespace {

constexpr IntervalNumber kDay = 2690496;  // 2021-02-24T00:00:00Z
const Metadata kMeta{1, 1, CalibrationConfidence::kHigh};

DiagnosisKey make_key(std::uint64_t seed, std::optional<std::int32_t> dsos) {
    DeterministicRng rng(seed);
    DiagnosisKey k;
    rng.fill(k.exposure_key.tek.expose_secret_mut());
    k.exposure_key.rolling_start = kDay;
    k.exposure_key.rolling_period = 144;
    k.report_type = ReportType::kConfirmedTest;
    k.days_since_onset = dsos;
    return k;
}

// A scan a minute for `minutes` minutes, starting at interval `j`, at `rssi`.
std::vector<Sighting> heard(const DiagnosisKey& key, IntervalNumber j, int minutes, int rssi) {
    std::vector<Sighting> out;
    for (int m = 0; m < minutes; ++m) {
        const std::int64_t t = interval_start_seconds(j) + 60 * m + 5;
        const IntervalNumber at = *interval_number(t);
        auto b = make_beacon(key.exposure_key, at, kMeta);  // the sender's RPI follows the clock
        REQUIRE(b);
        Observation o{t, static_cast<std::int8_t>(rssi), *b};
        if (out.empty() || out.back().interval != at) {
            out.push_back(make_sighting(o));
        } else {
            add_observation(out.back(), o);
        }
        o.time += 1;
        add_observation(out.back(), o);
    }
    return out;
}

std::vector<match::RpiMatch> run(std::vector<Sighting> sightings, DiagnosisKey key) {
    auto engine = match::MatchEngine::create(std::move(sightings), {});
    REQUIRE(engine);
    match::MatchSession session(*engine);
    REQUIRE(session.begin_file(0));
    REQUIRE(session.add_key(std::move(key)));
    REQUIRE(session.end_file(true));
    auto m = session.take_matches();
    REQUIRE(m);
    return std::move(*m);
}

const std::int64_t kNow = interval_start_seconds(kDay + 144 * 3);

}  // namespace

TEST_CASE("A long close encounter with a highly infectious key is HIGH risk", "[match][report]") {
    auto key = make_key(1, 2);  // DSOS 2 -> HIGH infectiousness (CWA mapping)
    auto matches = run(heard(key, kDay + 48, 20, -55), key.clone());
    REQUIRE(matches.size() == 2);  // 20 minutes span two RPI intervals
    auto report = match::build_report(matches, kNow);
    REQUIRE(report);
    CHECK(report->valid_matches == 2);
    REQUIRE(report->encounters.size() == 1);
    const auto& e = report->encounters[0];
    CHECK(e.rpis == 2);
    CHECK(e.min_attenuation_db == 1 - (-55));
    CHECK(e.minutes == 21);  // 19 scans x 60 s + 120 s for the first
    CHECK(e.infectiousness == Infectiousness::kHigh);
    REQUIRE_FALSE(report->windows.empty());
    CHECK(report->risk.total_risk_level == CwaRiskLevel::kHigh);
    CHECK(report->risk.number_of_days_with_high_risk == 1);
    REQUIRE(report->daily_summaries.size() == 1);
    CHECK(report->daily_summaries[0].date_unix == interval_start_seconds(kDay));
}

TEST_CASE("A short distant encounter is below CWA's day threshold", "[match][report]") {
    auto key = make_key(1, 1);
    auto report = match::build_report(run(heard(key, kDay + 48, 3, -85), key.clone()), kNow);
    REQUIRE(report);
    CHECK(report->encounters.size() == 1);
    CHECK(report->risk.total_risk_level == CwaRiskLevel::kLow);
    CHECK(report->risk.number_of_days_with_low_risk == 0);
    CHECK(report->risk.number_of_days_with_high_risk == 0);
}

TEST_CASE("Keys without infectiousness and suspect matches give no risk", "[match][report]") {
    auto none = make_key(1, std::nullopt);  // DSOS missing -> NONE in CWA's mapping
    auto report = match::build_report(run(heard(none, kDay + 48, 20, -55), none.clone()), kNow);
    REQUIRE(report);
    CHECK(report->valid_matches > 0);
    CHECK(report->windows.empty());
    CHECK(report->encounters.empty());
    CHECK(report->risk.total_risk_level == CwaRiskLevel::kLow);

    auto key = make_key(2, 2);
    auto matches = run(heard(key, kDay + 48, 20, -55), key.clone());
    for (auto& m : matches) {
        m.status = MatchStatus::kSuspect;
        m.reason = "heard too far from the RPI's interval";
    }
    auto suspect = match::build_report(matches, kNow);
    REQUIRE(suspect);
    CHECK(suspect->suspect_matches == matches.size());
    CHECK(suspect->windows.empty());
    CHECK(suspect->risk.total_risk_level == CwaRiskLevel::kLow);
}
