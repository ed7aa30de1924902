// The simulated air: configuration, layout and the step loop that delivers packets.
#include <algorithm>
#include <cmath>
#include <new>

#include <sotto/platform/simulated/simulated_radio.hpp>

#include "air_core.hpp"

namespace sotto::platform::simulated {
namespace {

bool finite(Point p) noexcept { return std::isfinite(p.x_m) && std::isfinite(p.y_m); }
bool in(double v, double lo, double hi) noexcept { return std::isfinite(v) && v >= lo && v <= hi; }

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

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
            const auto jitter = static_cast<std::int64_t>(
                packet_hash(air_.config.seed, n.id, 0, n.adv_session, static_cast<std::uint64_t>(k)) %
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
                const Link l{air_.config.seed, tx.id, r.id, tx.adv_session,
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
                const double dx = tx.step_pos.x_m - rx.step_pos.x_m, dy = tx.step_pos.y_m - rx.step_pos.y_m;
                if (dx * dx + dy * dy > range2) return;
                rx.links.emplace_back(tx.id - 1, mean_rssi(tx.step_pos, rx.step_pos, tx.id, rx.id, 0));
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
            air_.deliveries.push_back({air_.nodes[rx.id - 1], rx.scan_gen.load(), rx.on_heard, begin,
                                       air_.packets.size()});
    }

    void prune_relays() {
        for (Relay& r : air_.relays)
            while (!r.queue.empty() && r.queue.front().time_ms < b_) r.queue.pop_front();
    }

private:
    AirCore& air_;
    std::int64_t a_, b_;
};

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

}  // namespace

Node* AirCore::find(NodeId id) const noexcept {
    if (id == 0 || id > nodes.size()) return nullptr;
    Node* n = nodes[id - 1].get();
    return n->removed ? nullptr : n;
}

void AirCore::set_scanning(Node& n, bool on) {
    n.scanning = on;
    auto it = std::lower_bound(scanners.begin(), scanners.end(), n.id);
    const bool listed = it != scanners.end() && *it == n.id;
    if (on && !listed) scanners.insert(it, n.id);
    if (!on && listed) scanners.erase(it);
}

void AirCore::restart_session(Node& n) noexcept {
    n.adv_start_ms = clock->now_ms();
    ++n.adv_session;
    const auto span = static_cast<std::uint64_t>(config.max_adv_interval_ms - config.min_adv_interval_ms + 1);
    n.adv_interval_ms = config.min_adv_interval_ms +
                        static_cast<std::int64_t>(packet_hash(config.seed, n.id, 0xFFFFFFFFu, n.adv_session, 0) % span);
}

void AirCore::deliver_events() {
    struct Pending {
        std::shared_ptr<Node> node;
        std::uint64_t gen;
        std::shared_ptr<const ble::EventCallback> cb;
        std::vector<ble::RadioEvent> events;
    };
    std::vector<Pending> todo;
    {
        std::lock_guard lock(mu);
        if (events_pending == 0) return;
        for (auto& n : nodes) {
            if (n->events.empty()) continue;
            if (n->on_event) todo.push_back({n, n->event_gen.load(), n->on_event, std::move(n->events)});
            n->events.clear();
        }
        events_pending = 0;
    }
    for (const auto& p : todo)
        for (const auto& e : p.events) {
            if (p.node->event_gen.load() != p.gen) break;
            try {
                (*p.cb)(e);
            } catch (...) {
                // A throwing callback breaks its contract; the air carries on.
            }
        }
}

void AirCore::wait_for_delivery() noexcept {
    if (advancing.load() == std::this_thread::get_id()) return;  // called from a callback
    std::lock_guard wait(deliver_mu);
}

Air::Air(std::shared_ptr<AirCore> core) noexcept : core_(std::move(core)) {}
Air::~Air() = default;

Result<std::unique_ptr<Air>> Air::create(ManualClock& clock, const AirConfig& c) noexcept {
    if (!in(c.rssi_at_1m_dbm, -127, 20) || !in(c.path_loss_exponent, 1, 6) ||
        !in(c.noise_sigma_db, 0, 30) || !in(c.packet_loss, 0, 1) || !in(c.sensitivity_dbm, -127, 20) ||
        !in(c.max_range_m, 1, 10'000) || c.min_adv_interval_ms < 20 ||
        c.min_adv_interval_ms > c.max_adv_interval_ms || c.max_adv_interval_ms > 10'240 ||
        c.step_ms < 10 || c.step_ms > 60'000)
        return make_error(ErrorCode::kInvalidArgument, "air: configuration out of range");
    try {
        auto core = std::make_shared<AirCore>();
        core->clock = &clock;
        core->config = c;
        return std::unique_ptr<Air>(new Air(std::move(core)));
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "air: out of memory");
    }
}

Result<std::unique_ptr<SimulatedRadio>> Air::add_radio(Point at) noexcept {
    if (!finite(at)) return make_error(ErrorCode::kInvalidArgument, "air: position is not finite");
    try {
        std::lock_guard lock(core_->mu);
        auto n = std::make_shared<Node>();
        n->id = core_->next_id;
        n->pos = at;
        core_->nodes.push_back(n);
        ++core_->next_id;
        core_->layout_dirty = true;
        // Relays take ids too; keep nodes[id - 1] addressable by padding with removed nodes.
        return std::unique_ptr<SimulatedRadio>(new SimulatedRadio(core_, n->id));
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "air: out of memory");
    }
}

Result<NodeId> Air::add_relay(const RelayConfig& r) noexcept {
    if (!finite(r.listen_at) || !finite(r.emit_at) || r.delay_ms < 0 || r.delay_ms > 86'400'000 ||
        !in(r.gain_db, -50, 50))
        return make_error(ErrorCode::kInvalidArgument, "air: relay configuration out of range");
    try {
        std::lock_guard lock(core_->mu);
        auto placeholder = std::make_shared<Node>();  // keeps ids dense; never listens or sends
        placeholder->id = core_->next_id;
        placeholder->removed = true;
        core_->nodes.push_back(placeholder);
        Relay relay;
        relay.id = core_->next_id++;
        relay.config = r;
        core_->relays.push_back(std::move(relay));
        return core_->relays.back().id;
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "air: out of memory");
    }
}

