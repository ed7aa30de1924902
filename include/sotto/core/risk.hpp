#pragma once
/// \file
/// The Corona-Warn-App (CWA) risk calculation over GAEN exposure windows (cwa-app-android
/// `risk/DefaultRiskLevels.kt`, `ExposureWindowsFilter.kt`; gaen.md §4.4; docs/risk.md), with
/// CWA's configuration 1.15 as `CwaRiskConfig::defaults()`. Validated against CWA's 29 official
/// test cases (`exposure-windows-risk-calculation.json`).
///
/// Per window: attenuation filters (minutes at **minimum** attenuation) → transmission risk level
/// TRL = report type offset + infectiousness offset → TRL filters → transmission risk value →
/// weighted minutes (weights on minimum attenuation) → normalized time = value × weighted minutes
/// → window risk level (no level: window dropped). Per UTC day: sum of normalized times rounded
/// half up to one decimal → day risk level (no level: no risk that day); distinct encounters =
/// distinct (TRL, calibration confidence) pairs among the day's LOW (HIGH) windows. Totals: HIGH if
/// any day is HIGH, else LOW.

#include <cstdint>
#include <optional>
#include <sotto/core/exposure_window.hpp>
#include <sotto/result.hpp>
#include <span>
#include <vector>

namespace sotto::core {

/// A CWA risk level (values as CWA's `NormalizedTimeToRiskLevelMapping.RiskLevel`).
///
/// kNone (CWA's UNSPECIFIED) marks a *day* whose normalized time maps to no level: CWA treats such
/// a day as no risk at all. Windows never carry kNone (a window without a level is dropped) and the
/// total is never kNone (no exposure at all is LOW, CWA's green card).
enum class CwaRiskLevel : std::uint8_t { kNone = 0, kLow = 1, kHigh = 2 };

/// CWA `Range`: `[min, max]`, each end exclusive when its flag says so.
struct CwaRange {
    double min = 0.0;
    double max = 0.0;
    bool min_exclusive = false;
    bool max_exclusive = false;

    /// Whether `value` lies in the range (CWA `Range.inRange`). NaN lies in no range.
    constexpr bool contains(double value) const noexcept {
        if (value != value) return false;  // NaN
        if (min_exclusive ? value <= min : value < min) return false;
        if (max_exclusive ? value >= max : value > max) return false;
        return true;
    }
    friend bool operator==(const CwaRange&, const CwaRange&) = default;
};

/// Drops a window when its minutes at an attenuation are in a range.
struct CwaMinutesAtAttenuationFilter {
    CwaRange attenuation_range;         ///< on each scan's minimum attenuation, dB
    CwaRange drop_if_minutes_in_range;  ///< Σ max(seconds_since_last_scan, 0) / 60 of those scans
    friend bool operator==(const CwaMinutesAtAttenuationFilter&,
                           const CwaMinutesAtAttenuationFilter&) = default;
};

/// Drops a window whose transmission risk level is in a range.
struct CwaTrlFilter {
    CwaRange drop_if_trl_in_range;
    friend bool operator==(const CwaTrlFilter&, const CwaTrlFilter&) = default;
};

/// Weight of the time of scans whose minimum attenuation lies in a range (first match wins; no
/// match weighs 0).
struct CwaMinutesAtAttenuationWeight {
    CwaRange attenuation_range;
    double weight = 0.0;
    friend bool operator==(const CwaMinutesAtAttenuationWeight&,
                           const CwaMinutesAtAttenuationWeight&) = default;
};

/// Risk level of a normalized time in a range (first match wins).
struct CwaNormalizedTimeToRiskLevel {
    CwaRange normalized_time_range;
    CwaRiskLevel risk_level = CwaRiskLevel::kNone;
    friend bool operator==(const CwaNormalizedTimeToRiskLevel&,
                           const CwaNormalizedTimeToRiskLevel&) = default;
};

/// CWA `TransmissionRiskLevelEncoding`: TRL = report type offset + infectiousness offset.
struct CwaTrlEncoding {
    int infectiousness_offset_standard = 1;  ///< also used for kNone
    int infectiousness_offset_high = 2;
    int report_type_offset_recursive = 0;
    int report_type_offset_self_report = 2;
    int report_type_offset_confirmed_clinical_diagnosis = 4;
    int report_type_offset_confirmed_test = 6;
    friend bool operator==(const CwaTrlEncoding&, const CwaTrlEncoding&) = default;
};

/// Transmission risk value of one TRL (first match wins; an unlisted TRL has value 0).
struct CwaTransmissionRiskValue {
    int transmission_risk_level = 0;
    double transmission_risk_value = 0.0;
    friend bool operator==(const CwaTransmissionRiskValue&,
                           const CwaTransmissionRiskValue&) = default;
};

/// CWA `RiskCalculationParameters` (exposure-window part) plus the app's encounter age limit.
struct CwaRiskConfig {
    std::vector<CwaMinutesAtAttenuationFilter> minutes_at_attenuation_filters;
    std::vector<CwaTrlFilter> trl_filters;
    std::vector<CwaMinutesAtAttenuationWeight> minutes_at_attenuation_weights;
    std::vector<CwaNormalizedTimeToRiskLevel> normalized_time_per_ew_to_risk_level_mapping;
    std::vector<CwaNormalizedTimeToRiskLevel> normalized_time_per_day_to_risk_level_mapping;
    CwaTrlEncoding trl_encoding;
    std::vector<CwaTransmissionRiskValue> transmission_risk_value_mapping;
    /// Windows dated more than this many days before today (UTC) are ignored (CWA
    /// `maxEncounterAgeInDays`, part of the app config rather than the risk parameters).
    int max_encounter_age_days = 10;

