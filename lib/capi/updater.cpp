// C ABI: the key updater (sotto::KeyUpdater) over a sotto_tracer.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <memory>
#include <optional>

#include <sotto/update/key_updater.hpp>

#include "capi/handles.hpp"
#include "capi/shim.hpp"

struct sotto_updater {
    explicit sotto_updater(sotto::KeyUpdater u) : updater(std::move(u)) {}
    sotto::KeyUpdater updater;
    std::optional<sotto::UpdateReport> last;  // the last completed round
};

namespace {

using namespace sotto;
using sotto::capi::fail;
using sotto::capi::guard;

static_assert(SOTTO_UPDATE_CHECKED == static_cast<int>(UpdateOutcome::kChecked));
static_assert(SOTTO_UPDATE_UNCHANGED == static_cast<int>(UpdateOutcome::kUnchanged));
static_assert(SOTTO_UPDATE_REFUSED == static_cast<int>(UpdateOutcome::kRefused));
static_assert(SOTTO_UPDATE_STILL_REFUSED == static_cast<int>(UpdateOutcome::kStillRefused));
static_assert(SOTTO_UPDATE_FAILED == static_cast<int>(UpdateOutcome::kFailed));
static_assert(SOTTO_UPDATE_POSTPONED == static_cast<int>(UpdateOutcome::kPostponed));
static_assert(SOTTO_INDEX_NEW == static_cast<int>(fetch::IndexStatus::kNew));
static_assert(SOTTO_INDEX_UNCHANGED == static_cast<int>(fetch::IndexStatus::kUnchanged));
static_assert(SOTTO_INDEX_FAILED == static_cast<int>(fetch::IndexStatus::kFailed));
static_assert(SOTTO_UPDATE_PHASE_INDEX == static_cast<int>(UpdatePhase::kIndex));
static_assert(SOTTO_UPDATE_PHASE_DOWNLOAD == static_cast<int>(UpdatePhase::kDownload));
static_assert(SOTTO_UPDATE_PHASE_IMPORT == static_cast<int>(UpdatePhase::kImport));
static_assert(SOTTO_UPDATE_PHASE_CHECK == static_cast<int>(UpdatePhase::kCheck));

sotto_updater_options default_options() noexcept {
    sotto_updater_options o{};
    const fetch::DownloadOptions d;
    o.struct_size = sizeof o;
    o.connect_timeout_ms = d.connect_timeout_ms;
    o.total_timeout_ms = d.total_timeout_ms;
    o.max_redirects = d.max_redirects;
    o.max_file_bytes = d.max_file_bytes;
    o.max_spool_bytes = d.max_spool_bytes;
    return o;
}

/// The caller's options; an older, smaller struct keeps the defaults for what it lacks.
bool to_options(const sotto_updater_options& in, KeyUpdaterOptions& out) noexcept {
    // Whole fields only: a size that ends inside one is a caller's bug, not an older layout.
    constexpr std::size_t kFieldEnds[] = {
        offsetof(sotto_updater_options, total_timeout_ms),
        offsetof(sotto_updater_options, max_redirects),
        offsetof(sotto_updater_options, max_file_bytes),
        offsetof(sotto_updater_options, max_spool_bytes),
        sizeof(sotto_updater_options),
    };
    static_assert(kFieldEnds[0] == sotto::capi::first_layout::kUpdaterOptions);
    if (std::find(std::begin(kFieldEnds), std::end(kFieldEnds), in.struct_size) ==
        std::end(kFieldEnds))
        return false;
    sotto_updater_options o = default_options();
    std::memcpy(&o, &in, in.struct_size);
    if (o.connect_timeout_ms == 0 || o.total_timeout_ms == 0 || o.max_file_bytes == 0 ||
        o.max_spool_bytes == 0 || o.max_redirects > 50)
        return false;
    out.download.connect_timeout_ms = o.connect_timeout_ms;
    out.download.total_timeout_ms = o.total_timeout_ms;
    out.download.max_redirects = o.max_redirects;
    out.download.max_file_bytes = o.max_file_bytes;
    out.download.max_spool_bytes = o.max_spool_bytes;
    return true;
}

}  // namespace