Result<void> Air::add_wall(const Wall& w) noexcept {
    if (!finite(w.a) || !finite(w.b) || !in(w.attenuation_db, 0, 200))
        return make_error(ErrorCode::kInvalidArgument, "air: wall out of range");
    try {
        std::lock_guard lock(core_->mu);
        core_->walls.push_back(w);
        core_->layout_dirty = true;
        return ok();
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "air: out of memory");
    }
}

Result<void> Air::set_pair_attenuation(NodeId a, NodeId b, double db) noexcept {
    std::lock_guard lock(core_->mu);
    if (!core_->find(a) || !core_->find(b) || a == b || !in(db, 0, 200))
        return make_error(ErrorCode::kInvalidArgument, "air: unknown radio or attenuation out of range");
    try {
        core_->pair_db[{std::min(a, b), std::max(a, b)}] = db;
        core_->layout_dirty = true;
        return ok();
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "air: out of memory");
    }
}

Result<void> Air::set_position(NodeId radio, Point at) noexcept {
    if (!finite(at)) return make_error(ErrorCode::kInvalidArgument, "air: position is not finite");
    std::lock_guard lock(core_->mu);
    Node* n = core_->find(radio);
    if (!n) return make_error(ErrorCode::kInvalidArgument, "air: unknown radio");
    n->path.clear();
    n->path_hint = 0;
    n->pos = at;
    core_->layout_dirty = true;
    return ok();
}

Result<void> Air::set_adapter_present(NodeId radio, bool present) noexcept {
    std::lock_guard lock(core_->mu);
    Node* n = core_->find(radio);
    if (!n) return make_error(ErrorCode::kInvalidArgument, "air: unknown radio");
    if (n->present == present) return ok();
    try {
        n->events.reserve(n->events.size() + 1);
        n->present = present;
        if (!present) {
            core_->set_scanning(*n, false);
            n->events.push_back({ble::RadioEventKind::kAdapterUnavailable,
                                 {ErrorCode::kBleUnavailable, "simulated radio: adapter removed"}});
        } else {
            // The wishes kept while the adapter was away take effect again.
            if (n->want_scan) {
                n->scan_cursor_ms = core_->clock->now_ms();
                core_->set_scanning(*n, true);
            }
            if (n->advertising) core_->restart_session(*n);
            n->events.push_back({ble::RadioEventKind::kAdapterAvailable, {ErrorCode::kOk, ""}});
        }
        ++core_->events_pending;
        return ok();
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "air: out of memory");
    }
}

