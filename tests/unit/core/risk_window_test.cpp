// Building GAEN v2 exposure windows from recorded scan records (gaen.md §2.6, §4.2).
#include <algorithm>
#include <catch2/catch.hpp>
#include <sotto/core/exposure_window.hpp>
#include <vector>

#include "support.hpp"

using namespace sotto::core;

namespace {

// 2021-02-22 13:55:00 UTC: a whole minute, well inside the day.
constexpr std::int64_t kT = 1614002100;
constexpr std::int64_t kMidnight = 1613952000;  // 2021-02-22 00:00:00 UTC

ScanRecord scan(std::int64_t t, int rssi_max, int rssi_mean, std::uint16_t packets = 1) {
    ScanRecord r;
    r.time = t;
    r.rssi_max = static_cast<std::int8_t>(rssi_max);
    r.rssi_min = static_cast<std::int8_t>(std::min(rssi_max, rssi_mean));
    r.packets = packets;
    r.rssi_sum = rssi_mean * packets;
    return r;
}

WindowKeyInfo info(int tx = 0) {
    WindowKeyInfo i;
    i.tx_power_dbm = tx;
    i.calibration_confidence = CalibrationConfidence::kMedium;
    i.report_type = ReportType::kConfirmedTest;
    i.infectiousness = Infectiousness::kHigh;
    return i;
}

std::vector<ExposureWindow> build(const std::vector<ScanRecord>& scans,
                                  const WindowKeyInfo& i = info(), const WindowOptions& o = {}) {
    return build_exposure_windows(scans, i, o);
}

std::vector<int> seconds_of(const ExposureWindow& w) {
    std::vector<int> s;
    for (const auto& si : w.scan_instances) s.push_back(si.seconds_since_last_scan);
    return s;
}

}  // namespace

TEST_CASE("Attenuation is TX power minus corrected RSSI, clamped at zero", "[core][risk]") {
    // Real captures from mh-/diagnosis-keys README (gaen-data crypto/extra_vectors.csv, source A).
    CHECK(attenuation_db(-14, -57) == 43);
    CHECK(attenuation_db(-24, -58) == 34);
    // The receiver's calibration is added to the measured RSSI.
    CHECK(attenuation_db(-24, -58, 5) == 29);
    CHECK(attenuation_db(-24, -58, -5) == 39);
    // Negative neighbours: a reading stronger than the TX power is no negative attenuation.
    CHECK(attenuation_db(-24, -24) == 0);
    CHECK(attenuation_db(-24, -20) == 0);
    CHECK(attenuation_db(-24, -30, 10) == 0);
}

TEST_CASE("One scan record gives one window with one scan instance", "[core][risk]") {
    const auto windows = build({scan(kT, -60, -65, 4)}, info(-20));
    REQUIRE(windows.size() == 1);
    const ExposureWindow& w = windows[0];
    CHECK(w.date_unix == kMidnight);
    CHECK(w.report_type == ReportType::kConfirmedTest);
    CHECK(w.infectiousness == Infectiousness::kHigh);
    CHECK(w.calibration_confidence == CalibrationConfidence::kMedium);
    REQUIRE(w.scan_instances.size() == 1);
    CHECK(w.scan_instances[0] == ScanInstance{45, 40, kDefaultSecondsSinceLastScan});
}

TEST_CASE("No scans, or scans without packets, give no windows", "[core][risk]") {
    CHECK(build({}).empty());
    ScanRecord empty = scan(kT, -60, -60);
    empty.packets = 0;
    empty.rssi_sum = 0;
    CHECK(build({empty}).empty());
    // Neighbour: an empty record next to a real one is skipped, the real one counts.
    const auto windows = build({empty, scan(kT + 60, -60, -60)});
    REQUIRE(windows.size() == 1);
    CHECK(windows[0].scan_instances.size() == 1);
}

