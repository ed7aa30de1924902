// Attacks on matching: forged and garbled copies of an RPI, keys used after they were published,
// phones that overrun the 20-minute rule. Real store, real signed key files.
#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include <sotto/clock.hpp>
#include <sotto/tracer.hpp>

#include "integration/keyfile/keyfile_test_support.hpp"
#include "integration/tracer/authority_scene.hpp"
#include "support.hpp"

using namespace sotto;
using namespace sotto::core;
namespace fs = std::filesystem;

namespace {

constexpr IntervalNumber kDay = 2690496;  // 2021-02-24
constexpr Metadata kGenuine = test::AuthorityScene::kGenuineMetadata;

// One positive key (TRL 6, confirmed test, DSOS 2: high infectiousness with CWA's mapping), a
// store, and a signed export carrying the key.
struct Scene : test::AuthorityScene {
    std::vector<Observation> heard;

    Scene() : AuthorityScene(77, kDay) {}

    void hear(std::int64_t t, int rssi, const Beacon& b) {
        heard.push_back({t, static_cast<std::int8_t>(rssi), b});
    }

    // Writes export.zip covering [start, end] and runs the check at `now`.
    CheckReport check(std::int64_t end_timestamp, std::int64_t now) {
        Tracer& t = at(now);
        auto ingested = t.ingest(heard);
        REQUIRE(ingested);
        REQUIRE(ingested->rejected.empty());
        auto signer = keyfile::ExportSigner::from_pem(authority.private_pem);
        REQUIRE(signer);
        keyfile::ExportWriteOptions wo;
        wo.key_id = "999";
        wo.key_version = "v1";
        wo.region = "XX";
        wo.start_timestamp = static_cast<std::uint64_t>(end_timestamp - 3600);
        wo.end_timestamp = static_cast<std::uint64_t>(end_timestamp);
        std::vector<DiagnosisKey> keys;
        keys.push_back(key.clone());
        REQUIRE(keyfile::write_export_zip(dir / "export.zip", keys, *signer, wo, rng));
        const fs::path files[] = {dir / "export.zip"};
        auto r = t.check_files(files, ImportOptions{});
        REQUIRE(r);
        REQUIRE(r->files[0].verified());
        return std::move(*r);
    }
};

std::size_t count_status(const CheckReport& r, MatchStatus st) {
    return static_cast<std::size_t>(std::count_if(
        r.matches.begin(), r.matches.end(), [&](const MatchedRpi& m) { return m.status == st; }));
}

// The AEM of `b` with its metadata changed from `from` to `to` (AES-CTR: flip the same bits).
Beacon with_metadata(Beacon b, const Metadata& from, const Metadata& to) {
    const auto a = encode_metadata(from), c = encode_metadata(to);
    for (std::size_t i = 0; i < 4; ++i) b.aem.bytes[i] ^= static_cast<std::uint8_t>(a[i] ^ c[i]);
    return b;
}

const std::int64_t kNextDay = interval_start_seconds(kDay + 144);

}  // namespace

