// fetch::build_publish_body and upload_keys: the publish body's fields and padding, and the
// checks made before anything is sent.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sotto/fetch/key_upload.hpp>

#include "support.hpp"

using namespace sotto;

namespace {

std::vector<fetch::UploadKey> keys(std::size_t n) {
    std::vector<fetch::UploadKey> out;
    for (std::size_t i = 0; i < n; ++i) {
        std::string hex(32, '0');
        hex[0] = "0123456789abcdef"[i % 16];
        hex[1] = "0123456789abcdef"[i / 16];
        auto tek = core::TemporaryExposureKey::from_hex(hex);
        REQUIRE(tek);
        out.push_back({{std::move(*tek), static_cast<core::IntervalNumber>(2700000 + 144 * i), 144},
                       static_cast<std::int32_t>(i % 9)});
    }
    return out;
}

fetch::UploadOptions options() {
    fetch::UploadOptions o;
    o.url = "http://127.0.0.1:9/v1/publish";
    o.health_authority_id = "com.example.ha";
    o.verification_payload = "eyJhbGciOiJFUzI1NiJ9.payload.signature";
    return o;
}

}  // namespace

TEST_CASE("The publish body has exactly the publish fields, in base64 where the API says",
          "[fetch][upload]") {
    auto o = options();
    o.symptom_onset_interval = 2700000;
    const auto body = fetch::build_publish_body(keys(3), o);
    REQUIRE(body);
    const auto j = nlohmann::json::parse(*body);
    std::set<std::string> fields;
    for (const auto& [k, v] : j.items()) fields.insert(k);
    CHECK(fields == std::set<std::string>{"temporaryExposureKeys", "healthAuthorityID",
                                          "verificationPayload", "hmacKey", "symptomOnsetInterval",
                                          "revisionToken", "padding"});
    REQUIRE(j.at("temporaryExposureKeys").size() == 3);
    const auto& k1 = j.at("temporaryExposureKeys").at(1);
    CHECK(k1.at("key") == "EAAAAAAAAAAAAAAAAAAAAA==");  // 0x10 then 15 zero bytes
    CHECK(k1.at("rollingStartNumber") == 2700144);
    CHECK(k1.at("rollingPeriod") == 144);
    CHECK(k1.at("transmissionRisk") == 1);
    CHECK(j.at("hmacKey").get<std::string>().size() == 44);  // 32 bytes
    // A fresh hmacKey and padding every time.
    const auto again = nlohmann::json::parse(*fetch::build_publish_body(keys(3), o));
    CHECK(again.at("hmacKey") != j.at("hmacKey"));
    CHECK(again.at("padding") != j.at("padding"));
}

TEST_CASE("The padded body's size does not tell how many keys it carries", "[fetch][upload]") {
    std::size_t lo1 = SIZE_MAX, hi1 = 0, lo30 = SIZE_MAX, hi30 = 0;
    for (int i = 0; i < 40; ++i) {
        const auto a = fetch::build_publish_body(keys(1), options());
        const auto b = fetch::build_publish_body(keys(fetch::kMaxUploadKeys), options());
        REQUIRE(a);
        REQUIRE(b);
        lo1 = std::min(lo1, a->size());
        hi1 = std::max(hi1, a->size());
        lo30 = std::min(lo30, b->size());
        hi30 = std::max(hi30, b->size());
    }
    // Both counts draw from the same range (6 KiB .. 8 KiB), with at least 1 KiB of jitter seen.
    for (std::size_t v : {lo1, lo30}) CHECK(v >= 6 * 1024 - 4);
    for (std::size_t v : {hi1, hi30}) CHECK(v < 8 * 1024);
    CHECK(hi1 - lo1 > 1024);
    CHECK(hi30 - lo30 > 1024);
}

TEST_CASE("Bad keys, options and URLs are refused before anything is sent", "[fetch][upload]") {
    CHECK(fetch::build_publish_body({}, options()).error().code == ErrorCode::kInvalidArgument);
    CHECK(fetch::build_publish_body(keys(fetch::kMaxUploadKeys + 1), options()).error().code ==
          ErrorCode::kInvalidArgument);
    auto bad_risk = keys(1);
    bad_risk[0].transmission_risk = 9;
    CHECK_FALSE(fetch::build_publish_body(bad_risk, options()));
    auto bad_period = keys(1);
    bad_period[0].key.rolling_period = 0;
    CHECK_FALSE(fetch::build_publish_body(bad_period, options()));
    auto o = options();
    o.verification_payload = "a\"b\nc";  // not printable ASCII
    CHECK_FALSE(fetch::build_publish_body(keys(1), o));
    o = options();
    o.health_authority_id.clear();
    CHECK_FALSE(fetch::build_publish_body(keys(1), o));
    // A quote in a printable field is escaped, not a JSON injection.
    o = options();
    o.verification_payload = R"(x","traveler":true,"y":")";
    const auto j = nlohmann::json::parse(*fetch::build_publish_body(keys(1), o));
    CHECK(j.at("verificationPayload") == o.verification_payload);
    CHECK_FALSE(j.contains("traveler"));
    for (const char* url : {"http://example.com/v1/publish", "ftp://127.0.0.1/x",
                            "https://user:pw@example.com/x", "not a url"}) {
        o = options();
        o.url = url;
        auto r = fetch::upload_keys(keys(1), o);
        REQUIRE_FALSE(r);
        CHECK((r.error().code == ErrorCode::kNetworkRefused ||
               r.error().code == ErrorCode::kInvalidArgument));
    }
}
