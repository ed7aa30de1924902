// The whole exposure check through the Tracer on real and synthetic data: heard advertisements
// and key files in, report out, results recorded once per verified file.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include <sotto/bytes.hpp>
#include <sotto/core/payload.hpp>
#include <sotto/tracer.hpp>

#include "integration/keyfile/keyfile_test_support.hpp"
#include "support.hpp"

using namespace sotto;
using namespace sotto::core;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kMar4Noon =
    1614859200;  // 2021-03-04T12:00:00Z: the Feb 19 sightings are 13 days old

store::Credential credential() {
    store::StoreKey key;
    key.expose_secret_mut()[0] = 1;
    return store::Credential::raw_key(std::move(key));
}

Tracer open_tracer(const test::TempDir& dir, const Clock& clock, keyfile::TrustStore trust,
                   TracerOptions o = {}) {
    o.trust = std::move(trust);
    auto t = Tracer::open(dir / "enc.db", credential(), clock, std::move(o));
    REQUIRE(t);
    return std::move(*t);
}

// Feeds observations as a host would: 20-byte service data, RSSI, receive time.
void feed(Tracer& t, const std::vector<Observation>& obs) {
    for (const auto& o : obs) {
        const auto sd = encode_service_data(o.beacon);
        REQUIRE(t.on_advertisement(sd, o.rssi, o.time * 1000));
    }
    REQUIRE(t.flush());
}

Observation observation(std::int64_t t, int rssi, std::string_view rpi_aem_hex) {
    Observation o;
    o.time = t;
    o.rssi = static_cast<std::int8_t>(rssi);
    auto b = decode_service_data(test::hex(rpi_aem_hex));
    REQUIRE(b);
    o.beacon = *b;
    return o;
}

// The 19 real sightings (real_matches.csv). Rows without RSSI (the sensor did not log it) get -90.
std::vector<Observation> real_sightings() {
    const auto rows =
        test::parse_csv(test::read_text(test::gaen_data("cwa-real-2021-03-04/real_matches.csv")));
    REQUIRE(rows.size() == 20);
    REQUIRE(rows[0][2] == "rpi");
    std::vector<Observation> out;
    for (std::size_t i = 1; i < rows.size(); ++i) {
        const auto& r = rows[i];
        out.push_back(
            observation(std::stoll(r[5]), r[7].empty() ? -90 : std::stoi(r[7]), r[2] + r[3]));
    }
    return out;
}

keyfile::TrustStore cwa_trust() {
    keyfile::TrustStore t;
    auto pem =
        test::read_text(test::gaen_data("cwa-real-2021-03-04/cwa_prod_public_key_262-v1.pem"));
    REQUIRE(t.add_pem("262", "v1", pem));
    return t;
}

fs::path real_export() { return test::gaen_data("cwa-real-2021-03-04/export.bin"); }

std::set<std::string> teks_of(const std::vector<MatchedRpi>& m) {
    std::set<std::string> s;
    for (const auto& x : m) s.insert(to_hex(x.diagnosis_key.exposure_key.tek.expose_secret()));
    return s;
}

}  // namespace

