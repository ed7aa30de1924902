#pragma once
/// \file
/// The Tracer: one object an app holds for the whole GAEN flow on the device: the encrypted
/// store, optionally a radio, the device's own TEKs, what to broadcast, what was heard, key-file
/// imports and the exposure check, the release of own keys after consent, erasing everything.
/// How and why (key rolls, batching, check rounds, records, erase marks): docs/tracer.md.
///
/// Time comes only from the injected `Clock`; randomness from `TracerOptions::rng` or the
/// system CSPRNG.
///
/// Threading: every method may be called from any thread; imports and checks are serialized
/// with each other. Callbacks (`on_check`, the log sink) run on the calling thread and must not
/// call into the Tracer.
///
/// Errors: no method throws. kOutOfMemory for allocation failures, the store's codes (kStorage*)
/// for store failures, kInvalidArgument for bad arguments, kOutOfRange for a clock outside the
/// ENIN range. A failed call leaves everything already stored intact.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include <sotto/ble/radio.hpp>
#include <sotto/clock.hpp>
#include <sotto/core/keys.hpp>
#include <sotto/core/payload.hpp>
#include <sotto/core/sighting.hpp>
#include <sotto/result.hpp>
#include <sotto/store/credential.hpp>
#include <sotto/store/records.hpp>
#include <sotto/tracer/options.hpp>
#include <sotto/tracer/results.hpp>

namespace sotto::core {
class HeardBeacon;
}  // namespace sotto::core

namespace sotto {

class PublishConsent;

/// The only way to make a `PublishConsent`: call it exactly where the user confirmed, in the
/// app's UI, that their own keys may be uploaded to the health authority. Greppable on purpose.
PublishConsent user_confirmed_upload_of_own_keys() noexcept;

/// Proof, in the type system, that the user agreed to publish their own keys (see
/// `Tracer::release_own_keys`). Cannot be made any other way than by
/// `user_confirmed_upload_of_own_keys()`.
class PublishConsent {
private:
    PublishConsent() noexcept = default;
    friend PublishConsent user_confirmed_upload_of_own_keys() noexcept;
};

/// What to broadcast now, in the forms hosts need.
struct OwnAdvertisement {
    /// False when nothing may be broadcast until `valid_until_ms` (right after a restart or a
    /// release of own keys, within an interval that may already have been broadcast: an RPI is
    /// never used for a second interval, nor a released key at all). The other fields are
    /// empty then: stop advertising.
    bool active = true;
    /// RPI (16) || AEM (4): the service data under UUID 0xFD6F (what iOS/Android APIs take).
    core::ServiceData service_data{};
    /// The full legacy advertising data (31 bytes with Flags, or 28 without, as
    /// `TracerOptions::advertising_form` says).
    core::AdvertisingData advertising_data;
    /// The random non-resolvable address to send from (changes with the RPI).
    ble::Address address;
    /// The ENIN the RPI was derived for (the interval in which this broadcast started).
    core::IntervalNumber interval = 0;
    /// When to ask again at the latest (Unix ms): the advertisement must change then. A broadcast
    /// lasts 10-20 minutes (random, `TracerOptions::min_rotation_ms/max_rotation_ms`), and a new
    /// one starts exactly at UTC midnight.
    std::int64_t valid_until_ms = 0;

    /// The same, as a `ble::Advertisement` for a `ble::Radio`.
    ble::Advertisement to_radio(std::int8_t tx_power_dbm) const noexcept;
};

/// One of the device's own keys, as released for upload.
struct ReleasedKey {
    /// TEK and validity. Today's key is released with its period cut to the intervals it was
    /// actually broadcast (through the current one); the rest of the day gets a new TEK.
    core::ExposureKey key;
    /// True when it had been released before (a retry of an upload).
    bool released_before = false;
};

/// The facade. Valid once opened; movable, not copyable.
class Tracer {
public:
    /// Opens (or, with `options.store.create_if_missing`, creates) the store at `path`. Does not
    /// create a TEK yet (that happens at the first advertisement). `clock` must outlive the
    /// Tracer.
    ///
    /// Errors: every error of `store::EncounterStore::open`; kInvalidArgument for options out of
    /// range (flush_count, max_pending, flush_interval_ms, batch_keys 0); kCryptoFailure when
    /// the system CSPRNG or AES cannot be set up; kOutOfMemory.
    static Result<Tracer> open(const std::filesystem::path& path, store::Credential credential,
                               const Clock& clock, TracerOptions options = {}) noexcept;

