// One fetch round: index (conditional), then each listed file not downloaded yet; the state
// records downloaded vs used so nothing is downloaded or handed out as new twice.

#include <sotto/fetch/downloader.hpp>

#include <algorithm>
#include <filesystem>
#include <new>
#include <set>
#include <string>
#include <system_error>
#include <unordered_set>

#include <sotto/fetch/url_policy.hpp>

#include "fetch/spool.hpp"
#include "fetch/transport.hpp"

namespace sotto::fetch {

bool Source::is_directory() const noexcept { return location.find("://") == std::string::npos; }

const char* file_status_name(FileStatus status) noexcept {
    switch (status) {
        case FileStatus::kNew:
            return "new";
        case FileStatus::kPending:
            return "pending";
        case FileStatus::kUnchanged:
            return "unchanged";
        case FileStatus::kFailed:
            return "failed";
        case FileStatus::kRefused:
            return "refused";
        default:
            return "unknown";
    }
}

std::size_t FetchReport::count(FileStatus s) const noexcept {
    return static_cast<std::size_t>(std::count_if(
        files.begin(), files.end(), [s](const FetchedFile& f) { return f.status == s; }));
}

namespace {

bool same_record(const FileRecord& a, const FileRecord& b) {
    return a.path == b.path && a.sha256 == b.sha256 && a.bytes == b.bytes && a.etag == b.etag &&
           a.last_modified == b.last_modified && a.used == b.used && a.refused == b.refused;
}

bool same_state(const FetchStateData& a, const FetchStateData& b) {
    return a.index_etag == b.index_etag && a.index_last_modified == b.index_last_modified &&
           a.index_entries == b.index_entries && a.retired_used == b.retired_used &&
           a.verifier_fingerprint == b.verifier_fingerprint &&
           std::equal(a.files.begin(), a.files.end(), b.files.begin(), b.files.end(), same_record);
}

}  // namespace

struct Downloader::Impl {
    DownloadOptions options;
    std::unique_ptr<FetchState> state;
    std::unique_ptr<detail::Transport> transport;
    detail::Spool spool;
    FetchStateData data;
    bool damaged_unreported = false;
    // Bytes the spool holds for the caller (see `pending_bytes`); recomputed after a transfer.
    std::uint64_t held = 0;
    bool held_known = false;
    bool spool_filled = false;  // a transfer crossed the cap this round: request no more

    FileRecord* find(const std::string& path) {
        auto it = std::find_if(data.files.begin(), data.files.end(),
                               [&](const FileRecord& r) { return r.path == path; });
        return it == data.files.end() ? nullptr : &*it;
    }

    // True when another record than `except` still needs the spool file of `sha`.
    bool spool_shared(const std::array<std::uint8_t, 32>& sha, const FileRecord* except) const {
        return std::any_of(data.files.begin(), data.files.end(), [&](const FileRecord& r) {
            return &r != except && !r.used && !r.refused && r.sha256 == sha;
        });
    }

    // Distinct contents of the records not used yet: what the spool holds for the caller.
    std::set<std::array<std::uint8_t, 32>> pending_contents() const {
        std::set<std::array<std::uint8_t, 32>> out;
        for (const auto& r : data.files)
            if (!r.used && !r.refused) out.insert(r.sha256);
        return out;
    }
    // Their recorded sizes, each content once (O(records); only after a transfer).
    std::uint64_t pending_bytes() const {
        std::set<std::array<std::uint8_t, 32>> seen;
        std::uint64_t sum = 0;
        for (const auto& r : data.files)
            if (!r.used && !r.refused && seen.insert(r.sha256).second) sum += r.bytes;
        return sum;
    }

