#pragma once
// The Tracer's state, shared by its implementation files (tracer.cpp: lifecycle, status, erase;
// own_keys.cpp: TEKs and the advertisement; heard.cpp: on_advertisement and flushing;
// round.cpp: key files and the check; radio_link.cpp: an attached ble::Radio).
//
// Lock order (never take an earlier one while holding a later one):
//   round_mu -> own_mu -> radio_mu -> flush_mu -> feed_mu
// The store serializes its own calls. A radio's scan callback only takes flush_mu / feed_mu.

#include <atomic>
#include <functional>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

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
        : clock(c), options(std::move(o)), store(std::move(s)), rng(std::move(r)) {}

    const Clock& clock;
    TracerOptions options;
    store::EncounterStore store;
    std::shared_ptr<core::Rng> rng;

    // ---- heard (heard.cpp) ----
    std::mutex flush_mu;  // one store ingest at a time, in arrival order
    std::mutex feed_mu;
    std::vector<core::Observation> pending;  // guarded by feed_mu
    std::int64_t oldest_pending_ms = 0;      // guarded by feed_mu (clock time of the first pending)

    Result<void> on_advertisement(std::span<const std::uint8_t> bytes, int rssi_dbm,
                                  std::int64_t time_ms);
    Result<void> flush();
    bool flush_due();

    // ---- own keys (own_keys.cpp) ----
    std::mutex own_mu;
    std::optional<core::ExposureKey> current_key;  // guarded by own_mu
    std::optional<OwnAdvertisement> current_adv;   // guarded by own_mu

    Result<OwnAdvertisement> current_advertisement();
    Result<std::vector<ReleasedKey>> release_own_keys();

    // ---- check round (round.cpp) ----
    std::mutex round_mu;
    std::unique_ptr<CheckRound> round;  // guarded by round_mu

    /// Reads one file with `read` (which streams keys into the sink it is given) into the round.
    using Reader = std::function<Result<keyfile::ExportInfo>(keyfile::VerifyMode,
                                                             const keyfile::KeySink&)>;
    Result<KeyFileOutcome> import(std::string source, const ImportOptions& o,
                                  const Reader& read);
    Result<void> open_round();
    Result<CheckReport> check();

    // ---- radio (radio_link.cpp) ----
    std::mutex radio_mu;
    std::unique_ptr<ble::Radio> radio;               // guarded by radio_mu
    std::optional<core::ServiceData> radio_payload;  // what the radio broadcasts now
    Result<void> attach_radio(std::unique_ptr<ble::Radio> r);
    Result<void> detach_radio();
    Result<void> refresh_radio();

    std::atomic<bool> radio_attached{false};
    std::atomic<bool> round_open{false};

    // ---- maintenance ----
    std::atomic<std::int64_t> last_retention_day{-1};

    // ---- counters ----
    struct Counters {
        std::atomic<std::uint64_t> heard{0}, malformed{0}, dropped_overflow{0}, stored{0},
            rejected{0}, flushes{0}, flush_failures{0}, own_keys_created{0}, rotations{0},
            radio_errors{0}, files_imported{0}, files_refused{0}, files_skipped{0}, checks{0};
    } counters;
};

}  // namespace sotto