    Tracer(Tracer&&) noexcept;
    Tracer& operator=(Tracer&&) noexcept;
    /// Stops an attached radio, writes pending observations (errors are logged, not thrown),
    /// closes the store.
    ~Tracer();

    // ---- Broadcasting ----------------------------------------------------------------------

    /// What to broadcast now. Rolls the TEK at the day boundary (stored before it is used) and
    /// changes RPI and address at each interval boundary. Errors: store errors (the TEK could not
    /// be stored: nothing is broadcast from an unstored key), kOutOfRange (clock before 1970 or
    /// beyond the ENIN range), kOutOfMemory.
    Result<OwnAdvertisement> current_advertisement() noexcept;

    // ---- Hearing ---------------------------------------------------------------------------

    /// Takes one heard advertisement: `bytes` is either the 20-byte service data or the full
    /// advertising data (with or without Flags). `rssi_dbm` as measured; `time_ms` the receiver
    /// clock in Unix ms (use the `Clock` given to `open` unless the radio stamps packets).
    /// kInvalidArgument (counted as malformed) when the bytes are not a GAEN advertisement;
    /// kOutOfRange for an RSSI outside -127..20 dBm or a time before 1970 or beyond the ENIN
    /// range (the checks of `core::HeardBeacon::decode`, made once). Otherwise success: a
    /// store failure while this call writes a batch keeps the batch pending (`flush_failures`),
    /// and an observation that finds the buffer full is dropped and counted
    /// (`dropped_overflow`). Cheap: no store transaction except every `flush_count` observations.
    Result<void> on_advertisement(std::span<const std::uint8_t> bytes, int rssi_dbm,
                                  std::int64_t time_ms) noexcept;

    /// Takes one packet already checked (`core::HeardBeacon`, e.g. from a host's own decoder):
    /// the same as above without the checks; counted in `heard`. Never fails.
    Result<void> on_advertisement(const core::HeardBeacon& heard) noexcept;

    /// Writes pending observations now (one transaction). On failure they stay pending.
    Result<void> flush() noexcept;

    /// Stores already decoded observations (e.g. an imported capture) in one transaction, after
    /// writing the pending ones. Same checks, and the same report (rejections by index in
    /// `batch`), as `store::EncounterStore::ingest` at the clock's now, except that observations
    /// in or before the second of the last `erase_all` are left out: neither accepted nor
    /// rejected, counted in `TracerStatus::discarded`.
    Result<store::IngestReport> ingest(std::span<const core::Observation> batch) noexcept;

    /// Periodic work (call every few seconds, or at least once per minute): applies retention
    /// once per UTC day, then writes pending observations when due, rolls the TEK, rotates an
    /// attached radio's payload and address when due, and switches its scanner on the duty cycle.
    /// Retention comes first, so the clock is judged before anything is written under it.
    /// A suspect clock is not an error: retention is paused (nothing deleted,
    /// `TickReport::retention` is kPausedClockSuspect, `status().clock_suspect` is set) and the
    /// next tick tries again; `TracerOptions::clock_confirmed` may vouch for the clock. See
    /// docs/tracer.md ("Retention and a wrong clock") for when a clock is suspect.
    /// Errors: the first failure met (store, radio, kOutOfRange for the clock); the rest of the
    /// work is still done.
    Result<TickReport> tick() noexcept;

    // ---- Radio -----------------------------------------------------------------------------

    /// Takes ownership of `radio`, starts advertising the current advertisement and scanning on
    /// the duty cycle (heard advertisements go through the same feed as `on_advertisement`;
    /// service data under other UUIDs is counted by the feed and ignored). `tick()` then rotates
    /// and duty-cycles it. Replaces (and stops) a radio attached earlier. kInvalidArgument for
    /// null. A radio that reports kBleUnavailable is still attached (the backend keeps the
    /// wish); other errors leave it unattached.
    Result<void> attach_radio(std::unique_ptr<ble::Radio> radio) noexcept;

    /// Stops and releases the attached radio (no-op without one). Once it returns, no scan
    /// callback of that radio is running.
    Result<void> detach_radio() noexcept;

    // ---- Key files and the exposure check --------------------------------------------------