    void fetch_index(FetchReport& report, std::vector<std::string>& entries,
                     const ProgressCallback& progress, const std::stop_token& stop);
    FetchedFile fetch_file(const std::string& path, std::size_t position, std::size_t count,
                           FetchReport& report, const ProgressCallback& progress,
                           const std::stop_token& stop);
    Result<FetchReport> round(const ProgressCallback& progress, const std::stop_token& stop);
};

void Downloader::Impl::fetch_index(FetchReport& report, std::vector<std::string>& entries,
                                   const ProgressCallback& progress, const std::stop_token& stop) {
    detail::GetRequest req{"index.txt", data.index_etag, data.index_last_modified,
                           options.max_index_bytes};
    std::string body;
    const detail::BodySink sink = [&](std::span<const std::uint8_t> b) {
        body.append(reinterpret_cast<const char*>(b.data()), b.size());
        return true;
    };
    detail::TransferProgress on_progress;
    if (progress)
        on_progress = [&](std::uint64_t now, std::uint64_t total) {
            return progress(FetchProgress{"index.txt", true, 0, 0, now, total});
        };
    const auto resp = transport->get(req, sink, on_progress, stop);
    report.requests += resp.requests;
    report.index_http_status = resp.status;
    report.bytes_downloaded += resp.body_bytes;
    if (resp.error.code != ErrorCode::kOk) {
        if (resp.cancelled) {
            report.cancelled = true;
            report.index_error = {ErrorCode::kCancelled, "download: cancelled"};
            report.index_status = IndexStatus::kFailed;
            return;
        }
        report.index_status = IndexStatus::kFailed;
        report.index_error = resp.error;
        return;
    }
    if (resp.not_modified) {
        ++report.not_modified;
        report.index_status = IndexStatus::kUnchanged;
        entries = data.index_entries;
        return;
    }
    auto parsed = parse_index(body, options.index_limits);
    if (!parsed) {
        report.index_status = IndexStatus::kFailed;
        report.index_error = parsed.error();
        return;
    }
    report.index_status = IndexStatus::kNew;
    report.index_lines_refused = parsed->lines_refused;
    entries = std::move(parsed->entries);
    data.index_entries = entries;
    data.index_etag = resp.etag;
    data.index_last_modified = resp.last_modified;
}

FetchedFile Downloader::Impl::fetch_file(const std::string& path, std::size_t position,
                                         std::size_t count, FetchReport& report,
                                         const ProgressCallback& progress,
                                         const std::stop_token& stop) {
    FetchedFile out;
    out.path = path;
    if (report.cancelled || stop.stop_requested()) {
        report.cancelled = true;
        out.error = {ErrorCode::kCancelled, "download: cancelled"};
        return out;
    }
    FileRecord* rec = find(path);
    // A refused file has no content at hand; its validators ask the server whether it changed.
    const bool refused = rec != nullptr && !rec->used && rec->refused;
    const bool have_content =
        rec != nullptr && (rec->used || (!refused && spool.intact(rec->sha256, rec->bytes)));
    auto report_refused = [&](const FileRecord& r) {
        out.sha256 = r.sha256;
        out.bytes = r.bytes;
        out.status = FileStatus::kRefused;
    };
    auto report_known = [&](FileRecord& r) {
        out.sha256 = r.sha256;
        out.bytes = r.bytes;
        if (r.used) {
            out.status = FileStatus::kUnchanged;
        } else {
            out.status = FileStatus::kPending;
            out.spool_file = spool.path_of(r.sha256);
        }
    };
    if (have_content && !options.revalidate_downloaded) {
        report_known(*rec);
        return out;
    }
    // The spool's total cap: what it holds for the caller, plus this transfer. The content of
    // a record whose spool file is gone or damaged is not held (it is being fetched again).
    if (!held_known) {
        held = pending_bytes();
        held_known = true;
    }
    const std::uint64_t stale =
        rec != nullptr && !rec->used && !refused && !have_content ? rec->bytes : 0;
    const std::uint64_t held_now = held - std::min(held, stale);
    const Error spool_full{ErrorCode::kNetworkTooLarge, "download: spool full (total size cap)"};
    if (spool_filled || held_now >= options.max_spool_bytes) {
        if (have_content) {  // revalidation waits for room; what is at hand is still offered
            report_known(*rec);
            return out;
        }
        if (refused) {  // asked again once there is room; nothing to offer meanwhile
            report_refused(*rec);
            return out;
        }
        out.error = spool_full;  // not even requested
        return out;
    }
    const std::uint64_t room = options.max_spool_bytes - held_now;
    const bool spool_bound = room < options.max_file_bytes;
    auto writer = spool.begin();
    if (!writer) {
        out.error = writer.error();
        return out;
    }
    const bool conditional = have_content || refused;
    detail::GetRequest req{path, conditional ? rec->etag : "",
                           conditional ? rec->last_modified : "",
                           std::min(options.max_file_bytes, room)};
    const detail::BodySink sink = [&](std::span<const std::uint8_t> b) {
        return (*writer)->write(b);
    };
    detail::TransferProgress on_progress;
    if (progress)
        on_progress = [&](std::uint64_t now, std::uint64_t total) {
            return progress(FetchProgress{path, false, position, count, now, total});
        };
    const auto resp = transport->get(req, sink, on_progress, stop);
    held_known = false;  // whatever happens below may change what the spool holds
    report.requests += resp.requests;
    report.bytes_downloaded += resp.body_bytes;
    out.http_status = resp.status;
    if (resp.error.code != ErrorCode::kOk) {
        if (resp.cancelled) {
            report.cancelled = true;
            out.error = {ErrorCode::kCancelled, "download: cancelled"};
            return out;
        }
        const bool crossed = spool_bound && resp.error.code == ErrorCode::kNetworkTooLarge;
        if (crossed) spool_filled = true;
        out.error = crossed ? spool_full : resp.error;
        return out;
    }
    if (resp.not_modified) {
        ++report.not_modified;
        if (refused) {  // the refused bytes are still what the server has
            report_refused(*rec);
            return out;
        }
        if (!have_content) {  // a 304 to an unconditional request: nothing to hand out
            out.error = {ErrorCode::kNetworkHttp,
                         "download: not modified without a conditional request"};
            return out;
        }
        report_known(*rec);  // validators were sent only when the content is at hand
        return out;
    }
    const auto sha = (*writer)->finish();
    const std::uint64_t bytes = (*writer)->bytes();
    out.sha256 = sha;
    out.bytes = bytes;
    const bool content_used =
        std::any_of(data.files.begin(), data.files.end(),
                    [&](const FileRecord& r) { return r.used && r.sha256 == sha; }) ||
        std::find(data.retired_used.begin(), data.retired_used.end(), sha) !=
            data.retired_used.end();
    if (content_used) {
        // The same bytes were used before (under this or another name): never handed out again.
        if (rec == nullptr) {
            data.files.push_back(FileRecord{path, sha, bytes, resp.etag, resp.last_modified, true});
        } else {
            if (!rec->used && rec->sha256 != sha && !spool_shared(rec->sha256, rec))
                spool.remove(rec->sha256);
            *rec = FileRecord{path, sha, bytes, resp.etag, resp.last_modified, true};
        }
        out.status = FileStatus::kUnchanged;
        return out;
    }
    const bool content_refused =
        std::any_of(data.files.begin(), data.files.end(),
                    [&](const FileRecord& r) { return !r.used && r.refused && r.sha256 == sha; });
    if (content_refused) {
        // Bytes the caller refused (under this or another name): not kept, not offered. The
        // validators are kept so the next round asks whether the server's file changed.
        if (rec == nullptr) {
            FileRecord r{path, sha, bytes, resp.etag, resp.last_modified, false};
            r.refused = true;
            data.files.push_back(std::move(r));
        } else {
            if (!rec->used && !refused && rec->sha256 != sha && !spool_shared(rec->sha256, rec))
                spool.remove(rec->sha256);
            *rec = FileRecord{path, sha, bytes, resp.etag, resp.last_modified, false};
            rec->refused = true;
        }
        out.status = FileStatus::kRefused;
        return out;
    }
    if (rec != nullptr && !rec->used && rec->sha256 == sha && have_content) {
        rec->etag = resp.etag;  // revalidated: same bytes as the pending spool file
        rec->last_modified = resp.last_modified;
        report_known(*rec);
        return out;
    }
    const auto final_path = spool.path_of(sha);
    if (auto c = (*writer)->commit(final_path); !c) {
        out.error = c.error();
        return out;
    }
    if (rec == nullptr) {
        data.files.push_back(FileRecord{path, sha, bytes, resp.etag, resp.last_modified, false});
    } else {
        if (!rec->used && rec->sha256 != sha && !spool_shared(rec->sha256, rec))
            spool.remove(rec->sha256);
        if (rec->used) {  // new bytes under a used name: the old content stays used
            data.retired_used.push_back(rec->sha256);
            if (data.retired_used.size() > options.max_remembered_files)
                data.retired_used.erase(data.retired_used.begin());
        }
        *rec = FileRecord{path, sha, bytes, resp.etag, resp.last_modified, false};
    }
    out.status = FileStatus::kNew;
    out.spool_file = final_path;
    return out;
}

Result<FetchReport> Downloader::Impl::round(const ProgressCallback& progress,
                                            const std::stop_token& stop) {
    FetchReport report;
    report.state_was_damaged = damaged_unreported;
    const FetchStateData before = data;
    std::vector<std::string> entries;
    if (stop.stop_requested()) {
        report.cancelled = true;
        report.index_error = {ErrorCode::kCancelled, "download: cancelled"};
        return report;
    }
    fetch_index(report, entries, progress, stop);
    if (report.index_status == IndexStatus::kFailed) {
        damaged_unreported = false;
        return report;  // nothing requested, nothing changed
    }
    spool_filled = false;
    held_known = false;
    report.files.reserve(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i)
        report.files.push_back(fetch_file(entries[i], i, entries.size(), report, progress, stop));

    // The same content under several names is handed out once per round.
    std::set<std::array<std::uint8_t, 32>> offered;
    for (auto& f : report.files) {
        if (f.status != FileStatus::kNew && f.status != FileStatus::kPending) continue;
        if (!offered.insert(f.sha256).second) {
            f.status = FileStatus::kUnchanged;
            f.spool_file.clear();
        }
    }

    // Files that left the index (the server expired them): pending ones are forgotten and their
    // spool files removed; used ones are remembered (up to max_remembered_files, oldest dropped
    // first) so that a file that comes back, or an index that was briefly empty, never brings a
    // used file back as new.
    const std::unordered_set<std::string> listed(entries.begin(), entries.end());
    std::vector<FileRecord> kept;
    std::size_t unlisted_used = 0;
    for (const auto& r : data.files) {
        if (listed.count(r.path) == 0 && r.used) ++unlisted_used;
    }
    for (auto& r : data.files) {
        if (listed.count(r.path) != 0) {
            kept.push_back(std::move(r));
        } else if (r.used) {
            if (unlisted_used > options.max_remembered_files) {
                --unlisted_used;
                continue;
            }
            kept.push_back(std::move(r));
        } else {
            r.path.clear();  // dropped; its spool file is removed below unless still needed
            kept.push_back(std::move(r));
        }
    }
    std::set<std::array<std::uint8_t, 32>> still_needed;
    for (const auto& r : kept) {
        if (!r.path.empty() && !r.used && !r.refused) still_needed.insert(r.sha256);
    }
    for (const auto& r : kept) {
        if (r.path.empty() && still_needed.count(r.sha256) == 0) spool.remove(r.sha256);
    }
    std::erase_if(kept, [](const FileRecord& r) { return r.path.empty(); });
    data.files = std::move(kept);

    held_known = false;
    // A round that changed nothing (the usual case: an unchanged index, every file used) costs
    // no write and no fsync; a damaged state is always rewritten.
    if (damaged_unreported || !same_state(data, before)) {
        if (auto saved = state->save(data); !saved) return saved.error();
    }
    damaged_unreported = false;
    return report;
}

Result<Downloader> Downloader::create(Source source, std::unique_ptr<FetchState> state,
                                      std::filesystem::path spool_dir,
                                      const DownloadOptions& options) {
    try {
        if (source.location.empty() || !state) {
            return make_error(ErrorCode::kInvalidArgument, "downloader: no source or no state");
        }
        if (options.max_file_bytes == 0 || options.max_index_bytes == 0 ||
            options.max_spool_bytes == 0 || options.total_timeout_ms == 0 ||
            options.connect_timeout_ms == 0 || options.index_limits.max_entries == 0) {
            return make_error(ErrorCode::kInvalidArgument,
                              "downloader: sizes and timeouts must be positive");
        }
        if (!detail::sodium_ready())
            return make_error(ErrorCode::kInternal, "downloader: libsodium failed");
        std::unique_ptr<detail::Transport> transport;
        if (source.is_directory()) {
            std::error_code ec;
            if (!std::filesystem::is_directory(source.location, ec)) {
                return make_error(ErrorCode::kInvalidArgument,
                                  "downloader: source directory not found");
            }
            transport = detail::make_directory_transport(source.location, options);
        } else {
            if (auto allowed = check_url(source.location); !allowed) return allowed.error();
            // Paths are appended to the root: a query or fragment would swallow them.
            if (source.location.find_first_of("?#") != std::string::npos) {
                return make_error(ErrorCode::kInvalidArgument,
                                  "downloader: source URL has a query or fragment");
            }
            transport = detail::make_http_transport(source.location, options);
        }
        auto spool = detail::Spool::open(std::move(spool_dir));
        if (!spool) return spool.error();
        auto loaded = state->load();
        if (!loaded) return loaded.error();
        auto impl = std::unique_ptr<Impl>(new Impl{options, std::move(state), std::move(transport),
                                                   std::move(spool).value(),
                                                   std::move(loaded->data), loaded->damaged});
        // Files no pending record names (a damaged state was rebuilt) would fill the disk
        // outside the spool's cap: nothing hands them out any more.
        impl->spool.remove_all_but(impl->pending_contents());
        return Downloader(std::move(impl));
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "downloader: out of memory");
    } catch (...) {
        return make_error(ErrorCode::kInternal, "downloader: unexpected exception");
    }
}

