// The publication rule against hostile or odd files (found by an adversarial review): a signed
// end timestamp before the keys existed, a revoked copy of a key, a revocation in a later file, a
// file timed by the device clock beside a republication, a file dated in the future.
#include <algorithm>
#include <string>

#include <catch2/catch.hpp>

#include <sotto/match/report.hpp>
#include <sotto/match/session.hpp>

#include "publication_fixture.hpp"
#include "support.hpp"

using namespace sotto;
using namespace sotto::core;
using namespace sotto::test::publication;

namespace {

void add_file(match::MatchSession& session, std::uint32_t index, const DiagnosisKey& key,
              std::int64_t published) {
    test::publication::add_file(session, index, key, published, kP2 + 3600);
}

}  // namespace

// A validly signed file whose end timestamp lies before its keys existed (a server bug, or a
// signer trying to cancel others' exposures) is not taken as the keys' publication: it is timed
// by the device clock for this check only, and never remembered. The neighbour: the genuine
// hourly file's time is remembered and makes the forged RPI suspect.
TEST_CASE("A signed end timestamp before the keys existed is ignored by the publication rule",
          "[match][publication]") {
    const auto key = make_key(1);
    auto engine = match::MatchEngine::create(genuine_and_forged(key), {});
    REQUIRE(engine);
    match::MatchSession session(*engine);
    add_file(session, 0, key, /*end_timestamp=*/1);  // 1970-01-01T00:00:01Z, signed
    add_file(session, 1, key, kP1);                  // the genuine hourly file
    auto m = session.take_matches();
    REQUIRE(m);
    CHECK(find(*m, kGenuineJ, MatchStatus::kValid) != nullptr);
    CHECK(find(*m, kGenuineJ, MatchStatus::kSuspect) == nullptr);
    const auto* forged = find(*m, kLastJ, MatchStatus::kSuspect);
    REQUIRE(forged != nullptr);
    CHECK(forged->published_at == kP1);
    auto p = session.publications(/*include_given=*/false);
    REQUIRE(p);
    REQUIRE(p->size() == 1);
    CHECK(p->front().published_at == kP1);
}

// A key's publication in a file where it is REVOKED counts too: the TEK was public from that
// file on, so an RPI forged between it and a later CONFIRMED copy is suspect.
TEST_CASE("A revoked copy of a key dates its publication", "[match][publication]") {
    const auto confirmed = make_key(1);
    const auto revoked = make_key(1, kDay, ReportType::kRevoked);  // same TEK
    auto engine = match::MatchEngine::create(genuine_and_forged(confirmed), {});
    REQUIRE(engine);
    match::MatchSession session(*engine);
    add_file(session, 0, revoked, kP1);    // public from P1 (00:10)
    add_file(session, 1, confirmed, kP2);  // republished at P2 (20:10)
    auto m = session.take_matches();
    REQUIRE(m);
    // Revoked in this session: nothing of the key counts (see the next test).
    CHECK(find(*m, kLastJ, MatchStatus::kValid) == nullptr);
    auto p = session.publications();
    REQUIRE(p);
    REQUIRE(p->size() == 1);
    CHECK(p->front().published_at == kP1);
}

// A key CONFIRMED in one file and REVOKED in another file of the same check counts from neither.
// The neighbour: the CONFIRMED file alone gives the genuine exposure.
TEST_CASE("A key revoked in another file of the same check does not count",
          "[match][publication]") {
    const auto confirmed = make_key(1);
    const auto revoked = make_key(1, kDay, ReportType::kRevoked);
    auto engine = match::MatchEngine::create(genuine_and_forged(confirmed), {});
    REQUIRE(engine);
    const bool revoked_first = GENERATE(true, false);
    CAPTURE(revoked_first);
    match::MatchSession session(*engine);
    add_file(session, 0, revoked_first ? revoked : confirmed, kP1);
    add_file(session, 1, revoked_first ? confirmed : revoked, kP2);
    auto m = session.take_matches();
    REQUIRE(m);
    CHECK(m->empty());
    CHECK(session.counters().keys_revoked == 1);

    match::MatchSession alone(*engine);
    add_file(alone, 0, confirmed, kP1);
    auto a = alone.take_matches();
    REQUIRE(a);
    CHECK(find(*a, kGenuineJ, MatchStatus::kValid) != nullptr);
}

