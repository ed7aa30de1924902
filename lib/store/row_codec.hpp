#pragma once
// How a core::Sighting maps onto a `sightings` row.
//
// The key columns are `interval` (receiver ENIN) and `rpi`; everything else is one BLOB `data`,
// so that reading a row costs SQLite three column extractions instead of ten (the one-day query
// reads some 70,000 rows). Layout, little-endian:
//
//     0   4  AEM (of the first packet)
//     4   1  flags: bit 0 = AEM conflict; other bits zero
//     5   2  u16  first_seen - interval * 600   (0..599: a sighting holds one receiver interval)
//     7   2  u16  last_seen - first_seen
//     9   4  u32  count (packets, saturating)
//     13  1  i8   rssi_max
//     14  1  i8   rssi_min
//     15  9n scan records, in time order:
//                 u16 time - first_seen, i8 rssi_max, i8 rssi_min, u16 packets,
//                 i24 rssi_sum (|sum| <= 65535 * 127 < 2^23)
//
// This keeps exactly what Sighting and ScanRecord hold, so a Sighting round-trips bit for bit.

#include <array>
#include <cstdint>
#include <span>

#include <sotto/core/sighting.hpp>
#include <sotto/result.hpp>

namespace sotto::store::detail {

inline constexpr std::size_t kRowFixedBytes = 15;
inline constexpr std::size_t kScanEntryBytes = 9;
inline constexpr std::size_t kMaxRowDataBytes =
    kRowFixedBytes + kScanEntryBytes * core::kMaxScansPerSighting;

/// The `data` BLOB of a sighting row, ready to bind.
struct SightingRow {
    std::array<std::uint8_t, kMaxRowDataBytes> data{};
    std::size_t size = 0;

    std::span<const std::uint8_t> blob() const noexcept { return {data.data(), size}; }
};

/// Encodes `s`. kInternal if `s` breaks the invariants the store relies on (first_seen outside
/// its interval, scans out of order or too many): the store only writes sightings it built.
Result<SightingRow> encode_sighting(const core::Sighting& s) noexcept;

/// The raw column values of a row.
struct RawRow {
    std::int64_t interval = 0;
    std::span<const std::uint8_t> rpi;
    std::span<const std::uint8_t> data;
};

/// Decodes and checks a row into `out` (reusing its scan vector); kStorageCorrupt when any value
/// is out of its range.
Result<void> decode_sighting_into(const RawRow& row, core::Sighting& out);

/// As `decode_sighting_into`, returning a new Sighting.
Result<core::Sighting> decode_sighting(const RawRow& row);

}  // namespace sotto::store::detail