Downloader::Downloader(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Downloader::~Downloader() = default;
Downloader::Downloader(Downloader&&) noexcept = default;
Downloader& Downloader::operator=(Downloader&&) noexcept = default;

Result<FetchReport> Downloader::fetch_round(const ProgressCallback& progress,
                                            std::stop_token stop) {
    try {
        return impl_->round(progress, stop);
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "downloader: out of memory");
    } catch (...) {
        return make_error(ErrorCode::kInternal, "downloader: unexpected exception");
    }
}

Result<void> Downloader::mark_used(const std::string& path,
                                   const std::array<std::uint8_t, 32>& sha256) {
    const FileRef one[] = {FileRef{path, sha256}};
    return mark_used(std::span<const FileRef>(one));
}

Result<void> Downloader::mark_used(std::span<const FileRef> files) {
    try {
        for (const auto& f : files) {
            const FileRecord* rec = impl_->find(f.path);
            if (rec == nullptr || rec->sha256 != f.sha256)
                return make_error(ErrorCode::kFailedPrecondition,
                                  "downloader: no such downloaded file");
        }
        // A content that was used: every name it was published under is done.
        std::vector<std::pair<FileRecord*, bool>> marked;  // and whether it was refused
        std::vector<std::array<std::uint8_t, 32>> contents;
        // Reserved first: once a record is changed, nothing below may throw before the save
        // (a bad_alloc there would leave records marked in memory but not on disk).
        marked.reserve(impl_->data.files.size());
        contents.reserve(files.size());
        for (const auto& f : files) {
            bool fresh = false;
            for (auto& r : impl_->data.files) {
                if (!r.used && r.sha256 == f.sha256) {
                    marked.emplace_back(&r, r.refused);
                    r.used = true;
                    r.refused = false;
                    fresh = true;
                }
            }
            if (fresh) contents.push_back(f.sha256);
        }
        if (marked.empty()) return ok();
        if (auto saved = impl_->state->save(impl_->data); !saved) {
            for (auto [r, was_refused] : marked) {
                r->used = false;
                r->refused = was_refused;
            }
            return saved.error();
        }
        for (const auto& c : contents) impl_->spool.remove(c);
        return ok();
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "downloader: out of memory");
    } catch (...) {
        return make_error(ErrorCode::kInternal, "downloader: unexpected exception");
    }
}

