// The check round: key files streamed into one matching session over the sightings loaded when
// the round opened, then the report and its records. (Moved here from lib/match/check.cpp,
// where check_exposures did the same for a list of paths in one call.)
#include <algorithm>
#include <cstdint>
#include <utility>

#include <sotto/log.hpp>
#include <sotto/match/report.hpp>

#include "tracer/tracer_impl.hpp"

namespace sotto {
namespace {

// One record per day with a CWA result.
std::vector<store::ExposureRecord> records_of(const ExposureResult& report, std::int64_t now_unix) {
    std::vector<store::ExposureRecord> records;
    for (const auto& day : report.risk.days) {
        store::ExposureRecord rec;
        rec.computed_at = now_unix;
        rec.day = static_cast<std::uint32_t>(day.date_unix / core::kSecondsPerDay);
        rec.risk_level = static_cast<int>(day.risk_level);
        rec.weighted_minutes = day.normalized_time;  // CWA: TRL value x weighted minutes
        rec.min_attenuation_db = 255;
        for (const auto& w : report.windows) {
            if (w.date_unix != day.date_unix) continue;
            ++rec.windows;
            for (const auto& s : w.scan_instances)
                rec.min_attenuation_db = std::min(rec.min_attenuation_db, s.min_attenuation_db);
        }
        if (rec.windows == 0) rec.min_attenuation_db = 0;
        records.push_back(rec);
    }
    return records;
}

// The facade's own result types (results.hpp) from lib/match's.
MatchedRpi to_facade(match::RpiMatch&& m) {
    MatchedRpi r;
    r.file_index = m.file_index;
    r.diagnosis_key = std::move(m.diagnosis_key);
    r.rpi = m.rpi;
    r.interval = m.interval;
    r.first_seen = m.first_seen;
    r.last_seen = m.last_seen;
    r.sightings = m.sightings;
    r.rssi_max = m.rssi_max;
    r.metadata = m.metadata;
    r.status = m.status;
    r.reason = m.reason;
    r.metadata_disputed = m.metadata_disputed;
    r.scans = std::move(m.scans);
    r.published_at = m.published_at;
    return r;
}

ExposureResult to_facade(match::ExposureReport&& x) {
    ExposureResult r;
    r.windows = std::move(x.windows);
    r.daily_summaries = std::move(x.daily_summaries);
    r.risk = std::move(x.risk);
    r.encounters.reserve(x.encounters.size());
    for (const match::Encounter& e : x.encounters)
        r.encounters.push_back({e.key_group, e.first_seen, e.last_seen, e.minutes,
                                e.min_attenuation_db, e.typical_attenuation_db, e.report_type,
                                e.infectiousness, e.rpis, e.metadata_disputed});
    r.valid_matches = x.valid_matches;
    r.suspect_matches = x.suspect_matches;
    r.disputed_matches = x.disputed_matches;
    return r;
}

KeyCounters to_facade(const match::SessionCounters& c) { return {c.keys, c.keys_revoked}; }

MatcherCounters to_facade(const core::MatchCounters& c) {
    return {c.keys_checked, c.keys_skipped, c.rpis_derived,
            c.rpis_matched, c.keys_revoked, c.keys_invalid};
}

// The one definition of the words none / low / high (docs/risk.md): days with a CWA level only.
RiskLevel risk_of(const core::CwaRiskResult& r) {
    if (r.number_of_days_with_high_risk > 0) return RiskLevel::kHigh;
    if (r.number_of_days_with_low_risk > 0) return RiskLevel::kLow;
    return RiskLevel::kNone;
}

}  // namespace

Result<void> Tracer::Impl::open_round() {
    const std::int64_t now_unix = clock.now_seconds();
    // What was heard until now takes part. A store that cannot take it (full, locked) must not
    // block the check: the observations stay pending for the next round.
    if (auto f = flush(); !f)
        write_log(LogLevel::kWarning,
                  "tracer: check round opened without the pending observations");

    // The sightings within the store's retention window as seen from `now`: nothing older, and
    // nothing after `now`. Reading only: deleting is the store's retention, not the check's.
    auto from = store::retention_cutoff(now_unix, store.retention_days());
    auto until = core::interval_number(now_unix);
    if (!from || !until) return make_error(ErrorCode::kOutOfRange, "check: now is out of range");
    auto loaded = store.sightings_in_range(*from, static_cast<std::uint64_t>(*until) + 1);
    if (!loaded) return loaded.error();
    auto r = std::make_unique<CheckRound>();
    r->sightings = loaded->size();
    r->opened_at = now_unix;

    auto engine = match::MatchEngine::create(std::move(*loaded), options.engine);
    if (!engine) return engine.error();
    r->engine = std::make_unique<match::MatchEngine>(std::move(*engine));
    r->session = std::make_unique<match::MatchSession>(
        *r->engine, match::SessionOptions{.batch_keys = options.batch_keys});
    // Keys published in files of earlier checks: their first publication decides (a later file
    // republishing a key must not reopen what the earlier one closed).
    auto known = store.key_publications();
    if (!known) return known.error();
    if (auto k = r->session->add_known_publications(*known); !k) return k.error();
    round = std::move(r);
    round_open = true;
    return {};
}

Result<KeyFileOutcome> Tracer::Impl::import(std::string source, const ImportOptions& o,
                                            const Reader& read) {
    std::lock_guard lock(round_mu);
    if (!round)
        if (auto r = open_round(); !r) return r.error();
    auto& session = *round->session;
    const auto f = static_cast<std::uint32_t>(round->files.size());

    KeyFileOutcome out;
    out.source = std::move(source);
    if (o.stop.stop_requested()) {
        round.reset();
        round_open = false;
        return make_error(ErrorCode::kCancelled, "tracer: import cancelled");
    }
    if (auto r = session.begin_file(f); !r) return r.error();
    std::optional<Error> sink_error;
    // The sink must not throw (the reader would blame the file): allocation failures become a
    // sink error, which fails the import with kOutOfMemory.
    auto info = read(o.verify, [&](core::DiagnosisKey&& key) noexcept {
        if (sink_error) return;
        if (o.stop.stop_requested()) {
            sink_error = Error{ErrorCode::kCancelled, "tracer: import cancelled"};
            return;
        }
        try {
            if (auto r = session.add_key(std::move(key)); !r) sink_error = r.error();
        } catch (...) {
            sink_error = Error{ErrorCode::kOutOfMemory, "tracer: out of memory"};
        }
    });
    if (sink_error) {  // the engine failed or the caller cancelled: the round cannot go on
        round.reset();
        round_open = false;
        return *sink_error;
    }
    if (!info && (info.error().code == ErrorCode::kOutOfMemory ||
                  info.error().code == ErrorCode::kInternal)) {
        // Not the file's fault: fail the call, keep the round (the file's keys are dropped).
        if (auto r = session.end_file(false); !r) {
            round.reset();
            round_open = false;
        }
        return info.error();
    }
    if (info) {
        out.status = KeyFileStatus::kMatched;
        if (!info->verified) out.reason = info->signature_error;
        out.info = std::move(*info);
        if (!o.rematch) {
            auto done = store.file_processed(out.info->export_bin_sha256_hex());
            if (!done) return done.error();
            if (*done) {
                out.status = KeyFileStatus::kAlreadyProcessed;
                out.reason.reset();
            }
        }
    } else {
        out.status = KeyFileStatus::kRefused;
        out.reason = info.error();
    }
    switch (out.status) {
        case KeyFileStatus::kRefused:
            counters.files_refused.fetch_add(1, std::memory_order_relaxed);
            write_log(LogLevel::kInfo, "tracer: key file refused");
            break;
        case KeyFileStatus::kAlreadyProcessed:
            counters.files_skipped.fetch_add(1, std::memory_order_relaxed);
            write_log(LogLevel::kInfo, "tracer: key file already processed; skipped");
            break;
        case KeyFileStatus::kMatched:
            counters.files_imported.fetch_add(1, std::memory_order_relaxed);
            write_log_count(LogLevel::kInfo, "tracer: key file imported, keys",
                            out.info->keys_delivered);
            break;
    }
    // Keys of a refused, damaged or skipped file were candidates only: drop whatever they matched.
    // The keys were public from the file's signed end timestamp on; the clock's "now" stands in
    // only for a file without one (match::publication_time, docs/threat-model.md).
    match::FilePublication published{.end_timestamp = std::nullopt,
                                     .obtained_at = clock.now_seconds()};
    if (out.info && out.info->end_timestamp && *out.info->end_timestamp > 0 &&
        *out.info->end_timestamp <= static_cast<std::uint64_t>(INT64_MAX))
        published.end_timestamp = static_cast<std::int64_t>(*out.info->end_timestamp);
    // A verified file skipped as already processed still tells when its keys were published (a
    // store of schema 3 processed files without remembering that).
    auto ended = out.status == KeyFileStatus::kAlreadyProcessed && out.verified()
                     ? session.end_file_publication_only(published)
                     : session.end_file(out.matched(), published);
    if (!ended) return ended.error();
    round->files.push_back(out);
    return out;
}

Result<CheckReport> Tracer::Impl::check() {
    std::lock_guard lock(round_mu);
    CheckReport result;
    const std::int64_t now_unix = clock.now_seconds();
    result.computed_at = now_unix;
    std::unique_ptr<CheckRound> r = std::move(round);
    round_open = false;
    if (!r) {
        auto report = match::build_report({}, now_unix, options.report);
        if (!report) return report.error();
        result.report = to_facade(std::move(*report));
        counters.checks.fetch_add(1, std::memory_order_relaxed);
        if (options.on_check) options.on_check(result);
        return result;
    }

    result.files = std::move(r->files);
    result.sightings = r->sightings;
    auto matches = r->session->take_matches();
    if (!matches) return matches.error();
    result.keys = to_facade(r->session->counters());
    result.matcher = to_facade(r->engine->counters());
    for (const auto& m : *matches)
        if (m.file_index < result.files.size()) ++result.files[m.file_index].matched_rpis;
    auto report = match::build_report(*matches, now_unix, options.report);
    if (!report) return report.error();
    result.report = to_facade(std::move(*report));
    result.matches.reserve(matches->size());
    for (match::RpiMatch& m : *matches) result.matches.push_back(to_facade(std::move(m)));
    result.risk = risk_of(result.report.risk);

    // Recorded once per verified file, never for a round that used unverified keys; records,
    // publications and processed files in one transaction (a crash leaves all or none).
    bool all_verified = true;
    std::vector<store::ProcessedFile> used;
    for (const auto& f : result.files) {
        if (!f.matched()) continue;
        all_verified = all_verified && f.verified();
        used.push_back(
            {f.info->export_bin_sha256_hex(), static_cast<std::uint32_t>(std::min<std::uint64_t>(
                                                  f.info->keys_delivered, UINT32_MAX))});
    }
    if (all_verified && !used.empty()) {
        const auto records = records_of(result.report, now_unix);
        // The first publication of the round's keys, for the checks to come: a file recorded as
        // processed is skipped later, and its keys with it.
        auto published = r->session->publications(/*include_given=*/false);
        if (!published) return published.error();
        auto recorded = store.record_check(records, *published, used, now_unix);
        if (!recorded) return recorded.error();
        result.recorded = *recorded;
    }
    counters.checks.fetch_add(1, std::memory_order_relaxed);
    write_log_count(LogLevel::kInfo, "tracer: check complete, exposure windows",
                    result.report.windows.size());
    if (options.on_check) options.on_check(result);
    return result;
}

}  // namespace sotto
