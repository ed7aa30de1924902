// sotto fetch --source URL|DIR --state-dir DIR --pubkey PEM [--pubkey PEM]...
//             [--key-id ID --key-version V] [--out DIR] [--revalidate]
//             [--max-file-mib N] [--timeout S] [--quiet]
//
// One download round (sotto::fetch), then every new or pending file is verified with the trust
// store (keyfile::read_export_zip, signature required). With --out, each verified file is copied
// to DIR/<sha256>.zip and marked used (it will not be offered again); refused files stay pending
// and are checked again next time. Without --out nothing is marked: the run only reports.
//
// Exit codes: 0 the round completed and every offered file verified; 3 a file was refused by the
// verifier; 1 the index or a file could not be downloaded, or the state could not be saved;
// 2 bad arguments (including a refused URL).
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/core.h>

#include <sotto/bytes.hpp>
#include <sotto/fetch/downloader.hpp>
#include <sotto/keyfile/export_reader.hpp>

#include "commands.hpp"

namespace sotto::cli {
namespace {

namespace fs = std::filesystem;

struct FetchOptions {
    std::string source;
    std::string state_dir;
    std::string out_dir;
    std::vector<std::string> pubkeys;
    std::string key_id;
    std::string key_version;
    bool revalidate = false;
    bool quiet = false;
    std::uint32_t max_file_mib = 32;
    std::uint32_t timeout_s = 120;
};

// "\r3/14 exposureKeyExport-DE/...zip 120/480 KiB" on a terminal, at most once per whole KiB.
fetch::ProgressCallback terminal_progress(bool enabled) {
    if (!enabled) return {};
    return [last = std::uint64_t{~0ULL}](const std::string& path, std::uint64_t now,
                                         std::uint64_t total) mutable {
        const std::uint64_t kib = now / 1024;
        if (kib == last) return true;
        last = kib;
        fmt::print(stderr, "\r\033[K{} {}/{} KiB", printable(path), kib, (total + 1023) / 1024);
        return true;
    };
}

int run_fetch(const FetchOptions& o) {
    keyfile::TrustStore trust;
    if (int rc = load_trust_store(o.pubkeys, o.key_id, o.key_version, "fetch", trust); rc != 0)
        return rc;
    fetch::DownloadOptions dl;
    dl.max_file_bytes = std::uint64_t{o.max_file_mib} << 20;
    // The spool's total cap (default 256 MiB) never refuses a file --max-file-mib allows.
    dl.max_spool_bytes = std::max(dl.max_spool_bytes, dl.max_file_bytes);
    dl.total_timeout_ms = o.timeout_s * 1000;
    dl.revalidate_downloaded = o.revalidate;
    const fs::path state_dir = o.state_dir;
    std::error_code ec;
    fs::create_directories(state_dir, ec);
    auto d = fetch::Downloader::create(
        fetch::Source{o.source}, std::make_unique<fetch::FileFetchState>(state_dir / "fetch.state"),
        state_dir / "spool", dl);
    if (!d) {
        const bool usage = d.error().code == ErrorCode::kNetworkRefused ||
                           d.error().code == ErrorCode::kInvalidArgument;
        return fail(usage ? kExitUsage : kExitFailure, fmt::format("fetch: {}", d.error().what));
    }
    const bool show_progress = !o.quiet && ::isatty(2) == 1;
    auto r = d->fetch_round(terminal_progress(show_progress));
    if (show_progress) fmt::print(stderr, "\r\033[K");
    if (!r) return fail(kExitFailure, fmt::format("fetch: {}", r.error().what));
    if (r->state_was_damaged)
        fmt::print(stderr, "sotto: fetch: the fetch state was damaged and is rebuilt\n");
    if (r->index_status == fetch::IndexStatus::kFailed) {
        if (r->index_http_status != 0) {
            return fail(kExitFailure, fmt::format("fetch: index.txt: {} (HTTP {})",
                                                  r->index_error.what, r->index_http_status));
        }
        return fail(kExitFailure, fmt::format("fetch: index.txt: {}", r->index_error.what));
    }
    if (!o.out_dir.empty()) fs::create_directories(o.out_dir, ec);

    std::size_t verified = 0, refused = 0, failed = 0, unchanged = 0;
    for (const auto& f : r->files) {
        const std::string path = printable(f.path);
        switch (f.status) {
            case fetch::FileStatus::kUnchanged:
                ++unchanged;
                continue;
            case fetch::FileStatus::kRefused:  // refused before, unchanged on the server since
                ++refused;
                fmt::print("refused    {} unchanged since it was refused\n", path);
                continue;
            case fetch::FileStatus::kFailed:
                ++failed;
                if (f.http_status != 0) {
                    fmt::print("failed     {} {} (HTTP {})\n", path, f.error.what, f.http_status);
                } else {
                    fmt::print("failed     {} {}\n", path, f.error.what);
                }
                continue;
            default:
                break;
        }
        auto info = keyfile::read_export_zip(f.spool_file, trust,
                                             keyfile::VerifyMode::kRequireSignature, {});
        if (!info) {
            ++refused;
            fmt::print("refused    {} {} ({})\n", path, info.error().what,
                       error_code_name(info.error().code));
            // Refused for its bytes: out of the spool, not offered again until the server's
            // file changes. Anything else (I/O) stays pending for the next run.
            if (keyfile::refuses_content(info.error().code)) {
                if (auto marked = d->mark_refused(f.path, f.sha256); !marked)
                    return fail(kExitFailure, fmt::format("fetch: {}", marked.error().what));
            }
            continue;
        }
        ++verified;
        if (o.out_dir.empty()) {
            fmt::print("verified   {} keys={} {}\n", path, info->keys_valid, f.spool_file.string());
            continue;
        }
        const fs::path dest = fs::path(o.out_dir) / (to_hex(f.sha256) + ".zip");
        fs::copy_file(f.spool_file, dest, fs::copy_options::overwrite_existing, ec);
        if (ec) return fail(kExitFailure, fmt::format("fetch: cannot write {}", dest.string()));
        if (auto used = d->mark_used(f.path, f.sha256); !used) {
            return fail(kExitFailure, fmt::format("fetch: {}", used.error().what));
        }
        fmt::print("delivered  {} keys={} {}\n", path, info->keys_valid, dest.string());
    }
    fmt::print(
        "index {}: {} files, {} verified, {} refused, {} failed, {} unchanged, {} requests, {} "
        "bytes\n",
        r->index_status == fetch::IndexStatus::kNew ? "new" : "unchanged", r->files.size(),
        verified, refused, failed, unchanged, r->requests, r->bytes_downloaded);
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
