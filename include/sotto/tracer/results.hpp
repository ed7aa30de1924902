#pragma once
/// \file
/// What the Tracer reports: per-file outcomes of key-file imports, the exposure check's report,
/// and the Tracer's counters. Plain values; no identifiers except inside `CheckReport::matches`
/// (which carries the matched published keys and RPIs, for the app to show, never to log).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sotto/core/daily_summary.hpp>
#include <sotto/core/diagnosis_key.hpp>
#include <sotto/core/exposure_window.hpp>
#include <sotto/core/match_options.hpp>
#include <sotto/core/risk.hpp>
#include <sotto/core/sighting.hpp>
#include <sotto/keyfile/export_reader.hpp>
#include <sotto/result.hpp>

namespace sotto {

/// The three exclusive outcomes of a key-file import.
enum class KeyFileStatus : std::uint8_t {
    /// Its keys take part in the current check round (verified, or unverified under
    /// `keyfile::VerifyMode::kParseOnly`).
    kMatched = 0,
    /// Unreadable, malformed, too large, or not verified: its keys were not used
    /// (`KeyFileOutcome::reason` says why).
    kRefused = 1,
    /// Its export.bin was recorded as processed by an earlier check and the import did not ask
    /// to match it again (`ImportOptions::rematch`): its keys were not used.
    kAlreadyProcessed = 2,
};

/// What happened to one imported key file.
struct KeyFileOutcome {
    /// The path it was read from, or "" for a file handed over as bytes.
    std::string source;
    KeyFileStatus status = KeyFileStatus::kRefused;
    /// kRefused: why (always set). kMatched: the signature verdict of a file matched unverified
    /// under kParseOnly; empty when it verified. kAlreadyProcessed: empty.
    std::optional<Error> reason;
    /// Header fields, key counts, SHA-256 and signature verdict: present for kMatched and
    /// kAlreadyProcessed, absent for kRefused.
    std::optional<keyfile::ExportInfo> info;
    /// RPIs of this file's keys found among the round's sightings (valid and suspect). Filled
    /// in by `check()` (0 in the outcome an import returns: matches are final only then).
    std::uint64_t matched_rpis = 0;

