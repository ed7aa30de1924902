// sotto fetch --source URL|DIR --state-dir DIR --pubkey PEM [--pubkey PEM]...
//             [--key-id ID --key-version V] [--out DIR | --store PATH (--key-file F |
//             --passphrase-file F) [--now T]] [--revalidate] [--max-file-mib N] [--timeout S]
//             [--quiet]
//
// One round of the library's KeyUpdater (sotto/update/key_updater.hpp). With --store, every new
// file is verified, imported into the store's Tracer and checked against what the store holds;
// checked files are marked used, so the next run checks only what is new. With --out, each
// verified file is copied to DIR/<sha256>.zip and marked used. With neither, the run only
// reports: verified files stay offered. Files refused for their bytes are not downloaded again
// until they change on the server or the --pubkey set changes.
//
// Exit codes: 0 the round completed and every offered file verified; 3 a file was refused by the
// verifier; 1 the index or a file could not be downloaded, the store or the state failed, or the
// run was interrupted; 2 bad arguments (including a refused URL).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include <sotto/bytes.hpp>
#include <sotto/clock.hpp>
#include <sotto/update/key_updater.hpp>

#include "commands.hpp"
#include "store_access.hpp"

namespace sotto::cli {
namespace {

namespace fs = std::filesystem;

struct FetchOptions {
    std::string source;
    std::string state_dir;
    std::string out_dir;
    StoreOptions store;
    std::vector<std::string> pubkeys;
    std::string key_id;
    std::string key_version;
    bool revalidate = false;
    bool quiet = false;
    std::uint32_t max_file_mib = 32;
    std::uint32_t timeout_s = 120;
};

// "\r3/14 exposureKeyExport-DE/...zip 120/480 KiB" on a terminal, at most once per whole KiB.
UpdateProgressFn terminal_progress(bool enabled) {
    if (!enabled) return {};
    return [last = std::uint64_t{~0ULL}](const UpdateProgress& p) mutable {
        const std::uint64_t kib = p.bytes_done / 1024;
        if (kib == last && p.phase != UpdatePhase::kCheck) return;
        last = kib;
        const char* what = p.phase == UpdatePhase::kImport  ? "checking "
                           : p.phase == UpdatePhase::kCheck ? "matching "
                                                            : "";
        fmt::print(stderr, "\r\033[K{}{}/{} {} {}/{} KiB", what, p.files_done + 1,
                   std::max<std::size_t>(p.files_total, 1), printable(p.path), kib,
                   (p.bytes_total + 1023) / 1024);
    };
}

const char* level_word(core::CwaRiskLevel level) {
    return level == core::CwaRiskLevel::kHigh ? "high" : "low";
}

int run_fetch(const FetchOptions& o) {
    keyfile::TrustStore trust;
    if (int rc = load_trust_store(o.pubkeys, o.key_id, o.key_version, "fetch", trust); rc != 0)
        return rc;
    if (!o.out_dir.empty() && !o.store.store.empty())
        return fail(kExitUsage, "fetch: give --out or --store, not both");
    KeyUpdaterOptions uo;
    auto& dl = uo.download;
    dl.max_file_bytes = std::uint64_t{o.max_file_mib} << 20;
    // The spool's total cap (default 256 MiB) never refuses a file --max-file-mib allows.
    dl.max_spool_bytes = std::max(dl.max_spool_bytes, dl.max_file_bytes);
    dl.total_timeout_ms = o.timeout_s * 1000;
    dl.revalidate_downloaded = o.revalidate;
    const fs::path state_dir = o.state_dir;

    std::optional<ManualClock> clock;
    std::optional<Tracer> tracer;
    if (!o.store.store.empty()) {
        std::int64_t now = 0;
        if (int rc = resolve_clock(o.store, now); rc != 0) return rc;
        clock.emplace(now * 1000);
        TracerOptions options;
        options.trust = trust;
        if (int rc = open_tracer(o.store, false, *clock, std::move(options), tracer); rc != 0)
            return rc;
    }
    std::error_code ec;
    if (!o.out_dir.empty()) fs::create_directories(o.out_dir, ec);
    DeliverFn deliver;
    if (!o.out_dir.empty())
        deliver = [&o](const UpdateFile& f, const keyfile::ExportInfo&) -> Result<void> {
            std::error_code e;
            const fs::path dest = fs::path(o.out_dir) / (to_hex(f.sha256) + ".zip");
            fs::copy_file(f.spool_file, dest, fs::copy_options::overwrite_existing, e);
            if (e) return make_error(ErrorCode::kStorageIo, "fetch: cannot write to --out");
            return {};
        };
    auto u = tracer ? KeyUpdater::create(*tracer, fetch::Source{o.source}, state_dir, uo)
                    : KeyUpdater::create_verifier(std::move(trust), deliver,
                                                  fetch::Source{o.source}, state_dir, uo);
    if (!u) {
        const bool usage = u.error().code == ErrorCode::kNetworkRefused ||
                           u.error().code == ErrorCode::kInvalidArgument;
        return fail(usage ? kExitUsage : kExitFailure, fmt::format("fetch: {}", u.error().what));
    }

    // Ctrl-C (or SIGTERM) cancels the round: a thread waits for the signal and calls cancel().
    sigset_t signals, old;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, &old);
    std::atomic<bool> interrupted{false};
    std::atomic<bool> done{false};
    std::thread watcher([&] {
        const timespec poll{0, 100'000'000};
        while (!done.load()) {
            if (sigtimedwait(&signals, nullptr, &poll) > 0) {
                interrupted = true;
                u->cancel();
                return;
            }
        }
    });
    const bool show_progress = !o.quiet && ::isatty(2) == 1;
    auto r = u->run(terminal_progress(show_progress));
    done = true;
    watcher.join();
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (show_progress) fmt::print(stderr, "\r\033[K");
    if (!r) return fail(kExitFailure, fmt::format("fetch: {}", r.error().what));
    if (r->state_was_damaged)
        fmt::print(stderr, "sotto: fetch: the fetch state was damaged and is rebuilt\n");
    if (r->refusals_forgotten > 0)
        fmt::print(stderr,
                   "sotto: fetch: the public keys changed; {} refused file(s) are checked again\n",
                   r->refusals_forgotten);
    if (r->cancelled && r->index_status == fetch::IndexStatus::kFailed)
        return fail(kExitFailure, "fetch: interrupted");
    if (r->index_status == fetch::IndexStatus::kFailed) {
        if (r->index_http_status != 0) {
            return fail(kExitFailure, fmt::format("fetch: index.txt: {} (HTTP {})",
                                                  r->index_error.what, r->index_http_status));
        }
        return fail(kExitFailure, fmt::format("fetch: index.txt: {}", r->index_error.what));
    }