extern "C" {

SOTTO_API sotto_status sotto_updater_options_init_sized(sotto_updater_options* out, size_t size) {
    return sotto::capi::fill_first(out, default_options(), size,
                                   sotto::capi::first_layout::kUpdaterOptions);
}

SOTTO_API sotto_status sotto_updater_create(sotto_updater** out, sotto_tracer* tracer,
                                            const char* source, const char* state_dir,
                                            const sotto_updater_options* options) {
    return guard([&]() -> sotto_status {
        if (out == nullptr || tracer == nullptr || !tracer->tracer || source == nullptr ||
            state_dir == nullptr)
            return sotto::capi::null_argument();
        KeyUpdaterOptions o;
        if (options != nullptr && !to_options(*options, o))
            return fail(
                SOTTO_ERR_INVALID_ARGUMENT,
                "updater options: a field is out of range (use sotto_updater_options_init)");
        auto u = KeyUpdater::create(*tracer->tracer, fetch::Source{source}, state_dir, o);
        if (!u) return fail(u.error());
        *out = std::make_unique<sotto_updater>(std::move(*u)).release();
        return SOTTO_OK;
    });
}

SOTTO_API sotto_status sotto_updater_run(sotto_updater* updater, sotto_update_progress_fn progress,
                                         void* user_data) {
    return guard([&]() -> sotto_status {
        if (updater == nullptr) return sotto::capi::null_argument();
        UpdateProgressFn on_progress;
        if (progress != nullptr)
            on_progress = [progress, user_data](const UpdateProgress& p) {
                sotto_update_progress c{};
                c.struct_size = sizeof c;
                c.phase = static_cast<std::uint32_t>(p.phase);
                c.files_done = p.files_done;
                c.files_total = p.files_total;
                c.bytes_done = p.bytes_done;
                c.bytes_total = p.bytes_total;
                progress(user_data, &c);
            };
        auto r = updater->updater.run(on_progress);
        if (!r) return fail(r.error());
        updater->last = std::move(*r);
        return SOTTO_OK;
    });
}

SOTTO_API void sotto_updater_cancel(sotto_updater* updater) {
    if (updater != nullptr) updater->updater.cancel();
}

SOTTO_API sotto_status sotto_updater_get_summary(sotto_update_summary* out,
                                                 const sotto_updater* updater) {
    return guard([&]() -> sotto_status {
        if (out == nullptr || updater == nullptr) return sotto::capi::null_argument();
        if (!updater->last)
            return fail(SOTTO_ERR_FAILED_PRECONDITION, "updater: no round has completed");
        const auto& r = *updater->last;
        sotto_update_summary s{};
        s.index_status = static_cast<std::uint32_t>(r.index_status);
        s.index_error = static_cast<sotto_status>(r.index_error.code);
        s.index_http_status = static_cast<std::int32_t>(r.index_http_status);
        s.files = r.files.size();
        s.checked = r.count(UpdateOutcome::kChecked);
        s.unchanged = r.count(UpdateOutcome::kUnchanged);
        s.refused = r.count(UpdateOutcome::kRefused);
        s.still_refused = r.count(UpdateOutcome::kStillRefused);
        s.failed = r.count(UpdateOutcome::kFailed);
        s.postponed = r.count(UpdateOutcome::kPostponed);
        s.refusals_forgotten = r.refusals_forgotten;
        s.requests = r.requests;
        s.bytes_downloaded = r.bytes_downloaded;
        s.cancelled = r.cancelled ? 1 : 0;
        s.check_ran = r.check ? 1 : 0;
        s.state_was_damaged = r.state_was_damaged ? 1 : 0;
        s.index_lines_refused = r.index_lines_refused;
        return sotto::capi::fill_sized(out, s, sotto::capi::first_layout::kUpdateSummary);
    });
}

SOTTO_API sotto_status sotto_updater_get_file(sotto_update_file* out, const sotto_updater* updater,
                                              size_t index) {
    return guard([&]() -> sotto_status {
        if (out == nullptr || updater == nullptr) return sotto::capi::null_argument();
        if (!updater->last)
            return fail(SOTTO_ERR_FAILED_PRECONDITION, "updater: no round has completed");
        if (index >= updater->last->files.size())
            return fail(SOTTO_ERR_OUT_OF_RANGE, "updater: no file with this index");
        const auto& f = updater->last->files[index];
        sotto_update_file c{};
        c.outcome = static_cast<std::uint32_t>(f.outcome);
        c.reason = static_cast<sotto_status>(f.reason.code);
        c.http_status = static_cast<std::int32_t>(f.http_status);
        std::memcpy(c.sha256, f.sha256.data(), sizeof c.sha256);
        c.bytes = f.bytes;
        c.keys = f.keys;
        c.downloaded = f.downloaded ? 1 : 0;
        return sotto::capi::fill_sized(out, c, sotto::capi::first_layout::kUpdateFile);
    });
}

SOTTO_API sotto_status sotto_updater_get_file_path(char* out, size_t capacity, size_t* out_needed,
                                                   const sotto_updater* updater, size_t index) {
    return guard([&]() -> sotto_status {
        if (out_needed == nullptr || updater == nullptr) return sotto::capi::null_argument();
        if (!updater->last)
            return fail(SOTTO_ERR_FAILED_PRECONDITION, "updater: no round has completed");
        if (index >= updater->last->files.size())
            return fail(SOTTO_ERR_OUT_OF_RANGE, "updater: no file with this index");
        const auto& path = updater->last->files[index].path;
        *out_needed = path.size() + 1;
        if (out == nullptr || capacity < path.size() + 1)
            return fail(SOTTO_ERR_OUT_OF_RANGE, "buffer too small (see *out_needed)");
        std::memcpy(out, path.c_str(), path.size() + 1);
        return SOTTO_OK;
    });
}

SOTTO_API sotto_status sotto_updater_take_check(sotto_check** out, sotto_updater* updater) {
    return guard([&]() -> sotto_status {
        if (out == nullptr || updater == nullptr) return sotto::capi::null_argument();
        if (!updater->last)
            return fail(SOTTO_ERR_FAILED_PRECONDITION, "updater: no round has completed");
        *out = nullptr;
        auto& check = updater->last->check;
        if (!check) return SOTTO_OK;
        auto handle = std::make_unique<sotto_check>();
        handle->report = std::move(*check);
        check.reset();
        *out = handle.release();
        return SOTTO_OK;
    });
}

SOTTO_API void sotto_updater_destroy(sotto_updater* updater) { delete updater; }

}  // extern "C"
