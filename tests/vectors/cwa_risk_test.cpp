// Corona-Warn-App's official exposure-window risk test cases.
// Source: corona-warn-app/cwa-app-android Corona-Warn-App/src/test/resources/
// exposure-windows-risk-calculation.json @59d5e4af (in ../shared/gaen-data/cwa-risk; 29 cases and
// the default RiskCalculationParameters). Every case runs with the configuration read from the
// JSON and with CwaRiskConfig::defaults(), and every expected field is checked.
//
// The real-key case uses ../shared/gaen-data/cwa-real-2021-03-04/real_matches.csv: sightings of
// real CWA keys (report type RECURSIVE, DSOS 1) heard by a cwaid-catcher sensor.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <sotto/core/exposure_window.hpp>
#include <sotto/core/risk.hpp>
#include <string>
#include <vector>

#include "support.hpp"

using namespace sotto::core;
using nlohmann::json;

namespace {

// "now" for the cases' ageInDays: 2021-03-04 12:00:00 UTC.
constexpr std::int64_t kNow = 1614859200;
constexpr std::int64_t kToday = 1614816000;

const json& cases_json() {
    static const json j = json::parse(sotto::test::read_text(
        sotto::test::gaen_data("cwa-risk/exposure-windows-risk-calculation.json")));
    return j;
}

// --- JSON → sotto types (the core takes plain structs; JSON stays in the tests) ---

CwaRange range_of(const json& j) {
    CwaRange r;
    r.min = j.value("min", 0.0);
    r.max = j.value("max", 0.0);
    r.min_exclusive = j.value("minExclusive", false);
    r.max_exclusive = j.value("maxExclusive", false);
    return r;
}

CwaRiskLevel level_of(const json& j) {
    const int v = j.get<int>();
    REQUIRE((v == 1 || v == 2));
    return static_cast<CwaRiskLevel>(v);
}

std::vector<CwaNormalizedTimeToRiskLevel> mapping_of(const json& j) {
    std::vector<CwaNormalizedTimeToRiskLevel> out;
    for (const json& m : j)
        out.push_back({range_of(m.at("normalizedTimeRange")), level_of(m.at("riskLevel"))});
    return out;
}

CwaRiskConfig config_of(const json& j) {
    CwaRiskConfig c;
    for (const json& f : j.at("minutesAtAttenuationFilters"))
        c.minutes_at_attenuation_filters.push_back(
            {range_of(f.at("attenuationRange")), range_of(f.at("dropIfMinutesInRange"))});
    for (const json& f : j.at("trlFilters"))
        c.trl_filters.push_back({range_of(f.at("dropIfTrlInRange"))});
    for (const json& w : j.at("minutesAtAttenuationWeights"))
        c.minutes_at_attenuation_weights.push_back(
            {range_of(w.at("attenuationRange")), w.at("weight").get<double>()});
    c.normalized_time_per_ew_to_risk_level_mapping =
        mapping_of(j.at("normalizedTimePerEWToRiskLevelMapping"));
    c.normalized_time_per_day_to_risk_level_mapping =
        mapping_of(j.at("normalizedTimePerDayToRiskLevelMapping"));
    const json& e = j.at("trlEncoding");
    c.trl_encoding.infectiousness_offset_standard = e.at("infectiousnessOffsetStandard").get<int>();
    c.trl_encoding.infectiousness_offset_high = e.at("infectiousnessOffsetHigh").get<int>();
    c.trl_encoding.report_type_offset_recursive = e.at("reportTypeOffsetRecursive").get<int>();
    c.trl_encoding.report_type_offset_self_report = e.at("reportTypeOffsetSelfReport").get<int>();
    c.trl_encoding.report_type_offset_confirmed_clinical_diagnosis =
        e.at("reportTypeOffsetConfirmedClinicalDiagnosis").get<int>();
    c.trl_encoding.report_type_offset_confirmed_test =
        e.at("reportTypeOffsetConfirmedTest").get<int>();
    for (const json& m : j.at("transmissionRiskValueMapping"))
        c.transmission_risk_value_mapping.push_back({m.at("transmissionRiskLevel").get<int>(),
                                                     m.at("transmissionRiskValue").get<double>()});
    // Not part of RiskCalculationParameters: CWA's app config maxEncounterAgeInDays.
    c.max_encounter_age_days = 10;
    return c;
}

ExposureWindow window_of(const json& j) {
    ExposureWindow w;
    w.date_unix = kToday - j.at("ageInDays").get<std::int64_t>() * kSecondsPerDay;
    w.report_type = static_cast<ReportType>(j.at("reportType").get<int>());
    w.infectiousness = static_cast<Infectiousness>(j.at("infectiousness").get<int>());
    w.calibration_confidence =
        static_cast<CalibrationConfidence>(j.at("calibrationConfidence").get<int>());
    for (const json& s : j.at("scanInstances"))
        w.scan_instances.push_back({s.at("typicalAttenuation").get<int>(),
                                    s.at("minAttenuation").get<int>(),
                                    s.at("secondsSinceLastScan").get<int>()});
    return w;
}

std::optional<std::int64_t> optional_age(const json& j) {
    if (j.is_null()) return std::nullopt;
    return j.get<std::int64_t>();
}

std::optional<std::int64_t> age_of(const std::optional<std::int64_t>& date) {
    if (!date) return std::nullopt;
    return age_in_days(*date, kNow);
}

void check_case(const json& tc, const CwaRiskConfig& config) {
    std::vector<ExposureWindow> windows;
    for (const json& w : tc.at("exposureWindows")) windows.push_back(window_of(w));
    auto r = compute_cwa_risk(windows, kNow, config);
    REQUIRE(r.has_value());
    CHECK(static_cast<int>(r->total_risk_level) == tc.at("expTotalRiskLevel").get<int>());
    CHECK(r->total_minimum_distinct_encounters_with_low_risk ==
          tc.at("expTotalMinimumDistinctEncountersWithLowRisk").get<int>());
    CHECK(r->total_minimum_distinct_encounters_with_high_risk ==
          tc.at("expTotalMinimumDistinctEncountersWithHighRisk").get<int>());
    CHECK(age_of(r->most_recent_date_with_low_risk) ==
          optional_age(tc.at("expAgeOfMostRecentDateWithLowRisk")));
    CHECK(age_of(r->most_recent_date_with_high_risk) ==
          optional_age(tc.at("expAgeOfMostRecentDateWithHighRisk")));
    CHECK(r->number_of_days_with_low_risk == tc.at("expNumberOfDaysWithLowRisk").get<int>());
    CHECK(r->number_of_days_with_high_risk == tc.at("expNumberOfDaysWithHighRisk").get<int>());
}

// Every key of a test case is one the checks above read (so a new expectation cannot be missed).
void check_known_fields(const json& tc) {
    static const std::vector<std::string> known = {
        "description",
        "exposureWindows",
        "expTotalRiskLevel",
        "expTotalMinimumDistinctEncountersWithLowRisk",
        "expTotalMinimumDistinctEncountersWithHighRisk",
        "expAgeOfMostRecentDateWithLowRisk",
        "expAgeOfMostRecentDateWithHighRisk",
        "expNumberOfDaysWithLowRisk",
        "expNumberOfDaysWithHighRisk",
    };
    for (const auto& [key, value] : tc.items()) {
        CAPTURE(key);
        CHECK(std::find(known.begin(), known.end(), key) != known.end());
    }
}

}  // namespace

