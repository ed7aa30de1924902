// sotto-bench fetch: the diagnosis-key downloader against tests/fetch/key_server.py on 127.0.0.1.
//
//   * round 1: every file downloaded (files/s, MB/s), through the spool with SHA-256;
//   * round 2: nothing changed (one conditional index request, no file request): ms per round;
//   * round 3: with revalidate_downloaded (one 304 per file): ms per round;
//   * the same first round from a local directory source;
//   * peak RSS: files stream to disk, so memory does not grow with file size.

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/core.h>

#include <sotto/core/rng.hpp>
#include <sotto/fetch/downloader.hpp>

#include "bench.hpp"
#include "child_server.hpp"

namespace sotto::bench {
namespace {

namespace fs = std::filesystem;
using namespace sotto::fetch;

// tests/fetch/key_server.py serving `root` (requests logged to `log`).
struct Server {
    sotto::test::ChildServer child;
    int port;
    Server(const fs::path& root, const fs::path& log)
        : child({SOTTO_KEY_SERVER_PATH, root.string(), log.string()}), port(child.port()) {}
};

Downloader make(const std::string& source, const fs::path& work, const DownloadOptions& o) {
    auto d = Downloader::create(Source{source}, std::make_unique<FileFetchState>(work / "state"),
                                work / "spool", o);
    if (!d) throw std::runtime_error(d.error().what);
    return std::move(*d);
}

FetchReport round(Downloader& d) {
    auto r = d.fetch_round();
    if (!r) throw std::runtime_error(r.error().what);
    if (r->index_status == IndexStatus::kFailed) throw std::runtime_error(r->index_error.what);
    return std::move(*r);
}

void run(std::uint32_t files, std::uint32_t kib) {
    char tmpl[] = "/tmp/sotto-bench-fetch-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
    const fs::path tmp = tmpl;
    const fs::path root = tmp / "bucket";
    fs::create_directories(root / "exposureKeyExport-XX");
    core::DeterministicRng rng(7);
    std::vector<std::uint8_t> buf(1024);  // written 1 KiB at a time: the bench's RSS stays small
    std::string index;
    for (std::uint32_t i = 0; i < files; ++i) {
        const std::string rel =
            fmt::format("exposureKeyExport-XX/{}-00001.zip", 1614816000 + i * 3600);
        std::ofstream out(root / rel, std::ios::binary);
        for (std::uint32_t k = 0; k < kib; ++k) {
            rng.fill(buf);
            out.write(reinterpret_cast<const char*>(buf.data()),
                      static_cast<std::streamsize>(buf.size()));
        }
        index += rel + "\n";
    }
    std::ofstream(root / "index.txt") << index;
    const double total_mb = static_cast<double>(files) * kib / 1024.0;
    fmt::print("fetch: {} files of {} KiB ({:.1f} MiB) from a python http.server on 127.0.0.1\n",
               files, kib, total_mb);

    Server server(root, tmp / "requests.log");
    const std::string url = fmt::format("http://127.0.0.1:{}", server.port);
    DownloadOptions o;
    o.max_file_bytes = std::uint64_t{kib} * 1024 + 1;
    auto d = make(url, tmp / "work", o);
    auto t0 = Clock::now();
    auto r1 = round(d);
    const double s1 = seconds_since(t0);
    if (r1.count(FileStatus::kNew) != files) throw std::runtime_error("not every file downloaded");
    fmt::print(
        "  round 1 (download all):      {:8.3f} s  {:8.1f} files/s  {:7.1f} MiB/s  {} requests\n",
        s1, files / s1, total_mb / s1, r1.requests);
    for (const auto& f : r1.files) {
        if (!d.mark_used(f.path, f.sha256)) throw std::runtime_error("mark_used failed");
    }
    t0 = Clock::now();
    auto r2 = round(d);
    const double s2 = seconds_since(t0);
    fmt::print("  round 2 (nothing changed):   {:8.3f} ms  {} request(s), {} not modified\n",
               s2 * 1e3, r2.requests, r2.not_modified);

    o.revalidate_downloaded = true;
    auto dr = make(url, tmp / "work", o);
    t0 = Clock::now();
    auto r3 = round(dr);
    const double s3 = seconds_since(t0);
    fmt::print(
        "  round 3 (revalidate all):    {:8.3f} ms  {} requests, {} not modified ({:.2f} ms "
        "each)\n",
        s3 * 1e3, r3.requests, r3.not_modified, s3 * 1e3 / static_cast<double>(r3.requests));

    o.revalidate_downloaded = false;
    auto dl = make(root.string(), tmp / "work-local", o);
    t0 = Clock::now();
    auto r4 = round(dl);
    const double s4 = seconds_since(t0);
    fmt::print("  local directory, round 1:    {:8.3f} s  {:8.1f} files/s  {:7.1f} MiB/s\n", s4,
               files / s4, total_mb / s4);
    fmt::print("  peak RSS (VmHWM):            {} kB\n", vm_hwm_kb());
    fmt::print(
        "fetch_files_per_s={:.1f} fetch_mib_per_s={:.1f} unchanged_round_ms={:.3f} "
        "revalidate_ms_per_file={:.3f} "
        "local_mib_per_s={:.1f} vm_hwm_kb={}\n",
        files / s1, total_mb / s1, s2 * 1e3, s3 * 1e3 / static_cast<double>(r3.requests),
        total_mb / s4, vm_hwm_kb());
    std::error_code ec;
    fs::remove_all(tmp, ec);
}

}  // namespace

void add_fetch_bench(CLI::App& app) {
    auto* cmd = app.add_subcommand("fetch", "Diagnosis-key downloads from a local HTTP server");
    auto files = std::make_shared<std::uint32_t>(200);
    auto kib = std::make_shared<std::uint32_t>(512);
    cmd->add_option("--files", *files, "Number of export files")->check(CLI::Range(1u, 10'000u));
    cmd->add_option("--kib", *kib, "Size of each file in KiB")->check(CLI::Range(1u, 32u * 1024u));
    cmd->callback([files, kib] { run(*files, *kib); });
}

}  // namespace sotto::bench
