#include <algorithm>
#include <functional>
#include <map>
#include <sotto/core/daily_summary.hpp>
#include <vector>

#include "risk_math.hpp"

namespace sotto::core {
namespace {

bool weight_ok(double w) noexcept {
    return w >= 0.0 && w <= kMaxDailySummaryWeight;
}  // false for NaN

void add(ExposureSummaryData& into, double score, double weighted_duration) noexcept {
    into.score_sum += score;
    into.maximum_score = std::max(into.maximum_score, score);
    into.weighted_duration_sum += weighted_duration;
}

}  // namespace

Result<void> validate_config(const DailySummariesConfig& config) noexcept {
    const auto& t = config.attenuation_bucket_threshold_db;
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (t[i] < 0 || t[i] > 255)
            return make_error(ErrorCode::kInvalidArgument,
                              "daily summaries: threshold outside 0..255");
        if (i > 0 && t[i - 1] >= t[i])
            return make_error(ErrorCode::kInvalidArgument,
                              "daily summaries: thresholds not increasing");
    }
    for (double w : config.attenuation_bucket_weights)
        if (!weight_ok(w))
            return make_error(ErrorCode::kInvalidArgument,
                              "daily summaries: weight outside 0..2.5");
    for (double w : config.report_type_weights)
        if (!weight_ok(w))
            return make_error(ErrorCode::kInvalidArgument,
                              "daily summaries: weight outside 0..2.5");
    for (double w : config.infectiousness_weights)
        if (!weight_ok(w))
            return make_error(ErrorCode::kInvalidArgument,
                              "daily summaries: weight outside 0..2.5");
    if (!(config.minimum_window_score >= 0.0))
        return make_error(ErrorCode::kInvalidArgument,
                          "daily summaries: negative minimum window score");
    if (config.days_since_exposure_threshold < 0)
        return make_error(ErrorCode::kInvalidArgument, "daily summaries: negative days threshold");
    return ok();
}

WindowScore window_score(const ExposureWindow& window,
                         const DailySummariesConfig& config) noexcept {
    // As DailySummaryUtils: integer seconds per bucket first, then weighted, bucket by bucket.
    std::array<std::int64_t, 4> seconds{};
    const auto& t = config.attenuation_bucket_threshold_db;
    for (const ScanInstance& s : window.scan_instances) {
        const int a = s.typical_attenuation_db;
        const std::size_t bucket = a <= t[0] ? 0 : a <= t[1] ? 1 : a <= t[2] ? 2 : 3;
        seconds[bucket] += s.seconds_since_last_scan;
    }
    WindowScore r;
    for (std::size_t b = 0; b < seconds.size(); ++b)
        r.weighted_duration +=
            static_cast<double>(seconds[b]) * config.attenuation_bucket_weights[b];

    const auto rt = static_cast<std::size_t>(window.report_type);
    const auto inf = static_cast<std::size_t>(window.infectiousness);
    const double rt_weight = rt < kReportTypeCount ? config.report_type_weights[rt] : 0.0;
    const double inf_weight = inf < kInfectiousnessCount ? config.infectiousness_weights[inf] : 0.0;
    r.score = r.weighted_duration * rt_weight * inf_weight;
    return r;
}

Result<std::vector<DailySummary>> daily_summaries(std::span<const ExposureWindow> windows,
                                                  std::int64_t now_unix,
                                                  const DailySummariesConfig& config) {
    if (auto v = validate_config(config); !v) return v.error();

    const std::int64_t today = detail::floor_div(now_unix, kSecondsPerDay);
    std::map<std::int64_t, DailySummary, std::greater<>> days;  // newest first
    for (const ExposureWindow& w : windows) {
        const auto rt = static_cast<std::size_t>(w.report_type);
        if (rt >= kReportTypeCount || w.report_type == ReportType::kRevoked) continue;
        const std::int64_t day = detail::floor_div(w.date_unix, kSecondsPerDay);
        if (config.days_since_exposure_threshold > 0 &&
            today - day > config.days_since_exposure_threshold)
            continue;

        DailySummary& summary = days[day];
        summary.date_unix = day * kSecondsPerDay;
        const WindowScore s = window_score(w, config);
        if (s.score < config.minimum_window_score) continue;
        add(summary.per_report_type[rt], s.score, s.weighted_duration);
    }

    std::vector<DailySummary> out;
    out.reserve(days.size());
    for (auto& [day, summary] : days) {
        // DailySummaryUtils.createDailySummary: the day's data combines the report types in
        // enum order (so the floating-point sums match GAEN's).
        for (const ExposureSummaryData& d : summary.per_report_type) {
            summary.summary.maximum_score =
                std::max(summary.summary.maximum_score, d.maximum_score);
            summary.summary.score_sum += d.score_sum;
            summary.summary.weighted_duration_sum += d.weighted_duration_sum;
        }
        out.push_back(summary);
    }
    return out;
}

}  // namespace sotto::core