TEST_CASE("CwaRiskConfig::defaults() equals the configuration in CWA's test file",
          "[core][risk][cwa][vectors]") {
    const CwaRiskConfig from_json =
        config_of(cases_json().at("defaultRiskCalculationConfiguration"));
    CHECK(from_json == CwaRiskConfig::defaults());
    CHECK(from_json.minutes_at_attenuation_weights.size() == 3);
    CHECK(from_json.transmission_risk_value_mapping.size() == 8);
    // Negative neighbour: the comparison sees a single changed bound.
    CwaRiskConfig changed = from_json;
    changed.normalized_time_per_day_to_risk_level_mapping[0].normalized_time_range.max_exclusive =
        false;
    CHECK_FALSE(changed == CwaRiskConfig::defaults());
}

TEST_CASE("All 29 CWA test cases pass with the file's configuration and with the defaults",
          "[core][risk][cwa][vectors]") {
    const json& all = cases_json();
    const CwaRiskConfig from_json = config_of(all.at("defaultRiskCalculationConfiguration"));
    const json& cases = all.at("testCases");
    REQUIRE(cases.size() == 29);
    for (const json& tc : cases) {
        const std::string description = tc.at("description").get<std::string>();
        CAPTURE(description);
        check_known_fields(tc);
        {
            INFO("configuration read from the JSON");
            check_case(tc, from_json);
        }
        {
            INFO("CwaRiskConfig::defaults()");
            check_case(tc, CwaRiskConfig::defaults());
        }
    }
}

TEST_CASE("A wrong expectation would be noticed", "[core][risk][cwa][vectors]") {
    // Negative neighbour of the case "identify Exposure Window as High Risk based on
    // normalizedTime": 540 s is HIGH, 530 s only LOW, so the comparisons above do discriminate.
    const json& cases = cases_json().at("testCases");
    for (const json& tc : cases) {
        if (tc.at("description").get<std::string>().find("High Risk based on normalizedTime") ==
            std::string::npos)
            continue;
        json w = tc.at("exposureWindows").at(0);
        REQUIRE(w.at("scanInstances").at(0).at("secondsSinceLastScan").get<int>() == 540);
        w["scanInstances"][0]["secondsSinceLastScan"] = 530;
        const std::vector<ExposureWindow> windows = {window_of(w)};
        auto r = compute_cwa_risk(windows, kNow);
        REQUIRE(r.has_value());
        CHECK(static_cast<int>(r->total_risk_level) != tc.at("expTotalRiskLevel").get<int>());
        CHECK(r->number_of_days_with_high_risk == 0);
        return;
    }
    FAIL("case not found");
}

