// One key-update round: download (lib/fetch), verify and import (the Tracer, fail-closed), one
// check, then mark each file used or refused. The only place in sotto where this loop lives.

#include <sotto/update/key_updater.hpp>

#include <algorithm>
#include <mutex>
#include <new>
#include <system_error>
#include <utility>

#include <sotto/bytes.hpp>

namespace sotto {

const char* update_outcome_name(UpdateOutcome outcome) noexcept {
    switch (outcome) {
        case UpdateOutcome::kChecked:
            return "checked";
        case UpdateOutcome::kUnchanged:
            return "unchanged";
        case UpdateOutcome::kRefused:
            return "refused";
        case UpdateOutcome::kStillRefused:
            return "still-refused";
        case UpdateOutcome::kFailed:
            return "failed";
        case UpdateOutcome::kPostponed:
            return "postponed";
    }
    return "unknown";
}

std::size_t UpdateReport::count(UpdateOutcome outcome) const noexcept {
    return static_cast<std::size_t>(
        std::count_if(files.begin(), files.end(),
                      [outcome](const UpdateFile& f) { return f.outcome == outcome; }));
}

namespace {

const Error kCancelledError{ErrorCode::kCancelled, "update: cancelled"};

}  // namespace

struct KeyUpdater::Impl {
    fetch::Downloader downloader;
    Tracer* tracer = nullptr;   // null: verify-only
    keyfile::TrustStore trust;  // verify-only
    DeliverFn deliver;          // verify-only; may be empty
    std::size_t forgotten_unreported = 0;

    std::mutex cancel_mu;
    std::stop_source* current = nullptr;  // the running round's, guarded by cancel_mu
    bool pending_cancel = false;          // a cancel that found no round running

    Impl(fetch::Downloader d, Tracer* t) : downloader(std::move(d)), tracer(t) {}

