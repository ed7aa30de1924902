// fetch::upload_keys with a verification server (code -> token -> certificate over the keys'
// HMAC -> publish) against tests/fetch/publish_server.py on 127.0.0.1, which plays both servers
// and recomputes the HMAC from the keys it receives at publish.
#include <openssl/hmac.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <sodium.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sotto/fetch/key_upload.hpp>
#include <sotto/fetch/verification.hpp>

#include "fetch/publish_server.hpp"
#include "support.hpp"

using namespace sotto;
using sotto::test::PublishServer;

namespace {

constexpr const char* kCode = "12345678";
constexpr const char* kExpired = "87654321";
constexpr const char* kApiKey = "app-api-key-0123456789";

std::vector<fetch::UploadKey> keys(std::size_t n, char first = '0') {
    std::vector<fetch::UploadKey> out;
    for (std::size_t i = 0; i < n; ++i) {
        std::string hex(32, '0');
        hex[0] = first;
        hex[1] = "0123456789abcdef"[(n - i) % 16];  // not in base64 order
        auto tek = core::TemporaryExposureKey::from_hex(hex);
        REQUIRE(tek);
        out.push_back({{std::move(*tek), static_cast<core::IntervalNumber>(2700000 + 144 * i), 144},
                       static_cast<std::int32_t>(i % 9)});
    }
    return out;
}

struct Servers {
    sotto::test::TempDir tmp;
    PublishServer server{
        tmp / "log",
        kCode,
        {std::string("--api-key=") + kApiKey, std::string("--expired-code=") + kExpired}};

    fetch::UploadOptions options(const std::string& code = kCode) const {
        fetch::UploadOptions o;
        o.url = server.url();
        o.health_authority_id = "com.example.ha";
        o.verification_payload = code;
        o.verification_server = server.base();
        o.api_key = kApiKey;
        return o;
    }
    fetch::VerificationOptions verification() const {
        fetch::VerificationOptions v;
        v.server = server.base() + "/";
        v.api_key = kApiKey;
        return v;
    }
};

std::vector<std::string> paths(const std::vector<nlohmann::json>& log) {
    std::vector<std::string> out;
    for (const auto& r : log) out.push_back(r.at("path"));
    return out;
}

}  // namespace

TEST_CASE("exposure_key_hmac is HMAC-SHA256 of the sorted key.start.period.risk lines",
          "[fetch][upload][verification]") {
    const auto k = keys(3);
    std::uint8_t secret[32];
    for (int i = 0; i < 32; ++i) secret[i] = static_cast<std::uint8_t>(i * 7 + 1);
    // Written out by hand: the keys are 0x03.., 0x02.., 0x01.. (base64 "AwAA", "AgAA", "AQAA"),
    // so the sorted order is the reverse of the input.
    const std::string text =
        "AQAAAAAAAAAAAAAAAAAAAA==.2700288.144.2,AgAAAAAAAAAAAAAAAAAAAA==.2700144.144.1,"
        "AwAAAAAAAAAAAAAAAAAAAA==.2700000.144.0";
    unsigned char mac[32];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), secret, sizeof secret, reinterpret_cast<const unsigned char*>(text.data()),
         text.size(), mac, &mac_len);
    REQUIRE(mac_len == 32);
    char expected[64];
    sodium_bin2base64(expected, sizeof expected, mac, 32, sodium_base64_VARIANT_ORIGINAL);

    const auto got = fetch::exposure_key_hmac(k, secret);
    REQUIRE(got);
    CHECK(*got == expected);
    // Any order of the same keys: the same HMAC. Another risk or another secret: another one.
    auto shuffled = keys(3);
    std::swap(shuffled[0], shuffled[2]);
    CHECK(*fetch::exposure_key_hmac(shuffled, secret) == expected);
    auto riskier = keys(3);
    riskier[1].transmission_risk = 5;
    CHECK(*fetch::exposure_key_hmac(riskier, secret) != expected);
    secret[0] ^= 1;
    CHECK(*fetch::exposure_key_hmac(k, secret) != expected);
    CHECK_FALSE(fetch::exposure_key_hmac({}, secret));
}

TEST_CASE("upload with a verification server: verify, certificate, then publish with it",
          "[fetch][upload][verification]") {
    Servers s;
    const auto reply = fetch::upload_keys(keys(4), s.options());
    REQUIRE(reply);
    CHECK(reply->accepted);
    CHECK(reply->stage == "publish");
    CHECK(reply->http_status == 200);
    CHECK(reply->inserted_exposures == 4);
    const auto log = s.server.requests();
    REQUIRE(paths(log) ==
            std::vector<std::string>{"/api/verify", "/api/certificate", "/v1/publish"});
    CHECK(log[0].at("body") == nlohmann::json{{"code", kCode}});
    // The API key goes to the verification server only; the publish carries the certificate.
    auto has_key = [](const nlohmann::json& r) {
        const auto& h = r.at("headers");
        return std::find(h.begin(), h.end(), "x-api-key") != h.end();
    };
    CHECK(has_key(log[0]));
    CHECK(has_key(log[1]));
    CHECK_FALSE(has_key(log[2]));
    const std::string cert = log[2].at("body").at("verificationPayload");
    CHECK(cert.rfind("cert.", 0) == 0);
    CHECK(log[2].at("status") == 200);
    // The certificate is spent: a second upload needs a second code exchange, and works.
    const auto again = fetch::upload_keys(keys(2), s.options());
    REQUIRE(again);
    CHECK(again->accepted);
}

