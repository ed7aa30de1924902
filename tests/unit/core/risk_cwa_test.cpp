// Corona-Warn-App exposure-window risk (gaen.md §4.4; cwa-app-android DefaultRiskLevels.kt),
// hand-computed cases. The 29 official cases are in tests/vectors/cwa_risk_test.cpp.
#include <catch2/catch.hpp>
#include <limits>
#include <sotto/core/risk.hpp>
#include <vector>

#include "core/risk_math.hpp"
#include "support.hpp"

using namespace sotto::core;

namespace {

constexpr std::int64_t kToday = 1614816000;  // 2021-03-04 00:00:00 UTC
constexpr std::int64_t kNow = kToday + 12 * 3600;
constexpr std::int64_t kDaySeconds = 86400;

ExposureWindow window(std::int64_t age_days, ReportType rt, Infectiousness inf,
                      std::vector<ScanInstance> scans,
                      CalibrationConfidence cc = CalibrationConfidence::kLowest) {
    ExposureWindow w;
    w.date_unix = kToday - age_days * kDaySeconds;
    w.report_type = rt;
    w.infectiousness = inf;
    w.calibration_confidence = cc;
    w.scan_instances = std::move(scans);
    return w;
}

// TRL 5 (clinical diagnosis, standard infectiousness): transmission risk value 1.0, so the
// normalized time is the weighted minutes.
ExposureWindow trl5(std::int64_t age_days, int min_attenuation, int seconds,
                    CalibrationConfidence cc = CalibrationConfidence::kLowest) {
    return window(age_days, ReportType::kConfirmedClinicalDiagnosis, Infectiousness::kStandard,
                  {{min_attenuation + 5, min_attenuation, seconds}}, cc);
}

CwaWindowRisk evaluate(const ExposureWindow& w,
                       const CwaRiskConfig& c = CwaRiskConfig::defaults()) {
    auto r = cwa_window_risk(w, c);
    REQUIRE(r.has_value());
    REQUIRE(r->has_value());
    return **r;
}

bool dropped(const ExposureWindow& w, const CwaRiskConfig& c = CwaRiskConfig::defaults()) {
    auto r = cwa_window_risk(w, c);
    REQUIRE(r.has_value());
    return !r->has_value();
}

CwaRiskResult compute(const std::vector<ExposureWindow>& ws,
                      const CwaRiskConfig& c = CwaRiskConfig::defaults()) {
    auto r = compute_cwa_risk(ws, kNow, c);
    REQUIRE(r.has_value());
    return *r;
}

}  // namespace

TEST_CASE("Ranges are inclusive unless marked exclusive", "[core][risk][cwa]") {
    constexpr CwaRange closed{5, 9, false, false};
    static_assert(closed.contains(5) && closed.contains(9) && closed.contains(7));
    static_assert(!closed.contains(4.999) && !closed.contains(9.001));
    constexpr CwaRange half_open{5, 9, false, true};
    static_assert(half_open.contains(5) && !half_open.contains(9) && half_open.contains(8.999));
    constexpr CwaRange open{5, 9, true, true};
    static_assert(!open.contains(5) && !open.contains(9) && open.contains(5.001));
    CHECK(closed.contains(9.0));
    CHECK_FALSE(open.contains(5.0));
    CHECK_FALSE(CwaRange{0, 1e9}.contains(std::numeric_limits<double>::quiet_NaN()));
}

TEST_CASE("TRL is report type offset plus infectiousness offset", "[core][risk][cwa]") {
    const CwaTrlEncoding e;
    auto trl = [&](ReportType rt, Infectiousness inf) {
        auto r = cwa_transmission_risk_level(window(0, rt, inf, {}), e);
        REQUIRE(r.has_value());
        return *r;
    };
    CHECK(trl(ReportType::kConfirmedTest, Infectiousness::kStandard) == 7);
    CHECK(trl(ReportType::kConfirmedTest, Infectiousness::kHigh) == 8);
    CHECK(trl(ReportType::kConfirmedClinicalDiagnosis, Infectiousness::kStandard) == 5);
    CHECK(trl(ReportType::kConfirmedClinicalDiagnosis, Infectiousness::kHigh) == 6);
    CHECK(trl(ReportType::kSelfReport, Infectiousness::kStandard) == 3);
    CHECK(trl(ReportType::kSelfReport, Infectiousness::kHigh) == 4);
    CHECK(trl(ReportType::kRecursive, Infectiousness::kStandard) == 1);
    CHECK(trl(ReportType::kRecursive, Infectiousness::kHigh) == 2);
    // Anything but HIGH takes the standard offset, as in CWA.
    CHECK(trl(ReportType::kSelfReport, Infectiousness::kNone) == 3);
}

