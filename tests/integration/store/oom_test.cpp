// No store call throws: an allocation failure comes back as kOutOfMemory and loses nothing stored.
// This file replaces the global operator new of the store test program with one that can be told
// to fail (only on the calling thread, only while a test asks for it).
#include <cstdlib>
#include <new>

#include <sotto/store/encounter_store.hpp>

#include "store_test_util.hpp"

namespace {
thread_local bool g_fail_allocations = false;

struct FailAllocations {
    FailAllocations() { g_fail_allocations = true; }
    ~FailAllocations() { g_fail_allocations = false; }
};
}  // namespace

void* operator new(std::size_t n) {
    if (g_fail_allocations) throw std::bad_alloc();
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace sotto;
using namespace sotto::test;

TEST_CASE("An allocation failure inside the store is kOutOfMemory and loses nothing",
          "[store][oom]") {
    TempDir dir;
    auto s = open_store(dir / "s.db");
    std::vector<core::Observation> obs;
    for (std::uint32_t i = 0; i < 50; ++i)
        obs.push_back(observation(kNow - 600 + i, -60, rpi_of(4, i)));
    REQUIRE(s.ingest(obs, kNow)->accepted == 50);
    std::vector<core::Observation> more;
    for (std::uint32_t i = 0; i < 50; ++i)
        more.push_back(observation(kNow - 500 + i, -61, rpi_of(5, i)));
    Result<store::IngestReport> failed = make_error(ErrorCode::kOk, "");
    Result<std::vector<core::Sighting>> read = make_error(ErrorCode::kOk, "");
    {
        FailAllocations oom;
        failed = s.ingest(more, kNow);
        read = s.sightings_in_range(0, 1ull << 32);
    }
    REQUIRE_FALSE(failed.has_value());
    CHECK(failed.error().code == ErrorCode::kOutOfMemory);
    REQUIRE_FALSE(read.has_value());
    CHECK(read.error().code == ErrorCode::kOutOfMemory);
    // Nothing of the failed batch was stored, nothing before it lost, and the store still works.
    CHECK(s.stats()->sightings == 50);
    CHECK(s.verify().has_value());
    REQUIRE(s.ingest(more, kNow)->accepted == 50);
    CHECK(s.stats()->sightings == 100);
}