TEST_CASE("the verification server's refusals stop the upload before the key server",
          "[fetch][upload][verification]") {
    Servers s;
    SECTION("wrong API key") {
        auto o = s.options();
        o.api_key = "not-the-key";
        const auto r = fetch::upload_keys(keys(2), o);
        REQUIRE(r);
        CHECK_FALSE(r->accepted);
        CHECK(r->stage == "verify");
        CHECK(r->http_status == 401);
    }
    SECTION("invalid code") {
        const auto r = fetch::upload_keys(keys(2), s.options("11111111"));
        REQUIRE(r);
        CHECK_FALSE(r->accepted);
        CHECK(r->stage == "verify");
        CHECK(r->http_status == 400);
        CHECK(r->code == "code_invalid");
    }
    SECTION("expired code") {
        const auto r = fetch::upload_keys(keys(2), s.options(kExpired));
        REQUIRE(r);
        CHECK_FALSE(r->accepted);
        CHECK(r->code == "code_expired");
        CHECK(r->message == "verification code expired");
    }
    SECTION("no API key at all is refused before anything is sent") {
        auto o = s.options();
        o.api_key.clear();
        const auto r = fetch::upload_keys(keys(2), o);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == ErrorCode::kInvalidArgument);
    }
    for (const auto& r : s.server.requests()) CHECK(r.at("path") != "/v1/publish");
}

TEST_CASE("a certificate for other keys is refused at publish (the server recomputes the HMAC)",
          "[fetch][upload][verification]") {
    Servers s;
    const auto certified = keys(3, '0');
    std::uint8_t secret[32];
    randombytes_buf(secret, sizeof secret);
    auto certificate_for = [&](const std::vector<fetch::UploadKey>& k) {
        auto token = fetch::verify_code(kCode, s.verification());
        REQUIRE(token);
        REQUIRE(token->ok);
        CHECK(token->test_type == "confirmed");
        auto mac = fetch::exposure_key_hmac(k, secret);
        REQUIRE(mac);
        auto cert = fetch::request_certificate(token->value, *mac, s.verification());
        REQUIRE(cert);
        REQUIRE(cert->ok);
        return cert->value;
    };
    auto publish = [&](const std::vector<fetch::UploadKey>& k, const std::string& cert,
                       std::span<const std::uint8_t> key) {
        auto o = s.options();
        o.verification_payload = cert;
        auto r = fetch::publish_keys(k, o, key);
        REQUIRE(r);
        return *r;
    };
    SECTION("the certified keys with the certified hmac key: taken") {
        CHECK(publish(certified, certificate_for(certified), secret).accepted);
    }
    SECTION("another key list: refused") {
        const auto r = publish(keys(3, '4'), certificate_for(certified), secret);
        CHECK_FALSE(r.accepted);
        CHECK(r.code == "health_authority_verification_certificate_invalid");
    }
    SECTION("one key dropped: refused") {
        auto fewer = keys(3, '0');
        fewer.pop_back();
        CHECK_FALSE(publish(fewer, certificate_for(certified), secret).accepted);
    }
    SECTION("a raised transmission risk: refused") {
        auto riskier = keys(3, '0');
        riskier[0].transmission_risk = 8;
        CHECK_FALSE(publish(riskier, certificate_for(certified), secret).accepted);
    }
    SECTION("another hmac key: refused") {
        const auto cert = certificate_for(certified);
        std::uint8_t other[32];
        randombytes_buf(other, sizeof other);
        CHECK_FALSE(publish(certified, cert, other).accepted);
    }
    SECTION("a spent token gets no second certificate") {
        auto token = fetch::verify_code(kCode, s.verification());
        REQUIRE(token);
        auto mac = *fetch::exposure_key_hmac(certified, secret);
        REQUIRE(fetch::request_certificate(token->value, mac, s.verification())->ok);
        const auto second = fetch::request_certificate(token->value, mac, s.verification());
        REQUIRE(second);
        CHECK_FALSE(second->ok);
        CHECK(second->error_code == "token_invalid");
    }
}

TEST_CASE("a verification server that never answers is given up in bounded time",
          "[fetch][upload][verification]") {
    sotto::test::TempDir tmp;
    PublishServer hang(tmp / "hang.log", kCode, {"hang", std::string("--api-key=") + kApiKey});
    PublishServer publish(tmp / "publish.log", kCode);
    fetch::UploadOptions o;
    o.url = publish.url();
    o.health_authority_id = "com.example.ha";
    o.verification_payload = kCode;
    o.verification_server = hang.base();
    o.api_key = kApiKey;
    o.total_timeout_ms = 1500;
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = fetch::upload_keys(keys(2), o);
    const auto spent = std::chrono::steady_clock::now() - t0;
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kNetworkTimeout);
    CHECK(spent < std::chrono::seconds(10));
    CHECK(publish.requests().empty());
}

TEST_CASE("a plain-http remote verification server is refused before anything is sent",
          "[fetch][upload][verification]") {
    sotto::test::TempDir tmp;
    PublishServer publish(tmp / "publish.log", kCode);
    fetch::UploadOptions o;
    o.url = publish.url();
    o.health_authority_id = "com.example.ha";
    o.verification_payload = kCode;
    o.verification_server = "http://192.0.2.1";
    o.api_key = kApiKey;
    const auto r = fetch::upload_keys(keys(2), o);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kNetworkRefused);
    CHECK(publish.requests().empty());
    // Its steps alone refuse it too.
    fetch::VerificationOptions v;
    v.server = "http://192.0.2.1";
    v.api_key = kApiKey;
    const auto t = fetch::verify_code(kCode, v);
    REQUIRE_FALSE(t);
    CHECK(t.error().code == ErrorCode::kNetworkRefused);
}