TEST_CASE("Unknown and revoked report types are an error", "[core][risk][cwa]") {
    for (ReportType rt : {ReportType::kUnknown, ReportType::kRevoked, static_cast<ReportType>(9)}) {
        const ExposureWindow w = window(1, rt, Infectiousness::kStandard, {{60, 60, 300}});
        auto trl = cwa_transmission_risk_level(w, CwaTrlEncoding{});
        REQUIRE_FALSE(trl.has_value());
        CHECK(trl.error().code == sotto::ErrorCode::kInvalidArgument);
        CHECK_FALSE(cwa_window_risk(w, CwaRiskConfig::defaults()).has_value());
        auto all = compute_cwa_risk(std::vector<ExposureWindow>{trl5(1, 60, 300), w}, kNow);
        REQUIRE_FALSE(all.has_value());
        CHECK(all.error().code == sotto::ErrorCode::kInvalidArgument);
    }
    // Neighbour: an unknown window older than the age limit is filtered before it is evaluated.
    const ExposureWindow old =
        window(11, ReportType::kUnknown, Infectiousness::kStandard, {{60, 60, 300}});
    CHECK(compute_cwa_risk(std::vector<ExposureWindow>{old}, kNow).has_value());
}

TEST_CASE("Weights apply to the minimum attenuation, first matching range", "[core][risk][cwa]") {
    struct Case {
        int min_attenuation;
        double weight;
    };
    for (const Case c : {Case{0, 0.8}, Case{62, 0.8}, Case{63, 1.0}, Case{72, 1.0}, Case{73, 0.1},
                         Case{78, 0.1}, Case{79, 0.0}, Case{120, 0.0}}) {
        CAPTURE(c.min_attenuation);
        const CwaWindowRisk r = evaluate(trl5(1, c.min_attenuation, 600));
        CHECK(r.transmission_risk_level == 5);
        CHECK(r.transmission_risk_value == 1.0);
        CHECK(r.weighted_minutes == Approx(10 * c.weight));
        CHECK(r.normalized_time == Approx(10 * c.weight));
    }
    // Typical attenuation plays no part: 90 dB typical, 60 dB minimum weighs 0.8.
    const ExposureWindow w = window(1, ReportType::kConfirmedClinicalDiagnosis,
                                    Infectiousness::kStandard, {{90, 60, 600}});
    CHECK(evaluate(w).weighted_minutes == Approx(8.0));
}

