#pragma once
/// \file
/// The key updater: the one loop that keeps a device's exposure check up to date. One round
/// downloads what is new or changed at a key server (export-bucket layout over HTTPS, or a
/// directory with the same layout), verifies each file fail-closed, imports the verified ones
/// into a `Tracer`, runs one check over them, and remembers per file what happened: used (never
/// downloaded or matched again), refused (not offered again until the server's bytes change, or
/// until the trusted keys change), or still to do (retried next round). Without a Tracer, the
/// updater only verifies and hands each verified file to a callback (`sotto fetch --out`).
///
/// **Threading.** `run` from one thread at a time; `cancel` from any thread at any time (also
/// while `run` is running, and from a signal-safe context's helper thread). The Tracer may be
/// used by other threads meanwhile (hearing, ticking), but the updater owns its check rounds
/// while `run` imports and checks: do not import into the same Tracer from another thread then.
/// Callbacks (progress, delivery) run on the thread that called `run` and must not call into
/// the updater. No call throws.
///
/// **Cancellation.** `cancel()` stops the running round within ~0.2 s at every step: while the
/// index or a file is requested (connecting, TLS, headers, redirects, error bodies, bodies,
/// whatever the server does and whatever the timeouts), between two keys of an import, and
/// before the check. What was finished before is kept (files refused stay refused); nothing of
/// a cancelled round is checked or recorded, and its files are offered again next round. A
/// cancel that finds no round running cancels the next one at its start (so a shutdown that
/// races with the start of a round never waits for a whole round). The check itself, once
/// started, runs to its end: it only builds the report from matches already made and writes
/// them (milliseconds, see `sotto-bench update`).

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <sotto/error.hpp>
#include <sotto/fetch/downloader.hpp>
#include <sotto/keyfile/export_reader.hpp>
#include <sotto/result.hpp>
#include <sotto/tracer.hpp>

namespace sotto {

/// What a round did with one listed file.
enum class UpdateOutcome : std::uint8_t {
    /// Verified, imported and matched in this round's check (or, without a Tracer, verified
    /// and delivered); marked used: never downloaded or matched again.
    kChecked,
    /// Used earlier (or the same content as a used file, or already checked by the Tracer under
    /// another name): nothing to do.
    kUnchanged,
    /// Refused for its content this round (unsigned, bad signature, untrusted signer, damaged
    /// or oversized zip: `reason`); not offered again until the server's bytes or the trusted
    /// keys change.
    kRefused,
    /// Refused in an earlier round and unchanged on the server since: not downloaded again.
    kStillRefused,
    /// Could not be downloaded (`reason`: network, HTTP status, size caps, cancelled); tried
    /// again next round.
    kFailed,
    /// Downloaded but not checked this round (`reason`: cancelled, the file could not be read,
    /// or, without a delivery callback, only reported); kept and checked next round without
    /// downloading it again.
    kPostponed,
};

/// Short static name ("checked", "unchanged", "refused", "still-refused", "failed",
/// "postponed").
const char* update_outcome_name(UpdateOutcome outcome) noexcept;

/// One listed file after a round.
struct UpdateFile {
    std::string path;  ///< as listed in the index
    UpdateOutcome outcome = UpdateOutcome::kFailed;
    /// Why, for kRefused, kFailed and kPostponed (kCancelled when the round was cancelled);
    /// kOk otherwise.
    Error reason{ErrorCode::kOk, ""};
    long http_status = 0;                   ///< last HTTP status seen for it (0: none or local)
    bool downloaded = false;                ///< its bytes were downloaded in this round
    std::array<std::uint8_t, 32> sha256{};  ///< of the zip, when known
    std::uint64_t bytes = 0;                ///< size of the zip, when known
    std::uint64_t keys = 0;                 ///< keys delivered, for kChecked
    /// Without a Tracer: the verified file in the spool, valid until the next call of the
    /// updater (for kChecked: during the delivery callback only).
    std::filesystem::path spool_file;
};

/// What one round did.
struct UpdateReport {
    fetch::IndexStatus index_status = fetch::IndexStatus::kFailed;
    Error index_error{ErrorCode::kOk, ""};  ///< for kFailed
    long index_http_status = 0;
    std::uint64_t index_lines_refused = 0;  ///< malformed or hostile index lines (skipped)
    std::vector<UpdateFile> files;          ///< one per index entry, in index order
    /// The check over this round's files, when at least one file was imported and checked.
    std::optional<CheckReport> check;
    bool cancelled = false;  ///< `cancel()` stopped this round (see the file comment)
    /// The trusted keys differ from those the refusals were made with (first round after a
    /// change only): this many refusals were forgotten and their files downloaded again.
    std::size_t refusals_forgotten = 0;
    bool state_was_damaged = false;  ///< the fetch state was unreadable and rebuilt
    std::uint64_t requests = 0;      ///< HTTP requests sent (redirects included)
    std::uint64_t bytes_downloaded = 0;

