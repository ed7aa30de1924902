// Crash safety: a child process ingests (or rekeys) and is killed with SIGKILL at random moments.
// After every kill the store must open, pass PRAGMA integrity_check, and hold every batch the child
// reported as committed; a batch is either entirely there or not at all.

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <sotto/bytes.hpp>
#include <sotto/store/encounter_store.hpp>

#include "crash_common.hpp"
#include "store_test_util.hpp"

using namespace sotto;
using namespace sotto::test;
using store::EncounterStore;

namespace {

std::string child_path() { return SOTTO_CRASH_CHILD_PATH; }

struct BatchContent {
    std::uint32_t rows = 0;
    std::uint64_t packets = 0;
};

std::map<std::uint32_t, BatchContent> batches_in(EncounterStore& s) {
    std::map<std::uint32_t, BatchContent> out;
    REQUIRE(s.for_each_sighting([&](const core::Sighting& x) {
        auto& b = out[crash::batch_of(x.rpi)];
        ++b.rows;
        b.packets += x.count;
        return true;
    }));
    return out;
}

}  // namespace

TEST_CASE("Killing an ingesting process at random moments loses no committed batch (50 rounds)",
          "[store][crash]") {
    TempDir dir;
    const auto p = dir / "crash.db";
    std::mt19937 rng(20240611);  // deterministic kill times
    std::set<std::uint32_t> reported;
    std::set<std::uint32_t> attempted_rounds;
    int killed_while_running = 0;
    for (std::uint32_t round = 0; round < 50; ++round) {
        CAPTURE(round);
        const std::uint32_t first = round * 100000;
        PipedChild c({child_path(), "ingest", p.string(), std::to_string(first), "1"});
        // Even rounds: kill at a random moment after the start (creation, migration, opening,
        // first batches). Odd rounds: once ingest is under way, at a random moment after the first
        // commit, so kills land between and inside commits whatever the machine's load.
        std::string out;
        if (round % 2 == 1) {
            out = c.read_line();
            if (out.rfind("committed", 0) != 0) FAIL("child did not commit: " << out);
            out += "\n";
        }
        const auto delay = std::uniform_int_distribution<int>(0, 60)(rng);
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
        const int status = c.reap(true);
        out += c.read_all();
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
            ++killed_while_running;
        else
            FAIL("child ended on its own: " << out);
        std::istringstream lines(out);
        std::string word;
        std::uint32_t b = 0;
        while (lines >> word >> b) {
            REQUIRE(word == "committed");
            reported.insert(b);
        }

        auto s = EncounterStore::open(p, store::Credential::raw_key(crash::key(1)));
        REQUIRE(s.has_value());
        REQUIRE(s->verify().has_value());  // PRAGMA integrity_check says ok, every row decodes
        const auto found = batches_in(*s);
        for (std::uint32_t r : reported) {
            CAPTURE(r);
            REQUIRE(found.count(r) == 1);
        }
        for (const auto& [batch, content] : found) {
            CAPTURE(batch);
            // All or nothing: a batch is one transaction.
            CHECK(content.rows == crash::kRpisPerBatch);
            CHECK(content.packets == std::uint64_t{crash::kRpisPerBatch} * crash::kPacketsPerRpi);
            CHECK(batch / 100000 <= round);
        }
    }
    CHECK(killed_while_running == 50);
    // The kills landed in the middle of work: many batches were committed across the rounds.
    CHECK(reported.size() >= 25);
}