    std::size_t verified = 0, refused = 0, failed = 0, unchanged = 0;
    for (const auto& f : r->files) {
        const std::string path = printable(f.path);
        switch (f.outcome) {
            case UpdateOutcome::kUnchanged:
                ++unchanged;
                break;
            case UpdateOutcome::kStillRefused:  // refused before, unchanged on the server since
                ++refused;
                fmt::print("refused    {} unchanged since it was refused\n", path);
                break;
            case UpdateOutcome::kRefused:
                ++refused;
                fmt::print("refused    {} {} ({})\n", path, f.reason.what,
                           error_code_name(f.reason.code));
                break;
            case UpdateOutcome::kFailed:
                ++failed;
                if (f.http_status != 0)
                    fmt::print("failed     {} {} (HTTP {})\n", path, f.reason.what, f.http_status);
                else
                    fmt::print("failed     {} {}\n", path, f.reason.what);
                break;
            case UpdateOutcome::kPostponed:
                if (f.reason.code == ErrorCode::kOk) {  // verified, report only
                    ++verified;
                    fmt::print("verified   {} keys={} {}\n", path, f.keys, f.spool_file.string());
                } else {
                    ++failed;
                    fmt::print("postponed  {} {}\n", path, f.reason.what);
                }
                break;
            case UpdateOutcome::kChecked:
                ++verified;
                if (tracer)
                    fmt::print("checked    {} keys={}\n", path, f.keys);
                else
                    fmt::print("delivered  {} keys={} {}\n", path, f.keys,
                               (fs::path(o.out_dir) / (to_hex(f.sha256) + ".zip")).string());
                break;
        }
    }
    fmt::print(
        "index {}: {} files, {} verified, {} refused, {} failed, {} unchanged, {} requests, {} "
        "bytes\n",
        r->index_status == fetch::IndexStatus::kNew ? "new" : "unchanged", r->files.size(),
        verified, refused, failed, unchanged, r->requests, r->bytes_downloaded);
    if (r->check) {
        const auto& c = *r->check;
        fmt::print("checked {} file(s) against {} sightings: {} exposure window(s), risk {}\n",
                   r->count(UpdateOutcome::kChecked), c.sightings, c.report.windows.size(),
                   c.report.windows.empty() ? "none" : level_word(c.report.risk.total_risk_level));
    }
    if (interrupted || r->cancelled) return fail(kExitFailure, "fetch: interrupted");
    if (failed > 0) return kExitFailure;
    if (refused > 0) return kExitRefused;
    return kExitOk;
}

}  // namespace

void add_fetch_command(CLI::App& app, Runner& run) {
    auto o = std::make_shared<FetchOptions>();
    auto* cmd =
        app.add_subcommand("fetch", "Download diagnosis-key files and verify their signatures");
    cmd->add_option("--source", o->source, "https:// bucket root (index.txt) or a local directory")
        ->required();
    cmd->add_option("--state-dir", o->state_dir, "Directory for the fetch state and the spool")
        ->required();
    cmd->add_option("--pubkey", o->pubkeys, "PEM public key of the health authority")->required();
    cmd->add_option("--key-id", o->key_id, "Bind --pubkey to this verification_key_id");
    cmd->add_option("--key-version", o->key_version,
                    "Bind --pubkey to this verification_key_version");
    cmd->add_option("--out", o->out_dir, "Copy verified files here and mark them used");
    cmd->add_option("--store", o->store.store,
                    "Check the new files against this store (and mark them used)");
    auto* k = cmd->add_option("--key-file", o->store.key_file,
                              "The store's raw key: 64 hex characters (mode 600)");
    auto* p = cmd->add_option("--passphrase-file", o->store.passphrase_file,
                              "File whose content is the store's passphrase (mode 600)");
    k->excludes(p);
    cmd->add_option("--now", o->store.now,
                    "Unix seconds used as the check's current time (default: the system clock)");
    cmd->add_flag("--revalidate", o->revalidate,
                  "Send conditional requests for downloaded files too");
    cmd->add_option("--max-file-mib", o->max_file_mib, "Largest file accepted (MiB)")
        ->check(CLI::Range(1u, 1024u));
    cmd->add_option("--timeout", o->timeout_s, "Timeout per file (seconds)")
        ->check(CLI::Range(1u, 3600u));
    cmd->add_flag("--quiet", o->quiet, "No progress on the terminal");
    cmd->callback([o, &run] { run = [o] { return run_fetch(*o); }; });
}

}  // namespace sotto::cli
