#include "store/row_codec.hpp"

#include <cstring>
#include <limits>

namespace sotto::store::detail {
namespace {

Unexpected<Error> bad_row() {
    return make_error(ErrorCode::kStorageCorrupt, "store: malformed sighting row");
}

bool rssi_ok(std::int64_t v) { return v >= core::kMinRssiDbm && v <= core::kMaxRssiDbm; }

}  // namespace

Result<SightingRow> encode_sighting(const core::Sighting& s) noexcept {
    const std::int64_t start = core::interval_start_seconds(s.interval);
    SightingRow row;
    row.first_offset = s.first_seen - start;
    row.last_offset = s.last_seen - s.first_seen;
    if (row.first_offset < 0 || row.first_offset >= core::kIntervalSeconds || row.last_offset < 0 ||
        row.last_offset > std::numeric_limits<std::uint16_t>::max() ||
        s.scans.size() > core::kMaxScansPerSighting)
        return make_error(ErrorCode::kInternal, "store: sighting breaks the store's invariants");
    std::uint8_t* p = row.scans.data();
    for (const core::ScanRecord& scan : s.scans) {
        const std::int64_t off = scan.time - s.first_seen;
        if (off < 0 || off > std::numeric_limits<std::uint16_t>::max() ||
            scan.rssi_sum < -(1 << 23) || scan.rssi_sum >= (1 << 23))
            return make_error(ErrorCode::kInternal, "store: sighting breaks the store's invariants");
        const auto o = static_cast<std::uint16_t>(off);
        const auto sum = static_cast<std::uint32_t>(scan.rssi_sum);
        p[0] = static_cast<std::uint8_t>(o);
        p[1] = static_cast<std::uint8_t>(o >> 8);
        p[2] = static_cast<std::uint8_t>(scan.rssi_max);
        p[3] = static_cast<std::uint8_t>(scan.rssi_min);
        p[4] = static_cast<std::uint8_t>(scan.packets);
        p[5] = static_cast<std::uint8_t>(scan.packets >> 8);
        p[6] = static_cast<std::uint8_t>(sum);
        p[7] = static_cast<std::uint8_t>(sum >> 8);
        p[8] = static_cast<std::uint8_t>(sum >> 16);
        p += kScanEntryBytes;
    }
    row.scans_size = s.scans.size() * kScanEntryBytes;
    return row;
}

Result<core::Sighting> decode_sighting(const RawRow& row) {
    core::Sighting s;
    if (auto r = decode_sighting_into(row, s); !r) return r.error();
    return s;
}

Result<void> decode_sighting_into(const RawRow& row, core::Sighting& s) {
    if (row.interval < 0 || row.interval > std::numeric_limits<core::IntervalNumber>::max() ||
        row.rpi.size() != core::kRpiBytes || row.aem.size() != core::kAemBytes ||
        (row.aem_conflict != 0 && row.aem_conflict != 1) || row.first_offset < 0 ||
        row.first_offset >= core::kIntervalSeconds || row.last_offset < 0 ||
        row.last_offset > std::numeric_limits<std::uint16_t>::max() || row.count < 1 ||
        row.count > std::numeric_limits<std::uint32_t>::max() || !rssi_ok(row.rssi_max) ||
        !rssi_ok(row.rssi_min) || row.rssi_min > row.rssi_max ||
        row.scans.size() % kScanEntryBytes != 0 || row.scans.size() > kMaxScanBlobBytes)
        return bad_row();
    s.interval = static_cast<core::IntervalNumber>(row.interval);
    std::memcpy(s.rpi.bytes.data(), row.rpi.data(), core::kRpiBytes);
    std::memcpy(s.aem.bytes.data(), row.aem.data(), core::kAemBytes);
    s.aem_conflict = row.aem_conflict != 0;
    s.first_seen = core::interval_start_seconds(s.interval) + row.first_offset;
    s.last_seen = s.first_seen + row.last_offset;
    s.count = static_cast<std::uint32_t>(row.count);
    s.rssi_max = static_cast<std::int8_t>(row.rssi_max);
    s.rssi_min = static_cast<std::int8_t>(row.rssi_min);
    const std::size_t n = row.scans.size() / kScanEntryBytes;
    s.scans.resize(n);
    const std::uint8_t* p = row.scans.data();
    for (std::size_t i = 0; i < n; ++i, p += kScanEntryBytes) {
        core::ScanRecord& scan = s.scans[i];
        scan.time = s.first_seen + static_cast<std::uint16_t>(p[0] | (p[1] << 8));
        scan.rssi_max = static_cast<std::int8_t>(p[2]);
        scan.rssi_min = static_cast<std::int8_t>(p[3]);
        scan.packets = static_cast<std::uint16_t>(p[4] | (p[5] << 8));
        std::uint32_t sum = static_cast<std::uint32_t>(p[6]) | (static_cast<std::uint32_t>(p[7]) << 8) |
                            (static_cast<std::uint32_t>(p[8]) << 16);
        if (sum & 0x800000u) sum |= 0xff000000u;  // sign-extend 24 -> 32 bits
        scan.rssi_sum = static_cast<std::int32_t>(sum);
        if (!rssi_ok(scan.rssi_max) || !rssi_ok(scan.rssi_min) || scan.rssi_min > scan.rssi_max ||
            scan.packets == 0 || (i > 0 && scan.time <= s.scans[i - 1].time))
            return bad_row();
    }
    return ok();
}

}  // namespace sotto::store::detail
