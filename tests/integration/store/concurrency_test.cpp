// One writer, many readers: readers on their own connections never block the writer (WAL), and
// one EncounterStore is safe to share between threads (calls are serialized).
#include <atomic>
#include <thread>

#include <sotto/store/encounter_store.hpp>

#include "store/database.hpp"
#include "store/store_access.hpp"
#include "store_test_util.hpp"

using namespace sotto;
using namespace sotto::test;
using store::EncounterStore;

namespace {
std::vector<core::Observation> batch(std::uint32_t b) {
    std::vector<core::Observation> obs;
    for (std::uint32_t i = 0; i < 100; ++i)
        obs.push_back(observation(kNow - 4000 + b, -60, rpi_of(b, i)));
    return obs;
}
}  // namespace

TEST_CASE("Readers on other connections read while one writer ingests", "[store][threads]") {
    TempDir dir;
    const auto p = dir / "s.db";
    auto writer = open_store(p);
    std::atomic<bool> done{false};
    std::atomic<int> reader_errors{0};
    std::atomic<int> reads{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < 3; ++r) {
        readers.emplace_back([&] {
            store::OpenOptions o;
            o.read_only = true;
            auto s = EncounterStore::open(p, raw_credential(1), o);
            if (!s) {
                ++reader_errors;
                return;
            }
            std::uint64_t last = 0;
            while (!done) {
                auto st = s->stats();
                auto day = s->sightings_on_day(kToday);
                if (!st || !day || st->sightings < last) ++reader_errors;
                if (st) last = st->sightings;
                ++reads;
            }
        });
    }
    for (std::uint32_t b = 0; b < 60; ++b) {
        auto r = writer.ingest(batch(b), kNow);
        REQUIRE(r.has_value());
    }
    done = true;
    for (auto& t : readers) t.join();
    CHECK(reader_errors == 0);
    CHECK(reads > 0);
    CHECK(writer.stats()->sightings == 6000);
}

TEST_CASE("One store object can be shared between threads", "[store][threads]") {
    TempDir dir;
    auto s = open_store(dir / "s.db");
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (std::uint32_t t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (std::uint32_t b = 0; b < 10; ++b) {
                if (!s.ingest(batch(t * 1000 + b), kNow)) ++errors;
                if (!s.sighting_intervals()) ++errors;
            }
        });
    }
    for (auto& t : threads) t.join();
    CHECK(errors == 0);
    CHECK(s.stats()->sightings == 4000);
}

TEST_CASE("A second writer waits for the first, and gives up with kStorageBusy",
          "[store][threads]") {
    TempDir dir;
    const auto p = dir / "s.db";
    auto a = open_store(p);
    store::OpenOptions quick;
    quick.busy_timeout_ms = 100;
    auto b = open_store(p, 1, quick);
    REQUIRE(a.ingest(batch(1), kNow));
    // a's connection holds the write lock (as during a long ingest).
    auto& db = store::detail::StoreAccess::database(a);
    REQUIRE(db.exec("BEGIN IMMEDIATE"));
    auto r = b.ingest(batch(2), kNow);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::kStorageBusy);
    // Readers are not blocked by the writer.
    CHECK(b.stats()->sightings == 100);
    REQUIRE(db.exec("COMMIT"));
    // Once the lock is released, writes from both connections interleave fine.
    REQUIRE(b.ingest(batch(2), kNow));
    REQUIRE(a.ingest(batch(3), kNow));
    CHECK(a.stats()->sightings == 300);
    CHECK(b.stats()->sightings == 300);
}
