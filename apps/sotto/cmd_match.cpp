// sotto match --store PATH (--key-file F | --passphrase-file F) --pubkey PEM [--pubkey PEM]...
//             [--key-id ID --key-version V] [--no-verify] [--json] [--now T]
//             [--tolerance N] [--full] FILE...
//
// Exit codes: 0 every file was read and verified (with --no-verify: read); 3 a file was refused
// (its keys were not matched, the others were); 2 bad arguments (a missing file included); 1 the
// store failed.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <sotto/bytes.hpp>
#include <sotto/tracer.hpp>

#include "commands.hpp"
#include "store_access.hpp"

namespace sotto::cli {
namespace {

using nlohmann::json;

struct MatchOptions {
    StoreOptions store;
    std::vector<std::string> pubkeys;
    std::string key_id;
    std::string key_version;
    bool no_verify = false;
    bool as_json = false;
    bool full = false;
    std::uint32_t tolerance = core::MatchOptions{}.tolerance_intervals;
    std::vector<std::string> files;
};

const char* level_name(core::CwaRiskLevel l) {
    switch (l) {
        case core::CwaRiskLevel::kHigh:
            return "high";
        case core::CwaRiskLevel::kLow:
            return "low";
        default:
            return "none";
    }
}

json risk_json(const core::CwaRiskResult& r) {
    json days = json::array();
    for (const auto& d : r.days)
        days.push_back({{"date", d.date_unix},
                        {"risk_level", level_name(d.risk_level)},
                        {"normalized_time", d.normalized_time},
                        {"minimum_distinct_encounters_with_low_risk",
                         d.minimum_distinct_encounters_with_low_risk},
                        {"minimum_distinct_encounters_with_high_risk",
                         d.minimum_distinct_encounters_with_high_risk}});
    json j = {{"model", "corona-warn-app"},
              {"risk_level", level_name(r.total_risk_level)},
              {"days", days},
              {"number_of_days_with_low_risk", r.number_of_days_with_low_risk},
              {"number_of_days_with_high_risk", r.number_of_days_with_high_risk},
              {"total_minimum_distinct_encounters_with_low_risk",
               r.total_minimum_distinct_encounters_with_low_risk},
              {"total_minimum_distinct_encounters_with_high_risk",
               r.total_minimum_distinct_encounters_with_high_risk}};
    j["most_recent_date_with_low_risk"] =
        r.most_recent_date_with_low_risk ? json(*r.most_recent_date_with_low_risk) : json(nullptr);
    j["most_recent_date_with_high_risk"] = r.most_recent_date_with_high_risk
                                               ? json(*r.most_recent_date_with_high_risk)
                                               : json(nullptr);
    return j;
}

json to_json(const CheckReport& r) {
    json files = json::array();
    for (const auto& f : r.files) {
        json o = {{"path", f.source},
                  {"status", to_string(f.status)},
                  {"verified", f.verified()},
                  {"matched", f.matched()}};
        if (f.info) {
            // As the file names them (export.sig); authenticated only when --key-id bound the key.
            const auto& i = *f.info;
            o["key_id"] = printable(i.verified_key_id.empty() && !i.signature_infos.empty()
                                        ? i.signature_infos.front().key_id
                                        : i.verified_key_id);
            o["key_version"] =
                printable(i.verified_key_version.empty() && !i.signature_infos.empty()
                              ? i.signature_infos.front().key_version
                              : i.verified_key_version);
            o["keys"] = i.keys_valid;
        } else {
            o["key_id"] = "";
            o["key_version"] = "";
            o["keys"] = 0;
        }
        if (f.reason) o["error"] = f.reason->what;
        files.push_back(o);
    }
    json matches = json::array();
    for (const auto& m : r.matches) {
        json o = {{"tek", to_hex(m.diagnosis_key.exposure_key.tek
                                     .expose_secret())},  // published: not secret any more
                  {"rolling_start", m.diagnosis_key.exposure_key.rolling_start},
                  {"rolling_period", m.diagnosis_key.exposure_key.rolling_period},
                  {"rpi", to_hex(m.rpi.bytes)},
                  {"interval", m.interval},
                  {"first_seen", m.first_seen},
                  {"last_seen", m.last_seen},
                  {"beacons", m.sightings},  // packets heard of this RPI
                  {"metadata", to_hex(m.metadata)},
                  {"report_type", static_cast<int>(m.diagnosis_key.report_type)},
                  {"transmission_risk_level", m.diagnosis_key.transmission_risk_level},
                  {"status", m.status == core::MatchStatus::kValid ? "valid" : "suspect"},
                  {"reason", m.reason},
                  {"metadata_disputed", m.metadata_disputed}};
        o["days_since_onset"] = m.diagnosis_key.days_since_onset
                                    ? json(*m.diagnosis_key.days_since_onset)
                                    : json(nullptr);
        // The publication time the rule used: the key's earliest known publication (Unix s).
        o["published_at"] = m.published_at ? json(*m.published_at) : json(nullptr);
        matches.push_back(o);
    }
    json windows = json::array();
    for (const auto& w : r.report.windows) {
        json scans = json::array();
        for (const auto& s : w.scan_instances)
            scans.push_back({{"typical_attenuation_db", s.typical_attenuation_db},
                             {"min_attenuation_db", s.min_attenuation_db},
                             {"seconds_since_last_scan", s.seconds_since_last_scan}});
        windows.push_back({{"date", w.date_unix},
                           {"report_type", static_cast<int>(w.report_type)},
                           {"infectiousness", static_cast<int>(w.infectiousness)},
                           {"calibration_confidence", static_cast<int>(w.calibration_confidence)},
                           {"scan_instances", scans}});
    }
    json summaries = json::array();
    for (const auto& d : r.report.daily_summaries)
        summaries.push_back({{"date", d.date_unix},
                             {"maximum_score", d.summary.maximum_score},
                             {"score_sum", d.summary.score_sum},
                             {"weighted_duration_sum", d.summary.weighted_duration_sum}});
    // The total in the words of sotto::RiskLevel (docs/risk.md), as the text and every other
    // surface says it; the days keep their CWA levels.
    json risk = risk_json(r.report.risk);
    risk["risk_level"] = to_string(r.risk);
    return {{"files", files},
            {"keys_checked", r.keys.keys - r.keys.keys_revoked},
            {"keys_revoked", r.keys.keys_revoked},
            {"sightings_checked", r.sightings},
            {"matches", matches},
            {"exposure_windows", windows},
            {"daily_summaries", summaries},
            {"risk", risk}};
}

void print_text(const CheckReport& r) {
    for (const auto& f : r.files) {
        if (f.verified())
            fmt::print("{}: verified (key {}/{}), {} keys\n", printable(f.source),
                       printable(f.info->verified_key_id), printable(f.info->verified_key_version),
                       f.info->keys_valid);
        else if (f.matched())
            fmt::print("{}: NOT verified ({}), {} keys matched anyway (--no-verify)\n",
                       printable(f.source), f.reason ? f.reason->what : "", f.info->keys_valid);
        else if (f.reason)
            fmt::print("{}: REFUSED: {} ({})\n", printable(f.source), f.reason->what,
                       error_code_name(f.reason->code));
    }
    fmt::print("checked {} keys against {} sightings\n", r.keys.keys - r.keys.keys_revoked,
               r.sightings);
    for (const auto& m : r.matches)
        fmt::print("{} RPI {} (interval {}) heard {} times {} .. {}, metadata {}{}{}{}\n",
                   m.status == core::MatchStatus::kValid ? "match  " : "SUSPECT",
                   to_hex(m.rpi.bytes), m.interval, m.sightings, utc_time(m.first_seen),
                   utc_time(m.last_seen), to_hex(m.metadata),
                   m.status == core::MatchStatus::kValid ? "" : ": ", m.reason,
                   m.metadata_disputed ? " (metadata disputed: also heard with other AEMs)" : "");
    for (const auto& e : r.report.encounters)
        fmt::print("exposure: {} .. {}, about {} min, closest {} dB, typical {} dB attenuation\n",
                   utc_time(e.first_seen), utc_time(e.last_seen), e.minutes, e.min_attenuation_db,
                   e.typical_attenuation_db);
    fmt::print("risk (Corona-Warn-App): {} ({} exposure windows)\n", to_string(r.risk),
               r.report.windows.size());
}

// The key files a FILE argument names: a directory that holds no export.bin (what
// `sotto fetch --out DIR` fills) stands for every *.zip in it, in name order; anything else for
// itself. kExitUsage for a path that does not exist.
int expand_files(const std::vector<std::string>& args, std::vector<std::filesystem::path>& out) {
    namespace fs = std::filesystem;
    for (const auto& a : args) {
        if (int rc = require_existing("match", a); rc != 0) return rc;
        std::error_code ec;
        if (!fs::is_directory(a, ec) || fs::exists(fs::path(a) / "export.bin", ec)) {
            out.emplace_back(a);
            continue;
        }
        std::vector<fs::path> zips;
        for (fs::directory_iterator it(a, ec), end; !ec && it != end; it.increment(ec))
            if (it->path().extension() == ".zip" && it->is_regular_file(ec))
                zips.push_back(it->path());
        if (ec) return fail(kExitFailure, fmt::format("match: cannot list {}", printable(a)));
        if (zips.empty())
            fmt::print(stderr, "sotto: match: {}: no export.bin and no *.zip in it\n",
                       printable(a));
        std::sort(zips.begin(), zips.end());
        out.insert(out.end(), zips.begin(), zips.end());
    }
    return 0;
}

int run_match(MatchOptions& o) {
    if (o.pubkeys.empty() && !o.no_verify)
        return fail(kExitUsage, "match: give --pubkey (or --no-verify)");
    if (o.tolerance > 144) return fail(kExitUsage, "match: --tolerance must be 0..144 intervals");
    keyfile::TrustStore trust;
    if (int rc = load_trust_store(o.pubkeys, o.key_id, o.key_version, "match", trust); rc != 0)
        return rc;
    std::int64_t now = 0;
    if (int rc = resolve_clock(o.store, now); rc != 0) return rc;
    std::vector<std::filesystem::path> files;
    if (int rc = expand_files(o.files, files); rc != 0) return rc;
    // The Tracer runs the check at --now. No retention here: a --now far in the future must not
    // delete anything; the check only reads the sightings within the retention window as of --now.
    ManualClock clock(now * 1000);
    TracerOptions options;
    options.trust = std::move(trust);
    options.engine.match.tolerance_intervals = o.tolerance;
    options.engine.match.prefilter = !o.full;
    std::optional<Tracer> tracer;
    if (int rc = open_tracer(o.store, false, clock, std::move(options), tracer); rc != 0) return rc;
    // Every run reports every file (rematch), and results are recorded once per verified file:
    // the Tracer skips recording when all files were recorded before, and never records a
    // --no-verify run.
    const ImportOptions import{.verify = o.no_verify ? keyfile::VerifyMode::kParseOnly
                                                     : keyfile::VerifyMode::kRequireSignature,
                               .rematch = true,
                               .stop = {}};
    // Progress on stderr only when it is a terminal: "checking 3/14 FILE", then the matching.
    const bool progress = ::isatty(2) == 1;
    for (std::size_t i = 0; i < files.size(); ++i) {
        if (progress)
            fmt::print(stderr, "\r\033[Kchecking {}/{} {}", i + 1, files.size(),
                       printable(files[i].string()));
        if (auto r = tracer->import_key_file(files[i], import); !r) {
            if (progress) fmt::print(stderr, "\r\033[K");
            return store_error(r.error());
        }
    }
    if (progress) fmt::print(stderr, "\r\033[Kmatching {} files\n", files.size());
    auto result = tracer->check();
    if (!result) return store_error(result.error());

    if (o.as_json)
        // Paths need not be UTF-8: replace what is not, rather than fail after the work is done.
        fmt::print("{}\n", to_json(*result).dump(-1, ' ', false, json::error_handler_t::replace));
    else
        print_text(*result);
    std::fflush(stdout);
    int code = kExitOk;
    for (const auto& f : result->files) {
        if (f.status != KeyFileStatus::kRefused) continue;
        fmt::print(stderr, "sotto: match: refused {}: {} ({})\n", printable(f.source),
                   f.reason->what, error_code_name(f.reason->code));
        code = kExitRefused;
    }
    return code;
}

}  // namespace

void add_match_command(CLI::App& app, Runner& run) {
    auto o = std::make_shared<MatchOptions>();
    auto* cmd =
        app.add_subcommand("match", "Match published key files against the encrypted store");
    cmd->alias("import");
    add_store_options(cmd, o->store);
    cmd->add_option("--pubkey", o->pubkeys, "Health authority's public key (PEM); repeatable")
        ->allow_extra_args(false);  // one PEM per --pubkey: never swallow the files
    cmd->add_option("--key-id", o->key_id, "Trust the --pubkey keys only under this key id");
    cmd->add_option("--key-version", o->key_version, "... and this key version");
    cmd->add_flag("--no-verify", o->no_verify,
                  "Match files whose signature does not verify (testing only)");
    cmd->add_flag("--json", o->as_json, "Print one JSON object");
    cmd->add_flag("--full", o->full,
                  "Derive all 144 RPIs of every key (also finds far-off replays)");
    cmd->add_option("--tolerance", o->tolerance,
                    "Intervals a sighting may lie from its RPI's interval")
        ->capture_default_str();
    cmd->add_option("files", o->files,
                    "export.zip, export.bin (export.sig beside it), a directory holding "
                    "export.bin + export.sig, or a directory of *.zip (what `sotto fetch --out` "
                    "fills)")
        ->required();
    cmd->callback([o, &run] { run = [o] { return run_match(*o); }; });
}

}  // namespace sotto::cli
