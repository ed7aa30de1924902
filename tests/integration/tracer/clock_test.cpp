// A wrong clock never wipes the store: the Tracer's daily retention judges the clock against the
// store's anchor before anything is written under it, whether sightings come from
// on_advertisement or from an attached (simulated) radio, and whatever was written since.
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>

#include <sotto/log.hpp>
#include <sotto/platform/simulated/air.hpp>
#include <sotto/platform/simulated/simulated_radio.hpp>
#include <sotto/store/encounter_store.hpp>

#include "integration/tracer/tracer_test_util.hpp"

using namespace sotto;
namespace sim = sotto::platform::simulated;
using test::capture;
using test::Captured;
using test::kDay0;
using test::range;

namespace {

// A suspect clock pauses retention; it is not an error of the tick.
bool paused(const Result<TickReport>& t) {
    return t && t->retention == RetentionRun::kPausedClockSuspect;
}

constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::int64_t kYear2100Ms = 4'102'444'800'000;  // 2100-01-01T00:00:00Z

enum class Hearing { kDirect, kRadio };

std::int64_t at_day(int day, int hour) { return (kDay0 + day * 86400 + hour * 3600) * 1000; }

// One device (`me`) that hears a neighbour: either straight through on_advertisement (a fresh
// fake beacon per second), or through its simulated radio in the simulated air, a metre from a
// second Tracer that broadcasts.
struct Device {
    explicit Device(Hearing h, TracerOptions o = {}) : how(h), clock(at_day(0, 8)) {
        o.scan.continuous = true;
        o.flush_interval_ms = 0;
        options = o;
        me.emplace(test::open_at(dir, clock, std::move(o)));
        if (how == Hearing::kRadio) {
            auto a = sim::Air::create(clock, {});
            REQUIRE(a);
            air = std::move(*a);
            auto p = Tracer::open(dir / "peer.db", test::tracer_credential(9), clock);
            REQUIRE(p);
            peer.emplace(std::move(*p));
            auto r1 = air->add_radio({0, 0});
            auto r2 = air->add_radio({1, 0});
            REQUIRE(r1);
            REQUIRE(r2);
            REQUIRE(me->attach_radio(std::move(*r1)));
            REQUIRE(peer->attach_radio(std::move(*r2)));
        }
    }

    // Hears for `seconds` from the clock's now (which moves on by as much) without ticking `me`,
    // then writes what is pending. Returns the observations the store accepted.
    std::uint64_t hear(int seconds) {
        const std::uint64_t before = me->status().stored;
        for (int s = 0; s < seconds; ++s) {
            if (how == Hearing::kDirect) {
                const auto sd = test::fake_sd(++seed);
                REQUIRE(me->on_advertisement(sd, -60, clock.now_ms()));
                clock.advance_ms(1000);
            } else {
                REQUIRE(air->advance_to(clock.now_ms() + 1000));
                (void)peer->tick();
            }
        }
        REQUIRE(me->flush());
        return me->status().stored - before;
    }

    // The days (counted from kDay0; 2100 is far beyond) that hold sightings.
    std::set<std::int64_t> days() const { return test::stored_days(dir); }
    std::optional<std::int64_t> anchor() const { return test::stored_anchor(dir); }

    // Closes and opens `me` again (a restart; an attached radio is not attached again).
    void restart() {
        me.reset();
        me.emplace(test::open_at(dir, clock, options));
    }

    test::TempDir dir;
    Hearing how;
    ManualClock clock;
    TracerOptions options;
    std::unique_ptr<sim::Air> air;
    std::optional<Tracer> peer;
    std::optional<Tracer> me;
    std::uint32_t seed = 0;
};

// `days` days of ordinary life from kDay0: each day at 08:00 a tick, then a minute of hearing.
void live_days(Device& d, int first, int days) {
    for (int i = first; i < first + days; ++i) {
        d.clock.set_ms(at_day(i, 8));
        REQUIRE(d.me->tick());
        REQUIRE(d.hear(60) > 0);
    }
}

bool contains_all(const std::set<std::int64_t>& big, const std::set<std::int64_t>& small) {
    for (auto x : small)
        if (!big.count(x)) return false;
    return true;
}

}  // namespace

