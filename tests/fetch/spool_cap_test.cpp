// The spool's total size cap against a real HTTP server on 127.0.0.1: an index listing more
// (unverified) bytes than the cap cannot fill the disk, and what is held is kept and offered.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <sotto/bytes.hpp>
#include <sotto/fetch/downloader.hpp>
#include <sotto/fetch/fetch_state.hpp>
#include <sotto/keyfile/export_reader.hpp>

#include "fetch/fetch_test_support.hpp"

using namespace sotto;
using namespace sotto::fetch;
using namespace sotto::test::fetch;
namespace fs = std::filesystem;

namespace {

/// Bytes of the finished files in the spool (partial downloads would start with ".part-").
std::uint64_t spool_bytes(const fs::path& spool, std::size_t* files = nullptr) {
    std::uint64_t sum = 0;
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(spool)) {
        CHECK(e.path().extension() == ".zip");
        sum += e.file_size();
        ++n;
    }
    if (files != nullptr) *files = n;
    return sum;
}

bool spool_full(const FetchedFile& f) {
    return f.status == FileStatus::kFailed && f.error.code == ErrorCode::kNetworkTooLarge &&
           std::strstr(f.error.what, "spool full") != nullptr;
}

/// `n` distinct signed zips listed in the index; returns their paths and sizes.
struct Listed {
    std::vector<std::string> paths;
    std::vector<std::uint64_t> sizes;
};

Listed publish_many(Bucket& b, int n) {
    Listed l;
    for (int i = 0; i < n; ++i) {
        const std::string rel = "exposureKeyExport-XX/batch-" + std::to_string(i) + ".zip";
        const auto zip = b.pub.publish(b.root, rel, static_cast<std::uint8_t>(0x10 + i), 60);
        l.paths.push_back(rel);
        l.sizes.push_back(zip.size());
    }
    write_index(b.root, l.paths);
    return l;
}

}  // namespace

TEST_CASE("An index listing more than the spool's cap stops at the cap and keeps what it holds",
          "[fetch][http][spool]") {
    Bucket b;
    const Listed l = publish_many(b, 12);
    b.mode(l.paths[5], "chunked");  // no Content-Length: crosses the cap during the transfer
    KeyServer server(b.root);
    auto o = quick_options();
    // Room for the first five files and half of the sixth.
    o.max_spool_bytes =
        std::accumulate(l.sizes.begin(), l.sizes.begin() + 5, std::uint64_t{0}) + l.sizes[5] / 2;
    auto d = b.downloader(server, o);

    auto r = fetch_ok(d);
    for (std::size_t i = 0; i < 5; ++i) CHECK(entry(r, l.paths[i]).status == FileStatus::kNew);
    CHECK(spool_full(entry(r, l.paths[5])));
    CHECK(server.count(l.paths[5]) == 1);  // requested, aborted at the cap
    for (std::size_t i = 6; i < 12; ++i) {
        CAPTURE(i);
        CHECK(spool_full(entry(r, l.paths[i])));
        CHECK(server.count(l.paths[i]) == 0);  // the spool was full: never requested
    }
    std::size_t files = 0;
    CHECK(spool_bytes(b.work / "spool", &files) <= o.max_spool_bytes);
    CHECK(files == 5);

    // Three of them are verified and used: they leave the spool, and the next round fills it
    // again. The two not used yet are kept and offered again, without a download.
    for (std::size_t i = 0; i < 3; ++i)
        REQUIRE(d.mark_used(l.paths[i], entry(r, l.paths[i]).sha256));
    auto next = d.fetch_round();
    REQUIRE(next);
    for (std::size_t i = 0; i < 3; ++i)
        CHECK(entry(*next, l.paths[i]).status == FileStatus::kUnchanged);
    for (std::size_t i = 3; i < 5; ++i) {
        CHECK(entry(*next, l.paths[i]).status == FileStatus::kPending);
        CHECK(server.count(l.paths[i]) == 1);
    }
    CHECK(entry(*next, l.paths[5]).status == FileStatus::kNew);
    CHECK(entry(*next, l.paths[6]).status == FileStatus::kNew);
    CHECK(spool_full(entry(*next, l.paths[8])));
    CHECK(server.count(l.paths[8]) == 1);   // requested, aborted
    CHECK(server.count(l.paths[11]) == 0);  // after that, nothing more this round
    CHECK(spool_bytes(b.work / "spool") <= o.max_spool_bytes);

    // Used as they come, every file arrives in the end, each downloaded once.
    for (int round = 0; round < 6; ++round) {
        for (const auto& f : next->files)
            if (f.status == FileStatus::kNew || f.status == FileStatus::kPending)
                REQUIRE(d.mark_used(f.path, f.sha256));
        next = d.fetch_round();
        REQUIRE(next);
    }
    CHECK(next->count(FileStatus::kUnchanged) == 12);
    // Downloaded once each, plus at most one transfer per round aborted at the cap.
    std::size_t transfers = 0;
    for (std::size_t i = 0; i < 12; ++i) {
        CAPTURE(i);
        CHECK(server.count(l.paths[i], 200) >= 1);
        CHECK(server.count(l.paths[i], 200) <= 2);
        transfers += server.count(l.paths[i], 200);
    }
    CHECK(transfers <= 12 + 8);
    CHECK(fs::is_empty(b.work / "spool"));
}

