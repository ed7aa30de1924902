#pragma once
/// \file
/// The encounter store's plain values: options, reports, records (`store::EncounterStore`
/// takes and returns them; the Tracer's declarations need them without the store's class).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <sotto/core/interval.hpp>
#include <sotto/core/keys.hpp>
#include <sotto/error.hpp>

namespace sotto::store {

/// Schema version (`PRAGMA user_version`) this code writes.
inline constexpr int kSchemaVersion = 4;
/// Days of data kept by default (GAEN keeps 14 days).
inline constexpr std::uint32_t kDefaultRetentionDays = 14;
/// Observations more than this far after `now` are refused as "in the future".
inline constexpr std::int64_t kMaxFutureSkewSeconds = 300;

/// How far (seconds) `apply_retention`'s clock may be from the store's clock anchor, ahead or
/// behind (see `apply_retention`), before it is suspect: 3 days. A daemon runs retention at least
/// daily; a jump of years (a board without a real-time clock, a bad time sync) would otherwise
/// delete every row at once.
inline constexpr std::int64_t kMaxClockJumpSeconds = 3 * 86400;

/// Options for `apply_retention`.
struct RetentionOptions {
    /// The host vouches for the clock (e.g. synchronized by NTP, or a time given by the user):
    /// skip the kClockSuspect check, and set the clock anchor to this time exactly. Use after a
    /// device was really unused for days, or when a suspect clock is known to be right.
    bool clock_confirmed = false;
};

/// How hard a commit insists on reaching the disk.
enum class Durability : std::uint8_t {
    /// `synchronous=FULL`: a commit returns after the WAL is fsynced. Survives power loss.
    kFull,
    /// `synchronous=NORMAL`: survives a crash of the process, may lose the last commits on power
    /// loss (never corrupts).
    kNormal,
};

/// Options for `EncounterStore::open`.
struct OpenOptions {
    /// Create the store (database and `PATH.kdf`) when `PATH` does not exist.
    bool create_if_missing = true;
    /// Open for reading only: nothing is written, not even a finished rekey's side file.
    bool read_only = false;
    /// Days kept by `apply_retention` (1..3650): the day of `now` and the days before it.
    std::uint32_t retention_days = kDefaultRetentionDays;
    /// Upper bound of the database size in bytes (0: no bound). Writes beyond it fail with
    /// kStorageFull and change nothing.
    std::uint64_t max_bytes = 0;
    Durability durability = Durability::kFull;
    /// How long to wait for another connection's lock before kStorageBusy.
    std::uint32_t busy_timeout_ms = 5000;
    /// SQLite page cache per connection, in KiB (decrypted pages).
    std::uint32_t cache_kib = 8192;
};

/// One observation refused by `ingest`.
struct Rejection {
    std::size_t index = 0;  ///< position in the batch
    Error error;            ///< why (static text)
};

/// What `ingest` did.
struct IngestReport {
    std::size_t accepted = 0;  ///< observations stored
    std::vector<Rejection> rejected;
    std::size_t new_rows = 0;      ///< (RPI, interval, AEM) rows created
    std::size_t updated_rows = 0;  ///< existing rows that absorbed observations
    /// Valid packets not stored because their RPI already had core::kMaxAemsPerRpi other AEMs
    /// in that receiver interval (the kept rows of that RPI are then flagged `aem_conflict`).
    std::size_t aems_dropped = 0;
};

/// What `apply_retention` deleted.
struct RetentionReport {
    core::IntervalNumber cutoff = 0;  ///< first interval kept
    std::size_t sightings = 0;
    std::size_t own_keys = 0;
    std::size_t exposure_records = 0;
    std::size_t processed_files = 0;
    std::size_t key_publications = 0;
};

/// Counts for `sotto store stats`.
struct StoreStats {
    std::uint64_t sightings = 0;  ///< (RPI, interval, AEM) rows
    std::uint64_t rpis = 0;       ///< distinct RPIs
    std::uint64_t days = 0;       ///< distinct UTC days with sightings
    std::uint64_t own_keys = 0;
    std::uint64_t exposure_records = 0;
    std::uint64_t processed_files = 0;
    std::uint64_t key_publications = 0;  ///< see `key_publications`
};

/// One of the device's own TEKs.
struct OwnKey {
    core::ExposureKey key;
    std::int64_t created = 0;  ///< Unix seconds
    bool published = false;    ///< uploaded to the health authority
};

/// The result of one exposure check for one day.
struct ExposureRecord {
    std::int64_t computed_at = 0;  ///< Unix seconds
    std::uint32_t day = 0;         ///< days since the epoch (ENIN / 144)
    int risk_level = 0;            ///< 0 none, 1 low, 2 high
    std::uint32_t windows = 0;     ///< ExposureWindows that contributed
    double weighted_minutes = 0;  ///< the day's CWA normalized time (TRL value × weighted minutes)
    int min_attenuation_db = 0;

    friend bool operator==(const ExposureRecord&, const ExposureRecord&) = default;
};

/// A diagnosis-key file a check used, for `EncounterStore::record_check`.
struct ProcessedFile {
    std::string sha256_hex;  ///< of its export.bin, 64 hex digits
    std::uint32_t keys = 0;  ///< keys it delivered
};

}  // namespace sotto::store
