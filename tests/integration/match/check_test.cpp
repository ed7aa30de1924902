// The whole exposure check on real and synthetic data: key files in, store in, report out.
#include <algorithm>
#include <filesystem>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include <sotto/bytes.hpp>
#include <sotto/core/payload.hpp>
#include <sotto/match/check.hpp>

#include "integration/keyfile/keyfile_test_support.hpp"
#include "support.hpp"

using namespace sotto;
using namespace sotto::core;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kMar4Noon = 1614859200;  // 2021-03-04T12:00:00Z: the Feb 19 sightings are 13 days old

store::EncounterStore open_store(const test::TempDir& dir) {
    store::StoreKey key;
    key.expose_secret_mut()[0] = 1;
    auto s = store::EncounterStore::open(dir / "enc.db", store::Credential::raw_key(std::move(key)), {});
    REQUIRE(s);
    return std::move(*s);
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
    const auto rows = test::parse_csv(test::read_text(test::gaen_data("cwa-real-2021-03-04/real_matches.csv")));
    REQUIRE(rows.size() == 20);
    REQUIRE(rows[0][2] == "rpi");
    std::vector<Observation> out;
    for (std::size_t i = 1; i < rows.size(); ++i) {
        const auto& r = rows[i];
        out.push_back(observation(std::stoll(r[5]), r[7].empty() ? -90 : std::stoi(r[7]), r[2] + r[3]));
    }
    return out;
}

keyfile::TrustStore cwa_trust() {
    keyfile::TrustStore t;
    auto pem = test::read_text(test::gaen_data("cwa-real-2021-03-04/cwa_prod_public_key_262-v1.pem"));
    REQUIRE(t.add_pem("262", "v1", pem));
    return t;
}

fs::path real_export() { return test::gaen_data("cwa-real-2021-03-04/export.bin"); }

std::set<std::string> teks_of(const std::vector<match::RpiMatch>& m) {
    std::set<std::string> s;
    for (const auto& x : m) s.insert(to_hex(x.diagnosis_key.exposure_key.tek.expose_secret()));
    return s;
}

}  // namespace