    /// CWA's parameters 1.15 (cwa-server `main-config/v2/risk-calculation-parameters-1.15.yaml`
    /// and `trl-value-mapping-1.15.yaml`), identical to the configuration embedded in CWA's test
    /// cases; `max_encounter_age_days` 10:
    ///
    /// | | |
    /// |---|---|
    /// | filters | none |
    /// | weights on min attenuation | [0,63) 0.8; [63,73) 1.0; [73,79) 0.1; otherwise 0 |
    /// | window mapping | [0,9) LOW; [9,9999] HIGH |
    /// | day mapping | [5,9) LOW; [9,99999] HIGH; below 5 no risk |
    /// | TRL encoding | infectiousness 1/2; report type recursive 0, self 2, clinical 4, test 6 |
    /// | TRL → value | 1: 0, 2: 0, 3: 0.6, 4: 0.8, 5: 1.0, 6: 1.2, 7: 1.4, 8: 1.6 |
    static CwaRiskConfig defaults();

    friend bool operator==(const CwaRiskConfig&, const CwaRiskConfig&) = default;
};

/// The CWA evaluation of one exposure window that was not dropped.
struct CwaWindowRisk {
    int transmission_risk_level = 0;
    double transmission_risk_value = 0.0;
    double weighted_minutes = 0.0;
    double normalized_time = 0.0;  ///< value × weighted minutes, not rounded
    CwaRiskLevel risk_level = CwaRiskLevel::kLow;

    friend bool operator==(const CwaWindowRisk&, const CwaWindowRisk&) = default;
};

/// The transmission risk level of a window (CWA `determineTransmissionRiskLevel`):
/// kInvalidArgument for report types other than kConfirmedTest, kConfirmedClinicalDiagnosis,
/// kSelfReport and kRecursive (CWA throws `UnknownReportTypeException`).
Result<int> cwa_transmission_risk_level(const ExposureWindow& window,
                                        const CwaTrlEncoding& encoding) noexcept;

/// Evaluates one window (CWA `calculateRisk`): nullopt when a filter drops it or its normalized
/// time maps to no level; kInvalidArgument for an unknown report type.
Result<std::optional<CwaWindowRisk>> cwa_window_risk(const ExposureWindow& window,
                                                     const CwaRiskConfig& config);

/// One UTC day that has at least one evaluated window.
struct CwaDayRisk {
    /// Unix seconds of the day's UTC midnight.
    std::int64_t date_unix = 0;
    /// Σ normalized time of the day's windows, rounded half up to one decimal.
    double normalized_time = 0.0;
    /// kNone: below the day mapping, i.e. no risk; such days do not count in the totals.
    CwaRiskLevel risk_level = CwaRiskLevel::kNone;
    /// Distinct (TRL, calibration confidence) pairs among the day's windows with LOW risk.
    int minimum_distinct_encounters_with_low_risk = 0;
    /// Same among the day's windows with HIGH risk.
    int minimum_distinct_encounters_with_high_risk = 0;

    friend bool operator==(const CwaDayRisk&, const CwaDayRisk&) = default;
};

/// The result of `compute_cwa_risk` (CWA `EwAggregatedRiskResult`).
struct CwaRiskResult {
    /// kHigh when any day is HIGH, else kLow (also when nothing was found). Never kNone.
    CwaRiskLevel total_risk_level = CwaRiskLevel::kLow;
    /// Every day with at least one evaluated window, newest first, kNone days included.
    std::vector<CwaDayRisk> days;
    /// Among days with a risk level (kNone days do not count):
    std::optional<std::int64_t> most_recent_date_with_low_risk;   ///< UTC midnight
    std::optional<std::int64_t> most_recent_date_with_high_risk;  ///< UTC midnight
    int number_of_days_with_low_risk = 0;
    int number_of_days_with_high_risk = 0;
    int total_minimum_distinct_encounters_with_low_risk = 0;
    int total_minimum_distinct_encounters_with_high_risk = 0;

    friend bool operator==(const CwaRiskResult&, const CwaRiskResult&) = default;
};

/// Runs the CWA calculation over all exposure windows of all matched keys.
///
/// `now_unix` fixes "today" (UTC) for the age filter: windows whose day is more than
/// `config.max_encounter_age_days` days before today are dropped first (CWA
/// `ExposureWindowsFilter`); windows are grouped by the UTC day containing `date_unix`.
/// kInvalidArgument when a remaining window has an unknown report type (CWA fails the whole
/// calculation too).
Result<CwaRiskResult> compute_cwa_risk(std::span<const ExposureWindow> windows,
                                       std::int64_t now_unix,
                                       const CwaRiskConfig& config = CwaRiskConfig::defaults());

/// Whole days from the UTC day of `date_unix` to the UTC day of `now_unix` (CWA's "age in days").
constexpr std::int64_t age_in_days(std::int64_t date_unix, std::int64_t now_unix) noexcept {
    return (utc_midnight(now_unix) - utc_midnight(date_unix)) / kSecondsPerDay;
}

}  // namespace sotto::core
