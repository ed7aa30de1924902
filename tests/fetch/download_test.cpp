// The downloader against a real HTTP server on 127.0.0.1 (tests/fetch/key_server.py).
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

namespace {

constexpr const char* kA = "exposureKeyExport-XX/1614816000-1614902400-00001.zip";
constexpr const char* kB = "exposureKeyExport-XX/1614902400-1614988800-00001.zip";
constexpr const char* kC = "exposureKeyExport-XX/1614988800-1615075200-00001.zip";

struct Bucket {
    test::TempDir tmp;
    fs::path root = tmp / "bucket";
    fs::path work = tmp / "work";
    Publisher pub;
    Bucket() {
        fs::create_directories(root);
        fs::create_directories(work);
    }
    void mode(const std::string& rel, const std::string& m) const { test::write_text(root / (rel + ".mode"), m + "\n"); }
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("A first round downloads every listed file into the spool with its SHA-256", "[fetch][http]") {
    Bucket b;
    const auto za = b.pub.publish(b.root, kA, 0xa0);
    const auto zb = b.pub.publish(b.root, kB, 0xb0);
    write_index(b.root, {kA, kB});
    KeyServer server(b.root);
    auto d = make_downloader(server.url(), b.work, quick_options());

    std::uint64_t progress_calls = 0;
    auto r = d.fetch_round([&](const std::string&, std::uint64_t now, std::uint64_t total) {
        ++progress_calls;
        CHECK(now <= std::max<std::uint64_t>(total, now));
        return true;
    });
    REQUIRE(r);
    CHECK(r->index_status == IndexStatus::kNew);
    REQUIRE(r->files.size() == 2);
    CHECK(r->count(FileStatus::kNew) == 2);
    const auto& fa = entry(*r, kA);
    CHECK(test::read_file(fa.spool_file) == za);
    CHECK(fa.bytes == za.size());
    CHECK(to_hex(fa.sha256) == fa.spool_file.stem().string());
    CHECK(test::read_file(entry(*r, kB).spool_file) == zb);
    CHECK(r->requests == 3);
    CHECK(r->bytes_downloaded > za.size() + zb.size());
    CHECK(progress_calls > 0);
}

TEST_CASE("A second round sends a conditional index request and downloads nothing", "[fetch][http]") {
    Bucket b;
    b.pub.publish(b.root, kA, 0xa0);
    write_index(b.root, {kA});
    KeyServer server(b.root);
    auto d = make_downloader(server.url(), b.work, quick_options());
    auto first = d.fetch_round();
    REQUIRE(first);
    REQUIRE(d.mark_used(kA, entry(*first, kA).sha256));

    auto second = d.fetch_round();
    REQUIRE(second);
    CHECK(second->index_status == IndexStatus::kUnchanged);
    CHECK(second->not_modified == 1);
    CHECK(entry(*second, kA).status == FileStatus::kUnchanged);
    CHECK(second->requests == 1);
    CHECK(server.count("index.txt", 304) == 1);
    CHECK(server.count(kA) == 1);  // downloaded once, never again
}

TEST_CASE("A changed index brings only the new file", "[fetch][http]") {
    Bucket b;
    b.pub.publish(b.root, kA, 0xa0);
    write_index(b.root, {kA});
    KeyServer server(b.root);
    auto d = make_downloader(server.url(), b.work, quick_options());
    auto first = d.fetch_round();
    REQUIRE(first);
    REQUIRE(d.mark_used(kA, entry(*first, kA).sha256));

    b.pub.publish(b.root, kB, 0xb0);
    write_index(b.root, {kA, kB});
    auto second = d.fetch_round();
    REQUIRE(second);
    CHECK(second->index_status == IndexStatus::kNew);
    CHECK(entry(*second, kA).status == FileStatus::kUnchanged);
    CHECK(entry(*second, kB).status == FileStatus::kNew);
    CHECK(server.count(kA) == 1);
    CHECK(server.count(kB) == 1);
}

TEST_CASE("A file downloaded but not marked used is offered again without a download", "[fetch][http]") {
    Bucket b;
    const auto za = b.pub.publish(b.root, kA, 0xa0);
    write_index(b.root, {kA});
    KeyServer server(b.root);
    fs::path spool_file;
    {
        auto d = make_downloader(server.url(), b.work, quick_options());
        auto first = d.fetch_round();
        REQUIRE(first);
        CHECK(entry(*first, kA).status == FileStatus::kNew);
        spool_file = entry(*first, kA).spool_file;
        // The caller could not check it yet (embargo): no mark_used.
    }
    auto d = make_downloader(server.url(), b.work, quick_options());  // restart
    auto second = d.fetch_round();
    REQUIRE(second);
    const auto& fa = entry(*second, kA);
    CHECK(fa.status == FileStatus::kPending);
    CHECK(fa.spool_file == spool_file);
    CHECK(test::read_file(fa.spool_file) == za);
    CHECK(server.count(kA) == 1);

    // A damaged spool file is not trusted: the file is downloaded again.
    test::write_text(spool_file, "tampered");
    auto third = d.fetch_round();
    REQUIRE(third);
    CHECK(entry(*third, kA).status == FileStatus::kNew);
    CHECK(test::read_file(entry(*third, kA).spool_file) == za);
    CHECK(server.count(kA) == 2);

    REQUIRE(d.mark_used(kA, entry(*third, kA).sha256));
    CHECK_FALSE(fs::exists(spool_file));
}

TEST_CASE("After a restart nothing already used is downloaded or offered again", "[fetch][http]") {
    Bucket b;
    b.pub.publish(b.root, kA, 0xa0);
    b.pub.publish(b.root, kB, 0xb0);
    write_index(b.root, {kA, kB});
    KeyServer server(b.root);
    {
        auto d = make_downloader(server.url(), b.work, quick_options());
        auto r = d.fetch_round();
        REQUIRE(r);
        for (const auto& f : r->files) REQUIRE(d.mark_used(f.path, f.sha256));
    }
    auto d = make_downloader(server.url(), b.work, quick_options());
    auto r = d.fetch_round();
    REQUIRE(r);
    CHECK(r->count(FileStatus::kUnchanged) == 2);
    CHECK(r->count(FileStatus::kNew) == 0);
    CHECK(server.count(kA) == 1);
    CHECK(server.count(kB) == 1);

    // mark_used is refused for an unknown file or a wrong hash.
    std::array<std::uint8_t, 32> wrong{};
    CHECK(d.mark_used(kA, wrong).error().code == ErrorCode::kFailedPrecondition);
    CHECK(d.mark_used("other.zip", entry(*r, kA).sha256).error().code == ErrorCode::kFailedPrecondition);
}

TEST_CASE("With revalidation the server's 304 is counted and no body is downloaded again", "[fetch][http]") {
    Bucket b;
    b.pub.publish(b.root, kA, 0xa0);
    write_index(b.root, {kA});
    KeyServer server(b.root);
    auto o = quick_options();
    o.revalidate_downloaded = true;
    auto d = make_downloader(server.url(), b.work, o);
    auto first = d.fetch_round();
    REQUIRE(first);
    REQUIRE(d.mark_used(kA, entry(*first, kA).sha256));

    auto second = d.fetch_round();
    REQUIRE(second);
    CHECK(second->not_modified == 2);  // index and the zip
    CHECK(entry(*second, kA).status == FileStatus::kUnchanged);
    CHECK(server.count(kA, 200) == 1);
    CHECK(server.count(kA, 304) == 1);
    const auto reqs = server.requests();
    CHECK(reqs.back().if_none_match != "-");  // the ETag went back to the server

    // The same file rewritten with the same bytes (new mtime, same ETag) is still unchanged; new
    // bytes under the same name are a new file.
    b.pub.publish(b.root, kA, 0xa1);
    auto third = d.fetch_round();
    REQUIRE(third);
    CHECK(entry(*third, kA).status == FileStatus::kNew);
}

TEST_CASE("Identical content under a new name is not handed out twice", "[fetch][http]") {
    Bucket b;
    const auto za = b.pub.publish(b.root, kA, 0xa0);
    write_index(b.root, {kA});
    KeyServer server(b.root);
    auto d = make_downloader(server.url(), b.work, quick_options());
    auto first = d.fetch_round();
    REQUIRE(first);
    REQUIRE(d.mark_used(kA, entry(*first, kA).sha256));

    test::write_file(b.root / kC, za);  // republished under another name
    write_index(b.root, {kA, kC});
    auto second = d.fetch_round();
    REQUIRE(second);
    CHECK(entry(*second, kC).status == FileStatus::kUnchanged);
    CHECK(server.count(kC) == 1);
}

TEST_CASE("A used file that leaves the index and comes back is not offered again", "[fetch][http]") {
    Bucket b;
    b.pub.publish(b.root, kA, 0xa0);
    b.pub.publish(b.root, kB, 0xb0);
    write_index(b.root, {kA, kB});
    KeyServer server(b.root);
    auto d = make_downloader(server.url(), b.work, quick_options());
    auto first = d.fetch_round();
    REQUIRE(first);
    REQUIRE(d.mark_used(kA, entry(*first, kA).sha256));  // kB stays pending
    const auto pending_spool = entry(*first, kB).spool_file;

    write_index(b.root, {});  // a briefly empty index
    auto empty = d.fetch_round();
    REQUIRE(empty);
    CHECK(empty->files.empty());
    CHECK_FALSE(fs::exists(pending_spool));  // the pending file is forgotten

    write_index(b.root, {kA, kB});
    auto back = d.fetch_round();
    REQUIRE(back);
    CHECK(entry(*back, kA).status == FileStatus::kUnchanged);
    CHECK(entry(*back, kB).status == FileStatus::kNew);
    CHECK(server.count(kA) == 1);
    CHECK(server.count(kB) == 2);
}

TEST_CASE("A missing file fails with its HTTP status while the others arrive", "[fetch][http]") {
    Bucket b;
    b.pub.publish(b.root, kA, 0xa0);
    write_index(b.root, {kA, "missing/file.zip"});
    KeyServer server(b.root);
    auto d = make_downloader(server.url(), b.work, quick_options());
    auto r = d.fetch_round();
    REQUIRE(r);
    const auto& missing = entry(*r, "missing/file.zip");
    CHECK(missing.status == FileStatus::kFailed);
    CHECK(missing.error.code == ErrorCode::kNetworkHttp);
    CHECK(missing.http_status == 404);
    CHECK(entry(*r, kA).status == FileStatus::kNew);

    // Failed files are retried next round.
    auto again = d.fetch_round();
    REQUIRE(again);
    CHECK(server.count("missing/file.zip") == 2);
}

TEST_CASE("A server error on the index fails the round and changes nothing", "[fetch][http]") {
    Bucket b;
    b.pub.publish(b.root, kA, 0xa0);
    write_index(b.root, {kA});
    b.mode("index.txt", "status 503");
    KeyServer server(b.root);
    auto d = make_downloader(server.url(), b.work, quick_options());
    auto r = d.fetch_round();
    REQUIRE(r);
    CHECK(r->index_status == IndexStatus::kFailed);
    CHECK(r->index_error.code == ErrorCode::kNetworkHttp);
    CHECK(r->index_http_status == 503);
    CHECK(r->files.empty());
    CHECK(server.count(kA) == 0);

    fs::remove(b.root / "index.txt.mode");
    auto ok = d.fetch_round();
    REQUIRE(ok);
    CHECK(ok->index_status == IndexStatus::kNew);
    CHECK(entry(*ok, kA).status == FileStatus::kNew);
}

TEST_CASE("A truncated body is detected and nothing of it reaches the spool", "[fetch][http]") {
    Bucket b;
    b.pub.publish(b.root, kA, 0xa0);
    write_index(b.root, {kA});
    b.mode(kA, "truncate");
    KeyServer server(b.root);
    auto d = make_downloader(server.url(), b.work, quick_options());
    auto r = d.fetch_round();
    REQUIRE(r);
    const auto& fa = entry(*r, kA);
    CHECK(fa.status == FileStatus::kFailed);
    CHECK(fa.error.code == ErrorCode::kNetworkIo);
    CHECK(fa.spool_file.empty());
    CHECK(fs::is_empty(b.work / "spool"));
}

TEST_CASE("A server that never answers times out in bounded time", "[fetch][http]") {
    Bucket b;
    b.pub.publish(b.root, kA, 0xa0);
    b.pub.publish(b.root, kB, 0xb0);
    write_index(b.root, {kA, kB});
    b.mode(kA, "hang");
    KeyServer server(b.root);
    auto o = quick_options();
    o.total_timeout_ms = 1'000;
    auto d = make_downloader(server.url(), b.work, o);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = d.fetch_round();
    const double took = seconds_since(t0);
    REQUIRE(r);
    CHECK(entry(*r, kA).error.code == ErrorCode::kNetworkTimeout);
    CHECK(entry(*r, kB).status == FileStatus::kNew);
    CHECK(took < 5.0);
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
        auto d = make_downloader(server.url(), b.work, o);
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
        auto d = make_downloader(server.url(), b.work, o);
        auto r = d.fetch_round();
        REQUIRE(r);
        CHECK(entry(*r, kA).status == FileStatus::kNew);
        CHECK(entry(*r, kB).error.code == ErrorCode::kNetworkTooLarge);
        // kC has the same bytes as kA: handed out once only.
        CHECK(entry(*r, kC).status == FileStatus::kUnchanged);
        CHECK(entry(*r, kC).spool_file.empty());
        CHECK(entry(*r, kC).sha256 == entry(*r, kA).sha256);
        REQUIRE(d.mark_used(kA, entry(*r, kA).sha256));
        auto next = d.fetch_round();
        REQUIRE(next);
        CHECK(entry(*next, kA).status == FileStatus::kUnchanged);
        CHECK(entry(*next, kC).status == FileStatus::kUnchanged);
    }
}

TEST_CASE("An index over its size cap is refused", "[fetch][http]") {
    Bucket b;
    std::string huge;
    for (int i = 0; i < 40'000; ++i) huge += "exposureKeyExport-XX/" + std::to_string(i) + ".zip\n";
    test::write_text(b.root / "index.txt", huge);
    KeyServer server(b.root);
    auto d = make_downloader(server.url(), b.work, quick_options());
    auto r = d.fetch_round();
    REQUIRE(r);
    CHECK(r->index_status == IndexStatus::kFailed);
    CHECK(r->index_error.code == ErrorCode::kNetworkTooLarge);
    CHECK(r->requests == 1);
}

TEST_CASE("Hostile index lines are never requested", "[fetch][http]") {
    Bucket b;
    b.pub.publish(b.root, kA, 0xa0);
    test::write_text(b.root / "index.txt", std::string("../secret.zip\n/abs.zip\nhttp://192.0.2.1/x.zip\n") +
                                               std::string(5000, 'a') + ".zip\n" + kA + "\n");
    KeyServer server(b.root);
    auto d = make_downloader(server.url(), b.work, quick_options());
    auto r = d.fetch_round();
    REQUIRE(r);
    CHECK(r->index_lines_refused == 4);
    REQUIRE(r->files.size() == 1);
    CHECK(r->files[0].path == kA);
    CHECK(server.requests().size() == 2);
}

TEST_CASE("A corrupted state file is reported and rebuilt", "[fetch][http]") {
    Bucket b;
    b.pub.publish(b.root, kA, 0xa0);
    write_index(b.root, {kA});
    KeyServer server(b.root);
    {
        auto d = make_downloader(server.url(), b.work, quick_options());
        auto r = d.fetch_round();
        REQUIRE(r);
        CHECK_FALSE(r->state_was_damaged);
        REQUIRE(d.mark_used(kA, entry(*r, kA).sha256));
    }
    auto text = test::read_text(b.work / "fetch.state");
    text[text.size() / 3] ^= 0x20;
    test::write_text(b.work / "fetch.state", text);

    auto d = make_downloader(server.url(), b.work, quick_options());
    auto r = d.fetch_round();
    REQUIRE(r);
    CHECK(r->state_was_damaged);
    CHECK(entry(*r, kA).status == FileStatus::kNew);  // not trusted: downloaded and offered again
    REQUIRE(d.mark_used(kA, entry(*r, kA).sha256));

    auto next = d.fetch_round();
    REQUIRE(next);
    CHECK_FALSE(next->state_was_damaged);
    CHECK(entry(*next, kA).status == FileStatus::kUnchanged);
}

TEST_CASE("Plain http to a non-loopback host is refused before any connection", "[fetch][http]") {
    test::TempDir tmp;
    for (const char* url : {"http://192.0.2.1/bucket", "http://example.com/bucket", "ftp://127.0.0.1/x"}) {
        CAPTURE(url);
        const auto t0 = std::chrono::steady_clock::now();
        auto d = Downloader::create(Source{url}, std::make_unique<FileFetchState>(tmp / "s"), tmp / "spool");
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
    auto d = make_downloader(server.url(), b.work, quick_options());
    const auto t0 = std::chrono::steady_clock::now();
    auto r = d.fetch_round();
    REQUIRE(r);
    CHECK(entry(*r, kB).status == FileStatus::kNew);
    CHECK(test::read_file(entry(*r, kB).spool_file) == za);
    CHECK(entry(*r, kC).error.code == ErrorCode::kNetworkRefused);
    CHECK(seconds_since(t0) < 2.0);  // 192.0.2.1 was never tried
}

TEST_CASE("A progress callback that returns false cancels the round", "[fetch][http]") {
    Bucket b;
    b.pub.publish(b.root, kA, 0xa0);
    b.pub.publish(b.root, kB, 0xb0);
    write_index(b.root, {kA, kB});
    KeyServer server(b.root);
    auto d = make_downloader(server.url(), b.work, quick_options());
    auto r = d.fetch_round([](const std::string& path, std::uint64_t, std::uint64_t) { return path == "index.txt"; });
    REQUIRE(r);
    CHECK(r->count(FileStatus::kFailed) == 2);
    CHECK(server.count(kB) == 0);
    auto again = d.fetch_round();
    REQUIRE(again);
    CHECK(again->count(FileStatus::kNew) == 2);
}

TEST_CASE("Requests carry only the fixed user agent and the server's validators", "[fetch][http]") {
    Bucket b;
    b.pub.publish(b.root, kA, 0xa0);
    write_index(b.root, {kA});
    KeyServer server(b.root);
    auto o = quick_options();
    o.revalidate_downloaded = true;
    auto d = make_downloader(server.url(), b.work, o);
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
