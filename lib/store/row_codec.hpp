#pragma once
// How a core::Sighting maps onto a `sightings` row, and the compact scan-record BLOB.
//
// Times are stored as offsets: `first_offset = first_seen - interval * 600` (0..599, since a
// sighting holds the packets of one receiver interval), `last_offset = last_seen - first_seen`.
// The scan records are one BLOB of 9-byte entries, in time order:
//
//     u16 LE  time - first_seen (seconds)
//     i8      rssi_max
//     i8      rssi_min
//     u16 LE  packets
//     i24 LE  rssi_sum (|sum| <= 65535 * 127 < 2^23)
//
// This keeps exactly what ScanRecord holds, so a Sighting round-trips bit for bit.

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include <sotto/core/sighting.hpp>
#include <sotto/result.hpp>

namespace sotto::store::detail {

inline constexpr std::size_t kScanEntryBytes = 9;
inline constexpr std::size_t kMaxScanBlobBytes = kScanEntryBytes * core::kMaxScansPerSighting;

/// The non-key columns of a sighting row, ready to bind.
struct SightingRow {
    std::int64_t first_offset = 0;
    std::int64_t last_offset = 0;
    std::array<std::uint8_t, kMaxScanBlobBytes> scans{};
    std::size_t scans_size = 0;

    std::span<const std::uint8_t> scans_blob() const noexcept { return {scans.data(), scans_size}; }
};

/// Encodes `s`. kInternal if `s` breaks the invariants the store relies on (first_seen outside
/// its interval, scans out of order or too many): the store only writes sightings it built.
Result<SightingRow> encode_sighting(const core::Sighting& s) noexcept;

/// The raw column values of a row.
struct RawRow {
    std::int64_t interval = 0;
    std::span<const std::uint8_t> rpi;
    std::span<const std::uint8_t> aem;
    std::int64_t aem_conflict = 0;
    std::int64_t first_offset = 0;
    std::int64_t last_offset = 0;
    std::int64_t count = 0;
    std::int64_t rssi_max = 0;
    std::int64_t rssi_min = 0;
    std::span<const std::uint8_t> scans;
};

/// Decodes and checks a row into `out` (reusing its scan vector); kStorageCorrupt when any value
/// is out of its range.
Result<void> decode_sighting_into(const RawRow& row, core::Sighting& out);

/// As `decode_sighting_into`, returning a new Sighting.
Result<core::Sighting> decode_sighting(const RawRow& row);

}  // namespace sotto::store::detail
