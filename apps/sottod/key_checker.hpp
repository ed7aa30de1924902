#pragma once
// sottod's key rounds: download (lib/fetch) from `--keys-url` or `--keys-dir`, verify and check
// each new file through the Tracer, and mark a file used only once it was judged completely.
//
// Per file, one Tracer check round:
// * refused (unsigned, bad signature, untrusted, damaged): not marked; it stays pending in the
//   spool and is tried again next round (a fixed trust store or a late signature then counts);
// * checked: marked used at once. There is no embargo to wait for: a key still in use is matched
//   like any other, and a sighting of it heard after the file was obtained is suspect anyway
//   ("heard after the key was published", docs/threat-model.md), so matching again later could
//   only add what must not count;
// * checked completely: marked used; never downloaded or matched again, across restarts.
// Nothing of a file is used before its signature verified (the Tracer imports fail-closed).
//
// Threading: `run_round` from one thread at a time (the daemon's key thread); `summary` from any.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

#include <sotto/fetch/downloader.hpp>
#include <sotto/keyfile/export_reader.hpp>
#include <sotto/tracer.hpp>

#include "config.hpp"

namespace sotto::sottod {

/// What the key rounds did so far (no identifiers; served by the status socket).
struct KeySummary {
    std::uint64_t rounds = 0;
    std::uint64_t rounds_failed = 0;     ///< index could not be fetched, or the round failed
    std::uint64_t files_downloaded = 0;  ///< new files this daemon downloaded
    std::uint64_t files_failed = 0;      ///< download failures (retried next round)
    std::uint64_t files_refused = 0;     ///< verification failures (retried next round)
    std::uint64_t files_used = 0;        ///< checked completely and marked used
    std::uint64_t files_unchanged = 0;   ///< listed again, already used: skipped
    std::uint64_t checks = 0;            ///< Tracer check rounds run
    std::int64_t last_round_unix = 0;    ///< daemon clock, 0 before the first round
    bool last_round_ok = false;
    // Results (latest check that found something, and totals).
    std::uint64_t exposure_windows = 0;  ///< windows in all checks so far
    std::uint64_t valid_matches = 0;
    std::uint64_t suspect_matches = 0;
    int risk_level = 0;  ///< highest CWA level seen: 0 none, 1 low, 2 high
    std::optional<std::int64_t> most_recent_high_risk_day;  ///< UTC midnight, Unix s
    std::optional<std::int64_t> most_recent_low_risk_day;
};

class KeyChecker {
public:
    /// Opens the download state and spool under `config.fetch_dir`. kInvalidArgument /
    /// kNetworkRefused for a source the downloader refuses, kStorageIo for the directory.
    static Result<std::unique_ptr<KeyChecker>> create(const Config& config, Tracer& tracer,
                                                      const Clock& clock) noexcept;

    /// One round. `stop` cancels the downloads in flight (checked between bytes). Errors only
    /// for the round as a whole (state or spool unwritable, store failure, out of memory).
    Result<void> run_round(const std::atomic<bool>& stop) noexcept;

    KeySummary summary() const;

private:
    KeyChecker(fetch::Downloader downloader, Tracer& tracer, const Clock& clock) noexcept
        : downloader_(std::move(downloader)), tracer_(&tracer), clock_(&clock) {}
    Result<void> use_file(const fetch::FetchedFile& file) noexcept;
    void add_results(const CheckReport& report);

    fetch::Downloader downloader_;
    Tracer* tracer_;
    const Clock* clock_;
    mutable std::mutex mutex_;
    KeySummary summary_;
};

}  // namespace sotto::sottod
