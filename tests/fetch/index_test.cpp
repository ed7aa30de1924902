// index.txt parsing and the URL policy: pure checks, no network.
#include <string>

#include <catch2/catch.hpp>

#include <sotto/fetch/index.hpp>
#include <sotto/fetch/url_policy.hpp>

#include "fetch/curl.hpp"
#include "support.hpp"

using namespace sotto;
using namespace sotto::fetch;

TEST_CASE("A Google-style index lists its export paths in order", "[fetch][index]") {
    const std::string text =
        "exposureKeyExport-DE/1614816000-1614902400-00001.zip\r\n"
        "exposureKeyExport-DE/1614902400-1614988800-00001.zip\n"
        "\n"
        "  exposureKeyExport-DE/1614988800-1615075200-00001.zip  \n";
    auto idx = parse_index(text);
    REQUIRE(idx);
    REQUIRE(idx->entries.size() == 3);
    CHECK(idx->entries[0] == "exposureKeyExport-DE/1614816000-1614902400-00001.zip");
    CHECK(idx->entries[2] == "exposureKeyExport-DE/1614988800-1615075200-00001.zip");
    CHECK(idx->lines_refused == 0);
}

TEST_CASE("Hostile index lines are refused and counted while good lines survive",
          "[fetch][index]") {
    const std::string long_line = std::string(600, 'a') + ".zip";
    const std::string text =
        "../x.zip\n"
        "/etc/passwd.zip\n"
        "https://evil.example/x.zip\n"
        "a/../../b.zip\n"
        "a//b.zip\n"
        "./a.zip\n"
        "a/%2e%2e/b.zip\n"
        "a b.zip\n"
        "a\\b.zip\n"
        "notazip.txt\n"
        "good/one.zip\n"
        "a\x01.zip\n" +
        long_line + "\n" + "good/one.zip\n";
    auto idx = parse_index(text);
    REQUIRE(idx);
    REQUIRE(idx->entries.size() == 1);
    CHECK(idx->entries[0] == "good/one.zip");
    CHECK(idx->lines_refused == 12);
    CHECK(idx->lines_duplicate == 1);
}

TEST_CASE("An index with more entries than the limit is refused as too large", "[fetch][index]") {
    std::string text;
    for (int i = 0; i < 101; ++i) text += "f" + std::to_string(i) + ".zip\n";
    IndexLimits limits;
    limits.max_entries = 100;
    auto idx = parse_index(text, limits);
    REQUIRE_FALSE(idx);
    CHECK(idx.error().code == ErrorCode::kNetworkTooLarge);
    limits.max_entries = 101;
    CHECK(parse_index(text, limits));
}

TEST_CASE("Export paths are checked component by component", "[fetch][index]") {
    CHECK(is_valid_export_path("a.zip"));
    CHECK(is_valid_export_path("dir/sub/1-2-00001.zip"));
    CHECK_FALSE(is_valid_export_path(""));
    CHECK_FALSE(is_valid_export_path(".zip"));
    CHECK_FALSE(is_valid_export_path("dir/.."));
    CHECK_FALSE(is_valid_export_path("dir/../a.zip"));
    CHECK_FALSE(is_valid_export_path("dir/./a.zip"));
    CHECK_FALSE(is_valid_export_path("/a.zip"));
    CHECK_FALSE(is_valid_export_path("a.zip/"));
    CHECK_FALSE(is_valid_export_path("a:b.zip"));
    CHECK_FALSE(is_valid_export_path("abcdef.zip", 9));
    CHECK(is_valid_export_path("abcdef.zip", 10));
}

TEST_CASE("https is allowed to any host and plain http only to loopback", "[fetch][url]") {
    CHECK(check_url("https://storage.googleapis.com/bucket"));
    CHECK(check_url("http://127.0.0.1:8080/keys"));
    CHECK(check_url("http://127.5.6.7/keys"));
    CHECK(check_url("http://localhost:1/x"));
    CHECK(check_url("http://[::1]:9/x"));

    for (const char* refused :
         {"http://192.0.2.1/keys", "http://example.com/", "http://localhost.evil.example/",
          "http://127.0.0.1.nip.io/", "http://[::ffff:c000:201]/", "http://0.0.0.0/",
          "ftp://127.0.0.1/x", "file:///etc/passwd", "gopher://127.0.0.1/",
          "https://user:secret@example.com/", "http://10.0.0.1/"}) {
        CAPTURE(refused);
        auto r = check_url(refused);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == ErrorCode::kNetworkRefused);
    }
    for (const char* bad : {"", "not a url", "http://"}) {
        CAPTURE(bad);
        CHECK_FALSE(check_url(bad));
    }
}

TEST_CASE("Redirects never downgrade an https source to plain http", "[fetch][url]") {
    using sotto::fetch::detail::check_redirect;
    CHECK(check_redirect("https://a.example/x.zip", "https://b.example/x.zip"));
    CHECK(check_redirect("http://127.0.0.1:1/x.zip", "http://127.0.0.1:2/y.zip"));
    CHECK(check_redirect("http://127.0.0.1:1/x.zip", "https://b.example/y.zip"));
    for (const char* target :
         {"http://127.0.0.1:8080/admin", "http://localhost/x", "http://[::1]/x"}) {
        CAPTURE(target);
        auto r = check_redirect("https://a.example/x.zip", target);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == ErrorCode::kNetworkRefused);
    }
    CHECK(check_redirect("http://127.0.0.1/x.zip", "http://192.0.2.1/x.zip").error().code ==
          ErrorCode::kNetworkRefused);
    CHECK_FALSE(check_redirect("http://127.0.0.1/x.zip", "file:///etc/passwd"));
}
