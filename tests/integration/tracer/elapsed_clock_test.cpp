// The second time source within one process: a clock with an elapsed time (Clock::elapsed_ms,
// CLOCK_BOOTTIME for SystemClock) lets the Tracer tell a wall clock pushed ahead in small steps
// from time really passing, suspend included.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <sotto/clock.hpp>
#include <sotto/log.hpp>

#include "capi/handles.hpp"
#include "integration/tracer/tracer_test_util.hpp"

using namespace sotto;
using test::capture;
using test::Captured;
using test::kDay0;
using test::range;

namespace {

// A suspect clock pauses retention; it is not an error of the tick.
bool paused(const Result<TickReport>& t) {
    return t && t->retention == RetentionRun::kPausedClockSuspect;
}

constexpr std::int64_t kHourMs = 3'600'000;
constexpr std::int64_t kDayMs = 24 * kHourMs;

std::int64_t at_day(int day, int hour) { return (kDay0 + day * 86400 + hour * 3600) * 1000; }

// A wall clock and an elapsed-time clock the test moves apart or together.
class TwoSourceClock final : public Clock {
public:
    explicit TwoSourceClock(std::int64_t wall_ms) : wall_(wall_ms), elapsed_(123'456) {}
    std::int64_t now_ms() const noexcept override { return wall_.load(); }
    std::optional<std::int64_t> elapsed_ms() const noexcept override { return elapsed_.load(); }
    /// Real time passes (awake or suspended): both move.
    void pass(std::int64_t ms) {
        wall_ += ms;
        elapsed_ += ms;
    }
    /// Someone sets the wall clock: only it moves.
    void set_wall(std::int64_t ms) { wall_ = ms; }

private:
    std::atomic<std::int64_t> wall_;
    std::atomic<std::int64_t> elapsed_;
};

struct Phone {
    explicit Phone(TracerOptions o = {}) : clock(at_day(0, 8)) {
        o.flush_interval_ms = 0;
        me.emplace(test::open_at(dir, clock, std::move(o)));
    }
    // A tick, then a minute of hearing fresh beacons (real time passes).
    void live_minute() {
        REQUIRE(me->tick());
        for (int s = 0; s < 60; ++s) {
            REQUIRE(me->on_advertisement(test::fake_sd(++seed), -60, clock.now_ms()));
            clock.pass(1000);
        }
        REQUIRE(me->flush());
    }
    // `days` ordinary days: a minute of life, then the rest of the day passes.
    void live_days(int days) {
        for (int i = 0; i < days; ++i) {
            live_minute();
            clock.pass(kDayMs - 60'000);
        }
    }
    std::set<std::int64_t> days() const { return test::stored_days(dir); }

    test::TempDir dir;
    TwoSourceClock clock;
    std::optional<Tracer> me;
    std::uint32_t seed = 0;
};

}  // namespace

TEST_CASE("A wall clock pushed ahead in small steps without time passing deletes nothing",
          "[tracer][clock][retention][elapsed]") {
    Captured c;
    set_log_sink(&capture, &c, LogLevel::kInfo);
    struct Unset {
        ~Unset() { set_log_sink(nullptr, nullptr); }
    } unset;
    bool vouch = false;
    int asked = 0;
    TracerOptions o;
    o.clock_confirmed = [&] {
        ++asked;
        return vouch;
    };
    Phone p(std::move(o));
    p.live_days(9);
    p.live_minute();  // the last run: day 9 08:00
    REQUIRE(p.days() == range(0, 9));
    const auto keys = *p.me->own_key_count();
    // Five steps of 2 days 21 h, each under the 3-day rule, a few minutes apart in real time
    // (without the elapsed time, they delete days 0-9: see clock_test.cpp).
    for (int i = 0; i < 5; ++i) {
        p.clock.set_wall(p.clock.now_ms() + 2 * kDayMs + 21 * kHourMs);
        auto t = p.me->tick();
        CHECK(paused(t));
        CHECK(p.me->status().clock_suspect);
        p.clock.pass(120'000);
    }
    CHECK(p.days() == range(0, 9));
    CHECK(asked == 5);
    CHECK(c.count(LogLevel::kWarning, "retention paused") == 1);
    CHECK(*p.me->own_key_count() >= keys);
    // Explicit retention without confirmation is refused the same way.
    CHECK(p.me->apply_retention().error().code == ErrorCode::kClockSuspect);
    CHECK(p.days() == range(0, 9));
    // The host vouches for the new time: the old days go, and the check starts again from there.
    vouch = true;
    REQUIRE(p.me->tick());
    CHECK(asked == 6);
    CHECK_FALSE(p.me->status().clock_suspect);
    CHECK(c.count(LogLevel::kInfo, "retention runs again") == 1);
    CHECK(p.days().empty());  // 14 days 9 h on, the window of day 23 starts at day 10
}

TEST_CASE("A wall clock pushed ahead by less than an hour is not suspect, by more it is",
          "[tracer][clock][retention][elapsed]") {
    const std::int64_t push = GENERATE(55 * 60'000, 65 * 60'000);
    CAPTURE(push);
    Phone p;
    p.live_days(3);
    p.clock.set_wall(p.clock.now_ms() + push);  // NTP or a person corrects a clock
    p.clock.pass(kDayMs);                       // and a day later the next daily run
    auto t = p.me->tick();
    if (push < kHourMs) {
        REQUIRE(t);
        CHECK_FALSE(p.me->status().clock_suspect);
    } else {
        CHECK(paused(t));
        CHECK(p.me->status().clock_suspect);
    }
}

TEST_CASE("Wall clock and elapsed time moving together delete exactly what left the window",
          "[tracer][clock][retention][elapsed]") {
    Phone p;
    for (int i = 0; i < 30; ++i) {
        p.live_days(1);
        CAPTURE(i);
        CHECK(p.days() == range(std::max(0, i - 13), i));
        CHECK_FALSE(p.me->status().clock_suspect);
    }
    CHECK(*test::stored_anchor(p.dir) == at_day(29, 8) / 1000);
}

TEST_CASE("A suspend of almost 3 days is ordinary time, not a jump",
          "[tracer][clock][retention][elapsed]") {
    Phone p;
    p.live_days(14);
    REQUIRE(p.days() == range(0, 13));
    // Suspended (CLOCK_BOOTTIME keeps counting) from day 14 08:00 to day 16 07:00, 2 days 23 h
    // after the last run.
    p.clock.pass(2 * kDayMs - kHourMs);
    REQUIRE(p.me->tick());
    CHECK_FALSE(p.me->status().clock_suspect);
    CHECK(p.days() == range(3, 13));  // the window of day 16 starts at day 3
}

TEST_CASE("A restart forgets the elapsed time: then only the 3-day rule judges the clock",
          "[tracer][clock][retention][elapsed]") {
    Phone p;
    p.live_days(10);  // the last run: day 9 08:00; now day 10 08:00
    p.clock.set_wall(p.clock.now_ms() + kDayMs + 20 * kHourMs);
    CHECK(paused(p.me->tick()));
    p.me.reset();
    p.me.emplace(test::open_at(p.dir, p.clock));
    // The store's anchor (day 9 08:00) is 2 days 20 h behind: within its rule.
    REQUIRE(p.me->tick());
    CHECK_FALSE(p.me->status().clock_suspect);
    CHECK(p.days() == range(0, 9));  // the window of day 12 still holds them all
    CHECK(*test::stored_anchor(p.dir) == at_day(12, 4) / 1000);
}

TEST_CASE("SystemClock reads CLOCK_BOOTTIME on Linux, ManualClock has no elapsed time",
          "[tracer][clock][elapsed]") {
    CHECK_FALSE(ManualClock(5).elapsed_ms().has_value());
    const SystemClock sys;
#if defined(__linux__)
    const auto a = sys.elapsed_ms();
    REQUIRE(a.has_value());
    struct timespec ts {};
    REQUIRE(::clock_gettime(CLOCK_BOOTTIME, &ts) == 0);
    const std::int64_t boot = static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
    CHECK(*a <= boot);
    CHECK(boot - *a < 5'000);
    const auto b = sys.elapsed_ms();
    REQUIRE(b.has_value());
    CHECK(*b >= *a);
#else
    CHECK_FALSE(sys.elapsed_ms().has_value());
#endif
}

TEST_CASE("The C ABI's clock has an elapsed time only when it is the system clock",
          "[tracer][clock][elapsed][capi]") {
    const capi::CallbackClock system(nullptr, nullptr);
    CHECK(system.elapsed_ms().has_value() == SystemClock{}.elapsed_ms().has_value());
    std::int64_t host_now = 1'614'556'800'000;
    const capi::CallbackClock host(
        [](void* ud) -> std::int64_t { return *static_cast<std::int64_t*>(ud); }, &host_now);
    CHECK(host.now_ms() == host_now);
    CHECK_FALSE(host.elapsed_ms().has_value());  // a host's wall clock says nothing about elapsed
}
