#pragma once
/// \file
/// The encrypted encounter store: the device's own TEKs, every beacon it heard (aggregated per
/// RPI and interval as `core::Sighting`), and exposure results. SQLCipher 3.4.1, keyed by a raw
/// key or an Argon2id-stretched passphrase (see credential.hpp). Schema, file layout, error table
/// and durability rules: docs/store.md.
///
/// Files: `PATH` (the encrypted database), `PATH-wal` / `PATH-shm` (SQLite's WAL side files,
/// encrypted pages / page index only) and `PATH.kdf` (plain: key-derivation parameters, salt and a
/// key-check value; no data).
///
/// Thread-safety: an `EncounterStore` may be used from any thread; its calls are serialized on an
/// internal mutex. For reads that run in parallel with a writer, open more `EncounterStore`
/// objects on the same path (in this or another process): the database runs in WAL mode, so
/// readers never block the writer or each other. Two writers on separate connections take turns;
/// one waiting longer than `OpenOptions::busy_timeout_ms` gets kStorageBusy.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sotto/core/heard.hpp>
#include <sotto/core/interval.hpp>
#include <sotto/core/keys.hpp>
#include <sotto/core/publication.hpp>
#include <sotto/core/sighting.hpp>
#include <sotto/result.hpp>
#include <sotto/store/credential.hpp>
#include <sotto/store/records.hpp>

namespace sotto::store {

namespace detail {
struct StoreAccess;  // internal: tests and the benchmark reach the connection through it
}  // namespace detail

/// The encrypted encounter store. Valid once opened; obtain one from `open`.
class EncounterStore {
public:
    /// Opens (or creates) the store at `path`. A writable open of a store that has data but no
    /// clock anchor sets it from that data (see `apply_retention`); nothing else is written.
    ///
    /// Errors, each leaving the files untouched:
    /// * kStorageNotEncrypted: the linked SQLite has no SQLCipher codec (plain SQLite).
    /// * kStorageWrongKey: the credential does not open this store (wrong key or passphrase, or a
    ///   raw key for a passphrase store and vice versa).
    /// * kStorageNotAStore: `path` is not a sotto store (plain SQLite file, another format,
    ///   random bytes, a directory).
    /// * kStorageCorrupt: the key is right but the file is damaged (truncated, bit-flipped), or
    ///   `PATH.kdf` is damaged.
    /// * kStorageNewerSchema: written by a newer sotto.
    /// * kStorageReadOnly: the location cannot be written (and `read_only` is false).
    /// * kStorageFull: no space to create the store.
    /// * kStorageBusy: another connection holds a lock past the busy timeout.
    /// * kStorageIo: no store at `path` and `create_if_missing` is false; other I/O failures.
    /// * kInvalidArgument: options out of range.
    static Result<EncounterStore> open(const std::filesystem::path& path, Credential credential,
                                       const OpenOptions& options = {});

    /// Removes the store at `path` for good ("forget me"): overwrites the database, its WAL and
    /// `PATH.kdf` with zeros, fsyncs, and unlinks all of them. Needs no key. Close every
    /// `EncounterStore` on the path first. kStorageNotAStore (and nothing removed) unless
    /// `PATH.kdf` identifies a sotto store. Zero-overwriting is best effort on flash and
    /// copy-on-write file systems; what makes the old bytes unreadable is the encryption.
    static Result<void> destroy(const std::filesystem::path& path);

    /// Paths of every file belonging to the store at `path` (whether or not they exist).
    static std::vector<std::filesystem::path> files(const std::filesystem::path& path);

    EncounterStore(EncounterStore&&) noexcept;
    EncounterStore& operator=(EncounterStore&&) noexcept;
    ~EncounterStore();

    // ---- Sightings -------------------------------------------------------------------------

    /// Stores a batch of packets in one transaction.
    ///
    /// Each observation is checked (RSSI and time by `core::HeardBeacon::from_observation`; not
    /// older than the retention window of `now_unix`; not more than kMaxFutureSkewSeconds after
    /// it). Invalid ones are reported in `rejected` and never stored; they do not stop the valid
    /// ones. Valid ones are grouped by (RPI, receiver interval, AEM) and aggregated with
    /// `core::make_sighting` / `core::add_observation` (in time order), then merged into the stored
    /// row with `core::merge_sightings`. An RPI keeps at most core::kMaxAemsPerRpi AEMs per
    /// interval; the packets of further AEMs are counted in `aems_dropped`. Either the whole batch
    /// is committed or nothing is.
    Result<IngestReport> ingest(std::span<const core::Observation> batch, std::int64_t now_unix);

