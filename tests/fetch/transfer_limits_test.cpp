// The downloader against a hostile or broken HTTP server on 127.0.0.1: caps, timeouts,
// truncation, redirects, cancellation, refused URLs, what requests carry.
#include <chrono>
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include <sotto/bytes.hpp>
#include <sotto/fetch/downloader.hpp>
#include <sotto/version.hpp>

#include "fetch/fetch_test_support.hpp"

using namespace sotto;
using namespace sotto::fetch;
using namespace sotto::test::fetch;
namespace fs = std::filesystem;

TEST_CASE("A truncated body is detected and nothing of it reaches the spool", "[fetch][http]") {
    Bucket b;
    b.publish_listed({{kA, 0xa0}});
    b.mode(kA, "truncate");
    KeyServer server(b.root);
    auto d = b.downloader(server);
    auto r = fetch_ok(d);
    const auto& fa = entry(r, kA);
    CHECK(fa.status == FileStatus::kFailed);
    CHECK(fa.error.code == ErrorCode::kNetworkIo);
    CHECK(fa.spool_file.empty());
    CHECK(fs::is_empty(b.work / "spool"));
}

TEST_CASE("A server that never answers times out in bounded time", "[fetch][http]") {
    Bucket b;
    b.publish_listed({{kA, 0xa0}, {kB, 0xb0}});
    b.mode(kA, "hang");
    KeyServer server(b.root);
    auto o = quick_options();
    o.total_timeout_ms = 1'000;
    auto d = b.downloader(server, o);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = d.fetch_round();
    const double took = seconds_since(t0);
    REQUIRE(r);
    CHECK(entry(*r, kA).error.code == ErrorCode::kNetworkTimeout);
    CHECK(entry(*r, kB).status == FileStatus::kNew);
    CHECK(took < 5.0);
}

TEST_CASE("A server that trickles below the low-speed limit is abandoned", "[fetch][http]") {
    Bucket b;
    b.publish_listed({{kA, 0xa0}});
    b.mode(kA, "slow");  // one byte per second
    KeyServer server(b.root);
    auto o = quick_options();
    o.total_timeout_ms = 30'000;
    o.low_speed_bytes_per_s = 100;
    o.low_speed_time_s = 1;
    auto d = b.downloader(server, o);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = fetch_ok(d);
    CHECK(entry(r, kA).error.code == ErrorCode::kNetworkTimeout);
    CHECK(seconds_since(t0) < 6.0);
}

TEST_CASE("A redirect loop and a 304 to an unconditional request are errors", "[fetch][http]") {
    Bucket b;
    b.publish_listed({{kA, 0xa0}, {kB, 0xb0}});
    KeyServer server(b.root);
    b.mode(kA, "redirect " + server.url("/") + kA);
    b.mode(kB, "status 304");
    auto d = b.downloader(server);
    auto r = fetch_ok(d);
    CHECK(entry(r, kA).error.code == ErrorCode::kNetworkHttp);
    CHECK(entry(r, kA).http_status == 302);
    CHECK(server.count(kA) == 6);  // the first request and 5 redirects
    CHECK(entry(r, kB).status == FileStatus::kFailed);
    CHECK(entry(r, kB).error.code == ErrorCode::kNetworkHttp);
    CHECK(fs::is_empty(b.work / "spool"));
}

TEST_CASE("A source URL with a query or fragment is refused", "[fetch][http]") {
    test::TempDir tmp;
    for (const char* url : {"https://example.com/bucket?token=1", "https://example.com/bucket#x"}) {
        auto d = Downloader::create(Source{url}, std::make_unique<FileFetchState>(tmp / "s"),
                                    tmp / "spool");
        REQUIRE_FALSE(d);
        CHECK(d.error().code == ErrorCode::kInvalidArgument);
    }
}