    Result<UpdateReport> round(const UpdateProgressFn& progress, const std::stop_token& stop);
    // Import or verify one downloaded file; fills `f` (outcome, reason). Returns true when the
    // file was imported into the check round (the Tracer) or delivered (verify-only).
    Result<bool> take(UpdateFile& f, const std::stop_token& stop);
};

Result<bool> KeyUpdater::Impl::take(UpdateFile& f, const std::stop_token& stop) {
    f.reason = {ErrorCode::kOk, ""};
    auto refuse = [&](const Error& e) -> Result<bool> {
        f.reason = e;
        if (keyfile::refuses_content(e.code)) {
            // Refused for its bytes: out of the spool, not offered again until they change.
            if (auto r = downloader.mark_refused(f.path, f.sha256); !r) return r.error();
            f.outcome = UpdateOutcome::kRefused;
        } else {
            f.outcome = UpdateOutcome::kPostponed;  // I/O: may pass next round
        }
        return false;
    };
    if (tracer == nullptr) {
        auto info = keyfile::read_export_zip(f.spool_file, trust,
                                             keyfile::VerifyMode::kRequireSignature, {});
        if (!info) return refuse(info.error());
        f.keys = info->keys_valid;
        if (!deliver) {
            f.outcome = UpdateOutcome::kPostponed;
            f.reason = {ErrorCode::kOk, "update: verified, not delivered"};
            return false;
        }
        f.outcome = UpdateOutcome::kChecked;
        if (auto d = deliver(f, *info); !d) return d.error();
        if (auto r = downloader.mark_used(f.path, f.sha256); !r) return r.error();
        return true;
    }
    ImportOptions o;
    o.stop = stop;
    auto outcome = tracer->import_key_file(f.spool_file, o);
    if (!outcome) return outcome.error();
    if (outcome->status == KeyFileStatus::kAlreadyProcessed) {
        // The same export.bin was checked before (another name, or a crash between the check
        // and marking it used): done.
        if (auto r = downloader.mark_used(f.path, f.sha256); !r) return r.error();
        f.outcome = UpdateOutcome::kUnchanged;
        return false;
    }
    if (!outcome->matched())
        return refuse(outcome->reason.value_or(
            Error{ErrorCode::kKeyFileMalformed, "update: key file refused"}));
    f.keys = outcome->info ? outcome->info->keys_delivered : 0;
    return true;
}

Result<UpdateReport> KeyUpdater::Impl::round(const UpdateProgressFn& progress,
                                             const std::stop_token& stop) {
    UpdateReport report;
    report.refusals_forgotten = std::exchange(forgotten_unreported, 0);

    // Download. Progress: files by index position, bytes received this round.
    std::uint64_t bytes_before = 0;  // body bytes of the responses finished this round
    std::string current_path;
    std::uint64_t current_now = 0;
    fetch::ProgressCallback on_fetch;
    if (progress) {
        on_fetch = [&](const fetch::FetchProgress& p) {
            if (p.path != current_path) {
                bytes_before += current_now;
                current_path.assign(p.path);
                current_now = 0;
            }
            current_now = p.now;
            const std::uint64_t total = std::max(p.total, p.now);
            progress(UpdateProgress{p.index ? UpdatePhase::kIndex : UpdatePhase::kDownload, p.path,
                                    p.file, p.files, bytes_before + p.now, bytes_before + total});
            return true;
        };
    }
    auto fetched = downloader.fetch_round(on_fetch, stop);
    if (!fetched) return fetched.error();
    report.index_status = fetched->index_status;
    report.index_error = fetched->index_error;
    report.index_http_status = fetched->index_http_status;
    report.index_lines_refused = fetched->index_lines_refused;
    report.state_was_damaged = fetched->state_was_damaged;
    report.requests = fetched->requests;
    report.bytes_downloaded = fetched->bytes_downloaded;
    report.cancelled = fetched->cancelled;
    if (fetched->index_status == fetch::IndexStatus::kFailed) return report;

    std::vector<std::size_t> to_take;
    report.files.reserve(fetched->files.size());
    for (auto& ff : fetched->files) {
        UpdateFile f;
        f.path = std::move(ff.path);
        f.http_status = ff.http_status;
        f.sha256 = ff.sha256;
        f.bytes = ff.bytes;
        f.downloaded = ff.status == fetch::FileStatus::kNew;
        switch (ff.status) {
            case fetch::FileStatus::kUnchanged:
                f.outcome = UpdateOutcome::kUnchanged;
                break;
            case fetch::FileStatus::kRefused:
                f.outcome = UpdateOutcome::kStillRefused;
                break;
            case fetch::FileStatus::kFailed:
                f.outcome = UpdateOutcome::kFailed;
                f.reason = ff.error;
                break;
            case fetch::FileStatus::kNew:
            case fetch::FileStatus::kPending:
                f.outcome = UpdateOutcome::kPostponed;
                f.reason = kCancelledError;  // until it is taken below
                f.spool_file = std::move(ff.spool_file);
                to_take.push_back(report.files.size());
                break;
        }
        report.files.push_back(std::move(f));
    }

    // Verify and import, fail-closed.
    std::uint64_t import_total = 0, import_done = 0;
    for (auto i : to_take) import_total += report.files[i].bytes;
    std::vector<std::size_t> imported;
    std::size_t done = 0;
    for (auto i : to_take) {
        auto& f = report.files[i];
        if (stop.stop_requested()) break;
        if (progress)
            progress(UpdateProgress{UpdatePhase::kImport, f.path, done, to_take.size(), import_done,
                                    import_total});
        auto taken = take(f, stop);
        if (!taken) {
            if (taken.error().code == ErrorCode::kCancelled) {  // the Tracer dropped the round
                f.outcome = UpdateOutcome::kPostponed;
                f.reason = kCancelledError;
                imported.clear();
                break;
            }
            if (tracer != nullptr) tracer->discard_round();
            return taken.error();
        }
        if (*taken && tracer != nullptr) imported.push_back(i);
        ++done;
        import_done += f.bytes;
    }
    if (stop.stop_requested()) {
        report.cancelled = true;
        if (tracer != nullptr) tracer->discard_round();
        for (auto i : imported) {  // imported but never checked: offered again next round
            report.files[i].outcome = UpdateOutcome::kPostponed;
            report.files[i].reason = kCancelledError;
        }
        return report;
    }
    if (imported.empty()) return report;

    // One check over every file of the round; then they are used.
    if (progress)
        progress(UpdateProgress{UpdatePhase::kCheck, "", imported.size(), imported.size(),
                                import_total, import_total});
    auto check = tracer->check();
    if (!check) return check.error();
    std::vector<fetch::Downloader::FileRef> used;  // one state write for all of them
    used.reserve(imported.size());
    for (auto i : imported) used.push_back({report.files[i].path, report.files[i].sha256});
    if (auto r = downloader.mark_used(used); !r) return r.error();
    for (auto i : imported) {
        report.files[i].outcome = UpdateOutcome::kChecked;
        report.files[i].reason = {ErrorCode::kOk, ""};
    }
    report.check = std::move(*check);
    return report;
}

namespace {

Result<fetch::Downloader> open_downloader(fetch::Source source,
                                          const std::filesystem::path& state_dir,
                                          const KeyUpdaterOptions& options) {
    std::error_code ec;
    std::filesystem::create_directories(state_dir, ec);
    if (ec || !std::filesystem::is_directory(state_dir, ec))
        return make_error(ErrorCode::kStorageIo, "update: cannot create the state directory");
    std::filesystem::permissions(state_dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
    return fetch::Downloader::create(
        std::move(source), std::make_unique<fetch::FileFetchState>(state_dir / "fetch.state"),
        state_dir / "spool", options.download);
}

}  // namespace

Result<KeyUpdater> KeyUpdater::create(Tracer& tracer, fetch::Source source,
                                      const std::filesystem::path& state_dir,
                                      const KeyUpdaterOptions& options) noexcept {
    try {
        auto d = open_downloader(std::move(source), state_dir, options);
        if (!d) return d.error();
        auto fp = tracer.trust().fingerprint();
        if (!fp) return fp.error();
        auto forgotten = d->set_verifier_fingerprint(to_hex(*fp));
        if (!forgotten) return forgotten.error();
        auto impl = std::make_unique<Impl>(std::move(*d), &tracer);
        impl->forgotten_unreported = *forgotten;
        return KeyUpdater(std::move(impl));
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "update: out of memory");
    } catch (...) {
        return make_error(ErrorCode::kInternal, "update: unexpected exception");
    }
}

Result<KeyUpdater> KeyUpdater::create_verifier(keyfile::TrustStore trust, DeliverFn deliver,
                                               fetch::Source source,
                                               const std::filesystem::path& state_dir,
                                               const KeyUpdaterOptions& options) noexcept {
    try {
        auto d = open_downloader(std::move(source), state_dir, options);
        if (!d) return d.error();
        auto fp = trust.fingerprint();
        if (!fp) return fp.error();
        auto forgotten = d->set_verifier_fingerprint(to_hex(*fp));
        if (!forgotten) return forgotten.error();
        auto impl = std::make_unique<Impl>(std::move(*d), nullptr);
        impl->trust = std::move(trust);
        impl->deliver = std::move(deliver);
        impl->forgotten_unreported = *forgotten;
        return KeyUpdater(std::move(impl));
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "update: out of memory");
    } catch (...) {
        return make_error(ErrorCode::kInternal, "update: unexpected exception");
    }
}

