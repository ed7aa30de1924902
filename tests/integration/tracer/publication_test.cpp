// The publication rule through the Tracer, with a real store and real signed key files: a key's
// first publication decides across checks and within one, packets relayed into a genuine row after
// publication do not count, and a clock that is behind does not make genuine sightings suspect.
#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include <sotto/clock.hpp>
#include <sotto/tracer.hpp>

#include "integration/keyfile/keyfile_test_support.hpp"
#include "integration/tracer/authority_scene.hpp"
#include "store/database.hpp"
#include "store/store_access.hpp"
#include "support.hpp"

using namespace sotto;
using namespace sotto::core;
namespace fs = std::filesystem;

namespace {

constexpr IntervalNumber kDay = 2690496;  // 2021-02-24
constexpr char kAfter[] = "heard after the key was published";
const std::int64_t kNextDay = interval_start_seconds(kDay + 144);
// The hourly file with the same-day key (00:10) and the daily file with it again, 20 h later.
const std::int64_t kP1 = kNextDay + 10 * 60;
const std::int64_t kP2 = kP1 + 20 * 3600;

// A device (store, Tracer, manual clock) and a health authority publishing one positive key.
struct Scene : test::AuthorityScene {
    int files = 0;

    Scene() : AuthorityScene(78, kDay) {}

    // The device hears `b` at `t` (its clock then reads `now`).
    void hear(std::int64_t t, int rssi, const Beacon& b, std::int64_t now) {
        const Observation o{t, static_cast<std::int8_t>(rssi), b};
        auto r = at(now).ingest(std::span(&o, 1));
        REQUIRE(r);
        REQUIRE(r->rejected.empty());
    }
    void hear(std::int64_t t, int rssi, const Beacon& b) { hear(t, rssi, b, t); }
    // A signed export with the key (end timestamp 0: none).
    fs::path file(std::int64_t end_timestamp) {
        auto signer = keyfile::ExportSigner::from_pem(authority.private_pem);
        REQUIRE(signer);
        keyfile::ExportWriteOptions wo;
        wo.key_id = "999";
        wo.key_version = "v1";
        wo.region = "XX";
        wo.start_timestamp =
            static_cast<std::uint64_t>(std::max<std::int64_t>(0, end_timestamp - 3600));
        wo.end_timestamp = static_cast<std::uint64_t>(end_timestamp);
        std::vector<DiagnosisKey> keys;
        keys.push_back(key.clone());
        const fs::path p = dir / ("export" + std::to_string(files++) + ".zip");
        REQUIRE(keyfile::write_export_zip(p, keys, *signer, wo, rng));
        return p;
    }
    CheckReport check(std::vector<fs::path> paths, std::int64_t now) {
        auto r = at(now).check_files(paths, ImportOptions{});
        REQUIRE(r);
        for (const auto& f : r->files) REQUIRE(f.verified());
        return std::move(*r);
    }
};

const MatchedRpi* match_of(const CheckReport& r, IntervalNumber j, MatchStatus st) {
    auto it = std::find_if(r.matches.begin(), r.matches.end(),
                           [&](const auto& m) { return m.interval == j && m.status == st; });
    return it == r.matches.end() ? nullptr : &*it;
}

std::size_t records_of(const CheckReport& r, IntervalNumber j) {
    return static_cast<std::size_t>(std::count_if(r.matches.begin(), r.matches.end(),
                                                  [&](const auto& m) { return m.interval == j; }));
}

const IntervalNumber kGenuineJ = kDay + 60;  // 10:00
const IntervalNumber kLastJ = kDay + 143;    // 23:50, forged at P1 + 30 min

}  // namespace

TEST_CASE("A key republished in a later file keeps its first publication across checks",
          "[match][publication]") {
    const bool first_file_checked = GENERATE(true, false);
    CAPTURE(first_file_checked);
    Scene s;
    s.hear(interval_start_seconds(kGenuineJ) + 30, -70, s.beacon(kGenuineJ));
    if (first_file_checked) {
        auto r = s.check({s.file(kP1)}, kP1 + 5 * 60);
        CHECK(r.recorded);
        REQUIRE(match_of(r, kGenuineJ, MatchStatus::kValid) != nullptr);
    }
    s.hear(kP1 + 30 * 60, -40, s.beacon(kLastJ));  // forged from the key published at P1
    auto r = s.check({s.file(kP2)}, kP2 + 5 * 60);
    REQUIRE(match_of(r, kGenuineJ, MatchStatus::kValid) != nullptr);
    CHECK(records_of(r, kLastJ) == 1);
    if (first_file_checked) {
        const auto* forged = match_of(r, kLastJ, MatchStatus::kSuspect);
        REQUIRE(forged != nullptr);
        CHECK(std::string(forged->reason) == kAfter);
        CHECK(forged->published_at == kP1);
    } else {
        // Negative neighbour: a device that never saw the hourly file only knows P2.
        CHECK(match_of(r, kLastJ, MatchStatus::kValid) != nullptr);
    }
}