TEST_CASE("A garbled copy heard with two genuine packets does not cancel the exposure",
          "[match][hostile]") {
    Scene s;
    const IntervalNumber j = kDay + 48;
    const std::int64_t t = interval_start_seconds(j) + 60;
    const Beacon genuine = s.beacon(j);
    Beacon garbled = genuine;
    garbled.aem.bytes[3] ^= 0x01;  // last AEM byte: a reserved metadata byte
    s.hear(t, -60, genuine);
    s.hear(t + 30, -60, genuine);
    s.hear(t + 45, -60, garbled);
    auto r = s.check(kNextDay + 7200, kNextDay + 6 * 3600);
    REQUIRE(r.report.windows.size() == 1);
    CHECK(count_status(r, MatchStatus::kValid) == 1);
    CHECK(count_status(r, MatchStatus::kSuspect) == 1);
    for (const auto& m : r.matches) {
        CHECK(m.metadata_disputed);
        if (m.status == MatchStatus::kValid) {
            CHECK(m.metadata == encode_metadata(kGenuine));
            CHECK(m.sightings == 2);
        } else {
            CHECK(std::string(m.reason) == "metadata not well-formed");
            CHECK(m.sightings == 1);
        }
    }
    REQUIRE(r.report.encounters.size() == 1);
    CHECK(r.report.encounters[0].metadata_disputed);
    CHECK(r.report.disputed_matches == 1);

    // Negative neighbour: without the garbled copy nothing is disputed.
    Scene clean;
    clean.hear(t, -60, genuine);
    clean.hear(t + 30, -60, genuine);
    auto c = clean.check(kNextDay + 7200, kNextDay + 6 * 3600);
    REQUIRE(c.report.windows.size() == 1);
    REQUIRE(c.matches.size() == 1);
    CHECK_FALSE(c.matches[0].metadata_disputed);
    CHECK(c.report.disputed_matches == 0);
}

TEST_CASE("A forged copy heard before the genuine beacon neither hides it nor sets its attenuation",
          "[match][hostile]") {
    Scene s;
    const IntervalNumber j = kDay + 60;
    const Beacon genuine = s.beacon(j);
    const Metadata loud{1, 15, CalibrationConfidence::kHigh};
    const Beacon forged = with_metadata(genuine, kGenuine, loud);
    // Relayed with +15 dBm claimed TX power within interval j; the phone itself is heard only in
    // j + 1 (it rotated late), weakly.
    s.hear(interval_start_seconds(j) + 500, -45, forged);
    for (int i = 0; i < 6; ++i) s.hear(interval_start_seconds(j + 1) + 20 + 30 * i, -70, genuine);
    auto r = s.check(kNextDay + 7200, kNextDay + 6 * 3600);
    bool genuine_valid = false;
    for (const auto& m : r.matches) {
        CHECK(m.metadata_disputed);
        if (m.status == MatchStatus::kValid && m.metadata == encode_metadata(kGenuine)) {
            genuine_valid = true;
            CHECK(m.sightings == 6);
            CHECK(m.rssi_max == -70);
        }
    }
    CHECK(genuine_valid);
    // The genuine packets are scored with the genuine TX power only: -5 - (-70) = 65 dB.
    bool genuine_encounter = false;
    for (const auto& e : r.report.encounters)
        if (e.min_attenuation_db == 65) genuine_encounter = true;
    CHECK(genuine_encounter);
    // No scan combines the forged TX power with the genuine packets' RSSI (15 - (-70) = 85 dB).
    for (const auto& w : r.report.windows)
        for (const auto& si : w.scan_instances) CHECK(si.min_attenuation_db != 85);
}

TEST_CASE("Forged copies of RPIs the victim never heard do not turn the genuine ones suspect",
          "[match][hostile]") {
    // The relayer follows the positive person, records every RPI and replays all of them to the
    // victim with another TX power: the RPI the victim also heard from the phone is disputed, the
    // others are forged copies only. The genuine packets stay valid and keep the genuine metadata.
    Scene s;
    const IntervalNumber j = kDay + 60;
    const Metadata near{1, -40, CalibrationConfidence::kHigh};
    const Beacon genuine = s.beacon(j);
    s.hear(interval_start_seconds(j) + 100, -50, with_metadata(genuine, kGenuine, near));
    s.hear(interval_start_seconds(j) + 130, -70, genuine);
    s.hear(interval_start_seconds(j + 2) + 100, -50,
           with_metadata(s.beacon(j + 2), kGenuine, near));
    auto r = s.check(kNextDay + 7200, kNextDay + 6 * 3600);
    bool genuine_valid = false;
    for (const auto& m : r.matches) {
        CHECK(m.status == MatchStatus::kValid);
        if (m.metadata == encode_metadata(kGenuine)) {
            genuine_valid = true;
            CHECK(m.metadata_disputed);
            CHECK(m.rssi_max == -70);
        }
    }
    CHECK(genuine_valid);
    // Scored with the genuine metadata: -5 - (-70) = 65 dB; never -5 - (-50) or -40 - (-70).
    bool genuine_scan = false;
    for (const auto& w : r.report.windows)
        for (const auto& si : w.scan_instances) {
            CHECK(si.min_attenuation_db != 45);
            CHECK(si.min_attenuation_db != 30);
            if (si.min_attenuation_db == 65) genuine_scan = true;
        }
    CHECK(genuine_scan);
}

