// sotto-bench store: ingest rate of the encrypted store (batches of 1000), against the same schema
// and code on plain SQLite 3.40 run in a helper process (a process cannot load libsqlcipher and
// libsqlite3 together: they define the same symbols); one-day query time and bytes on disk per
// stored sighting.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>

#include <fmt/core.h>

#include <sotto/store/encounter_store.hpp>

#include "bench.hpp"
#include "store_workload.hpp"

namespace sotto::bench {
namespace {

Result<store::EncounterStore> open_sqlcipher(const std::string& path, bool create) {
    store::StoreKey key;
    for (std::size_t i = 0; i < key.expose_secret_mut().size(); ++i)
        key.expose_secret_mut()[i] = static_cast<std::uint8_t>(i * 13 + 5);
    store::OpenOptions o;
    o.create_if_missing = create;
    return store::EncounterStore::open(path, store::Credential::raw_key(std::move(key)), o);
}

std::string plain_helper_path() {
    // Next to this executable.
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const auto p = self.parent_path() / "sotto-bench-plain-sqlite";
        if (std::filesystem::exists(p)) return p.string();
    }
    return SOTTO_BENCH_PLAIN_PATH;
}

// Runs the helper and returns its last line ("plain_sqlite_ingest_per_s=... ...").
std::string run_plain(const std::string& dir, std::uint64_t rows) {
    const std::string cmd =
        plain_helper_path() + " --dir '" + dir + "' --rows " + std::to_string(rows);
    FILE* f = popen(cmd.c_str(), "r");
    if (f == nullptr) throw std::runtime_error("cannot start sotto-bench-plain-sqlite");
    std::string out, last;
    char buf[512];
    while (std::fgets(buf, sizeof buf, f) != nullptr) out += buf;
    const int status = pclose(f);
    if (status != 0) throw std::runtime_error("sotto-bench-plain-sqlite failed:\n" + out);
    std::size_t end = out.find_last_not_of('\n');
    std::size_t start = out.rfind('\n', end);
    last = out.substr(start == std::string::npos ? 0 : start + 1,
                      end - (start == std::string::npos ? 0 : start + 1) + 1);
    fmt::print("{}", out.substr(0, start == std::string::npos ? 0 : start + 1));
    return last;
}

double field(const std::string& line, const std::string& key) {
    const auto at = line.find(key + "=");
    if (at == std::string::npos) throw std::runtime_error("missing " + key + " in: " + line);
    return std::stod(line.substr(at + key.size() + 1));
}

}  // namespace

void add_store_bench(CLI::App& app) {
    auto* cmd = app.add_subcommand("store",
                                   "Encrypted store: ingest rate vs plain SQLite, day query, size");
    static std::uint64_t rows = 1'000'000;
    static std::string dir;
    static bool keep = false;
    static int repeat = 2;
    cmd->add_option("--rows", rows, "Sightings (RPI-interval rows) to store")
        ->capture_default_str();
    cmd->add_option("--dir", dir, "Directory for the databases (default: a temporary one)");
    cmd->add_option("--repeat", repeat,
                    "Alternating runs of each variant; the best of them counts (damps the noise "
                    "of other processes on a shared machine)")
        ->capture_default_str()
        ->check(CLI::Range(1, 10));
    cmd->add_flag("--keep", keep, "Keep the encrypted database (in --dir) for inspection");
    cmd->callback([] {
        std::filesystem::path base = dir;
        bool temporary = false;
        if (base.empty()) {
            std::string tmpl =
                (std::filesystem::temp_directory_path() / "sotto-bench-XXXXXX").string();
            if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
            base = tmpl;
            temporary = true;
        }
        const auto db = base / "sotto-store.db";
        fmt::print(
            "workload: {} sightings over 14 days, 1-5 packets each, batches of {}; best of {}\n",
            rows, kStoreBenchBatch, repeat);
        StoreRun best;
        double best_query = 0;
        double plain_rate = 0;
        for (int run = 0; run < repeat; ++run) {
            for (const auto& f : store::EncounterStore::files(db)) std::filesystem::remove(f);
            const StoreRun enc = run_store_workload(&open_sqlcipher, db.string(), rows);
            fmt::print(
                "sqlcipher:    {:.0f} observations/s ({} observations -> {} rows in {:.2f} s)\n",
                enc.ingest_per_s(), enc.observations, enc.rows, enc.ingest_seconds);
            fmt::print(
                "sqlcipher:    one-day query {:.1f} ms first, {:.1f} ms median ({} sightings)\n",
                enc.first_query_ms, enc.median_query_ms, enc.day_rows);
            fmt::print("sqlcipher:    {} bytes on disk, {:.1f} bytes per sighting\n",
                       enc.file_bytes, enc.bytes_per_sighting());
            if (run == 0 || enc.ingest_per_s() > best.ingest_per_s()) best = enc;
            if (run == 0 || enc.median_query_ms < best_query) best_query = enc.median_query_ms;
            const std::string plain = run_plain(base.string(), rows);
            plain_rate = std::max(plain_rate, field(plain, "plain_sqlite_ingest_per_s"));
        }
        fmt::print("ratio sqlcipher/plain: {:.2f}\n", best.ingest_per_s() / plain_rate);
        fmt::print("one_day_query_ms={:.1f}\n", best_query);
        fmt::print(
            "store_ingest_per_s={:.0f} plain_sqlite_ingest_per_s={:.0f} "
            "bytes_per_sighting={:.0f}\n",
            best.ingest_per_s(), plain_rate, best.bytes_per_sighting());
        if (keep && !temporary) return;
        for (const auto& f : store::EncounterStore::files(db)) std::filesystem::remove(f);
        if (temporary) std::filesystem::remove_all(base);
    });
}

}  // namespace sotto::bench