TEST_CASE("CWA's worked examples around the thresholds", "[core][risk][cwa]") {
    // gaen.md §4.4: TRL 5, minimum attenuation 65 (weight 1.0).
    CHECK(evaluate(trl5(1, 65, 540)).normalized_time == 9.0);
    CHECK(evaluate(trl5(1, 65, 540)).risk_level == CwaRiskLevel::kHigh);
    CHECK(evaluate(trl5(1, 65, 530)).risk_level == CwaRiskLevel::kLow);  // 8.83

    auto high = compute({trl5(1, 65, 540)});
    CHECK(high.total_risk_level == CwaRiskLevel::kHigh);
    REQUIRE(high.days.size() == 1);
    CHECK(high.days[0].normalized_time == 9.0);
    CHECK(high.days[0].minimum_distinct_encounters_with_high_risk == 1);

    auto low = compute({trl5(1, 65, 530)});
    CHECK(low.total_risk_level == CwaRiskLevel::kLow);
    REQUIRE(low.days.size() == 1);
    CHECK(low.days[0].normalized_time == 8.8);
    CHECK(low.days[0].risk_level == CwaRiskLevel::kLow);
    CHECK(low.number_of_days_with_low_risk == 1);
    CHECK(low.most_recent_date_with_low_risk == kToday - kDaySeconds);

    // 4.83: the window is LOW, but the day stays below 5: no risk at all.
    auto none = compute({trl5(1, 65, 290)});
    CHECK(evaluate(trl5(1, 65, 290)).risk_level == CwaRiskLevel::kLow);
    CHECK(none.total_risk_level == CwaRiskLevel::kLow);
    REQUIRE(none.days.size() == 1);
    CHECK(none.days[0].normalized_time == 4.8);
    CHECK(none.days[0].risk_level == CwaRiskLevel::kNone);
    CHECK(none.days[0].minimum_distinct_encounters_with_low_risk == 1);  // per day, as computed
    CHECK(none.number_of_days_with_low_risk == 0);                       // but not counted
    CHECK(none.total_minimum_distinct_encounters_with_low_risk == 0);
    CHECK_FALSE(none.most_recent_date_with_low_risk.has_value());
}

TEST_CASE("Negative seconds since last scan count as zero", "[core][risk][cwa]") {
    const ExposureWindow w =
        window(1, ReportType::kConfirmedClinicalDiagnosis, Infectiousness::kStandard,
               {{70, 70, -86160}, {70, 70, 300}, {70, 70, 240}});
    CHECK(evaluate(w).weighted_minutes == 9.0);
}

TEST_CASE("The day's sum is rounded half up to one decimal before mapping", "[core][risk][cwa]") {
    // Each window 0.1 (TRL 5, 60 s at weight 0.1). Ninety of them sum to 8.999999999999984 in
    // binary floating point, which rounds to 9.0: HIGH (EXPOSUREAPP-12211).
    auto day_of = [](int n) {
        std::vector<ExposureWindow> ws(static_cast<std::size_t>(n), trl5(2, 75, 60));
        return compute(ws);
    };
    double raw = 0.0;
    for (int i = 0; i < 90; ++i) raw += evaluate(trl5(2, 75, 60)).normalized_time;
    REQUIRE(raw < 9.0);
    auto r90 = day_of(90);
    REQUIRE(r90.days.size() == 1);
    CHECK(r90.days[0].normalized_time == 9.0);
    CHECK(r90.days[0].risk_level == CwaRiskLevel::kHigh);
    CHECK(r90.total_risk_level == CwaRiskLevel::kHigh);
    CHECK(r90.days[0].minimum_distinct_encounters_with_low_risk == 1);  // all windows LOW
    CHECK(r90.total_minimum_distinct_encounters_with_high_risk == 0);
    CHECK(r90.most_recent_date_with_high_risk == kToday - 2 * kDaySeconds);
    // Neighbours: 89 windows are 8.9 (LOW); 50 reach 5.0 (LOW), 49 stay below (none).
    CHECK(day_of(89).days[0].normalized_time == 8.9);
    CHECK(day_of(89).days[0].risk_level == CwaRiskLevel::kLow);
    CHECK(day_of(50).days[0].risk_level == CwaRiskLevel::kLow);
    CHECK(day_of(49).days[0].risk_level == CwaRiskLevel::kNone);
}

TEST_CASE("Rounding half up matches Kotlin roundToLong", "[core][risk][cwa]") {
    using sotto::core::detail::round_half_up;
    CHECK(round_half_up(0.5) == 1.0);
    CHECK(round_half_up(1.5) == 2.0);
    CHECK(round_half_up(2.5) == 3.0);  // not banker's rounding
    CHECK(round_half_up(2.4999) == 2.0);
    CHECK(round_half_up(-0.5) == 0.0);  // Java Math.round(-0.5) == 0
    CHECK(round_half_up(-1.5) == -1.0);
    CHECK(round_half_up(-1.6) == -2.0);
    CHECK(round_half_up(0.49999999999999994) == 0.0);  // x + 0.5 would round up to 1.0
    CHECK(round_half_up(89.99999999999984) == 90.0);
}

