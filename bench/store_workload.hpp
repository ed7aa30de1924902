#pragma once
// The workload of `sotto-bench store`, shared by sotto-bench (SQLCipher) and
// sotto-bench-plain-sqlite (the same store code on plain SQLite 3.40).
//
// A realistic receiver log: 14 days ending at `kNow`, every 10-minute interval with the same
// number of distinct RPIs, each heard 1..5 times (3 on average) at random moments of its interval,
// delivered in time order in batches of 1000 observations. Deterministic.

#include <cstdint>
#include <string>
#include <vector>

#include <sotto/core/sighting.hpp>
#include <sotto/store/encounter_store.hpp>

namespace sotto::bench {

inline constexpr std::int64_t kStoreBenchNow = 1'700'000'000;
inline constexpr std::size_t kStoreBenchBatch = 1000;

/// Produces the observations, batch by batch.
class StoreWorkload {
public:
    /// About `rows` (RPI, interval) rows in total.
    explicit StoreWorkload(std::uint64_t rows);
    /// The next batch (at most kStoreBenchBatch observations); false when done.
    bool next(std::vector<core::Observation>& batch);
    /// A day in the middle of the data (for the one-day query).
    std::uint32_t middle_day() const noexcept;

private:
    void fill_interval();

    std::vector<core::IntervalNumber> intervals_;
    std::size_t next_interval_ = 0;
    std::uint32_t rpis_per_interval_ = 0;
    std::vector<core::Observation> pending_;
    std::size_t pending_pos_ = 0;
    std::uint64_t state_ = 0x9e3779b97f4a7c15ull;
};

struct StoreRun {
    std::uint64_t observations = 0;
    std::uint64_t rows = 0;
    double ingest_seconds = 0;
    double first_query_ms = 0;   ///< one-day query on a freshly opened store
    double median_query_ms = 0;  ///< median of the following runs
    std::uint64_t day_rows = 0;  ///< sightings returned by the one-day query
    std::uint64_t file_bytes = 0;

    double ingest_per_s() const {
        return ingest_seconds > 0 ? static_cast<double>(observations) / ingest_seconds : 0;
    }
    double bytes_per_sighting() const {
        return rows ? static_cast<double>(file_bytes) / static_cast<double>(rows) : 0;
    }
};

/// Opens a store with `open` (called twice: for ingest, then again for the queries), runs the
/// workload. Throws std::runtime_error on a store error.
using StoreOpener = Result<store::EncounterStore> (*)(const std::string& path, bool create);
StoreRun run_store_workload(StoreOpener open, const std::string& path, std::uint64_t rows);

}  // namespace sotto::bench