TEST_CASE("A clock far ahead wipes nothing even after the Tracer wrote under it",
          "[tracer][clock][retention]") {
    const Hearing how = GENERATE(Hearing::kDirect, Hearing::kRadio);
    const bool to_2100 = GENERATE(true, false);
    CAPTURE(how == Hearing::kRadio, to_2100);
    Device d(how);
    live_days(d, 0, 5);
    const auto before = d.days();
    REQUIRE(before == range(0, 4));
    const auto keys_before = *d.me->own_key_count();

    // 2100 (a board without a real-time clock), or thirty days on (a bad time sync).
    d.clock.set_ms(to_2100 ? kYear2100Ms + 3600'000 : at_day(4 + 30, 8));
    // Under the wrong clock, before any tick: a new own key and sightings stamped by it.
    REQUIRE(d.me->current_advertisement());
    REQUIRE(d.hear(30) > 0);
    CHECK(*d.me->own_key_count() == keys_before + 1);

    for (int i = 0; i < 3; ++i) {
        auto t = d.me->tick();
        CHECK(paused(t));
        CHECK(d.me->status().clock_suspect);
        d.clock.advance_ms(60'000);
    }
    CHECK(contains_all(d.days(), before));
    CHECK(d.days().size() == before.size() + 1);  // and the day heard under the wrong clock
    CHECK(*d.me->own_key_count() == keys_before + 1);

    // A restart under the wrong clock changes nothing: the data it wrote does not vouch for it.
    d.restart();
    auto t = d.me->tick();
    CHECK(paused(t));
    CHECK(d.me->status().clock_suspect);
    CHECK(contains_all(d.days(), before));
    CHECK(*d.me->own_key_count() == keys_before + 1);
    CHECK(*d.anchor() < at_day(5, 0) / 1000);
}

TEST_CASE("A clock moving one day per tick deletes exactly what is older than 14 days",
          "[tracer][clock][retention]") {
    Device d(Hearing::kDirect);
    for (int i = 0; i < 30; ++i) {
        live_days(d, i, 1);
        CAPTURE(i);
        CHECK(d.days() == range(std::max(0, i - 13), i));
        CHECK(*d.me->own_key_count() == static_cast<std::size_t>(std::min(i + 1, 14)));
        CHECK_FALSE(d.me->status().clock_suspect);
    }
    CHECK(*d.anchor() == at_day(29, 8) / 1000);
}

TEST_CASE("After a week switched off, old data goes once the host confirms the clock",
          "[tracer][clock][retention]") {
    int asked = 0;
    int answer = 0;  // 0: no, 1: yes, 2: throws
    TracerOptions o;
    o.clock_confirmed = [&] {
        ++asked;
        if (answer == 2) throw std::runtime_error("host failure");
        return answer == 1;
    };
    Device d(Hearing::kDirect, std::move(o));
    live_days(d, 0, 10);
    CHECK(asked == 0);  // a trusted clock is never questioned

    d.clock.set_ms(at_day(16, 8));  // a week later
    for (int a : {0, 2}) {
        answer = a;
        auto t = d.me->tick();
        CHECK(paused(t));
        CHECK(d.days() == range(0, 9));
    }
    CHECK(asked == 2);
    CHECK(d.me->status().clock_suspect);

    answer = 1;
    REQUIRE(d.me->tick());
    CHECK(asked == 3);
    CHECK_FALSE(d.me->status().clock_suspect);
    CHECK(d.days() == range(16 - 13, 9));  // the window of day 16 starts at day 3
    CHECK(*d.anchor() == at_day(16, 8) / 1000);
    // Later ticks the same day do not run retention or ask again.
    REQUIRE(d.me->tick());
    CHECK(asked == 3);
}

TEST_CASE("A clock jump corrected back leaves everything, and the data heard meanwhile",
          "[tracer][clock][retention]") {
    const Hearing how = GENERATE(Hearing::kDirect, Hearing::kRadio);
    CAPTURE(how == Hearing::kRadio);
    Device d(how);
    live_days(d, 0, 5);
    const auto anchor = d.anchor();
    d.clock.set_ms(kYear2100Ms);
    REQUIRE(d.hear(20) > 0);
    CHECK(paused(d.me->tick()));

    // Corrected: an hour after the last ordinary tick.
    d.clock.set_ms(at_day(4, 9));
    REQUIRE(d.me->tick());
    CHECK_FALSE(d.me->status().clock_suspect);
    const auto days = d.days();
    CHECK(contains_all(days, range(0, 4)));
    CHECK(days.size() == 6);  // and the day in 2100: data stamped ahead of the clock is kept
    CHECK(*d.anchor() == at_day(4, 9) / 1000);
    CHECK(*d.anchor() > *anchor);
}

TEST_CASE("A clock set back a year deletes nothing and reuses no RPI",
          "[tracer][clock][retention]") {
    Device d(Hearing::kDirect);
    live_days(d, 0, 5);
    auto today = d.me->current_advertisement();
    REQUIRE(today);
    REQUIRE(today->active);
    const auto anchor = d.anchor();
    const auto keys = *d.me->own_key_count();

    d.clock.set_ms(at_day(4 - 365, 10));
    // As suspect as a clock a year ahead: nothing deleted, the anchor stays.
    CHECK(paused(d.me->tick()));
    CHECK(d.me->status().clock_suspect);
    CHECK(d.days() == range(0, 4));
    CHECK(d.anchor() == anchor);  // never pulled back
    // The running scheduler never derives for an interval before one it broadcast: it waits.
    auto back = d.me->current_advertisement();
    REQUIRE(back);
    CHECK_FALSE(back->active);
    CHECK(*d.me->own_key_count() == keys);

    // Restarted under the old date: a new TEK for that day, never one of the stored ones.
    d.restart();
    d.clock.advance_ms(600'000);
    CHECK(paused(d.me->tick()));
    auto fresh = d.me->current_advertisement();
    REQUIRE(fresh);
    REQUIRE(fresh->active);
    CHECK(fresh->service_data != today->service_data);
    CHECK(*d.me->own_key_count() == keys + 1);
    REQUIRE(d.hear(10) > 0);
    auto expected = range(0, 4);
    expected.insert(4 - 365);
    CHECK(d.days() == expected);

    // The clock is right again: an ordinary daily run, nothing of the five days lost.
    d.clock.set_ms(at_day(5, 8));
    REQUIRE(d.me->tick());
    CHECK_FALSE(d.me->status().clock_suspect);
    CHECK(contains_all(d.days(), range(0, 4)));
}

TEST_CASE("An anchor set by a wrong first clock pauses retention until the host confirms",
          "[tracer][clock][retention]") {
    bool vouch = false;
    int asked = 0;
    TracerOptions o;
    o.clock_confirmed = [&] {
        ++asked;
        return vouch;
    };
    Device d(Hearing::kDirect, std::move(o));
    // A fresh store's first tick sees a clock 400 days ahead (a board booting with a bad time):
    // nothing to lose, so the run is accepted and anchors the store there.
    d.clock.set_ms(at_day(400, 8));
    REQUIRE(d.me->tick());
    CHECK(*d.anchor() == at_day(400, 8) / 1000);
    // The clock is corrected; ten days of ordinary life follow. Retention is paused (the clock is
    // far before the anchor), nothing is deleted, and the host is asked (it cannot vouch yet).
    for (int i = 0; i < 10; ++i) {
        d.clock.set_ms(at_day(i, 8));
        CHECK(paused(d.me->tick()));
        REQUIRE(d.hear(30) > 0);
    }
    CHECK(d.me->status().clock_suspect);
    CHECK(asked == 10);
    CHECK(d.days() == range(0, 9));
    // A wrong jump 200 days ahead, still before the bad anchor, wipes nothing.
    d.clock.set_ms(at_day(210, 8));
    CHECK(paused(d.me->tick()));
    CHECK(d.days() == range(0, 9));
    CHECK(*d.anchor() == at_day(400, 8) / 1000);
    // Back to the true time, and the host vouches for it: the anchor is repaired to it exactly.
    d.clock.set_ms(at_day(9, 9));
    vouch = true;
    REQUIRE(d.me->tick());
    CHECK_FALSE(d.me->status().clock_suspect);
    CHECK(*d.anchor() == at_day(9, 9) / 1000);
    CHECK(d.days() == range(0, 9));
    // From then on the guard holds: the same wrong jump is refused when the host cannot vouch.
    vouch = false;
    d.clock.set_ms(at_day(210, 8));
    CHECK(paused(d.me->tick()));
    CHECK(d.days() == range(0, 9));
}

TEST_CASE(
    "Without a second time source retention follows a clock pushed less than 3 days per "
    "run and refuses one more",
    "[tracer][clock][retention]") {
    // ManualClock has no elapsed time (Clock::elapsed_ms), as a restarted process has none to
    // compare with: only the 3-day rule judges it (see elapsed_clock_test.cpp for the rest).
    SECTION("steps of 2.9 days, each followed by a tick, are trusted") {
        Device d(Hearing::kDirect);
        live_days(d, 0, 3);
        std::int64_t now = at_day(2, 8);
        for (int i = 0; i < 6; ++i) {
            now += 29 * kDayMs / 10;
            d.clock.set_ms(now);
            REQUIRE(d.me->tick());
        }
        // 17.4 days on: the window starts after day 2, so all three days are gone.
        CHECK(d.days().empty());
    }
    SECTION("one step of 3.1 days is refused") {
        Device d(Hearing::kDirect);
        live_days(d, 0, 3);
        d.clock.set_ms(at_day(2, 9) + 31 * kDayMs / 10);
        CHECK(paused(d.me->tick()));
        CHECK(d.days() == range(0, 2));
    }
}

TEST_CASE("A suspect clock is logged once, not at every tick", "[tracer][clock][log]") {
    Captured c;
    set_log_sink(&capture, &c, LogLevel::kInfo);
    struct Unset {
        ~Unset() { set_log_sink(nullptr, nullptr); }
    } unset;
    Device d(Hearing::kDirect);
    live_days(d, 0, 2);
    d.clock.set_ms(kYear2100Ms);
    for (int i = 0; i < 20; ++i) {
        CHECK(paused(d.me->tick()));
        d.clock.advance_ms(1000);
    }
    CHECK(c.count(LogLevel::kWarning, "retention paused") == 1);
    CHECK(c.count(LogLevel::kInfo, "retention runs again") == 0);
    d.clock.set_ms(at_day(1, 9));
    REQUIRE(d.me->tick());
    REQUIRE(d.me->tick());
    CHECK(c.count(LogLevel::kInfo, "retention runs again") == 1);
    CHECK(c.count(LogLevel::kWarning, "retention paused") == 1);
}
