// The downloader against a real HTTP server on 127.0.0.1 (tests/fetch/key_server.py): what is
// downloaded, offered, remembered and never offered twice.
#include <sys/stat.h>

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

TEST_CASE("A first round downloads every listed file into the spool with its SHA-256",
          "[fetch][http]") {
    Bucket b;
    const auto zips = b.publish_listed({{kA, 0xa0}, {kB, 0xb0}});
    const auto& za = zips[0];
    const auto& zb = zips[1];
    KeyServer server(b.root);
    auto d = b.downloader(server);

    std::uint64_t progress_calls = 0;
    auto r = d.fetch_round([&](const FetchProgress& p) {
        ++progress_calls;
        CHECK(p.now <= std::max<std::uint64_t>(p.total, p.now));
        CHECK((p.index ? p.files == 0 : p.files == 2));
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

TEST_CASE("A second round sends a conditional index request and downloads nothing",
          "[fetch][http]") {
    Bucket b;
    b.publish_listed({{kA, 0xa0}});
    KeyServer server(b.root);
    auto d = b.downloader(server);
    auto first = fetch_ok(d);
    REQUIRE(d.mark_used(kA, entry(first, kA).sha256));

    auto second = fetch_ok(d);
    CHECK(second.index_status == IndexStatus::kUnchanged);
    CHECK(second.not_modified == 1);
    CHECK(entry(second, kA).status == FileStatus::kUnchanged);
    CHECK(second.requests == 1);
    CHECK(server.count("index.txt", 304) == 1);
    CHECK(server.count(kA) == 1);  // downloaded once, never again
}

TEST_CASE("A changed index brings only the new file", "[fetch][http]") {
    Bucket b;
    b.publish_listed({{kA, 0xa0}});
    KeyServer server(b.root);
    auto d = b.downloader(server);
    auto first = fetch_ok(d);
    REQUIRE(d.mark_used(kA, entry(first, kA).sha256));

    b.pub.publish(b.root, kB, 0xb0);
    write_index(b.root, {kA, kB});
    auto second = fetch_ok(d);
    CHECK(second.index_status == IndexStatus::kNew);
    CHECK(entry(second, kA).status == FileStatus::kUnchanged);
    CHECK(entry(second, kB).status == FileStatus::kNew);
    CHECK(server.count(kA) == 1);
    CHECK(server.count(kB) == 1);
}

TEST_CASE("A file downloaded but not marked used is offered again without a download",
          "[fetch][http]") {
    Bucket b;
    const auto za = b.publish_listed({{kA, 0xa0}})[0];
    KeyServer server(b.root);
    fs::path spool_file;
    {
        auto d = b.downloader(server);
        auto first = fetch_ok(d);
        CHECK(entry(first, kA).status == FileStatus::kNew);
        spool_file = entry(first, kA).spool_file;
        // The caller could not check it yet (embargo): no mark_used.
    }
    auto d = b.downloader(server);  // restart
    auto second = fetch_ok(d);
    const auto& fa = entry(second, kA);
    CHECK(fa.status == FileStatus::kPending);
    CHECK(fa.spool_file == spool_file);
    CHECK(test::read_file(fa.spool_file) == za);
    CHECK(server.count(kA) == 1);

    // A damaged spool file is not trusted: the file is downloaded again.
    test::write_text(spool_file, "tampered");
    auto third = fetch_ok(d);
    CHECK(entry(third, kA).status == FileStatus::kNew);
    CHECK(test::read_file(entry(third, kA).spool_file) == za);
    CHECK(server.count(kA) == 2);

    REQUIRE(d.mark_used(kA, entry(third, kA).sha256));
    CHECK_FALSE(fs::exists(spool_file));
}

TEST_CASE("After a restart nothing already used is downloaded or offered again", "[fetch][http]") {
    Bucket b;
    b.publish_listed({{kA, 0xa0}, {kB, 0xb0}});
    KeyServer server(b.root);
    {
        auto d = b.downloader(server);
        auto r = d.fetch_round();
        REQUIRE(r);
        for (const auto& f : r->files) REQUIRE(d.mark_used(f.path, f.sha256));
    }
    auto d = b.downloader(server);
    auto r = d.fetch_round();
    REQUIRE(r);
    CHECK(r->count(FileStatus::kUnchanged) == 2);
    CHECK(r->count(FileStatus::kNew) == 0);
    CHECK(server.count(kA) == 1);
    CHECK(server.count(kB) == 1);

    // mark_used is refused for an unknown file or a wrong hash.
    std::array<std::uint8_t, 32> wrong{};
    CHECK(d.mark_used(kA, wrong).error().code == ErrorCode::kFailedPrecondition);
    CHECK(d.mark_used("other.zip", entry(*r, kA).sha256).error().code ==
          ErrorCode::kFailedPrecondition);
}

TEST_CASE("Several files are marked used with one state write, all or none", "[fetch][http]") {
    Bucket b;
    b.publish_listed({{kA, 0xa0}, {kB, 0xb0}, {kC, 0xc0}});
    KeyServer server(b.root);
    std::vector<Downloader::FileRef> refs;
    {
        auto d = b.downloader(server);
        auto r = fetch_ok(d);
        for (const auto& f : r.files) refs.push_back({f.path, f.sha256});
        const fs::path state = b.work / "fetch.state";
        REQUIRE(fs::exists(state));
        const auto written = fs::last_write_time(state);
        const auto before = test::read_file(state);

        // One unknown file (or a wrong hash) refuses the whole batch: nothing is marked, the
        // state is not rewritten and the spool keeps every file.
        auto bad = refs;
        bad.push_back({"other.zip", refs[0].sha256});
        CHECK(d.mark_used(bad).error().code == ErrorCode::kFailedPrecondition);
        bad = refs;
        bad[1].sha256[0] ^= 1;
        CHECK(d.mark_used(bad).error().code == ErrorCode::kFailedPrecondition);
        CHECK(test::read_file(state) == before);
        CHECK(fs::last_write_time(state) == written);
        for (const auto& f : r.files) CHECK(fs::exists(f.spool_file));

        // Two of three in one call: they leave the spool; the third stays pending.
        REQUIRE(d.mark_used(std::span(refs).first(2)));
        CHECK_FALSE(fs::exists(entry(r, kA).spool_file));
        CHECK_FALSE(fs::exists(entry(r, kB).spool_file));
        CHECK(fs::exists(entry(r, kC).spool_file));
        REQUIRE(d.mark_used(std::span(refs).first(2)));  // idempotent
        REQUIRE(d.mark_used(std::span<const Downloader::FileRef>{}));
    }
    auto d = b.downloader(server);  // after a restart: what was saved
    auto r = fetch_ok(d);
    CHECK(entry(r, kA).status == FileStatus::kUnchanged);
    CHECK(entry(r, kB).status == FileStatus::kUnchanged);
    CHECK(entry(r, kC).status == FileStatus::kPending);
    CHECK(server.count(kA) == 1);
    CHECK(server.count(kC) == 1);
}

TEST_CASE("A batch whose state write fails marks nothing, in memory or on disk", "[fetch][http]") {
    Bucket b;
    b.publish_listed({{kA, 0xa0}, {kB, 0xb0}});
    KeyServer server(b.root);
    {
        auto d = b.downloader(server);
        auto r = fetch_ok(d);
        std::vector<Downloader::FileRef> refs;
        for (const auto& f : r.files) refs.push_back({f.path, f.sha256});
        // The state file's name taken by a non-empty directory: the atomic rename fails.
        const fs::path state = b.work / "fetch.state";
        const auto before = test::read_file(state);
        fs::remove(state);
        fs::create_directories(state / "blocker");
        CHECK(d.mark_used(refs).error().code == ErrorCode::kStorageIo);
        for (const auto& f : r.files) CHECK(fs::exists(f.spool_file));
        fs::remove_all(state);
        test::write_file(state, before);
        // Rolled back in memory too: the next successful write (kA alone) does not carry kB.
        REQUIRE(d.mark_used(kA, entry(r, kA).sha256));
        CHECK(fs::exists(entry(r, kB).spool_file));
    }
    auto d = b.downloader(server);
    auto r = fetch_ok(d);
    CHECK(entry(r, kA).status == FileStatus::kUnchanged);
    CHECK(entry(r, kB).status == FileStatus::kPending);
}

TEST_CASE("With revalidation the server's 304 is counted and no body is downloaded again",
          "[fetch][http]") {
    Bucket b;
    b.publish_listed({{kA, 0xa0}});
    KeyServer server(b.root);
    auto o = quick_options();
    o.revalidate_downloaded = true;
    auto d = b.downloader(server, o);
    auto first = fetch_ok(d);
    REQUIRE(d.mark_used(kA, entry(first, kA).sha256));

    auto second = fetch_ok(d);
    CHECK(second.not_modified == 2);  // index and the zip
    CHECK(entry(second, kA).status == FileStatus::kUnchanged);
    CHECK(server.count(kA, 200) == 1);
    CHECK(server.count(kA, 304) == 1);
    const auto reqs = server.requests();
    CHECK(reqs.back().if_none_match != "-");  // the ETag went back to the server

    // The same file rewritten with the same bytes (new mtime, same ETag) is still unchanged; new
    // bytes under the same name are a new file.
    const auto original = test::read_file(b.root / kA);
    b.pub.publish(b.root, kA, 0xa1);
    auto third = fetch_ok(d);
    CHECK(entry(third, kA).status == FileStatus::kNew);
    REQUIRE(d.mark_used(kA, entry(third, kA).sha256));

    // The server flips back to the bytes used first: still never offered again, even after a
    // restart.
    test::write_file(b.root / kA, original);
    auto d2 = b.downloader(server, o);
    auto fourth = d2.fetch_round();
    REQUIRE(fourth);
    CHECK(entry(*fourth, kA).status == FileStatus::kUnchanged);
    CHECK(server.count(kA, 200) == 3);
}

TEST_CASE("Identical content under a new name is not handed out twice", "[fetch][http]") {
    Bucket b;
    const auto za = b.publish_listed({{kA, 0xa0}})[0];
    KeyServer server(b.root);
    auto d = b.downloader(server);
    auto first = fetch_ok(d);
    REQUIRE(d.mark_used(kA, entry(first, kA).sha256));

    test::write_file(b.root / kC, za);  // republished under another name
    write_index(b.root, {kA, kC});
    auto second = fetch_ok(d);
    CHECK(entry(second, kC).status == FileStatus::kUnchanged);
    CHECK(server.count(kC) == 1);
}

TEST_CASE("A used file that leaves the index and comes back is not offered again",
          "[fetch][http]") {
    Bucket b;
    b.publish_listed({{kA, 0xa0}, {kB, 0xb0}});
    KeyServer server(b.root);
    auto d = b.downloader(server);
    auto first = fetch_ok(d);
    REQUIRE(d.mark_used(kA, entry(first, kA).sha256));  // kB stays pending
    const auto pending_spool = entry(first, kB).spool_file;

    write_index(b.root, {});  // a briefly empty index
    auto empty = fetch_ok(d);
    CHECK(empty.files.empty());
    CHECK_FALSE(fs::exists(pending_spool));  // the pending file is forgotten

    write_index(b.root, {kA, kB});
    auto back = fetch_ok(d);
    CHECK(entry(back, kA).status == FileStatus::kUnchanged);
    CHECK(entry(back, kB).status == FileStatus::kNew);
    CHECK(server.count(kA) == 1);
    CHECK(server.count(kB) == 2);
}

TEST_CASE("A missing file fails with its HTTP status while the others arrive", "[fetch][http]") {
    Bucket b;
    b.pub.publish(b.root, kA, 0xa0);
    write_index(b.root, {kA, "missing/file.zip"});
    KeyServer server(b.root);
    auto d = b.downloader(server);
    auto r = fetch_ok(d);
    const auto& missing = entry(r, "missing/file.zip");
    CHECK(missing.status == FileStatus::kFailed);
    CHECK(missing.error.code == ErrorCode::kNetworkHttp);
    CHECK(missing.http_status == 404);
    CHECK(entry(r, kA).status == FileStatus::kNew);

    // Failed files are retried next round.
    auto again = fetch_ok(d);
    CHECK(server.count("missing/file.zip") == 2);
}

TEST_CASE("A server error on the index fails the round and changes nothing", "[fetch][http]") {
    Bucket b;
    b.publish_listed({{kA, 0xa0}});
    b.mode("index.txt", "status 503");
    KeyServer server(b.root);
    auto d = b.downloader(server);
    auto r = fetch_ok(d);
    CHECK(r.index_status == IndexStatus::kFailed);
    CHECK(r.index_error.code == ErrorCode::kNetworkHttp);
    CHECK(r.index_http_status == 503);
    CHECK(r.files.empty());
    CHECK(server.count(kA) == 0);

    fs::remove(b.root / "index.txt.mode");
    auto ok = fetch_ok(d);
    CHECK(ok.index_status == IndexStatus::kNew);
    CHECK(entry(ok, kA).status == FileStatus::kNew);
}

TEST_CASE("A corrupted state file is reported and rebuilt", "[fetch][http]") {
    Bucket b;
    b.publish_listed({{kA, 0xa0}});
    KeyServer server(b.root);
    {
        auto d = b.downloader(server);
        auto r = d.fetch_round();
        REQUIRE(r);
        CHECK_FALSE(r->state_was_damaged);
        REQUIRE(d.mark_used(kA, entry(*r, kA).sha256));
    }
    auto text = test::read_text(b.work / "fetch.state");
    text[text.size() / 3] ^= 0x20;
    test::write_text(b.work / "fetch.state", text);

    auto d = b.downloader(server);
    auto r = d.fetch_round();
    REQUIRE(r);
    CHECK(r->state_was_damaged);
    CHECK(entry(*r, kA).status == FileStatus::kNew);  // not trusted: downloaded and offered again
    REQUIRE(d.mark_used(kA, entry(*r, kA).sha256));

    auto next = fetch_ok(d);
    CHECK_FALSE(next.state_was_damaged);
    CHECK(entry(next, kA).status == FileStatus::kUnchanged);
}

TEST_CASE("A round that changes nothing does not rewrite the state and one that does, does",
          "[fetch][http]") {
    Bucket b;
    b.publish_listed({{kA, 0xa0}});
    KeyServer server(b.root);
    auto d = b.downloader(server);
    auto r = fetch_ok(d);
    REQUIRE(d.mark_used(kA, entry(r, kA).sha256));
    struct stat before {};
    REQUIRE(::stat((b.work / "fetch.state").c_str(), &before) == 0);
    fetch_ok(d);  // the index is unchanged, the file used: nothing to remember
    struct stat after {};
    REQUIRE(::stat((b.work / "fetch.state").c_str(), &after) == 0);
    CHECK(after.st_ino == before.st_ino);  // saving replaces the file (rename): same inode, no save
    // Negative neighbour: a new file in the index is remembered (the state is replaced).
    b.publish_listed({{kA, 0xa0}, {kB, 0xb0}});
    fetch_ok(d);
    REQUIRE(::stat((b.work / "fetch.state").c_str(), &after) == 0);
    CHECK(after.st_ino != before.st_ino);
}
