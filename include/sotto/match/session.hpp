#pragma once
/// \file
/// A matching session: diagnosis keys streamed in from one or more key files, matched in
/// batches on all cores, and collected as one record per matched RPI and outcome.

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include <sotto/core/diagnosis_key.hpp>
#include <sotto/core/matcher.hpp>
#include <sotto/core/publication.hpp>
#include <sotto/match/engine.hpp>
#include <sotto/result.hpp>

namespace sotto::match {

/// Everything heard of one RPI of one diagnosis key that shares one outcome.
struct RpiMatch {
    std::uint32_t file_index = 0;      ///< which `begin_file` the key came from
    core::DiagnosisKey diagnosis_key;  ///< the published key (TEK, validity, TRL, report type...)
    core::RollingProximityId rpi;
    core::IntervalNumber interval = 0;  ///< the interval the RPI was generated for
    std::int64_t first_seen = 0;        ///< Unix seconds, receiver clock
    std::int64_t last_seen = 0;
    std::uint32_t sightings = 0;  ///< packets heard
    std::int8_t rssi_max = -127;
    core::MetadataBytes metadata{};  ///< decrypted AEM (of the first sighting)
    core::MatchStatus status = core::MatchStatus::kValid;
    const char* reason = "";  ///< why it is suspect (static text)
    /// The RPI was also heard with other AEMs: `metadata` may be an attacker's. Every packet is
    /// scored only with the metadata it carried, so the genuine packets keep the genuine metadata.
    bool metadata_disputed = false;
    std::vector<core::ScanRecord> scans;  ///< time-ordered, for exposure windows
    /// Unix seconds: the publication time the rule applied to this record, i.e. the earliest
    /// known publication of its key (over every file of the session and the publications it was
    /// given). Empty when no publication time was known.
    std::optional<std::int64_t> published_at;
};

struct SessionOptions {
    /// Keys per batch handed to the engine (memory stays bounded by it).
    std::size_t batch_keys = 1 << 16;
};

/// When the keys of a file were certainly public (Unix seconds). A packet heard after the earliest
/// publication of its key is suspect ("heard after the key was published"): anyone could compute
/// its RPI by then. This replaces GAEN's embargo, which only delays matching and so cannot stop an
/// RPI forged from a published key (it is heard when broadcast, not when matched).
struct FilePublication {
    /// The export's signed `end_timestamp` (its keys were uploaded before it; the file is published
    /// after).
    std::optional<std::int64_t> end_timestamp;
    /// When this device obtained the file, by its own clock (the check's "now"). Used only when the
    /// export has no end timestamp: see `publication_time`.
    std::optional<std::int64_t> obtained_at;
};

/// The publication time the rule uses for a file: its signed `end_timestamp` when it has one,
/// otherwise `obtained_at`. With a right clock `obtained_at` is never earlier than the end
/// timestamp (the file did not exist before it), so `min(end, obtained)` would equal `end`; an
/// earlier `obtained_at` means the device clock is behind, and trusting it would mark genuine
/// sightings suspect. A later `obtained_at` says nothing new either: the key was public from the
/// end timestamp on.
std::optional<std::int64_t> publication_time(const FilePublication& publication) noexcept;

/// Counters of a session.
struct SessionCounters {
    std::uint64_t keys = 0;          ///< keys received from kept files
    std::uint64_t keys_revoked = 0;  ///< not matched: report type REVOKED
};

/// Not thread-safe; the engine it drives uses all cores.
class MatchSession {
public:
    MatchSession(MatchEngine& engine, const SessionOptions& options = {});

    /// Starts the keys of file `file_index`. kFailedPrecondition while another file is open.
    Result<void> begin_file(std::uint32_t file_index);
    /// Adds one key of the current file; matches a batch when it is full. kFailedPrecondition
    /// outside begin_file/end_file.
    Result<void> add_key(core::DiagnosisKey&& key);
    /// Ends the current file. With `keep == false` (the file was refused: bad signature,
    /// untrusted key, damaged), every match of its keys is dropped and its keys are not counted.
    /// With `keep`, the file's matches are finished, and when the file has an end timestamp the
    /// publication of every key of it that is still forgeable then is remembered (the earliest
    /// time per TEK, see `publications`; a time from the device clock only applies to this file's
    /// own matches, it is never remembered). Keys whose window ends (plus the tolerance) before
    /// the file's largest rolling start are not considered: a well-formed file is published after
    /// its keys were generated, so they cannot be forgeable. For the same reason an end timestamp
    /// earlier than the largest rolling start is ignored (the file is then timed by
    /// `obtained_at`, for this session only): a signer cannot date a key's publication before the
    /// key existed. REVOKED keys are remembered as published too (they are never matched). Disputed
    /// metadata never makes a sighting suspect (see RpiMatch::metadata_disputed). kOutOfMemory if
    /// an allocation fails (the session is then unusable).
    Result<void> end_file(bool keep, const FilePublication& publication = {});