TEST_CASE("Windows older than the encounter age limit are dropped first", "[core][risk][cwa]") {
    auto r = compute({trl5(10, 65, 540), trl5(11, 65, 540)});
    REQUIRE(r.days.size() == 1);
    CHECK(r.days[0].date_unix == kToday - 10 * kDaySeconds);
    CHECK(r.number_of_days_with_high_risk == 1);
    CHECK(age_in_days(*r.most_recent_date_with_high_risk, kNow) == 10);
    // Neighbours: with a limit of 11 both count; today and (clock skew) tomorrow always count.
    CwaRiskConfig c = CwaRiskConfig::defaults();
    c.max_encounter_age_days = 11;
    CHECK(compute({trl5(10, 65, 540), trl5(11, 65, 540)}, c).number_of_days_with_high_risk == 2);
    CHECK(compute({trl5(0, 65, 540), trl5(-1, 65, 540)}).number_of_days_with_high_risk == 2);
}

TEST_CASE("Windows group by UTC day, newest first", "[core][risk][cwa]") {
    ExposureWindow off_midnight = trl5(3, 65, 300);
    off_midnight.date_unix += 5 * 3600;  // not at midnight: still day 3
    auto r = compute({trl5(3, 65, 300), off_midnight, trl5(1, 65, 300), trl5(5, 65, 300)});
    REQUIRE(r.days.size() == 3);
    CHECK(r.days[0].date_unix == kToday - kDaySeconds);
    CHECK(r.days[1].date_unix == kToday - 3 * kDaySeconds);
    CHECK(r.days[1].normalized_time == 10.0);
    CHECK(r.days[1].risk_level == CwaRiskLevel::kHigh);
    CHECK(r.days[2].date_unix == kToday - 5 * kDaySeconds);
    CHECK(r.number_of_days_with_low_risk == 2);
    CHECK(r.number_of_days_with_high_risk == 1);
    CHECK(r.most_recent_date_with_low_risk == kToday - kDaySeconds);
    CHECK(r.most_recent_date_with_high_risk == kToday - 3 * kDaySeconds);
    CHECK(r.total_risk_level == CwaRiskLevel::kHigh);
}

TEST_CASE("Distinct encounters count (TRL, calibration confidence) pairs per day and level",
          "[core][risk][cwa]") {
    const auto cc0 = CalibrationConfidence::kLowest;
    const auto cc3 = CalibrationConfidence::kHigh;
    auto r = compute({trl5(1, 65, 300, cc0), trl5(1, 65, 300, cc0),  // same pair: one encounter
                      trl5(1, 65, 300, cc3),                         // other confidence
                      window(1, ReportType::kConfirmedClinicalDiagnosis, Infectiousness::kHigh,
                             {{65, 65, 300}}, cc0),                    // TRL 6: other pair
                      trl5(1, 65, 600, cc0),                           // HIGH window
                      trl5(2, 65, 300, cc0), trl5(2, 65, 300, cc0)});  // other day
    REQUIRE(r.days.size() == 2);
    CHECK(r.days[0].minimum_distinct_encounters_with_low_risk == 3);
    CHECK(r.days[0].minimum_distinct_encounters_with_high_risk == 1);
    CHECK(r.days[1].minimum_distinct_encounters_with_low_risk == 1);
    CHECK(r.total_minimum_distinct_encounters_with_low_risk == 4);
    CHECK(r.total_minimum_distinct_encounters_with_high_risk == 1);
}

TEST_CASE("No windows at all is LOW total risk with nothing else", "[core][risk][cwa]") {
    const CwaRiskResult r = compute({});
    CHECK(r == CwaRiskResult{});
    CHECK(r.total_risk_level == CwaRiskLevel::kLow);
    CHECK(r.days.empty());
}

