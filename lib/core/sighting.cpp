#include <algorithm>
#include <limits>

#include <sotto/core/sighting.hpp>

namespace sotto::core {
namespace {

std::uint32_t saturating_add(std::uint32_t a, std::uint32_t b) noexcept {
    return a > std::numeric_limits<std::uint32_t>::max() - b
               ? std::numeric_limits<std::uint32_t>::max()
               : a + b;
}

void add_to_scan(ScanRecord& scan, std::uint16_t packets, std::int32_t rssi_sum,
                 std::int8_t rssi_max, std::int8_t rssi_min) noexcept {
    scan.rssi_max = std::max(scan.rssi_max, rssi_max);
    scan.rssi_min = std::min(scan.rssi_min, rssi_min);
    // The mean keeps the sample it has once the packet count saturates at 65535.
    const std::uint32_t total = static_cast<std::uint32_t>(scan.packets) + packets;
    if (total > std::numeric_limits<std::uint16_t>::max()) return;
    scan.packets = static_cast<std::uint16_t>(total);
    scan.rssi_sum += rssi_sum;
}

// Puts a scan's worth of packets into the time-ordered scan list: joins the scan whose window
// [time, time + kScanGroupSeconds] holds `scan.time`, or inserts it in order.
void place_scan(std::vector<ScanRecord>& scans, const ScanRecord& scan) {
    auto it = std::upper_bound(scans.begin(), scans.end(), scan.time,
                               [](std::int64_t t, const ScanRecord& s) { return t < s.time; });
    if (it != scans.begin()) {
        ScanRecord& prev = *(it - 1);
        if (scan.time - prev.time <= kScanGroupSeconds) {
            add_to_scan(prev, scan.packets, scan.rssi_sum, scan.rssi_max, scan.rssi_min);
            return;
        }
    }
    if (it != scans.end() && it->time - scan.time <= kScanGroupSeconds) {
        // The new packets start this later scan: it moves back to their time.
        ScanRecord merged = scan;
        add_to_scan(merged, it->packets, it->rssi_sum, it->rssi_max, it->rssi_min);
        *it = merged;
        return;
    }
    if (scans.size() >= kMaxScansPerSighting) return;  // totals still count the packets
    scans.insert(it, scan);
}

}  // namespace

int ScanRecord::rssi_mean() const noexcept {
    if (packets == 0) return 0;
    const double m = static_cast<double>(rssi_sum) / packets;
    return static_cast<int>(m < 0 ? m - 0.5 : m + 0.5);
}

Sighting make_sighting(const Observation& o) {
    Sighting s;
    s.rpi = o.beacon.rpi;
    s.aem = o.beacon.aem;
    s.interval = interval_number(o.time).value_or(0);
    s.first_seen = s.last_seen = o.time;
    s.count = 1;
    s.rssi_max = s.rssi_min = o.rssi;
    s.scans.push_back({o.time, o.rssi, o.rssi, 1, o.rssi});
    return s;
}

void add_observation(Sighting& s, const Observation& o) {
    if (o.beacon.aem != s.aem) s.aem_conflict = true;
    if (o.time < s.first_seen) {
        s.first_seen = o.time;
        s.aem = o.beacon.aem;  // `aem` is the AEM of the earliest packet, as in merge_sightings
    }
    if (o.time > s.last_seen) s.last_seen = o.time;
    s.count = saturating_add(s.count, 1);
    s.rssi_max = std::max(s.rssi_max, o.rssi);
    s.rssi_min = std::min(s.rssi_min, o.rssi);
    place_scan(s.scans, {o.time, o.rssi, o.rssi, 1, o.rssi});
}

void merge_sightings(Sighting& into, const Sighting& other) {
    if (other.aem != into.aem || other.aem_conflict) into.aem_conflict = true;
    if (other.first_seen < into.first_seen) {
        // The earlier sighting's AEM is "the first one heard".
        into.aem = other.aem;
        into.first_seen = other.first_seen;
    }
    into.last_seen = std::max(into.last_seen, other.last_seen);
    into.count = saturating_add(into.count, other.count);
    into.rssi_max = std::max(into.rssi_max, other.rssi_max);
    into.rssi_min = std::min(into.rssi_min, other.rssi_min);
    for (const ScanRecord& scan : other.scans) place_scan(into.scans, scan);
}

}  // namespace sotto::core
