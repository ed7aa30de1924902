// C ABI: opening the Tracer, broadcasting, hearing, own keys, erase, status, the log sink.
#include <cstring>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include <sotto/log.hpp>

#include "capi/convert.hpp"
#include "capi/handles.hpp"
#include "capi/shim.hpp"

namespace {

using namespace sotto;
using sotto::capi::fail;
using sotto::capi::guard;

sotto_tracer_options default_options();

/// Turns the C options into `TracerOptions`; false for values out of range. An older caller's
/// smaller struct keeps the defaults for the fields it lacks.
bool to_options(const sotto_tracer_options& in, TracerOptions& t) {
    if (in.struct_size < capi::first_layout::kTracerOptions ||
        in.struct_size > sizeof(sotto_tracer_options))
        return false;
    sotto_tracer_options o = default_options();
    std::memcpy(&o, &in, in.struct_size);
    if (o.advertising_form != SOTTO_ADV_WITH_FLAGS && o.advertising_form != SOTTO_ADV_WITHOUT_FLAGS)
        return false;
    if (o.calibration_confidence > 3 || o.metadata_minor_version > 1 ||
        o.kdf_cost > SOTTO_KDF_MINIMUM)
        return false;
    if (o.create_if_missing > 1) return false;
    t.store.retention_days = o.retention_days;
    t.store.create_if_missing = o.create_if_missing == 1;
    t.store.max_bytes = o.max_store_bytes;
    t.flush_count = o.flush_count;
    t.flush_interval_ms = o.flush_interval_ms;
    if (t.max_pending < t.flush_count) t.max_pending = t.flush_count;
    t.advertising_form = o.advertising_form == SOTTO_ADV_WITH_FLAGS
                             ? core::AdvertisingForm::kWithFlags
                             : core::AdvertisingForm::kWithoutFlags;
    t.metadata.minor_version = o.metadata_minor_version;
    t.metadata.tx_power_dbm = o.tx_power_dbm;
    t.metadata.calibration_confidence =
        static_cast<core::CalibrationConfidence>(o.calibration_confidence);
    return true;
}

store::KdfParams kdf_params(std::uint8_t cost) {
    switch (cost) {
        case SOTTO_KDF_MODERATE:
            return store::KdfParams::moderate();
        case SOTTO_KDF_MINIMUM:
            return store::KdfParams::minimum();
        default:
            return store::KdfParams::interactive();
    }
}

/// The part of both open functions after the credential was built.
sotto_status open_with(sotto_tracer** out, const char* path, store::Credential credential,
                       const sotto_trust_store* trust, sotto_clock_fn clock, void* clock_user_data,
                       const sotto_tracer_options& c_options) {
    TracerOptions options;
    if (!to_options(c_options, options)) {
        return fail(SOTTO_ERR_INVALID_ARGUMENT,
                    "options: a field is out of range (use sotto_tracer_options_init)");
    }
    if (trust != nullptr) options.trust = trust->store;
    auto handle = std::make_unique<sotto_tracer>(clock, clock_user_data);
    auto tracer = Tracer::open(path, std::move(credential), handle->clock, std::move(options));
    if (!tracer) return fail(tracer.error());
    handle->tracer.emplace(std::move(*tracer));
    *out = handle.release();
    return SOTTO_OK;
}

sotto_tracer_options default_options() {
    sotto_tracer_options o{};
    const TracerOptions d;
    o.struct_size = sizeof o;
    o.retention_days = d.store.retention_days;
    o.flush_count = static_cast<std::uint32_t>(d.flush_count);
    o.advertising_form = d.advertising_form == core::AdvertisingForm::kWithFlags
                             ? SOTTO_ADV_WITH_FLAGS
                             : SOTTO_ADV_WITHOUT_FLAGS;
    o.flush_interval_ms = d.flush_interval_ms;
    o.max_store_bytes = d.store.max_bytes;
    o.tx_power_dbm = d.metadata.tx_power_dbm;
    o.calibration_confidence = static_cast<std::uint8_t>(d.metadata.calibration_confidence);
    o.metadata_minor_version = d.metadata.minor_version;
    o.create_if_missing = d.store.create_if_missing ? 1 : 0;
    o.kdf_cost = SOTTO_KDF_INTERACTIVE;
    return o;
}

/// The C log sink behind the C++ hook. Every installed sink is kept until exit, because a call
/// already running may still use the one a later `sotto_set_log_sink` replaced.
struct CLogSink {
    sotto_log_fn fn;
    void* user_data;
};
std::mutex g_sinks_mutex;
std::vector<std::unique_ptr<CLogSink>>& sinks() {
    static std::vector<std::unique_ptr<CLogSink>> all;
    return all;
}
void log_trampoline(void* user_data, LogLevel level, const char* message,
                    std::size_t size) noexcept {
    const auto* sink = static_cast<const CLogSink*>(user_data);
    sink->fn(sink->user_data, static_cast<std::int32_t>(level), message, size);
}

}  // namespace

