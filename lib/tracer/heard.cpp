// Heard advertisements: strict decoding here (both payload forms), then lib/ble's BeaconFeed
// (checks, de-duplication, bounded batching) into the store, one transaction per batch.
#include <new>

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
    const core::ServiceData sd = core::encode_service_data(*beacon);
    ble::HeardAdvertisement h;
    h.service_data = sd;
    h.service_uuid = core::kExposureNotificationUuid;
    h.rssi_dbm = static_cast<std::int16_t>(rssi_dbm);
    h.time_ms = time_ms;
    // A clock far behind the last erase drops its mark before this packet meets it (the radio
    // path gets the same through tick).
    (void)feed->note_clock(clock.now_ms());
    feed->on_heard(h);  // never fails: overflow is counted (TracerStatus::dropped_overflow)
    return {};
}

Result<void> Tracer::Impl::flush() { return feed->flush(); }

Result<void> Tracer::Impl::StoreSink::accept(std::span<const core::Observation> batch) noexcept {
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
