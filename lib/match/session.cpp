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

// Candidates held before the first pruning (see note_publication_candidates).
constexpr std::size_t kFirstPrune = 4096;

Unexpected<Error> out_of_memory() {
    return make_error(ErrorCode::kOutOfMemory, "session: out of memory");
}

using TekId = std::array<std::uint8_t, core::kTekBytes>;

TekId tek_id(const core::DiagnosisKey& k) {
    TekId id{};
    const auto bytes = k.exposure_key.tek.expose_secret();  // a published key: used as an id only
    std::copy(bytes.begin(), bytes.end(), id.begin());
    return id;
}

// Totals of a record recomputed from its scans (after a split, the sighting totals would still
// count the other part's packets).
void totals_from_scans(RpiMatch& r) {
    r.sightings = 0;
    r.rssi_max = -127;
    for (const core::ScanRecord& s : r.scans) {
        r.sightings = r.sightings > UINT32_MAX - s.packets ? UINT32_MAX : r.sightings + s.packets;
        r.rssi_max = std::max(r.rssi_max, s.rssi_max);
    }
}

// The publication rule on one valid record: what was heard after `published` is suspect. Appends
// the record to `out`, split in two when its scans straddle the publication.
void apply_publication_rule(RpiMatch&& m, std::int64_t published, std::vector<RpiMatch>& out) {
    m.published_at = published;
    auto suspect = [](RpiMatch& r) {
        r.status = core::MatchStatus::kSuspect;
        r.reason = kHeardAfterPublication;
    };
    if (m.status != core::MatchStatus::kValid) {
        out.push_back(std::move(m));
        return;
    }
    if (m.first_seen > published || (!m.scans.empty() && m.scans.front().time > published)) {
        suspect(m);
        out.push_back(std::move(m));
        return;
    }
    // Scans are time-ordered: the first one heard after publication splits the record.
    const auto after = std::find_if(m.scans.begin(), m.scans.end(),
                                    [&](const core::ScanRecord& s) { return s.time > published; });
    if (after == m.scans.end()) {
        // Packets after the last kept scan (a sighting keeps at most kMaxScansPerSighting scans)
        // heard after publication: count only what the scans show.
        if (m.last_seen > published && !m.scans.empty()) {
            totals_from_scans(m);
            m.last_seen = std::max(m.first_seen, m.scans.back().time);
        }
        out.push_back(std::move(m));
        return;
    }
    RpiMatch late;
    late.file_index = m.file_index;
    late.diagnosis_key = m.diagnosis_key.clone();
    late.rpi = m.rpi;
    late.interval = m.interval;
    late.first_seen = after->time;
    late.last_seen = std::max(m.last_seen, m.scans.back().time);
    late.metadata = m.metadata;
    late.metadata_disputed = m.metadata_disputed;
    late.published_at = published;
    late.scans.assign(after, m.scans.end());
    suspect(late);
    totals_from_scans(late);
    m.scans.erase(after, m.scans.end());
    totals_from_scans(m);
    m.last_seen = m.scans.empty() ? m.first_seen : std::max(m.first_seen, m.scans.back().time);
    out.push_back(std::move(m));
    out.push_back(std::move(late));
}

}  // namespace

std::optional<std::int64_t> publication_time(const FilePublication& publication) noexcept {
    if (publication.end_timestamp) return publication.end_timestamp;
    return publication.obtained_at;
}

MatchSession::MatchSession(MatchEngine& engine, const SessionOptions& options)
    : engine_(engine),
      options_(options),
      memory_tolerance_(
          std::max(engine.options().match.tolerance_intervals, core::kPublicationMemoryIntervals)) {
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
    file_publications_.clear();
    revoked_batch_.clear();
    file_revoked_.clear();
    max_start_ = 0;
    next_prune_ = kFirstPrune;
    return ok();
}

Result<void> MatchSession::add_key(core::DiagnosisKey&& key) {
    if (!file_open_) return make_error(ErrorCode::kFailedPrecondition, "session: begin_file first");
    try {
        ++file_counters_.keys;
        if (key.report_type == core::ReportType::kRevoked) {
            ++file_counters_.keys_revoked;
            file_revoked_.push_back(tek_id(key));
            revoked_batch_.push_back(std::move(key));
            if (revoked_batch_.size() >= options_.batch_keys) return flush();
            return ok();
        }
        // No embargo: a key still in use may be matched. What it protected against (RPIs forged
        // from a published key) is the publication rule in take_matches.
        batch_.push_back(std::move(key));
    } catch (const std::bad_alloc&) {
        return out_of_memory();
    }
    if (batch_.size() >= options_.batch_keys) return flush();
    return ok();
}

// A key may be remembered at end_file only if it is still forgeable at the file's publication,
// which is not known yet. But a file is published after each of its keys was generated, so the
// publication is not earlier than the largest rolling start of the file: a key whose window end +
// tolerance does not reach past that cannot be forgeable, and is not kept. So only the file's
// recent keys are held (about 1 in 12 of a real daily file), not all of them.
void MatchSession::note_publication_candidates() {
    for (const auto* keys : {&batch_, &revoked_batch_})
        for (const core::DiagnosisKey& key : *keys)
            max_start_ = std::max(max_start_, key.exposure_key.rolling_start);
    const std::int64_t floor = std::int64_t{max_start_} - std::int64_t{memory_tolerance_};
    auto reaches = [&](std::int64_t window_end) { return window_end > floor; };
    if (file_publications_.size() >= next_prune_) {
        std::erase_if(file_publications_,
                      [&](const PendingKey& p) { return !reaches(std::int64_t{p.window_end}); });
        // The next pruning after as many keys again: amortized O(1) per key.
        next_prune_ = std::max<std::size_t>(kFirstPrune, 2 * file_publications_.size());
    }
    for (const auto* keys : {&batch_, &revoked_batch_})
        for (const core::DiagnosisKey& key : *keys) {
            const auto& k = key.exposure_key;
            const std::int64_t end = std::int64_t{k.rolling_start} + std::int64_t{k.rolling_period};
            if (!reaches(end)) continue;
            file_publications_.push_back(
                {tek_id(key),
                 static_cast<core::IntervalNumber>(std::min<std::int64_t>(end, UINT32_MAX))});
        }
    revoked_batch_.clear();
}

