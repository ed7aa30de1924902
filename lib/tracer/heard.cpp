// Heard advertisements: strict decoding, a bounded in-memory batch, one store transaction per
// batch.
#include <sotto/core/payload.hpp>
#include <sotto/log.hpp>

#include "tracer/tracer_impl.hpp"

namespace sotto {

Result<void> Tracer::Impl::on_advertisement(std::span<const std::uint8_t> bytes, int rssi_dbm,
                                            std::int64_t time_ms) {
    auto beacon = core::decode_beacon(bytes);
    if (!beacon) {
        counters.malformed.fetch_add(1, std::memory_order_relaxed);
        return beacon.error();
    }
    if (rssi_dbm < core::kMinRssiDbm || rssi_dbm > core::kMaxRssiDbm)
        return make_error(ErrorCode::kOutOfRange, "tracer: RSSI outside -127..20 dBm");
    if (time_ms < 0) return make_error(ErrorCode::kOutOfRange, "tracer: negative time");

    core::Observation o;
    o.time = time_ms / 1000;
    o.rssi = static_cast<std::int8_t>(rssi_dbm);
    o.beacon = *beacon;
    bool full = false;
    {
        std::lock_guard lock(feed_mu);
        if (pending.size() >= options.max_pending) {
            counters.dropped_overflow.fetch_add(1, std::memory_order_relaxed);
            return make_error(ErrorCode::kStorageFull,
                              "tracer: pending buffer full; the store is not taking observations");
        }
        if (pending.empty()) oldest_pending_ms = clock.now_ms();
        pending.push_back(o);  // may throw bad_alloc: caught at the public boundary
        full = pending.size() >= options.flush_count;
    }
    counters.heard.fetch_add(1, std::memory_order_relaxed);
    if (full) {
        // The observation is accepted and pending either way; a failed write is counted and
        // retried at the next flush.
        if (auto r = flush(); !r) return r.error();
    }
    return {};
}

bool Tracer::Impl::flush_due() {
    std::lock_guard lock(feed_mu);
    if (pending.empty()) return false;
    return pending.size() >= options.flush_count ||
           clock.now_ms() - oldest_pending_ms >= options.flush_interval_ms;
}

Result<void> Tracer::Impl::flush() {
    std::lock_guard order(flush_mu);
    std::vector<core::Observation> batch;
    std::int64_t oldest = 0;
    {
        std::lock_guard lock(feed_mu);
        if (pending.empty()) return {};
        batch.swap(pending);
        oldest = oldest_pending_ms;
    }
    Result<store::IngestReport> r = make_error(ErrorCode::kOutOfMemory, "tracer: out of memory");
    try {
        r = store.ingest(batch, clock.now_seconds());
    } catch (const std::bad_alloc&) {
    }
    if (!r) {
        counters.flush_failures.fetch_add(1, std::memory_order_relaxed);
        write_log(LogLevel::kWarning, "tracer: storing heard advertisements failed; kept pending");
        // Put the batch back in front of what arrived meanwhile (order matters for nothing but
        // fairness; the store aggregates by RPI and interval). Bounded by max_pending: the
        // newest arrivals are dropped first.
        std::lock_guard lock(feed_mu);
        try {
            const std::size_t room = options.max_pending > batch.size()
                                         ? options.max_pending - batch.size()
                                         : 0;
            if (pending.size() > room) {
                counters.dropped_overflow.fetch_add(pending.size() - room,
                                                    std::memory_order_relaxed);
                pending.resize(room);
            }
            batch.insert(batch.end(), pending.begin(), pending.end());
            pending.swap(batch);
            oldest_pending_ms = oldest;
        } catch (const std::bad_alloc&) {
            counters.dropped_overflow.fetch_add(batch.size(), std::memory_order_relaxed);
        }
        return r.error();
    }
    counters.stored.fetch_add(r->accepted, std::memory_order_relaxed);
    counters.rejected.fetch_add(r->rejected.size(), std::memory_order_relaxed);
    counters.flushes.fetch_add(1, std::memory_order_relaxed);
    if (!r->rejected.empty())
        write_log_count(LogLevel::kInfo, "tracer: observations refused by the store",
                        r->rejected.size());
    write_log_count(LogLevel::kDebug, "tracer: observations stored", r->accepted);
    {
        // Reuse the capacity for the next batch when nothing arrived meanwhile.
        std::lock_guard lock(feed_mu);
        if (pending.empty() && pending.capacity() < batch.capacity()) {
            batch.clear();
            pending.swap(batch);
        }
    }
    return {};
}

}  // namespace sotto