TEST_CASE("The 19 real sightings match exactly their 3 TEKs and 4 RPIs in the real German export",
          "[match][data]") {
    test::TempDir dir;
    ManualClock clock(kMar4Noon * 1000);
    auto tracer = open_tracer(dir, clock, cwa_trust());
    feed(tracer, real_sightings());
    CHECK(tracer.status().stored == 19);
    const fs::path files[] = {real_export()};
    auto r = tracer.check_files(files);
    REQUIRE(r);
    REQUIRE(r->files.size() == 1);
    CHECK(r->files[0].verified());
    CHECK(r->files[0].info->keys_valid == 15521);
    REQUIRE(r->matches.size() == 4);
    std::set<std::string> rpis;
    for (const auto& m : r->matches) {
        CHECK(m.status == MatchStatus::kValid);
        CHECK(to_hex(m.metadata) == "5c010000");
        CHECK(m.diagnosis_key.report_type == ReportType::kRecursive);
        rpis.insert(to_hex(m.rpi.bytes));
    }
    CHECK(rpis == std::set<std::string>{
                      "d8d4c97c6d0eed083e13294b6470534b", "3084d3eafab73f90effd8e73c89082be",
                      "29ba38b41aa997aef7bb89096f6d2587", "9596a470f3d3de015e2bf4ce719487c0"});
    CHECK(teks_of(r->matches) == std::set<std::string>{"488b33e1e7361e195da40ece428477ff",
                                                       "1a1a7081aa67a08072844aed3347730f",
                                                       "0db6ce3b190d0546455164b5f9422c52"});
    std::uint32_t packets = 0;
    for (const auto& m : r->matches) packets += m.sightings;
    CHECK(packets == 19);
    // RECURSIVE + DSOS 1 -> CWA transmission risk level 1 -> value 0: windows, but no risk.
    CHECK_FALSE(r->report.windows.empty());
    CHECK(r->report.risk.total_risk_level == CwaRiskLevel::kLow);
    CHECK(r->report.risk.number_of_days_with_low_risk == 0);
    CHECK(r->report.risk.number_of_days_with_high_risk == 0);
    CHECK(r->files[0].matched_rpis == 4);
    // The file and the day results are recorded in the store, once.
    CHECK(r->recorded);
    const auto recorded = tracer.exposure_records();
    REQUIRE(recorded);
    CHECK(recorded->size() == r->report.risk.days.size());
    CHECK(tracer.store_stats()->processed_files == 1);

    // The same file again: skipped as already processed, nothing new recorded.
    clock.advance_ms(3600 * 1000);
    auto again = tracer.check_files(files);
    REQUIRE(again);
    CHECK(again->files[0].status == KeyFileStatus::kAlreadyProcessed);
    CHECK_FALSE(again->files[0].matched());
    CHECK_FALSE(again->files[0].reason);
    CHECK(again->matches.empty());
    CHECK_FALSE(again->recorded);
    CHECK(tracer.exposure_records()->size() == recorded->size());
    CHECK(tracer.status().files_skipped == 1);

    // Asked to rematch: the same matches, still recorded only once.
    auto rematch = tracer.check_files(files, {.rematch = true});
    REQUIRE(rematch);
    CHECK(rematch->files[0].matched());
    CHECK(rematch->matches.size() == 4);
    CHECK_FALSE(rematch->recorded);
    CHECK(tracer.exposure_records()->size() == recorded->size());
}

TEST_CASE("Prefiltered and full matching find the same real matches", "[match][data]") {
    test::TempDir dir;
    ManualClock clock(kMar4Noon * 1000);
    TracerOptions full;
    full.engine.match.prefilter = false;
    auto tracer = open_tracer(dir, clock, cwa_trust(), std::move(full));
    feed(tracer, real_sightings());
    const fs::path files[] = {real_export()};
    auto a = tracer.check_files(files);
    REQUIRE(a);
    CHECK(a->matches.size() == 4);
    CHECK(a->matcher.rpis_derived == 144 * a->matcher.keys_checked);
}

TEST_CASE("A tampered real export is refused and none of its keys match", "[match][data]") {
    test::TempDir dir;
    ManualClock clock(kMar4Noon * 1000);
    auto tracer = open_tracer(dir, clock, cwa_trust());
    feed(tracer, real_sightings());
    auto bin = test::read_file(real_export());
    bin[bin.size() / 2] ^= 0x01;
    test::write_file(dir / "export.bin", bin);
    fs::copy_file(test::gaen_data("cwa-real-2021-03-04/export.sig"), dir / "export.sig");
    const fs::path files[] = {dir / "export.bin", real_export()};
    auto r = tracer.check_files(files, {.rematch = true});
    REQUIRE(r);
    CHECK_FALSE(r->files[0].matched());
    REQUIRE(r->files[0].reason);
    CHECK(r->files[0].reason->code == ErrorCode::kAuthenticationFailed);
    CHECK(r->files[1].verified());
    CHECK(r->matches.size() == 4);  // from the genuine file only
    for (const auto& m : r->matches) CHECK(m.file_index == 1);

    // The same file from memory: tampered bytes refused, genuine bytes verified.
    const auto sig = test::read_file(test::gaen_data("cwa-real-2021-03-04/export.sig"));
    REQUIRE(tracer.import_key_pair(bin, sig, {.rematch = true})->reason);
    const auto genuine_bin = test::read_file(real_export());
    auto from_bytes = tracer.import_key_pair(genuine_bin, sig, {.rematch = true});
    REQUIRE(from_bytes);
    CHECK(from_bytes->verified());
    CHECK(from_bytes->source.empty());
    CHECK(tracer.check()->matches.size() == 4);
    // Without its signature it is unsigned, and refused.
    auto unsigned_file = tracer.import_key_pair(genuine_bin, {}, {.rematch = true});
    REQUIRE(unsigned_file);
    REQUIRE(unsigned_file->reason);
    CHECK(unsigned_file->reason->code == ErrorCode::kUnsigned);
    CHECK(tracer.check()->matches.empty());
}

