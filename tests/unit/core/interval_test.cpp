#include <catch2/catch.hpp>

#include <sotto/core/interval.hpp>
#include <sotto/core/keys.hpp>

#include "support.hpp"

using namespace sotto::core;

TEST_CASE("ENIntervalNumber is floor(unix seconds / 600)", "[core][interval]") {
    CHECK(*interval_number(1585785600) == 2642976u);  // 2020-04-02T00:00:00Z (spec example)
    CHECK(*interval_number(1585785599) == 2642975u);
    CHECK(*interval_number(1585786199) == 2642976u);
    CHECK(*interval_number(1585786200) == 2642977u);
    CHECK(*interval_number(0) == 0u);
    CHECK(interval_start_seconds(2642976) == 1585785600);
    CHECK(day_start_interval(2643119) == 2642976u);
    CHECK(day_start_interval(2643120) == 2643120u);
    CHECK(day_number(2642976) == 18354u);
}

TEST_CASE("Times outside the uint32 interval range are refused", "[core][interval]") {
    CHECK(interval_number(-1).error().code == sotto::ErrorCode::kOutOfRange);
    const std::int64_t last = 4294967295LL * 600;
    CHECK(*interval_number(last + 599) == 4294967295u);
    CHECK(interval_number(last + 600).error().code == sotto::ErrorCode::kOutOfRange);
}

TEST_CASE("A new TEK starts at UTC midnight and lasts 144 intervals", "[core][keys]") {
    DeterministicRng rng(1);
    const IntervalNumber noon = 2642976 + 72;
    ExposureKey k = generate_tek(rng, noon);
    CHECK(k.rolling_start == 2642976u);
    CHECK(k.rolling_period == 144u);
    CHECK(k.valid_at(2642976));
    CHECK(k.valid_at(2643119));
    CHECK_FALSE(k.valid_at(2642975));
    CHECK_FALSE(k.valid_at(2643120));
    CHECK_FALSE(tek_needs_rolling(k, 2643119));
    CHECK(tek_needs_rolling(k, 2643120));

    ExposureKey next = generate_tek(rng, 2643120);
    CHECK(next.rolling_start == 2643120u);
    CHECK_FALSE(next.tek == k.tek);  // fresh randomness, no link between TEKs
}