TEST_CASE("Killing a process during rekey leaves exactly one working credential",
          "[store][crash][rekey]") {
    TempDir dir;
    const auto p = dir / "rekey.db";
    std::uint64_t rows = 0;
    {
        auto s = EncounterStore::open(p, store::Credential::raw_key(crash::key(1)));
        REQUIRE(s.has_value());
        for (std::uint32_t b = 0; b < 60; ++b) {
            auto r = s->ingest(crash::batch(b), crash::kNow);
            REQUIRE(r.has_value());
            rows += r->new_rows;
        }
    }
    std::uint8_t current = 1;
    std::mt19937 rng(777);
    // Calibrate: how long does a rekey of this store take?
    double rekey_ms = 0;
    {
        PipedChild c({child_path(), "rekey", p.string(), "1", "2"});
        REQUIRE(c.read_line() == "ready");
        const auto t0 = std::chrono::steady_clock::now();
        REQUIRE(c.read_line() == "rekeyed");
        rekey_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                       .count();
        const int status = c.reap(false);
        REQUIRE(WIFEXITED(status));
        REQUIRE(WEXITSTATUS(status) == 0);
        current = 2;
    }
    // At least 12 rounds, and more (up to 40) until 3 kills landed inside a rekey: how long a
    // rekey takes depends on the machine's load.
    int in_flight = 0;
    for (int round = 0; round < 40 && (round < 12 || in_flight < 3); ++round) {
        CAPTURE(round);
        const std::uint8_t next = static_cast<std::uint8_t>(current == 2 ? 3 : 2);
        PipedChild c(
            {child_path(), "rekey", p.string(), std::to_string(current), std::to_string(next)});
        REQUIRE(c.read_line() == "ready");
        const auto delay = std::uniform_real_distribution<double>(0, rekey_ms)(rng);
        std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(delay));
        const int status = c.reap(true);
        const bool finished = c.read_all().find("rekeyed") != std::string::npos;
        if (WIFSIGNALED(status) && !finished) ++in_flight;

        auto with_current =
            EncounterStore::open(p, store::Credential::raw_key(crash::key(current)));
        auto with_next = EncounterStore::open(p, store::Credential::raw_key(crash::key(next)));
        CAPTURE(finished);
        REQUIRE(with_current.has_value() != with_next.has_value());
        auto& good = with_current ? with_current : with_next;
        const auto& bad = with_current ? with_next : with_current;
        CHECK(bad.error().code == ErrorCode::kStorageWrongKey);
        if (finished) CHECK(with_next.has_value());
        REQUIRE(good->verify().has_value());
        CHECK(good->stats()->sightings == rows);
        if (with_next) current = next;
    }
    // Close both, then the survivor opens cleanly with a single side-file entry.
    auto s = EncounterStore::open(p, store::Credential::raw_key(crash::key(current)));
    REQUIRE(s.has_value());
    CHECK(std::filesystem::file_size(dir / "rekey.db.kdf") == 16 + 48 + 16);
    CHECK(in_flight >= 1);
}

namespace {

/// What must never be found in plain text in the store's files after a kill: the store key, and
/// RPIs of the 4 committed batches (raw and as hex).
std::vector<std::vector<std::uint8_t>> secret_needles() {
    std::vector<std::vector<std::uint8_t>> needles;
    const auto key = crash::key(1);
    needles.emplace_back(key.expose_secret().begin(), key.expose_secret().end());
    for (std::uint32_t b = 0; b < 4; ++b)
        for (std::uint32_t i = 0; i < crash::kRpisPerBatch; i += 7) {
            const auto r = crash::rpi(b, i);
            needles.emplace_back(r.bytes.begin(), r.bytes.end());
            const std::string h = to_hex(r.bytes);
            needles.emplace_back(h.begin(), h.end());
        }
    return needles;
}

}  // namespace

// The files legitimately hold runs of zero bytes next to random ones (the side file's entry
// header is 0x01 and 15 zero bytes, then a random salt; the WAL index is sparse). A needle that
// such bytes can spell by chance makes the secrets test below flaky, not stronger.
TEST_CASE("No secrets-test needle can be spelled by zero padding and one random byte",
          "[store][crash][secrets]") {
    std::vector<std::uint8_t> padding;
    for (int v = 0; v < 256; ++v) {
        padding.insert(padding.end(), 32, 0x00);
        padding.push_back(static_cast<std::uint8_t>(v));
        padding.push_back(0x01);  // the side file's raw-key kind byte
        padding.insert(padding.end(), 32, 0x00);
        padding.push_back(static_cast<std::uint8_t>(v));
    }
    for (const auto& n : secret_needles()) {
        CAPTURE(to_hex(n));
        CHECK(std::search(padding.begin(), padding.end(), n.begin(), n.end()) == padding.end());
    }
}

TEST_CASE("A killed process leaves only encrypted files behind, WAL included",
          "[store][crash][secrets]") {
    TempDir dir;
    const auto p = dir / "killed.db";
    PipedChild c({child_path(), "ingest", p.string(), "0", "1"});
    for (int i = 0; i < 4; ++i) REQUIRE(c.read_line().rfind("committed", 0) == 0);
    c.reap(true);
    const auto files = snapshot(dir.path());
    REQUIRE(files.count("killed.db-wal") == 1);
    CHECK(files.at("killed.db-wal").size() > 4096);  // the WAL was not checkpointed away
    const auto needles = secret_needles();
    for (const auto& [name, bytes] : files) {
        CAPTURE(name);
        for (const auto& n : needles)
            CHECK(std::search(bytes.begin(), bytes.end(), n.begin(), n.end()) == bytes.end());
    }
    CHECK(std::memcmp(files.at("killed.db").data(), "SQLite format 3", 16) != 0);
    // And the store comes back with what was committed.
    auto s = EncounterStore::open(p, store::Credential::raw_key(crash::key(1)));
    REQUIRE(s.has_value());
    CHECK(s->stats()->sightings >= 4 * crash::kRpisPerBatch);
}
