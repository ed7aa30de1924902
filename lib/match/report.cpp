#include <algorithm>
#include <new>

#include <sotto/match/report.hpp>

namespace sotto::match {
namespace {

// Matches of one key that share decrypted metadata (TX power, calibration) go into one window set.
// Copies of an RPI with other (disputed) metadata form their own group, so a packet is only ever
// scored with the TX power it carried: a forged copy cannot change the genuine packets'
// attenuation.
struct Group {
    const RpiMatch* first = nullptr;
    std::vector<core::ScanRecord> scans;
    std::size_t rpis = 0;
    std::int64_t first_seen = 0, last_seen = 0;
    bool disputed = false;
};

}  // namespace

Result<ExposureReport> build_report(const std::vector<RpiMatch>& matches, std::int64_t now_unix,
                                    const ReportOptions& options) try {
    ExposureReport report;
    std::vector<Group> groups;
    for (const RpiMatch& m : matches) {
        if (m.status != core::MatchStatus::kValid) {
            ++report.suspect_matches;
            continue;
        }
        ++report.valid_matches;
        if (m.metadata_disputed) ++report.disputed_matches;
        auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
            return g.first->diagnosis_key.exposure_key.tek == m.diagnosis_key.exposure_key.tek &&
                   g.first->metadata == m.metadata;
        });
        if (it == groups.end()) {
            groups.push_back({&m, {}, 0, m.first_seen, m.last_seen});
            it = groups.end() - 1;
        }
        it->scans.insert(it->scans.end(), m.scans.begin(), m.scans.end());
        ++it->rpis;
        it->disputed = it->disputed || m.metadata_disputed;
        it->first_seen = std::min(it->first_seen, m.first_seen);
        it->last_seen = std::max(it->last_seen, m.last_seen);
    }

    for (std::size_t g = 0; g < groups.size(); ++g) {
        const Group& group = groups[g];
        auto md = core::decode_metadata(group.first->metadata);
        if (!md) continue;  // valid matches carry well-formed metadata; be safe anyway
        const auto info = core::window_key_info(group.first->diagnosis_key, *md, options.mapping);
        auto windows = core::build_exposure_windows(group.scans, info, options.window);
        if (windows.empty()) continue;  // infectiousness NONE (or revoked)
        Encounter e;
        e.key_group = g;
        e.report_type = windows.front().report_type;
        e.infectiousness = windows.front().infectiousness;
        e.rpis = group.rpis;
        e.metadata_disputed = group.disputed;
        e.first_seen = group.first_seen;
        e.last_seen = group.last_seen;
        e.min_attenuation_db = 255;
        long weighted = 0, seconds = 0;
        for (const auto& w : windows)
            for (const auto& s : w.scan_instances) {
                e.min_attenuation_db = std::min(e.min_attenuation_db, s.min_attenuation_db);
                weighted += static_cast<long>(s.typical_attenuation_db) * s.seconds_since_last_scan;
                seconds += s.seconds_since_last_scan;
            }
        e.minutes = static_cast<int>(seconds / 60);
        e.typical_attenuation_db =
            seconds > 0 ? static_cast<int>((weighted + seconds / 2) / seconds) : 0;
        report.encounters.push_back(e);
        report.windows.insert(report.windows.end(), windows.begin(), windows.end());
    }
    std::stable_sort(
        report.encounters.begin(), report.encounters.end(),
        [](const Encounter& a, const Encounter& b) { return a.first_seen < b.first_seen; });

    auto risk = core::compute_cwa_risk(report.windows, now_unix, options.cwa);
    if (!risk) return risk.error();
    report.risk = std::move(*risk);
    auto summaries = core::daily_summaries(report.windows, now_unix, options.summaries);
    if (!summaries) return summaries.error();
    report.daily_summaries = std::move(*summaries);
    return report;
} catch (const std::bad_alloc&) {
    return make_error(ErrorCode::kOutOfMemory, "report: out of memory");
}

}  // namespace sotto::match
