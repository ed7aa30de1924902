// C ABI: trust stores and diagnosis-key files.
#include <algorithm>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "capi/convert.hpp"
#include "capi/handles.hpp"
#include "capi/shim.hpp"

namespace {

using namespace sotto;
using sotto::capi::fail;
using sotto::capi::guard;

/// Runs `read(trust, mode, sink)` and wraps what it delivered into a new handle.
template <class Read>
sotto_status read_into(sotto_keyfile** out, const sotto_trust_store* trust, uint32_t verify_mode,
                       Read&& read) {
    if (out == nullptr) return capi::null_argument();
    if (verify_mode != SOTTO_VERIFY_REQUIRE && verify_mode != SOTTO_VERIFY_PARSE_ONLY) {
        return fail(SOTTO_ERR_INVALID_ARGUMENT,
                    "verify_mode: expected SOTTO_VERIFY_REQUIRE or _PARSE_ONLY");
    }
    static const keyfile::TrustStore kEmpty;
    const keyfile::TrustStore& ts = trust != nullptr ? trust->store : kEmpty;
    auto handle = std::make_unique<sotto_keyfile>();
    bool out_of_memory = false;
    const keyfile::KeySink sink = [&](core::DiagnosisKey&& k) {
        // The sink must not throw into the reader: note the failure and drop the key.
        if (out_of_memory) return;
        try {
            handle->keys.push_back(std::move(k));
        } catch (const std::bad_alloc&) {
            out_of_memory = true;
        }
    };
    const auto mode = verify_mode == SOTTO_VERIFY_REQUIRE ? keyfile::VerifyMode::kRequireSignature
                                                          : keyfile::VerifyMode::kParseOnly;
    auto info = read(ts, mode, sink);
    if (out_of_memory) return fail(SOTTO_ERR_OUT_OF_MEMORY, "out of memory while reading keys");
    if (!info) return fail(info.error());
    handle->info = std::move(*info);
    *out = handle.release();
    return SOTTO_OK;
}

}  // namespace

extern "C" {

SOTTO_API sotto_status sotto_trust_store_create(sotto_trust_store** out) {
    return guard([&]() -> sotto_status {
        if (out == nullptr) return capi::null_argument();
        *out = new sotto_trust_store{};
        return SOTTO_OK;
    });
}

SOTTO_API void sotto_trust_store_destroy(sotto_trust_store* trust) { delete trust; }

SOTTO_API sotto_status sotto_trust_store_add(sotto_trust_store* trust, const char* key_id,
                                             const char* key_version, const uint8_t* key,
                                             size_t key_len, int32_t is_pem) {
    return guard([&]() -> sotto_status {
        if (trust == nullptr || key == nullptr) return capi::null_argument();
        const std::span<const std::uint8_t> bytes(key, key_len);
        const std::string_view pem(reinterpret_cast<const char*>(key), key_len);
        Result<void> r;
        if (key_id == nullptr) {
            r = is_pem ? trust->store.add_pem_any_id(pem) : trust->store.add_spki_der_any_id(bytes);
        } else {
            std::string version = key_version != nullptr ? key_version : "";
            r = is_pem ? trust->store.add_pem(key_id, std::move(version), pem)
                       : trust->store.add_spki_der(key_id, std::move(version), bytes);
        }
        if (!r) return fail(r.error());
        return SOTTO_OK;
    });
}

SOTTO_API sotto_status sotto_trust_store_size(size_t* out, const sotto_trust_store* trust) {
    if (out == nullptr || trust == nullptr) return capi::null_argument();
    *out = trust->store.size();
    return SOTTO_OK;
}

SOTTO_API sotto_status sotto_keyfile_read(sotto_keyfile** out, const uint8_t* zip, size_t zip_len,
                                          const sotto_trust_store* trust, uint32_t verify_mode) {
    return guard([&]() -> sotto_status {
        if (!capi::bytes_ok(zip, zip_len)) return capi::null_argument();
        return read_into(out, trust, verify_mode, [&](auto& ts, auto mode, auto& sink) {
            return keyfile::read_export_zip(std::span(zip, zip_len), ts, mode, sink);
        });
    });
}

SOTTO_API sotto_status sotto_keyfile_read_pair(sotto_keyfile** out, const uint8_t* bin,
                                               size_t bin_len, const uint8_t* sig, size_t sig_len,
                                               const sotto_trust_store* trust,
                                               uint32_t verify_mode) {
    return guard([&]() -> sotto_status {
        if (!capi::bytes_ok(bin, bin_len) || !capi::bytes_ok(sig, sig_len)) {
            return capi::null_argument();
        }
        return read_into(out, trust, verify_mode, [&](auto& ts, auto mode, auto& sink) {
            return keyfile::read_export_pair(std::span(bin, bin_len), std::span(sig, sig_len), ts,
                                             mode, sink);
        });
    });
}

SOTTO_API sotto_status sotto_keyfile_read_path(sotto_keyfile** out, const char* path,
                                               const sotto_trust_store* trust,
                                               uint32_t verify_mode) {
    return guard([&]() -> sotto_status {
        if (path == nullptr) return capi::null_argument();
        const std::filesystem::path p(path);
        return read_into(out, trust, verify_mode, [&](auto& ts, auto mode, auto& sink) {
            return keyfile::read_export_file(p, ts, mode, sink);
        });
    });
}

SOTTO_API void sotto_keyfile_destroy(sotto_keyfile* keyfile) { delete keyfile; }

SOTTO_API sotto_status sotto_keyfile_get_info(sotto_keyfile_info* out,
                                              const sotto_keyfile* keyfile) {
    return guard([&]() -> sotto_status {
        if (out == nullptr || keyfile == nullptr) return capi::null_argument();
        sotto_keyfile_info r{};
        capi::to_c(keyfile->info, r);
        return capi::fill_sized(out, r, capi::first_layout::kKeyfileInfo);
    });
}

SOTTO_API sotto_status sotto_keyfile_get_keys(sotto_diagnosis_key* out, size_t capacity,
                                              uint32_t element_size, size_t* out_needed,
                                              const sotto_keyfile* keyfile) {
    return guard([&]() -> sotto_status {
        if (out_needed == nullptr || keyfile == nullptr) return capi::null_argument();
        return capi::fill_array(
            out, capacity, element_size, out_needed, keyfile->keys,
            capi::first_layout::kDiagnosisKey,
            [](const core::DiagnosisKey& k, sotto_diagnosis_key& r) { capi::to_c(k, r); });
    });
}

}  // extern "C"
