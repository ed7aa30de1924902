// BeaconFeed: strict checks with counted drops, de-duplication, flushing, overflow, failing sinks,
// discarding for an erase.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <thread>
#include <vector>

#include <sotto/ble/beacon_feed.hpp>
#include <sotto/core/payload.hpp>
#include <sotto/core/sighting.hpp>

#include "ble_test_util.hpp"
#include "support.hpp"

using namespace sotto;
using namespace sotto::test;

namespace {

struct TestSink final : ble::ObservationSink {
    std::mutex mu;
    std::vector<core::Observation> got;
    std::vector<std::size_t> batches;
    bool fail = false;
    int calls = 0;
    Result<void> accept(std::span<const core::HeardBeacon> batch) noexcept override {
        std::lock_guard lock(mu);
        ++calls;
        if (fail) return make_error(ErrorCode::kStorageIo, "test: sink down");
        for (const auto& h : batch) got.push_back(h.observation());
        batches.push_back(batch.size());
        return ok();
    }
};

core::ServiceData payload(std::uint8_t id, std::uint8_t aem = 0x40) {
    core::ServiceData d{};
    for (std::size_t i = 0; i < 16; ++i) d[i] = static_cast<std::uint8_t>(id * 7 + i);
    d[16] = aem;
    d[17] = 0xF1;
    return d;
}

struct Heard {
    std::vector<std::uint8_t> bytes;
    ble::HeardAdvertisement adv;
};

Heard heard(std::span<const std::uint8_t> data, int rssi, std::int64_t time_ms,
            std::uint16_t uuid = 0xFD6F) {
    Heard h{{data.begin(), data.end()}, {}};
    h.adv.service_data = h.bytes;
    h.adv.service_uuid = uuid;
    h.adv.rssi_dbm = static_cast<std::int16_t>(rssi);
    h.adv.time_ms = time_ms;
    return h;
}

void feed(ble::BeaconFeed& f, const Heard& h) { f.on_heard(h.adv); }

std::unique_ptr<ble::BeaconFeed> make(TestSink& sink, ble::FeedConfig c = {}) {
    auto f = ble::BeaconFeed::create(sink, c);
    REQUIRE(f.has_value());
    return std::move(*f);
}

std::uint64_t accounted(const ble::FeedCounters& c) {
    CHECK(c.decoded == c.accepted + c.deduplicated + c.dropped_overflow);
    return c.dropped_wrong_uuid + c.dropped_bad_length + c.dropped_bad_rssi + c.dropped_bad_time +
           c.dropped_overflow + c.dropped_stopped + c.dropped_erased + c.accepted + c.deduplicated;
}

constexpr std::int64_t T = kMidnightMs + 3'600'000;

}  // namespace

TEST_CASE("Malformed or foreign advertisements are dropped, counted by reason and never stored",
          "[ble][feed]") {
    TestSink sink;
    auto f = make(sink);
    const auto good = payload(1);
    std::vector<std::uint8_t> short19(good.begin(), good.end() - 1);
    std::vector<std::uint8_t> long21(good.begin(), good.end());
    long21.push_back(0);
    std::vector<std::uint8_t> garbage{0xde, 0xad};
    // Full advertising data is not service data: refused as the wrong length.
    const auto adv_data = core::encode_advertising_data(*core::decode_service_data(good),
                                                        core::AdvertisingForm::kWithFlags);

    feed(*f, heard(short19, -60, T));
    feed(*f, heard(long21, -60, T));
    feed(*f, heard({}, -60, T));
    feed(*f, heard(garbage, -60, T));
    feed(*f, heard(adv_data.view(), -60, T));
    feed(*f, heard(good, -60, T, 0xFD6E));
    feed(*f, heard(good, -60, T, 0x180F));
    feed(*f, heard(good, -128, T));
    feed(*f, heard(good, 21, T));
    feed(*f, heard(good, 127, T));  // BlueZ's "RSSI not available"
    feed(*f, heard(good, 300, T));
    feed(*f, heard(good, -32768, T));
    feed(*f, heard(good, -60, -1));
    feed(*f, heard(good, -60, INT64_MAX));
    REQUIRE(f->flush().has_value());
    CHECK(sink.got.empty());
    CHECK(sink.calls == 0);
    auto c = f->counters();
    CHECK(c.heard == 14);
    CHECK(c.dropped_bad_length == 5);
    CHECK(c.dropped_wrong_uuid == 2);
    CHECK(c.dropped_bad_rssi == 5);
    CHECK(c.dropped_bad_time == 2);
    CHECK(c.accepted == 0);
    CHECK(accounted(c) == c.heard);

    // Positive neighbours: the extremes of the physical range are kept, unclamped.
    feed(*f, heard(good, -127, T));
    feed(*f, heard(payload(2), 20, T));
    REQUIRE(f->flush().has_value());
    REQUIRE(sink.got.size() == 2);
    CHECK(sink.got[0].rssi == -127);
    CHECK(sink.got[1].rssi == 20);
    CHECK(sink.got[0].time == T / 1000);
    CHECK(core::encode_service_data(sink.got[0].beacon) == good);
}

