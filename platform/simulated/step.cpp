// One step of the simulated air: the grid, who hears whom, and which packets arrive.
#include <algorithm>
#include <cmath>

#include "step.hpp"

namespace sotto::platform::simulated {
namespace {

std::uint64_t cell_key(std::int64_t cx, std::int64_t cy) noexcept {
    return static_cast<std::uint64_t>(static_cast<std::uint32_t>(cx)) << 32 |
           static_cast<std::uint32_t>(cy);
}

std::int64_t cell_of(double v, double cell) noexcept {
    return static_cast<std::int64_t>(std::floor(v / cell));
}

// The receiver's view of one sender during one step.
struct Link {
    std::uint64_t seed;
    NodeId tx, rx;
    std::uint64_t session;
    double mean_rssi;
};

class Stepper {
public:
    Stepper(AirCore& air, std::int64_t a, std::int64_t b) : air_(air), a_(a), b_(b) {}

    double mean_rssi(Point tx, Point rx, NodeId tx_id, NodeId rx_id, double gain) const {
        const AirConfig& c = air_.config;
        double m = c.rssi_at_1m_dbm + gain -
                   10.0 * c.path_loss_exponent * std::log10(std::max(distance_m(tx, rx), 0.1));
        if (!air_.walls.empty()) m -= wall_loss_db(air_.walls, tx, rx);
        if (!air_.pair_db.empty()) {
            auto it = air_.pair_db.find({std::min(tx_id, rx_id), std::max(tx_id, rx_id)});
            if (it != air_.pair_db.end()) m -= it->second;
        }
        return m;
    }

    // Whether packet k of the link is received, and with which RSSI.
    bool receive(const Link& l, std::uint64_t k, std::int16_t& rssi) {
        const AirConfig& c = air_.config;
        ++air_.counters.packets_considered;
        const std::uint64_t h = packet_hash(l.seed, l.tx, l.rx, l.session, k);
        if (c.packet_loss > 0 && unit_double(h) < c.packet_loss) {
            ++air_.counters.packets_lost;
            return false;
        }
        double v = l.mean_rssi;
        if (c.noise_sigma_db > 0) v += c.noise_sigma_db * standard_normal(h);
        const double r = std::round(v);
        if (r < c.sensitivity_dbm) {
            ++air_.counters.packets_too_weak;
            return false;
        }
        rssi = static_cast<std::int16_t>(std::clamp(r, -32768.0, 32767.0));
        return true;
    }

    // Calls `out(time, k)` for every packet `n` sends in [from, b_).
    template <class F>
    void each_packet(const Node& n, std::int64_t from, F&& out) {
        const std::int64_t s = n.adv_start_ms, iv = n.adv_interval_ms;
        std::int64_t k = from - s - kAdvJitterMs <= 0 ? 0 : (from - s - kAdvJitterMs) / iv;
        for (; s + k * iv < b_; ++k) {
            const auto jitter =
                static_cast<std::int64_t>(packet_hash(air_.config.seed, n.id, 0, n.adv_session,
                                                      static_cast<std::uint64_t>(k)) %
                                          kAdvJitterMs);
            const std::int64_t t = s + k * iv + jitter;
            if (t >= from && t < b_) out(t, static_cast<std::uint64_t>(k));
        }
    }

    // Advertisers (not `self`) whose cell neighbours `p`.
    template <class F>
    void near(Point p, F&& out) {
        const double cell = air_.config.max_range_m;
        const std::int64_t cx = cell_of(p.x_m, cell), cy = cell_of(p.y_m, cell);
        for (std::int64_t dx = -1; dx <= 1; ++dx)
            for (std::int64_t dy = -1; dy <= 1; ++dy) {
                const std::uint64_t key = cell_key(cx + dx, cy + dy);
                const std::uint64_t b = mix64(key) & air_.bucket_mask;
                for (std::uint32_t i = air_.bucket_begin[b]; i < air_.bucket_begin[b + 1]; ++i)
                    if (air_.grid[i].first == key) out(*air_.nodes[air_.grid[i].second]);
            }
    }

    void relays_listen() {
        for (Relay& r : air_.relays) {
            std::vector<RelayedPacket> got;
            near(r.config.listen_at, [&](const Node& tx) {
                if (!tx.advertising || !tx.present) return;
                if (distance_m(tx.step_pos, r.config.listen_at) > air_.config.max_range_m) return;
                const Link l{
                    air_.config.seed, tx.id, r.id, tx.adv_session,
                    mean_rssi(tx.step_pos, r.config.listen_at, tx.id, r.id, r.config.gain_db)};
                each_packet(tx, a_, [&](std::int64_t t, std::uint64_t k) {
                    std::int16_t rssi = 0;
                    if (receive(l, k, rssi))
                        got.push_back({t + r.config.delay_ms, 0, tx.adv.address, tx.payload});
                });
            });
            std::stable_sort(got.begin(), got.end(),
                             [](const auto& x, const auto& y) { return x.time_ms < y.time_ms; });
            for (auto& p : got) {
                if (r.queue.size() >= kMaxRelayQueue) {
                    ++air_.counters.relay_overflow;
                    continue;
                }
                p.seq = r.next_seq++;
                r.queue.push_back(p);
                ++air_.counters.packets_relayed;
            }
        }
    }

