// Fuzz target: BeaconFeed driven by a byte script of heard advertisements, flushes, ticks, sink
// failures, stops and discards. Invariants: never crash; every heard advertisement is counted
// exactly once; the sink only ever sees valid observations; once the sink works, a flush leaves
// nothing pending and everything accepted was delivered exactly once or discarded.
//
// Script records: op (1 byte), then for op % 5 == 0 (heard): uuid (2), rssi (2, signed),
// time step in ms (2), length (1, taken modulo 28), that many bytes of service data.
// op % 5: 1 flush, 2 tick, 3 toggle sink failure, 4 stop (op < 0x80) or discard (op >= 0x80).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <sotto/ble/beacon_feed.hpp>

namespace {

struct CheckingSink final : sotto::ble::ObservationSink {
    bool fail = false;
    std::uint64_t taken = 0;
    sotto::Result<void> accept(std::span<const sotto::core::HeardBeacon> batch) noexcept override {
        for (const auto& h : batch)
            if (!sotto::core::HeardBeacon::from_observation(h.observation())) std::abort();
        if (fail) return sotto::make_error(sotto::ErrorCode::kStorageIo, "fuzz: sink down");
        taken += batch.size();
        return sotto::ok();
    }
};

void check(const sotto::ble::FeedCounters& c) {
    const std::uint64_t sum = c.dropped_wrong_uuid + c.dropped_bad_length + c.dropped_bad_rssi +
                              c.dropped_bad_time + c.dropped_overflow + c.dropped_stopped +
                              c.dropped_erased + c.accepted + c.deduplicated;
    if (sum != c.heard) std::abort();
    if (c.decoded != c.accepted + c.deduplicated + c.dropped_overflow) std::abort();
    if (c.pending > 8) std::abort();  // max_pending
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    CheckingSink sink;
    sotto::ble::FeedConfig config;
    config.max_pending = 8;
    config.flush_count = 4;
    config.flush_interval_ms = 1'000;
    auto feed = sotto::ble::BeaconFeed::create(sink, config);
    if (!feed) std::abort();
    std::int64_t now = 1'700'000'000'000;
    std::size_t i = 0;
    while (i < size) {
        const std::uint8_t op = data[i++];
        switch (op % 5) {
            case 0: {
                if (size - i < 7) return 0;
                sotto::ble::HeardAdvertisement h;
                h.service_uuid = static_cast<std::uint16_t>(data[i] | data[i + 1] << 8);
                h.rssi_dbm = static_cast<std::int16_t>(data[i + 2] | data[i + 3] << 8);
                now += static_cast<std::int64_t>(data[i + 4] | data[i + 5] << 8) -
                       1'000;  // may go back
                const std::size_t len = data[i + 6] % 28;
                i += 7;
                if (size - i < len) return 0;
                h.service_data = {data + i, len};
                h.time_ms = now;
                i += len;
                (*feed)->on_heard(h);
                break;
            }
            case 1:
                (void)(*feed)->flush();
                break;
            case 2:
                (void)(*feed)->tick(now);
                break;
            case 3:
                sink.fail = !sink.fail;
                break;
            default:
                if (op < 0x80) {
                    (void)(*feed)->stop();
                } else {
                    const auto before = (*feed)->counters();
                    if ((*feed)->discard() != before.pending) std::abort();
                }
                break;
        }
        check((*feed)->counters());
    }
    sink.fail = false;
    if (!(*feed)->flush()) std::abort();
    const auto c = (*feed)->counters();
    check(c);
    if (c.pending != 0 || c.flushed + c.discarded != c.accepted || sink.taken != c.flushed)
        std::abort();
    return 0;
}
