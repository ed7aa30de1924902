#pragma once
/// \file
/// Downloads diagnosis-key export files from a key server (or a local directory) without ever
/// downloading or handing out a file twice.
///
/// **The downloader does not interpret files.** What it returns are untrusted bytes. The caller
/// verifies each new file with `keyfile::read_export_zip` (fail-closed: signature required) and
/// uses the keys only after that call succeeded; then it calls `mark_used`. A file whose content
/// fails verification is marked with `mark_refused`: it leaves the spool and is not offered
/// again until the server's bytes change. A file the caller could not check yet (I/O error, the
/// store busy) is simply not marked: it stays *pending* and is offered again next round (from
/// the spool, not downloaded again).
///
/// **Privacy.** Requests carry only what HTTP needs: `GET`, `Host`, `User-Agent: sotto/<version>`,
/// `Accept: */*` and the validators the server itself sent (`If-None-Match`,
/// `If-Modified-Since`). No cookies, no custom headers. Nothing is logged; errors carry static
/// strings and never a URL.
///
/// **Threading.** A `Downloader` is not thread-safe: one call at a time. Different downloaders
/// (different state and spool) may run in parallel. Calls block for network I/O, bounded by the
/// timeouts in `DownloadOptions`. No call throws. libcurl runs with CURLOPT_NOSIGNAL (no
/// process-wide signal handling behind the caller's back); as libcurl documents, a peer reset can
/// then in rare cases raise SIGPIPE, so a program that downloads sets SIGPIPE to SIG_IGN.
/// A moved-from `Downloader` may only be destroyed or assigned to.

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <sotto/fetch/fetch_state.hpp>
#include <sotto/fetch/index.hpp>
#include <sotto/result.hpp>