Result<void> MatchSession::flush() {
    if (batch_.empty() && revoked_batch_.empty()) return ok();
    try {
        note_publication_candidates();
    } catch (const std::bad_alloc&) {
        return out_of_memory();
    }
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

FilePublication MatchSession::plausible(const FilePublication& publication) const {
    FilePublication p = publication;
    if (p.end_timestamp &&
        *p.end_timestamp < std::int64_t{max_start_} * std::int64_t{core::kIntervalSeconds})
        p.end_timestamp.reset();
    return p;
}

void MatchSession::remember_file(const FilePublication& publication) {
    // When the file's keys became public, for those an RPI could still be forged from. Only a
    // signed end timestamp is remembered beyond the session: a time from the device clock (a file
    // without one) may be wrong, and remembered it would outlive the clock error. Within the
    // session it counts for every file, so a republication cannot hide it.
    const std::optional<std::int64_t> published = publication_time(publication);
    if (!published) return;
    for (const PendingKey& k : file_publications_) {
        if (!core::forgeable_after_publication(k.window_end, memory_tolerance_, *published))
            continue;
        if (publication.end_timestamp) {
            remember({k.tek, k.window_end, *published}, false);
        } else {
            auto [it, added] = clock_earliest_.try_emplace(k.tek, *published);
            if (!added) it->second = std::min(it->second, *published);
        }
    }
}

void MatchSession::finish_file(std::optional<std::int64_t> published) {
    const auto& sightings = engine_.index().sightings();
    // One record per run of hits of one key, RPI interval, outcome and metadata. The engine
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
            r.published_at = published;
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
            const FilePublication p = plausible(publication);
            remember_file(p);
            finish_file(publication_time(p));
            revoked_.insert(file_revoked_.begin(), file_revoked_.end());
        }
    } catch (const std::bad_alloc&) {
        return out_of_memory();
    }
    hits_.clear();
    file_keys_.clear();
    file_publications_.clear();
    file_revoked_.clear();
    return ok();
}

Result<void> MatchSession::end_file_publication_only(const FilePublication& publication) {
    if (!file_open_) return make_error(ErrorCode::kFailedPrecondition, "session: no file to end");
    file_open_ = false;
    if (auto r = flush(); !r) return r;
    try {
        const FilePublication p = plausible(publication);
        if (p.end_timestamp) remember_file(p);  // a skipped file's clock time is long past
    } catch (const std::bad_alloc&) {
        return out_of_memory();
    }
    hits_.clear();
    file_keys_.clear();
    file_publications_.clear();
    file_revoked_.clear();
    return ok();
}

void MatchSession::remember(const core::KeyPublication& p, bool given) {
    auto [it, added] = earliest_.try_emplace(p.tek, Known{p.window_end, p.published_at, given});
    if (!added && p.published_at < it->second.published_at)
        it->second = Known{p.window_end, p.published_at, given};
}

Result<void> MatchSession::add_known_publications(std::span<const core::KeyPublication> known) {
    try {
        for (const core::KeyPublication& p : known) remember(p, true);
    } catch (const std::bad_alloc&) {
        return out_of_memory();
    }
    return ok();
}

Result<std::vector<core::KeyPublication>> MatchSession::publications(bool include_given) const {
    try {
        std::vector<core::KeyPublication> out;
        out.reserve(earliest_.size());
        for (const auto& [tek, k] : earliest_)
            if (include_given || !k.given) out.push_back({tek, k.window_end, k.published_at});
        return out;
    } catch (const std::bad_alloc&) {
        return out_of_memory();
    }
}

Result<std::vector<RpiMatch>> MatchSession::take_matches() {
    try {
        // 1. The publication rule, with the earliest publication known for each key.
        std::vector<RpiMatch> ruled;
        ruled.reserve(matches_.size());
        for (auto& m : matches_) {
            const TekId id = tek_id(m.diagnosis_key);
            if (revoked_.count(id) != 0) continue;  // revoked by a kept file of the session
            std::optional<std::int64_t> published = m.published_at;
            if (auto it = earliest_.find(id); it != earliest_.end())
                if (!published || it->second.published_at < *published)
                    published = it->second.published_at;
            if (auto it = clock_earliest_.find(id); it != clock_earliest_.end())
                if (!published || it->second < *published) published = it->second;
            if (published) {
                apply_publication_rule(std::move(m), *published, ruled);
            } else {
                ruled.push_back(std::move(m));
            }
        }
        matches_.clear();
        // 2. The same key published twice (in two files, or twice in one) must not count twice:
        //    keep the first record of each (TEK, RPI interval, time, outcome).
        using Id = std::tuple<TekId, core::IntervalNumber, std::int64_t, int, core::MetadataBytes>;
        std::set<Id> seen;
        std::vector<RpiMatch> out;
        out.reserve(ruled.size());
        for (auto& m : ruled)
            if (seen.emplace(tek_id(m.diagnosis_key), m.interval, m.first_seen,
                             static_cast<int>(m.status), m.metadata)
                    .second)
                out.push_back(std::move(m));
        return out;
    } catch (const std::bad_alloc&) {
        matches_.clear();
        return out_of_memory();
    }
}

}  // namespace sotto::match
