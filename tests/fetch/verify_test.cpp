// Downloaded files are untrusted until keyfile::read_export_zip verifies them: the caller's loop
// (verify, use, mark_used) with a badly signed and an unsigned file among good ones. And the
// local directory source.
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include <sotto/fetch/downloader.hpp>
#include <sotto/keyfile/export_reader.hpp>

#include "fetch/fetch_test_support.hpp"
#include "integration/keyfile/keyfile_test_support.hpp"

using namespace sotto;
using namespace sotto::fetch;
using namespace sotto::test::fetch;
namespace fs = std::filesystem;

namespace {

// The caller's side of a round: verify every new or pending file, use the keys of the verified
// ones and mark only those used. Returns the number of keys used.
std::size_t verify_and_use(Downloader& d, const FetchReport& r, const keyfile::TrustStore& trust,
                           std::vector<std::string>& refused) {
    std::size_t used_keys = 0;
    for (const auto& f : r.files) {
        if (f.status != FileStatus::kNew && f.status != FileStatus::kPending) continue;
        std::vector<core::DiagnosisKey> keys;
        auto info =
            keyfile::read_export_zip(f.spool_file, trust, keyfile::VerifyMode::kRequireSignature,
                                     [&](core::DiagnosisKey&& k) { keys.push_back(std::move(k)); });
        if (!info) {
            refused.push_back(f.path);  // candidates discarded, file not marked: retried later
            continue;
        }
        used_keys += keys.size();
        REQUIRE(d.mark_used(f.path, f.sha256));
    }
    return used_keys;
}

}  // namespace

TEST_CASE(
    "A badly signed or unsigned download is refused by the verifier while the others are used",
    "[fetch][verify]") {
    test::TempDir tmp;
    const fs::path root = tmp / "bucket";
    fs::create_directories(root);
    Publisher pub;
    Publisher impostor;  // a key the trust store does not hold under this name
    pub.publish(root, "x/good1.zip", 0x10, 4);
    pub.publish(root, "x/good2.zip", 0x20, 5);
    impostor.publish(root, "x/forged.zip", 0x30, 6);
    {  // an unsigned zip: good1's export.bin without export.sig (other zip bytes)
        auto zip = test::read_file(root / "x/good1.zip");
        auto bin = test::keyfile::unzip_entry(zip, "export.bin");
        test::write_file(root / "x/unsigned.zip", test::keyfile::zip_of({{"export.bin", bin}}));
    }
    write_index(root, {"x/good1.zip", "x/forged.zip", "x/unsigned.zip", "x/good2.zip"});
    KeyServer server(root);
    auto d = make_downloader(server.url(), tmp / "work", quick_options());

    auto r = fetch_ok(d);
    CHECK(r.count(FileStatus::kNew) == 4);
    std::vector<std::string> refused;
    CHECK(verify_and_use(d, r, pub.trust, refused) == 9);
    CHECK(refused == std::vector<std::string>{"x/forged.zip", "x/unsigned.zip"});

    // Next round: the good files are done; the refused ones are still pending (not downloaded
    // again) and are refused again by the verifier.
    auto next = fetch_ok(d);
    CHECK(entry(next, "x/good1.zip").status == FileStatus::kUnchanged);
    CHECK(entry(next, "x/forged.zip").status == FileStatus::kPending);
    refused.clear();
    CHECK(verify_and_use(d, next, pub.trust, refused) == 0);
    CHECK(refused.size() == 2);
    CHECK(server.count("x/forged.zip") == 1);

    // Once the trust store holds the other key (a key rotation), the pending file verifies.
    auto pem = impostor.signer.public_key_pem();
    REQUIRE(pem);
    keyfile::TrustStore rotated;
    REQUIRE(rotated.add_pem("test", "v1", *pem));
    auto third = fetch_ok(d);
    refused.clear();
    CHECK(verify_and_use(d, third, rotated, refused) == 6);
    CHECK(refused == std::vector<std::string>{"x/unsigned.zip"});
}

TEST_CASE("A local directory with an index is read like the bucket", "[fetch][directory]") {
    test::TempDir tmp;
    const fs::path root = tmp / "mirror";
    Publisher pub;
    const auto za = pub.publish(root, "DE/a.zip", 0x10);
    pub.publish(root, "DE/b.zip", 0x20);
    write_index(root, {"DE/a.zip", "DE/b.zip", "../outside.zip"});
    auto d = make_downloader(root.string(), tmp / "work");
    auto r = fetch_ok(d);
    CHECK(r.index_lines_refused == 1);
    CHECK(r.count(FileStatus::kNew) == 2);
    CHECK(test::read_file(entry(r, "DE/a.zip").spool_file) == za);
    for (const auto& f : r.files) REQUIRE(d.mark_used(f.path, f.sha256));

    auto again = fetch_ok(d);
    CHECK(again.index_status == IndexStatus::kUnchanged);
    CHECK(again.count(FileStatus::kUnchanged) == 2);
}

TEST_CASE("A local directory without an index offers its zips in name order",
          "[fetch][directory]") {
    test::TempDir tmp;
    const fs::path root = tmp / "zips";
    Publisher pub;
    pub.publish(root, "2.zip", 0x20);
    pub.publish(root, "1.zip", 0x10);
    test::write_text(root / "notes.txt", "ignored");
    fs::create_directories(root / "sub.zip");  // a directory, not a file
    auto o = quick_options();
    auto d = make_downloader(root.string(), tmp / "work", o);
    auto r = fetch_ok(d);
    REQUIRE(r.files.size() == 2);
    CHECK(r.files[0].path == "1.zip");
    CHECK(r.files[1].path == "2.zip");
    for (const auto& f : r.files) REQUIRE(d.mark_used(f.path, f.sha256));

    pub.publish(root, "3.zip", 0x30);
    auto next = fetch_ok(d);
    CHECK(next.index_status == IndexStatus::kNew);
    CHECK(next.count(FileStatus::kNew) == 1);
    CHECK(entry(next, "3.zip").status == FileStatus::kNew);

    // A file over the cap is refused; a missing directory is refused at creation.
    o.max_file_bytes = 10;
    auto small = make_downloader(root.string(), tmp / "work2", o);
    auto capped = small.fetch_round();
    REQUIRE(capped);
    CHECK(capped->count(FileStatus::kFailed) == 3);
    CHECK(capped->files[0].error.code == ErrorCode::kNetworkTooLarge);
    auto missing = Downloader::create(Source{(tmp / "nope").string()},
                                      std::make_unique<FileFetchState>(tmp / "s"), tmp / "spool");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == ErrorCode::kInvalidArgument);
}