    /// The same for packets checked when they were heard (`core::HeardBeacon`): only the
    /// retention window and the future skew are checked here.
    Result<IngestReport> ingest(std::span<const core::HeardBeacon> batch, std::int64_t now_unix);

    /// Sightings with `begin <= interval < end`, ordered by (interval, RPI, AEM).
    Result<std::vector<core::Sighting>> sightings_in_range(core::IntervalNumber begin,
                                                           std::uint64_t end) const;
    /// Sightings of UTC day `day` (intervals `[day * 144, day * 144 + 144)`).
    Result<std::vector<core::Sighting>> sightings_on_day(std::uint32_t day) const;
    /// Distinct intervals that have sightings, ascending (the matcher's prefilter).
    Result<std::vector<core::IntervalNumber>> sighting_intervals() const;
    /// Calls `fn` on every sighting in (interval, RPI, AEM) order until it returns false.
    /// `fn` must not call back into this store.
    Result<void> for_each_sighting(const std::function<bool(const core::Sighting&)>& fn) const;

    // ---- Own keys --------------------------------------------------------------------------

    /// Stores one of the device's own TEKs. Adding the same key again is a no-op;
    /// kInvalidArgument if the TEK is stored with other validity, or the period is not 1..144.
    Result<void> add_own_key(const core::ExposureKey& key, std::int64_t created_unix);
    /// All own keys, ordered by rolling start.
    Result<std::vector<OwnKey>> own_keys() const;
    /// Marks an own key as uploaded. kInvalidArgument if it is not stored.
    Result<void> mark_published(const core::TemporaryExposureKey& tek);

    // ---- Exposure results ------------------------------------------------------------------

    /// Appends exposure records (one transaction). kInvalidArgument for a risk level outside 0..2.
    Result<void> add_exposure_records(std::span<const ExposureRecord> records);
    /// All exposure records, ordered by (day, computed_at).
    Result<std::vector<ExposureRecord>> exposure_records() const;
    /// Records that the diagnosis-key file with this SHA-256 (64 hex digits) was matched.
    Result<void> mark_file_processed(std::string_view sha256_hex, std::int64_t now_unix,
                                     std::uint32_t keys);
    /// True when `mark_file_processed` was called for this SHA-256.
    Result<bool> file_processed(std::string_view sha256_hex) const;

    /// Records one exposure check in ONE transaction: appends `records`, remembers
    /// `publications` (as `remember_key_publications`) and marks each of `files` processed at
    /// `now_unix`. When every one of `files` is already processed (decided inside the
    /// transaction) nothing is written and the result is false; otherwise everything is
    /// committed together and the result is true. A crash at any moment leaves all of it or none
    /// of it. kInvalidArgument (nothing written) for a risk level outside 0..2, a negative
    /// publication time or a malformed SHA-256.
    Result<bool> record_check(std::span<const ExposureRecord> records,
                              std::span<const core::KeyPublication> publications,
                              std::span<const ProcessedFile> files, std::int64_t now_unix);

    /// Remembers when diagnosis keys were published (the Tracer passes
    /// `match::MatchSession::publications` of a recorded check): for a TEK already stored the
    /// earlier time wins, with its window end. One transaction. kInvalidArgument (and nothing
    /// stored) for a negative time. The TEKs are public keys, kept only as identifiers; nothing of
    /// this table is ever logged.
    Result<void> remember_key_publications(std::span<const core::KeyPublication> publications);
    /// Every remembered publication, ordered by TEK. kStorageCorrupt for a malformed row.
    Result<std::vector<core::KeyPublication>> key_publications() const;

    // ---- Maintenance -----------------------------------------------------------------------

