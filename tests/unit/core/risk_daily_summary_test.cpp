// GAEN DailySummaries (gaen.md §4.3; internals DailySummaryUtils.java), hand-computed cases.
#include <catch2/catch.hpp>
#include <limits>
#include <sotto/core/daily_summary.hpp>
#include <vector>

#include "support.hpp"

using namespace sotto::core;

namespace {

constexpr std::int64_t kDay = 1614816000;  // 2021-03-04 00:00:00 UTC
constexpr std::int64_t kNow = kDay + 12 * 3600;

ExposureWindow window(std::int64_t date, std::vector<ScanInstance> scans,
                      ReportType rt = ReportType::kConfirmedTest,
                      Infectiousness inf = Infectiousness::kStandard) {
    ExposureWindow w;
    w.date_unix = date;
    w.report_type = rt;
    w.infectiousness = inf;
    w.scan_instances = std::move(scans);
    return w;
}

// n scans of `seconds` each at typical attenuation `typical`.
std::vector<ScanInstance> scans(int n, int typical, int seconds = 300) {
    return std::vector<ScanInstance>(static_cast<std::size_t>(n),
                                     ScanInstance{typical, typical, seconds});
}

std::vector<DailySummary> summarize(const std::vector<ExposureWindow>& windows,
                                    const DailySummariesConfig& config = {}) {
    auto r = daily_summaries(windows, kNow, config);
    REQUIRE(r.has_value());
    return *r;
}

}  // namespace

TEST_CASE("Fifteen minutes with all weights 1.0 is 900", "[core][risk][daily_summary]") {
    const auto days = summarize({window(kDay, scans(3, 45))});
    REQUIRE(days.size() == 1);
    CHECK(days[0].date_unix == kDay);
    CHECK(days[0].summary == ExposureSummaryData{900.0, 900.0, 900.0});
    const auto ct = static_cast<std::size_t>(ReportType::kConfirmedTest);
    CHECK(days[0].per_report_type[ct] == ExposureSummaryData{900.0, 900.0, 900.0});
    for (std::size_t rt = 0; rt < kReportTypeCount; ++rt)
        if (rt != ct) CHECK(days[0].per_report_type[rt] == ExposureSummaryData{});
}

TEST_CASE("CWA's daily summaries config is the default one", "[core][risk][daily_summary]") {
    const DailySummariesConfig c = DailySummariesConfig::cwa_defaults();
    CHECK(c == DailySummariesConfig{});
    CHECK(c.attenuation_bucket_threshold_db == std::array<int, 3>{30, 50, 70});
    CHECK(c.attenuation_bucket_weights == std::array<double, 4>{1.0, 1.0, 1.0, 1.0});
    CHECK(c.report_type_weights == std::array<double, 6>{0.0, 1.0, 1.0, 1.0, 1.0, 0.0});
    CHECK(c.infectiousness_weights == std::array<double, 3>{0.0, 1.0, 1.0});
    CHECK(c.minimum_window_score == 0.0);
    CHECK(c.days_since_exposure_threshold == 0);
    CHECK(validate_config(c));
}

TEST_CASE("Attenuation buckets include their upper threshold", "[core][risk][daily_summary]") {
    DailySummariesConfig c;
    c.attenuation_bucket_weights = {2.0, 1.0, 0.5, 0.0};
    // typical 30 → immediate (t0 inclusive), 31 and 50 → near, 51 and 70 → medium, 71 → other.
    const std::vector<ScanInstance> s = {{30, 0, 60}, {31, 0, 60}, {50, 0, 60},
                                         {51, 0, 60}, {70, 0, 60}, {71, 0, 60}};
    const WindowScore ws = window_score(window(kDay, s), c);
    CHECK(ws.weighted_duration == 60 * 2.0 + 120 * 1.0 + 120 * 0.5 + 60 * 0.0);
    CHECK(ws.score == ws.weighted_duration);

    // Buckets use the typical attenuation, not the minimum: min 0 above changed nothing.
    const WindowScore near = window_score(window(kDay, {{31, 10, 60}}), c);
    CHECK(near.weighted_duration == 60.0);
    const WindowScore immediate = window_score(window(kDay, {{29, 60, 60}}), c);
    CHECK(immediate.weighted_duration == 120.0);
}

TEST_CASE("Report type and infectiousness weights scale the score, not the duration",
          "[core][risk][daily_summary]") {
    DailySummariesConfig c;
    c.report_type_weights[static_cast<std::size_t>(ReportType::kSelfReport)] = 2.0;
    c.infectiousness_weights[static_cast<std::size_t>(Infectiousness::kHigh)] = 1.5;
    const auto days =
        summarize({window(kDay, scans(2, 40), ReportType::kSelfReport, Infectiousness::kHigh),
                   window(kDay, scans(1, 40), ReportType::kConfirmedTest)},
                  c);
    REQUIRE(days.size() == 1);
    // Self report: 600 s × 2.0 × 1.5 = 1800; confirmed test: 300 s × 1 × 1 = 300.
    CHECK(days[0].per_report_type[static_cast<std::size_t>(ReportType::kSelfReport)] ==
          ExposureSummaryData{1800.0, 1800.0, 600.0});
    CHECK(days[0].per_report_type[static_cast<std::size_t>(ReportType::kConfirmedTest)] ==
          ExposureSummaryData{300.0, 300.0, 300.0});
    CHECK(days[0].summary == ExposureSummaryData{1800.0, 2100.0, 900.0});
}