extern "C" {

SOTTO_API sotto_status sotto_set_log_sink(sotto_log_fn sink, void* user_data, int32_t min_level) {
    return guard([&]() -> sotto_status {
        if (min_level < SOTTO_LOG_DEBUG || min_level > SOTTO_LOG_ERROR) {
            return fail(SOTTO_ERR_INVALID_ARGUMENT,
                        "min_level: expected SOTTO_LOG_DEBUG..SOTTO_LOG_ERROR");
        }
        if (sink == nullptr) {
            set_log_sink(nullptr, nullptr);
            return SOTTO_OK;
        }
        const std::lock_guard lock(g_sinks_mutex);
        sinks().push_back(std::make_unique<CLogSink>(CLogSink{sink, user_data}));
        set_log_sink(&log_trampoline, sinks().back().get(), static_cast<LogLevel>(min_level));
        return SOTTO_OK;
    });
}

SOTTO_API sotto_status sotto_tracer_options_init_sized(sotto_tracer_options* out, size_t size) {
    return guard([&]() -> sotto_status {
        return capi::fill_first(out, default_options(), size, capi::first_layout::kTracerOptions);
    });
}

SOTTO_API sotto_status sotto_tracer_open(sotto_tracer** out, const char* path, const uint8_t* key,
                                         size_t key_len, const sotto_trust_store* trust,
                                         sotto_clock_fn clock, void* clock_user_data,
                                         const sotto_tracer_options* options) {
    return guard([&]() -> sotto_status {
        if (out == nullptr || path == nullptr || key == nullptr) return capi::null_argument();
        if (key_len != store::kStoreKeyBytes) {
            return fail(SOTTO_ERR_INVALID_ARGUMENT, "key: expected 32 bytes");
        }
        auto credential = store::Credential::raw_key(store::StoreKey::from(
            std::span<const std::uint8_t, store::kStoreKeyBytes>(key, store::kStoreKeyBytes)));
        return open_with(out, path, std::move(credential), trust, clock, clock_user_data,
                         options != nullptr ? *options : default_options());
    });
}

SOTTO_API sotto_status sotto_tracer_open_passphrase(sotto_tracer** out, const char* path,
                                                    const uint8_t* passphrase,
                                                    size_t passphrase_len,
                                                    const sotto_trust_store* trust,
                                                    sotto_clock_fn clock, void* clock_user_data,
                                                    const sotto_tracer_options* options) {
    return guard([&]() -> sotto_status {
        if (out == nullptr || path == nullptr || passphrase == nullptr)
            return capi::null_argument();
        const sotto_tracer_options o = options != nullptr ? *options : default_options();
        auto pass = store::Passphrase::from(std::span(passphrase, passphrase_len));
        if (!pass) return fail(pass.error());
        auto credential = store::Credential::passphrase(std::move(*pass), kdf_params(o.kdf_cost));
        return open_with(out, path, std::move(credential), trust, clock, clock_user_data, o);
    });
}

SOTTO_API void sotto_tracer_destroy(sotto_tracer* tracer) {
    // The Tracer's destructor does not throw (it logs failures of the final flush).
    delete tracer;
}

SOTTO_API sotto_status sotto_tracer_current_advertisement(sotto_advertisement* out,
                                                          sotto_tracer* tracer) {
    return guard([&]() -> sotto_status {
        if (out == nullptr || tracer == nullptr) return capi::null_argument();
        if (auto bad = capi::check_sized(out, capi::first_layout::kAdvertisement); bad != SOTTO_OK)
            return bad;
        auto adv = tracer->tracer->current_advertisement();
        if (!adv) return fail(adv.error());
        sotto_advertisement r{};
        std::memcpy(r.service_data, adv->service_data.data(), sizeof r.service_data);
        std::memcpy(r.advertising_data, adv->advertising_data.bytes.data(),
                    adv->advertising_data.size);
        r.advertising_data_len = static_cast<std::uint8_t>(adv->advertising_data.size);
        std::memcpy(r.address, adv->address.bytes.data(), sizeof r.address);
        r.interval = adv->interval;
        r.active = adv->active ? 1 : 0;
        r.valid_until_ms = adv->valid_until_ms;
        return capi::fill_sized(out, r, capi::first_layout::kAdvertisement);
    });
}

SOTTO_API sotto_status sotto_tracer_on_advertisement(sotto_tracer* tracer, const uint8_t* bytes,
                                                     size_t len, int32_t rssi_dbm,
                                                     int64_t time_ms) {
    return guard([&]() -> sotto_status {
        if (tracer == nullptr || !capi::bytes_ok(bytes, len)) return capi::null_argument();
        auto r = tracer->tracer->on_advertisement(std::span(bytes, len), rssi_dbm, time_ms);
        return r ? SOTTO_OK : fail(r.error());
    });
}

SOTTO_API sotto_status sotto_tracer_on_advertisements(sotto_tracer* tracer,
                                                      const sotto_heard_advertisement* heard,
                                                      size_t count, size_t* out_accepted) {
    return guard([&]() -> sotto_status {
        if (tracer == nullptr || (heard == nullptr && count != 0)) return capi::null_argument();
        std::size_t accepted = 0;
        sotto_status status = SOTTO_OK;
        for (std::size_t i = 0; i < count; ++i) {
            const sotto_heard_advertisement& h = heard[i];
            const std::size_t len = h.len <= sizeof h.bytes ? h.len : 0;  // 0: counted as malformed
            auto r =
                tracer->tracer->on_advertisement(std::span(h.bytes, len), h.rssi_dbm, h.time_ms);
            if (r) {
                ++accepted;
            } else if (r.error().code != ErrorCode::kInvalidArgument &&
                       r.error().code != ErrorCode::kOutOfRange) {
                // A store write failed: this one is pending like the others; report it once.
                ++accepted;
                if (status == SOTTO_OK) status = fail(r.error());
            }
        }
        if (out_accepted != nullptr) *out_accepted = accepted;
        return status;
    });
}

SOTTO_API sotto_status sotto_tracer_flush(sotto_tracer* tracer) {
    return guard([&]() -> sotto_status {
        if (tracer == nullptr) return capi::null_argument();
        auto r = tracer->tracer->flush();
        return r ? SOTTO_OK : fail(r.error());
    });
}

SOTTO_API sotto_status sotto_tracer_tick(sotto_tick_report* out, sotto_tracer* tracer) {
    return guard([&]() -> sotto_status {
        if (tracer == nullptr) return capi::null_argument();
        if (auto s = capi::check_sized(out, capi::first_layout::kTickReport); s != SOTTO_OK)
            return s;
        auto r = tracer->tracer->tick();
        if (!r) return fail(r.error());
        if (out == nullptr) return SOTTO_OK;
        sotto_tick_report c{};
        c.retention = static_cast<int32_t>(r->retention);
        c.flushed = r->flushed ? 1 : 0;
        c.rotated = r->rotated ? 1 : 0;
        return capi::fill_sized(out, c, capi::first_layout::kTickReport);
    });
}

SOTTO_API sotto_status sotto_tracer_apply_retention(sotto_tracer* tracer, uint32_t flags) {
    return guard([&]() -> sotto_status {
        if (tracer == nullptr) return capi::null_argument();
        if ((flags & ~static_cast<uint32_t>(SOTTO_RETENTION_CLOCK_CONFIRMED)) != 0)
            return fail(SOTTO_ERR_INVALID_ARGUMENT, "retention: unknown flags");
        store::RetentionOptions o;
        o.clock_confirmed = (flags & SOTTO_RETENTION_CLOCK_CONFIRMED) != 0;
        auto r = tracer->tracer->apply_retention(o);
        return r ? SOTTO_OK : fail(r.error());
    });
}

SOTTO_API sotto_status sotto_tracer_release_own_keys(sotto_key_list** out, sotto_tracer* tracer,
                                                     uint32_t consent) {
    return guard([&]() -> sotto_status {
        if (out == nullptr || tracer == nullptr) return capi::null_argument();
        if (consent != SOTTO_USER_CONFIRMED_UPLOAD_OF_OWN_KEYS) {
            return fail(
                SOTTO_ERR_FAILED_PRECONDITION,
                "consent: own keys are released only with SOTTO_USER_CONFIRMED_UPLOAD_OF_OWN_KEYS");
        }
        auto list = std::make_unique<sotto_key_list>();
        auto released = tracer->tracer->release_own_keys(user_confirmed_upload_of_own_keys());
        if (!released) return fail(released.error());
        list->keys.reserve(released->size());
        for (auto& k : *released) {
            core::DiagnosisKey d;
            d.exposure_key = std::move(k.key);
            list->keys.push_back(std::move(d));
        }
        *out = list.release();
        return SOTTO_OK;
    });
}

SOTTO_API sotto_status sotto_key_list_get(sotto_diagnosis_key* out, size_t capacity,
                                          uint32_t element_size, size_t* out_needed,
                                          const sotto_key_list* list) {
    return guard([&]() -> sotto_status {
        if (list == nullptr) return capi::null_argument();
        return capi::fill_array(
            out, capacity, element_size, out_needed, list->keys, capi::first_layout::kDiagnosisKey,
            [](const core::DiagnosisKey& k, sotto_diagnosis_key& r) { capi::to_c(k, r); });
    });
}

SOTTO_API void sotto_key_list_destroy(sotto_key_list* list) { delete list; }

SOTTO_API sotto_status sotto_tracer_erase_all(sotto_tracer* tracer) {
    return guard([&]() -> sotto_status {
        if (tracer == nullptr) return capi::null_argument();
        auto r = tracer->tracer->erase_all();
        return r ? SOTTO_OK : fail(r.error());
    });
}

SOTTO_API sotto_status sotto_tracer_get_status(sotto_tracer_status* out,
                                               const sotto_tracer* tracer) {
    return guard([&]() -> sotto_status {
        if (out == nullptr || tracer == nullptr) return capi::null_argument();
        const TracerStatus s = tracer->tracer->status();
        sotto_tracer_status c{};
        c.heard = s.heard;
        c.malformed = s.malformed;
        c.dropped_overflow = s.dropped_overflow;
        c.pending = s.pending;
        c.stored = s.stored;
        c.rejected = s.rejected;
        c.flushes = s.flushes;
        c.flush_failures = s.flush_failures;
        c.own_keys_created = s.own_keys_created;
        c.rotations = s.rotations;
        c.files_imported = s.files_imported;
        c.files_refused = s.files_refused;
        c.files_skipped = s.files_skipped;
        c.checks = s.checks;
        c.deduplicated = s.deduplicated;
        c.radio_errors = s.radio_errors;
        c.discarded = s.discarded;
        c.radio_attached = s.radio_attached ? 1 : 0;
        c.round_open = s.round_open ? 1 : 0;
        c.clock_suspect = s.clock_suspect ? 1 : 0;
        return capi::fill_sized(out, c, capi::first_layout::kTracerStatus);
    });
}

SOTTO_API sotto_status sotto_tracer_get_store_stats(sotto_store_stats* out,
                                                    const sotto_tracer* tracer) {
    return guard([&]() -> sotto_status {
        if (out == nullptr || tracer == nullptr) return capi::null_argument();
        if (auto bad = capi::check_sized(out, capi::first_layout::kStoreStats); bad != SOTTO_OK)
            return bad;
        auto s = tracer->tracer->store_stats();
        if (!s) return fail(s.error());
        sotto_store_stats c{};
        c.sightings = s->sightings;
        c.rpis = s->rpis;
        c.days = s->days;
        c.own_keys = s->own_keys;
        c.exposure_records = s->exposure_records;
        c.processed_files = s->processed_files;
        c.key_publications = s->key_publications;
        return capi::fill_sized(out, c, capi::first_layout::kStoreStats);
    });
}

}  // extern "C"