TEST_CASE("Under the spool's cap every listed file is downloaded", "[fetch][http][spool]") {
    Bucket b;
    const Listed l = publish_many(b, 12);
    b.mode(l.paths[5], "chunked");
    KeyServer server(b.root);
    auto o = quick_options();
    const auto total = std::accumulate(l.sizes.begin(), l.sizes.end(), std::uint64_t{0});
    SECTION("the default cap") { CHECK(o.max_spool_bytes == std::uint64_t{256} << 20); }
    SECTION("a cap of exactly the total") { o.max_spool_bytes = total; }
    auto d = b.downloader(server, o);
    auto r = fetch_ok(d);
    CHECK(r.count(FileStatus::kNew) == 12);
    CHECK(spool_bytes(b.work / "spool") == total);
}

TEST_CASE("An endless body stops at the spool's cap, below the per-file cap",
          "[fetch][http][spool]") {
    Bucket b;
    const auto za = b.pub.publish(b.root, kA, 0xa0);
    test::write_text(b.root / kB, "x");
    b.mode(kB, "endless");  // chunked, never ends
    write_index(b.root, {kA, kB});
    KeyServer server(b.root);
    auto o = quick_options();
    o.max_file_bytes = 64 << 20;
    o.max_spool_bytes = za.size() + 300'000;
    o.total_timeout_ms = 20'000;
    auto d = b.downloader(server, o);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = fetch_ok(d);
    CHECK(entry(r, kA).status == FileStatus::kNew);
    CHECK(spool_full(entry(r, kB)));
    CHECK(seconds_since(t0) < 10.0);  // aborted at the cap, not by the timeout
    CHECK(spool_bytes(b.work / "spool") == za.size());
    CHECK(r.bytes_downloaded < za.size() + 300'000 + 200'000);

    // The neighbour: the per-file cap, when it is the smaller one, still reports its own error.
    o.max_file_bytes = 100'000;
    auto d2 = b.downloader(server, o);
    auto r2 = d2.fetch_round();
    REQUIRE(r2);
    CHECK(entry(*r2, kB).error.code == ErrorCode::kNetworkTooLarge);
    CHECK_FALSE(spool_full(entry(*r2, kB)));
}

