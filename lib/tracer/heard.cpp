// Heard advertisements: checked once here (core::HeardBeacon::decode, both payload forms), then
// lib/ble's BeaconFeed (de-duplication, bounded batching) into the store, one transaction per
// batch; neither checks them again.
#include <new>

#include <sotto/core/heard.hpp>
#include <sotto/log.hpp>

#include "tracer/tracer_impl.hpp"

namespace sotto {

Result<void> Tracer::Impl::on_advertisement(std::span<const std::uint8_t> bytes, int rssi_dbm,
                                            std::int64_t time_ms) {
    auto heard = core::HeardBeacon::decode(bytes, rssi_dbm, time_ms);
    if (!heard) {
        if (heard.error().code == ErrorCode::kInvalidArgument)
            counters.malformed.fetch_add(1, std::memory_order_relaxed);
        return heard.error();
    }
    on_advertisement(*heard);
    return {};
}

void Tracer::Impl::on_advertisement(const core::HeardBeacon& heard) {
    // A clock far behind the last erase drops its mark before this packet meets it (the radio
    // path gets the same through tick).
    (void)feed->note_clock(clock.now_ms());
    feed->on_heard(heard);  // never fails: overflow is counted (TracerStatus::dropped_overflow)
}

Result<void> Tracer::Impl::flush() { return feed->flush(); }

Result<void> Tracer::Impl::StoreSink::accept(std::span<const core::HeardBeacon> batch) noexcept {
    Result<store::IngestReport> r = make_error(ErrorCode::kOutOfMemory, "tracer: out of memory");
    try {
        r = impl.store.ingest(batch, impl.clock.now_seconds());
    } catch (const std::bad_alloc&) {
    } catch (...) {
        r = make_error(ErrorCode::kInternal, "tracer: unexpected exception while storing");
    }
    if (!r) {
        write_log(LogLevel::kWarning, "tracer: storing heard advertisements failed; kept pending");
        return r.error();
    }
    impl.counters.stored.fetch_add(r->accepted, std::memory_order_relaxed);
    impl.counters.rejected.fetch_add(r->rejected.size(), std::memory_order_relaxed);
    if (!r->rejected.empty())
        write_log_count(LogLevel::kInfo, "tracer: observations refused by the store",
                        r->rejected.size());
    write_log_count(LogLevel::kDebug, "tracer: observations stored", r->accepted);
    return {};
}

}  // namespace sotto
