// One POST of one's own keys in the Exposure Notifications Server publish format. The body is
// written by hand (base64, integers and checked printable strings only); the answer is parsed
// with nlohmann::json (header-only, private to this file).

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include <sotto/fetch/key_upload.hpp>
#include <sotto/fetch/url_policy.hpp>
#include <sotto/secret.hpp>
#include <sotto/version.hpp>

#include "core/sodium_init.hpp"
#include "fetch/curl.hpp"

namespace sotto::fetch {
namespace {

// The body's size is drawn from [kPaddedBodyBytes, kPaddedBodyBytes + kPaddingJitterBytes), which
// is larger than the body of kMaxUploadKeys keys without padding, so the size says nothing about
// the number of keys (the server's recommendation: at least 1 KiB of padding, 1 KiB of jitter).
constexpr std::size_t kPaddedBodyBytes = 6 * 1024;
constexpr std::size_t kPaddingJitterBytes = 2 * 1024;
constexpr std::size_t kMinPaddingBytes = 1024;

std::string base64(const std::uint8_t* data, std::size_t n) {
    std::string out(sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), data, n, sodium_base64_VARIANT_ORIGINAL);
    out.pop_back();  // the terminating NUL
    return out;
}

bool printable_ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

// A JSON string of printable ASCII (checked by the caller): only '"' and '\' need escaping.
void append_json_string(std::string& out, std::string_view s) {
    out.push_back('"');
    for (char c : s) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    out.push_back('"');
}

// Printable ASCII of at most `cap` bytes from an answer's string field.
std::string clean(const nlohmann::json& j, const char* name, std::size_t cap) {
    if (!j.is_object() || !j.contains(name) || !j[name].is_string()) return {};
    std::string s = j[name].get<std::string>();
    if (s.size() > cap) s.resize(cap);
    for (char& c : s)
        if (c < 0x20 || c > 0x7e) c = '?';
    return s;
}

struct Exchange {
    std::string answer;
    bool too_large = false;
};

size_t on_answer(char* data, size_t size, size_t n, void* user) noexcept {
    auto* x = static_cast<Exchange*>(user);
    const std::size_t len = size * n;
    if (len > kMaxUploadResponseBytes - std::min(x->answer.size(), kMaxUploadResponseBytes)) {
        x->too_large = true;
        return 0;
    }
    try {
        x->answer.append(data, len);
    } catch (...) {
        return 0;
    }
    return len;
}

Error map_error(CURLcode rc, const Exchange& x) {
    if (x.too_large) return {ErrorCode::kNetworkTooLarge, "upload: answer exceeds the size cap"};
    switch (rc) {
        case CURLE_OPERATION_TIMEDOUT:
            return {ErrorCode::kNetworkTimeout, "upload: timed out"};
        case CURLE_OUT_OF_MEMORY:
            return {ErrorCode::kOutOfMemory, "upload: out of memory"};
        case CURLE_UNSUPPORTED_PROTOCOL:
            return {ErrorCode::kNetworkRefused, "upload: protocol not allowed"};
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
            return {ErrorCode::kNetworkIo, "upload: cannot resolve the host"};
        case CURLE_COULDNT_CONNECT:
            return {ErrorCode::kNetworkIo, "upload: cannot connect"};
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
            return {ErrorCode::kNetworkIo, "upload: TLS handshake or certificate check failed"};
        default:
            return {ErrorCode::kNetworkIo, "upload: the exchange failed"};
    }
}

Result<void> check_options(const UploadOptions& o) {
    if (o.health_authority_id.empty() || o.verification_payload.empty())
        return make_error(ErrorCode::kInvalidArgument,
                          "upload: health authority id and verification payload are required");
    for (const std::string* s :
         {&o.health_authority_id, &o.verification_payload, &o.revision_token}) {
        if (s->size() > kMaxUploadFieldBytes || !printable_ascii(*s))
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
    try {
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
            std::string b64 = base64(tek.data(), tek.size());
            body += "{\"key\":\"" + b64 +
                    "\",\"rollingStartNumber\":" + std::to_string(k.key.rolling_start) +
                    ",\"rollingPeriod\":" + std::to_string(k.key.rolling_period) +
                    ",\"transmissionRisk\":" + std::to_string(k.transmission_risk) + "}";
            sotto::detail::secure_wipe(b64.data(), b64.size());
        }
        body += "],\"healthAuthorityID\":";
        append_json_string(body, options.health_authority_id);
        body += ",\"verificationPayload\":";
        append_json_string(body, options.verification_payload);
        std::uint8_t hmac_key[32];
        randombytes_buf(hmac_key, sizeof hmac_key);
        body += ",\"hmacKey\":\"" + base64(hmac_key, sizeof hmac_key) + "\"";
        sodium_memzero(hmac_key, sizeof hmac_key);
        if (options.symptom_onset_interval != 0)
            body += ",\"symptomOnsetInterval\":" + std::to_string(options.symptom_onset_interval);
        body += ",\"revisionToken\":";
        append_json_string(body, options.revision_token);
        body += ",\"padding\":\"";
        // Base64 of p bytes is 4 * ceil(p / 3) characters; "\"}" closes the object.
        const std::size_t target =
            kPaddedBodyBytes + randombytes_uniform(static_cast<std::uint32_t>(kPaddingJitterBytes));
        const std::size_t room = target > body.size() + 2 ? target - body.size() - 2 : 0;
        const std::size_t pad_bytes = std::max(room / 4 * 3, kMinPaddingBytes);
        std::string pad(pad_bytes, '\0');
        randombytes_buf(pad.data(), pad.size());
        body += base64(reinterpret_cast<const std::uint8_t*>(pad.data()), pad.size());
        body += "\"}";
        return body;
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "upload: out of memory");
    }
}

