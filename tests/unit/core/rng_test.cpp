#include <array>
#include <vector>

#include <catch2/catch.hpp>

#include <sotto/core/rng.hpp>

#include "support.hpp"

using namespace sotto::core;

TEST_CASE("DeterministicRng repeats for a seed and differs across seeds", "[core][rng]") {
    std::array<std::uint8_t, 48> a{}, b{}, c{}, a2{};
    DeterministicRng r1(7), r2(7), r3(8);
    r1.fill(a);
    r2.fill(b);
    r3.fill(c);
    CHECK(a == b);
    CHECK(a != c);
    r1.fill(a2);  // the stream moves on
    CHECK(a2 != a);
}

TEST_CASE("SystemRng produces varying bytes", "[core][rng]") {
    auto rng = SystemRng::create();
    REQUIRE(rng);
    std::array<std::uint8_t, 32> a{}, b{};
    rng->fill(a);
    rng->fill(b);
    CHECK(a != b);
    CHECK(a != std::array<std::uint8_t, 32>{});
}

TEST_CASE("Filling an empty span is a no-op", "[core][rng]") {
    DeterministicRng a(7), b(7);
    std::vector<std::uint8_t> none;
    a.fill(none);  // must not touch a null pointer, nor advance the stream
    std::array<std::uint8_t, 16> x{}, y{};
    a.fill(x);
    b.fill(y);
    CHECK(x == y);
    auto sys = SystemRng::create();
    REQUIRE(sys);
    sys->fill(none);
}