TEST_CASE("Typical attenuation rounds the mean half up, minimum comes from the strongest packet",
          "[core][risk]") {
    ScanRecord r = scan(kT, -60, -60, 2);
    r.rssi_sum = -121;  // -60 and -61: mean attenuation 60.5 rounds to 61
    auto w = build({r});
    REQUIRE(w.size() == 1);
    CHECK(w[0].scan_instances[0].typical_attenuation_db == 61);
    CHECK(w[0].scan_instances[0].min_attenuation_db == 60);

    r.packets = 3;
    r.rssi_sum = -182;  // mean attenuation 60.67 → 61
    w = build({r});
    CHECK(w[0].scan_instances[0].typical_attenuation_db == 61);
    r.rssi_sum = -181;  // mean attenuation 60.33 → 60
    w = build({r});
    CHECK(w[0].scan_instances[0].typical_attenuation_db == 60);
}

TEST_CASE("The receiver's RSSI correction shifts both attenuations", "[core][risk]") {
    WindowOptions o;
    o.rssi_correction_db = 9;  // e.g. asus ASUS_A001 in Google's calibration table
    const auto w = build({scan(kT, -60, -70)}, info(-25), o);
    REQUIRE(w.size() == 1);
    CHECK(w[0].scan_instances[0].typical_attenuation_db == 36);  // -25 - (-70 + 9)
    CHECK(w[0].scan_instances[0].min_attenuation_db == 26);      // -25 - (-60 + 9)
    // Neighbour: without correction.
    const auto plain = build({scan(kT, -60, -70)}, info(-25));
    CHECK(plain[0].scan_instances[0].typical_attenuation_db == 45);
    CHECK(plain[0].scan_instances[0].min_attenuation_db == 35);
}

TEST_CASE("Attenuations of very strong scans clamp at zero", "[core][risk]") {
    const auto w = build({scan(kT, -10, -14)}, info(-12));
    REQUIRE(w.size() == 1);
    CHECK(w[0].scan_instances[0].typical_attenuation_db == 2);  // -12 - (-14): positive, kept
    CHECK(w[0].scan_instances[0].min_attenuation_db == 0);      // -12 - (-10) = -2: clamped
}

TEST_CASE("Scan records at most 25 s apart merge into one scan instance", "[core][risk]") {
    // Two RPIs of the same key heard in one scan (rotation during the scan): two sightings.
    const auto w = build({scan(kT, -60, -62, 2), scan(kT + 25, -50, -70, 2)});
    REQUIRE(w.size() == 1);
    REQUIRE(w[0].scan_instances.size() == 1);
    CHECK(w[0].scan_instances[0].typical_attenuation_db == 66);  // mean RSSI -66 over 4 packets
    CHECK(w[0].scan_instances[0].min_attenuation_db == 50);
    CHECK(w[0].scan_instances[0].seconds_since_last_scan == kDefaultSecondsSinceLastScan);

    // Negative neighbour: 26 s apart are two scans.
    const auto apart = build({scan(kT, -60, -62), scan(kT + 26, -50, -70)});
    REQUIRE(apart.size() == 1);
    CHECK(apart[0].scan_instances.size() == 2);
}

TEST_CASE("Grouping chains: each record is compared with the one before", "[core][risk]") {
    // As GAEN's sightingInTheSameScanInstance: 0, 20, 40 s is one scan although 40 > 25.
    const auto w = build({scan(kT, -60, -60), scan(kT + 20, -60, -60), scan(kT + 40, -60, -60)});
    REQUIRE(w.size() == 1);
    CHECK(w[0].scan_instances.size() == 1);
}

TEST_CASE("Seconds since last scan counts whole minutes, capped at 5", "[core][risk]") {
    const std::vector<ScanRecord> scans = {
        scan(kT, -60, -60),             // first: unknown previous scan → 120
        scan(kT + 30, -60, -60),        // same minute as the previous → 0
        scan(kT + 90, -60, -60),        // 13:56:30 after 13:55:30 → 60
        scan(kT + 150, -60, -60),       // 13:57:30 → 60
        scan(kT + 150 + 29, -60, -60),  // 13:57:59: 29 s later, new scan, same minute → 0
        scan(kT + 210, -60, -60),       // 13:58:30 after 13:57:59 → 60 (minutes truncate)
        scan(kT + 450, -60, -60),       // 14:02:30 after 13:58:30 → 240
        scan(kT + 1200, -60, -60),      // 14:15 after 14:02:30: 13 minutes → capped at 300
    };
    const auto w = build(scans);
    REQUIRE(w.size() == 1);
    CHECK(seconds_of(w[0]) == std::vector<int>{120, 0, 60, 60, 0, 60, 240, 300});
}