Result<void> Downloader::mark_refused(const std::string& path,
                                      const std::array<std::uint8_t, 32>& sha256) {
    try {
        FileRecord* rec = impl_->find(path);
        if (rec == nullptr || rec->sha256 != sha256 || rec->used) {
            return make_error(ErrorCode::kFailedPrecondition, "downloader: no such pending file");
        }
        if (rec->refused) return ok();
        // The content was refused: under every name it is listed with, it is not offered again.
        std::vector<FileRecord*> marked;
        for (auto& r : impl_->data.files) {
            if (!r.used && !r.refused && r.sha256 == sha256) {
                r.refused = true;
                marked.push_back(&r);
            }
        }
        if (auto saved = impl_->state->save(impl_->data); !saved) {
            for (auto* r : marked) r->refused = false;
            return saved.error();
        }
        impl_->spool.remove(sha256);
        impl_->held_known = false;
        return ok();
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "downloader: out of memory");
    } catch (...) {
        return make_error(ErrorCode::kInternal, "downloader: unexpected exception");
    }
}

Result<std::size_t> Downloader::forget_refusals() {
    try {
        auto& files = impl_->data.files;
        std::vector<FileRecord> before = files;
        const auto n = std::erase_if(files, [](const FileRecord& r) { return r.refused; });
        if (n == 0) return std::size_t{0};
        if (auto saved = impl_->state->save(impl_->data); !saved) {
            files = std::move(before);
            return saved.error();
        }
        impl_->held_known = false;
        return static_cast<std::size_t>(n);
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "downloader: out of memory");
    } catch (...) {
        return make_error(ErrorCode::kInternal, "downloader: unexpected exception");
    }
}

Result<std::size_t> Downloader::set_verifier_fingerprint(const std::string& fingerprint) {
    try {
        if (!is_valid_fingerprint(fingerprint))
            return make_error(ErrorCode::kInvalidArgument, "downloader: invalid fingerprint");
        auto& data = impl_->data;
        if (data.verifier_fingerprint == fingerprint) return std::size_t{0};
        FetchStateData before = data;
        const auto n = std::erase_if(data.files, [](const FileRecord& r) { return r.refused; });
        data.verifier_fingerprint = fingerprint;
        if (auto saved = impl_->state->save(data); !saved) {
            data = std::move(before);
            return saved.error();
        }
        impl_->held_known = false;
        return static_cast<std::size_t>(n);
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "downloader: out of memory");
    } catch (...) {
        return make_error(ErrorCode::kInternal, "downloader: unexpected exception");
    }
}

}  // namespace sotto::fetch