TEST_CASE("The 19 real sightings match exactly their 3 TEKs and 4 RPIs in the real German export",
          "[match][data]") {
    test::TempDir dir;
    auto store = open_store(dir);
    const auto obs = real_sightings();
    REQUIRE(store.ingest(obs, kMar4Noon)->accepted == 19);
    const fs::path files[] = {real_export()};
    auto r = match::check_exposures(store, files, cwa_trust(), kMar4Noon);
    REQUIRE(r);
    REQUIRE(r->files.size() == 1);
    CHECK(r->files[0].verified);
    CHECK(r->files[0].info.keys_valid == 15521);
    REQUIRE(r->matches.size() == 4);
    std::set<std::string> rpis;
    for (const auto& m : r->matches) {
        CHECK(m.status == MatchStatus::kValid);
        CHECK(to_hex(m.metadata) == "5c010000");
        CHECK(m.diagnosis_key.report_type == ReportType::kRecursive);
        rpis.insert(to_hex(m.rpi.bytes));
    }
    CHECK(rpis == std::set<std::string>{"d8d4c97c6d0eed083e13294b6470534b", "3084d3eafab73f90effd8e73c89082be",
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
    // The file and the day results are recorded in the store.
    CHECK(*store.file_processed(r->files[0].info.export_bin_sha256_hex()));
    CHECK(store.exposure_records()->size() == r->report.risk.days.size());
}

TEST_CASE("Prefiltered and full matching find the same real matches", "[match][data]") {
    test::TempDir dir;
    auto store = open_store(dir);
    REQUIRE(store.ingest(real_sightings(), kMar4Noon));
    const fs::path files[] = {real_export()};
    match::CheckOptions full;
    full.engine.match.prefilter = false;
    full.record_results = false;
    auto a = match::check_exposures(store, files, cwa_trust(), kMar4Noon, full);
    REQUIRE(a);
    CHECK(a->matches.size() == 4);
    CHECK(a->matcher.rpis_derived == 144 * a->matcher.keys_checked);
}

TEST_CASE("A tampered real export is refused and none of its keys match", "[match][data]") {
    test::TempDir dir;
    auto store = open_store(dir);
    REQUIRE(store.ingest(real_sightings(), kMar4Noon));
    auto bin = test::read_file(real_export());
    bin[bin.size() / 2] ^= 0x01;
    test::write_file(dir / "export.bin", bin);
    fs::copy_file(test::gaen_data("cwa-real-2021-03-04/export.sig"), dir / "export.sig");
    const fs::path files[] = {dir / "export.bin", real_export()};
    auto r = match::check_exposures(store, files, cwa_trust(), kMar4Noon);
    REQUIRE(r);
    CHECK_FALSE(r->files[0].matched);
    CHECK(r->files[0].error.code == ErrorCode::kAuthenticationFailed);
    CHECK(r->files[1].verified);
    CHECK(r->matches.size() == 4);  // from the genuine file only
    for (const auto& m : r->matches) CHECK(m.file_index == 1);

    // Untrusted: the right file with another authority's key.
    keyfile::TrustStore other;
    REQUIRE(other.add_pem("262", "v1", test::keyfile::generate_p256().public_pem));
    const fs::path genuine[] = {real_export()};
    auto u = match::check_exposures(store, genuine, other, kMar4Noon);
    REQUIRE(u);
    CHECK_FALSE(u->files[0].matched);
    CHECK(u->matches.empty());
    // Parse-only matches it, and says it is not verified.
    match::CheckOptions parse_only;
    parse_only.verify = keyfile::VerifyMode::kParseOnly;
    auto p = match::check_exposures(store, genuine, other, kMar4Noon, parse_only);
    REQUIRE(p);
    CHECK(p->files[0].matched);
    CHECK_FALSE(p->files[0].verified);
    CHECK(p->matches.size() == 4);
}

TEST_CASE("A real RPI replayed hours after its interval is suspect", "[match][data]") {
    test::TempDir dir;
    auto store = open_store(dir);
    auto obs = real_sightings();
    // Replay the Bürgerpark beacon (interval 2690002, heard 2021-02-22 13:56 UTC) five hours later.
    const auto& original = obs[16];
    REQUIRE(to_hex(original.beacon.rpi.bytes) == "29ba38b41aa997aef7bb89096f6d2587");
    Observation replay = original;
    replay.time += 5 * 3600;
    replay.rssi = -60;
    obs.push_back(replay);
    REQUIRE(store.ingest(obs, kMar4Noon));
    const fs::path files[] = {real_export()};
    for (bool prefilter : {true, false}) {
        CAPTURE(prefilter);
        match::CheckOptions o;
        o.engine.match.prefilter = prefilter;
        auto r = match::check_exposures(store, files, cwa_trust(), kMar4Noon, o);
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
    auto store = open_store(dir);
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
        auto b = make_beacon(alice.exposure_key, *interval_number(t), {1, -5, CalibrationConfidence::kHigh});
        REQUIRE(b);
        obs.push_back({t, -62, *b});
        obs.push_back({t + 1, -60, *b});
    }
    REQUIRE(store.ingest(obs, interval_start_seconds(day + 144)));

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
    const fs::path files[] = {dir / "export.zip"};
    auto r = match::check_exposures(store, files, trust, now);
    REQUIRE(r);
    CHECK(r->files[0].verified);
    CHECK(r->files[0].info.keys_valid == 102);
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
    CHECK(r->report.risk.total_risk_level == CwaRiskLevel::kHigh);  // TRL 8 (test + HIGH), 25 min close

    // Negative neighbours: another authority's key refuses the file; nothing is matched.
    keyfile::TrustStore wrong;
    REQUIRE(wrong.add_pem("999", "v1", test::keyfile::generate_p256().public_pem));
    auto refused = match::check_exposures(store, files, wrong, now);
    REQUIRE(refused);
    CHECK_FALSE(refused->files[0].matched);
    CHECK(refused->matches.empty());
    CHECK(refused->report.risk.total_risk_level == CwaRiskLevel::kLow);
}