TEST_CASE("Spool files no pending record names are removed and pending ones are kept",
          "[fetch][http][spool]") {
    Bucket b;
    b.publish_listed({{kA, 0xa0}, {kB, 0xb0}});
    KeyServer server(b.root);
    fs::path pending;
    {
        auto d = b.downloader(server);
        auto r = d.fetch_round();
        REQUIRE(r);
        REQUIRE(d.mark_used(kA, entry(*r, kA).sha256));
        pending = entry(*r, kB).spool_file;
    }
    // A file left by a lost state (named like a spool file) and one that is not a download.
    const auto orphan = b.work / "spool" / (std::string(64, 'e') + ".zip");
    test::write_text(orphan, std::string(1000, 'o'));
    const auto other = b.work / "spool" / "notes.txt";
    test::write_text(other, "kept");
    auto d = b.downloader(server);
    CHECK_FALSE(fs::exists(orphan));
    CHECK(fs::exists(pending));
    CHECK(fs::exists(other));
    auto r = d.fetch_round();
    REQUIRE(r);
    CHECK(entry(*r, kB).status == FileStatus::kPending);
    CHECK(entry(*r, kB).spool_file == pending);
}

TEST_CASE("A spool cap of zero is refused", "[fetch][spool]") {
    test::TempDir dir;
    DownloadOptions o;
    o.max_spool_bytes = 0;
    auto d =
        Downloader::create({dir.path().string()},
                           std::make_unique<FileFetchState>(dir / "fetch.state"), dir / "spool", o);
    REQUIRE_FALSE(d);
    CHECK(d.error().code == ErrorCode::kInvalidArgument);
    o.max_spool_bytes = 1;
    CHECK(Downloader::create({dir.path().string()},
                             std::make_unique<FileFetchState>(dir / "fetch.state"), dir / "spool",
                             o));
}

TEST_CASE("With revalidation a full spool still offers what it holds without a request",
          "[fetch][http][spool]") {
    Bucket b;
    // B holds a key more than C, so it is larger whatever the signatures' DER lengths (which
    // vary by a byte or two): room for A and B, not for C as well; for A and C once B is used.
    const auto zip_a = b.pub.publish(b.root, kA, 0xa0, 3);
    const auto zip_b = b.pub.publish(b.root, kB, 0xb0, 4);
    const auto zip_c = b.pub.publish(b.root, kC, 0xc0, 3);
    write_index(b.root, {kA, kB, kC});
    REQUIRE(zip_b.size() > zip_c.size());
    KeyServer server(b.root);
    auto o = quick_options();
    o.revalidate_downloaded = true;
    o.max_spool_bytes = zip_a.size() + zip_b.size();
    auto d = b.downloader(server, o);
    auto first = fetch_ok(d);
    CHECK(entry(first, kA).status == FileStatus::kNew);
    CHECK(entry(first, kB).status == FileStatus::kNew);
    CHECK(spool_full(entry(first, kC)));

    auto second = fetch_ok(d);
    CHECK(entry(second, kA).status == FileStatus::kPending);  // the spool is full: no revalidation
    CHECK(entry(second, kB).status == FileStatus::kPending);
    CHECK(entry(second, kA).spool_file == entry(first, kA).spool_file);
    CHECK(server.count(kA) == 1);
    CHECK(spool_full(entry(second, kC)));

    // The neighbour: with room again, A is revalidated (a 304) and C arrives.
    REQUIRE(d.mark_used(kB, entry(second, kB).sha256));
    auto third = fetch_ok(d);
    CHECK(entry(third, kA).status == FileStatus::kPending);
    CHECK(server.count(kA, 304) == 1);
    CHECK(entry(third, kC).status == FileStatus::kNew);
}

namespace {

/// Four 100 KB files that are not key files (listed first), then a genuine signed zip: the
/// reviewer's bucket. The cap holds the four and 100 B more.
struct JunkFirst {
    Bucket b;
    std::vector<std::string> junk;
    std::uint64_t junk_bytes = 0;
    const std::string good = "exposureKeyExport-XX/good.zip";
    std::vector<std::uint8_t> good_zip;
    DownloadOptions o = quick_options();

