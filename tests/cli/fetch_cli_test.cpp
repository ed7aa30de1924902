// sotto fetch against the tests' key server on 127.0.0.1, run as a child process.
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "fetch/fetch_test_support.hpp"
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
