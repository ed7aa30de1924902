#pragma once
/// \file
/// A matching session: diagnosis keys streamed in from one or more key files, matched in
/// batches on all cores, and collected as one record per matched RPI and outcome.

#include <cstdint>
#include <optional>
#include <vector>

#include <sotto/core/diagnosis_key.hpp>
#include <sotto/core/matcher.hpp>
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
};

struct SessionOptions {
    /// Keys per batch handed to the engine (memory stays bounded by it).
    std::size_t batch_keys = 1 << 16;
};

/// When the keys of a file were certainly public (Unix seconds). A sighting first heard after the
/// earlier of the two is suspect ("heard after the key was published"): anyone could compute its
/// RPIs by then. This replaces GAEN's embargo, which only delays matching and so cannot stop an
/// RPI forged from a published key (it is heard when broadcast, not when matched).
struct FilePublication {
    /// The export's `end_timestamp` (its keys were uploaded before it; the file is published
    /// after).
    std::optional<std::int64_t> end_timestamp;
    /// When this device first obtained the file (download time; the check's "now" at the latest).
    std::optional<std::int64_t> obtained_at;
};

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
    /// With `keep`, the file's matches are finished: sightings first heard after `publication`
    /// are suspect. Disputed metadata never makes a sighting suspect (see
    /// RpiMatch::metadata_disputed). kOutOfMemory if an allocation fails (the session is then
    /// unusable).
    Result<void> end_file(bool keep, const FilePublication& publication = {});

    const SessionCounters& counters() const noexcept { return counters_; }

    /// The matches of all ended, kept files: ordered by file, key, interval and time; a key
    /// published more than once (in several files, or twice in one) is reported once, from its
    /// first appearance.
    std::vector<RpiMatch> take_matches();

private:
    Result<void> flush();

    MatchEngine& engine_;
    SessionOptions options_;
    SessionCounters counters_;
    SessionCounters file_counters_;
    std::uint32_t file_index_ = 0;
    bool file_open_ = false;
    void finish_file(const FilePublication& publication);

    std::vector<core::DiagnosisKey> batch_;
    std::vector<core::DiagnosisKey> file_keys_;  ///< keys of the open file that matched
    std::vector<core::MatchedSighting> hits_;    ///< of the open file; key_index into file_keys_
    std::vector<RpiMatch> matches_;
};

}  // namespace sotto::match