    /// Imports a key file from disk (zip, loose export.bin with export.sig beside it, or a
    /// directory holding both) into the current check round. Only regular files are read (a
    /// FIFO or a device is refused at once with kKeyFileIo, without opening it). File problems
    /// (unreadable, malformed, too large, unsigned, untrusted, bad signature) are reported in the
    /// outcome and change nothing; the call itself fails only when the store or the engine fails,
    /// or with kOutOfMemory.
    Result<KeyFileOutcome> import_key_file(const std::filesystem::path& path,
                                           const ImportOptions& options = {}) noexcept;

    /// Imports an export.zip held in memory (e.g. downloaded). Same contract.
    Result<KeyFileOutcome> import_key_file(std::span<const std::uint8_t> zip_bytes,
                                           const ImportOptions& options = {}) noexcept;

    /// Imports an export.bin and export.sig held in memory (empty `sig`: unsigned). Same contract.
    Result<KeyFileOutcome> import_key_pair(std::span<const std::uint8_t> export_bin,
                                           std::span<const std::uint8_t> export_sig,
                                           const ImportOptions& options = {}) noexcept;

    /// Closes the current round: builds the report at the clock's now, records it (only when
    /// every matched file verified and one is new: docs/tracer.md, "Records"), calls `on_check`,
    /// and returns it. A check with no file imported returns an empty report over no sightings (and
    /// records nothing). Errors: store or engine failures, kOutOfMemory; the round is discarded
    /// then (import again).
    Result<CheckReport> check() noexcept;

    /// Discards the open check round: the files imported since the last check are forgotten
    /// (import them again), nothing is recorded. No-op without an open round.
    void discard_round() noexcept;

    /// The trust store key files are verified with (`TracerOptions::trust`).
    const keyfile::TrustStore& trust() const noexcept;

    /// Convenience: imports every path, then checks.
    Result<CheckReport> check_files(std::span<const std::filesystem::path> paths,
                                    const ImportOptions& options = {}) noexcept;

    /// Exposure records of earlier checks, ordered by (day, computed_at).
    Result<std::vector<store::ExposureRecord>> exposure_records() const noexcept;

    // ---- Own keys --------------------------------------------------------------------------

    /// The own TEKs of the retention window for upload, oldest first, marked as published.
    /// Today's key is rolled first (GAEN releases a key only after it stopped being broadcast):
    /// its released period ends with the current interval, nothing is broadcast for the rest of
    /// that interval (an attached radio stops advertising at once), and a new TEK is used from
    /// the next interval on, so a released key is never broadcast again. Errors: store errors (keys
    /// marked before the failure stay marked; a retry returns them with `released_before`),
    /// kOutOfRange (clock), kOutOfMemory.
    Result<std::vector<ReleasedKey>> release_own_keys(PublishConsent consent) noexcept;

    /// Number of own TEKs stored (published or not); no key material.
    Result<std::size_t> own_key_count() const noexcept;

    // ---- Erase and status ------------------------------------------------------------------

    /// "Forget me": deletes every sighting, own key, exposure record and processed-file entry
    /// and drops the open round and the pending observations (counted in
    /// `TracerStatus::discarded`). Leaves an erase mark (the clock's now, stored with the erase
    /// and armed again by `open`): observations stamped at or before it that arrive later are
    /// dropped and counted in `discarded` too; a clock more than 5 minutes behind the mark drops
    /// it (docs/tracer.md, "Forget me"). The store stays open; advertising resumes with a new
    /// TEK from the next interval on. Errors: the store's (`EncounterStore::erase_all`; pending
    /// observations are dropped even then), kOutOfMemory.
    Result<void> erase_all() noexcept;

    /// Counters (no identifiers).
    TracerStatus status() const noexcept;

    /// Counts of stored rows.
    Result<store::StoreStats> store_stats() const noexcept;

    /// Deletes what is older than the retention window as of the clock's now
    /// (`store::EncounterStore::apply_retention`); `tick()` does it once per UTC day.
    /// kClockSuspect (nothing deleted) when the clock is more than 3 days from the store's clock
    /// anchor or ran ahead of the elapsed time since the last run (as in `tick()`), unless
    /// `options.clock_confirmed` says the host vouches for the time (the anchor is then set to
    /// it). Updates `status().clock_suspect` as `tick()` does.
    Result<store::RetentionReport> apply_retention(store::RetentionOptions options = {}) noexcept;

private:
    struct Impl;
    explicit Tracer(std::unique_ptr<Impl> impl) noexcept;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sotto