    void listen(Node& rx) {
        const std::int64_t from = std::max(a_, rx.scan_cursor_ms);
        rx.scan_cursor_ms = b_;
        if (from >= b_) return;
        const std::size_t begin = air_.packets.size();
        if (rx.links_layout != air_.layout_version) {
            // Who is in range, and how strong, changes only with the layout: once per step.
            rx.links.clear();
            const double range2 = air_.config.max_range_m * air_.config.max_range_m;
            near(rx.step_pos, [&](const Node& tx) {
                if (tx.id == rx.id) return;
                const double dx = tx.step_pos.x_m - rx.step_pos.x_m,
                             dy = tx.step_pos.y_m - rx.step_pos.y_m;
                if (dx * dx + dy * dy > range2) return;
                rx.links.emplace_back(tx.id - 1,
                                      mean_rssi(tx.step_pos, rx.step_pos, tx.id, rx.id, 0));
            });
            rx.links_layout = air_.layout_version;
        }
        for (const auto& [index, mean] : rx.links) {
            const Node& tx = *air_.nodes[index];
            if (!tx.advertising || !tx.present || tx.removed) continue;
            const Link l{air_.config.seed, tx.id, rx.id, tx.adv_session, mean};
            each_packet(tx, from, [&](std::int64_t t, std::uint64_t k) {
                std::int16_t rssi = 0;
                if (receive(l, k, rssi))
                    air_.packets.push_back({t, tx.id, rssi, tx.adv.address, tx.payload});
            });
        }
        for (const Relay& r : air_.relays) {
            if (distance_m(r.config.emit_at, rx.step_pos) > air_.config.max_range_m) continue;
            const Link l{air_.config.seed, r.id, rx.id, 0,
                         mean_rssi(r.config.emit_at, rx.step_pos, r.id, rx.id, r.config.gain_db)};
            for (const RelayedPacket& p : r.queue) {
                if (p.time_ms >= b_) break;
                std::int16_t rssi = 0;
                if (p.time_ms >= from && receive(l, p.seq, rssi))
                    air_.packets.push_back({p.time_ms, r.id, rssi, p.address, p.payload});
            }
        }
        std::sort(air_.packets.begin() + static_cast<std::ptrdiff_t>(begin), air_.packets.end(),
                  [](const Packet& x, const Packet& y) {
                      return x.time_ms != y.time_ms ? x.time_ms < y.time_ms : x.tx < y.tx;
                  });
        if (air_.packets.size() > begin && rx.on_heard)
            air_.deliveries.push_back({air_.nodes[rx.id - 1], rx.scan_gen.load(), rx.on_heard,
                                       begin, air_.packets.size()});
    }

    void prune_relays() {
        for (Relay& r : air_.relays)
            while (!r.queue.empty() && r.queue.front().time_ms < b_) r.queue.pop_front();
    }

private:
    AirCore& air_;
    std::int64_t a_, b_;
};

}  // namespace

void layout(AirCore& air, std::int64_t step_index) {
    if (air.grid_step == step_index && !air.layout_dirty) return;
    const std::int64_t mid = step_index * air.config.step_ms + air.config.step_ms / 2;
    std::size_t buckets = 64;
    while (buckets < 2 * air.nodes.size()) buckets *= 2;
    air.bucket_mask = buckets - 1;
    air.bucket_begin.assign(buckets + 1, 0);
    // Keys first (in `grid`, unordered), then a counting sort by bucket into place.
    std::vector<std::pair<std::uint64_t, std::uint32_t>> keys;
    keys.reserve(air.nodes.size());
    for (std::uint32_t i = 0; i < air.nodes.size(); ++i) {
        Node& n = *air.nodes[i];
        if (n.removed) continue;
        n.step_pos = position_at(n, mid);
        const std::uint64_t key = cell_key(cell_of(n.step_pos.x_m, air.config.max_range_m),
                                           cell_of(n.step_pos.y_m, air.config.max_range_m));
        keys.emplace_back(key, i);
        ++air.bucket_begin[(mix64(key) & air.bucket_mask) + 1];
    }
    for (std::size_t b = 0; b < buckets; ++b) air.bucket_begin[b + 1] += air.bucket_begin[b];
    air.grid.resize(keys.size());
    std::vector<std::uint32_t> fill(air.bucket_begin.begin(), air.bucket_begin.end() - 1);
    for (const auto& k : keys) air.grid[fill[mix64(k.first) & air.bucket_mask]++] = k;
    air.grid_step = step_index;
    air.layout_dirty = false;
    ++air.layout_version;
}

void simulate_step(AirCore& air, std::int64_t from, std::int64_t to) {
    Stepper s(air, from, to);
    s.relays_listen();
    for (NodeId id : air.scanners) s.listen(*air.nodes[id - 1]);
    s.prune_relays();
}

}  // namespace sotto::platform::simulated