    /// Deletes what is older than the retention window of `now_unix`. With
    /// `cutoff = day_start(ENIN(now)) - (retention_days - 1) * 144`, it deletes sightings with
    /// `interval < cutoff`, own keys with `rolling_start + rolling_period <= cutoff`, exposure
    /// records with `day < cutoff / 144`, processed-file entries older than `cutoff`, and key
    /// publications with `window_end + 144 <= cutoff` (no RPI of theirs can match a kept sighting
    /// under any tolerance). Freed
    /// pages are returned to the file system (incremental vacuum + WAL truncation), and the
    /// latest `now_unix` seen is stored as the last retention run.
    ///
    /// **The clock check.** The store keeps a *clock anchor* (`clock_anchor()`): the time it
    /// last trusted. kClockSuspect, deleting and writing nothing, when `now_unix` lies more than
    /// kMaxClockJumpSeconds from the anchor, ahead or behind, unless `options.clock_confirmed`.
    /// An unconfirmed successful run moves the anchor forward to `now_unix` (never back); a
    /// confirmed run sets it to `now_unix` exactly (the host's word repairs an anchor set by a
    /// wrong clock). When a store without one is opened for writing, it is set from the data
    /// already stored (end of the newest sighting's interval, newest own key's creation, last
    /// retention run of an older version), before the opening process writes anything. Once
    /// there is an anchor, data written after it (sightings heard, own keys made under the clock
    /// being judged) never vouches for the clock. Without an anchor (the store was empty when
    /// opened and retention has not run since, or it was too full to take the anchor row) the
    /// newest data stands in; an empty store accepts any clock (nothing to lose), and that first
    /// run sets the anchor: if that clock was wrong, later runs are suspect until confirmed.
    ///
    /// So retention follows a clock that moves at most kMaxClockJumpSeconds between successful
    /// runs: a clock pushed forward in steps of less than 3 days, each followed by a run, is
    /// followed (the Tracer adds an elapsed-time check within one process). A clock set back by
    /// less than 3 days deletes only what is older than its own retention window, which is never
    /// more than the true time would delete; data stamped after `now_unix` (heard or made while
    /// the clock was ahead) is kept until the clock has passed it by the retention window.
    Result<RetentionReport> apply_retention(std::int64_t now_unix,
                                            const RetentionOptions& options = {});

    /// The clock anchor (Unix seconds; see `apply_retention`), or empty when the store has none
    /// yet. Reading only.
    Result<std::optional<std::int64_t>> clock_anchor() const;

    /// Deletes every row ("forget me" while keeping the store usable), then vacuums. Only the
    /// clock anchor stays (a time the store trusted, nothing about the user; see
    /// `apply_retention`), so a clock that jumps after the erase still deletes nothing, and the
    /// erase mark (`erased_at`). With `erased_at_ms` (the caller's clock at the erase, Unix ms)
    /// the mark is set to it, in the same transaction as the deletion: after a crash at any
    /// point the store is either not erased, or erased and marked. Without it an earlier mark
    /// stays as it was. Nothing but a time is stored. Errors: kStorageReadOnly on a store opened
    /// read-only, and those of any write (kStorageIo, ...), which leave the store unchanged.
    Result<void> erase_all(std::optional<std::int64_t> erased_at_ms = std::nullopt);

    /// The erase mark left by the last `erase_all` given a time (Unix ms), or empty when there is
    /// none (never erased with a time, or erased by an older version). Reading only.
    Result<std::optional<std::int64_t>> erased_at() const;

    /// Changes the key or passphrase. Atomic: after a crash at any point, exactly one of the old
    /// and the new credential opens the store, with all data. Needs no other open connection.
    Result<void> rekey(Credential new_credential);

    /// Full check: `PRAGMA integrity_check` (which reads, and so authenticates, every page),
    /// schema version and row format. kStorageCorrupt when anything is wrong.
    Result<void> verify() const;

    /// Counts of stored rows.
    Result<StoreStats> stats() const;

    /// The retention window in days this store was opened with.
    std::uint32_t retention_days() const noexcept;

private:
    friend struct detail::StoreAccess;
    struct Impl;
    explicit EncounterStore(std::unique_ptr<Impl> impl) noexcept;
    std::unique_ptr<Impl> impl_;
};

/// First interval kept by retention at `now_unix` (see `apply_retention`).
/// kOutOfRange for a time outside the ENIN range; kInvalidArgument for retention_days 0.
Result<core::IntervalNumber> retention_cutoff(std::int64_t now_unix, std::uint32_t retention_days);

}  // namespace sotto::store