TEST_CASE("Repeats within a second collapse to the strongest and the weakest packet",
          "[ble][feed]") {
    TestSink sink;
    auto f = make(sink);
    const auto p = payload(3);
    const int rssis[] = {-60, -50, -70, -55, -65, -50, -71, -58, -60, -52};
    for (int i = 0; i < 10; ++i) feed(*f, heard(p, rssis[i], T + i * 90));
    // The same beacon in the next second, and another AEM in the same second: kept apart.
    feed(*f, heard(p, -80, T + 1'000));
    feed(*f, heard(payload(3, 0x50), -66, T + 10));
    REQUIRE(f->flush().has_value());
    auto c = f->counters();
    CHECK(c.accepted == 4);
    CHECK(c.deduplicated == 8);
    CHECK(accounted(c) == c.heard);
    REQUIRE(sink.got.size() == 4);
    std::vector<int> first_second;
    for (const auto& o : sink.got)
        if (o.time == T / 1000 && o.beacon.aem.bytes[0] == 0x40) first_second.push_back(o.rssi);
    std::sort(first_second.begin(), first_second.end());
    CHECK(first_second == std::vector<int>{-71, -50});
    // Aggregated like the store does, the extremes and the packets seen per second survive.
    std::vector<core::Observation> same_rpi;
    for (const auto& o : sink.got)
        if (o.beacon.aem.bytes[0] == 0x40) same_rpi.push_back(o);
    auto s = core::make_sighting(same_rpi[0]);
    for (std::size_t i = 1; i < same_rpi.size(); ++i) core::add_observation(s, same_rpi[i]);
    CHECK(s.rssi_max == -50);
    CHECK(s.rssi_min == -80);
    CHECK(s.first_seen == T / 1000);
    CHECK(s.last_seen == T / 1000 + 1);
}

TEST_CASE("A new extreme after a flush is kept as a new observation", "[ble][feed]") {
    TestSink sink;
    auto f = make(sink);
    const auto p = payload(4);
    feed(*f, heard(p, -60, T));
    feed(*f, heard(p, -55, T + 100));
    REQUIRE(f->flush().has_value());
    feed(*f, heard(p, -58, T + 200));  // inside the kept range: folded
    feed(*f, heard(p, -40, T + 300));  // stronger than anything kept: a new observation
    REQUIRE(f->flush().has_value());
    REQUIRE(sink.got.size() == 3);
    CHECK(sink.got[2].rssi == -40);
    CHECK(f->counters().deduplicated == 1);
}

TEST_CASE("The feed flushes by count, by time and on stop", "[ble][feed]") {
    TestSink sink;
    ble::FeedConfig c;
    c.flush_count = 3;
    c.flush_interval_ms = 30'000;
    auto f = make(sink, c);
    SECTION("by count, on the thread that hears") {
        feed(*f, heard(payload(1), -60, T));
        feed(*f, heard(payload(2), -60, T));
        CHECK(sink.got.empty());
        feed(*f, heard(payload(3), -60, T));
        CHECK(sink.got.size() == 3);
        CHECK(f->counters().pending == 0);
    }
    SECTION("by time") {
        feed(*f, heard(payload(1), -60, T));
        REQUIRE(f->tick(T + 29'999).has_value());
        CHECK(sink.got.empty());
        REQUIRE(f->tick(T + 30'000).has_value());
        CHECK(sink.got.size() == 1);
        REQUIRE(f->tick(T + 90'000).has_value());  // nothing pending: no call
        CHECK(sink.calls == 1);
    }
    SECTION("by time when the clock moved back") {
        feed(*f, heard(payload(1), -60, T));
        REQUIRE(f->tick(T - 1).has_value());
        CHECK(sink.got.size() == 1);
    }
    SECTION("on stop, and nothing is taken afterwards") {
        feed(*f, heard(payload(1), -60, T));
        REQUIRE(f->stop().has_value());
        CHECK(sink.got.size() == 1);
        feed(*f, heard(payload(2), -60, T));
        REQUIRE(f->flush().has_value());
        CHECK(sink.got.size() == 1);
        CHECK(f->counters().dropped_stopped == 1);
        REQUIRE(f->stop().has_value());  // idempotent
    }
}

TEST_CASE(
    "When the queue is full new beacons are dropped and counted while queued ones still update",
    "[ble][feed]") {
    TestSink sink;
    sink.fail = true;
    ble::FeedConfig c;
    c.max_pending = 4;
    c.flush_count = 4;
    auto f = make(sink, c);
    for (std::uint8_t i = 1; i <= 6; ++i) feed(*f, heard(payload(i), -60, T));
    auto k = f->counters();
    CHECK(k.pending == 4);
    CHECK(k.dropped_overflow == 2);
    CHECK(k.sink_failures >= 1);
    feed(*f, heard(payload(1), -60, T + 10));  // a repeat: folded, not dropped
    CHECK(f->counters().deduplicated == 1);
    sink.fail = false;
    REQUIRE(f->flush().has_value());
    REQUIRE(sink.got.size() == 4);
    for (std::size_t i = 0; i < 4; ++i)
        CHECK(sink.got[i].beacon.rpi.bytes[0] == payload(static_cast<std::uint8_t>(i + 1))[0]);
    CHECK(accounted(f->counters()) == f->counters().heard);
}

TEST_CASE("A failing sink loses nothing and gets everything in order once it recovers",
          "[ble][feed]") {
    TestSink sink;
    auto f = make(sink);
    sink.fail = true;
    for (std::uint8_t i = 1; i <= 5; ++i) feed(*f, heard(payload(i), -60, T + i));
    auto r = f->flush();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::kStorageIo);
    CHECK(f->counters().pending == 5);
    CHECK(f->counters().sink_failures == 1);
    // While failing, more arrive, and repeats of queued beacons still fold in.
    for (std::uint8_t i = 6; i <= 8; ++i) feed(*f, heard(payload(i), -60, T + 2'000));
    feed(*f, heard(payload(1), -30, T + 1));  // a new strongest packet of a queued beacon
    REQUIRE_FALSE(f->stop().has_value());
    sink.fail = false;
    REQUIRE(f->flush().has_value());
    REQUIRE(sink.got.size() == 9);
    for (std::size_t i = 0; i < 8; ++i)
        CHECK(sink.got[i].beacon.rpi.bytes[0] == payload(static_cast<std::uint8_t>(i + 1))[0]);
    CHECK(sink.got[8].rssi == -30);  // the first observation of beacon 1 was kept as the weakest
    auto c = f->counters();
    CHECK(c.pending == 0);
    CHECK(c.flushed == 9);
    CHECK(c.sink_failures == 2);
    CHECK(accounted(c) == c.heard);
}

TEST_CASE("Feed settings out of range are refused", "[ble][feed]") {
    TestSink sink;
    auto refused = [&](ble::FeedConfig c) {
        auto f = ble::BeaconFeed::create(sink, c);
        REQUIRE_FALSE(f.has_value());
        CHECK(f.error().code == ErrorCode::kInvalidArgument);
    };
    ble::FeedConfig c;
    c.max_pending = 0;
    refused(c);
    c = {};
    c.flush_count = 0;
    refused(c);
    c = {};
    c.flush_count = c.max_pending + 1;
    refused(c);
    c = {};
    c.flush_interval_ms = -1;
    refused(c);
}

TEST_CASE("Many radio threads can feed at once and every packet is accounted for", "[ble][feed]") {
    TestSink sink;
    ble::FeedConfig c;
    c.flush_count = 64;
    auto f = make(sink, c);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 2'000; ++i) {
                const auto p = payload(static_cast<std::uint8_t>(t * 50 + i % 50));
                f->on_heard(heard(p, -40 - i % 30, T + i * 10).adv);
            }
        });
    for (auto& th : threads) th.join();
    REQUIRE(f->flush().has_value());
    auto k = f->counters();
    CHECK(k.heard == 8'000);
    CHECK(accounted(k) == 8'000);
    CHECK(k.pending == 0);
    CHECK(k.flushed == k.accepted);
    CHECK(sink.got.size() == k.accepted);
}

TEST_CASE("Discarding drops what is pending unwritten and what is heard afterwards is kept",
          "[ble][feed]") {
    TestSink sink;
    auto f = make(sink);
    sink.fail = true;
    for (std::uint8_t i = 1; i <= 5; ++i) feed(*f, heard(payload(i), -60, T));
    REQUIRE_FALSE(f->flush().has_value());
    CHECK(f->discard() == 5);
    auto c = f->counters();
    CHECK(c.pending == 0);
    CHECK(c.discarded == 5);
    sink.fail = false;
    REQUIRE(f->flush().has_value());
    CHECK(sink.calls == 1);  // nothing left to offer: the sink is not even called
    CHECK(sink.got.empty());

    // The neighbour: the same beacon in the same second after the discard is a new observation.
    feed(*f, heard(payload(1), -60, T + 10));
    feed(*f, heard(payload(9), -50, T + 20));
    CHECK(f->discard() == 2);
    feed(*f, heard(payload(1), -60, T + 30));
    REQUIRE(f->flush().has_value());
    REQUIRE(sink.got.size() == 1);
    CHECK(sink.got[0].beacon.rpi.bytes[0] == payload(1)[0]);
    c = f->counters();
    CHECK(c.discarded == 7);
    CHECK(c.accepted == c.flushed + c.pending + c.discarded);
    CHECK(accounted(c) == c.heard);
    CHECK(f->discard() == 0);  // nothing pending: nothing counted
}

TEST_CASE("Discarding waits for a running flush whose failed batch is then dropped, not retried",
          "[ble][feed]") {
    struct SlowSink final : ble::ObservationSink {
        std::mutex mu;
        std::condition_variable cv;
        bool entered = false, release = false, fail = true;
        std::vector<core::Observation> got;
        Result<void> accept(std::span<const core::HeardBeacon> batch) noexcept override {
            std::unique_lock lock(mu);
            entered = true;
            cv.notify_all();
            cv.wait(lock, [&] { return release; });
            if (fail) return make_error(ErrorCode::kStorageFull, "test: full");
            for (const auto& h : batch) got.push_back(h.observation());
            return ok();
        }
    } sink;
    auto f = ble::BeaconFeed::create(sink);
    REQUIRE(f.has_value());
    auto& feed_ = **f;
    for (std::uint8_t i = 1; i <= 3; ++i) feed(feed_, heard(payload(i), -60, T));
    std::thread flusher([&] { CHECK_FALSE(feed_.flush().has_value()); });
    {
        std::unique_lock lock(sink.mu);
        sink.cv.wait(lock, [&] { return sink.entered; });
    }
    // The batch is with the sink now; one more arrives meanwhile.
    feed(feed_, heard(payload(4), -60, T));
    std::atomic<bool> discarded{false};
    std::size_t dropped = 0;
    std::thread eraser([&] {
        dropped = feed_.discard();
        discarded = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK_FALSE(discarded.load());  // still waiting for the flush
    {
        std::lock_guard lock(sink.mu);
        sink.release = true;
        sink.fail = true;
    }
    sink.cv.notify_all();
    flusher.join();
    eraser.join();
    CHECK(dropped == 4);  // the refused batch and the packet heard during the flush
    {
        std::lock_guard lock(sink.mu);
        sink.fail = false;
    }
    REQUIRE(feed_.flush().has_value());
    CHECK(sink.got.empty());
    CHECK(feed_.counters().pending == 0);
}

TEST_CASE("A packet stamped at or before the erase mark is refused however late it arrives",
          "[ble][feed]") {
    TestSink sink;
    auto f = make(sink);
    const std::int64_t erased_at = T + 5'000;
    feed(*f, heard(payload(1), -60, T));  // pending at the erase
    CHECK(f->discard(erased_at) == 1);
    CHECK(f->erased_through() == erased_at);
    feed(*f, heard(payload(2), -60, T));              // a host's batch, stamped 5 s before
    feed(*f, heard(payload(3), -60, erased_at));      // stamped in the erase's millisecond
    feed(*f, heard(payload(4), -60, erased_at + 1));  // the neighbour: after the erase
    // An earlier mark does not move it back.
    CHECK(f->discard(T) == 1);
    CHECK(f->erased_through() == erased_at);
    feed(*f, heard(payload(5), -60, erased_at - 1));
    feed(*f, heard(payload(6), -60, erased_at + 2));
    REQUIRE(f->flush().has_value());
    REQUIRE(sink.got.size() == 1);
    CHECK(sink.got[0].beacon.rpi.bytes[0] == payload(6)[0]);
    const auto c = f->counters();
    CHECK(c.dropped_erased == 3);
    CHECK(c.discarded == 2);
    CHECK(accounted(c) == c.heard);
    CHECK(c.accepted == c.flushed + c.pending + c.discarded);
}

TEST_CASE("An erase mark far ahead of the clock is dropped and one within the slack is kept",
          "[ble][feed]") {
    TestSink sink;
    ble::FeedConfig config;
    config.erase_clock_slack_ms = 300'000;
    auto f = make(sink, config);
    const std::int64_t erased_at = T + 3'600'000;  // erased under a clock an hour ahead
    CHECK(f->discard(erased_at) == 0);
    // A clock up to the slack behind the mark keeps it (a late batch is still refused).
    CHECK_FALSE(f->note_clock(erased_at - 300'000));
    REQUIRE(f->tick(erased_at - 300'000).has_value());
    feed(*f, heard(payload(1), -60, erased_at - 300'000));
    CHECK(f->counters().dropped_erased == 1);
    CHECK(f->erased_through() == erased_at);
    // Set back by more: the mark cannot be trusted and is dropped, what is heard now is kept.
    SECTION("noted directly") { CHECK(f->note_clock(erased_at - 300'001)); }
    SECTION("noted by tick") { REQUIRE(f->tick(erased_at - 300'001).has_value()); }
    CHECK(f->erased_through() == ble::kNoErase);
    CHECK_FALSE(f->note_clock(T));  // nothing left to drop
    feed(*f, heard(payload(2), -60, T));
    REQUIRE(f->flush().has_value());
    REQUIRE(sink.got.size() == 1);
    CHECK(sink.got[0].beacon.rpi.bytes[0] == payload(2)[0]);
    const auto c = f->counters();
    CHECK(c.erase_marks_dropped == 1);
    CHECK(c.dropped_erased == 1);
    CHECK(accounted(c) == c.heard);
}

TEST_CASE("Extreme clocks and marks neither overflow nor drop a mark within the slack",
          "[ble][feed]") {
    TestSink sink;
    auto f = make(sink);
    constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
    constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
    CHECK(f->discard(kMax) == 0);
    CHECK_FALSE(f->note_clock(kMax));
    CHECK(f->note_clock(kMin));  // the largest distance there is: dropped, no overflow
    CHECK(f->erased_through() == ble::kNoErase);
    CHECK(f->discard(kMin + 1) == 0);
    CHECK(f->erased_through() == kMin + 1);
    CHECK_FALSE(f->note_clock(kMin));  // 1 ms behind: within the slack
    CHECK_FALSE(f->note_clock(kMax));  // ahead of the mark: nothing to drop
}

TEST_CASE("A negative erase clock slack is refused", "[ble][feed]") {
    TestSink sink;
    ble::FeedConfig config;
    config.erase_clock_slack_ms = -1;
    CHECK_FALSE(ble::BeaconFeed::create(sink, config).has_value());
    config.erase_clock_slack_ms = 0;
    CHECK(ble::BeaconFeed::create(sink, config).has_value());
}

TEST_CASE("A radio thread feeding while the feed is erased loses exactly what it stamped before",
          "[ble][feed]") {
    TestSink sink;
    auto f = make(sink);
    // The radio stamps each packet with a shared clock (1 ms apart, one beacon per packet),
    // sometimes yields between stamping and delivering (a preempted radio thread), and the
    // eraser reads the same clock under the feed's lock.
    std::atomic<std::int64_t> clock{T};
    // It goes on until 500 packets after the erase, however the threads are scheduled.
    constexpr std::size_t kBefore = 2'000, kAfter = 500, kMost = 65'536;
    std::vector<std::int64_t> stamped;  // by packet; written by the radio thread only
    stamped.reserve(kMost);
    std::atomic<std::size_t> delivered{0};
    std::atomic<bool> erased{false};
    std::thread radio([&] {
        std::size_t after = 0;
        for (std::size_t i = 0; i < kMost && after < kAfter; ++i) {
            stamped.push_back(clock.fetch_add(1));
            if (i % 7 == 0) std::this_thread::yield();
            auto p = payload(0);
            p[0] = static_cast<std::uint8_t>(i);
            p[1] = static_cast<std::uint8_t>(i >> 8);
            f->on_heard(heard(p, -60, stamped[i]).adv);
            delivered.fetch_add(1);
            if (erased.load()) ++after;
        }
    });
    while (delivered.load() < kBefore) std::this_thread::yield();
    std::int64_t mark = 0;
    std::size_t sunk_before = 0;  // what count-based flushes wrote before the erase
    (void)f->discard_at([&]() noexcept {
        std::lock_guard lock(sink.mu);  // no flush runs now: discard holds the flush lock
        sunk_before = sink.got.size();
        mark = clock.load();
        return mark;
    });
    erased = true;
    radio.join();
    REQUIRE(stamped.size() < kMost);
    REQUIRE(f->flush().has_value());
    std::vector<bool> got(stamped.size(), false);  // what reached the sink after the erase
    for (std::size_t k = sunk_before; k < sink.got.size(); ++k) {
        const auto& rpi = sink.got[k].beacon.rpi.bytes;
        got.at(static_cast<std::size_t>(rpi[0] | (rpi[1] << 8))) = true;
    }
    std::size_t before = 0, after = 0;
    for (std::size_t i = 0; i < stamped.size(); ++i) {
        const bool was_before = stamped[i] <= mark;
        CAPTURE(i, stamped[i], mark);
        CHECK(got[i] == !was_before);
        (was_before ? before : after) += 1;
    }
    CHECK(before >= kBefore);
    CHECK(after >= kAfter / 2);  // the radio counts from the flag, set just after the mark
}