TEST_CASE("Windows scoring below the minimum are left out, equal ones kept",
          "[core][risk][daily_summary]") {
    DailySummariesConfig c;
    c.minimum_window_score = 600.0;
    const std::vector<ExposureWindow> ws = {window(kDay, scans(2, 40)), window(kDay, scans(1, 40))};
    auto days = summarize(ws, c);
    REQUIRE(days.size() == 1);
    CHECK(days[0].summary == ExposureSummaryData{600.0, 600.0, 600.0});  // the 300 one is dropped

    // Nothing reaches the minimum: GAEN still lists the day, with zeros.
    c.minimum_window_score = 601.0;
    days = summarize(ws, c);
    REQUIRE(days.size() == 1);
    CHECK(days[0].date_unix == kDay);
    CHECK(days[0].summary == ExposureSummaryData{});
}

TEST_CASE("Days are listed newest first, windows of one day summed",
          "[core][risk][daily_summary]") {
    const auto days =
        summarize({window(kDay - 2 * 86400, scans(1, 40)), window(kDay, scans(1, 40)),
                   window(kDay, scans(2, 60)), window(kDay - 86400, scans(1, 80, 120))});
    REQUIRE(days.size() == 3);
    CHECK(days[0].date_unix == kDay);
    CHECK(days[0].summary == ExposureSummaryData{600.0, 900.0, 900.0});
    CHECK(days[1].date_unix == kDay - 86400);
    CHECK(days[1].summary == ExposureSummaryData{120.0, 120.0, 120.0});
    CHECK(days[2].date_unix == kDay - 2 * 86400);
}

TEST_CASE("The days-since-exposure threshold drops older days, 0 keeps all",
          "[core][risk][daily_summary]") {
    const std::vector<ExposureWindow> ws = {window(kDay - 3 * 86400, scans(1, 40)),
                                            window(kDay - 14 * 86400, scans(1, 40))};
    DailySummariesConfig c;
    CHECK(summarize(ws, c).size() == 2);
    c.days_since_exposure_threshold = 3;  // 3 days ago is kept
    auto days = summarize(ws, c);
    REQUIRE(days.size() == 1);
    CHECK(days[0].date_unix == kDay - 3 * 86400);
    c.days_since_exposure_threshold = 2;  // 3 days ago is too old
    CHECK(summarize(ws, c).empty());
}

TEST_CASE("Revoked windows never reach a summary", "[core][risk][daily_summary]") {
    CHECK(summarize({window(kDay, scans(1, 40), ReportType::kRevoked)}).empty());
    // Neighbour: RECURSIVE counts (weight 1.0 in CWA's config); UNKNOWN weighs 0.
    auto days = summarize({window(kDay, scans(1, 40), ReportType::kRecursive)});
    REQUIRE(days.size() == 1);
    CHECK(days[0].summary.score_sum == 300.0);
    days = summarize({window(kDay, scans(1, 40), ReportType::kUnknown)});
    REQUIRE(days.size() == 1);
    CHECK(days[0].summary.score_sum == 0.0);
    CHECK(days[0].summary.weighted_duration_sum == 300.0);
}

TEST_CASE("Invalid daily summaries configs are refused", "[core][risk][daily_summary]") {
    const std::vector<ExposureWindow> ws = {window(kDay, scans(1, 40))};
    auto refused = [&](const DailySummariesConfig& c) {
        CHECK_FALSE(validate_config(c));
        auto r = daily_summaries(ws, kNow, c);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == sotto::ErrorCode::kInvalidArgument);
    };
    DailySummariesConfig c;
    c.attenuation_bucket_threshold_db = {30, 30, 70};
    refused(c);
    c.attenuation_bucket_threshold_db = {30, 50, 256};
    refused(c);
    c.attenuation_bucket_threshold_db = {-1, 50, 70};
    refused(c);
    c = {};
    c.attenuation_bucket_weights[2] = 2.6;
    refused(c);
    c = {};
    c.report_type_weights[1] = -0.1;
    refused(c);
    c = {};
    c.infectiousness_weights[2] = std::numeric_limits<double>::quiet_NaN();
    refused(c);
    c = {};
    c.minimum_window_score = -1.0;
    refused(c);
    c = {};
    c.days_since_exposure_threshold = -1;
    refused(c);
    // Neighbours at the limits are fine.
    c = {};
    c.attenuation_bucket_threshold_db = {0, 1, 255};
    c.attenuation_bucket_weights = {2.5, 0.0, 2.5, 0.0};
    CHECK(validate_config(c));
}