TEST_CASE("Attenuation and TRL filters drop windows", "[core][risk][cwa]") {
    // CWA's earlier parameters: drop windows with less than 5 minutes at minimum attenuation
    // below 79 dB, and TRL 1-2.
    CwaRiskConfig c = CwaRiskConfig::defaults();
    c.minutes_at_attenuation_filters = {{{0, 79, false, true}, {0, 5, false, true}}};
    c.trl_filters = {{{1, 2}}};
    CHECK(dropped(trl5(1, 65, 240), c));  // 4 minutes
    CHECK(dropped(window(1, ReportType::kConfirmedClinicalDiagnosis, Infectiousness::kStandard,
                         {{65, 65, 240}, {85, 85, 300}}),
                  c));                          // the 5 minutes at 85 dB are outside the range
    CHECK_FALSE(dropped(trl5(1, 65, 300), c));  // 5 minutes: kept
    CHECK(dropped(window(1, ReportType::kRecursive, Infectiousness::kHigh, {{65, 65, 600}}), c));
    CHECK_FALSE(
        dropped(window(1, ReportType::kSelfReport, Infectiousness::kStandard, {{65, 65, 600}}), c));
    // Every filter is applied, not only the first.
    c.minutes_at_attenuation_filters.push_back({{79, 255}, {10, 1000}});
    CHECK(dropped(window(1, ReportType::kConfirmedClinicalDiagnosis, Infectiousness::kStandard,
                         {{65, 65, 300}, {85, 85, 600}}),
                  c));
    // A dropped window contributes nothing, not even to a day.
    CHECK(compute({trl5(1, 65, 240)}, c).days.empty());
}

TEST_CASE("A window whose normalized time maps to no level is dropped", "[core][risk][cwa]") {
    CwaRiskConfig c = CwaRiskConfig::defaults();
    c.normalized_time_per_ew_to_risk_level_mapping = {{{9, 9999}, CwaRiskLevel::kHigh}};
    CHECK(dropped(trl5(1, 65, 530), c));
    CHECK_FALSE(dropped(trl5(1, 65, 540), c));
    // Dropped windows do not add to the day: 8.83 + 9.0 would be HIGH either way, but the LOW
    // encounter is gone.
    auto r = compute({trl5(1, 65, 530), trl5(1, 65, 540, CalibrationConfidence::kHigh)}, c);
    REQUIRE(r.days.size() == 1);
    CHECK(r.days[0].normalized_time == 9.0);
    CHECK(r.days[0].minimum_distinct_encounters_with_low_risk == 0);
}

TEST_CASE("TRLs missing from the value mapping are worth 0", "[core][risk][cwa]") {
    CwaRiskConfig c = CwaRiskConfig::defaults();
    c.transmission_risk_value_mapping = {{5, 2.0}};
    CHECK(evaluate(trl5(1, 65, 300), c).normalized_time == 10.0);
    const CwaWindowRisk r =
        evaluate(window(1, ReportType::kConfirmedTest, Infectiousness::kHigh, {{65, 65, 600}}), c);
    CHECK(r.transmission_risk_level == 8);
    CHECK(r.transmission_risk_value == 0.0);
    CHECK(r.normalized_time == 0.0);
    CHECK(r.risk_level == CwaRiskLevel::kLow);
}

TEST_CASE("The default configuration is CWA's 1.15", "[core][risk][cwa]") {
    const CwaRiskConfig c = CwaRiskConfig::defaults();
    CHECK(c.minutes_at_attenuation_filters.empty());
    CHECK(c.trl_filters.empty());
    REQUIRE(c.minutes_at_attenuation_weights.size() == 3);
    CHECK(c.minutes_at_attenuation_weights[0] ==
          CwaMinutesAtAttenuationWeight{{0, 63, false, true}, 0.8});
    CHECK(c.normalized_time_per_day_to_risk_level_mapping[0] ==
          CwaNormalizedTimeToRiskLevel{{5, 9, false, true}, CwaRiskLevel::kLow});
    CHECK(c.transmission_risk_value_mapping.size() == 8);
    CHECK(c.trl_encoding == CwaTrlEncoding{1, 2, 0, 2, 4, 6});
    CHECK(c.max_encounter_age_days == 10);
    CHECK(c == CwaRiskConfig::defaults());
    CwaRiskConfig other = c;
    other.transmission_risk_value_mapping[2].transmission_risk_value = 0.7;
    CHECK_FALSE(other == c);
}