TEST_CASE("A body over the size cap is aborted as soon as the cap is passed", "[fetch][http]") {
    Bucket b;
    const auto za = b.pub.publish(b.root, kA, 0xa0);
    write_index(b.root, {kA, kB, kC});
    test::write_text(b.root / kB, "x");
    b.mode(kB, "endless");  // chunked, no Content-Length, never ends
    test::write_file(b.root / kC, za);
    b.mode(kC, "chunked");
    KeyServer server(b.root);

    SECTION("announced by Content-Length, without chunks, and an endless chunked stream") {
        auto o = quick_options();
        o.max_file_bytes = za.size() - 1;
        o.total_timeout_ms = 10'000;
        auto d = b.downloader(server, o);
        const auto t0 = std::chrono::steady_clock::now();
        auto r = d.fetch_round();
        REQUIRE(r);
        CHECK(entry(*r, kA).error.code == ErrorCode::kNetworkTooLarge);
        CHECK(entry(*r, kB).error.code == ErrorCode::kNetworkTooLarge);
        CHECK(entry(*r, kC).error.code == ErrorCode::kNetworkTooLarge);
        CHECK(seconds_since(t0) < 5.0);  // not the 10 s timeout: aborted at the cap
        CHECK(fs::is_empty(b.work / "spool"));
    }
    SECTION("a cap of exactly the file size accepts it, chunked or not") {
        auto o = quick_options();
        o.max_file_bytes = za.size();
        auto d = b.downloader(server, o);
        auto r = d.fetch_round();
        REQUIRE(r);
        CHECK(entry(*r, kA).status == FileStatus::kNew);
        CHECK(entry(*r, kB).error.code == ErrorCode::kNetworkTooLarge);
        // kC has the same bytes as kA: handed out once only.
        CHECK(entry(*r, kC).status == FileStatus::kUnchanged);
        CHECK(entry(*r, kC).spool_file.empty());
        CHECK(entry(*r, kC).sha256 == entry(*r, kA).sha256);
        REQUIRE(d.mark_used(kA, entry(*r, kA).sha256));
        auto next = fetch_ok(d);
        CHECK(entry(next, kA).status == FileStatus::kUnchanged);
        CHECK(entry(next, kC).status == FileStatus::kUnchanged);
    }
}

