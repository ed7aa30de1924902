// Hostile inputs to the sotto CLI, run as child processes under `timeout` and a memory limit:
// endless streams, huge files, FIFOs in place of every file sotto reads.
#include <sys/stat.h>
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support.hpp"

using sotto::test::cli_path;
using sotto::test::ProcessResult;
using sotto::test::run_process;
using sotto::test::TempDir;

namespace {

const std::string kKeyHex = "00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210";
const std::string kSd1 = "8be6cd371c5c891604bfbe49df84509672033874";
constexpr int kTimedOut = 124;  // timeout(1)'s exit status

std::string quote(const std::string& s) { return "'" + s + "'"; }

// Runs `sotto ARGS < STDIN` with at most `seconds` and 1 GiB of address space (no address-space
// limit in sanitizer builds: their shadow memory needs terabytes of it; time still bounds them).
ProcessResult sotto_limited(const std::string& args, const std::string& stdin_path = "/dev/null",
                            int seconds = 20) {
#if defined(SOTTO_TESTS_SANITIZED)
    const std::string limit;
#else
    const std::string limit = "ulimit -v 1048576; ";
#endif
    const std::string script = limit + "exec timeout -s KILL " + std::to_string(seconds) + " " +
                               quote(cli_path()) + " " + args + " < " + quote(stdin_path);
    return run_process({"/bin/sh", "-c", script});
}

struct Files {
    TempDir dir;
    std::string key = (dir / "key").string();
    std::string db = (dir / "s.db").string();
    std::string store_args =
        "--store " + quote(db) + " --key-file " + quote(key) + " --now 1700000000";
    Files() {
        sotto::test::write_text(dir / "key", kKeyHex);
        std::filesystem::permissions(dir / "key", std::filesystem::perms(0600));
    }
    std::string fifo(const std::string& name) {
        const auto p = dir / name;
        REQUIRE(::mkfifo(p.c_str(), 0600) == 0);
        return p.string();
    }
};

}  // namespace

TEST_CASE(
    "sotto ingest from an endless stream without newlines stops with an error in bounded memory",
    "[cli][hostile]") {
    Files f;
    // A few good lines first: they are kept.
    sotto::test::write_text(f.dir / "good.csv", "1699999000,-60," + kSd1 + "\n");
    REQUIRE(sotto_limited("ingest " + f.store_args + " " + quote((f.dir / "good.csv").string()))
                .exit_code == 0);
    auto r = sotto_limited("ingest " + f.store_args + " -", "/dev/zero");
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("line 1: longer than 1024 bytes") != std::string::npos);
    auto st = sotto_limited("store stats " + f.store_args);
    CHECK(st.out.rfind("{\"sightings\":1,", 0) == 0);
    // Negative neighbour: a normal line of the same stream shape is read.
    auto ok = run_process(
        {cli_path(), "ingest", "--store", f.db, "--key-file", f.key, "--now", "1700000000", "-"},
        "1699999100,-61," + kSd1 + "\n");
    CHECK(ok.exit_code == 0);
}

TEST_CASE("sotto refuses a FIFO or a device in place of every file it reads, without hanging",
          "[cli][hostile]") {
    Files f;
    REQUIRE(sotto_limited("ingest " + f.store_args + " -").exit_code == 0);  // creates the store
    const std::string fifo = f.fifo("pipe");
    SECTION("the key file") {
        auto r = sotto_limited("store stats --store " + quote(f.db) + " --key-file " + quote(fifo));
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("not a regular file") != std::string::npos);
    }
    SECTION("the passphrase file") {
        auto r = sotto_limited("store stats --store " + quote(f.db) + " --passphrase-file " +
                               quote(fifo));
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("not a regular file") != std::string::npos);
    }
    SECTION("the sightings file") {
        auto r = sotto_limited("ingest " + f.store_args + " " + quote(fifo));
        CHECK(r.exit_code == 1);
        CHECK(r.err.find("not a regular file") != std::string::npos);
    }
    SECTION("--pubkey") {
        for (const std::string& p : {fifo, std::string("/dev/zero")}) {
            auto r = sotto_limited("match " + f.store_args + " --pubkey " + quote(p) + " " +
                                   quote(fifo));
            CHECK(r.exit_code == 2);
            CHECK(r.err.find("--pubkey") != std::string::npos);
            CHECK(r.err.find("not a regular file") != std::string::npos);
        }
    }
    SECTION("export.zip, export.bin and export.sig") {
        // export.zip as a FIFO.
        auto zip = sotto_limited("match " + f.store_args + " --no-verify " + quote(fifo));
        CHECK(zip.exit_code == 3);
        CHECK(zip.err.find("not a regular file") != std::string::npos);
        // export.bin beside a FIFO export.sig.
        const auto bin = f.dir / "x" / "export.bin";
        std::filesystem::create_directories(bin.parent_path());
        sotto::test::write_text(bin, "EK Export v1    ");
        REQUIRE(::mkfifo((f.dir / "x" / "export.sig").c_str(), 0600) == 0);
        auto sig = sotto_limited("match " + f.store_args + " --no-verify " + quote(bin.string()));
        CHECK(sig.exit_code == 3);
        CHECK(sig.err.find("not a regular file") != std::string::npos);
        // A directory whose export.bin is a FIFO.
        const auto dir2 = f.dir / "y";
        std::filesystem::create_directories(dir2);
        REQUIRE(::mkfifo((dir2 / "export.bin").c_str(), 0600) == 0);
        auto d = sotto_limited("match " + f.store_args + " --no-verify " + quote(dir2.string()));
        CHECK(d.exit_code == 3);
        CHECK(d.err.find("not a regular file") != std::string::npos);
        // export inspect reads the same way.
        auto insp = sotto_limited("export inspect " + quote(fifo));
        CHECK(insp.exit_code != kTimedOut);
        CHECK(insp.exit_code != 0);
    }
}