TEST_CASE("A phone heard for 20.4 minutes is not a replay, a copy an hour later is",
          "[match][hostile]") {
    Scene s;
    const IntervalNumber j = kDay + 30;
    const Beacon b = s.beacon(j);
    // As in the German sensor logs: a packet every ~35 s, from 10 s before the end of interval j
    // to 20.4 minutes later (three more receiver intervals).
    const std::int64_t t0 = interval_start_seconds(j) + 590;
    for (std::int64_t dt = 0; dt <= 1224; dt += 34)
        s.hear(t0 + std::min<std::int64_t>(dt, 1224), -65, b);
    s.hear(t0 + 1224, -65, b);
    auto r = s.check(kNextDay + 7200, kNextDay + 6 * 3600);
    CHECK(count_status(r, MatchStatus::kSuspect) == 0);
    CHECK(count_status(r, MatchStatus::kValid) >= 1);

    // Negative neighbour: the same beacon heard again an hour later (still within the ±1 h
    // tolerance of its interval) is a replay.
    Scene later;
    const Beacon b2 = later.beacon(j);
    later.hear(t0, -65, b2);
    later.hear(t0 + 3600, -65, b2);
    auto q = later.check(kNextDay + 7200, kNextDay + 6 * 3600);
    REQUIRE(count_status(q, MatchStatus::kSuspect) == 1);
    for (const auto& m : q.matches)
        if (m.status == MatchStatus::kSuspect)
            CHECK(std::string(m.reason) == "heard again too long after its first sighting");
}

TEST_CASE("An RPI forged from a published key and heard after publication is suspect",
          "[match][hostile]") {
    Scene s;
    // The key's last RPI (interval 143 of its day), computed by an attacker from the published key
    // and broadcast at 00:50 the next day, within the ±1 h tolerance. The file was published at
    // 00:30.
    const IntervalNumber j = kDay + 143;
    s.hear(kNextDay + 50 * 60, -50, s.beacon(j));
    auto r = s.check(kNextDay + 30 * 60, kNextDay + 2 * 3600);
    REQUIRE(r.matches.size() == 1);
    CHECK(r.matches[0].status == MatchStatus::kSuspect);
    CHECK(std::string(r.matches[0].reason) == "heard after the key was published");
    CHECK(r.report.windows.empty());

    // Negative neighbour: the same sighting with the file published after it is genuine.
    Scene g;
    g.hear(kNextDay + 50 * 60, -50, g.beacon(j));
    auto v = g.check(kNextDay + 3600, kNextDay + 2 * 3600);
    REQUIRE(v.matches.size() == 1);
    CHECK(v.matches[0].status == MatchStatus::kValid);
}

TEST_CASE("A check shortly after midnight matches the keys of the day before", "[match][hostile]") {
    Scene s;
    s.hear(interval_start_seconds(kDay + 138) + 30, -55, s.beacon(kDay + 138));  // 23:00
    // The file (published 00:30) is checked at 00:40.
    auto r = s.check(kNextDay + 30 * 60, kNextDay + 40 * 60);
    REQUIRE(r.matches.size() == 1);
    CHECK(r.matches[0].status == MatchStatus::kValid);
    CHECK(r.keys.keys == 1);
    CHECK_FALSE(r.report.windows.empty());
}