// A file without an end timestamp is judged by the device's clock ("obtained_at"). That time
// applies to every record of the key in the check, so another file republishing the key later
// cannot make the forged RPI count, in either order; it is never remembered beyond the check.
TEST_CASE(
    "A clock-timed file's publication holds when another file of the check republishes the key",
    "[match][publication]") {
    const auto key = make_key(1);
    auto engine = match::MatchEngine::create(genuine_and_forged(key), {});
    REQUIRE(engine);
    const bool clock_file_first = GENERATE(true, false);
    CAPTURE(clock_file_first);
    match::MatchSession session(*engine);
    auto clock_file = [&](std::uint32_t i) {
        REQUIRE(session.begin_file(i));
        REQUIRE(session.add_key(key.clone()));
        REQUIRE(session.end_file(true, {.end_timestamp = std::nullopt, .obtained_at = kP1}));
    };
    if (clock_file_first) clock_file(0);
    add_file(session, clock_file_first ? 1 : 0, key, kP2);
    if (!clock_file_first) clock_file(1);
    auto m = session.take_matches();
    REQUIRE(m);
    // The forged RPI (heard at P1 + 30 min, after this device obtained the key at P1) is suspect.
    CHECK(find(*m, kLastJ, MatchStatus::kSuspect) != nullptr);
    CHECK(find(*m, kLastJ, MatchStatus::kValid) == nullptr);
    CHECK(find(*m, kGenuineJ, MatchStatus::kValid) != nullptr);
    auto kept = session.publications();
    REQUIRE(kept);
    CHECK(kept->empty());  // the clock time is not remembered (and at P2 the key is not forgeable)
    // Control: the clock-timed file alone keeps the forged RPI out of the exposure windows.
    match::MatchSession alone(*engine);
    REQUIRE(alone.begin_file(0));
    REQUIRE(alone.add_key(key.clone()));
    REQUIRE(alone.end_file(true, {.end_timestamp = std::nullopt, .obtained_at = kP1}));
    auto a = alone.take_matches();
    REQUIRE(a);
    CHECK(find(*a, kLastJ, MatchStatus::kValid) == nullptr);
    auto with_both = match::build_report(*m, kP2 + 3600, {});
    auto clock_only = match::build_report(*a, kP2 + 3600, {});
    REQUIRE(with_both);
    REQUIRE(clock_only);
    CHECK(with_both->valid_matches == clock_only->valid_matches);
}

// A documented limit (docs/threat-model.md): a signed file dated in the future (end timestamp
// after this device obtained it) is judged by its end timestamp, because an earlier obtained_at
// more often means a device clock that is behind. An RPI forged in between counts.
TEST_CASE("A future-dated signed file is judged by its end timestamp (documented limit)",
          "[match][publication]") {
    const auto key = make_key(1);
    auto engine = match::MatchEngine::create(genuine_and_forged(key), {});
    REQUIRE(engine);
    match::MatchSession session(*engine);
    REQUIRE(session.begin_file(0));
    REQUIRE(session.add_key(key.clone()));
    // Obtained at P1 (00:10), signed end timestamp P2 (20:10 the same day).
    REQUIRE(session.end_file(true, {.end_timestamp = kP2, .obtained_at = kP1}));
    auto m = session.take_matches();
    REQUIRE(m);
    const auto* forged = find(*m, kLastJ, MatchStatus::kValid);  // heard at P1 + 30 min
    REQUIRE(forged != nullptr);
    CHECK(forged->published_at == kP2);
}