TEST_CASE("An untrusted real export is refused and a parse-only run is never recorded",
          "[match][data]") {
    test::TempDir dir;
    ManualClock clock(kMar4Noon * 1000);
    // Untrusted: the right file with another authority's key.
    keyfile::TrustStore other;
    REQUIRE(other.add_pem("262", "v1", test::keyfile::generate_p256().public_pem));
    auto tracer = open_tracer(dir, clock, std::move(other));
    feed(tracer, real_sightings());
    const fs::path genuine[] = {real_export()};
    auto u = tracer.check_files(genuine);
    REQUIRE(u);
    CHECK_FALSE(u->files[0].matched());
    REQUIRE(u->files[0].reason);
    CHECK(u->files[0].reason->code ==
          ErrorCode::kAuthenticationFailed);  // "262"/"v1" names a key that does not verify
    CHECK(u->matches.empty());
    CHECK_FALSE(u->recorded);
    // Parse-only matches it, says it is not verified, and records nothing.
    auto p = tracer.check_files(genuine, {.verify = keyfile::VerifyMode::kParseOnly});
    REQUIRE(p);
    CHECK(p->files[0].matched());
    CHECK_FALSE(p->files[0].verified());
    CHECK(p->matches.size() == 4);
    CHECK_FALSE(p->recorded);
    CHECK(tracer.exposure_records()->empty());
    CHECK(tracer.store_stats()->processed_files == 0);
}

TEST_CASE("A real RPI replayed hours after its interval is suspect", "[match][data]") {
    test::TempDir dir;
    ManualClock clock(kMar4Noon * 1000);
    auto obs = real_sightings();
    // Replay the Bürgerpark beacon (interval 2690002, heard 2021-02-22 13:56 UTC) five hours later.
    const auto& original = obs[16];
    REQUIRE(to_hex(original.beacon.rpi.bytes) == "29ba38b41aa997aef7bb89096f6d2587");
    Observation replay = original;
    replay.time += 5 * 3600;
    replay.rssi = -60;
    obs.push_back(replay);
    const fs::path files[] = {real_export()};
    for (bool prefilter : {true, false}) {
        CAPTURE(prefilter);
        test::TempDir d;
        TracerOptions o;
        o.engine.match.prefilter = prefilter;
        auto tracer = open_tracer(d, clock, cwa_trust(), std::move(o));
        feed(tracer, obs);
        auto r = tracer.check_files(files);
        REQUIRE(r);
        REQUIRE(r->matches.size() == 5);
        std::size_t suspects = 0;
        for (const auto& m : r->matches) {
            if (m.status != MatchStatus::kSuspect) continue;
            ++suspects;
            CHECK(to_hex(m.rpi.bytes) == "29ba38b41aa997aef7bb89096f6d2587");
            CHECK(m.first_seen == replay.time);
            CHECK(std::string(m.reason) == "heard too far from the RPI's interval");
        }
        CHECK(suspects == 1);
        CHECK(r->report.suspect_matches == 1);
    }
}