Result<void> Air::set_path(NodeId radio, std::vector<Waypoint> path) noexcept {
    if (path.empty()) return make_error(ErrorCode::kInvalidArgument, "air: empty path");
    for (std::size_t i = 0; i < path.size(); ++i) {
        if (!finite(path[i].at)) return make_error(ErrorCode::kInvalidArgument, "air: waypoint is not finite");
        if (i > 0 && path[i].time_ms <= path[i - 1].time_ms)
            return make_error(ErrorCode::kInvalidArgument, "air: waypoint times not increasing");
    }
    std::lock_guard lock(core_->mu);
    Node* n = core_->find(radio);
    if (!n) return make_error(ErrorCode::kInvalidArgument, "air: unknown radio");
    n->path = std::move(path);
    n->path_hint = 0;
    core_->layout_dirty = true;
    return ok();
}

Result<Point> Air::position(NodeId radio, std::int64_t time_ms) const noexcept {
    std::lock_guard lock(core_->mu);
    const Node* n = core_->find(radio);
    if (!n) return make_error(ErrorCode::kInvalidArgument, "air: unknown radio");
    return position_at(*n, time_ms);
}

AirCounters Air::counters() const noexcept {
    std::lock_guard lock(core_->mu);
    return core_->counters;
}

Result<void> Air::advance_to(std::int64_t time_ms) noexcept {
    AirCore& air = *core_;
    if (air.advancing.load() == std::this_thread::get_id())
        return make_error(ErrorCode::kFailedPrecondition, "air: advance_to called from a scan callback");
    std::lock_guard deliver(air.deliver_mu);
    if (time_ms < air.clock->now_ms())
        return make_error(ErrorCode::kInvalidArgument, "air: time moves forward only");
    air.advancing.store(std::this_thread::get_id());
    struct Reset {
        AirCore& a;
        ~Reset() { a.advancing.store(std::thread::id{}); }
    } reset{air};
    try {
        air.deliver_events();
        for (std::int64_t now = air.clock->now_ms(); now < time_ms;) {
            {
                // Nobody listens: nothing to simulate until someone does.
                std::lock_guard lock(air.mu);
                if (air.relays.empty() && air.scanners.empty()) {
                    air.clock->set_ms(time_ms);
                    break;
                }
            }
            const std::int64_t step = floor_div(now, air.config.step_ms);
            const std::int64_t end = std::min(time_ms, (step + 1) * air.config.step_ms);
            {
                std::lock_guard lock(air.mu);
                air.packets.clear();
                air.deliveries.clear();
                if (!air.relays.empty() || !air.scanners.empty()) {
                    layout(air, step);
                    Stepper s(air, now, end);
                    s.relays_listen();
                    for (NodeId id : air.scanners) s.listen(*air.nodes[id - 1]);
                    s.prune_relays();
                }
                ++air.counters.steps;
                air.clock->set_ms(end);
            }
            std::uint64_t delivered = 0;
            for (const Delivery& d : air.deliveries) {
                for (std::size_t i = d.begin; i < d.end; ++i) {
                    if (d.node->scan_gen.load() != d.gen) break;  // stopped or replaced meanwhile
                    const Packet& p = air.packets[i];
                    ble::HeardAdvertisement h;
                    h.service_data = std::span<const std::uint8_t>(p.payload.bytes.data(), p.payload.size);
                    h.service_uuid = p.payload.uuid;
                    h.rssi_dbm = p.rssi;
                    h.time_ms = p.time_ms;
                    h.address = p.address;
                    try {
                        (*d.on_heard)(h);
                    } catch (...) {
                        // A throwing callback breaks its contract; the air carries on.
                    }
                    d.node->heard.fetch_add(1, std::memory_order_relaxed);
                    ++delivered;
                }
            }
            {
                std::lock_guard lock(air.mu);
                air.counters.packets_delivered += delivered;
                air.deliveries.clear();
            }
            now = end;
        }
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "air: out of memory");
    }
    return ok();
}

}  // namespace sotto::platform::simulated
