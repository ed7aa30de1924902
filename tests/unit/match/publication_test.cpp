// The publication rule in a matching session: the earliest publication of a key decides (across
// files, in any order, and across checks through the publications a session is given), packets
// relayed after publication into a genuine sighting do not count, and a clock that is behind does
// not turn genuine sightings suspect.
#include <algorithm>
#include <string>

#include <catch2/catch.hpp>

#include <sotto/match/session.hpp>

#include "publication_fixture.hpp"
#include "support.hpp"

using namespace sotto;
using namespace sotto::core;
using namespace sotto::test::publication;

namespace {

constexpr char kAfter[] = "heard after the key was published";

std::vector<match::RpiMatch> take(match::MatchSession& session) {
    auto m = session.take_matches();
    REQUIRE(m);
    return std::move(*m);
}

void add_file(match::MatchSession& session, std::uint32_t index, const DiagnosisKey& key,
              std::int64_t published) {
    test::publication::add_file(session, index, key, published, published + 60);
}

}  // namespace

TEST_CASE("A key republished in a later file is judged by its first publication in any order",
          "[match][publication]") {
    const auto key = make_key(1);
    auto engine = match::MatchEngine::create(genuine_and_forged(key), {});
    REQUIRE(engine);
    const bool hourly_first = GENERATE(true, false);
    CAPTURE(hourly_first);
    match::MatchSession session(*engine);
    add_file(session, 0, key, hourly_first ? kP1 : kP2);
    add_file(session, 1, key, hourly_first ? kP2 : kP1);
    const auto m = take(session);
    REQUIRE(m.size() == 2);  // one record per RPI: the second file adds none
    REQUIRE(find(m, kGenuineJ) != nullptr);
    CHECK(find(m, kGenuineJ)->status == MatchStatus::kValid);
    REQUIRE(find(m, kLastJ) != nullptr);
    CHECK(find(m, kLastJ)->status == MatchStatus::kSuspect);
    CHECK(std::string(find(m, kLastJ)->reason) == kAfter);
    CHECK(find(m, kLastJ)->published_at == kP1);
    CHECK(find(m, kGenuineJ)->published_at == kP1);

    // Negative neighbour: with the daily file alone the forged sighting passes (which is why the
    // first publication must be remembered).
    match::MatchSession daily_only(*engine);
    add_file(daily_only, 0, key, kP2);
    const auto d = take(daily_only);
    REQUIRE(d.size() == 2);
    CHECK(find(d, kLastJ)->status == MatchStatus::kValid);
    CHECK(find(d, kLastJ)->published_at == kP2);
}

TEST_CASE("Publications given to a session from earlier checks decide too",
          "[match][publication]") {
    const auto key = make_key(1), other = make_key(2);
    auto engine = match::MatchEngine::create(genuine_and_forged(key), {});
    REQUIRE(engine);
    const auto id = [](const DiagnosisKey& k) {
        KeyPublication p;
        const auto b = k.exposure_key.tek.expose_secret();
        std::copy(b.begin(), b.end(), p.tek.begin());
        p.window_end = kNextDay;
        p.published_at = kP1;
        return p;
    };
    {
        match::MatchSession session(*engine);
        const KeyPublication known[] = {id(key)};
        REQUIRE(session.add_known_publications(known));
        add_file(session, 0, key, kP2);
        const auto m = take(session);
        REQUIRE(find(m, kLastJ) != nullptr);
        CHECK(find(m, kLastJ)->status == MatchStatus::kSuspect);
        CHECK(find(m, kGenuineJ)->status == MatchStatus::kValid);
        // The earlier time is kept, not the daily file's.
        auto p = session.publications();
        REQUIRE(p);
        REQUIRE(p->size() == 1);
        CHECK(p->front() == id(key));
        // Nothing new to write back: the given time still stands.
        CHECK(session.publications(false)->empty());
    }
    {  // A file earlier than the given time: its time replaces it and is to be written back.
        match::MatchSession session(*engine);
        KeyPublication late = id(key);
        late.published_at = kP2;
        REQUIRE(session.add_known_publications(std::span(&late, 1)));
        add_file(session, 0, key, kP1);
        auto p = session.publications(false);
        REQUIRE(p);
        REQUIRE(p->size() == 1);
        CHECK(p->front() == id(key));
    }
    {  // Negative neighbour: a publication of another key changes nothing.
        match::MatchSession session(*engine);
        const KeyPublication known[] = {id(other)};
        REQUIRE(session.add_known_publications(known));
        add_file(session, 0, key, kP2);
        const auto m = take(session);
        CHECK(find(m, kLastJ)->status == MatchStatus::kValid);
    }
}