namespace sotto::fetch {

/// Limits and timeouts. All times in milliseconds, sizes in bytes.
struct DownloadOptions {
    std::uint32_t connect_timeout_ms = 10'000;  ///< TCP + TLS handshake
    std::uint32_t total_timeout_ms = 120'000;   ///< whole transfer of one file
    /// Abort when slower than `low_speed_bytes_per_s` for `low_speed_time_s` seconds.
    std::uint32_t low_speed_bytes_per_s = 1'000;
    std::uint32_t low_speed_time_s = 30;
    /// Largest export zip (Apple's limit is 16 MB). The transfer is aborted as soon as more
    /// arrives, whether or not the server announced a Content-Length: kNetworkTooLarge.
    std::uint64_t max_file_bytes = std::uint64_t{32} << 20;
    /// Largest index.txt.
    std::uint64_t max_index_bytes = std::uint64_t{1} << 20;
    /// Most bytes the spool may hold: the files downloaded and not yet marked used (each
    /// content once, by its recorded size) plus the file being downloaded. Used files never
    /// count: `mark_used` removes them at once. A transfer that would cross the cap is aborted
    /// as soon as it does (or before any body, from an announced Content-Length); it and every
    /// later file of the round fail with kNetworkTooLarge ("spool full") without a request.
    /// Nothing of them stays in the spool, the files already held are kept and offered, and
    /// they are tried again next round (in index order, once files were marked used). With the
    /// index's `max_entries` this bounds the disk a hostile or broken index can fill.
    std::uint64_t max_spool_bytes = std::uint64_t{256} << 20;
    /// At most `max_entries` files per index (more: the index fails with kNetworkTooLarge).
    IndexLimits index_limits{};
    /// Redirects followed per request; each target is checked with `check_url` first.
    std::uint32_t max_redirects = 5;
    /// Also send conditional requests for files already downloaded (used or pending). Off by
    /// default: export files are immutable by the server's design, so a downloaded file costs
    /// no request at all. On: one conditional request per file per round (304 when unchanged; a
    /// changed file is downloaded and reported new only if its SHA-256 is new).
    bool revalidate_downloaded = false;
    /// Used files that left the index are remembered (by path and SHA-256) so that they are not
    /// downloaded or offered again if they come back; beyond this many, the oldest are forgotten.
    std::size_t max_remembered_files = 50'000;
    /// A PEM file of the CAs to trust for https, instead of the system's store (to pin a key
    /// server's CA, or for tests). Empty: the system's CA store. Certificates and host names are
    /// always verified.
    std::string ca_file;
};

/// Where the files come from.
struct Source {
    /// `https://host/bucket` (or `http://127.0.0.1:port/...`): `<url>/index.txt` lists the zips.
    /// Or a local directory with the same layout; a directory without `index.txt` offers the
    /// `*.zip` files directly inside it, in name order.
    std::string location;
    /// True when `location` is a directory path rather than a URL.
    bool is_directory() const noexcept;
};

/// Outcome for one listed file.
enum class FileStatus : std::uint8_t {
    kNew,        ///< downloaded this round: verify `spool_file`, then `mark_used`
    kPending,    ///< downloaded earlier, not marked used yet: verify `spool_file` again
    kUnchanged,  ///< used already, or the same content as a used file or as another file
                 ///< offered in this round: nothing to do
    kFailed,     ///< see `error` (and `http_status`); retried next round
    /// Refused by the caller (`mark_refused`) and unchanged on the server (a 304 to its
    /// validators, or the same bytes again): nothing to do. Bytes that differ come back kNew.
    kRefused,
};

/// Short static name ("new", "pending", "unchanged", "failed", "refused").
const char* file_status_name(FileStatus status) noexcept;

/// One listed file after a round.
struct FetchedFile {
    std::string path;  ///< index path
    FileStatus status = FileStatus::kFailed;
    /// For kNew and kPending: the downloaded bytes, in the spool directory (named by SHA-256).
    /// Removed by `mark_used`. The downloader never reads it back except to check its hash.
    std::filesystem::path spool_file;
    std::array<std::uint8_t, 32> sha256{};  ///< for kNew, kPending, kUnchanged (when known)
    std::uint64_t bytes = 0;
    /// For kFailed: what went wrong (static text). kNetworkHttp carries `http_status`.
    Error error{ErrorCode::kOk, ""};
    long http_status = 0;  ///< last HTTP status seen for this file (0: none / local source)
};

/// Outcome of the index request.
enum class IndexStatus : std::uint8_t {
    kNew,        ///< downloaded and parsed
    kUnchanged,  ///< 304 Not Modified (or same local file): the stored list was used
    kFailed,     ///< see `FetchReport::index_error`; no file was requested this round
};

/// Where a round is: the request in flight and its body bytes.
struct FetchProgress {
    std::string_view path;    ///< "index.txt" or the listed path being requested
    bool index = false;       ///< the request is for index.txt
    std::size_t file = 0;     ///< position of `path` in the index (0-based; 0 for the index)
    std::size_t files = 0;    ///< entries in the index (0 while the index is requested)
    std::uint64_t now = 0;    ///< body bytes of this response so far (0 until a 200 body starts)
    std::uint64_t total = 0;  ///< its announced size, 0 when unknown
};

/// Called on the calling thread, often (also while waiting for a connection, headers or a
/// redirect); return false to cancel the round (see `fetch_round`).
using ProgressCallback = std::function<bool(const FetchProgress&)>;

/// What one round did.
struct FetchReport {
    IndexStatus index_status = IndexStatus::kFailed;
    Error index_error{ErrorCode::kOk, ""};
    long index_http_status = 0;
    std::uint64_t index_lines_refused = 0;  ///< malformed or hostile lines (not requested)
    std::vector<FetchedFile> files;         ///< one per index entry, in index order
    std::uint64_t requests = 0;             ///< HTTP requests sent (redirects included)
    std::uint64_t not_modified = 0;         ///< 304 answers (index included)
    std::uint64_t bytes_downloaded = 0;     ///< body bytes received (index included)
    /// The persisted state was damaged and rebuilt (see `LoadedState::damaged`).
    bool state_was_damaged = false;
    /// The round was cancelled (stop token or progress callback): the request in flight and
    /// every file after it failed with kCancelled (retried next round).
    bool cancelled = false;

    std::size_t count(FileStatus s) const noexcept;
};

/// The downloader. Valid once created.
class Downloader {
public:
    /// `spool_dir` receives downloaded files (created with its parents if missing, mode 0700);
    /// stale partial downloads in it, and files the state does not list as pending (left by a
    /// damaged state), are removed. Each downloader needs its own spool directory
    /// and its own state (one per source). `state` is loaded now; a damaged state is rebuilt and
    /// reported in the first `fetch_round`. An http URL that `check_url` refuses fails here with
    /// kNetworkRefused, before any connection. Errors: kNetworkRefused, kInvalidArgument (empty
    /// location, missing directory, a URL with a query or fragment, nonsensical options),
    /// kStorageIo (spool, state), kOutOfMemory.
    static Result<Downloader> create(Source source, std::unique_ptr<FetchState> state,
                                     std::filesystem::path spool_dir,
                                     const DownloadOptions& options = {});

