// The key updater end to end: a real key server on 127.0.0.1 (or a directory), real signed
// files, a real Tracer with an encrypted store; hostile servers for the cancellation.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <sotto/update/key_updater.hpp>

#include "fetch/fetch_test_support.hpp"
#include "hostile_server.hpp"
#include "integration/tracer/tracer_test_util.hpp"
#include "support.hpp"

using namespace sotto;
using sotto::test::HostileServer;
using sotto::test::kDay0;
namespace fs = std::filesystem;
namespace tf = sotto::test::fetch;

namespace {

void write_bytes(const fs::path& p, const std::vector<std::uint8_t>& b) {
    fs::create_directories(p.parent_path());
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    REQUIRE(f.good());
}

const std::string kGood = "exposureKeyExport-XX/1614600000-00001.zip";
const std::string kForged = "exposureKeyExport-XX/1614600000-00002.zip";

/// Bob heard Alice for 30 minutes; Alice's keys are published in a bucket (signed by the
/// authority Bob trusts) next to a forged file (signed by a key Bob does not trust).
struct Scene {
    test::TempDir tmp;
    fs::path bucket = tmp / "bucket";
    fs::path state = tmp / "state";
    ManualClock clock{(kDay0 + 9 * 3600) * 1000};
    keyfile::TrustStore trust;   // the authority's key: Bob's trust store
    keyfile::TrustStore forger;  // trusts only the forger
    std::optional<Tracer> bob;
    std::size_t rpis = 0;