    std::size_t count(UpdateOutcome outcome) const noexcept;
};

/// Where a round is, for progress bars and app screens.
enum class UpdatePhase : std::uint8_t { kIndex, kDownload, kImport, kCheck };

struct UpdateProgress {
    UpdatePhase phase = UpdatePhase::kIndex;
    std::string_view path;  ///< the file being downloaded or imported ("" in kCheck)
    /// kDownload: position in the index / entries in it. kImport: files imported / files to
    /// import. kCheck: both equal the files imported.
    std::size_t files_done = 0;
    std::size_t files_total = 0;
    /// kIndex, kDownload: body bytes received this round, and those plus what the current
    /// response still announces (the sizes of files not requested yet are unknown). kImport,
    /// kCheck: bytes of the files imported / of the files to import.
    std::uint64_t bytes_done = 0;
    std::uint64_t bytes_total = 0;
};
using UpdateProgressFn = std::function<void(const UpdateProgress&)>;

/// Without a Tracer: called for each verified file (`file.spool_file` readable during the
/// call); success marks it used, an error ends the round with that error (the file stays
/// offered).
using DeliverFn =
    std::function<Result<void>(const UpdateFile& file, const keyfile::ExportInfo& info)>;

struct KeyUpdaterOptions {
    /// Limits, timeouts, CA file (see `fetch::DownloadOptions`). The defaults are fine for a
    /// public key server; a cancel does not depend on them.
    fetch::DownloadOptions download{};
};

class KeyUpdater {
public:
    /// An updater that imports into `tracer` (which must outlive it) and checks. `state_dir`
    /// holds the download state (`fetch.state`, with the trusted keys' fingerprint) and the
    /// spool (`spool/`); it is created (mode 0700) if missing; use one per source. When the
    /// Tracer's trust store differs from the one the stored refusals were made with, they are
    /// forgotten now (reported by the first round). Errors: kInvalidArgument / kNetworkRefused
    /// (source), kStorageIo (directory, state), kCryptoFailure, kOutOfMemory.
    static Result<KeyUpdater> create(Tracer& tracer, fetch::Source source,
                                     const std::filesystem::path& state_dir,
                                     const KeyUpdaterOptions& options = {}) noexcept;

    /// An updater without a Tracer: verifies each new file with `trust` and hands it to
    /// `deliver`; files are marked used once delivered. An empty `deliver` only reports: verified
    /// files stay kPostponed (offered again next round), refused ones are marked refused.
    /// Same errors as above.
    static Result<KeyUpdater> create_verifier(keyfile::TrustStore trust, DeliverFn deliver,
                                              fetch::Source source,
                                              const std::filesystem::path& state_dir,
                                              const KeyUpdaterOptions& options = {}) noexcept;

    ~KeyUpdater();
    KeyUpdater(KeyUpdater&&) noexcept;
    KeyUpdater& operator=(KeyUpdater&&) noexcept;
    KeyUpdater(const KeyUpdater&) = delete;
    KeyUpdater& operator=(const KeyUpdater&) = delete;

    /// One round (see the file comment). Per-file problems are in the report; a cancelled round
    /// returns its report with `cancelled`. `stop` is a second way to cancel (same effect as
    /// `cancel()`). Errors (the round as a whole, nothing marked for the files not finished):
    /// kStorageIo / kStorageFull (state or spool), the Tracer's store and engine errors from an
    /// import or the check, a delivery error, kOutOfMemory.
    Result<UpdateReport> run(const UpdateProgressFn& progress = {},
                             std::stop_token stop = {}) noexcept;

    /// Cancels the running round, or the next one if none is running. Thread-safe, lock-free
    /// for the caller except for a short mutex; never blocks on I/O.
    void cancel() noexcept;

private:
    struct Impl;
    explicit KeyUpdater(std::unique_ptr<Impl> impl) noexcept;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sotto