KeyUpdater::KeyUpdater(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
KeyUpdater::~KeyUpdater() = default;
KeyUpdater::KeyUpdater(KeyUpdater&&) noexcept = default;
KeyUpdater& KeyUpdater::operator=(KeyUpdater&&) noexcept = default;

Result<UpdateReport> KeyUpdater::run(const UpdateProgressFn& progress,
                                     std::stop_token stop) noexcept {
    Impl& m = *impl_;
    std::stop_source source;
    {
        std::lock_guard lock(m.cancel_mu);
        if (std::exchange(m.pending_cancel, false)) source.request_stop();
        m.current = &source;
    }
    struct Clear {
        Impl& m;
        ~Clear() {
            std::lock_guard lock(m.cancel_mu);
            m.current = nullptr;
        }
    } clear{m};
    try {
        std::stop_callback forward(stop, [&source]() noexcept { source.request_stop(); });
        return m.round(progress, source.get_token());
    } catch (const std::bad_alloc&) {
        if (m.tracer != nullptr) m.tracer->discard_round();
        return make_error(ErrorCode::kOutOfMemory, "update: out of memory");
    } catch (...) {
        if (m.tracer != nullptr) m.tracer->discard_round();
        return make_error(ErrorCode::kInternal, "update: unexpected exception");
    }
}

void KeyUpdater::cancel() noexcept {
    std::lock_guard lock(impl_->cancel_mu);
    if (impl_->current != nullptr)
        impl_->current->request_stop();
    else
        impl_->pending_cancel = true;
}

}  // namespace sotto
