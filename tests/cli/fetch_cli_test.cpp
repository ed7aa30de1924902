// sotto fetch against the tests' key server on 127.0.0.1, run as a child process.
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <sotto/bytes.hpp>
#include <sotto/core/keys.hpp>
#include <sotto/core/payload.hpp>
#include <sotto/core/rolling_id.hpp>

#include "fetch/fetch_test_support.hpp"
#include "integration/keyfile/keyfile_test_support.hpp"
#include "support.hpp"

using namespace sotto::test;
using namespace sotto::test::fetch;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& hay, const std::string& needle) {
    return hay.find(needle) != std::string::npos;
}

std::size_t files_in(const fs::path& dir) {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
    return n;
}

}  // namespace

TEST_CASE("sotto fetch delivers verified files and drops a forged one until it changes",
          "[cli][fetch]") {
    TempDir tmp;
    const fs::path root = tmp / "bucket";
    Publisher pub;
    Publisher impostor;
    pub.publish(root, "DE/1.zip", 0x10, 4);
    impostor.publish(root, "DE/2.zip", 0x20, 5);
    pub.publish(root, "DE/3.zip", 0x30, 6);
    write_index(root, {"DE/1.zip", "DE/2.zip", "DE/3.zip"});
    auto pem = pub.signer.public_key_pem();
    REQUIRE(pem);
    write_text(tmp / "pub.pem", *pem);
    KeyServer server(root);
    const std::vector<std::string> args = {cli_path(),      "fetch",
                                           "--source",      server.url(),
                                           "--state-dir",   (tmp / "state").string(),
                                           "--pubkey",      (tmp / "pub.pem").string(),
                                           "--key-id",      "test",
                                           "--key-version", "v1",
                                           "--out",         (tmp / "out").string(),
                                           "--timeout",     "5"};
    auto first = run_process(args);
    CAPTURE(first.out, first.err);
    CHECK(first.exit_code == 3);
    CHECK(contains(first.out, "delivered  DE/1.zip keys=4"));
    CHECK(contains(first.out, "refused    DE/2.zip"));
    CHECK(contains(first.out, "delivered  DE/3.zip keys=6"));
    CHECK(files_in(tmp / "out") == 2);

    auto second = run_process(args);
    CAPTURE(second.out, second.err);
    CHECK(second.exit_code == 3);  // still refused, not downloaded again: only asked (a 304)
    CHECK(contains(second.out, "refused    DE/2.zip unchanged since it was refused"));
    CHECK(contains(
        second.out,
        "index unchanged: 3 files, 0 verified, 1 refused, 0 failed, 2 unchanged, 2 requests"));
    CHECK(server.count("DE/2.zip", 200) == 1);
    CHECK(server.count("DE/2.zip", 304) == 1);
    CHECK(files_in(tmp / "state" / "spool") == 0);  // refused: nothing of it is kept

    // The server replaces it with a genuine file: downloaded again and delivered.
    pub.publish(root, "DE/2.zip", 0x21, 2);
    auto fourth = run_process(args);
    CAPTURE(fourth.out, fourth.err);
    CHECK(fourth.exit_code == 0);
    CHECK(contains(fourth.out, "delivered  DE/2.zip keys=2"));

    // Removed from the bucket: a clean run.
    write_index(root, {"DE/1.zip", "DE/3.zip"});
    auto third = run_process(args);
    CHECK(third.exit_code == 0);
    CHECK(contains(third.out, "0 refused, 0 failed, 2 unchanged"));
}

TEST_CASE("sotto fetch reports an unreachable index and refuses plain http elsewhere",
          "[cli][fetch]") {
    TempDir tmp;
    write_text(tmp / "pub.pem", "unused");
    fs::create_directories(tmp / "bucket");
    KeyServer server(tmp / "bucket");  // no index.txt: 404
    auto missing = run_process({cli_path(), "fetch", "--source", server.url(), "--state-dir",
                                (tmp / "s").string(), "--pubkey", (tmp / "pub.pem").string()});
    // The PEM is checked first: not a key.
    CHECK(missing.exit_code == 2);

    Publisher pub;
    auto pem = pub.signer.public_key_pem();
    REQUIRE(pem);
    write_text(tmp / "pub.pem", *pem);
    auto not_found = run_process({cli_path(), "fetch", "--source", server.url(), "--state-dir",
                                  (tmp / "s").string(), "--pubkey", (tmp / "pub.pem").string()});
    CHECK(not_found.exit_code == 1);
    CHECK(contains(not_found.err, "(HTTP 404)"));

    auto refused =
        run_process({cli_path(), "fetch", "--source", "http://192.0.2.1/keys", "--state-dir",
                     (tmp / "s").string(), "--pubkey", (tmp / "pub.pem").string()});
    CHECK(refused.exit_code == 2);
    CHECK(contains(refused.err, "plain http only to a loopback address"));
    CHECK_FALSE(contains(refused.err, "192.0.2.1"));  // no URL in messages
}

