#pragma once
// Internal state of the simulated air, shared by Air and its SimulatedRadios.
#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <sotto/ble/radio.hpp>
#include <sotto/core/payload.hpp>
#include <sotto/platform/simulated/air.hpp>

namespace sotto::platform::simulated {

/// Jitter added to each advertising packet (BLE advDelay): [0, kAdvJitterMs) ms.
inline constexpr std::int64_t kAdvJitterMs = 10;
/// Most packets a relay holds for re-sending; beyond, new captures are dropped and counted.
inline constexpr std::size_t kMaxRelayQueue = 1u << 20;

/// Service data as sent: up to 27 bytes (what fits in a legacy advertisement) under a 16-bit UUID.
inline constexpr std::size_t kMaxServiceDataBytes = 27;
struct Payload {
    std::array<std::uint8_t, kMaxServiceDataBytes> bytes{};
    std::uint8_t size = 0;
    std::uint16_t uuid = core::kExposureNotificationUuid;
};

struct Node {
    NodeId id = 0;
    bool removed = false;
    Point pos;
    std::vector<Waypoint> path;  // empty: `pos`
    mutable std::size_t path_hint =
        0;           // segment used last (positions are mostly asked in time order)
    Point step_pos;  // position in the current step

    bool present = true;       // the simulated adapter is there (Air::set_adapter_present)
    bool advertising = false;  // wanted; on the air only while `present`
    ble::Advertisement adv;    // address and the GAEN payload last set
    Payload payload;           // what is on the air (adv.service_data, or raw bytes)
    std::int64_t adv_start_ms = 0;
    std::int64_t adv_interval_ms = 250;
    std::uint64_t adv_session = 0;

    bool want_scan = false;  // wanted
    bool scanning = false;   // listed in AirCore::scanners: wanted and present
    std::shared_ptr<const ble::ScanCallback> on_heard;
    std::int64_t scan_cursor_ms = 0;
    std::atomic<std::uint64_t> scan_gen{0};
    // Senders near this receiver in layout `links_layout`: (index into nodes, mean RSSI).
    std::uint64_t links_layout = 0;
    std::vector<std::pair<std::uint32_t, double>> links;

    std::shared_ptr<const ble::EventCallback> on_event;
    std::atomic<std::uint64_t> event_gen{0};
    std::vector<ble::RadioEvent> events;  // raised, not yet delivered
    std::atomic<std::uint64_t> heard{0};
    std::uint64_t rotations = 0;
};

struct RelayedPacket {
    std::int64_t time_ms = 0;
    std::uint64_t seq = 0;
    ble::Address address;
    Payload payload;
};

struct Relay {
    NodeId id = 0;
    RelayConfig config;
    std::deque<RelayedPacket> queue;  // ordered by time
    std::uint64_t next_seq = 0;
};

struct Packet {
    std::int64_t time_ms = 0;
    NodeId tx = 0;
    std::int16_t rssi = 0;
    ble::Address address;
    Payload payload;
};

struct Delivery {
    std::shared_ptr<Node> node;
    std::uint64_t gen = 0;
    std::shared_ptr<const ble::ScanCallback> on_heard;
    std::size_t begin = 0, end = 0;  // range in AirCore::packets
};

struct AirCore {
    ManualClock* clock = nullptr;
    AirConfig config;

    mutable std::mutex mu;  // all state below
    std::mutex deliver_mu;  // held by advance_to, for the whole call
    std::atomic<std::thread::id> advancing{};

    NodeId next_id = 1;
    std::vector<std::shared_ptr<Node>> nodes;  // radios, ordered by id
    std::vector<NodeId> scanners;              // ids of scanning radios, sorted
    std::vector<Relay> relays;
    std::vector<Wall> walls;
    std::map<std::pair<NodeId, NodeId>, double> pair_db;
    AirCounters counters;

    // Spatial grid of the current step, bucketed by a hash of the cell (counting sort, O(n)):
    // bucket b holds grid[bucket_begin[b] .. bucket_begin[b + 1]) as (cell key, index into nodes).
    std::int64_t grid_step = INT64_MIN;
    std::vector<std::uint32_t> bucket_begin;
    std::uint64_t bucket_mask = 0;
    bool layout_dirty = true;
    std::uint64_t layout_version = 0;  // bumped at every layout, never 0 once laid out
    std::vector<std::pair<std::uint64_t, std::uint32_t>> grid;

    std::vector<Packet> packets;  // scratch, reused
    std::vector<Delivery> deliveries;

    Node* find(NodeId id) const noexcept;
    void set_scanning(Node& n, bool on);
    /// Starts a new advertising session of `n` now (new interval, packet numbering from 0).
    void restart_session(Node& n) noexcept;
    /// Delivers raised radio events (on the advancing thread, without `mu`).
    void deliver_events();
    std::size_t events_pending = 0;
    /// Waits until no scan callback runs (unless called from the delivering thread).
    void wait_for_delivery() noexcept;
};

// propagation.cpp
std::uint64_t mix64(std::uint64_t x) noexcept;
std::uint64_t packet_hash(std::uint64_t seed, NodeId tx, NodeId rx, std::uint64_t session,
                          std::uint64_t k) noexcept;
double unit_double(std::uint64_t h) noexcept;  // [0, 1)
double standard_normal(std::uint64_t h) noexcept;
Point position_at(const Node& n, std::int64_t time_ms) noexcept;
double wall_loss_db(const std::vector<Wall>& walls, Point a, Point b) noexcept;
double distance_m(Point a, Point b) noexcept;

}  // namespace sotto::platform::simulated
