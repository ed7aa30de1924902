#pragma once
/// \file
/// What the downloader remembers between rounds (and restarts): the validators of index.txt and
/// of every export zip (ETag, Last-Modified), the SHA-256 of what was downloaded, and whether the
/// caller has **used** the file (verified and matched it). "Downloaded" and "used" are kept apart
/// so a file that could not be checked yet (verifier not configured, the store busy) is offered
/// again in the next round without being downloaded again.

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <sotto/result.hpp>

namespace sotto::fetch {

/// One export file the downloader has downloaded.
struct FileRecord {
    std::string path;                       ///< as listed in the index (checked)
    std::array<std::uint8_t, 32> sha256{};  ///< of the downloaded bytes
    std::uint64_t bytes = 0;                ///< size of the downloaded bytes
    std::string etag;                       ///< validator sent back as If-None-Match; may be empty
    std::string last_modified;              ///< sent back as If-Modified-Since; may be empty
    bool used = false;                      ///< the caller marked it used (`Downloader::mark_used`)
    /// The caller refused its content (`Downloader::mark_refused`): its spool file is removed,
    /// it holds no room in the spool and is not offered again until the server's file changes.
    /// Never set together with `used`.
    bool refused = false;
};

/// Everything persisted for one source.
struct FetchStateData {
    std::string index_etag;
    std::string index_last_modified;
    std::vector<std::string> index_entries;  ///< the last index, for a 304 answer
    std::vector<FileRecord> files;
    /// SHA-256 of used content whose file was later replaced by different bytes under the same
    /// name (only with revalidation): still never offered again. Oldest first, bounded.
    std::vector<std::array<std::uint8_t, 32>> retired_used;
    /// Identifies the verifier whose refusals `files` records (`Downloader::
    /// set_verifier_fingerprint`); empty when none was set.
    std::string verifier_fingerprint;
};

/// What `FetchState::load` found.
struct LoadedState {
    FetchStateData data;
    /// The stored state was unreadable (bad magic, checksum, syntax or limits) and `data` is
    /// empty: every listed file will be downloaded again and reported new, so a caller that
    /// must never match a file twice also keeps the SHA-256 of what it used.
    bool damaged = false;
};

/// Storage of the fetch state. Implementations need not be thread-safe: one `Downloader` uses
/// one state at a time.
class FetchState {
public:
    virtual ~FetchState() = default;
    /// The stored state; an empty state when nothing was stored yet. A damaged store is not an
    /// error (see `LoadedState::damaged`); errors are for I/O failures (kStorageIo) and memory.
    virtual Result<LoadedState> load() = 0;
    /// Replaces the stored state atomically: after a crash, `load` returns either the old or the
    /// new state, never a mixture. Errors: kStorageIo, kStorageFull, kOutOfMemory.
    virtual Result<void> save(const FetchStateData& data) = 0;
};

/// A `FetchState` in one text file (e.g. `$STATE_DIRECTORY/fetch-<name>.state`), protected by a
/// SHA-256 checksum. `save` writes a temporary file in the same directory, fsyncs it, renames it
/// over the file and fsyncs the directory. A file larger than 64 MiB is treated as damaged.
class FileFetchState final : public FetchState {
public:
    explicit FileFetchState(std::filesystem::path file) : file_(std::move(file)) {}
    Result<LoadedState> load() override;
    Result<void> save(const FetchStateData& data) override;
    /// The state file's path.
    const std::filesystem::path& file() const noexcept { return file_; }

private:
    std::filesystem::path file_;
};

/// A verifier fingerprint the state can hold: 1-128 bytes of printable ASCII without spaces.
bool is_valid_fingerprint(std::string_view fingerprint) noexcept;

/// The text form used by `FileFetchState` (exposed for tests and tools). `decode_state` returns
/// kStorageCorrupt for anything it does not fully accept.
Result<std::string> encode_state(const FetchStateData& data);
Result<FetchStateData> decode_state(std::string_view text);

}  // namespace sotto::fetch
