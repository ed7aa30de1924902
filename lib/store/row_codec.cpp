#include "store/row_codec.hpp"

#include <cstring>
#include <limits>

namespace sotto::store::detail {
namespace {

Unexpected<Error> bad_row() {
    return make_error(ErrorCode::kStorageCorrupt, "store: malformed sighting row");
}

bool rssi_ok(int v) { return v >= core::kMinRssiDbm && v <= core::kMaxRssiDbm; }

void put_u16(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v);
    p[1] = static_cast<std::uint8_t>(v >> 8);
}
std::uint16_t get_u16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}

}  // namespace

Result<SightingRow> encode_sighting(const core::Sighting& s) noexcept {
    const std::int64_t first_offset = s.first_seen - core::interval_start_seconds(s.interval);
    const std::int64_t last_offset = s.last_seen - s.first_seen;
    if (first_offset < 0 || first_offset >= core::kIntervalSeconds || last_offset < 0 ||
        last_offset > std::numeric_limits<std::uint16_t>::max() ||
        s.scans.size() > core::kMaxScansPerSighting)
        return make_error(ErrorCode::kInternal, "store: sighting breaks the store's invariants");
    SightingRow row;
    std::uint8_t* p = row.data.data();
    std::memcpy(p, s.aem.bytes.data(), core::kAemBytes);
    p[4] = s.aem_conflict ? 1 : 0;
    put_u16(p + 5, static_cast<std::uint32_t>(first_offset));
    put_u16(p + 7, static_cast<std::uint32_t>(last_offset));
    for (int i = 0; i < 4; ++i) p[9 + i] = static_cast<std::uint8_t>(s.count >> (8 * i));
    p[13] = static_cast<std::uint8_t>(s.rssi_max);
    p[14] = static_cast<std::uint8_t>(s.rssi_min);
    p += kRowFixedBytes;
    for (const core::ScanRecord& scan : s.scans) {
        const std::int64_t off = scan.time - s.first_seen;
        if (off < 0 || off > std::numeric_limits<std::uint16_t>::max() ||
            scan.rssi_sum < -(1 << 23) || scan.rssi_sum >= (1 << 23))
            return make_error(ErrorCode::kInternal,
                              "store: sighting breaks the store's invariants");
        const auto sum = static_cast<std::uint32_t>(scan.rssi_sum);
        put_u16(p, static_cast<std::uint32_t>(off));
        p[2] = static_cast<std::uint8_t>(scan.rssi_max);
        p[3] = static_cast<std::uint8_t>(scan.rssi_min);
        put_u16(p + 4, scan.packets);
        p[6] = static_cast<std::uint8_t>(sum);
        p[7] = static_cast<std::uint8_t>(sum >> 8);
        p[8] = static_cast<std::uint8_t>(sum >> 16);
        p += kScanEntryBytes;
    }
    row.size = kRowFixedBytes + s.scans.size() * kScanEntryBytes;
    return row;
}

Result<core::Sighting> decode_sighting(const RawRow& row) {
    core::Sighting s;
    if (auto r = decode_sighting_into(row, s); !r) return r.error();
    return s;
}

Result<void> decode_sighting_into(const RawRow& row, core::Sighting& s) {
    const std::size_t n = row.data.size();
    if (row.interval < 0 || row.interval > std::numeric_limits<core::IntervalNumber>::max() ||
        row.rpi.size() != core::kRpiBytes || n < kRowFixedBytes || n > kMaxRowDataBytes ||
        (n - kRowFixedBytes) % kScanEntryBytes != 0)
        return bad_row();
    const std::uint8_t* p = row.data.data();
    const std::uint16_t first_offset = get_u16(p + 5);
    const std::uint16_t last_offset = get_u16(p + 7);
    std::uint32_t count = 0;
    for (int i = 3; i >= 0; --i) count = (count << 8) | p[9 + i];
    const auto rssi_max = static_cast<std::int8_t>(p[13]);
    const auto rssi_min = static_cast<std::int8_t>(p[14]);
    if (p[4] > 1 || first_offset >= core::kIntervalSeconds || count == 0 || !rssi_ok(rssi_max) ||
        !rssi_ok(rssi_min) || rssi_min > rssi_max)
        return bad_row();

    s.interval = static_cast<core::IntervalNumber>(row.interval);
    std::memcpy(s.rpi.bytes.data(), row.rpi.data(), core::kRpiBytes);
    std::memcpy(s.aem.bytes.data(), p, core::kAemBytes);
    s.aem_conflict = p[4] == 1;
    s.first_seen = core::interval_start_seconds(s.interval) + first_offset;
    s.last_seen = s.first_seen + last_offset;
    s.count = count;
    s.rssi_max = rssi_max;
    s.rssi_min = rssi_min;
    const std::size_t scans = (n - kRowFixedBytes) / kScanEntryBytes;
    s.scans.resize(scans);
    p += kRowFixedBytes;
    for (std::size_t i = 0; i < scans; ++i, p += kScanEntryBytes) {
        core::ScanRecord& scan = s.scans[i];
        scan.time = s.first_seen + get_u16(p);
        scan.rssi_max = static_cast<std::int8_t>(p[2]);
        scan.rssi_min = static_cast<std::int8_t>(p[3]);
        scan.packets = get_u16(p + 4);
        std::uint32_t sum = static_cast<std::uint32_t>(p[6]) |
                            (static_cast<std::uint32_t>(p[7]) << 8) |
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
