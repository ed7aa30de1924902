// The device side of a verification server: code -> token -> certificate (verification.hpp).

#include <sotto/fetch/verification.hpp>

#include <sodium.h>

#include <algorithm>
#include <new>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <sotto/secret.hpp>

#include "core/sodium_init.hpp"
#include "fetch/json_post.hpp"

namespace sotto::fetch {
namespace {

struct Wiped {
    std::string s;
    ~Wiped() { sotto::detail::secure_wipe(s.data(), s.size()); }
};

// One call: POST `body` to `<server><path>` and read `field` out of the answer.
Result<VerificationAnswer> call(const VerificationOptions& o, detail::Step step,
                                const std::string& body) {
    const bool verify = step == detail::Step::kVerify;
    const char* path = verify ? "/api/verify" : "/api/certificate";
    const char* field = verify ? "token" : "certificate";
    if (o.api_key.empty() || o.api_key.size() > kMaxUploadFieldBytes ||
        !detail::printable_ascii(o.api_key))
        return make_error(ErrorCode::kInvalidArgument,
                          "verification: the API key is required (printable ASCII)");
    if (o.total_timeout_ms == 0 || o.total_timeout_ms > 600'000 || o.connect_timeout_ms == 0)
        return make_error(ErrorCode::kInvalidArgument, "verification: timeout out of range");
    std::string base = o.server;
    while (!base.empty() && base.back() == '/') base.pop_back();
    Wiped header{"X-API-Key: " + o.api_key};
    auto posted = detail::post_json(base + path, body, header.s, o.ca_file, o.connect_timeout_ms,
                                    o.total_timeout_ms, step);
    if (!posted) return posted.error();
    Wiped raw{std::move(posted->body)};
    VerificationAnswer a;
    a.http_status = posted->http_status;
    const auto j = nlohmann::json::parse(raw.s, nullptr, false);
    if (!j.is_discarded() && j.is_object()) {
        a.error_code = detail::clean_string_field(j, "errorCode", 64);
        a.message = detail::clean_string_field(j, "error", 256);
        if (a.http_status == 200 && a.error_code.empty() && a.message.empty()) {
            if (j.contains(field) && j[field].is_string()) {
                a.value = j[field].get<std::string>();
                if (a.value.empty() || a.value.size() > kMaxUploadFieldBytes ||
                    !detail::printable_ascii(a.value)) {
                    sotto::detail::secure_wipe(a.value.data(), a.value.size());
                    return make_error(ErrorCode::kNetworkIo,
                                      verify
                                          ? "verify: the answer's token is not usable"
                                          : "certificate: the answer's certificate is not usable");
                }
            }
            a.test_type = detail::clean_string_field(j, "testtype", 32);
            a.symptom_date = detail::clean_string_field(j, "symptomDate", 32);
        }
    }
    a.ok = a.http_status == 200 && !a.value.empty();
    if (a.http_status == 200 && !a.ok && a.error_code.empty() && a.message.empty())
        return make_error(ErrorCode::kNetworkIo,
                          verify ? "verify: the answer has no token"
                                 : "certificate: the answer has no certificate");
    return a;
}

}  // namespace

Result<std::string> exposure_key_hmac(std::span<const UploadKey> keys,
                                      std::span<const std::uint8_t> hmac_key) {
    try {
        if (keys.empty() || hmac_key.empty())
            return make_error(ErrorCode::kInvalidArgument, "hmac: no key or no hmac key");
        if (!sotto::detail::init_sodium())
            return make_error(ErrorCode::kCryptoFailure, "hmac: libsodium failed to initialize");
        std::vector<Wiped> lines(keys.size());
        for (std::size_t i = 0; i < keys.size(); ++i) {
            const auto tek = keys[i].key.tek.expose_secret();
            lines[i].s = detail::base64(tek.data(), tek.size()) + "." +
                         std::to_string(keys[i].key.rolling_start) + "." +
                         std::to_string(keys[i].key.rolling_period) + "." +
                         std::to_string(keys[i].transmission_risk);
        }
        // Sorted by the base64 key, byte-wise (Go's strings.Compare). Every key is 24 base64
        // characters, so sorting the whole lines gives the same order.
        std::sort(lines.begin(), lines.end(),
                  [](const Wiped& a, const Wiped& b) { return a.s < b.s; });
        Wiped text;
        for (std::size_t i = 0; i < lines.size(); ++i) {
            if (i > 0) text.s.push_back(',');
            text.s += lines[i].s;
        }
        crypto_auth_hmacsha256_state st;
        std::uint8_t mac[crypto_auth_hmacsha256_BYTES];
        crypto_auth_hmacsha256_init(&st, hmac_key.data(), hmac_key.size());
        crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(text.s.data()),
                                      text.s.size());
        crypto_auth_hmacsha256_final(&st, mac);
        sodium_memzero(&st, sizeof st);
        return detail::base64(mac, sizeof mac);
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "hmac: out of memory");
    }
}

Result<VerificationAnswer> verify_code(std::string_view code, const VerificationOptions& options) {
    try {
        if (code.empty() || code.size() > kMaxUploadFieldBytes || !detail::printable_ascii(code))
            return make_error(ErrorCode::kInvalidArgument,
                              "verify: the code is required (printable ASCII)");
        Wiped body{"{\"code\":"};
        detail::append_json_string(body.s, code);
        body.s += "}";
        return call(options, detail::Step::kVerify, body.s);
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "verify: out of memory");
    }
}

Result<VerificationAnswer> request_certificate(std::string_view token, std::string_view ekeyhmac,
                                               const VerificationOptions& options) {
    try {
        if (token.empty() || token.size() > kMaxUploadFieldBytes ||
            !detail::printable_ascii(token) || ekeyhmac.empty() ||
            !detail::printable_ascii(ekeyhmac))
            return make_error(ErrorCode::kInvalidArgument,
                              "certificate: token and ekeyhmac are required (printable ASCII)");
        Wiped body{"{\"token\":"};
        detail::append_json_string(body.s, token);
        body.s += ",\"ekeyhmac\":";
        detail::append_json_string(body.s, ekeyhmac);
        body.s += "}";
        return call(options, detail::Step::kCertificate, body.s);
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "certificate: out of memory");
    }
}

}  // namespace sotto::fetch