TEST_CASE("A scan 30 minutes after a window's first scan opens a new window", "[core][risk]") {
    const auto w = build({scan(kT, -60, -60), scan(kT + 240, -60, -60), scan(kT + 1799, -60, -60),
                          scan(kT + 1800 + 1799, -60, -60), scan(kT + 1800 + 1799 + 1, -60, -60)});
    // kT + 1799 is still in the first window; kT + 3599 is ≥ 30 min after kT: second window;
    // kT + 3600 would merge with it, but a new window is measured from its own first scan.
    REQUIRE(w.size() == 2);
    CHECK(w[0].scan_instances.size() == 3);
    CHECK(seconds_of(w[0]) == std::vector<int>{120, 240, 300});
    REQUIRE(w[1].scan_instances.size() == 1);
    // The previous scan of the key is in the earlier window: 14:54:59 − 14:24:59 → capped 300.
    CHECK(w[1].scan_instances[0].seconds_since_last_scan == 300);

    // Boundary: 1800 s after the first scan opens a window, 1799 s does not.
    CHECK(build({scan(kT, -60, -60), scan(kT + 1800, -60, -60)}).size() == 2);
    CHECK(build({scan(kT, -60, -60), scan(kT + 1799, -60, -60)}).size() == 1);
}

TEST_CASE("A record that would merge with the previous scan still starts a new window",
          "[core][risk]") {
    // kT + 1790 and kT + 1800 are 10 s apart, but the second is 30 min after the window start.
    const auto w =
        build({scan(kT, -60, -60), scan(kT + 1790, -60, -60), scan(kT + 1800, -50, -50)});
    REQUIRE(w.size() == 2);
    CHECK(w[0].scan_instances.size() == 2);
    REQUIRE(w[1].scan_instances.size() == 1);
    CHECK(w[1].scan_instances[0].min_attenuation_db == 50);
    CHECK(w[1].scan_instances[0].seconds_since_last_scan == 60);  // 14:25:00 after 14:24:50
}

TEST_CASE("Windows are dated by the UTC midnight of their first scan", "[core][risk]") {
    const std::int64_t late = kMidnight + 86400 - 600;                       // 23:50 UTC
    const auto w = build({scan(late, -60, -60), scan(late + 900, -60, -60),  // 00:05 next day
                          scan(late + 1800, -60, -60)});                     // 00:20: new window
    REQUIRE(w.size() == 2);
    CHECK(w[0].date_unix == kMidnight);  // the window keeps the day it started on
    CHECK(w[0].scan_instances.size() == 2);
    CHECK(w[1].date_unix == kMidnight + 86400);
    CHECK(utc_midnight(late) == kMidnight);
    CHECK(utc_midnight(kMidnight) == kMidnight);
    CHECK(utc_midnight(kMidnight - 1) == kMidnight - 86400);
    CHECK(utc_midnight(-1) == -86400);
}

TEST_CASE("Scan records may come in any order", "[core][risk]") {
    std::vector<ScanRecord> scans = {scan(kT, -60, -61), scan(kT + 10, -55, -59),
                                     scan(kT + 300, -70, -72), scan(kT + 2000, -65, -66),
                                     scan(kT + 2200, -64, -64)};
    const auto sorted = build(scans);
    std::reverse(scans.begin(), scans.end());
    CHECK(build(scans) == sorted);
    std::rotate(scans.begin(), scans.begin() + 2, scans.end());
    CHECK(build(scans) == sorted);
    REQUIRE(sorted.size() == 2);
    CHECK(sorted[0].scan_instances.size() == 2);
    CHECK(sorted[1].scan_instances.size() == 2);
}

TEST_CASE("Keys with infectiousness NONE or report type REVOKED give no windows", "[core][risk]") {
    const std::vector<ScanRecord> scans = {scan(kT, -60, -60)};
    WindowKeyInfo i = info();
    i.infectiousness = Infectiousness::kNone;
    CHECK(build(scans, i).empty());
    i = info();
    i.report_type = ReportType::kRevoked;
    CHECK(build(scans, i).empty());
    // Neighbours: STANDARD and RECURSIVE keys do give windows, carrying their values.
    i = info();
    i.infectiousness = Infectiousness::kStandard;
    i.report_type = ReportType::kRecursive;
    const auto w = build(scans, i);
    REQUIRE(w.size() == 1);
    CHECK(w[0].infectiousness == Infectiousness::kStandard);
    CHECK(w[0].report_type == ReportType::kRecursive);
}