TEST_CASE("A file skipped as already processed still tells when its keys were published",
          "[match][publication]") {
    // As after an upgrade from schema 3: the hourly file was processed, but no publication of its
    // keys was stored. The server still lists it, so it is offered again beside the daily file.
    const bool hourly_offered_again = GENERATE(true, false);
    CAPTURE(hourly_offered_again);
    Scene s;
    const fs::path hourly = s.file(kP1);
    REQUIRE(s.check({hourly}, kP1 + 5 * 60).recorded);
    s.tracer.reset();
    {
        store::StoreKey k;
        k.expose_secret_mut()[0] = 7;
        auto st =
            store::EncounterStore::open(s.dir / "enc.db", store::Credential::raw_key(std::move(k)));
        REQUIRE(st);
        REQUIRE(st->key_publications()->size() == 1);
        REQUIRE(store::detail::StoreAccess::database(*st).exec("DELETE FROM key_publications"));
    }
    s.hear(kP1 + 30 * 60, -40, s.beacon(kLastJ));
    auto files = hourly_offered_again ? std::vector{hourly, s.file(kP2)} : std::vector{s.file(kP2)};
    auto r = s.check(files, kP2 + 5 * 60);
    REQUIRE(records_of(r, kLastJ) == 1);
    if (hourly_offered_again) {
        CHECK(r.files[0].status == KeyFileStatus::kAlreadyProcessed);
        CHECK(match_of(r, kLastJ, MatchStatus::kSuspect) != nullptr);
    } else {
        // Negative neighbour: without the hourly file nothing tells of its publication.
        CHECK(match_of(r, kLastJ, MatchStatus::kValid) != nullptr);
    }
}

TEST_CASE("Within one check the first publication decides whatever the order of the files",
          "[match][publication]") {
    const bool daily_first = GENERATE(true, false);
    CAPTURE(daily_first);
    Scene s;
    s.hear(kP1 + 30 * 60, -40, s.beacon(kLastJ));
    const fs::path hourly = s.file(kP1), daily = s.file(kP2);
    auto r = s.check(daily_first ? std::vector{daily, hourly} : std::vector{hourly, daily},
                     kP2 + 5 * 60);
    REQUIRE(r.files.size() == 2);
    REQUIRE(records_of(r, kLastJ) == 1);
    CHECK(match_of(r, kLastJ, MatchStatus::kSuspect) != nullptr);
    CHECK(r.report.windows.empty());
}

TEST_CASE("Copies relayed after publication into the genuine row do not bring the exposure closer",
          "[match][publication]") {
    // Genuine packets of the last RPI at 23:51 and 23:52, then exact copies relayed at 23:57 and
    // 23:58 much louder: one stored row. The hourly file with the key ends at 23:55 (or, for the
    // negative neighbour, after every packet).
    const bool published_between = GENERATE(true, false);
    CAPTURE(published_between);
    Scene s;
    const std::int64_t t0 = interval_start_seconds(kLastJ) + 60;
    s.hear(t0, -75, s.beacon(kLastJ));
    s.hear(t0 + 60, -72, s.beacon(kLastJ));
    s.hear(t0 + 360, -30, s.beacon(kLastJ));
    s.hear(t0 + 420, -31, s.beacon(kLastJ));
    auto r = s.check({s.file(published_between ? t0 + 240 : t0 + 500)}, kNextDay + 3600);
    const auto* valid = match_of(r, kLastJ, MatchStatus::kValid);
    REQUIRE(valid != nullptr);
    REQUIRE(r.report.windows.size() == 1);
    int min_attenuation = 255;
    for (const auto& scan : r.report.windows[0].scan_instances)
        min_attenuation = std::min(min_attenuation, scan.min_attenuation_db);
    if (published_between) {
        CHECK(valid->sightings == 2);
        CHECK(valid->rssi_max == -72);
        CHECK(r.report.windows[0].scan_instances.size() == 2);
        const auto* relayed = match_of(r, kLastJ, MatchStatus::kSuspect);
        REQUIRE(relayed != nullptr);
        CHECK(std::string(relayed->reason) == kAfter);
        CHECK(relayed->rssi_max == -30);
        CHECK(min_attenuation == -5 - (-72));  // TX power -5 dBm, strongest genuine packet
    } else {
        CHECK(valid->sightings == 4);
        CHECK(valid->rssi_max == -30);
        CHECK(records_of(r, kLastJ) == 1);
        CHECK(min_attenuation == -5 - (-30));
    }
}

TEST_CASE("A clock a day behind does not make a genuine sighting suspect", "[match][publication]") {
    // The file's signed end timestamp is a day after the device's (wrong) clock. The sighting was
    // heard two minutes "after" the check by that clock (within the store's future skew).
    const bool signed_end = GENERATE(true, false);
    CAPTURE(signed_end);
    Scene s;
    const std::int64_t now = interval_start_seconds(kDay + 100) + 10;
    s.hear(now + 120, -60, s.beacon(kDay + 100), now);
    auto r = s.check({s.file(signed_end ? now + 86400 : 0)}, now);
    if (signed_end) {
        CHECK(match_of(r, kDay + 100, MatchStatus::kValid) != nullptr);
        CHECK(records_of(r, kDay + 100) == 1);
    } else {
        // Negative neighbour: without an end timestamp only the device's clock tells when the
        // file was public.
        const auto* m = match_of(r, kDay + 100, MatchStatus::kSuspect);
        REQUIRE(m != nullptr);
        CHECK(std::string(m->reason) == kAfter);
    }
}