    JunkFirst() {
        fs::create_directories(b.root / "exposureKeyExport-XX");
        for (int i = 0; i < 4; ++i) {
            const std::string rel = "exposureKeyExport-XX/junk-" + std::to_string(i) + ".zip";
            test::write_file(b.root / rel, std::vector<std::uint8_t>(
                                               100'000, static_cast<std::uint8_t>('a' + i)));
            junk_bytes += 100'000;
            junk.push_back(rel);
        }
        good_zip = b.pub.publish(b.root, good, 0x42, 3);
        auto listed = junk;
        listed.push_back(good);
        write_index(b.root, listed);
        o.max_file_bytes = 200'000;
        o.max_spool_bytes = junk_bytes + 100;
        REQUIRE(good_zip.size() > 100);
    }

    /// The caller's loop: verify every offered file; use it, or refuse it for its bytes (when
    /// `refuse`). Returns how many were used.
    int verify(Downloader& d, const FetchReport& r, bool refuse) const {
        int used = 0;
        for (const auto& f : r.files) {
            if (f.status != FileStatus::kNew && f.status != FileStatus::kPending) continue;
            auto info = keyfile::read_export_zip(f.spool_file, b.pub.trust,
                                                 keyfile::VerifyMode::kRequireSignature, {});
            if (info) {
                REQUIRE(d.mark_used(f.path, f.sha256));
                ++used;
            } else if (refuse) {
                REQUIRE(keyfile::refuses_content(info.error().code));
                REQUIRE(d.mark_refused(f.path, f.sha256));
            }
        }
        return used;
    }
};

}  // namespace

TEST_CASE("Files refused for their content free the spool so a genuine file after them is used",
          "[fetch][http][spool]") {
    JunkFirst j;
    KeyServer server(j.b.root);
    auto d = j.b.downloader(server, j.o);
    auto r = fetch_ok(d);
    for (const auto& p : j.junk) CHECK(entry(r, p).status == FileStatus::kNew);
    CHECK(spool_full(entry(r, j.good)));

    SECTION("a caller that only leaves them pending never gets the genuine file") {
        for (int round = 0; round < 3; ++round) {
            CHECK(j.verify(d, r, false) == 0);
            r = fetch_ok(d);
            CHECK(spool_full(entry(r, j.good)));
        }
    }
    SECTION("refused, they leave the spool and are not downloaded again") {
        CHECK(j.verify(d, r, true) == 0);
        CHECK(fs::is_empty(j.b.work / "spool"));
        r = fetch_ok(d);
        for (const auto& p : j.junk) {
            CAPTURE(p);
            CHECK(entry(r, p).status == FileStatus::kRefused);
            CHECK(server.count(p, 200) == 1);  // asked with its ETag: 304
            CHECK(server.count(p, 304) == 1);
        }
        CHECK(entry(r, j.good).status == FileStatus::kNew);
        CHECK(j.verify(d, r, true) == 1);
        CHECK(fs::is_empty(j.b.work / "spool"));

        // A restart keeps the refusals: nothing is offered or downloaded again.
        auto again = j.b.downloader(server, j.o);
        r = fetch_ok(again);
        for (const auto& p : j.junk) {
            CHECK(entry(r, p).status == FileStatus::kRefused);
            CHECK(server.count(p, 200) == 1);
        }
        CHECK(entry(r, j.good).status == FileStatus::kUnchanged);
        CHECK(fs::is_empty(j.b.work / "spool"));

        // The same bytes under a new name are refused too, without being kept.
        fs::copy_file(j.b.root / j.junk[1], j.b.root / "exposureKeyExport-XX/copy.zip");
        auto listed = j.junk;
        listed.push_back(j.good);
        listed.push_back("exposureKeyExport-XX/copy.zip");
        write_index(j.b.root, listed);
        r = fetch_ok(again);
        CHECK(entry(r, "exposureKeyExport-XX/copy.zip").status == FileStatus::kRefused);
        CHECK(fs::is_empty(j.b.work / "spool"));

        // A refused file the server replaces (new bytes: a signed zip) is downloaded and used.
        j.b.pub.publish(j.b.root, j.junk[0], 0x77, 2);
        r = fetch_ok(again);
        CHECK(entry(r, j.junk[0]).status == FileStatus::kNew);
        CHECK(entry(r, j.junk[2]).status == FileStatus::kRefused);
        CHECK(server.count(j.junk[0], 200) == 2);
        CHECK(j.verify(again, r, true) == 1);
        r = fetch_ok(again);
        CHECK(entry(r, j.junk[0]).status == FileStatus::kUnchanged);
    }
}

TEST_CASE("Only a pending file can be refused and refusing it twice changes nothing",
          "[fetch][http][spool]") {
    Bucket b;
    const auto zips = b.publish_listed({{kA, 0x10}, {kB, 0x20}});
    KeyServer server(b.root);
    auto d = b.downloader(server);
    auto r = fetch_ok(d);
    auto other = entry(r, kA).sha256;
    other[0] ^= 1;
    CHECK(d.mark_refused(kA, other).error().code == ErrorCode::kFailedPrecondition);
    CHECK(d.mark_refused("x/none.zip", entry(r, kA).sha256).error().code ==
          ErrorCode::kFailedPrecondition);
    REQUIRE(d.mark_used(kB, entry(r, kB).sha256));
    CHECK(d.mark_refused(kB, entry(r, kB).sha256).error().code == ErrorCode::kFailedPrecondition);
    REQUIRE(d.mark_refused(kA, entry(r, kA).sha256));
    REQUIRE(d.mark_refused(kA, entry(r, kA).sha256));  // idempotent
    r = fetch_ok(d);
    CHECK(entry(r, kA).status == FileStatus::kRefused);
    CHECK(entry(r, kB).status == FileStatus::kUnchanged);
    CHECK(std::string(file_status_name(FileStatus::kRefused)) == "refused");
}

TEST_CASE("A new verifier fingerprint forgets the refusals and the same one keeps them",
          "[fetch][http][spool]") {
    Bucket b;
    b.publish_listed({{kA, 0x10}, {kB, 0x20}});
    KeyServer server(b.root);
    {
        auto d = b.downloader(server);
        REQUIRE(d.set_verifier_fingerprint("aaaa").value() == 0);  // first: nothing to forget
        auto r = fetch_ok(d);
        REQUIRE(d.mark_refused(kA, entry(r, kA).sha256));
        REQUIRE(d.mark_used(kB, entry(r, kB).sha256));
    }
    // After a restart with the same verifier the refusal holds.
    auto d = b.downloader(server);
    CHECK(d.set_verifier_fingerprint("aaaa").value() == 0);
    auto r = fetch_ok(d);
    CHECK(entry(r, kA).status == FileStatus::kRefused);
    // Bad fingerprints are refused and change nothing.
    CHECK(d.set_verifier_fingerprint("").error().code == ErrorCode::kInvalidArgument);
    CHECK(d.set_verifier_fingerprint("a b").error().code == ErrorCode::kInvalidArgument);
    CHECK(d.set_verifier_fingerprint(std::string(129, 'a')).error().code ==
          ErrorCode::kInvalidArgument);
    r = fetch_ok(d);
    CHECK(entry(r, kA).status == FileStatus::kRefused);
    // Another verifier: the refused file is offered again as new; the used one stays used.
    CHECK(d.set_verifier_fingerprint("bbbb").value() == 1);
    r = fetch_ok(d);
    CHECK(entry(r, kA).status == FileStatus::kNew);
    CHECK(entry(r, kB).status == FileStatus::kUnchanged);
    // The fingerprint is stored with the state: a restart with it forgets nothing more.
    auto again = b.downloader(server);
    CHECK(again.set_verifier_fingerprint("bbbb").value() == 0);
}

TEST_CASE("The verifier fingerprint survives the state's text form and an old state has none",
          "[fetch][state]") {
    FetchStateData d;
    d.verifier_fingerprint = "0123abcd";
    auto text = encode_state(d);
    REQUIRE(text);
    auto back = decode_state(*text);
    REQUIRE(back);
    CHECK(back->verifier_fingerprint == "0123abcd");
    d.verifier_fingerprint.clear();
    text = encode_state(d);
    REQUIRE(text);
    CHECK(text->find("verifier") == std::string::npos);
    back = decode_state(*text);
    REQUIRE(back);
    CHECK(back->verifier_fingerprint.empty());
    d.verifier_fingerprint = "has space";
    CHECK(encode_state(d).error().code == ErrorCode::kInvalidArgument);
}
