#include <algorithm>
#include <cstdint>

#include <sotto/match/check.hpp>

namespace sotto::match {

Result<CheckResult> check_exposures(store::EncounterStore& store,
                                    std::span<const std::filesystem::path> files,
                                    const keyfile::TrustStore& trust, std::int64_t now_unix,
                                    const CheckOptions& options) {
    CheckResult result;
    // The sightings within the store's retention window as seen from `now`: nothing older, and
    // nothing after `now` (when old captures are replayed with an earlier `now`). Reading only:
    // deleting is the store's retention, not the check's business.
    auto from = store::retention_cutoff(now_unix, store.retention_days());
    auto until = core::interval_number(now_unix);
    if (!from || !until) return make_error(ErrorCode::kOutOfRange, "check: now is out of range");
    auto loaded = store.sightings_in_range(*from, static_cast<std::uint64_t>(*until) + 1);
    if (!loaded) return loaded.error();
    std::vector<core::Sighting> sightings = std::move(*loaded);
    result.sightings = sightings.size();

    auto engine = MatchEngine::create(std::move(sightings), options.engine);
    if (!engine) return engine.error();
    MatchSession session(*engine, {.batch_keys = options.batch_keys});

    for (std::uint32_t f = 0; f < files.size(); ++f) {
        FileOutcome out;
        out.path = files[f];
        if (auto r = session.begin_file(f); !r) return r.error();
        Error sink_error{ErrorCode::kOk, ""};
        auto info = keyfile::read_export_file(
            files[f], trust, options.verify,
            [&](core::DiagnosisKey&& key) {
                if (sink_error.code != ErrorCode::kOk) return;
                if (auto r = session.add_key(std::move(key)); !r) sink_error = r.error();
            },
            options.read);
        if (sink_error.code != ErrorCode::kOk) return sink_error;  // the engine failed: not the file
        if (info) {
            out.read = true;
            out.verified = info->verified;
            out.matched = true;
            out.info = std::move(*info);
            if (!out.verified) out.error = out.info.signature_error;
        } else {
            out.error = info.error();
        }
        // Keys of a refused or damaged file were candidates only: drop whatever they matched.
        // The device has the file now at the latest; its keys were public from its end timestamp.
        FilePublication published{.end_timestamp = std::nullopt, .obtained_at = now_unix};
        if (out.read && out.info.end_timestamp && *out.info.end_timestamp > 0 &&
            *out.info.end_timestamp <= static_cast<std::uint64_t>(INT64_MAX))
            published.end_timestamp = static_cast<std::int64_t>(*out.info.end_timestamp);
        if (auto r = session.end_file(out.matched, published); !r) return r.error();
        result.files.push_back(std::move(out));
    }

    result.matches = session.take_matches();
    result.keys = session.counters();
    result.matcher = engine->counters();
    auto report = build_report(result.matches, now_unix, options.report);
    if (!report) return report.error();
    result.report = std::move(*report);

    if (options.record_results) {
        // One record per day with a CWA result, and the hash of every file that was matched.
        std::vector<store::ExposureRecord> records;
        for (const auto& day : result.report.risk.days) {
            store::ExposureRecord rec;
            rec.computed_at = now_unix;
            rec.day = static_cast<std::uint32_t>(day.date_unix / core::kSecondsPerDay);
            rec.risk_level = static_cast<int>(day.risk_level);
            rec.weighted_minutes = day.normalized_time;  // CWA: TRL value x weighted minutes
            rec.min_attenuation_db = 255;
            for (const auto& w : result.report.windows) {
                if (w.date_unix != day.date_unix) continue;
                ++rec.windows;
                for (const auto& s : w.scan_instances)
                    rec.min_attenuation_db = std::min(rec.min_attenuation_db, s.min_attenuation_db);
            }
            if (rec.windows == 0) rec.min_attenuation_db = 0;
            records.push_back(rec);
        }
        if (!records.empty())
            if (auto r = store.add_exposure_records(records); !r) return r.error();
        for (const auto& f : result.files)
            if (f.matched)
                if (auto r = store.mark_file_processed(
                        f.info.export_bin_sha256_hex(), now_unix,
                        static_cast<std::uint32_t>(std::min<std::uint64_t>(f.info.keys_delivered, UINT32_MAX)));
                    !r)
                    return r.error();
    }
    return result;
}

}  // namespace sotto::match
