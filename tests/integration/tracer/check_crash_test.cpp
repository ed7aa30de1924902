// A check is recorded atomically: a child process checks key files one after another and is
// killed with SIGKILL at random moments. After every kill the store holds, for every file it
// recorded as processed, exactly one exposure record of the day and the key's publication, and
// nothing for a file it did not record; the next check records nothing twice.

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <sotto/clock.hpp>
#include <sotto/core/rolling_id.hpp>
#include <sotto/keyfile/export_writer.hpp>
#include <sotto/store/encounter_store.hpp>
#include <sotto/tracer.hpp>

#include "integration/keyfile/keyfile_test_support.hpp"
#include "integration/tracer/check_crash_common.hpp"
#include "support.hpp"

using namespace sotto;
namespace cc = sotto::test::check_crash;
namespace fs = std::filesystem;

namespace {

constexpr std::uint32_t kFiles = 40;

// The store of the scene: every file's key heard once on kDay (interval 60 + i % 60, -65 dBm).
// Key files signed by one authority whose public key is DIR/trust.pem.
void make_scene(const test::TempDir& dir) {
    const auto authority = test::keyfile::generate_p256();
    test::write_text(dir / "trust.pem", authority.public_pem);
    auto signer = keyfile::ExportSigner::from_pem(authority.private_pem);
    REQUIRE(signer);
    core::DeterministicRng rng(7);
    std::vector<core::Observation> heard;
    const core::Metadata md{1, -5, core::CalibrationConfidence::kHigh};
    for (std::uint32_t i = 0; i < kFiles; ++i) {
        const auto key = cc::key(i);
        const core::IntervalNumber j = cc::kDay + 60 + i % 60;
        auto b = core::make_beacon(key.exposure_key, j, md);
        REQUIRE(b);
        for (int s = 0; s < 5; ++s)
            heard.push_back({core::interval_start_seconds(j) + 30 + 60 * s, -65, *b});
        keyfile::ExportWriteOptions wo;
        wo.key_id = "999";
        wo.key_version = "v1";
        wo.region = "XX";
        wo.end_timestamp = static_cast<std::uint64_t>(cc::kFirstCheck - 600);
        wo.start_timestamp = wo.end_timestamp - 3600;
        std::vector<core::DiagnosisKey> keys;
        keys.push_back(key.clone());
        REQUIRE(keyfile::write_export_zip(dir / cc::file_name(i), keys, *signer, wo, rng));
    }
    ManualClock clock((cc::kFirstCheck - 1800) * 1000);
    auto t = Tracer::open(dir / "t.db", cc::credential(), clock);
    REQUIRE(t);
    auto r = t->ingest(heard);
    REQUIRE(r);
    REQUIRE(r->rejected.empty());
}

struct Recorded {
    std::size_t processed = 0;
    std::size_t publications = 0;
    std::map<std::int64_t, std::vector<std::uint32_t>> days_by_check;  // computed_at -> days
};

Recorded recorded(const test::TempDir& dir) {
    auto s = store::EncounterStore::open(dir / "t.db", cc::credential());
    REQUIRE(s);
    Recorded out;
    const auto stats = s->stats();
    REQUIRE(stats);
    out.processed = stats->processed_files;
    const auto publications = s->key_publications();
    REQUIRE(publications);
    out.publications = publications->size();
    const auto records = s->exposure_records();
    REQUIRE(records);
    for (const auto& rec : *records) out.days_by_check[rec.computed_at].push_back(rec.day);
    return out;
}

// Each processed file recorded exactly one record (of kDay, at its own check time) and its key's
// publication; no file left anything else.
void check_consistent(const Recorded& r) {
    CHECK(r.publications == r.processed);
    CHECK(r.days_by_check.size() == r.processed);
    for (const auto& [at, days] : r.days_by_check) {
        CAPTURE(at);
        CHECK(at >= cc::kFirstCheck);
        CHECK(at < cc::kFirstCheck + kFiles);
        CHECK(days == std::vector<std::uint32_t>{cc::kDay / 144});
    }
}

}  // namespace

