// C ABI: key-file imports into the Tracer's check round, the check, and reading its report.
#include <filesystem>
#include <memory>
#include <span>

#include "capi/convert.hpp"
#include "capi/handles.hpp"
#include "capi/shim.hpp"

namespace {

using namespace sotto;
using sotto::capi::fail;
using sotto::capi::guard;

void to_c(const KeyFileOutcome& o, sotto_import_result& r) noexcept {
    r = sotto_import_result{};
    r.read = o.info ? 1 : 0;
    r.verified = o.verified() ? 1 : 0;
    r.matched = o.matched() ? 1 : 0;
    r.already_processed = o.status == KeyFileStatus::kAlreadyProcessed ? 1 : 0;
    r.error = o.reason ? static_cast<sotto_status>(o.reason->code) : SOTTO_OK;
    r.matched_rpis = o.matched_rpis;
    if (o.info) capi::to_c(*o.info, r.info);
    // The embedded info keeps its first layout whatever the caller set (sotto.h).
    r.info.struct_size = static_cast<std::uint32_t>(capi::first_layout::kKeyfileInfo);
}

/// Options of an import from its C flags; false for unknown flags.
bool import_options(uint32_t flags, ImportOptions& o) noexcept {
    if ((flags & ~std::uint32_t{SOTTO_IMPORT_PARSE_ONLY | SOTTO_IMPORT_REMATCH}) != 0) return false;
    o.verify = (flags & SOTTO_IMPORT_PARSE_ONLY) != 0 ? keyfile::VerifyMode::kParseOnly
                                                      : keyfile::VerifyMode::kRequireSignature;
    o.rematch = (flags & SOTTO_IMPORT_REMATCH) != 0;
    return true;
}

template <class Import>
sotto_status import_with(sotto_import_result* out, sotto_tracer* tracer, uint32_t flags,
                         Import&& import) {
    if (tracer == nullptr) return capi::null_argument();
    if (auto bad = capi::check_sized(out, capi::first_layout::kImportResult); bad != SOTTO_OK)
        return bad;
    ImportOptions options;
    if (!import_options(flags, options)) {
        return fail(SOTTO_ERR_INVALID_ARGUMENT, "flags: unknown SOTTO_IMPORT_* bit");
    }
    auto outcome = import(*tracer->tracer, options);
    if (!outcome) return fail(outcome.error());
    if (out == nullptr) return SOTTO_OK;
    sotto_import_result r{};
    to_c(*outcome, r);
    return capi::fill_sized(out, r, capi::first_layout::kImportResult);
}

}  // namespace

