#pragma once
/// \file
/// What a receiver records: single packets (`Observation`) aggregated per RPI and interval
/// (`Sighting`), with scan instances compact enough to build GAEN v2 ExposureWindows later.
///
/// A phone hears the same beacon several times a second; storing each packet would grow the
/// store without bound. Packets of one RPI heard within `kScanGroupSeconds` of the first packet of
/// a scan collapse into one `ScanRecord` (GAEN groups sightings at most 1.5 × (4 + 13) s apart
/// into one ScanInstance), and all scans of one RPI in one receiver interval form one `Sighting`.

#include <cstdint>
#include <vector>

#include <sotto/core/interval.hpp>
#include <sotto/core/rolling_id.hpp>
#include <sotto/result.hpp>

namespace sotto::core {

/// Packets within this many seconds of a scan's first packet belong to that scan.
inline constexpr std::int64_t kScanGroupSeconds = 25;
/// A sighting keeps at most this many scan records (about 26 fit in one 10-minute interval even
/// with continuous scanning); later scans still count in the totals.
inline constexpr std::size_t kMaxScansPerSighting = 32;
/// Distinct AEMs kept per RPI and receiver interval: the genuine one plus room for garbled or
/// forged copies. Packets with further AEMs are counted and dropped (an attacker can send many).
inline constexpr std::size_t kMaxAemsPerRpi = 4;
/// RSSI values outside this range (dBm) are not physical and are refused on ingest.
inline constexpr int kMinRssiDbm = -127;
inline constexpr int kMaxRssiDbm = 20;

/// One packet heard: when, how strong, what. Unchecked; `HeardBeacon` (core/heard.hpp) is the
/// checked form.
struct Observation {
    std::int64_t time = 0;  ///< Unix seconds, receiver clock
    std::int8_t rssi = 0;   ///< dBm, as measured (no calibration applied)
    Beacon beacon;
};

/// All packets of one RPI within one scan.
struct ScanRecord {
    std::int64_t time = 0;        ///< Unix seconds of the scan's first packet
    std::int8_t rssi_max = -127;  ///< strongest packet (gives the minimum attenuation)
    std::int8_t rssi_min = 20;    ///< weakest packet
    std::uint16_t packets = 0;    ///< saturates at 65535 (then only max/min still change)
    std::int32_t rssi_sum = 0;    ///< sum over packets, for the mean (typical attenuation)

    /// Mean RSSI rounded half away from zero.
    int rssi_mean() const noexcept;
    friend bool operator==(const ScanRecord&, const ScanRecord&) = default;
};

/// Everything heard of one RPI during one interval of the receiver's clock: the unit the
/// encounter store keeps and the matcher reads.
struct Sighting {
    RollingProximityId rpi;
    IntervalNumber interval = 0;  ///< receiver's ENIN of `first_seen`
    /// AEM of the packets. The store keeps one sighting per (RPI, receiver interval, AEM), so a
    /// copy of an RPI with another AEM lands in a sibling sighting (up to kMaxAemsPerRpi).
    AssociatedEncryptedMetadata aem;
    /// Packets of this RPI with another AEM were heard in this interval but are not in a sibling
    /// sighting (beyond kMaxAemsPerRpi, or mixed into one row by a schema-2 store). The matcher
    /// then treats the RPI's metadata as disputed.
    bool aem_conflict = false;
    std::int64_t first_seen = 0;  ///< Unix seconds
    std::int64_t last_seen = 0;
    std::uint32_t count = 0;  ///< packets (saturating)
    std::int8_t rssi_max = -127;
    std::int8_t rssi_min = 20;
    std::vector<ScanRecord> scans;  ///< ordered by time, at most kMaxScansPerSighting

    friend bool operator==(const Sighting&, const Sighting&) = default;
};

/// A sighting holding one observation. The observation must be valid
/// (`HeardBeacon::from_observation`).
Sighting make_sighting(const Observation& o);

/// Adds a packet of the same RPI and receiver interval to `s` (out-of-order times are fine). A
/// packet with another AEM sets `aem_conflict` (callers group packets by AEM first); `aem` stays
/// the AEM of the earliest packet.
void add_observation(Sighting& s, const Observation& o);

/// Merges `other` (same RPI and interval) into `into`: the result is what adding all of
/// `other`'s packets would have given, up to how scans straddling the two are grouped.
void merge_sightings(Sighting& into, const Sighting& other);

}  // namespace sotto::core
