#pragma once
// The Tracer's state, shared by its implementation files (tracer.cpp: lifecycle, status, erase;
// own_keys.cpp: TEKs and the advertisement (lib/ble's RotationScheduler); heard.cpp: heard
// advertisements through lib/ble's BeaconFeed into the store; round.cpp: key files and the
// check; radio_link.cpp: an attached ble::Radio and its scan duty cycle; retention.cpp: daily
// retention and the clock check).
//
// Lock order (never take an earlier one while holding a later one):
//   erase_mu -> round_mu -> own_mu -> radio_mu
// The store serializes its own calls; the feed has its own lock and calls the sink without it,
// one flush at a time. A radio's scan callback only enters the feed.
//
// Impl methods may throw std::bad_alloc: the public methods (tracer.cpp) catch it.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include <sotto/ble/beacon_feed.hpp>
#include <sotto/ble/rotation.hpp>
#include <sotto/ble/scan_duty_cycle.hpp>
#include <sotto/core/payload.hpp>
#include <sotto/core/sighting.hpp>
#include <sotto/keyfile/export_reader.hpp>
#include <sotto/match/engine.hpp>
#include <sotto/match/session.hpp>
#include <sotto/store/encounter_store.hpp>
#include <sotto/tracer.hpp>

namespace sotto {

/// The open check round: the engine over the sightings loaded when it opened, and the session
/// the imported files stream their keys into.
struct CheckRound {
    std::unique_ptr<match::MatchEngine> engine;
    std::unique_ptr<match::MatchSession> session;
    std::vector<KeyFileOutcome> files;
    std::uint64_t sightings = 0;
    std::int64_t opened_at = 0;
};

struct Tracer::Impl {
    Impl(const Clock& c, TracerOptions o, store::EncounterStore s, std::shared_ptr<core::Rng> r)
        : clock(c), options(std::move(o)), store(std::move(s)), rng(std::move(r)), sink(*this) {}

    const Clock& clock;
    TracerOptions options;
    store::EncounterStore store;
    std::shared_ptr<core::Rng> rng;

    // ---- heard (heard.cpp) ----
    /// The feed's sink: one store transaction per batch.
    struct StoreSink final : ble::ObservationSink {
        explicit StoreSink(Impl& i) : impl(i) {}
        Result<void> accept(std::span<const core::HeardBeacon> batch) noexcept override;
        Impl& impl;
    } sink;
    std::unique_ptr<ble::BeaconFeed> feed;  // set by open; never replaced
    /// Held by `erase_all` and by `ingest` from its erase-mark check to its store write, so a
    /// batch checked against an older mark cannot be written after a newer erase.
    std::mutex erase_mu;

    Result<void> on_advertisement(std::span<const std::uint8_t> bytes, int rssi_dbm,
                                  std::int64_t time_ms);
    void on_advertisement(const core::HeardBeacon& heard);
    Result<void> flush();

    // ---- own keys (own_keys.cpp) ----
    std::mutex own_mu;
    std::optional<ble::RotationScheduler> scheduler;  // guarded by own_mu; made at first use
    core::IntervalNumber last_used_enin = 0;          // guarded by own_mu: of earlier schedulers
    std::optional<core::ServiceData> last_payload;    // guarded by own_mu: for `rotations`

    Result<core::ExposureKey> tek_for(core::IntervalNumber enin);
    Result<OwnAdvertisement> current_advertisement();
    Result<std::vector<ReleasedKey>> release_own_keys();
    /// Forgets the scheduler (and so its TEK): the next advertisement asks the store again, from
    /// the next interval on (never one already broadcast, nor the current one). Needs own_mu.
    void roll_now();

    // ---- check round (round.cpp) ----
    std::mutex round_mu;
    std::unique_ptr<CheckRound> round;  // guarded by round_mu

    /// Reads one file with `read` (which streams keys into the sink it is given) into the round.
    using Reader =
        std::function<Result<keyfile::ExportInfo>(keyfile::VerifyMode, const keyfile::KeySink&)>;
    Result<KeyFileOutcome> import(std::string source, const ImportOptions& o, const Reader& read);
    Result<void> open_round();
    Result<CheckReport> check();

    // ---- radio (radio_link.cpp) ----
    std::mutex radio_mu;
    std::unique_ptr<ble::Radio> radio;               // guarded by radio_mu
    std::optional<ble::ScanDutyCycle> duty;          // guarded by radio_mu
    std::optional<core::ServiceData> radio_payload;  // what the radio broadcasts now
    bool radio_advertising = false;                  // guarded by radio_mu
    bool radio_scanning = false;                     // guarded by radio_mu
    Result<void> attach_radio(std::unique_ptr<ble::Radio> r);
    Result<void> detach_radio();
    Result<void> refresh_radio();

    std::atomic<bool> radio_attached{false};
    std::atomic<bool> round_open{false};

    // ---- maintenance (retention.cpp) ----
    std::atomic<std::int64_t> last_retention_day{-1};
    /// The last retention attempt was refused with kClockSuspect (cleared by a successful one).
    std::atomic<bool> clock_suspect{false};
    /// The wall clock and the clock's elapsed time (both ms) at the last successful retention
    /// run, when the clock has a second time source (`Clock::elapsed_ms`). Guarded by base_mu, a
    /// leaf lock (nothing else is taken while it is held).
    struct ClockBase {
        std::int64_t wall_ms = 0;
        std::int64_t elapsed_ms = 0;
    };
    std::mutex base_mu;
    std::optional<ClockBase> clock_base;
    /// True when the wall clock moved more than kWallAheadSlackMs further than the elapsed time
    /// since `clock_base` (false without a base or a second time source).
    bool wall_ran_ahead();
    void record_clock_base();
    /// The store's retention at `now`, refused with kClockSuspect first when `wall_ran_ahead()`
    /// (unless confirmed); records the clock base after a successful run. Notes nothing.
    Result<store::RetentionReport> run_retention(std::int64_t now, store::RetentionOptions o);
    /// `run_retention`, keeping `clock_suspect` and logging its changes (once each).
    Result<store::RetentionReport> retention(std::int64_t now, store::RetentionOptions o);
    Result<store::RetentionReport> note_retention(Result<store::RetentionReport> r);
    /// tick's daily run: unconfirmed first; when the clock is suspect, asks the host
    /// (`TracerOptions::clock_confirmed`) and runs again if it vouches for the clock.
    Result<store::RetentionReport> daily_retention(std::int64_t now);

    // ---- counters (the feed keeps the heard ones) ----
    struct Counters {
        std::atomic<std::uint64_t> malformed{0}, stored{0}, rejected{0}, own_keys_created{0},
            rotations{0}, radio_errors{0}, files_imported{0}, files_refused{0}, files_skipped{0},
            checks{0};
        /// Observations given to `Tracer::ingest` stamped at or before the last erase.
        std::atomic<std::uint64_t> ingest_erased{0};
    } counters;
};

}  // namespace sotto