TEST_CASE("An index over its size cap is refused", "[fetch][http]") {
    Bucket b;
    std::string huge;
    for (int i = 0; i < 40'000; ++i) huge += "exposureKeyExport-XX/" + std::to_string(i) + ".zip\n";
    test::write_text(b.root / "index.txt", huge);
    KeyServer server(b.root);
    auto d = b.downloader(server);
    auto r = fetch_ok(d);
    CHECK(r.index_status == IndexStatus::kFailed);
    CHECK(r.index_error.code == ErrorCode::kNetworkTooLarge);
    CHECK(r.requests == 1);
}

TEST_CASE("Hostile index lines are never requested", "[fetch][http]") {
    Bucket b;
    b.pub.publish(b.root, kA, 0xa0);
    test::write_text(b.root / "index.txt",
                     std::string("../secret.zip\n/abs.zip\nhttp://192.0.2.1/x.zip\n") +
                         std::string(5000, 'a') + ".zip\n" + kA + "\n");
    KeyServer server(b.root);
    auto d = b.downloader(server);
    auto r = fetch_ok(d);
    CHECK(r.index_lines_refused == 4);
    REQUIRE(r.files.size() == 1);
    CHECK(r.files[0].path == kA);
    CHECK(server.requests().size() == 2);
}

TEST_CASE("Plain http to a non-loopback host is refused before any connection", "[fetch][http]") {
    test::TempDir tmp;
    for (const char* url :
         {"http://192.0.2.1/bucket", "http://example.com/bucket", "ftp://127.0.0.1/x"}) {
        CAPTURE(url);
        const auto t0 = std::chrono::steady_clock::now();
        auto d = Downloader::create(Source{url}, std::make_unique<FileFetchState>(tmp / "s"),
                                    tmp / "spool");
        REQUIRE_FALSE(d);
        CHECK(d.error().code == ErrorCode::kNetworkRefused);
        CHECK(seconds_since(t0) < 0.5);
    }
}

TEST_CASE("A redirect is followed only to an allowed target", "[fetch][http]") {
    Bucket b;
    const auto za = b.pub.publish(b.root, kA, 0xa0);
    test::write_file(b.root / kB, za);
    test::write_file(b.root / kC, za);
    write_index(b.root, {kB, kC});
    KeyServer server(b.root);
    b.mode(kB, "redirect " + server.url("/") + kA);  // loopback http: allowed
    b.mode(kC, "redirect http://192.0.2.1/x.zip");   // plain http elsewhere: refused
    auto o = quick_options();
    o.connect_timeout_ms = 10'000;
    auto d = b.downloader(server, o);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = fetch_ok(d);
    CHECK(entry(r, kB).status == FileStatus::kNew);
    CHECK(test::read_file(entry(r, kB).spool_file) == za);
    // kNetworkRefused, not kNetworkIo or kNetworkTimeout: 192.0.2.1 was never tried.
    CHECK(entry(r, kC).error.code == ErrorCode::kNetworkRefused);
    CHECK(entry(r, kC).http_status == 302);
    CHECK(seconds_since(t0) < 5.0);
}

TEST_CASE("A progress callback that returns false cancels the round", "[fetch][http]") {
    Bucket b;
    b.publish_listed({{kA, 0xa0}, {kB, 0xb0}});
    KeyServer server(b.root);
    auto d = b.downloader(server);
    auto r = d.fetch_round([](const FetchProgress& p) { return p.index; });
    REQUIRE(r);
    CHECK(r->cancelled);
    CHECK(r->count(FileStatus::kFailed) == 2);
    CHECK(entry(*r, kA).error.code == ErrorCode::kCancelled);
    CHECK(server.count(kB) == 0);
    auto again = fetch_ok(d);
    CHECK(again.count(FileStatus::kNew) == 2);
}

TEST_CASE("Requests carry only the fixed user agent and the server's validators", "[fetch][http]") {
    Bucket b;
    b.publish_listed({{kA, 0xa0}});
    KeyServer server(b.root);
    auto o = quick_options();
    o.revalidate_downloaded = true;
    auto d = b.downloader(server, o);
    REQUIRE(d.fetch_round());
    REQUIRE(d.fetch_round());
    const auto reqs = server.requests();
    REQUIRE(reqs.size() == 4);
    for (const auto& req : reqs) {
        CAPTURE(req.path, req.header_names);
        CHECK(req.user_agent == std::string("sotto/") + version_string());
        CHECK((req.header_names == "Accept,Host,User-Agent" ||
               req.header_names == "Accept,Host,If-Modified-Since,If-None-Match,User-Agent"));
    }
    CHECK(reqs[0].if_none_match == "-");
    CHECK(reqs[2].if_none_match != "-");
}

TEST_CASE("A proxy from the environment is never used for a loopback mirror", "[fetch][http]") {
    Bucket b;
    b.publish_listed({{kA, 0xa0}});
    KeyServer server(b.root);
    struct ProxyEnv {  // a proxy that would swallow every request (TEST-NET, nothing listens)
        ProxyEnv() {
            setenv("http_proxy", "http://192.0.2.1:9", 1);
            setenv("ALL_PROXY", "http://192.0.2.1:9", 1);
        }
        ~ProxyEnv() {
            unsetenv("http_proxy");
            unsetenv("ALL_PROXY");
        }
    } env;
    auto d = b.downloader(server);
    auto r = fetch_ok(d);
    CHECK(r.index_status == IndexStatus::kNew);
    CHECK(entry(r, kA).status == FileStatus::kNew);
}

TEST_CASE("https works with a trusted CA and fails closed with any other", "[fetch][https]") {
    Bucket b;
    const auto za = b.publish_listed({{kA, 0xa0}})[0];
    fs::create_directories(b.tmp / "tls");
    fs::create_directories(b.tmp / "other");
    make_tls_certificate(b.tmp / "tls");
    make_tls_certificate(b.tmp / "other");
    KeyServer server(b.root, b.tmp / "tls" / "cert.pem", b.tmp / "tls" / "key.pem");
    REQUIRE(server.url().starts_with("https://"));

    auto o = quick_options();
    o.ca_file = (b.tmp / "tls" / "cert.pem").string();
    auto d = make_downloader(server.url(), b.work / "good", o);
    auto r = fetch_ok(d);
    REQUIRE(r.index_status == IndexStatus::kNew);
    CHECK(test::read_file(entry(r, kA).spool_file) == za);

    // The system store does not know this CA; another self-signed CA does not vouch for it.
    for (const std::string& ca : {std::string(), (b.tmp / "other" / "cert.pem").string()}) {
        CAPTURE(ca);
        auto bad = quick_options();
        bad.ca_file = ca;
        auto dd = make_downloader(server.url(), b.work / ("bad" + std::to_string(ca.size())), bad);
        auto rr = dd.fetch_round();
        REQUIRE(rr);
        CHECK(rr->index_status == IndexStatus::kFailed);
        CHECK(rr->index_error.code == ErrorCode::kNetworkIo);
        CHECK(rr->files.empty());
    }
}
