// sotto-bench-plain-sqlite: the store benchmark's workload on plain SQLite 3.40, with the store
// code compiled against libsqlite3 (sotto_store_plain) and no encryption. Started by
// `sotto-bench store`; prints its numbers, the last line key=value.
#include <filesystem>
#include <stdexcept>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "store/store_access.hpp"
#include "store_workload.hpp"

namespace {

// Creates the database, or reopens it when it exists; same options as the encrypted run.
sotto::Result<sotto::store::EncounterStore> open_plain(const std::string& path, bool /*create*/) {
    return sotto::store::detail::StoreAccess::open_unencrypted_for_benchmark(path, {});
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"plain-SQLite half of sotto-bench store"};
    std::uint64_t rows = 1'000'000;
    std::string dir;
    app.add_option("--rows", rows)->required();
    app.add_option("--dir", dir)->required();
    CLI11_PARSE(app, argc, argv);
    try {
        const auto db = std::filesystem::path(dir) / "plain-sqlite.db";
        for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
            auto f = db;
            f += suffix;
            std::filesystem::remove(f);
        }
        const auto run = sotto::bench::run_store_workload(&open_plain, db.string(), rows);
        fmt::print("plain SQLite: {:.0f} observations/s ({} observations -> {} rows in {:.2f} s)\n",
                   run.ingest_per_s(), run.observations, run.rows, run.ingest_seconds);
        fmt::print("plain SQLite: one-day query {:.1f} ms first, {:.1f} ms median ({} sightings)\n",
                   run.first_query_ms, run.median_query_ms, run.day_rows);
        fmt::print("plain SQLite: {:.1f} bytes per sighting\n", run.bytes_per_sighting());
        for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
            auto f = db;
            f += suffix;
            std::filesystem::remove(f);
        }
        fmt::print("plain_sqlite_ingest_per_s={:.0f} plain_query_ms={:.1f}\n", run.ingest_per_s(),
                   run.median_query_ms);
    } catch (const std::exception& e) {
        fmt::print(stderr, "sotto-bench-plain-sqlite: {}\n", e.what());
        return 1;
    }
    return 0;
}