TEST_CASE("A file ended for its publication only is remembered and matches nothing",
          "[match][publication]") {
    const auto key = make_key(1);
    auto engine = match::MatchEngine::create(genuine_and_forged(key), {});
    REQUIRE(engine);
    const bool publication_only = GENERATE(true, false);
    CAPTURE(publication_only);
    match::MatchSession session(*engine);
    REQUIRE(session.begin_file(0));
    REQUIRE(session.add_key(key.clone()));
    const match::FilePublication hourly{.end_timestamp = kP1, .obtained_at = kP1};
    const auto ended = publication_only ? session.end_file_publication_only(hourly)
                                        : session.end_file(false, hourly);
    REQUIRE(ended);
    CHECK(session.counters().keys == 0);
    CHECK(session.publications()->size() == (publication_only ? 1u : 0u));
    add_file(session, 1, key, kP2);
    const auto m = take(session);
    REQUIRE(m.size() == 2);
    CHECK(m[0].file_index == 1);
    REQUIRE(find(m, kLastJ) != nullptr);
    // Negative neighbour: a refused file (end_file(false)) tells nothing.
    CHECK(find(m, kLastJ)->status ==
          (publication_only ? MatchStatus::kSuspect : MatchStatus::kValid));
    CHECK(session.end_file_publication_only(hourly).error().code == ErrorCode::kFailedPrecondition);
}

TEST_CASE("A session remembers only keys still forgeable when published, and not refused files",
          "[match][publication]") {
    const auto same_day = make_key(1), old = make_key(2, kDay - 144), refused = make_key(3);
    auto engine = match::MatchEngine::create({}, {});
    REQUIRE(engine);
    match::MatchSession session(*engine);
    REQUIRE(session.begin_file(0));
    REQUIRE(session.add_key(same_day.clone()));
    REQUIRE(session.add_key(old.clone()));  // its window ended a day before P1
    REQUIRE(session.end_file(true, {.end_timestamp = kP1, .obtained_at = kP1}));
    REQUIRE(session.begin_file(1));
    REQUIRE(session.add_key(refused.clone()));
    REQUIRE(session.end_file(false, {.end_timestamp = kP1, .obtained_at = kP1}));
    REQUIRE(session.begin_file(2));  // no publication time at all: nothing to remember
    REQUIRE(session.add_key(make_key(4)));
    REQUIRE(session.end_file(true, {}));
    // No end timestamp: the device clock's time judges this file's matches but is not remembered
    // (a wrong clock must not outlive the check).
    REQUIRE(session.begin_file(3));
    REQUIRE(session.add_key(make_key(5)));
    REQUIRE(session.end_file(true, {.end_timestamp = std::nullopt, .obtained_at = kP1}));
    auto p = session.publications();
    REQUIRE(p);
    REQUIRE(p->size() == 1);
    CHECK(std::equal(p->front().tek.begin(), p->front().tek.end(),
                     same_day.exposure_key.tek.expose_secret().begin()));
    CHECK(p->front().window_end == kNextDay);
    CHECK(p->front().published_at == kP1);
    // The boundary: forgeable while (window end + tolerance) is after the publication.
    CHECK(forgeable_after_publication(kNextDay, 12, interval_start_seconds(kNextDay + 12) - 1));
    CHECK_FALSE(forgeable_after_publication(kNextDay, 12, interval_start_seconds(kNextDay + 12)));
}

TEST_CASE("A large file keeps its recent keys as candidates wherever they come in it",
          "[match][publication]") {
    auto engine = match::MatchEngine::create({}, {});
    REQUIRE(engine);
    // 10,000 keys: candidates are pruned along the way (after 4,096, then as many again).
    const std::size_t position = GENERATE(std::size_t{0}, std::size_t{5000}, std::size_t{9999});
    CAPTURE(position);
    match::MatchSession session(*engine, {.batch_keys = 256});
    REQUIRE(session.begin_file(0));
    const auto recent = make_key(1);
    for (std::size_t i = 0; i < 10000; ++i) {
        if (i == position) {
            REQUIRE(session.add_key(recent.clone()));
            continue;
        }
        // Old keys: windows that ended one to 13 days before the same-day key's day.
        REQUIRE(session.add_key(
            make_key(100 + i, kDay - 144 * static_cast<IntervalNumber>(1 + i % 13))));
    }
    REQUIRE(session.end_file(true, {.end_timestamp = kP1, .obtained_at = kP1}));
    auto p = session.publications();
    REQUIRE(p);
    REQUIRE(p->size() == 1);
    CHECK(std::equal(p->front().tek.begin(), p->front().tek.end(),
                     recent.exposure_key.tek.expose_secret().begin()));
    // Negative neighbour: published early enough (00:00 on the old keys' last day + 1 h), the
    // newest old keys are forgeable too and are remembered as well.
    match::MatchSession early(*engine, {.batch_keys = 256});
    REQUIRE(early.begin_file(0));
    for (std::size_t i = 0; i < 10000; ++i)
        REQUIRE(
            early.add_key(make_key(100 + i, kDay - 144 * static_cast<IntervalNumber>(1 + i % 13))));
    REQUIRE(early.end_file(
        true, {.end_timestamp = interval_start_seconds(kDay) + 3600, .obtained_at = std::nullopt}));
    auto q = early.publications();
    REQUIRE(q);
    CHECK(q->size() == 770);  // the keys of day kDay - 144 (i % 13 == 0): 10000 / 13, rounded up
}

