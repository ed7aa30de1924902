// C ABI: releasing one's own keys and sending them to a key server (sotto::fetch::upload_keys).
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include <sotto/fetch/key_upload.hpp>
#include <sotto/fetch/url_policy.hpp>

#include "capi/handles.hpp"
#include "capi/shim.hpp"

namespace {

using namespace sotto;
using sotto::capi::fail;
using sotto::capi::guard;

// The fields an older caller's smaller struct does not reach keep their defaults.
template <class T>
bool reaches(const sotto_upload_options& o, std::size_t offset) {
    return o.struct_size >= offset + sizeof(T);
}

template <std::size_t N>
void copy_string(char (&dst)[N], const std::string& src) {
    const std::size_t n = std::min(src.size(), N - 1);
    std::memcpy(dst, src.data(), n);
    dst[n] = '\0';
}

const char* or_empty(const char* s) { return s == nullptr ? "" : s; }

}  // namespace

extern "C" {

SOTTO_API sotto_status sotto_upload_own_keys(sotto_upload_result* out, sotto_tracer* tracer,
                                             const sotto_upload_options* options,
                                             uint32_t consent) {
    return guard([&]() -> sotto_status {
        if (out == nullptr || tracer == nullptr || options == nullptr || !tracer->tracer)
            return capi::null_argument();
        // The options' layouts: the first, the first plus verification_server, the whole. A
        // size ending inside a field is a caller's bug, not an older layout.
        const std::uint32_t in = options->struct_size;
        const bool known_layout = in == capi::first_layout::kUploadOptions ||
                                  in == offsetof(sotto_upload_options, api_key) ||
                                  in == sizeof(sotto_upload_options);
        if (out->struct_size < capi::first_layout::kUploadResult || !known_layout)
            return fail(SOTTO_ERR_INVALID_ARGUMENT, "upload: struct_size not set");
        if (consent != SOTTO_USER_CONFIRMED_UPLOAD_OF_OWN_KEYS) {
            return fail(
                SOTTO_ERR_FAILED_PRECONDITION,
                "consent: own keys are uploaded only with SOTTO_USER_CONFIRMED_UPLOAD_OF_OWN_KEYS");
        }
        const sotto_upload_options& o = *options;
        fetch::UploadOptions u;
        // The first layout (checked above) reaches every field up to symptom_onset_interval.
        u.url = or_empty(o.url);
        u.health_authority_id = or_empty(o.health_authority_id);
        u.verification_payload = or_empty(o.verification_payload);
        u.revision_token = or_empty(o.revision_token);
        u.ca_file = or_empty(o.ca_file);
        if (o.timeout_ms != 0) u.total_timeout_ms = o.timeout_ms;
        const std::int32_t risk = o.transmission_risk;
        u.symptom_onset_interval = o.symptom_onset_interval;
        if (reaches<const char*>(o, offsetof(sotto_upload_options, verification_server)))
            u.verification_server = or_empty(o.verification_server);
        if (reaches<const char*>(o, offsetof(sotto_upload_options, api_key)))
            u.api_key = or_empty(o.api_key);
        if (!u.verification_server.empty()) {
            if (auto allowed = fetch::check_url(u.verification_server); !allowed)
                return fail(allowed.error());
            if (u.api_key.empty())
                return fail(SOTTO_ERR_INVALID_ARGUMENT,
                            "upload: a verification server needs the app's api_key");
        }
        if (risk < 0 || risk > 8)
            return fail(SOTTO_ERR_INVALID_ARGUMENT, "upload: transmission_risk must be 0..8");
        // Everything that can be checked before the keys are released is checked first: a bad
        // URL or option releases nothing.
        if (auto allowed = fetch::check_url(u.url); !allowed) return fail(allowed.error());
        if (u.health_authority_id.empty() || u.verification_payload.empty() ||
            u.total_timeout_ms > 600'000)
            return fail(SOTTO_ERR_INVALID_ARGUMENT,
                        "upload: url, health_authority_id and verification_payload are required");

        auto released = tracer->tracer->release_own_keys(user_confirmed_upload_of_own_keys());
        if (!released) return fail(released.error());
        if (released->empty())
            return fail(SOTTO_ERR_FAILED_PRECONDITION, "upload: the store holds no own key");
        std::vector<fetch::UploadKey> keys;
        keys.reserve(released->size());
        for (auto& r : *released) keys.push_back({std::move(r.key), risk});
        auto reply = fetch::upload_keys(keys, u);
        if (!reply) return fail(reply.error());

        sotto_upload_result r{};
        r.http_status = static_cast<int32_t>(reply->http_status);
        r.accepted = reply->accepted ? 1 : 0;
        r.keys_sent = static_cast<uint32_t>(reply->keys_sent);
        r.body_bytes = static_cast<uint32_t>(reply->body_bytes);
        r.inserted_exposures = reply->inserted_exposures;
        copy_string(r.code, reply->code);
        copy_string(r.message, reply->message);
        copy_string(r.revision_token, reply->revision_token);
        copy_string(r.stage, reply->stage);
        return capi::fill_sized(out, r, capi::first_layout::kUploadResult);
    });
}

}  // extern "C"
