#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <new>
#include <set>
#include <tuple>

#include <sotto/match/session.hpp>

namespace sotto::match {

MatchSession::MatchSession(MatchEngine& engine, const SessionOptions& options)
    : engine_(engine), options_(options) {
    if (options_.batch_keys == 0) options_.batch_keys = 1;
    batch_.reserve(options_.batch_keys);
}

Result<void> MatchSession::begin_file(std::uint32_t file_index) {
    if (file_open_) return make_error(ErrorCode::kFailedPrecondition, "session: end_file the previous file first");
    file_open_ = true;
    file_index_ = file_index;
    file_counters_ = {};
    batch_.clear();
    file_matches_.clear();
    return ok();
}

Result<void> MatchSession::add_key(core::DiagnosisKey&& key) {
    if (!file_open_) return make_error(ErrorCode::kFailedPrecondition, "session: begin_file first");
    ++file_counters_.keys;
    if (key.report_type == core::ReportType::kRevoked) {
        ++file_counters_.keys_revoked;
        return ok();
    }
    if (options_.now) {
        const auto usable_from = static_cast<std::int64_t>(
            (key.exposure_key.rolling_end() + engine_.options().match.tolerance_intervals) * core::kIntervalSeconds);
        if (*options_.now < usable_from) {
            ++file_counters_.keys_embargoed;
            return ok();
        }
    }
    try {
        batch_.push_back(std::move(key));
        if (batch_.size() >= options_.batch_keys) return flush();
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "session: out of memory");
    }
    return ok();
}

Result<void> MatchSession::flush() {
    if (batch_.empty()) return ok();
    auto hits = engine_.match_keys(batch_, 0);
    if (!hits) return hits.error();
    const auto& sightings = engine_.index().sightings();
    // Matched sightings arrive grouped by key, then RPI interval, each group ordered by time.
    // Consecutive ones with the same outcome become one record.
    const std::size_t first_new = file_matches_.size();
    RpiMatch* open = nullptr;
    std::uint32_t open_key = 0;
    for (const core::MatchedSighting& m : *hits) {
        const core::Sighting& s = sightings[m.sighting_index];
        const bool same = open != nullptr && open_key == m.key_index && open->interval == m.rpi_interval &&
                          open->status == m.status && std::strcmp(open->reason, m.reason) == 0;
        if (!same) {
            RpiMatch r;
            r.file_index = file_index_;
            r.diagnosis_key = batch_[m.key_index].clone();
            r.rpi = s.rpi;
            r.interval = m.rpi_interval;
            r.first_seen = s.first_seen;
            r.last_seen = s.last_seen;
            r.metadata = m.metadata;
            r.status = m.status;
            r.reason = m.reason;
            file_matches_.push_back(std::move(r));
            open = &file_matches_.back();
            open_key = m.key_index;
        }
        open->first_seen = std::min(open->first_seen, s.first_seen);
        open->last_seen = std::max(open->last_seen, s.last_seen);
        open->sightings = open->sightings > UINT32_MAX - s.count ? UINT32_MAX : open->sightings + s.count;
        open->rssi_max = std::max(open->rssi_max, s.rssi_max);
        open->scans.insert(open->scans.end(), s.scans.begin(), s.scans.end());
    }
    for (std::size_t i = first_new; i < file_matches_.size(); ++i)
        std::sort(file_matches_[i].scans.begin(), file_matches_[i].scans.end(),
                  [](const auto& a, const auto& b) { return a.time < b.time; });
    batch_.clear();
    return ok();
}

Result<void> MatchSession::end_file(bool keep) {
    if (!file_open_) return make_error(ErrorCode::kFailedPrecondition, "session: no file to end");
    file_open_ = false;
    try {
        if (auto r = flush(); !r) return r;
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "session: out of memory");
    }
    if (keep) {
        counters_.keys += file_counters_.keys;
        counters_.keys_embargoed += file_counters_.keys_embargoed;
        counters_.keys_revoked += file_counters_.keys_revoked;
        for (auto& m : file_matches_) matches_.push_back(std::move(m));
    }
    file_matches_.clear();
    return ok();
}

std::vector<RpiMatch> MatchSession::take_matches() {
    // The same key published twice (in two files, or twice in one) must not count twice: keep the
    // first record of each (TEK, RPI interval, time, outcome).
    using Id = std::tuple<std::array<std::uint8_t, core::kTekBytes>, core::IntervalNumber, std::int64_t, int>;
    std::set<Id> seen;
    std::vector<RpiMatch> out;
    out.reserve(matches_.size());
    for (auto& m : matches_) {
        std::array<std::uint8_t, core::kTekBytes> tek{};
        const auto bytes = m.diagnosis_key.exposure_key.tek.expose_secret();  // a published key: used as an id only
        std::copy(bytes.begin(), bytes.end(), tek.begin());
        if (seen.emplace(tek, m.interval, m.first_seen, static_cast<int>(m.status)).second) out.push_back(std::move(m));
    }
    matches_.clear();
    return out;
}

}  // namespace sotto::match