    /// Ends the current file like `end_file(false, ...)` (its matches are dropped, its keys not
    /// counted) but remembers its publications as `end_file(true, publication)` would. For a file
    /// that can be trusted but whose matches were recorded by an earlier check (the Tracer's
    /// "already processed" files): its keys keep their first publication even when it was never
    /// stored (a file processed by a store of schema 3). kFailedPrecondition without an open file;
    /// kOutOfMemory if an allocation fails.
    Result<void> end_file_publication_only(const FilePublication& publication);

    /// Publications known from before the session (e.g. `EncounterStore::key_publications`, the
    /// files of earlier checks). For a TEK already known the earlier time wins. Call any time
    /// before `take_matches`. kOutOfMemory if an allocation fails.
    Result<void> add_known_publications(std::span<const core::KeyPublication> known);

    /// The earliest publication of every key that was still forgeable when published
    /// (`core::forgeable_after_publication` with the larger of the engine's tolerance and
    /// core::kPublicationMemoryIntervals): those given to `add_known_publications` and those of
    /// kept files. Ordered by TEK. With `include_given == false`, only those whose time came from
    /// a file of this session (new keys, or earlier than the time given): what a caller that
    /// seeded the session from storage needs to write back. kOutOfMemory if an allocation fails.
    Result<std::vector<core::KeyPublication>> publications(bool include_given = true) const;

    const SessionCounters& counters() const noexcept { return counters_; }

    /// The matches of all ended, kept files: ordered by file, key, interval and time; a key
    /// published more than once (in several files, or twice in one) is reported once, from its
    /// first appearance.
    ///
    /// The publication rule is applied here, with the earliest publication known for each key
    /// (so the order of the files does not matter): every scan (`core::ScanRecord`, one scan
    /// groups packets within core::kScanGroupSeconds) heard after it is suspect. A record whose
    /// scans straddle the publication is split: the scans before it stay in the valid record
    /// (with its counts, RSSI and last sighting recomputed from them), the ones after go to a
    /// suspect record with the reason "heard after the key was published". So copies relayed
    /// after publication into the same stored row as genuine packets add nothing to the exposure.
    /// The earliest time includes the device-clock times of files without an end timestamp
    /// (within this session only). Matches of a TEK that a kept file of the session lists as
    /// REVOKED are dropped, whichever file they came from.
    /// kOutOfMemory if an allocation fails (the matches are then lost).
    Result<std::vector<RpiMatch>> take_matches();

private:
    Result<void> flush();

    MatchEngine& engine_;
    SessionOptions options_;
    SessionCounters counters_;
    SessionCounters file_counters_;
    std::uint32_t file_index_ = 0;
    bool file_open_ = false;
    void remember_file(const FilePublication& publication);
    void finish_file(std::optional<std::int64_t> published);
    void note_publication_candidates();

    std::vector<core::DiagnosisKey> batch_;
    std::vector<core::DiagnosisKey> file_keys_;  ///< keys of the open file that matched
    std::vector<core::MatchedSighting> hits_;    ///< of the open file; key_index into file_keys_
    std::vector<RpiMatch> matches_;
    /// TEK and window end of the open file's non-revoked keys that may be forgeable at its
    /// publication (known at end_file; see note_publication_candidates). 20 bytes a key.
    struct PendingKey {
        std::array<std::uint8_t, core::kTekBytes> tek;
        core::IntervalNumber window_end;
    };
    std::deque<PendingKey> file_publications_;  ///< a deque: grows without copying or slack
    std::size_t next_prune_ = 0;
    core::IntervalNumber max_start_ = 0;  ///< largest rolling start of the open file
    std::uint32_t memory_tolerance_;      ///< max(engine tolerance, kPublicationMemoryIntervals)
    struct Known {
        core::IntervalNumber window_end = 0;
        std::int64_t published_at = 0;
        bool given = false;  ///< the time came from add_known_publications
    };
    std::map<std::array<std::uint8_t, core::kTekBytes>, Known> earliest_;
    void remember(const core::KeyPublication& p, bool given);
    /// Publications timed by the device clock (files without an end timestamp): they apply to
    /// every file of this session, so a republication elsewhere cannot hide them, but they are
    /// never returned by `publications` (a clock error must not outlive the check).
    std::map<std::array<std::uint8_t, core::kTekBytes>, std::int64_t> clock_earliest_;
    /// REVOKED keys of the open file: publication candidates (a revoked copy still made the TEK
    /// public), never matched.
    std::vector<core::DiagnosisKey> revoked_batch_;
    std::vector<std::array<std::uint8_t, core::kTekBytes>> file_revoked_;
    /// TEKs revoked by a kept file of this session: their matches from any file are dropped.
    std::set<std::array<std::uint8_t, core::kTekBytes>> revoked_;
    /// The file's publication as the rule may use it: a signed end timestamp earlier than the
    /// file's newest key's rolling start is impossible for a well-formed file and is ignored.
    FilePublication plausible(const FilePublication& publication) const;
};

}  // namespace sotto::match
