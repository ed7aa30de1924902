#include <algorithm>
#include <sotto/core/exposure_window.hpp>
#include <vector>

#include "risk_math.hpp"

namespace sotto::core {
namespace {

bool valid(Infectiousness i) noexcept { return static_cast<unsigned>(i) <= 2u; }
bool valid(ReportType r) noexcept { return static_cast<unsigned>(r) <= 5u; }

// One scan instance being assembled from one or more scan records.
struct PendingInstance {
    std::int64_t packets = 0;
    std::int64_t rssi_sum = 0;
    int rssi_max = kMinRssiDbm;
    int seconds_since_last_scan = 0;

    void add(const ScanRecord& r) noexcept {
        packets += r.packets;
        rssi_sum += r.rssi_sum;
        rssi_max = std::max(rssi_max, static_cast<int>(r.rssi_max));
    }
};

ScanInstance finish(const PendingInstance& p, int tx_power_dbm, int rssi_correction_db) noexcept {
    // Typical attenuation: GAEN takes Math.round (half up) of the mean attenuation. The mean
    // attenuation is (tx − corr) − mean RSSI = n / packets; round half up = ⌊(2n + d) / 2d⌋.
    const std::int64_t d = p.packets;
    const std::int64_t n =
        static_cast<std::int64_t>(tx_power_dbm - rssi_correction_db) * d - p.rssi_sum;
    const std::int64_t typical = detail::floor_div(2 * n + d, 2 * d);
    ScanInstance s;
    s.typical_attenuation_db = static_cast<int>(std::max<std::int64_t>(typical, 0));
    s.min_attenuation_db = attenuation_db(tx_power_dbm, p.rssi_max, rssi_correction_db);
    s.seconds_since_last_scan = p.seconds_since_last_scan;
    return s;
}

// GAEN SightingRecordWithMetadata.secondsSinceLastScan: whole minutes between the two times
// (each truncated to its minute), capped at 5; 2 minutes when the previous scan is unknown.
int seconds_since_last_scan(const std::optional<std::int64_t>& prev, std::int64_t t) noexcept {
    if (!prev) return kDefaultSecondsSinceLastScan;
    const std::int64_t minutes = detail::floor_div(t, 60) - detail::floor_div(*prev, 60);
    return static_cast<int>(std::clamp<std::int64_t>(minutes, 0, kMaxSecondsSinceLastScan / 60)) *
           60;
}

}  // namespace

DiagnosisKeysDataMapping DiagnosisKeysDataMapping::cwa_defaults() noexcept {
    DiagnosisKeysDataMapping m;
    m.days_since_onset_to_infectiousness.fill(Infectiousness::kNone);
    m.days_since_onset_to_infectiousness[kMaxDaysSinceOnset + 1] = Infectiousness::kStandard;
    m.days_since_onset_to_infectiousness[kMaxDaysSinceOnset + 2] = Infectiousness::kHigh;
    m.infectiousness_when_dsos_missing = Infectiousness::kNone;
    m.report_type_when_missing = ReportType::kConfirmedTest;
    return m;
}

Result<void> validate_mapping(const DiagnosisKeysDataMapping& mapping) noexcept {
    for (Infectiousness i : mapping.days_since_onset_to_infectiousness)
        if (!valid(i))
            return make_error(ErrorCode::kInvalidArgument, "mapping: infectiousness out of range");
    if (!valid(mapping.infectiousness_when_dsos_missing))
        return make_error(ErrorCode::kInvalidArgument, "mapping: infectiousness out of range");
    if (!valid(mapping.report_type_when_missing) ||
        mapping.report_type_when_missing == ReportType::kUnknown)
        return make_error(ErrorCode::kInvalidArgument,
                          "mapping: report type when missing must be known");
    return ok();
}

Infectiousness infectiousness_for(std::optional<std::int32_t> days_since_onset,
                                  const DiagnosisKeysDataMapping& mapping) noexcept {
    if (!days_since_onset || *days_since_onset < -kMaxDaysSinceOnset ||
        *days_since_onset > kMaxDaysSinceOnset)
        return mapping.infectiousness_when_dsos_missing;
    return mapping.days_since_onset_to_infectiousness[static_cast<std::size_t>(*days_since_onset +
                                                                               kMaxDaysSinceOnset)];
}

Infectiousness infectiousness_for(const DiagnosisKey& key,
                                  const DiagnosisKeysDataMapping& mapping) noexcept {
    return infectiousness_for(key.days_since_onset, mapping);
}

ReportType effective_report_type(ReportType reported,
                                 const DiagnosisKeysDataMapping& mapping) noexcept {
    if (!valid(reported) || reported == ReportType::kUnknown)
        return mapping.report_type_when_missing;
    return reported;
}

ReportType effective_report_type(const DiagnosisKey& key,
                                 const DiagnosisKeysDataMapping& mapping) noexcept {
    return effective_report_type(key.report_type, mapping);
}

WindowKeyInfo window_key_info(const DiagnosisKey& key, const Metadata& metadata,
                              const DiagnosisKeysDataMapping& mapping) noexcept {
    WindowKeyInfo info;
    info.tx_power_dbm = metadata.tx_power_dbm;
    info.calibration_confidence = metadata.calibration_confidence;
    info.report_type = effective_report_type(key, mapping);
    info.infectiousness = infectiousness_for(key, mapping);
    return info;
}

std::vector<ExposureWindow> build_exposure_windows(std::span<const ScanRecord> scans,
                                                   const WindowKeyInfo& info,
                                                   const WindowOptions& options) {
    std::vector<ExposureWindow> windows;
    if (info.infectiousness == Infectiousness::kNone || info.report_type == ReportType::kRevoked)
        return windows;

    std::vector<ScanRecord> records;
    records.reserve(scans.size());
    for (const ScanRecord& r : scans)
        if (r.packets > 0) records.push_back(r);
    std::stable_sort(records.begin(), records.end(),
                     [](const ScanRecord& a, const ScanRecord& b) { return a.time < b.time; });

    std::int64_t window_start = 0;
    std::optional<std::int64_t> prev_time;  // previous record of this key
    std::optional<PendingInstance> pending;
    auto flush = [&] {
        if (pending)
            windows.back().scan_instances.push_back(
                finish(*pending, info.tx_power_dbm, options.rssi_correction_db));
        pending.reset();
    };

    for (const ScanRecord& r : records) {
        if (windows.empty() || r.time - window_start >= kExposureWindowSeconds) {
            // KeyExposureEvaluator.shouldStartNewExposureWindow: a new window always starts a
            // new scan instance.
            if (!windows.empty()) flush();
            ExposureWindow w;
            w.date_unix = utc_midnight(r.time);
            w.report_type = info.report_type;
            w.infectiousness = info.infectiousness;
            w.calibration_confidence = info.calibration_confidence;
            windows.push_back(std::move(w));
            window_start = r.time;
        } else if (pending && prev_time && r.time - *prev_time <= kScanGroupSeconds) {
            // KeyExposureEvaluator.sightingInTheSameScanInstance.
            pending->add(r);
            prev_time = r.time;
            continue;
        } else {
            flush();
        }
        pending.emplace();
        pending->add(r);
        pending->seconds_since_last_scan = seconds_since_last_scan(prev_time, r.time);
        prev_time = r.time;
    }
    if (!windows.empty()) flush();
    return windows;
}

}  // namespace sotto::core