    bool matched() const noexcept { return status == KeyFileStatus::kMatched; }
    /// Its signature verified with a key of the trust store.
    bool verified() const noexcept { return info && info->verified; }
};

/// "matched", "refused" or "already processed".
const char* to_string(KeyFileStatus status) noexcept;

/// The risk of a check in the words every surface uses (docs/risk.md, "One vocabulary"):
/// kHigh when a day has HIGH risk (CWA), kLow when none has but one has LOW risk, kNone when no
/// day has a CWA risk level (no exposure window, or only days below the day mapping). Unlike
/// CWA's total (`ExposureResult::risk.total_risk_level`), which is LOW for no exposure.
enum class RiskLevel : std::uint8_t { kNone = 0, kLow = 1, kHigh = 2 };

/// "none", "low" or "high".
const char* to_string(RiskLevel risk) noexcept;

/// One RPI of a published key found among the round's sightings.
struct MatchedRpi {
    std::uint32_t file_index = 0;      ///< index into `CheckReport::files`
    core::DiagnosisKey diagnosis_key;  ///< the published key (TEK, validity, TRL, report type...)
    core::RollingProximityId rpi;
    core::IntervalNumber interval = 0;  ///< the interval the RPI was generated for
    std::int64_t first_seen = 0;        ///< Unix seconds, receiver clock
    std::int64_t last_seen = 0;
    std::uint32_t sightings = 0;  ///< packets heard
    std::int8_t rssi_max = -127;
    core::MetadataBytes metadata{};  ///< decrypted AEM (of the first sighting)
    core::MatchStatus status = core::MatchStatus::kValid;
    const char* reason = "";  ///< why it is suspect (static text); empty when valid
    /// The RPI was heard with more than one AEM (the key's metadata is disputed).
    bool metadata_disputed = false;
    std::vector<core::ScanRecord> scans;  ///< time-ordered
    /// When the key was first published (Unix seconds), when known.
    std::optional<std::int64_t> published_at;
};

/// One contact: the exposure windows of one (key, metadata) group, summed.
struct ExposureEncounter {
    std::size_t key_group = 0;    ///< index of the (key, metadata) group
    std::int64_t first_seen = 0;  ///< Unix seconds
    std::int64_t last_seen = 0;
    int minutes = 0;                 ///< sum of the windows' seconds_since_last_scan / 60
    int min_attenuation_db = 0;      ///< closest moment
    int typical_attenuation_db = 0;  ///< time-weighted mean of the scans' typical attenuation
    core::ReportType report_type = core::ReportType::kConfirmedTest;
    core::Infectiousness infectiousness = core::Infectiousness::kStandard;
    std::size_t rpis = 0;  ///< distinct RPIs heard
    bool metadata_disputed = false;
};

/// What the valid matches of a check amount to (GAEN v2 windows and daily summaries, CWA risk).
struct ExposureResult {
    std::vector<core::ExposureWindow> windows;
    std::vector<core::DailySummary> daily_summaries;
    core::CwaRiskResult risk;
    std::vector<ExposureEncounter> encounters;  ///< by time
    std::size_t valid_matches = 0;
    std::size_t suspect_matches = 0;
    std::size_t disputed_matches = 0;  ///< valid matches whose metadata was disputed
};

/// Keys of the files matched in a round.
struct KeyCounters {
    std::uint64_t keys = 0;          ///< keys received from matched files
    std::uint64_t keys_revoked = 0;  ///< not matched: report type REVOKED
};

/// What the matcher did over a round.
struct MatcherCounters {
    std::uint64_t keys_checked = 0;  ///< keys whose RPIs were derived
    std::uint64_t keys_skipped = 0;  ///< keys with no sighting in reach
    std::uint64_t rpis_derived = 0;
    std::uint64_t rpis_matched = 0;  ///< derived RPIs found among the sightings
    std::uint64_t keys_revoked = 0;  ///< report type REVOKED: never matched
    std::uint64_t keys_invalid = 0;  ///< rolling period outside 1..144
};

/// The result of one exposure check (one round: every file imported since the last check).
struct CheckReport {
    std::int64_t computed_at = 0;       ///< Unix seconds (the Tracer's clock)
    std::vector<KeyFileOutcome> files;  ///< in import order
    std::vector<MatchedRpi> matches;    ///< valid and suspect, ordered by file, key, time
    ExposureResult report;              ///< windows, daily summaries, CWA risk, encounters
    RiskLevel risk = RiskLevel::kNone;  ///< the check's risk (see `RiskLevel`)
    KeyCounters keys;                   ///< keys of matched files
    MatcherCounters matcher;            ///< matcher counters over the round
    std::uint64_t sightings = 0;        ///< sightings the round matched against
    /// True when the round's results were written to the store as exposure records, and its
    /// files as processed (see `Tracer::check` for when that happens).
    bool recorded = false;
};

/// What the daily retention did during one `Tracer::tick()`.
enum class RetentionRun : std::uint8_t {
    kNotDue = 0,  ///< already ran today (or failed: see the tick's error)
    kRan = 1,     ///< ran as of the clock's now
    /// Refused because the clock is suspect: nothing deleted, `TracerStatus::clock_suspect` is
    /// set, and the next tick tries again.
    kPausedClockSuspect = 2,
};

/// What one successful `Tracer::tick()` did.
struct TickReport {
    /// Pending observations were written to the store (one transaction).
    bool flushed = false;
    /// A new advertisement (RPI, AEM, address) started: a new interval, or a new TEK at UTC
    /// midnight.
    bool rotated = false;
    RetentionRun retention = RetentionRun::kNotDue;
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
