// Allocation failures: every Tracer call returns kOutOfMemory (never throws, never kInternal, never
// blames the key file), and what was stored before is intact afterwards.
//
// This executable replaces the global operator new with one that fails on request: the n-th
// allocation of the calling thread throws std::bad_alloc.
#include <cstdlib>
#include <new>

// GCC sees free() under inlined sized deletes and cannot tell it pairs with the malloc() of the
// replaced operator new below.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <catch2/catch.hpp>

#include <sotto/core/payload.hpp>
#include <sotto/tracer.hpp>

#include "integration/tracer/tracer_test_util.hpp"
#include "support.hpp"

namespace {
thread_local long g_fail_in = -1;  // -1: never fail; n: the n-th allocation from now fails
thread_local bool g_failed = false;
}  // namespace

void* operator new(std::size_t n) {
    if (g_fail_in >= 0 && g_fail_in-- == 0) {
        g_failed = true;
        throw std::bad_alloc();
    }
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return operator new(n);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

using namespace sotto;
using test::kDay0;

namespace {

struct FailAfter {
    explicit FailAfter(long n) {
        g_failed = false;
        g_fail_in = n;
    }
    ~FailAfter() { g_fail_in = -1; }
};

}  // namespace

TEST_CASE("Every allocation failure during import and check gives kOutOfMemory and loses nothing",
          "[tracer][oom]") {
    test::TempDir alice_dir, bob_dir;
    ManualClock clock((kDay0 + 9 * 3600) * 1000);
    auto alice = Tracer::open(alice_dir / "a.db", test::tracer_credential(1), clock);
    REQUIRE(alice);
    test::Air air;
    for (int s = 0; s < 1800; s += 60) {
        air.emplace_back(alice->current_advertisement()->service_data, clock.now_ms());
        clock.advance_ms(60'000);
    }
    clock.set_ms((kDay0 + 10 * 3600) * 1000);
    auto released = alice->release_own_keys(user_confirmed_upload_of_own_keys());
    REQUIRE(released);
    keyfile::TrustStore trust;
    const auto zip = test::publish(*released, trust, kDay0 + 10 * 3600, 50);

    clock.set_ms((kDay0 + 12 * 3600) * 1000);
    TracerOptions o;
    o.trust = trust;
    o.engine.threads = 1;  // allocations on this thread only
    auto bob = Tracer::open(bob_dir / "b.db", test::tracer_credential(2), clock, std::move(o));
    REQUIRE(bob);
    for (const auto& [sd, t] : air) REQUIRE(bob->on_advertisement(sd, -50, t));
    REQUIRE(bob->flush());

    long failures = 0;
    long n = 0;
    for (;; ++n) {
        Result<KeyFileOutcome> imported = make_error(ErrorCode::kInternal, "unset");
        Result<CheckReport> checked = make_error(ErrorCode::kInternal, "unset");
        bool failed = false;
        {
            FailAfter f(n);
            imported = bob->import_key_file(zip, {.rematch = true});
            if (imported) checked = bob->check();
            failed = g_failed;
        }
        if (!failed) {
            // The whole flow ran without an injected failure: every earlier step was covered.
            REQUIRE(imported);
            REQUIRE(checked);
            CHECK(checked->matches.size() == test::distinct_rpis(air));
            break;
        }
        ++failures;
        CAPTURE(n);
        if (!imported) {
            CHECK(imported.error().code == ErrorCode::kOutOfMemory);
        } else if (!checked) {
            CHECK(imported->verified());  // the file itself was never blamed
            CHECK(checked.error().code == ErrorCode::kOutOfMemory);
        } else {
            // The failure hit somewhere the flow tolerates (e.g. a log buffer): results still
            // right.
            CHECK(checked->matches.size() == test::distinct_rpis(air));
        }
        if (!imported || !checked) (void)bob->check();  // close whatever round is open
        REQUIRE(n < 100'000);
    }
    CHECK(failures > 10);
    // Nothing stored was lost, and the Tracer works normally afterwards.
    auto stats = bob->store_stats();
    REQUIRE(stats);
    CHECK(stats->sightings == test::distinct_rows(air));
    auto again = bob->check_files({}, {});
    REQUIRE(again);
    REQUIRE(bob->import_key_file(zip, {.rematch = true}));
    auto final_check = bob->check();
    REQUIRE(final_check);
    CHECK(final_check->matches.size() == test::distinct_rpis(air));
}

TEST_CASE("Allocation failures while feeding drop and count packets and lose nothing stored",
          "[tracer][oom]") {
    test::TempDir dir;
    ManualClock clock((kDay0 + 3600) * 1000);
    TracerOptions o;
    o.flush_count = 4;
    auto t = Tracer::open(dir / "t.db", test::tracer_credential(), clock, std::move(o));
    REQUIRE(t);
    core::ServiceData sd{};
    for (std::uint8_t i = 0; i < 40; ++i) {
        sd[0] = i;
        Result<void> r;
        {
            FailAfter f(i % 5);
            r = t->on_advertisement(sd, -60, clock.now_ms());
        }
        CHECK((r || r.error().code == ErrorCode::kOutOfMemory));
    }
    REQUIRE(t->flush());
    const auto s = t->status();
    CHECK(s.heard == 40);
    CHECK(s.pending == 0);
    CHECK(s.dropped_overflow > 0);  // packets that found no memory are counted, not lost silently
    CHECK(s.stored + s.dropped_overflow == s.heard);
    CHECK(t->store_stats()->sightings == s.stored);  // everything else reached the store
}
