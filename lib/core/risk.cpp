#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <sotto/core/risk.hpp>
#include <utility>
#include <vector>

#include "risk_math.hpp"

namespace sotto::core {
namespace {

constexpr CwaRange range(double min, double max, bool min_exclusive = false,
                         bool max_exclusive = false) {
    return {min, max, min_exclusive, max_exclusive};
}

// First mapping whose range contains `normalized_time`; kNone when none does.
CwaRiskLevel map_level(const std::vector<CwaNormalizedTimeToRiskLevel>& mapping,
                       double normalized_time) {
    for (const auto& m : mapping)
        if (m.normalized_time_range.contains(normalized_time)) return m.risk_level;
    return CwaRiskLevel::kNone;
}

// CWA dropDueToMinutesAtAttenuation. CWA's Kotlin returns from inside `any { }` and so only ever
// evaluates the first filter; sotto evaluates all (the evident intent). CWA 1.15 has no filters
// and the older parameters one, so both agree on every configuration CWA shipped.
bool dropped_by_attenuation_filters(const ExposureWindow& w, const CwaRiskConfig& config) {
    for (const auto& f : config.minutes_at_attenuation_filters) {
        double seconds = 0.0;
        for (const ScanInstance& s : w.scan_instances)
            if (f.attenuation_range.contains(s.min_attenuation_db))
                seconds += static_cast<double>(std::max(s.seconds_since_last_scan, 0));
        if (f.drop_if_minutes_in_range.contains(seconds / 60.0)) return true;
    }
    return false;
}

bool dropped_by_trl_filters(int trl, const CwaRiskConfig& config) {
    return std::any_of(
        config.trl_filters.begin(), config.trl_filters.end(),
        [trl](const CwaTrlFilter& f) { return f.drop_if_trl_in_range.contains(trl); });
}

double transmission_risk_value(int trl, const CwaRiskConfig& config) {
    for (const auto& m : config.transmission_risk_value_mapping)
        if (m.transmission_risk_level == trl) return m.transmission_risk_value;
    return 0.0;
}

// CWA determineWeightedSeconds / 60: each scan's time weighted by the first weight whose range
// holds its minimum attenuation.
double weighted_minutes(const ExposureWindow& w, const CwaRiskConfig& config) {
    double seconds = 0.0;
    for (const ScanInstance& s : w.scan_instances) {
        double weight = 0.0;
        for (const auto& m : config.minutes_at_attenuation_weights) {
            if (m.attenuation_range.contains(s.min_attenuation_db)) {
                weight = m.weight;
                break;
            }
        }
        seconds += static_cast<double>(std::max(s.seconds_since_last_scan, 0)) * weight;
    }
    return seconds / 60.0;
}

}  // namespace

CwaRiskConfig CwaRiskConfig::defaults() {
    CwaRiskConfig c;
    c.minutes_at_attenuation_weights = {
        {range(0, 63, false, true), 0.8},
        {range(63, 73, false, true), 1.0},
        {range(73, 79, false, true), 0.1},
    };
    c.normalized_time_per_ew_to_risk_level_mapping = {
        {range(0, 9, false, true), CwaRiskLevel::kLow},
        {range(9, 9999), CwaRiskLevel::kHigh},
    };
    c.normalized_time_per_day_to_risk_level_mapping = {
        {range(5, 9, false, true), CwaRiskLevel::kLow},
        {range(9, 99999), CwaRiskLevel::kHigh},
    };
    c.trl_encoding = CwaTrlEncoding{};
    c.transmission_risk_value_mapping = {
        {1, 0.0}, {2, 0.0}, {3, 0.6}, {4, 0.8}, {5, 1.0}, {6, 1.2}, {7, 1.4}, {8, 1.6},
    };
    c.max_encounter_age_days = 10;
    return c;
}

Result<int> cwa_transmission_risk_level(const ExposureWindow& window,
                                        const CwaTrlEncoding& encoding) noexcept {
    int report_type_offset = 0;
    switch (window.report_type) {
        case ReportType::kConfirmedTest:
            report_type_offset = encoding.report_type_offset_confirmed_test;
            break;
        case ReportType::kConfirmedClinicalDiagnosis:
            report_type_offset = encoding.report_type_offset_confirmed_clinical_diagnosis;
            break;
        case ReportType::kSelfReport:
            report_type_offset = encoding.report_type_offset_self_report;
            break;
        case ReportType::kRecursive:
            report_type_offset = encoding.report_type_offset_recursive;
            break;
        default:
            return make_error(ErrorCode::kInvalidArgument, "cwa risk: unknown report type");
    }
    const int infectiousness_offset = window.infectiousness == Infectiousness::kHigh
                                          ? encoding.infectiousness_offset_high
                                          : encoding.infectiousness_offset_standard;
    return report_type_offset + infectiousness_offset;
}

Result<std::optional<CwaWindowRisk>> cwa_window_risk(const ExposureWindow& window,
                                                     const CwaRiskConfig& config) {
    using Out = std::optional<CwaWindowRisk>;
    if (dropped_by_attenuation_filters(window, config)) return Out{};
    auto trl = cwa_transmission_risk_level(window, config.trl_encoding);
    if (!trl) return trl.error();
    if (dropped_by_trl_filters(*trl, config)) return Out{};

    CwaWindowRisk r;
    r.transmission_risk_level = *trl;
    r.transmission_risk_value = transmission_risk_value(*trl, config);
    r.weighted_minutes = weighted_minutes(window, config);
    r.normalized_time = r.transmission_risk_value * r.weighted_minutes;
    r.risk_level =
        map_level(config.normalized_time_per_ew_to_risk_level_mapping, r.normalized_time);
    if (r.risk_level == CwaRiskLevel::kNone) return Out{};
    return Out{r};
}

Result<CwaRiskResult> compute_cwa_risk(std::span<const ExposureWindow> windows,
                                       std::int64_t now_unix, const CwaRiskConfig& config) {
    struct Day {
        double normalized_time_sum = 0.0;
        std::set<std::pair<int, CalibrationConfidence>> low;  // (TRL, calibration confidence)
        std::set<std::pair<int, CalibrationConfidence>> high;
    };
    // ExposureWindowsFilter.filterByAge: keep windows dated on or after today − max age.
    const std::int64_t deadline =
        utc_midnight(now_unix) -
        static_cast<std::int64_t>(config.max_encounter_age_days) * kSecondsPerDay;

    std::map<std::int64_t, Day, std::greater<>> days;  // newest first
    for (const ExposureWindow& w : windows) {
        const std::int64_t date = utc_midnight(w.date_unix);
        if (date < deadline) continue;
        auto risk = cwa_window_risk(w, config);
        if (!risk) return risk.error();
        if (!risk->has_value()) continue;
        const CwaWindowRisk& r = **risk;
        Day& day = days[date];
        day.normalized_time_sum += r.normalized_time;
        const std::pair<int, CalibrationConfidence> encounter{r.transmission_risk_level,
                                                              w.calibration_confidence};
        if (r.risk_level == CwaRiskLevel::kLow) day.low.insert(encounter);
        if (r.risk_level == CwaRiskLevel::kHigh) day.high.insert(encounter);
    }

    CwaRiskResult result;
    for (const auto& [date, day] : days) {
        CwaDayRisk d;
        d.date_unix = date;
        // EXPOSUREAPP-12211: CWA rounds the day's sum to one decimal, (x * 10).roundToLong() / 10,
        // so that e.g. 0.6 + 4.8 + 3.5999… reaches 9.0.
        d.normalized_time = detail::round_half_up(day.normalized_time_sum * 10.0) / 10.0;
        d.risk_level =
            map_level(config.normalized_time_per_day_to_risk_level_mapping, d.normalized_time);
        d.minimum_distinct_encounters_with_low_risk = static_cast<int>(day.low.size());
        d.minimum_distinct_encounters_with_high_risk = static_cast<int>(day.high.size());
        result.days.push_back(d);

        if (d.risk_level == CwaRiskLevel::kNone) continue;  // CWA drops the day
        result.total_minimum_distinct_encounters_with_low_risk +=
            d.minimum_distinct_encounters_with_low_risk;
        result.total_minimum_distinct_encounters_with_high_risk +=
            d.minimum_distinct_encounters_with_high_risk;
        if (d.risk_level == CwaRiskLevel::kLow) {
            ++result.number_of_days_with_low_risk;
            if (!result.most_recent_date_with_low_risk)
                result.most_recent_date_with_low_risk = date;
        } else if (d.risk_level == CwaRiskLevel::kHigh) {
            ++result.number_of_days_with_high_risk;
            if (!result.most_recent_date_with_high_risk)
                result.most_recent_date_with_high_risk = date;
        }
    }
    result.total_risk_level =
        result.number_of_days_with_high_risk > 0 ? CwaRiskLevel::kHigh : CwaRiskLevel::kLow;
    return result;
}

}  // namespace sotto::core