TEST_CASE("sotto fetch checks a refused file again after a --pubkey change", "[cli][fetch]") {
    TempDir tmp;
    const fs::path root = tmp / "bucket";
    Publisher pub;
    Publisher other;
    pub.publish(root, "DE/1.zip", 0x10, 4);
    other.publish(root, "DE/2.zip", 0x20, 5);
    write_index(root, {"DE/1.zip", "DE/2.zip"});
    write_text(tmp / "pub.pem", *pub.signer.public_key_pem());
    write_text(tmp / "other.pem", *other.signer.public_key_pem());
    KeyServer server(root);
    auto run = [&](std::vector<std::string> pems) {
        std::vector<std::string> a = {cli_path(),    "fetch",
                                      "--source",    server.url(),
                                      "--state-dir", (tmp / "state").string(),
                                      "--out",       (tmp / "out").string()};
        for (const auto& p : pems) a.insert(a.end(), {"--pubkey", (tmp / p).string()});
        return run_process(a);
    };
    auto first = run({"pub.pem"});
    CAPTURE(first.out, first.err);
    CHECK(first.exit_code == 3);
    CHECK(contains(first.out, "refused    DE/2.zip"));
    // The same key: still refused, not downloaded again.
    auto same = run({"pub.pem"});
    CAPTURE(same.out, same.err);
    CHECK(contains(same.out, "refused    DE/2.zip unchanged since it was refused"));
    CHECK(server.count("DE/2.zip", 200) == 1);
    // The signer is now trusted too: the file is downloaded, verified and delivered.
    auto trusted = run({"pub.pem", "other.pem"});
    CAPTURE(trusted.out, trusted.err);
    CHECK(trusted.exit_code == 0);
    CHECK(contains(trusted.err, "the public keys changed; 1 refused file(s) are checked again"));
    CHECK(contains(trusted.out, "delivered  DE/2.zip keys=5"));
    CHECK(server.count("DE/2.zip", 200) == 2);
    CHECK(files_in(tmp / "out") == 2);
}

TEST_CASE("sotto fetch --store checks what it fetched against the store, once", "[cli][fetch]") {
    using namespace sotto::core;
    TempDir tmp;
    const std::string store = (tmp / "enc.db").string(), key = (tmp / "store.key").string();
    write_text(key, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
    REQUIRE(::chmod(key.c_str(), 0600) == 0);
    // What the device heard of a positive user's TEK: 20 minutes, one scan a minute.
    DeterministicRng rng(9);
    const IntervalNumber day = 2690496;
    const ExposureKey tek = generate_tek(rng, day);
    std::string csv;
    for (int m = 0; m < 20; ++m) {
        const std::int64_t t = interval_start_seconds(day + 60) + 60 * m;
        auto b = make_beacon(tek, *interval_number(t), {1, 0, CalibrationConfidence::kHigh});
        REQUIRE(b);
        csv += std::to_string(t) + ",-58," +
               sotto::to_hex(encode_advertising_data(*b, AdvertisingForm::kWithFlags).view()) +
               "\n";
    }
    write_text(tmp / "heard.csv", csv);
    const std::string now = std::to_string(interval_start_seconds(day + 144 + 12));
    REQUIRE(run_process({cli_path(), "ingest", "--store", store, "--key-file", key, "--now", now,
                         (tmp / "heard.csv").string()})
                .exit_code == 0);
    // The authority publishes the key (and a forger a copy) in a bucket.
    const auto authority = sotto::test::keyfile::generate_p256();
    const auto forger = sotto::test::keyfile::generate_p256();
    write_text(tmp / "a.pem", authority.private_pem);
    write_text(tmp / "a.pub", authority.public_pem);
    write_text(tmp / "f.pem", forger.private_pem);
    for (const char* pem : {"a.pem", "f.pem"})  // signing keys need the store key's mode 600
        REQUIRE(::chmod((tmp / pem).c_str(), 0600) == 0);
    write_text(tmp / "keys.csv",
               "tek_hex,rolling_start,rolling_period,transmission_risk_level,report_type,days_"
               "since_onset\n" +
                   sotto::to_hex(tek.tek.expose_secret()) + "," + std::to_string(day) +
                   ",144,6,1,2\n");
    const fs::path root = tmp / "bucket";
    fs::create_directories(root / "XX");
    for (const auto& [signer, name] : {std::pair{"a.pem", "XX/1.zip"}, {"f.pem", "XX/2.zip"}})
        REQUIRE(run_process({cli_path(), "export", "build", "--keys", (tmp / "keys.csv").string(),
                             "--signing-key", (tmp / signer).string(), "--key-id", "999",
                             "--key-version", "v1", "--region", "XX", "--pad", "20", "-o",
                             (root / name).string()})
                    .exit_code == 0);
    write_index(root, {"XX/1.zip", "XX/2.zip"});
    KeyServer server(root);
    const std::vector<std::string> args = {cli_path(),    "fetch",
                                           "--source",    server.url(),
                                           "--state-dir", (tmp / "state").string(),
                                           "--pubkey",    (tmp / "a.pub").string(),
                                           "--store",     store,
                                           "--key-file",  key,
                                           "--now",       now};
    auto first = run_process(args);
    CAPTURE(first.out, first.err);
    CHECK(first.exit_code == 3);  // the forged file
    CHECK(contains(first.out, "checked    XX/1.zip keys=21"));
    CHECK(contains(first.out, "refused    XX/2.zip"));
    CHECK(contains(first.out, "checked 1 file(s) against "));
    CHECK(contains(first.out, " sightings: 1 exposure window(s), risk high"));
    // The next run has nothing new to check and records nothing twice.
    auto second = run_process(args);
    CAPTURE(second.out, second.err);
    CHECK(contains(second.out, "0 verified, 1 refused, 0 failed, 1 unchanged"));
    CHECK_FALSE(contains(second.out, "exposure window"));
    CHECK(server.count("XX/1.zip", 200) == 1);
    // Negative neighbour: a wrong store key fails before anything is downloaded.
    write_text(tmp / "bad.key",
               "ff112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
    REQUIRE(::chmod((tmp / "bad.key").c_str(), 0600) == 0);
    auto bad = args;
    bad[bad.size() - 3] = (tmp / "bad.key").string();
    auto wrong = run_process(bad);
    CHECK(wrong.exit_code == 1);
    CHECK(server.requests().size() == 5);  // index+2 files, then index+1 conditional file
}
