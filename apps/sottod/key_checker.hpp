#pragma once
// sottod's key rounds: the library's KeyUpdater (download from `--keys-url` or `--keys-dir`,
// verify, check through the Tracer, mark used or refused) plus the counters the status socket
// serves and the journal lines. See docs/daemon.md.
//
// Threading: `run_round` from one thread at a time (the daemon's key thread); `cancel` and
// `summary` from any.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

#include <sotto/tracer.hpp>
#include <sotto/update/key_updater.hpp>

#include "config.hpp"

namespace sotto::sottod {

/// What the key rounds did so far (no identifiers; served by the status socket).
struct KeySummary {
    std::uint64_t rounds = 0;
    std::uint64_t rounds_failed = 0;     ///< index could not be fetched, or the round failed
    std::uint64_t files_downloaded = 0;  ///< new files this daemon downloaded
    std::uint64_t files_failed = 0;      ///< download failures (retried next round)
    std::uint64_t files_refused = 0;     ///< verification failures (dropped until they change)
    std::uint64_t files_used = 0;        ///< checked completely and marked used
    std::uint64_t files_unchanged = 0;   ///< listed again, already used or refused: skipped
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
    /// The updater over `config.fetch_dir` (state, spool, trusted keys' fingerprint).
    /// kInvalidArgument / kNetworkRefused for a source the downloader refuses, kStorageIo for
    /// the directory.
    static Result<std::unique_ptr<KeyChecker>> create(const Config& config, Tracer& tracer,
                                                      const Clock& clock) noexcept;

    /// One round. Errors only for the round as a whole (state or spool unwritable, store
    /// failure, out of memory).
    Result<void> run_round() noexcept;

    /// Stops the running round (or the next one) within a fraction of a second, whatever the
    /// key server does. Thread-safe.
    void cancel() noexcept { updater_.cancel(); }

    KeySummary summary() const;

private:
    KeyChecker(KeyUpdater updater, const Clock& clock) noexcept
        : updater_(std::move(updater)), clock_(&clock) {}
    void add(const UpdateReport& report);

    KeyUpdater updater_;
    const Clock* clock_;
    mutable std::mutex mutex_;
    KeySummary summary_;
};

}  // namespace sotto::sottod
