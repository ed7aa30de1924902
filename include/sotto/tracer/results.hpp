#pragma once
/// \file
/// What the Tracer reports: per-file outcomes of key-file imports, the exposure check's report,
/// and the Tracer's counters. Plain values; no identifiers except inside `CheckReport::matches`
/// (which carries the matched published keys and RPIs, for the app to show, never to log).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sotto/core/matcher.hpp>
#include <sotto/keyfile/export_reader.hpp>
#include <sotto/match/report.hpp>
#include <sotto/match/session.hpp>
#include <sotto/result.hpp>

namespace sotto {

/// What happened to one imported key file.
struct KeyFileOutcome {
    /// The path it was read from, or "" for a file handed over as bytes.
    std::string source;
    bool read = false;      ///< parsed completely
    bool verified = false;  ///< its signature verified with a key of the trust store
    bool matched = false;   ///< its keys take part in the current check round
    /// Its export.bin was already recorded as processed by an earlier check, and the import did
    /// not ask to match it again (`ImportOptions::rematch`): its keys were not used.
    bool already_processed = false;
    /// Why it was refused or could not be read; empty when it was matched (`matched == true`)
    /// or skipped as already processed.
    std::optional<Error> error;
    /// Header fields, key counts, SHA-256 and signature details (meaningful when `read`).
    keyfile::ExportInfo info;
    /// RPIs of this file's keys found among the round's sightings (valid and suspect). Filled
    /// in by `check()` (0 in the outcome an import returns: matches are final only then).
    std::uint64_t matched_rpis = 0;
};

/// The result of one exposure check (one round: every file imported since the last check).
struct CheckReport {
    std::int64_t computed_at = 0;          ///< Unix seconds (the Tracer's clock)
    std::vector<KeyFileOutcome> files;     ///< in import order
    std::vector<match::RpiMatch> matches;  ///< valid and suspect, ordered by file, key, time
    match::ExposureReport report;          ///< windows, daily summaries, CWA risk, encounters
    match::SessionCounters keys;           ///< keys of matched files
    core::MatchCounters matcher;           ///< matcher counters over the round
    std::uint64_t sightings = 0;           ///< sightings the round matched against
    /// True when the round's results were written to the store as exposure records, and its
    /// files as processed (see `Tracer::check` for when that happens).
    bool recorded = false;
};

/// Counters of a Tracer since it was opened. No identifiers, safe to log or show.
struct TracerStatus {
    // Heard advertisements.
    std::uint64_t heard = 0;         ///< decoded GAEN advertisements (direct and from a radio)
    std::uint64_t deduplicated = 0;  ///< of those, folded into an observation of the same second
    std::uint64_t malformed = 0;     ///< refused by the decoder (wrong length, form, UUID)
    std::uint64_t dropped_overflow = 0;  ///< valid but dropped: the pending buffer was full
    std::uint64_t pending = 0;           ///< observations not yet in the store
    std::uint64_t stored = 0;            ///< observations the store accepted
    std::uint64_t rejected = 0;          ///< observations the store refused (time, RSSI)
    std::uint64_t flushes = 0;           ///< successful store transactions
    std::uint64_t flush_failures = 0;    ///< failed ones (observations kept pending)
    /// Observations dropped unwritten by `erase_all`: pending at the erase, or stamped at or
    /// before it and handed over later (`on_advertisement`, a radio, `ingest`).
    std::uint64_t discarded = 0;
    // Own keys and broadcasting.
    std::uint64_t own_keys_created = 0;  ///< TEKs generated (day rolls, rolls after publishing)
    std::uint64_t rotations = 0;         ///< new payloads (RPI, AEM, address) served
    std::uint64_t radio_errors = 0;      ///< failed calls to an attached radio
    bool radio_attached = false;
    // Key files and checks.
    std::uint64_t files_imported = 0;  ///< matched into a round
    std::uint64_t files_refused = 0;   ///< unreadable or not verified
    std::uint64_t files_skipped = 0;   ///< already processed
    std::uint64_t checks = 0;          ///< completed `check` calls
    bool round_open = false;           ///< files imported since the last check
    // Retention.
    /// The last retention attempt was refused because the clock is far from the last time the
    /// store trusted, or ran ahead of the elapsed time since the last run (kClockSuspect):
    /// nothing is deleted until the clock is corrected or
    /// confirmed (`TracerOptions::clock_confirmed`). Cleared by the next successful run.
    bool clock_suspect = false;
};

}  // namespace sotto
