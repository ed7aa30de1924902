#pragma once
// Internal state of the simulated air, shared by Air and its SimulatedRadios.
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

struct Node {
    NodeId id = 0;
    bool removed = false;
    Point pos;
    std::vector<Waypoint> path;  // empty: `pos`
    Point step_pos;              // position in the current step

    bool advertising = false;
    ble::Advertisement adv;
    std::int64_t adv_start_ms = 0;
    std::int64_t adv_interval_ms = 250;
    std::uint64_t adv_session = 0;

    bool scanning = false;
    std::shared_ptr<const ble::ScanCallback> on_heard;
    std::int64_t scan_cursor_ms = 0;
    std::atomic<std::uint64_t> scan_gen{0};
    // Senders near this receiver in layout `links_layout`: (index into nodes, mean RSSI).
    std::uint64_t links_layout = 0;
    std::vector<std::pair<std::uint32_t, double>> links;

    ble::EventCallback on_event;
    std::atomic<std::uint64_t> heard{0};
    std::uint64_t rotations = 0;
};

struct RelayedPacket {
    std::int64_t time_ms = 0;
    std::uint64_t seq = 0;
    ble::Address address;
    core::ServiceData data{};
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
    core::ServiceData data{};
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

    mutable std::mutex mu;   // all state below
    std::mutex deliver_mu;   // held by advance_to, for the whole call
    std::atomic<std::thread::id> advancing{};

    NodeId next_id = 1;
    std::vector<std::shared_ptr<Node>> nodes;  // radios, ordered by id
    std::vector<NodeId> scanners;              // ids of scanning radios, sorted
    std::vector<Relay> relays;
    std::vector<Wall> walls;
    std::map<std::pair<NodeId, NodeId>, double> pair_db;
    AirCounters counters;

    // Spatial grid of the current step: (cell key, index into `nodes`), sorted.
    std::int64_t grid_step = INT64_MIN;
    bool layout_dirty = true;
    std::uint64_t layout_version = 0;  // bumped at every layout, never 0 once laid out
    std::vector<std::pair<std::uint64_t, std::uint32_t>> grid;

    std::vector<Packet> packets;  // scratch, reused
    std::vector<Delivery> deliveries;

    Node* find(NodeId id) const noexcept;
    void set_scanning(Node& n, bool on);
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
