// One POST of one's own keys in the Exposure Notifications Server publish format. The body is
// written by hand (base64, integers and checked printable strings only); the answer is parsed
// with nlohmann::json (header-only, private to this file).

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include <sotto/fetch/key_upload.hpp>
#include <sotto/fetch/url_policy.hpp>
#include <sotto/fetch/verification.hpp>
#include <sotto/secret.hpp>
#include <sotto/version.hpp>

#include "core/sodium_init.hpp"
#include "fetch/json_post.hpp"

namespace sotto::fetch {
namespace {

// The body's size is drawn from [kPaddedBodyBytes, kPaddedBodyBytes + kPaddingJitterBytes), which
// is larger than the body of kMaxUploadKeys keys without padding, so the size says nothing about
// the number of keys (the server's recommendation: at least 1 KiB of padding, 1 KiB of jitter).
constexpr std::size_t kPaddedBodyBytes = 6 * 1024;
constexpr std::size_t kPaddingJitterBytes = 2 * 1024;
constexpr std::size_t kMinPaddingBytes = 1024;

Result<void> check_options(const UploadOptions& o) {
    if (o.health_authority_id.empty() || o.verification_payload.empty())
        return make_error(ErrorCode::kInvalidArgument,
                          "upload: health authority id and verification payload are required");
    for (const std::string* s :
         {&o.health_authority_id, &o.verification_payload, &o.revision_token}) {
        if (s->size() > kMaxUploadFieldBytes || !detail::printable_ascii(*s))
            return make_error(ErrorCode::kInvalidArgument,
                              "upload: a field is too long or not printable ASCII");
    }
    if (o.total_timeout_ms == 0 || o.total_timeout_ms > 600'000 || o.connect_timeout_ms == 0)
        return make_error(ErrorCode::kInvalidArgument, "upload: timeout out of range");
    return {};
}

}  // namespace

Result<std::string> build_publish_body(std::span<const UploadKey> keys,
                                       const UploadOptions& options) {
    std::uint8_t hmac_key[32];
    randombytes_buf(hmac_key, sizeof hmac_key);
    auto body = build_publish_body(keys, options, hmac_key);
    sodium_memzero(hmac_key, sizeof hmac_key);
    return body;
}

Result<std::string> build_publish_body(std::span<const UploadKey> keys,
                                       const UploadOptions& options,
                                       std::span<const std::uint8_t> hmac_key) {
    try {
        if (hmac_key.empty() || hmac_key.size() > 128)
            return make_error(ErrorCode::kInvalidArgument, "upload: hmac key of 1..128 bytes");
        if (keys.empty() || keys.size() > kMaxUploadKeys)
            return make_error(ErrorCode::kInvalidArgument, "upload: 1..30 keys per publish");
        if (auto ok = check_options(options); !ok) return ok.error();
        if (!sotto::detail::init_sodium())
            return make_error(ErrorCode::kCryptoFailure, "upload: libsodium failed to initialize");
        std::string body;
        body.reserve(kPaddedBodyBytes + kPaddingJitterBytes);
        body += "{\"temporaryExposureKeys\":[";
        for (std::size_t i = 0; i < keys.size(); ++i) {
            const UploadKey& k = keys[i];
            if (k.key.rolling_period < 1 || k.key.rolling_period > 144 || k.transmission_risk < 0 ||
                k.transmission_risk > 8) {
                sotto::detail::secure_wipe(body.data(), body.size());
                return make_error(ErrorCode::kInvalidArgument,
                                  "upload: rolling period 1..144 and transmission risk 0..8");
            }
            if (i > 0) body.push_back(',');
            const auto tek = k.key.tek.expose_secret();
            std::string b64 = detail::base64(tek.data(), tek.size());
            body += "{\"key\":\"" + b64 +
                    "\",\"rollingStartNumber\":" + std::to_string(k.key.rolling_start) +
                    ",\"rollingPeriod\":" + std::to_string(k.key.rolling_period) +
                    ",\"transmissionRisk\":" + std::to_string(k.transmission_risk) + "}";
            sotto::detail::secure_wipe(b64.data(), b64.size());
        }
        body += "],\"healthAuthorityID\":";
        detail::append_json_string(body, options.health_authority_id);
        body += ",\"verificationPayload\":";
        detail::append_json_string(body, options.verification_payload);
        body += ",\"hmacKey\":\"" + detail::base64(hmac_key.data(), hmac_key.size()) + "\"";
        if (options.symptom_onset_interval != 0)
            body += ",\"symptomOnsetInterval\":" + std::to_string(options.symptom_onset_interval);
        body += ",\"revisionToken\":";
        detail::append_json_string(body, options.revision_token);
        body += ",\"padding\":\"";
        // Base64 of p bytes is 4 * ceil(p / 3) characters; "\"}" closes the object.
        const std::size_t target =
            kPaddedBodyBytes + randombytes_uniform(static_cast<std::uint32_t>(kPaddingJitterBytes));
        const std::size_t room = target > body.size() + 2 ? target - body.size() - 2 : 0;
        const std::size_t pad_bytes = std::max(room / 4 * 3, kMinPaddingBytes);
        std::string pad(pad_bytes, '\0');
        randombytes_buf(pad.data(), pad.size());
        body += detail::base64(reinterpret_cast<const std::uint8_t*>(pad.data()), pad.size());
        body += "\"}";
        return body;
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "upload: out of memory");
    }
}

namespace {

// The publish step: `options.verification_payload` and `hmac_key` go into the body as they are.
Result<UploadReply> publish(std::span<const UploadKey> keys, const UploadOptions& options,
                            std::span<const std::uint8_t> hmac_key, std::uint32_t total_ms) {
    auto built = build_publish_body(keys, options, hmac_key);
    if (!built) return built.error();
    std::string body = std::move(*built);
    struct Wipe {
        std::string& s;
        ~Wipe() { sotto::detail::secure_wipe(s.data(), s.size()); }
    } wipe{body};
    auto posted = detail::post_json(options.url, body, {}, options.ca_file,
                                    options.connect_timeout_ms, total_ms, detail::Step::kUpload);
    if (!posted) return posted.error();
    UploadReply reply;
    reply.http_status = posted->http_status;
    reply.keys_sent = keys.size();
    reply.body_bytes = body.size();
    const auto j = nlohmann::json::parse(posted->body, nullptr, false);
    if (!j.is_discarded() && j.is_object()) {
        reply.code = detail::clean_string_field(j, "code", 64);
        reply.message = detail::clean_string_field(j, "error", 256);
        reply.revision_token = detail::clean_string_field(j, "revisionToken", kMaxUploadFieldBytes);
        if (j.contains("insertedExposures") && j["insertedExposures"].is_number_integer())
            reply.inserted_exposures = j["insertedExposures"].get<std::int64_t>();
    }
    reply.accepted =
        reply.http_status == 200 && (reply.code.empty() || reply.code == "partial_failure");
    return reply;
}

UploadReply refused_by_verification(const char* stage, const VerificationAnswer& a) {
    UploadReply r;
    r.stage = stage;
    r.http_status = a.http_status;
    r.code = a.error_code;
    r.message = a.message;
    return r;
}

}  // namespace

Result<UploadReply> publish_keys(std::span<const UploadKey> keys, const UploadOptions& options,
                                 std::span<const std::uint8_t> hmac_key) {
    try {
        if (auto allowed = check_url(options.url); !allowed) return allowed.error();
        return publish(keys, options, hmac_key, options.total_timeout_ms);
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "upload: out of memory");
    }
}