TEST_CASE("Real CWA keys of 2021-03-04 (RECURSIVE, DSOS 1) carry no risk",
          "[core][risk][cwa][vectors]") {
    const auto rows = sotto::test::parse_csv(
        sotto::test::read_text(sotto::test::gaen_data("cwa-real-2021-03-04/real_matches.csv")));
    REQUIRE(rows.size() > 1);
    const auto& header = rows[0];
    auto col = [&](const char* name) {
        const auto it = std::find(header.begin(), header.end(), name);
        REQUIRE(it != header.end());
        return static_cast<std::size_t>(it - header.begin());
    };
    const std::size_t c_time = col("est_unix_ts_utc"), c_rssi = col("rssi_dbm"), c_tek = col("tek"),
                      c_rt = col("report_type"), c_dsos = col("days_since_onset"),
                      c_trl = col("cwa_trl"), c_cc = col("calibration_confidence"),
                      c_tx = col("tx_power_dbm");

    // All sightings of the first TEK (one key: 16 sightings of 2 RPIs over ~26 minutes).
    const std::string tek = rows[1][c_tek];
    std::vector<ScanRecord> scans;
    for (std::size_t i = 1; i < rows.size(); ++i) {
        const auto& row = rows[i];
        if (row[c_tek] != tek) continue;
        REQUIRE(row[c_rt] == "4");  // RECURSIVE
        REQUIRE(row[c_dsos] == "1");
        REQUIRE(row[c_trl] == "1");
        ScanRecord s;
        s.time = std::stoll(row[c_time]);
        // The sensor logged RSSI for few rows; assume a close contact (-50 dBm) where it is
        // missing, the reading most likely to raise a warning.
        const int rssi = row[c_rssi].empty() ? -50 : std::stoi(row[c_rssi]);
        s.rssi_max = s.rssi_min = static_cast<std::int8_t>(rssi);
        s.packets = 1;
        s.rssi_sum = rssi;
        scans.push_back(s);
    }
    REQUIRE(scans.size() >= 10);

    DiagnosisKey key;
    key.report_type = ReportType::kRecursive;
    key.days_since_onset = 1;
    key.transmission_risk_level = 1;
    Metadata md;
    md.minor_version = 1;
    md.tx_power_dbm = static_cast<std::int8_t>(std::stoi(rows[1][c_tx]));
    md.calibration_confidence = static_cast<CalibrationConfidence>(std::stoi(rows[1][c_cc]));
    const WindowKeyInfo info = window_key_info(key, md, DiagnosisKeysDataMapping::cwa_defaults());
    CHECK(info.infectiousness == Infectiousness::kStandard);
    CHECK(info.report_type == ReportType::kRecursive);
    CHECK(info.calibration_confidence == CalibrationConfidence::kHigh);

    const auto windows = build_exposure_windows(scans, info);
    REQUIRE(!windows.empty());
    const std::int64_t now = windows.front().date_unix + kSecondsPerDay;  // evaluated the next day
    for (const ExposureWindow& w : windows) {
        auto trl = cwa_transmission_risk_level(w, CwaTrlEncoding{});
        REQUIRE(trl.has_value());
        CHECK(*trl == 1);  // TRL 1: transmission risk value 0
        auto ew = cwa_window_risk(w, CwaRiskConfig::defaults());
        REQUIRE(ew.has_value());
        REQUIRE(ew->has_value());
        CHECK((*ew)->normalized_time == 0.0);
        CHECK((*ew)->weighted_minutes > 9.0);  // a long, close contact nevertheless
    }
    auto r = compute_cwa_risk(windows, now);
    REQUIRE(r.has_value());
    CHECK(r->total_risk_level == CwaRiskLevel::kLow);
    CHECK(r->number_of_days_with_low_risk == 0);
    CHECK(r->number_of_days_with_high_risk == 0);
    CHECK(r->total_minimum_distinct_encounters_with_low_risk == 0);
    CHECK_FALSE(r->most_recent_date_with_low_risk.has_value());
    for (const CwaDayRisk& d : r->days) CHECK(d.risk_level == CwaRiskLevel::kNone);

    // Negative neighbour: the same contact with a confirmed-test key (TRL 7, value 1.4) is HIGH.
    key.report_type = ReportType::kConfirmedTest;
    const auto confirmed = build_exposure_windows(
        scans, window_key_info(key, md, DiagnosisKeysDataMapping::cwa_defaults()));
    auto high = compute_cwa_risk(confirmed, now);
    REQUIRE(high.has_value());
    CHECK(high->total_risk_level == CwaRiskLevel::kHigh);
    CHECK(high->total_minimum_distinct_encounters_with_high_risk == 1);
}
