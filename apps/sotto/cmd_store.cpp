// sotto ingest --store PATH (--key-file F | --passphrase-file F) [--now T] [--confirm-clock]
//              FILE.csv
// sotto store stats|verify|rekey|erase ...
//
// Exit codes: 0 ok (ingest: the file was read, even if some lines were invalid; they are listed on
// stderr), 1 the store or an I/O operation failed, 2 bad arguments (including an unusable key or
// passphrase file), 3 refused (ingest: every line was invalid; erase of something that is not a
// sotto store). Every row retention deletes is reported ("deleted N rows past retention").
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <sotto/bytes.hpp>
#include <sotto/core/payload.hpp>
#include <sotto/core/sighting.hpp>
#include <sotto/secret.hpp>
#include <sotto/store/encounter_store.hpp>
#include <sotto/tracer.hpp>

#include "commands.hpp"
#include "ingest_line.hpp"
#include "store_access.hpp"

namespace sotto::cli {
namespace {

using store::Credential;
using store::EncounterStore;

constexpr std::size_t kIngestBatch = 1000;

std::size_t deleted_rows(const store::RetentionReport& r) {
    return r.sightings + r.own_keys + r.exposure_records + r.processed_files + r.key_publications;
}

nlohmann::ordered_json deleted_json(const store::RetentionReport& r) {
    nlohmann::ordered_json j;
    j["rows"] = deleted_rows(r);
    j["sightings"] = r.sightings;
    j["own_keys"] = r.own_keys;
    j["exposure_records"] = r.exposure_records;
    j["processed_files"] = r.processed_files;
    j["key_publications"] = r.key_publications;
    return j;
}

// "deleted 12 rows past retention (10 sightings, 2 own keys, ...)"; nothing when none.
void print_deleted(const store::RetentionReport& r) {
    if (deleted_rows(r) == 0) return;
    fmt::print(
        "deleted {} rows past retention ({} sightings, {} own keys, {} exposure records, {} "
        "processed files, {} key publications)\n",
        deleted_rows(r), r.sightings, r.own_keys, r.exposure_records, r.processed_files,
        r.key_publications);
}
/// Largest sightings file `sotto ingest FILE` reads (stdin has no total limit, only the line cap).
constexpr std::uint64_t kMaxIngestFileBytes = std::uint64_t{4} << 30;

// ---- ingest ------------------------------------------------------------------------------------

struct IngestOptions {
    StoreOptions store;
    std::string input;
    bool as_json = false;
};

// Retention before a writing command. --now only sets the time; --confirm-clock vouches for it.
// An unconfirmed suspect clock deletes nothing (a warning, not an error: the command goes on).
// What was deleted lands in `deleted` (reported by the command, never silently).
int retention_result(const Result<store::RetentionReport>& r, store::RetentionReport& deleted) {
    if (r) {
        deleted = *r;
        return 0;
    }
    if (r.error().code != ErrorCode::kClockSuspect) return store_error(r.error());
    fmt::print(stderr, "warning: {}; if the time is right, run again with --confirm-clock\n",
               r.error().what);
    return 0;
}

int retention(EncounterStore& s, const StoreOptions& o, std::int64_t now,
              store::RetentionReport& deleted) {
    return retention_result(s.apply_retention(now, {.clock_confirmed = o.confirm_clock}), deleted);
}

int retention(Tracer& t, const StoreOptions& o, store::RetentionReport& deleted) {
    return retention_result(t.apply_retention({.clock_confirmed = o.confirm_clock}), deleted);
}

int run_ingest(IngestOptions& o) {
    std::int64_t now = 0;
    if (int rc = resolve_clock(o.store, now); rc != 0) return rc;
    if (int rc = check_retention_clock(o.store, now); rc != 0) return rc;
    std::FILE* in = stdin;
    std::FILE* opened = nullptr;
    if (o.input != "-") {
        // A regular file only (a FIFO or device would hang or never end), opened without blocking.
        std::string why;
        opened = open_regular_file(o.input, kMaxIngestFileBytes, why);
        if (opened == nullptr) return fail(kExitFailure, "input file: " + why);
        in = opened;
    }
    struct Closer {
        std::FILE* f;
        ~Closer() {
            if (f != nullptr) std::fclose(f);
        }
    } closer{opened};
    ManualClock clock(now * 1000);
    std::optional<Tracer> s;
    if (int rc = open_tracer(o.store, true, clock, {}, s); rc != 0) return rc;
    store::RetentionReport deleted;
    if (int rc = retention(*s, o.store, deleted); rc != 0) return rc;
    if (!o.as_json) print_deleted(deleted);

    std::uint64_t accepted = 0, new_rows = 0, invalid = 0, dropped = 0;
    std::vector<core::Observation> batch;
    std::vector<std::uint64_t> lines;  // line number of each batch entry
    batch.reserve(kIngestBatch);
    auto flush = [&]() -> int {
        if (batch.empty()) return 0;
        auto r = s->ingest(batch);
        if (!r) return store_error(r.error());
        accepted += r->accepted;
        new_rows += r->new_rows;
        dropped += r->aems_dropped;
        for (const auto& rej : r->rejected) {
            ++invalid;
            fmt::print(stderr, "line {}: {}\n", lines[rej.index], rej.error.what);
        }
        batch.clear();
        lines.clear();
        return 0;
    };
    LineReader reader(in);
    std::string line;
    line.reserve(kMaxIngestLineBytes);
    std::uint64_t number = 0;
    while (true) {
        const LineReader::Status status = reader.next(line);
        if (status == LineReader::Status::kEnd) break;
        ++number;
        if (status == LineReader::Status::kError) {
            (void)flush();
            return fail(kExitFailure, "error while reading the input file");
        }
        if (status == LineReader::Status::kTooLong) {
            // Not a sightings file (or a hostile one): keep what was read, stop here.
            if (int rc = flush(); rc != 0) return rc;
            return fail(kExitFailure, fmt::format("line {}: longer than {} bytes; stopped after "
                                                  "storing {} beacons",
                                                  number, kMaxIngestLineBytes, accepted));
        }
        const std::string_view t = trim(line);
        if (t.empty() || t.front() == '#') continue;
        core::Observation obs;
        if (const char* why = parse_ingest_line(t, obs)) {
            ++invalid;
            fmt::print(stderr, "line {}: {}\n", number, why);
            continue;
        }
        batch.push_back(obs);
        lines.push_back(number);
        if (batch.size() == kIngestBatch)
            if (int rc = flush(); rc != 0) return rc;
    }
    if (int rc = flush(); rc != 0) return rc;
    if (o.as_json) {
        nlohmann::ordered_json j;
        j["beacons"] = accepted;
        j["new_sightings"] = new_rows;
        j["invalid_lines"] = invalid;
        j["beacons_not_stored"] = dropped;
        j["deleted_past_retention"] = deleted_json(deleted);
        fmt::print("{}\n", j.dump());
    } else {
        fmt::print("ingested {} beacons ({} new sightings), {} invalid lines\n", accepted, new_rows,
                   invalid);
    }
    if (dropped > 0)
        fmt::print(stderr,
                   "{} beacons not stored: their RPI already had {} AEMs in that interval\n",
                   dropped, core::kMaxAemsPerRpi);
    // Every line refused: the input is not a beacon capture (or not one this tool reads).
    if (invalid > 0 && accepted == 0)
        return fail(kExitRefused,
                    fmt::format("ingest: refused: all {} lines were invalid", invalid));
    return kExitOk;
}

// ---- store subcommands ------------------------------------------------------------------------

int run_stats(StoreOptions& o) {
    std::int64_t now = 0;
    if (int rc = resolve_clock(o, now); rc != 0) return rc;
    std::optional<EncounterStore> s;
    // Read-only: reading never deletes, whatever --now says.
    if (int rc = open_store(o, false, s, /*read_only=*/true); rc != 0) return rc;
    auto st = s->stats();
    if (!st) return store_error(st.error());
    nlohmann::ordered_json j;
    j["sightings"] = st->sightings;
    j["rpis"] = st->rpis;
    j["days"] = st->days;
    j["own_keys"] = st->own_keys;
    j["exposure_records"] = st->exposure_records;
    j["processed_files"] = st->processed_files;
    j["key_publications"] = st->key_publications;
    fmt::print("{}\n", j.dump());
    return kExitOk;
}

struct VerifyOptions {
    StoreOptions store;
    bool as_json = false;
};

int run_verify(VerifyOptions& vo) {
    StoreOptions& o = vo.store;
    std::int64_t now = 0;
    if (int rc = resolve_clock(o, now); rc != 0) return rc;
    std::optional<EncounterStore> s;
    // Read-only: verifying changes nothing, not even retention.
    if (int rc = open_store(o, false, s, /*read_only=*/true); rc != 0) return rc;
    if (auto r = s->verify(); !r) return store_error(r.error());
    auto st = s->stats();
    if (!st) return store_error(st.error());
    auto cutoff = store::retention_cutoff(now, o.retention_days);
    if (!cutoff) return fail(kExitUsage, "--now is outside the supported time range");
    auto expired = s->sightings_in_range(0, *cutoff);
    if (!expired) return store_error(expired.error());
    if (vo.as_json) {
        nlohmann::ordered_json j;
        j["ok"] = true;
        j["sightings"] = st->sightings;
        j["own_keys"] = st->own_keys;
        j["sightings_past_retention"] = expired->size();
        fmt::print("{}\n", j.dump());
    } else {
        fmt::print("ok: {} sightings, {} own keys, {} sightings past the retention window\n",
                   st->sightings, st->own_keys, expired->size());
    }
    return kExitOk;
}

struct RekeyOptions {
    StoreOptions store;
    std::string new_key_file;
    std::string new_passphrase_file;
    bool as_json = false;
};

int run_rekey(RekeyOptions& o) {
    std::int64_t now = 0;
    if (int rc = resolve_clock(o.store, now); rc != 0) return rc;
    if (int rc = check_retention_clock(o.store, now); rc != 0) return rc;
    std::optional<Credential> fresh;
    if (int rc = read_credential(o.new_key_file, o.new_passphrase_file, "--new-key-file",
                                 "--new-passphrase-file", fresh);
        rc != 0)
        return rc;
    std::optional<EncounterStore> s;
    if (int rc = open_store(o.store, false, s); rc != 0) return rc;
    store::RetentionReport deleted;
    if (int rc = retention(*s, o.store, now, deleted); rc != 0) return rc;
    if (!o.as_json) print_deleted(deleted);
    if (auto r = s->rekey(std::move(*fresh)); !r) return store_error(r.error());
    if (o.as_json) {
        nlohmann::ordered_json j;
        j["rekeyed"] = true;
        j["deleted_past_retention"] = deleted_json(deleted);
        fmt::print("{}\n", j.dump());
    } else {
        fmt::print("rekeyed\n");
    }
    return kExitOk;
}

struct EraseOptions {
    std::string store;
    bool yes = false;
    std::optional<std::int64_t> now;
};

int run_erase(EraseOptions& o) {
    if (!o.yes) return fail(kExitUsage, "store erase deletes the store for good: add --yes");
    auto r = EncounterStore::destroy(o.store);
    if (!r) {
        if (r.error().code == ErrorCode::kStorageNotAStore)
            return fail(kExitRefused,
                        "refusing to erase: not a sotto store (no key-derivation file)");
        return store_error(r.error());
    }
    fmt::print("erased\n");
    return kExitOk;
}

}  // namespace

void add_store_commands(CLI::App& app, Runner& run) {
    {
        auto o = std::make_shared<IngestOptions>();
        auto* cmd = app.add_subcommand(
            "ingest",
            "Store captured beacons: CSV lines unix_seconds,rssi_dbm,service_data_hex. Exit 3 "
            "when every line was invalid");
        add_store_options(cmd, o->store);
        add_clock_confirmation(cmd, o->store);
        cmd->add_flag("--json", o->as_json, "Print one JSON object (counts and deletions)");
        cmd->add_option("FILE", o->input,
                        "CSV file ('-' for stdin); the hex is the 20-byte service data (RPI ‖ AEM) "
                        "or the full advertising data")
            ->required()
            ->check([](const std::string& f) -> std::string {
                std::error_code ec;
                return f == "-" || std::filesystem::exists(f, ec) ? "" : "input file not found";
            });
        cmd->callback([o, &run] { run = [o] { return run_ingest(*o); }; });
    }
    auto* st = app.add_subcommand("store", "Inspect and maintain the encrypted store");
    st->require_subcommand(1);
    {
        auto o = std::make_shared<StoreOptions>();
        auto* cmd = st->add_subcommand(
            "stats", R"(Print {"sightings":n,"rpis":n,"days":n,"own_keys":n,...} as JSON)");
        add_store_options(cmd, *o);
        cmd->callback([o, &run] { run = [o] { return run_stats(*o); }; });
    }
    {
        auto o = std::make_shared<VerifyOptions>();
        auto* cmd = st->add_subcommand("verify", "Check the store's integrity (reads every page)");
        add_store_options(cmd, o->store);
        cmd->add_flag("--json", o->as_json, "Print one JSON object");
        cmd->callback([o, &run] { run = [o] { return run_verify(*o); }; });
    }
    {
        auto o = std::make_shared<RekeyOptions>();
        auto* cmd = st->add_subcommand("rekey", "Change the store's key or passphrase (atomic)");
        add_store_options(cmd, o->store);
        add_clock_confirmation(cmd, o->store);
        auto* k = cmd->add_option("--new-key-file", o->new_key_file, "File with the new raw key");
        auto* p = cmd->add_option("--new-passphrase-file", o->new_passphrase_file,
                                  "File with the new passphrase");
        k->excludes(p);
        cmd->add_flag("--json", o->as_json, "Print one JSON object (and what retention deleted)");
        cmd->callback([o, &run] { run = [o] { return run_rekey(*o); }; });
    }
    {
        auto o = std::make_shared<EraseOptions>();
        auto* cmd = st->add_subcommand(
            "erase", "Delete the store and its side files for good (\"forget me\"); needs --yes");
        cmd->add_option("--store", o->store, "Path of the store database")->required();
        cmd->add_flag("--yes", o->yes, "Really delete");
        cmd->add_option("--now", o->now, "Accepted for symmetry; erase uses no clock");
        cmd->callback([o, &run] { run = [o] { return run_erase(*o); }; });
    }
}

}  // namespace sotto::cli
