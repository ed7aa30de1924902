#include <catch2/catch.hpp>

#include <sotto/match/session.hpp>

#include "support.hpp"

using namespace sotto;
using namespace sotto::core;

namespace {

constexpr IntervalNumber kDay = 2690496;
const Metadata kMeta{1, 1, CalibrationConfidence::kHigh};

DiagnosisKey make_key(std::uint64_t seed, IntervalNumber start = kDay) {
    DeterministicRng rng(seed);
    DiagnosisKey k;
    rng.fill(k.exposure_key.tek.expose_secret_mut());
    k.exposure_key.rolling_start = start;
    k.exposure_key.rolling_period = 144;
    k.report_type = ReportType::kConfirmedTest;
    k.transmission_risk_level = 6;
    return k;
}

std::vector<Sighting> heard(const DiagnosisKey& key, IntervalNumber j, IntervalNumber at,
                            int packets) {
    auto b = make_beacon(key.exposure_key, j, kMeta);
    REQUIRE(b);
    Observation o{interval_start_seconds(at) + 10, -55, *b};
    Sighting s = make_sighting(o);
    for (int i = 1; i < packets; ++i) {
        o.time += 60;  // one scan a minute
        add_observation(s, o);
    }
    return {s};
}

std::vector<match::RpiMatch> take(match::MatchSession& session) {
    auto m = session.take_matches();
    REQUIRE(m);
    return std::move(*m);
}

std::vector<Sighting> concat(std::initializer_list<std::vector<Sighting>> parts) {
    std::vector<Sighting> out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

}  // namespace

TEST_CASE("A session reports one record per matched RPI with its sightings", "[match][session]") {
    const auto a = make_key(1), b = make_key(2), c = make_key(3);
    auto engine = match::MatchEngine::create(
        concat({heard(a, kDay + 60, kDay + 60, 3), heard(a, kDay + 61, kDay + 61, 2),
                heard(c, kDay + 10, kDay + 10, 1)}),
        {.match = {}, .threads = 2, .chunk_keys = 1});
    REQUIRE(engine);
    match::MatchSession session(*engine, {.batch_keys = 2});
    REQUIRE(session.begin_file(0));
    REQUIRE(session.add_key(b.clone()));
    REQUIRE(session.add_key(a.clone()));
    REQUIRE(session.add_key(c.clone()));
    REQUIRE(session.end_file(true));
    auto m = take(session);
    REQUIRE(m.size() == 3);
    CHECK(m[0].diagnosis_key.exposure_key.tek == a.exposure_key.tek);
    CHECK(m[0].interval == kDay + 60);
    CHECK(m[0].sightings == 3);
    CHECK(m[0].scans.size() == 3);
    CHECK(m[0].last_seen - m[0].first_seen == 120);
    CHECK(m[0].metadata == encode_metadata(kMeta));
    CHECK(m[0].status == MatchStatus::kValid);
    CHECK(m[1].interval == kDay + 61);
    CHECK(m[2].diagnosis_key.exposure_key.tek == c.exposure_key.tek);
    CHECK(session.counters().keys == 3);
}

TEST_CASE("Matches of a refused file are dropped", "[match][session]") {
    const auto a = make_key(1), c = make_key(3);
    auto engine = match::MatchEngine::create(
        concat({heard(a, kDay + 60, kDay + 60, 1), heard(c, kDay + 10, kDay + 10, 1)}), {});
    REQUIRE(engine);
    match::MatchSession session(*engine);
    REQUIRE(session.begin_file(0));
    REQUIRE(session.add_key(a.clone()));
    REQUIRE(session.end_file(false));  // e.g. a bad signature
    REQUIRE(session.begin_file(1));
    REQUIRE(session.add_key(c.clone()));
    REQUIRE(session.end_file(true));
    auto m = take(session);
    REQUIRE(m.size() == 1);
    CHECK(m[0].file_index == 1);
    CHECK(session.counters().keys == 1);
}

TEST_CASE("A key published in two files is reported once", "[match][session]") {
    const auto a = make_key(1);
    auto engine = match::MatchEngine::create(heard(a, kDay + 60, kDay + 60, 1), {});
    REQUIRE(engine);
    match::MatchSession session(*engine);
    for (std::uint32_t f = 0; f < 2; ++f) {
        REQUIRE(session.begin_file(f));
        REQUIRE(session.add_key(a.clone()));
        REQUIRE(session.end_file(true));
    }
    auto m = take(session);
    REQUIRE(m.size() == 1);
    CHECK(m[0].file_index == 0);
}

TEST_CASE("Revoked keys and keys still in use are not matched", "[match][session]") {
    auto a = make_key(1);
    auto engine = match::MatchEngine::create(heard(a, kDay + 60, kDay + 60, 1), {});
    REQUIRE(engine);
    SECTION("revoked") {
        match::MatchSession session(*engine);
        a.report_type = ReportType::kRevoked;
        REQUIRE(session.begin_file(0));
        REQUIRE(session.add_key(a.clone()));
        REQUIRE(session.end_file(true));
        CHECK(take(session).empty());
        CHECK(session.counters().keys_revoked == 1);
    }
    SECTION("a key still in use is matched; what is heard after its publication is suspect") {
        match::MatchSession session(*engine, {.batch_keys = 1024});
        REQUIRE(session.begin_file(0));
        REQUIRE(session.add_key(a.clone()));
        const std::int64_t heard_at = engine->index().sightings().front().first_seen;
        REQUIRE(session.end_file(true, {.end_timestamp = heard_at, .obtained_at = std::nullopt}));
        auto m = take(session);
        REQUIRE(m.size() == 1);
        CHECK(m[0].status == MatchStatus::kValid);  // heard at, not after, publication
        REQUIRE(session.begin_file(1));
        REQUIRE(session.add_key(a.clone()));
        REQUIRE(
            session.end_file(true, {.end_timestamp = std::nullopt, .obtained_at = heard_at - 1}));
        m = take(session);
        REQUIRE(m.size() == 1);
        CHECK(m[0].status == MatchStatus::kSuspect);  // the device had the file (no end) before
        CHECK(std::string(m[0].reason) == "heard after the key was published");
    }
}

TEST_CASE("Engine output does not depend on the number of threads", "[match][engine]") {
    std::vector<DiagnosisKey> keys;
    std::vector<Sighting> sightings;
    for (int i = 0; i < 3000; ++i) {
        keys.push_back(make_key(10 + static_cast<std::uint64_t>(i),
                                kDay + 144 * static_cast<IntervalNumber>(i % 3)));
        if (i % 97 == 0) {
            auto s = heard(keys.back(), keys.back().exposure_key.rolling_start + 5,
                           keys.back().exposure_key.rolling_start + 5, 2);
            sightings.insert(sightings.end(), s.begin(), s.end());
        }
    }
    std::vector<std::vector<MatchedSighting>> results;
    for (unsigned threads : {1u, 2u, 4u}) {
        auto engine = match::MatchEngine::create(
            sightings, {.match = {}, .threads = threads, .chunk_keys = 64});
        REQUIRE(engine);
        auto r = engine->match_keys(keys);
        REQUIRE(r);
        results.push_back(*r);
    }
    REQUIRE(results[0].size() == 31);
    for (const auto& r : results) {
        REQUIRE(r.size() == results[0].size());
        for (std::size_t i = 0; i < r.size(); ++i) {
            CHECK(r[i].key_index == results[0][i].key_index);
            CHECK(r[i].sighting_index == results[0][i].sighting_index);
        }
    }
}

TEST_CASE("A key twice in one file is reported once", "[match][session]") {
    const auto a = make_key(1);
    auto engine = match::MatchEngine::create(heard(a, kDay + 60, kDay + 60, 1), {});
    REQUIRE(engine);
    match::MatchSession session(*engine, {.batch_keys = 1});  // in different batches, too
    REQUIRE(session.begin_file(0));
    REQUIRE(session.add_key(a.clone()));
    REQUIRE(session.add_key(a.clone()));
    REQUIRE(session.end_file(true));
    CHECK(take(session).size() == 1);
}

TEST_CASE("Session calls out of order are refused", "[match][session]") {
    auto engine = match::MatchEngine::create({}, {});
    REQUIRE(engine);
    match::MatchSession session(*engine);
    CHECK(session.add_key(make_key(1)).error().code == ErrorCode::kFailedPrecondition);
    CHECK(session.end_file(true).error().code == ErrorCode::kFailedPrecondition);
    REQUIRE(session.begin_file(0));
    CHECK(session.begin_file(1).error().code == ErrorCode::kFailedPrecondition);
    REQUIRE(session.end_file(true));
}