extern "C" {

SOTTO_API sotto_status sotto_tracer_import_keyfile(sotto_import_result* out, sotto_tracer* tracer,
                                                   const uint8_t* zip, size_t zip_len,
                                                   uint32_t flags) {
    return guard([&]() -> sotto_status {
        if (!capi::bytes_ok(zip, zip_len)) return capi::null_argument();
        return import_with(out, tracer, flags, [&](Tracer& t, const ImportOptions& o) {
            return t.import_key_file(std::span(zip, zip_len), o);
        });
    });
}

SOTTO_API sotto_status sotto_tracer_import_keyfile_pair(sotto_import_result* out,
                                                        sotto_tracer* tracer, const uint8_t* bin,
                                                        size_t bin_len, const uint8_t* sig,
                                                        size_t sig_len, uint32_t flags) {
    return guard([&]() -> sotto_status {
        if (!capi::bytes_ok(bin, bin_len) || !capi::bytes_ok(sig, sig_len))
            return capi::null_argument();
        return import_with(out, tracer, flags, [&](Tracer& t, const ImportOptions& o) {
            return t.import_key_pair(std::span(bin, bin_len), std::span(sig, sig_len), o);
        });
    });
}

SOTTO_API sotto_status sotto_tracer_import_keyfile_path(sotto_import_result* out,
                                                        sotto_tracer* tracer, const char* path,
                                                        uint32_t flags) {
    return guard([&]() -> sotto_status {
        if (path == nullptr) return capi::null_argument();
        const std::filesystem::path p(path);
        return import_with(out, tracer, flags, [&](Tracer& t, const ImportOptions& o) {
            return t.import_key_file(p, o);
        });
    });
}

SOTTO_API sotto_status sotto_tracer_check(sotto_check** out, sotto_tracer* tracer) {
    return guard([&]() -> sotto_status {
        if (out == nullptr || tracer == nullptr) return capi::null_argument();
        auto handle = std::make_unique<sotto_check>();
        auto report = tracer->tracer->check();
        if (!report) return fail(report.error());
        handle->report = std::move(*report);
        *out = handle.release();
        return SOTTO_OK;
    });
}

SOTTO_API void sotto_check_destroy(sotto_check* check) { delete check; }

SOTTO_API sotto_status sotto_check_get_summary(sotto_check_summary* out, const sotto_check* check) {
    return guard([&]() -> sotto_status {
        if (out == nullptr || check == nullptr) return capi::null_argument();
        const CheckReport& c = check->report;
        const auto& risk = c.report.risk;
        sotto_check_summary s{};
        s.computed_at = c.computed_at;
        s.files = c.files.size();
        s.sightings = c.sightings;
        s.valid_matches = c.report.valid_matches;
        s.suspect_matches = c.report.suspect_matches;
        s.windows = c.report.windows.size();
        s.daily_summaries = c.report.daily_summaries.size();
        s.risk_days = risk.days.size();
        s.most_recent_low_risk_date = risk.most_recent_date_with_low_risk.value_or(0);
        s.most_recent_high_risk_date = risk.most_recent_date_with_high_risk.value_or(0);
        s.total_risk_level = static_cast<std::int32_t>(check->report.risk);
        s.recorded = c.recorded ? 1 : 0;
        s.disputed_matches = c.report.disputed_matches;
        s.encounters = c.report.encounters.size();
        s.keys = c.keys.keys;
        s.keys_revoked = c.keys.keys_revoked;
        s.keys_checked = c.matcher.keys_checked;
        s.keys_skipped = c.matcher.keys_skipped;
        s.keys_invalid = c.matcher.keys_invalid;
        s.rpis_derived = c.matcher.rpis_derived;
        s.rpis_matched = c.matcher.rpis_matched;
        s.matcher_keys_revoked = c.matcher.keys_revoked;
        return capi::fill_sized(out, s, capi::first_layout::kCheckSummary);
    });
}

SOTTO_API sotto_status sotto_check_get_files(sotto_import_result* out, size_t capacity,
                                             uint32_t element_size, size_t* out_needed,
                                             const sotto_check* check) {
    return guard([&]() -> sotto_status {
        if (out_needed == nullptr || check == nullptr) return capi::null_argument();
        return capi::fill_array(
            out, capacity, element_size, out_needed, check->report.files,
            capi::first_layout::kImportResult,
            [](const KeyFileOutcome& o, sotto_import_result& r) { to_c(o, r); });
    });
}

SOTTO_API sotto_status sotto_check_get_windows(sotto_exposure_window* out, size_t capacity,
                                               uint32_t element_size, size_t* out_needed,
                                               const sotto_check* check) {
    return guard([&]() -> sotto_status {
        if (out_needed == nullptr || check == nullptr) return capi::null_argument();
        return capi::fill_array(
            out, capacity, element_size, out_needed, check->report.report.windows,
            capi::first_layout::kExposureWindow,
            [](const core::ExposureWindow& w, sotto_exposure_window& r) {
                r = sotto_exposure_window{};
                r.date_unix = w.date_unix;
                r.report_type = static_cast<std::int32_t>(w.report_type);
                r.infectiousness = static_cast<std::int32_t>(w.infectiousness);
                r.calibration_confidence = static_cast<std::int32_t>(w.calibration_confidence);
                r.scan_instance_count = static_cast<std::uint32_t>(w.scan_instances.size());
            });
    });
}

SOTTO_API sotto_status sotto_check_get_scan_instances(sotto_scan_instance* out, size_t capacity,
                                                      uint32_t element_size, size_t* out_needed,
                                                      const sotto_check* check,
                                                      size_t window_index) {
    return guard([&]() -> sotto_status {
        if (out_needed == nullptr || check == nullptr) return capi::null_argument();
        const auto& windows = check->report.report.windows;
        if (window_index >= windows.size()) {
            *out_needed = 0;
            return fail(SOTTO_ERR_OUT_OF_RANGE, "window_index: past the last exposure window");
        }
        return capi::fill_array(
            out, capacity, element_size, out_needed, windows[window_index].scan_instances,
            capi::first_layout::kScanInstance,
            [](const core::ScanInstance& s, sotto_scan_instance& r) {
                r = sotto_scan_instance{s.typical_attenuation_db, s.min_attenuation_db,
                                        s.seconds_since_last_scan};
            });
    });
}

SOTTO_API sotto_status sotto_check_get_daily_summaries(sotto_daily_summary* out, size_t capacity,
                                                       uint32_t element_size, size_t* out_needed,
                                                       const sotto_check* check) {
    return guard([&]() -> sotto_status {
        if (out_needed == nullptr || check == nullptr) return capi::null_argument();
        return capi::fill_array(
            out, capacity, element_size, out_needed, check->report.report.daily_summaries,
            capi::first_layout::kDailySummary,
            [](const core::DailySummary& d, sotto_daily_summary& r) {
                r = sotto_daily_summary{d.date_unix, d.summary.maximum_score, d.summary.score_sum,
                                        d.summary.weighted_duration_sum};
            });
    });
}

SOTTO_API sotto_status sotto_check_get_risk_days(sotto_risk_day* out, size_t capacity,
                                                 uint32_t element_size, size_t* out_needed,
                                                 const sotto_check* check) {
    return guard([&]() -> sotto_status {
        if (out_needed == nullptr || check == nullptr) return capi::null_argument();
        return capi::fill_array(out, capacity, element_size, out_needed,
                                check->report.report.risk.days, capi::first_layout::kRiskDay,
                                [](const core::CwaDayRisk& d, sotto_risk_day& r) {
                                    r = sotto_risk_day{};
                                    r.date_unix = d.date_unix;
                                    r.normalized_time = d.normalized_time;
                                    r.risk_level = static_cast<std::int32_t>(d.risk_level);
                                    r.minimum_distinct_encounters_with_low_risk =
                                        d.minimum_distinct_encounters_with_low_risk;
                                    r.minimum_distinct_encounters_with_high_risk =
                                        d.minimum_distinct_encounters_with_high_risk;
                                });
    });
}

}  // extern "C"