TEST_CASE("Packets relayed after publication into a genuine sighting do not count toward it",
          "[match][publication]") {
    const auto key = make_key(1);
    // The last RPI heard genuinely at 23:51 and 23:52, then an exact copy relayed at 23:57 and
    // 23:58 (same receiver interval, same AEM: one stored sighting) much louder. The key was
    // published at 23:55 (a same-day key in an hourly file).
    const std::int64_t t0 = interval_start_seconds(kLastJ) + 60;
    Sighting s = make_sighting(packet(key, kLastJ, t0, -75));
    add_observation(s, packet(key, kLastJ, t0 + 60, -72));
    add_observation(s, packet(key, kLastJ, t0 + 360, -30));
    add_observation(s, packet(key, kLastJ, t0 + 420, -31));
    REQUIRE(s.scans.size() == 4);
    auto engine = match::MatchEngine::create({s}, {});
    REQUIRE(engine);
    SECTION("published between the genuine and the relayed packets: split") {
        const std::int64_t published = t0 + 240;
        match::MatchSession session(*engine);
        add_file(session, 0, key, published);
        const auto m = take(session);
        REQUIRE(m.size() == 2);
        CHECK(m[0].status == MatchStatus::kValid);
        CHECK(m[0].sightings == 2);
        CHECK(m[0].rssi_max == -72);
        CHECK(m[0].first_seen == t0);
        CHECK(m[0].last_seen == t0 + 60);
        REQUIRE(m[0].scans.size() == 2);
        CHECK(m[0].scans.back().time == t0 + 60);
        CHECK(m[1].status == MatchStatus::kSuspect);
        CHECK(std::string(m[1].reason) == kAfter);
        CHECK(m[1].sightings == 2);
        CHECK(m[1].rssi_max == -30);
        CHECK(m[1].first_seen == t0 + 360);
        CHECK(m[1].scans.size() == 2);
        CHECK(m[1].published_at == published);
    }
    SECTION("published after every packet: one valid record with all of them") {
        match::MatchSession session(*engine);
        add_file(session, 0, key, t0 + 600);
        const auto m = take(session);
        REQUIRE(m.size() == 1);
        CHECK(m[0].status == MatchStatus::kValid);
        CHECK(m[0].sightings == 4);
        CHECK(m[0].rssi_max == -30);
    }
    SECTION("published before every packet: all suspect") {
        match::MatchSession session(*engine);
        add_file(session, 0, key, t0 - 1);
        const auto m = take(session);
        REQUIRE(m.size() == 1);
        CHECK(m[0].status == MatchStatus::kSuspect);
        CHECK(m[0].sightings == 4);
    }
}

TEST_CASE("The signed end timestamp decides the publication, not a clock that is behind",
          "[match][publication]") {
    const std::int64_t end = kP1;
    CHECK(match::publication_time({.end_timestamp = end, .obtained_at = end - 86400}) == end);
    CHECK(match::publication_time({.end_timestamp = end, .obtained_at = end + 3600}) == end);
    CHECK(match::publication_time({.end_timestamp = std::nullopt, .obtained_at = end}) == end);
    CHECK_FALSE(match::publication_time({}).has_value());

    const auto key = make_key(1);
    // A genuine sighting at 23:55 (before the file's end timestamp at 00:10) and a forged one at
    // 00:40, checked with the device clock a day behind (it "obtained" the file a day early).
    const std::int64_t genuine_at = interval_start_seconds(kLastJ) + 300;
    auto engine =
        match::MatchEngine::create({make_sighting(packet(key, kLastJ, genuine_at, -60)),
                                    make_sighting(packet(key, kLastJ - 1, kForgedAt, -40))},
                                   {});
    REQUIRE(engine);
    match::MatchSession session(*engine);
    REQUIRE(session.begin_file(0));
    REQUIRE(session.add_key(key.clone()));
    REQUIRE(session.end_file(true, {.end_timestamp = end, .obtained_at = end - 86400}));
    const auto m = take(session);
    REQUIRE(m.size() == 2);
    REQUIRE(find(m, kLastJ) != nullptr);
    CHECK(find(m, kLastJ)->status == MatchStatus::kValid);
    // Negative neighbour: heard after the signed end timestamp is still suspect.
    REQUIRE(find(m, kLastJ - 1) != nullptr);
    CHECK(find(m, kLastJ - 1)->status == MatchStatus::kSuspect);
    CHECK(std::string(find(m, kLastJ - 1)->reason) == kAfter);
}