Result<UploadReply> upload_keys(std::span<const UploadKey> keys, const UploadOptions& options) {
    try {
        // Everything that can be refused is refused before anything is sent.
        if (auto allowed = check_url(options.url); !allowed) return allowed.error();
        if (auto ok = check_options(options); !ok) return ok.error();
        if (keys.empty() || keys.size() > kMaxUploadKeys)
            return make_error(ErrorCode::kInvalidArgument, "upload: 1..30 keys per publish");
        if (!sotto::detail::init_sodium())
            return make_error(ErrorCode::kCryptoFailure, "upload: libsodium failed to initialize");
        SecretBytes<32> hmac_key;
        randombytes_buf(hmac_key.expose_secret_mut().data(), 32);
        const std::span<const std::uint8_t> key_bytes(hmac_key.expose_secret().data(), 32);
        if (options.verification_server.empty())
            return publish(keys, options, key_bytes, options.total_timeout_ms);

        if (auto allowed = check_url(options.verification_server); !allowed) return allowed.error();
        if (options.api_key.empty())
            return make_error(ErrorCode::kInvalidArgument,
                              "upload: a verification server needs the app's API key");
        // The body is checked (keys in range, fields printable) before the code is spent.
        if (auto body = build_publish_body(keys, options, key_bytes); !body)
            return body.error();
        else
            sotto::detail::secure_wipe(body->data(), body->size());

        // One deadline for the three exchanges.
        const auto start = std::chrono::steady_clock::now();
        auto remaining = [&]() -> std::uint32_t {
            const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now() - start)
                                   .count();
            return spent >= options.total_timeout_ms
                       ? 0u
                       : options.total_timeout_ms - static_cast<std::uint32_t>(spent);
        };
        VerificationOptions v;
        v.server = options.verification_server;
        v.api_key = options.api_key;
        v.ca_file = options.ca_file;
        v.connect_timeout_ms = options.connect_timeout_ms;
        v.total_timeout_ms = options.total_timeout_ms;
        auto token = verify_code(options.verification_payload, v);
        if (!token) return token.error();
        struct WipeAnswer {
            VerificationAnswer& a;
            ~WipeAnswer() { sotto::detail::secure_wipe(a.value.data(), a.value.size()); }
        } wipe_token{*token};
        if (!token->ok) return refused_by_verification("verify", *token);

        auto mac = exposure_key_hmac(keys, key_bytes);
        if (!mac) return mac.error();
        v.total_timeout_ms = remaining();
        if (v.total_timeout_ms == 0)
            return make_error(ErrorCode::kNetworkTimeout, "certificate: timed out");
        auto cert = request_certificate(token->value, *mac, v);
        if (!cert) return cert.error();
        WipeAnswer wipe_cert{*cert};
        if (!cert->ok) return refused_by_verification("certificate", *cert);

        UploadOptions with_cert = options;
        with_cert.verification_payload = cert->value;
        struct WipePayload {
            std::string& s;
            ~WipePayload() { sotto::detail::secure_wipe(s.data(), s.size()); }
        } wipe_payload{with_cert.verification_payload};
        const std::uint32_t left = remaining();
        if (left == 0) return make_error(ErrorCode::kNetworkTimeout, "upload: timed out");
        return publish(keys, with_cert, key_bytes, left);
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "upload: out of memory");
    }
}

}  // namespace sotto::fetch
