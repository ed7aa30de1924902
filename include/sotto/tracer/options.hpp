#pragma once
/// \file
/// Options of the Tracer (`sotto/tracer.hpp`) and of its key-file imports.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>

#include <sotto/ble/scan_duty_cycle.hpp>
#include <sotto/core/metadata.hpp>
#include <sotto/core/payload.hpp>
#include <sotto/core/rng.hpp>
#include <sotto/keyfile/export_reader.hpp>
#include <sotto/keyfile/trust_store.hpp>
#include <sotto/match/options.hpp>
#include <sotto/store/records.hpp>

namespace sotto {

struct CheckReport;

/// Called with the report of every completed `Tracer::check`, on the thread that called `check`,
/// after the results were recorded and before `check` returns. Must not call into the Tracer.
using CheckCallback = std::function<void(const CheckReport&)>;

/// Options for `Tracer::open`. Every field has a sensible default except `trust`: with an empty
/// trust store every signed key file is refused (fail-closed).
struct TracerOptions {
    /// How the encrypted store is opened (create, retention, size cap, durability).
    store::OpenOptions store;

    /// Public keys key files must be signed with (see keyfile/trust_store.hpp).
    keyfile::TrustStore trust;
    /// Size limits and delivery policy for key files.
    keyfile::ReadOptions read;
    /// Matching engine (threads, matcher tolerances) and report (CWA risk, windows).
    match::EngineOptions engine;
    match::ReportOptions report;
    /// Keys per batch handed to the engine during an import (bounds memory: about 100 bytes per
    /// key).
    std::size_t batch_keys = std::size_t{1} << 16;

    /// Metadata this device broadcasts in its AEM (version 1.0 or 1.1, calibrated TX power);
    /// must pass `core::validate_metadata` (else the first advertisement fails).
    core::Metadata metadata{.minor_version = 0,
                            .tx_power_dbm = -8,
                            .calibration_confidence = core::CalibrationConfidence::kLowest};
    /// How long one RPI (with its address) is broadcast: uniform in [min, max] ms, 10-20 min as
    /// in GAEN (lib/ble's `RotationScheduler`; 60 s <= min <= max <= 60 min).
    std::int64_t min_rotation_ms = 10 * 60'000;
    std::int64_t max_rotation_ms = 20 * 60'000;
    /// When an attached radio scans (lib/ble's `ScanDutyCycle`; default: 4 s every 3.5-5 min).
    ble::ScanDutyConfig scan;
    /// The form of `OwnAdvertisement::advertising_data`.
    core::AdvertisingForm advertising_form = core::AdvertisingForm::kWithFlags;

    /// Heard advertisements are written to the store in one transaction once this many
    /// observations are pending (1..1,000,000). Repeats of one beacon within one second are
    /// folded into at most two observations first (lib/ble's `BeaconFeed`).
    std::size_t flush_count = 16384;
    /// `tick()` writes pending advertisements once the oldest has waited this long (ms, >= 0).
    std::int64_t flush_interval_ms = 30'000;
    /// At most this many observations wait in memory (flush_count..10,000,000). When the store
    /// cannot take them (disk full, locked) newer ones are dropped and counted
    /// (`dropped_overflow`), so memory stays bounded.
    std::size_t max_pending = std::size_t{1} << 18;

    /// Source of the device's TEKs and Bluetooth addresses. Null: the operating system CSPRNG.
    /// Must be thread-safe if set (the Tracer calls it under its own lock only, so any `Rng`
    /// used by nothing else is fine).
    std::shared_ptr<core::Rng> rng;

    /// Results of every check (optional).
    CheckCallback on_check;

    /// Asked by `Tracer::tick()` only when its daily retention was refused with kClockSuspect
    /// (the clock is more than 3 days from the last time the store trusted, e.g. after a week
    /// switched off, or ran ahead of the elapsed time since the last run): return true when the
    /// host can vouch for the wall clock (synchronized by NTP or the network, set by the user), and
    /// retention then runs as of the clock's now and deletes what is older than the window. Empty
    /// (the default), false, or a throw: nothing is deleted and `tick()` asks again at its next
    /// call. Called on the thread that calls `tick()`, holding no Tracer lock; must be thread-safe
    /// if `tick()` is called from several threads, should return quickly, and must not call into
    /// the Tracer.
    std::function<bool()> clock_confirmed;
};

/// Options of one key-file import.
struct ImportOptions {
    /// Fail-closed by default: a file whose signature does not verify against
    /// `TracerOptions::trust` is refused and its keys are never matched. `kParseOnly` is the
    /// explicit opt-out (e.g. `sotto match --no-verify`): the file's keys are matched even
    /// unverified, and a round holding such a file is never recorded.
    keyfile::VerifyMode verify = keyfile::VerifyMode::kRequireSignature;
    /// Match the file again even if an earlier recorded check already processed its export.bin.
    bool rematch = false;
    /// A stop request (from any thread) before or during the import makes it fail with
    /// kCancelled between two keys, and discards the open check round like `discard_round`.
    std::stop_token stop{};
};

}  // namespace sotto
