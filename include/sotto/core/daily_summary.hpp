#pragma once
/// \file
/// GAEN `DailySummariesConfig` / `DailySummary` (EN v1.5+): per-day sums of weighted exposure time,
/// as Google's Play services compute them (google/exposure-notifications-internals
/// `nearby/DailySummariesConfig.java`, `matching/DailySummaryUtils.java`; gaen.md §4.3).
///
/// Per window: `weighted_duration = Σ_bucket (Σ seconds_since_last_scan of its scan instances) ×
/// bucket_weight`, the bucket chosen by the scan's **typical** attenuation (immediate ≤ t0 < near
/// ≤ t1 < medium ≤ t2 < other); `score = weighted_duration × report_type_weight ×
/// infectiousness_weight`; windows with `score < minimum_window_score` are left out. Per UTC day
/// (and per report type): sum of scores, maximum score, sum of weighted durations. With all
/// weights 1.0 the unit is seconds: 15 minutes = 900.

#include <array>
#include <cstdint>
#include <sotto/core/exposure_window.hpp>
#include <sotto/result.hpp>
#include <span>
#include <vector>

namespace sotto::core {

/// Number of `ReportType` values (kUnknown..kRevoked), the size of per-report-type arrays.
inline constexpr std::size_t kReportTypeCount = 6;
/// Number of `Infectiousness` values (kNone..kHigh).
inline constexpr std::size_t kInfectiousnessCount = 3;
/// Largest weight GAEN accepts.
inline constexpr double kMaxDailySummaryWeight = 2.5;

/// GAEN `DailySummariesConfig`. The member defaults are the Corona-Warn-App configuration
/// (cwa-server `main-config/v2/daily-summaries-config.yaml`): thresholds 30/50/70 dB, all bucket
/// weights 1.0, weight 1.0 for report types kConfirmedTest..kRecursive and for kStandard/kHigh
/// infectiousness, no minimum score, all days. CWA ships it but computes its risk from exposure
/// windows instead (risk.hpp).
struct DailySummariesConfig {
    /// Bucket edges on typical attenuation, dB: strictly increasing, each 0..255. A value equal
    /// to an edge belongs to the lower (closer) bucket.
    std::array<int, 3> attenuation_bucket_threshold_db{30, 50, 70};
    /// Weights of the immediate, near, medium and other buckets, each 0..2.5.
    std::array<double, 4> attenuation_bucket_weights{1.0, 1.0, 1.0, 1.0};
    /// Weight per `ReportType` (index = enum value), each 0..2.5; GAEN's default is 0.
    std::array<double, kReportTypeCount> report_type_weights{0.0, 1.0, 1.0, 1.0, 1.0, 0.0};
    /// Weight per `Infectiousness` (index = enum value), each 0..2.5.
    std::array<double, kInfectiousnessCount> infectiousness_weights{0.0, 1.0, 1.0};
    /// Windows scoring below this are left out (≥ 0; 0 keeps all).
    double minimum_window_score = 0.0;
    /// Days more than this many days before today are left out; 0 keeps all days (≥ 0).
    int days_since_exposure_threshold = 0;

    /// The Corona-Warn-App configuration, equal to a default-constructed config.
    static DailySummariesConfig cwa_defaults() noexcept { return {}; }

    friend bool operator==(const DailySummariesConfig&, const DailySummariesConfig&) = default;
};

/// kInvalidArgument unless the config satisfies GAEN's builder checks (documented per field).
Result<void> validate_config(const DailySummariesConfig& config) noexcept;

/// GAEN `DailySummary.ExposureSummaryData`.
struct ExposureSummaryData {
    double maximum_score = 0.0;          ///< highest window score
    double score_sum = 0.0;              ///< sum of window scores
    double weighted_duration_sum = 0.0;  ///< sum of window weighted durations

    friend bool operator==(const ExposureSummaryData&, const ExposureSummaryData&) = default;
};

/// GAEN `DailySummary`: one UTC day.
struct DailySummary {
    /// Unix seconds of the day's UTC midnight.
    std::int64_t date_unix = 0;
    /// Over all report types.
    ExposureSummaryData summary;
    /// Per `ReportType` (index = enum value); zeros for report types without windows.
    std::array<ExposureSummaryData, kReportTypeCount> per_report_type{};

    friend bool operator==(const DailySummary&, const DailySummary&) = default;
};

/// Score of one window under `config`, and its weighted duration (`DailySummaryUtils`
/// `calculateWindowWeightedDuration` / `calculateWindowScore`). `config` must be valid.
struct WindowScore {
    double weighted_duration = 0.0;
    double score = 0.0;
};
WindowScore window_score(const ExposureWindow& window, const DailySummariesConfig& config) noexcept;

/// Daily summaries of `windows`, newest day first.
///
/// Windows with report type kRevoked (or an out-of-range enumerator) are ignored. With
/// `days_since_exposure_threshold > 0`, windows of days more than that many days before the UTC
/// day of `now_unix` are ignored. As in GAEN, a day whose windows all score below
/// `minimum_window_score` is still listed, with zeros. kInvalidArgument for an invalid config.
Result<std::vector<DailySummary>> daily_summaries(std::span<const ExposureWindow> windows,
                                                  std::int64_t now_unix,
                                                  const DailySummariesConfig& config = {});

}  // namespace sotto::core