    ~Downloader();
    Downloader(Downloader&&) noexcept;
    Downloader& operator=(Downloader&&) noexcept;
    Downloader(const Downloader&) = delete;
    Downloader& operator=(const Downloader&) = delete;

    /// One round: index.txt (conditional), then every listed file that is not downloaded yet
    /// (or every file, with `revalidate_downloaded`). Per-file failures are reported in the
    /// result, not as an error. A SHA-256 appears at most once as kNew or kPending in a report.
    /// Pending files that left the index are forgotten (their spool files removed). The state is
    /// saved at the end. Wall time is bounded by the timeouts times the number of requests.
    ///
    /// **Cancellation.** A stop request on `stop` (`std::stop_source::request_stop`, from any
    /// thread) aborts the request in flight in any phase (connecting, TLS, waiting for or
    /// reading headers, a redirect, an error body, the body) within ~0.2 s, independent of the
    /// timeouts; the index (when it was in flight) or that file and every later one fail with
    /// kCancelled and `cancelled` is set. Files finished before are reported and kept as usual,
    /// and the state is saved. Errors (the round as a whole): kStorageIo / kStorageFull (state
    /// or spool cannot be written), kOutOfMemory.
    Result<FetchReport> fetch_round(const ProgressCallback& progress = {},
                                    std::stop_token stop = {});

    /// Records that the caller verified and used the file `path` whose content has `sha256`
    /// (from the report), removes its spool file and saves the state at once. Every file with the
    /// same content counts as used. Later rounds report them kUnchanged and do not download them
    /// again. Idempotent. Errors: kFailedPrecondition (no downloaded file
    /// with this path and hash), kStorageIo.
    Result<void> mark_used(const std::string& path, const std::array<std::uint8_t, 32>& sha256);

    /// One downloaded file, as reported: its path and the SHA-256 of its content.
    struct FileRef {
        std::string path;
        std::array<std::uint8_t, 32> sha256{};
    };

    /// `mark_used` for several files with one state write: all of them are recorded, or (on
    /// any error) none. Errors as `mark_used`; kFailedPrecondition names no file by path.
    Result<void> mark_used(std::span<const FileRef> files);

    /// Records that the caller refused the content of the file `path` (`sha256` from the report)
    /// for what it is: a bad or missing signature, an untrusted signer, a damaged zip. Not for a
    /// failure that may pass next time (I/O, out of memory, the store busy): leave the file
    /// pending then. Removes its spool file at once, so it no longer holds room under
    /// `max_spool_bytes`, and saves the state (the refusal survives restarts). Every name listed
    /// with the same content is refused. Later rounds send its validators (ETag,
    /// Last-Modified) instead of downloading it: unchanged on the server, or the same bytes
    /// again (no validators, or a server that ignores them), it is reported kRefused and not
    /// offered or kept; different bytes are a new file (kNew). Idempotent. Errors:
    /// kFailedPrecondition (no downloaded file with this path and hash, or it was used),
    /// kStorageIo.
    Result<void> mark_refused(const std::string& path, const std::array<std::uint8_t, 32>& sha256);

    /// Forgets every refusal (for a caller whose verifier changed, e.g. a new trust store): the
    /// refused files are downloaded and offered again as new in the next round. Saves the state.
    /// Returns how many records were forgotten. Errors: kStorageIo, kOutOfMemory.
    Result<std::size_t> forget_refusals();

    /// Binds the refusals to the verifier that made them. `fingerprint` identifies the trusted
    /// keys (e.g. `keyfile::TrustStore::fingerprint()` in hex); it is stored with the state.
    /// When it differs from the stored one (or none was stored), every refusal is forgotten
    /// (`forget_refusals`) and the new fingerprint is saved. Returns how many refusals were
    /// forgotten. Errors: kInvalidArgument (empty, longer than 128 bytes, or not printable
    /// ASCII without spaces), kStorageIo, kOutOfMemory.
    Result<std::size_t> set_verifier_fingerprint(const std::string& fingerprint);

private:
    struct Impl;
    explicit Downloader(std::unique_ptr<Impl> impl) noexcept;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sotto::fetch
