// The simulated air: configuration, layout, adapters, events and the step loop that delivers
// packets.
#include <algorithm>
#include <cmath>
#include <new>

#include <sotto/platform/simulated/simulated_radio.hpp>

#include "step.hpp"

namespace sotto::platform::simulated {
namespace {

// The last millisecond an ENIN (uint32 of 10-minute intervals) can describe.
constexpr std::int64_t kMaxAirTimeMs = (std::int64_t{0xFFFFFFFF} + 1) * 600'000 - 1;

bool finite(Point p) noexcept { return std::isfinite(p.x_m) && std::isfinite(p.y_m); }
bool in(double v, double lo, double hi) noexcept { return std::isfinite(v) && v >= lo && v <= hi; }

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
    return a >= 0 ? a / b : -((-a + b - 1) / b);
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
    const auto span =
        static_cast<std::uint64_t>(config.max_adv_interval_ms - config.min_adv_interval_ms + 1);
    n.adv_interval_ms = config.min_adv_interval_ms +
                        static_cast<std::int64_t>(
                            packet_hash(config.seed, n.id, 0xFFFFFFFFu, n.adv_session, 0) % span);
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
            if (n->on_event)
                todo.push_back({n, n->event_gen.load(), n->on_event, std::move(n->events)});
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
        !in(c.noise_sigma_db, 0, 30) || !in(c.packet_loss, 0, 1) ||
        !in(c.sensitivity_dbm, -127, 20) || !in(c.max_range_m, 1, 10'000) ||
        c.min_adv_interval_ms < 20 || c.min_adv_interval_ms > c.max_adv_interval_ms ||
        c.max_adv_interval_ms > 10'240 || c.step_ms < 10 || c.step_ms > 60'000)
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
        return make_error(ErrorCode::kInvalidArgument,
                          "air: unknown radio or attenuation out of range");
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
        if (!finite(path[i].at))
            return make_error(ErrorCode::kInvalidArgument, "air: waypoint is not finite");
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
        return make_error(ErrorCode::kFailedPrecondition,
                          "air: advance_to called from a scan callback");
    std::lock_guard deliver(air.deliver_mu);
    if (time_ms < air.clock->now_ms())
        return make_error(ErrorCode::kInvalidArgument, "air: time moves forward only");
    if (time_ms > kMaxAirTimeMs)
        return make_error(ErrorCode::kInvalidArgument, "air: time beyond the ENIN range (2106)");
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
                    simulate_step(air, now, end);
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
                    h.service_data =
                        std::span<const std::uint8_t>(p.payload.bytes.data(), p.payload.size);
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
