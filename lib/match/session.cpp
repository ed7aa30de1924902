#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <new>
#include <set>
#include <tuple>

#include <sotto/match/session.hpp>

namespace sotto::match {
namespace {

constexpr char kHeardAfterPublication[] = "heard after the key was published";

Unexpected<Error> out_of_memory() {
    return make_error(ErrorCode::kOutOfMemory, "session: out of memory");
}

}  // namespace

MatchSession::MatchSession(MatchEngine& engine, const SessionOptions& options)
    : engine_(engine), options_(options) {
    if (options_.batch_keys == 0) options_.batch_keys = 1;
}

Result<void> MatchSession::begin_file(std::uint32_t file_index) {
    if (file_open_)
        return make_error(ErrorCode::kFailedPrecondition,
                          "session: end_file the previous file first");
    file_open_ = true;
    file_index_ = file_index;
    file_counters_ = {};
    batch_.clear();
    file_keys_.clear();
    hits_.clear();
    return ok();
}

Result<void> MatchSession::add_key(core::DiagnosisKey&& key) {
    if (!file_open_) return make_error(ErrorCode::kFailedPrecondition, "session: begin_file first");
    try {
        ++file_counters_.keys;
        if (key.report_type == core::ReportType::kRevoked) {
            ++file_counters_.keys_revoked;
            return ok();
        }
        // No embargo: a key still in use may be matched. What it protected against (RPIs forged
        // from a published key) is the publication rule in end_file.
        batch_.push_back(std::move(key));
    } catch (const std::bad_alloc&) {
        return out_of_memory();
    }
    if (batch_.size() >= options_.batch_keys) return flush();
    return ok();
}

Result<void> MatchSession::flush() {
    if (batch_.empty()) return ok();
    auto hits = engine_.match_keys(batch_, 0);
    if (!hits) return hits.error();
    try {
        // Keep the keys that matched; the hits point at them.
        std::uint32_t last_key = UINT32_MAX;
        for (core::MatchedSighting m : *hits) {
            if (m.key_index != last_key) {
                last_key = m.key_index;
                file_keys_.push_back(batch_[m.key_index].clone());
            }
            m.key_index = static_cast<std::uint32_t>(file_keys_.size() - 1);
            hits_.push_back(m);
        }
    } catch (const std::bad_alloc&) {
        return out_of_memory();
    }
    batch_.clear();
    return ok();
}

void MatchSession::finish_file(const FilePublication& publication) {
    const auto& sightings = engine_.index().sightings();
    // 1. Heard after the key was certainly public: anyone could have computed the RPI by then.
    std::optional<std::int64_t> published = publication.end_timestamp;
    if (publication.obtained_at && (!published || *publication.obtained_at < *published))
        published = publication.obtained_at;
    if (published) {
        for (core::MatchedSighting& m : hits_) {
            if (m.status != core::MatchStatus::kValid) continue;
            if (sightings[m.sighting_index].first_seen > *published) {
                m.status = core::MatchStatus::kSuspect;
                m.reason = kHeardAfterPublication;
            }
        }
    }
    // 2. One record per run of hits of one key, RPI interval, outcome and metadata. The engine
    //    delivers them grouped by key, then RPI interval, each group ordered by time.
    const std::size_t first_new = matches_.size();
    RpiMatch* open = nullptr;
    std::uint32_t open_key = 0;
    for (const core::MatchedSighting& m : hits_) {
        const core::Sighting& s = sightings[m.sighting_index];
        const bool same =
            open != nullptr && open_key == m.key_index && open->interval == m.rpi_interval &&
            open->status == m.status && std::strcmp(open->reason, m.reason) == 0 &&
            open->metadata == m.metadata && open->metadata_disputed == m.metadata_disputed;
        if (!same) {
            RpiMatch r;
            r.file_index = file_index_;
            r.diagnosis_key = file_keys_[m.key_index].clone();
            r.rpi = s.rpi;
            r.interval = m.rpi_interval;
            r.first_seen = s.first_seen;
            r.last_seen = s.last_seen;
            r.metadata = m.metadata;
            r.status = m.status;
            r.reason = m.reason;
            r.metadata_disputed = m.metadata_disputed;
            matches_.push_back(std::move(r));
            open = &matches_.back();
            open_key = m.key_index;
        }
        open->first_seen = std::min(open->first_seen, s.first_seen);
        open->last_seen = std::max(open->last_seen, s.last_seen);
        open->sightings =
            open->sightings > UINT32_MAX - s.count ? UINT32_MAX : open->sightings + s.count;
        open->rssi_max = std::max(open->rssi_max, s.rssi_max);
        open->scans.insert(open->scans.end(), s.scans.begin(), s.scans.end());
    }
    for (std::size_t i = first_new; i < matches_.size(); ++i)
        std::sort(matches_[i].scans.begin(), matches_[i].scans.end(),
                  [](const auto& a, const auto& b) { return a.time < b.time; });
}

Result<void> MatchSession::end_file(bool keep, const FilePublication& publication) {
    if (!file_open_) return make_error(ErrorCode::kFailedPrecondition, "session: no file to end");
    file_open_ = false;
    if (auto r = flush(); !r) return r;
    try {
        if (keep) {
            counters_.keys += file_counters_.keys;
            counters_.keys_revoked += file_counters_.keys_revoked;
            finish_file(publication);
        }
    } catch (const std::bad_alloc&) {
        return out_of_memory();
    }
    hits_.clear();
    file_keys_.clear();
    return ok();
}

std::vector<RpiMatch> MatchSession::take_matches() {
    // The same key published twice (in two files, or twice in one) must not count twice: keep the
    // first record of each (TEK, RPI interval, time, outcome).
    using Id = std::tuple<std::array<std::uint8_t, core::kTekBytes>, core::IntervalNumber,
                          std::int64_t, int, core::MetadataBytes>;
    std::set<Id> seen;
    std::vector<RpiMatch> out;
    out.reserve(matches_.size());
    for (auto& m : matches_) {
        std::array<std::uint8_t, core::kTekBytes> tek{};
        const auto bytes = m.diagnosis_key.exposure_key.tek
                               .expose_secret();  // a published key: used as an id only
        std::copy(bytes.begin(), bytes.end(), tek.begin());
        if (seen.emplace(tek, m.interval, m.first_seen, static_cast<int>(m.status), m.metadata)
                .second)
            out.push_back(std::move(m));
    }
    matches_.clear();
    return out;
}

}  // namespace sotto::match