TEST_CASE("sotto refuses oversized key and PEM files with a clear error", "[cli][hostile]") {
    Files f;
    REQUIRE(sotto_limited("ingest " + f.store_args + " -").exit_code == 0);
    const auto big = f.dir / "big.pem";
    sotto::test::write_text(big, std::string((1 << 20) + 1, 'A'));
    auto r = sotto_limited("match " + f.store_args + " --pubkey " + quote(big.string()) + " " +
                           quote(big.string()));
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--pubkey") != std::string::npos);
    CHECK(r.err.find("larger than") != std::string::npos);
    // A zip larger than export.bin + export.sig may be (32 MiB + 64 KiB + 1 MiB): refused before
    // libzip reads it. A sparse file: no disk space needed.
    const auto huge = f.dir / "huge.zip";
    sotto::test::write_text(huge, "PK");
    std::filesystem::resize_file(huge, std::uint64_t{40} << 20);
    auto z = sotto_limited("match " + f.store_args + " --no-verify " + quote(huge.string()));
    CHECK(z.exit_code == 3);
    CHECK(z.err.find("larger than the limit") != std::string::npos);
    // A sightings file over 4 GiB (sparse again).
    const auto csv = f.dir / "huge.csv";
    sotto::test::write_text(csv, "1699999000,-60," + kSd1 + "\n");
    std::filesystem::resize_file(csv, (std::uint64_t{4} << 30) + 1);
    auto i = sotto_limited("ingest " + f.store_args + " " + quote(csv.string()));
    CHECK(i.exit_code == 1);
    CHECK(i.err.find("larger than") != std::string::npos);
    // Negative neighbour: the same line in a small file is stored.
    sotto::test::write_text(csv, "1699999000,-60," + kSd1 + "\n");
    CHECK(sotto_limited("ingest " + f.store_args + " " + quote(csv.string())).exit_code == 0);
}

TEST_CASE("sotto match shows its progress on a terminal and nowhere else", "[cli][match]") {
    Files f;
    REQUIRE(sotto_limited("ingest " + f.store_args + " -").exit_code == 0);  // creates the store
    const auto junk = f.dir / "junk.zip";
    sotto::test::write_text(junk, "not a zip");
    const std::string args = "match " + f.store_args + " --no-verify " + quote(junk.string());
    // A terminal (script(1) gives the command a pseudo-terminal): "checking 1/1 FILE", then the
    // matching line.
    auto tty =
        run_process({"/usr/bin/script", "-qec",
                     "exec timeout -s KILL 20 " + quote(cli_path()) + " " + args, "/dev/null"});
    INFO(tty.out << tty.err);
    CHECK(tty.out.find("checking 1/1 ") != std::string::npos);
    CHECK(tty.out.find("matching 1 files") != std::string::npos);
    // Negative neighbour: stderr is a pipe, so no progress (only the refusal of the junk file).
    auto pipe = sotto_limited(args);
    CHECK(pipe.exit_code == 3);
    CHECK(pipe.err.find("checking") == std::string::npos);
    CHECK(pipe.err.find("refused") != std::string::npos);
}