    Scene() {
        test::TempDir alice_dir;
        auto alice = test::open_at(alice_dir, clock);
        test::Air air;
        for (int s = 0; s < 30 * 60; s += 10) {
            auto a = alice.current_advertisement();
            REQUIRE(a);
            air.emplace_back(a->service_data, clock.now_ms());
            clock.advance_ms(10'000);
        }
        rpis = test::distinct_rpis(air);
        clock.set_ms((kDay0 + 10 * 3600) * 1000);
        auto released = alice.release_own_keys(user_confirmed_upload_of_own_keys());
        REQUIRE(released);
        write_bytes(bucket / kGood, test::publish(*released, trust, kDay0 + 10 * 3600));
        // Other padding: its export.bin differs from the genuine one's.
        write_bytes(bucket / kForged, test::publish(*released, forger, kDay0 + 10 * 3600, 21));
        tf::write_index(bucket, {kGood, kForged});
        clock.set_ms((kDay0 + 12 * 3600) * 1000);
        bob.emplace(open_bob(tmp / "bob", trust));
        for (const auto& [sd, t_ms] : air) REQUIRE(bob->on_advertisement(sd, -55, t_ms));
    }

    Tracer open_bob(const fs::path& dir, keyfile::TrustStore t) {
        fs::create_directories(dir);
        TracerOptions o;
        o.trust = std::move(t);
        auto tr = Tracer::open(dir / "t.db", test::tracer_credential(), clock, std::move(o));
        REQUIRE(tr);
        return std::move(*tr);
    }
};

const UpdateFile& file(const UpdateReport& r, const std::string& path) {
    for (const auto& f : r.files)
        if (f.path == path) return f;
    FAIL("no report entry for " << path);
    return r.files.front();
}

double since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("One round downloads, verifies, checks and marks, and the next one has nothing to do",
          "[update]") {
    Scene s;
    tf::KeyServer server(s.bucket);
    auto u = KeyUpdater::create(*s.bob, fetch::Source{server.url()}, s.state);
    REQUIRE(u);
    auto r = u->run();
    REQUIRE(r);
    CHECK(r->index_status == fetch::IndexStatus::kNew);
    REQUIRE(r->files.size() == 2);
    const auto& good = file(*r, kGood);
    CHECK(good.outcome == UpdateOutcome::kChecked);
    CHECK(good.downloaded);
    CHECK(good.keys == 21);  // one key and 20 padding keys
    const auto& forged = file(*r, kForged);
    CHECK(forged.outcome == UpdateOutcome::kRefused);
    CHECK(forged.reason.code == ErrorCode::kAuthenticationFailed);  // same key name, other key
    REQUIRE(r->check);
    CHECK(r->check->matches.size() == s.rpis);
    CHECK(r->check->report.risk.total_risk_level == core::CwaRiskLevel::kHigh);
    CHECK(r->check->recorded);
    CHECK_FALSE(r->cancelled);
    CHECK(fs::is_empty(s.state / "spool"));  // used and refused files leave the spool

    auto again = u->run();
    REQUIRE(again);
    CHECK(file(*again, kGood).outcome == UpdateOutcome::kUnchanged);
    CHECK(file(*again, kForged).outcome == UpdateOutcome::kStillRefused);
    CHECK_FALSE(again->check);  // nothing new: no check, nothing recorded twice
    CHECK(server.count(kGood, 200) == 1);
    CHECK(server.count(kForged, 200) == 1);
    auto records = s.bob->exposure_records();
    REQUIRE(records);
    CHECK(records->size() == 1);
    CHECK(std::string(update_outcome_name(UpdateOutcome::kStillRefused)) == "still-refused");
}

TEST_CASE("Refusals are forgotten when the trusted keys change, and kept when they do not",
          "[update]") {
    Scene s;
    tf::KeyServer server(s.bucket);
    {
        auto u = KeyUpdater::create(*s.bob, fetch::Source{server.url()}, s.state);
        REQUIRE(u);
        auto r = u->run();
        REQUIRE(r);
        CHECK(r->refusals_forgotten == 0);
        CHECK(file(*r, kForged).outcome == UpdateOutcome::kRefused);
    }
    // The same keys after a restart: still refused, not downloaded again.
    s.bob.reset();
    s.bob.emplace(s.open_bob(s.tmp / "bob", s.trust));
    {
        auto u = KeyUpdater::create(*s.bob, fetch::Source{server.url()}, s.state);
        REQUIRE(u);
        auto r = u->run();
        REQUIRE(r);
        CHECK(r->refusals_forgotten == 0);
        CHECK(file(*r, kForged).outcome == UpdateOutcome::kStillRefused);
    }
    // A device that now trusts the other signer: the refused file is downloaded and checked.
    s.bob.reset();
    s.bob.emplace(s.open_bob(s.tmp / "bob", s.forger));
    auto u = KeyUpdater::create(*s.bob, fetch::Source{server.url()}, s.state);
    REQUIRE(u);
    auto r = u->run();
    REQUIRE(r);
    CHECK(r->refusals_forgotten == 1);
    CHECK(file(*r, kForged).outcome == UpdateOutcome::kChecked);
    CHECK(file(*r, kGood).outcome == UpdateOutcome::kUnchanged);
    CHECK(server.count(kForged, 200) == 2);
    auto next = u->run();
    REQUIRE(next);
    CHECK(next->refusals_forgotten == 0);  // reported once
}

TEST_CASE("A directory source works like a bucket", "[update]") {
    Scene s;
    auto u = KeyUpdater::create(*s.bob, fetch::Source{s.bucket.string()}, s.state);
    REQUIRE(u);
    auto r = u->run();
    REQUIRE(r);
    CHECK(file(*r, kGood).outcome == UpdateOutcome::kChecked);
    CHECK(file(*r, kForged).outcome == UpdateOutcome::kRefused);
    REQUIRE(r->check);
    CHECK(r->check->matches.size() == s.rpis);
}

TEST_CASE("The progress callback sees the phases in order with files and bytes", "[update]") {
    Scene s;
    tf::KeyServer server(s.bucket);
    auto u = KeyUpdater::create(*s.bob, fetch::Source{server.url()}, s.state);
    REQUIRE(u);
    std::vector<UpdateProgress> seen;
    auto r = u->run([&](const UpdateProgress& p) { seen.push_back(p); });
    REQUIRE(r);
    REQUIRE_FALSE(seen.empty());
    CHECK(seen.front().phase == UpdatePhase::kIndex);
    CHECK(seen.back().phase == UpdatePhase::kCheck);
    CHECK(seen.back().files_done == 1);  // the forged file was refused at its import
    bool download = false, import = false;
    int last_phase = 0;
    for (const auto& p : seen) {
        CHECK(static_cast<int>(p.phase) >= last_phase);
        last_phase = static_cast<int>(p.phase);
        CHECK(p.bytes_done <= p.bytes_total);
        if (p.phase == UpdatePhase::kDownload) {
            download = true;
            CHECK(p.files_total == 2);
        }
        if (p.phase == UpdatePhase::kImport) {
            import = true;
            CHECK(p.files_total == 2);
            CHECK(p.bytes_total == file(*r, kGood).bytes + file(*r, kForged).bytes);
        }
    }
    CHECK(download);
    CHECK(import);
}

TEST_CASE("A cancel during the import checks nothing and the next round takes the files",
          "[update][cancel]") {
    Scene s;
    tf::KeyServer server(s.bucket);
    auto u = KeyUpdater::create(*s.bob, fetch::Source{server.url()}, s.state);
    REQUIRE(u);
    auto r = u->run([&](const UpdateProgress& p) {
        if (p.phase == UpdatePhase::kImport) u->cancel();
    });
    REQUIRE(r);
    CHECK(r->cancelled);
    CHECK_FALSE(r->check);
    for (const auto& f : r->files) {
        CHECK(f.outcome == UpdateOutcome::kPostponed);
        CHECK(f.reason.code == ErrorCode::kCancelled);
    }
    auto records = s.bob->exposure_records();
    REQUIRE(records);
    CHECK(records->empty());
    // Next round: from the spool, not downloaded again; checked once.
    auto next = u->run();
    REQUIRE(next);
    CHECK_FALSE(next->cancelled);
    CHECK(file(*next, kGood).outcome == UpdateOutcome::kChecked);
    CHECK_FALSE(file(*next, kGood).downloaded);
    CHECK(file(*next, kForged).outcome == UpdateOutcome::kRefused);
    CHECK(server.count(kGood, 200) == 1);
    REQUIRE(next->check);
    CHECK(next->check->matches.size() == s.rpis);
}

TEST_CASE("A cancel between the imports and the check discards the round", "[update][cancel]") {
    Scene s;
    tf::KeyServer server(s.bucket);
    auto u = KeyUpdater::create(*s.bob, fetch::Source{server.url()}, s.state);
    REQUIRE(u);
    std::size_t imports = 0;
    auto r = u->run([&](const UpdateProgress& p) {
        // The second import starts after the first was imported: cancel then.
        if (p.phase == UpdatePhase::kImport && ++imports == 2) u->cancel();
    });
    REQUIRE(r);
    CHECK(r->cancelled);
    CHECK_FALSE(r->check);
    CHECK(file(*r, kGood).outcome == UpdateOutcome::kPostponed);
    // The open round was discarded: a check now has no file.
    auto empty = s.bob->check();
    REQUIRE(empty);
    CHECK(empty->files.empty());
    auto next = u->run();
    REQUIRE(next);
    REQUIRE(next->check);
    CHECK(next->check->files.size() == 2);  // the good and the forged file, once each
    CHECK(next->check->matches.size() == s.rpis);
}

TEST_CASE("A server that never answers is cancelled within 1 s (no timeout option set)",
          "[update][cancel]") {
    Scene s;
    HostileServer server(HostileServer::Mode::kSilent);
    auto u = KeyUpdater::create(*s.bob, fetch::Source{server.url()}, s.state);
    REQUIRE(u);
    std::chrono::steady_clock::time_point cancelled_at;
    std::thread canceller([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(600));
        cancelled_at = std::chrono::steady_clock::now();
        u->cancel();
    });
    auto r = u->run();
    const double after = since(cancelled_at);
    canceller.join();
    REQUIRE(r);
    CHECK(r->cancelled);
    CHECK(r->index_status == fetch::IndexStatus::kFailed);
    CHECK(r->index_error.code == ErrorCode::kCancelled);
    CHECK(server.requests() == 1);
    CHECK(after < 1.0);
}

TEST_CASE("Each hostile server is cancelled within 1 s, through cancel() or a stop token",
          "[update][cancel]") {
    const auto mode =
        GENERATE(HostileServer::Mode::kDripHeaders, HostileServer::Mode::kRedirectHang,
                 HostileServer::Mode::kMany404, HostileServer::Mode::kIndexThenHang);
    const bool token = GENERATE(false, true);
    CAPTURE(static_cast<int>(mode), token);
    Scene s;
    HostileServer server(mode, 10'000);
    auto u = KeyUpdater::create(*s.bob, fetch::Source{server.url()}, s.state);
    REQUIRE(u);
    std::stop_source stop;
    std::chrono::steady_clock::time_point cancelled_at;
    std::thread canceller([&] {
        std::this_thread::sleep_for(
            std::chrono::milliseconds(mode == HostileServer::Mode::kDripHeaders ? 1500 : 400));
        cancelled_at = std::chrono::steady_clock::now();
        if (token)
            stop.request_stop();
        else
            u->cancel();
    });
    auto r = u->run({}, stop.get_token());
    const double after = since(cancelled_at);
    canceller.join();
    REQUIRE(r);
    CHECK(r->cancelled);
    CHECK_FALSE(r->check);
    if (!r->files.empty()) CHECK(r->files.back().reason.code == ErrorCode::kCancelled);
    CHECK(after < 1.0);
}

TEST_CASE("A cancel with no round running cancels the next round only", "[update][cancel]") {
    Scene s;
    tf::KeyServer server(s.bucket);
    auto u = KeyUpdater::create(*s.bob, fetch::Source{server.url()}, s.state);
    REQUIRE(u);
    u->cancel();
    auto r = u->run();
    REQUIRE(r);
    CHECK(r->cancelled);
    CHECK(server.requests().empty());  // not even the index was asked for
    auto next = u->run();
    REQUIRE(next);
    CHECK_FALSE(next->cancelled);
    CHECK(file(*next, kGood).outcome == UpdateOutcome::kChecked);
}

TEST_CASE("Without a Tracer the updater verifies and delivers, and marks only what it delivered",
          "[update]") {
    Scene s;
    tf::KeyServer server(s.bucket);
    SECTION("report only: verified files stay offered, forged ones are refused") {
        auto u = KeyUpdater::create_verifier(s.trust, {}, fetch::Source{server.url()}, s.state);
        REQUIRE(u);
        for (int round = 0; round < 2; ++round) {
            auto r = u->run();
            REQUIRE(r);
            CHECK(file(*r, kGood).outcome == UpdateOutcome::kPostponed);
            CHECK(file(*r, kGood).reason.code == ErrorCode::kOk);
            CHECK(file(*r, kGood).keys == 21);
            CHECK(file(*r, kForged).outcome ==
                  (round == 0 ? UpdateOutcome::kRefused : UpdateOutcome::kStillRefused));
        }
        CHECK(server.count(kGood, 200) == 1);
    }
    SECTION("delivered files are used; a delivery error ends the round and keeps the file") {
        std::vector<std::string> delivered;
        bool fail = true;
        auto u = KeyUpdater::create_verifier(
            s.trust,
            [&](const UpdateFile& f, const keyfile::ExportInfo& info) -> Result<void> {
                CHECK(fs::is_regular_file(f.spool_file));
                CHECK(info.verified);
                if (fail) return make_error(ErrorCode::kStorageFull, "test: disk full");
                delivered.push_back(f.path);
                return {};
            },
            fetch::Source{server.url()}, s.state);
        REQUIRE(u);
        auto r = u->run();
        REQUIRE_FALSE(r);
        CHECK(r.error().code == ErrorCode::kStorageFull);
        fail = false;
        auto ok = u->run();
        REQUIRE(ok);
        CHECK(file(*ok, kGood).outcome == UpdateOutcome::kChecked);
        CHECK(delivered == std::vector<std::string>{kGood});
        auto again = u->run();
        REQUIRE(again);
        CHECK(file(*again, kGood).outcome == UpdateOutcome::kUnchanged);
        CHECK(delivered.size() == 1);
    }
}

TEST_CASE("The trust fingerprint does not depend on the order keys were added", "[update]") {
    auto a = keyfile::ExportSigner::generate();
    auto b = keyfile::ExportSigner::generate();
    REQUIRE(a);
    REQUIRE(b);
    keyfile::TrustStore one, two, other;
    REQUIRE(one.add_pem("1", "v1", *a->public_key_pem()));
    REQUIRE(one.add_pem("2", "v1", *b->public_key_pem()));
    REQUIRE(two.add_pem("2", "v1", *b->public_key_pem()));
    REQUIRE(two.add_pem("1", "v1", *a->public_key_pem()));
    REQUIRE(other.add_pem("1", "v2", *a->public_key_pem()));  // same key, other version
    REQUIRE(other.add_pem("2", "v1", *b->public_key_pem()));
    CHECK(*one.fingerprint() == *two.fingerprint());
    CHECK(*one.fingerprint() != *other.fingerprint());
    CHECK(*keyfile::TrustStore().fingerprint() != *one.fingerprint());
}
