// Host file helpers on real files: regular-file and permission checks, caps, FIFOs and devices.
#include <sys/stat.h>
#include <sys/types.h>

#include <chrono>
#include <string>

#include <catch2/catch.hpp>

#include <sotto/host/files.hpp>
#include <sotto/keyfile/export_writer.hpp>

#include "support.hpp"

using namespace sotto;
namespace fs = std::filesystem;

namespace {

fs::path secret(const test::TempDir& dir, const std::string& name, std::string_view content,
                mode_t mode = 0600) {
    const fs::path p = dir / name;
    test::write_text(p, content);
    REQUIRE(::chmod(p.c_str(), mode) == 0);
    return p;
}

const std::string kKeyHex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

}  // namespace

TEST_CASE("A regular file within the cap is read whole and a larger one is refused", "[host]") {
    test::TempDir dir;
    const fs::path p = dir / "f";
    test::write_text(p, std::string(100, 'x'));
    auto r = host::read_regular_file(p, 100);
    REQUIRE(r);
    CHECK(r->size() == 100);
    CHECK(host::read_regular_file(p, 99).error().code == ErrorCode::kInvalidArgument);
    test::write_text(p, "");
    CHECK(host::read_regular_file(p, 10)->empty());
    CHECK(host::read_regular_file(dir / "missing", 10).error().code == ErrorCode::kStorageIo);
}

TEST_CASE("A FIFO, a device and a directory are refused at once, without reading", "[host]") {
    test::TempDir dir;
    const fs::path fifo = dir / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const auto start = std::chrono::steady_clock::now();
    CHECK(host::read_regular_file(fifo, 1024).error().code == ErrorCode::kInvalidArgument);
    CHECK(host::read_key_file(fifo).error().code == ErrorCode::kInvalidArgument);
    CHECK(host::read_passphrase_file(fifo).error().code == ErrorCode::kInvalidArgument);
    CHECK(host::read_regular_file("/dev/zero", 1024).error().code == ErrorCode::kInvalidArgument);
    CHECK(host::read_regular_file(dir.path(), 1024).error().code == ErrorCode::kInvalidArgument);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("A key file is read only when it is private and holds exactly 64 hex digits", "[host]") {
    test::TempDir dir;
    auto key = host::read_key_file(secret(dir, "k1", kKeyHex + "\n"));
    REQUIRE(key);
    CHECK(key->expose_secret()[1] == 0x11);
    CHECK(host::read_key_file(secret(dir, "k2", kKeyHex + "\r\n")));
    CHECK(host::read_key_file(secret(dir, "k3", kKeyHex)));
    // Negative neighbours: readable by others, one digit short, one too many, not hex.
    CHECK(host::read_key_file(secret(dir, "k4", kKeyHex, 0644)).error().code ==
          ErrorCode::kFailedPrecondition);
    CHECK(host::read_key_file(secret(dir, "k5", kKeyHex, 0640)).error().code ==
          ErrorCode::kFailedPrecondition);
    CHECK(host::read_key_file(secret(dir, "k6", kKeyHex.substr(1))).error().code ==
          ErrorCode::kInvalidArgument);
    CHECK(host::read_key_file(secret(dir, "k7", kKeyHex + "00")).error().code ==
          ErrorCode::kInvalidArgument);
    CHECK(host::read_key_file(secret(dir, "k8", std::string(64, 'g'))).error().code ==
          ErrorCode::kInvalidArgument);
    CHECK(host::read_key_file(secret(dir, "k9", std::string(1 << 20, 'a'))).error().code ==
          ErrorCode::kInvalidArgument);
    CHECK(host::read_key_file(dir / "none").error().code == ErrorCode::kStorageIo);
}

TEST_CASE("A passphrase file is read without its newline and within 1024 bytes", "[host]") {
    test::TempDir dir;
    auto p = host::read_passphrase_file(secret(dir, "p1", "correct horse\n"));
    REQUIRE(p);
    CHECK(p->expose_secret().size() == 13);
    CHECK(host::read_passphrase_file(secret(dir, "p2", std::string(1024, 'a')))
              ->expose_secret()
              .size() == 1024);
    CHECK(host::read_passphrase_file(secret(dir, "p3", std::string(1025, 'a'))).error().code ==
          ErrorCode::kInvalidArgument);
    CHECK(host::read_passphrase_file(secret(dir, "p4", "\n")).error().code ==
          ErrorCode::kInvalidArgument);
    CHECK(host::read_passphrase_file(secret(dir, "p5", "x", 0604)).error().code ==
          ErrorCode::kFailedPrecondition);
}

TEST_CASE("Public keys are added from PEM files and a bad file is named by its index", "[host]") {
    test::TempDir dir;
    auto signer = keyfile::ExportSigner::generate();
    REQUIRE(signer);
    test::write_text(dir / "good.pem", *signer->public_key_pem());
    test::write_text(dir / "bad.pem",
                     "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
    test::write_text(dir / "huge.pem", std::string(host::kMaxPemFileBytes + 1, 'A'));

    keyfile::TrustStore bound;
    const fs::path one[] = {dir / "good.pem"};
    REQUIRE(host::add_pem_files(bound, one, "262", "v1"));
    CHECK(bound.size() == 1);
    keyfile::TrustStore any;
    REQUIRE(host::add_pem_files(any, one, "", ""));
    CHECK(any.size() == 1);

    keyfile::TrustStore t;
    std::size_t failed = 99;
    const fs::path mixed[] = {dir / "good.pem", dir / "bad.pem", dir / "good.pem"};
    CHECK(host::add_pem_files(t, mixed, "", "", &failed).error().code ==
          ErrorCode::kInvalidArgument);
    CHECK(failed == 1);
    CHECK(t.size() == 1);
    const fs::path big[] = {dir / "huge.pem"};
    CHECK(host::add_pem_files(t, big, "", "", &failed).error().code == ErrorCode::kInvalidArgument);
    const fs::path dev[] = {fs::path("/dev/zero")};
    CHECK(host::add_pem_files(t, dev, "", "", &failed).error().code == ErrorCode::kInvalidArgument);
}