TEST_CASE("End to end with our own signing key: publish, verify, match, score", "[match]") {
    test::TempDir dir;
    DeterministicRng rng(2026);
    const IntervalNumber day = 2690496;  // 2021-02-24
    // Alice tested positive; Bob did too but was never near. A stranger's beacon is noise.
    DiagnosisKey alice, bob;
    for (DiagnosisKey* k : {&alice, &bob}) {
        *k = DiagnosisKey{generate_tek(rng, day), 6, ReportType::kConfirmedTest, 2};
    }
    std::vector<Observation> obs;
    for (int minute = 0; minute < 25; ++minute) {  // 25 minutes on a tram at 08:00, close
        const std::int64_t t = interval_start_seconds(day + 48) + 60 * minute;
        auto b = make_beacon(alice.exposure_key, *interval_number(t),
                             {1, -5, CalibrationConfidence::kHigh});
        REQUIRE(b);
        obs.push_back({t, -62, *b});
        obs.push_back({t + 1, -60, *b});
    }

    const auto authority = test::keyfile::generate_p256();
    auto signer = keyfile::ExportSigner::from_pem(authority.private_pem);
    REQUIRE(signer);
    keyfile::ExportWriteOptions wo;
    wo.key_id = "999";
    wo.key_version = "v1";
    wo.region = "XX";
    wo.start_timestamp = static_cast<std::uint64_t>(interval_start_seconds(day + 144));
    wo.end_timestamp = wo.start_timestamp + 86400;
    wo.padding_keys = 100;
    std::vector<DiagnosisKey> keys;
    keys.push_back(alice.clone());
    keys.push_back(bob.clone());
    REQUIRE(keyfile::write_export_zip(dir / "export.zip", keys, *signer, wo, rng));

    keyfile::TrustStore trust;
    REQUIRE(trust.add_pem("999", "v1", authority.public_pem));
    const std::int64_t now = interval_start_seconds(day + 144 + 72);
    ManualClock clock(now * 1000);
    // Held in memory, as an app holds a download.
    const auto zip = test::read_file(dir / "export.zip");
    // Negative neighbour first: another authority's key refuses the file; nothing is matched.
    keyfile::TrustStore wrong;
    REQUIRE(wrong.add_pem("999", "v1", test::keyfile::generate_p256().public_pem));
    {
        test::TempDir d;
        auto t = open_tracer(d, clock, std::move(wrong));
        feed(t, obs);
        REQUIRE(t.import_key_file(zip));
        auto refused = t.check();
        REQUIRE(refused);
        CHECK_FALSE(refused->files[0].matched());
        CHECK(refused->matches.empty());
        CHECK(refused->report.risk.total_risk_level == CwaRiskLevel::kLow);
    }
    struct Seen {
        std::size_t matches;
        CwaRiskLevel risk;
        bool recorded;
    };
    std::vector<Seen> delivered;
    TracerOptions to;
    to.on_check = [&](const CheckReport& rep) {
        delivered.push_back({rep.matches.size(), rep.report.risk.total_risk_level, rep.recorded});
    };
    auto tracer = open_tracer(dir, clock, std::move(trust), std::move(to));
    feed(tracer, obs);
    REQUIRE(tracer.import_key_file(zip));
    auto r = tracer.check();
    REQUIRE(r);
    REQUIRE(delivered.size() == 1);
    CHECK(delivered[0].matches == r->matches.size());
    CHECK(delivered[0].risk == r->report.risk.total_risk_level);
    CHECK(delivered[0].recorded);
    CHECK(r->files[0].verified());
    CHECK(r->files[0].info->keys_valid == 102);
    CHECK(r->keys.keys == 102);
    REQUIRE(r->matches.size() == 3);  // 25 minutes from 08:00 span three RPI intervals
    for (const auto& m : r->matches) {
        CHECK(m.status == MatchStatus::kValid);
        CHECK(m.diagnosis_key.exposure_key.tek == alice.exposure_key.tek);
        CHECK(to_hex(m.metadata) == "5cfb0000");
    }
    REQUIRE(r->report.encounters.size() == 1);
    CHECK(r->report.encounters[0].min_attenuation_db == -5 - (-60));
    CHECK(r->report.encounters[0].minutes >= 24);
    CHECK(r->report.risk.total_risk_level ==
          CwaRiskLevel::kHigh);  // TRL 8 (test + HIGH), 25 min close
}

TEST_CASE("A FIFO, a device or a directory holding a FIFO is refused at once as a key file",
          "[match]") {
    test::TempDir dir;
    ManualClock clock(kMar4Noon * 1000);
    auto tracer = open_tracer(dir, clock, cwa_trust());
    REQUIRE(::mkfifo((dir / "fifo.zip").c_str(), 0600) == 0);
    fs::create_directory(dir / "exportdir");
    REQUIRE(::mkfifo((dir / "exportdir" / "export.bin").c_str(), 0600) == 0);
    const auto start = std::chrono::steady_clock::now();
    for (const fs::path& p : {dir / "fifo.zip", fs::path("/dev/zero"), dir / "exportdir"}) {
        CAPTURE(p.string());
        auto r = tracer.import_key_file(p);
        REQUIRE(r);
        CHECK_FALSE(r->matched());
        REQUIRE(r->reason);
        CHECK(r->reason->code == ErrorCode::kKeyFileIo);
    }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    // The genuine file in the same round is still matched.
    REQUIRE(tracer.import_key_file(real_export()));
    auto report = tracer.check();
    REQUIRE(report);
    CHECK(report->files.size() == 4);
    CHECK(report->files[3].matched());
}