TEST_CASE("CWA's mapping: DSOS 1 is STANDARD, DSOS 2 is HIGH, everything else NONE",
          "[core][risk]") {
    const auto m = DiagnosisKeysDataMapping::cwa_defaults();
    REQUIRE(validate_mapping(m));
    CHECK(infectiousness_for(1, m) == Infectiousness::kStandard);
    CHECK(infectiousness_for(2, m) == Infectiousness::kHigh);
    CHECK(infectiousness_for(0, m) == Infectiousness::kNone);
    CHECK(infectiousness_for(3, m) == Infectiousness::kNone);
    CHECK(infectiousness_for(-1, m) == Infectiousness::kNone);
    CHECK(infectiousness_for(std::nullopt, m) == Infectiousness::kNone);
    CHECK(infectiousness_for(3986, m) == Infectiousness::kNone);  // EFGS-style DSOS encoding
    CHECK(m.report_type_when_missing == ReportType::kConfirmedTest);
    CHECK(effective_report_type(ReportType::kUnknown, m) == ReportType::kConfirmedTest);
    CHECK(effective_report_type(ReportType::kSelfReport, m) == ReportType::kSelfReport);
    CHECK(effective_report_type(ReportType::kRecursive, m) == ReportType::kRecursive);
    CHECK(effective_report_type(ReportType::kRevoked, m) == ReportType::kRevoked);
    CHECK(effective_report_type(static_cast<ReportType>(9), m) == ReportType::kConfirmedTest);
}

TEST_CASE("DSOS beyond ±14 counts as missing", "[core][risk]") {
    DiagnosisKeysDataMapping m;
    m.days_since_onset_to_infectiousness.fill(Infectiousness::kStandard);
    m.infectiousness_when_dsos_missing = Infectiousness::kHigh;
    CHECK(infectiousness_for(-14, m) == Infectiousness::kStandard);
    CHECK(infectiousness_for(14, m) == Infectiousness::kStandard);
    CHECK(infectiousness_for(-15, m) == Infectiousness::kHigh);
    CHECK(infectiousness_for(15, m) == Infectiousness::kHigh);
    CHECK(infectiousness_for(std::nullopt, m) == Infectiousness::kHigh);
}

TEST_CASE("A mapping must name a known report type for keys without one", "[core][risk]") {
    DiagnosisKeysDataMapping m = DiagnosisKeysDataMapping::cwa_defaults();
    CHECK(validate_mapping(m));
    m.report_type_when_missing = ReportType::kUnknown;
    CHECK(validate_mapping(m).error().code == sotto::ErrorCode::kInvalidArgument);
    m = DiagnosisKeysDataMapping::cwa_defaults();
    m.days_since_onset_to_infectiousness[3] = static_cast<Infectiousness>(7);
    CHECK_FALSE(validate_mapping(m));
}

TEST_CASE("Window key info comes from the key, its metadata and the mapping", "[core][risk]") {
    DiagnosisKey key;
    key.report_type = ReportType::kUnknown;
    key.days_since_onset = 2;
    Metadata md;
    md.minor_version = 1;
    md.tx_power_dbm = -18;
    md.calibration_confidence = CalibrationConfidence::kHigh;
    const WindowKeyInfo i = window_key_info(key, md, DiagnosisKeysDataMapping::cwa_defaults());
    CHECK(i.tx_power_dbm == -18);
    CHECK(i.calibration_confidence == CalibrationConfidence::kHigh);
    CHECK(i.report_type == ReportType::kConfirmedTest);
    CHECK(i.infectiousness == Infectiousness::kHigh);
    // Neighbour: a CWA key of DSOS 3 has no infectiousness, so no windows.
    key.days_since_onset = 3;
    const WindowKeyInfo none = window_key_info(key, md, DiagnosisKeysDataMapping::cwa_defaults());
    CHECK(none.infectiousness == Infectiousness::kNone);
    CHECK(build({scan(kT, -60, -60)}, none).empty());
}