Result<UploadReply> upload_keys(std::span<const UploadKey> keys, const UploadOptions& options) {
    try {
        if (auto allowed = check_url(options.url); !allowed) return allowed.error();
        auto built = build_publish_body(keys, options);
        if (!built) return built.error();
        std::string body = std::move(*built);
        struct Wipe {
            std::string& s;
            ~Wipe() { sotto::detail::secure_wipe(s.data(), s.size()); }
        } wipe{body};

        if (!detail::curl_ready())
            return make_error(ErrorCode::kInternal, "upload: libcurl failed to initialize");
        detail::CurlEasy easy(curl_easy_init());
        if (!easy) return make_error(ErrorCode::kOutOfMemory, "upload: cannot create a transfer");
        CURL* h = easy.get();
        const std::string agent = std::string("sotto/") + version_string();
        Exchange x;
        CURLcode rc = CURLE_OK;
        auto set = [&](CURLoption o, auto v) {
            if (rc == CURLE_OK) rc = curl_easy_setopt(h, o, v);
        };
        // "Expect:" turns off libcurl's "Expect: 100-continue" for bodies over 1 KiB.
        curl_slist* list = curl_slist_append(nullptr, "Content-Type: application/json");
        detail::CurlSlist headers(list);
        curl_slist* more = list == nullptr ? nullptr : curl_slist_append(list, "Expect:");
        if (more == nullptr) return make_error(ErrorCode::kOutOfMemory, "upload: out of memory");
        set(CURLOPT_URL, options.url.c_str());
        set(CURLOPT_PROTOCOLS_STR, "http,https");
        set(CURLOPT_FOLLOWLOCATION, 0L);
        set(CURLOPT_NOSIGNAL, 1L);
        set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout_ms));
        set(CURLOPT_TIMEOUT_MS, static_cast<long>(options.total_timeout_ms));
        set(CURLOPT_USERAGENT, agent.c_str());
        set(CURLOPT_NOPROXY, "localhost,127.0.0.0/8,::1");
        set(CURLOPT_SSL_VERIFYPEER, 1L);
        set(CURLOPT_SSL_VERIFYHOST, 2L);
        if (!options.ca_file.empty()) {
            set(CURLOPT_CAINFO, options.ca_file.c_str());
            set(CURLOPT_CAPATH, static_cast<const char*>(nullptr));
        }
        set(CURLOPT_HTTPHEADER, list);
        set(CURLOPT_POSTFIELDS, body.c_str());
        set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
        set(CURLOPT_WRITEFUNCTION, &on_answer);
        set(CURLOPT_WRITEDATA, static_cast<void*>(&x));
        if (rc == CURLE_OK) rc = curl_easy_perform(h);
        if (rc != CURLE_OK) return map_error(rc, x);

        UploadReply reply;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply.http_status);
        reply.keys_sent = keys.size();
        reply.body_bytes = body.size();
        if (reply.http_status >= 300 && reply.http_status < 400)
            return make_error(ErrorCode::kNetworkRefused,
                              "upload: the server redirected (a publish is never re-sent)");
        const auto j = nlohmann::json::parse(x.answer, nullptr, false);
        if (!j.is_discarded() && j.is_object()) {
            reply.code = clean(j, "code", 64);
            reply.message = clean(j, "error", 256);
            reply.revision_token = clean(j, "revisionToken", kMaxUploadFieldBytes);
            if (j.contains("insertedExposures") && j["insertedExposures"].is_number_integer())
                reply.inserted_exposures = j["insertedExposures"].get<std::int64_t>();
        }
        reply.accepted =
            reply.http_status == 200 && (reply.code.empty() || reply.code == "partial_failure");
        return reply;
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "upload: out of memory");
    }
}

}  // namespace sotto::fetch