TEST_CASE("A check killed at any moment is recorded entirely or not at all, and never twice",
          "[tracer][crash]") {
    test::TempDir dir;
    make_scene(dir);
    const std::vector<std::string> args{SOTTO_CHECK_CRASH_CHILD_PATH, (dir / "t.db").string(),
                                        dir.path().string(), std::to_string(kFiles)};
    std::mt19937 rng(20261207);  // deterministic kill times
    int killed_while_running = 0;
    std::size_t before = 0;
    for (int round = 0; round < 40; ++round) {
        CAPTURE(round);
        test::PipedChild c(args);
        // Kill once the child has recorded a check, at a random moment of the next ones.
        const std::string first = c.read_line();
        const bool running = first.rfind("checked", 0) == 0;
        if (running) {
            std::this_thread::sleep_for(
                std::chrono::microseconds(std::uniform_int_distribution<int>(0, 30'000)(rng)));
        }
        const int status = c.reap(running);
        if (running && WIFSIGNALED(status)) ++killed_while_running;
        if (!running) {
            // Every file was recorded before this round: the child had nothing left to do.
            CHECK(first == "done");
            CHECK(WIFEXITED(status));
            CHECK(WEXITSTATUS(status) == 0);
        }
        const auto r = recorded(dir);
        check_consistent(r);
        CHECK(r.processed >= before);
        before = r.processed;
        if (r.processed == kFiles) break;
    }
    CHECK(killed_while_running > 0);

    // To the end without a kill, then once more: everything recorded once, nothing twice.
    for (int run = 0; run < 2; ++run) {
        test::PipedChild c(args);
        const std::string out = c.read_all();
        const int status = c.reap(false);
        REQUIRE(WIFEXITED(status));
        REQUIRE(WEXITSTATUS(status) == 0);
        CHECK(out.find("done") != std::string::npos);
        if (run == 1) CHECK(out.find(" 1\n") == std::string::npos);  // nothing recorded
    }
    const auto r = recorded(dir);
    check_consistent(r);
    CHECK(r.processed == kFiles);
}

TEST_CASE("record_check writes records, publications and files together, or nothing",
          "[tracer][store]") {
    test::TempDir dir;
    auto s = store::EncounterStore::open(dir / "s.db", cc::credential());
    REQUIRE(s);
    const std::string sha_a(64, 'a'), sha_b(64, 'b');
    store::ExposureRecord rec;
    rec.computed_at = cc::kFirstCheck;
    rec.day = cc::kDay / 144;
    rec.risk_level = 1;
    core::KeyPublication pub;
    pub.tek[0] = 1;
    pub.published_at = cc::kFirstCheck;
    const std::vector<store::ProcessedFile> a{{sha_a, 3}};
    auto first = s->record_check(std::span(&rec, 1), std::span(&pub, 1), a, cc::kFirstCheck);
    REQUIRE(first);
    CHECK(*first);
    // The same file again: nothing written, not even the records.
    auto again = s->record_check(std::span(&rec, 1), std::span(&pub, 1), a, cc::kFirstCheck + 1);
    REQUIRE(again);
    CHECK_FALSE(*again);
    CHECK(s->exposure_records()->size() == 1);
    // Bad input: nothing written at all (neither the records nor the valid file).
    store::ExposureRecord bad = rec;
    bad.risk_level = 3;
    const std::vector<store::ProcessedFile> b{{sha_b, 1}};
    CHECK(s->record_check(std::span(&bad, 1), {}, b, cc::kFirstCheck).error().code ==
          ErrorCode::kInvalidArgument);
    const std::vector<store::ProcessedFile> malformed{{sha_b, 1}, {"xyz", 1}};
    CHECK(s->record_check(std::span(&rec, 1), {}, malformed, cc::kFirstCheck).error().code ==
          ErrorCode::kInvalidArgument);
    CHECK(s->exposure_records()->size() == 1);
    CHECK_FALSE(*s->file_processed(sha_b));
    CHECK(s->key_publications()->size() == 1);
}
