// SimulatedRadio: ble::Radio on the simulated air.
#include <new>

#include <sotto/platform/simulated/simulated_radio.hpp>

#include "air_core.hpp"

namespace sotto::platform::simulated {
namespace {

Error unavailable() { return {ErrorCode::kBleUnavailable, "simulated radio: the air is gone"}; }

bool usable_address(const ble::Address& a) noexcept {
    if (!a.is_non_resolvable_private()) return false;
    bool zero = a.bytes[0] == 0, one = a.bytes[0] == 0x3F;
    for (std::size_t i = 1; i < a.bytes.size(); ++i) {
        zero = zero && a.bytes[i] == 0;
        one = one && a.bytes[i] == 0xFF;
    }
    return !zero && !one;
}

void begin_session(AirCore& air, Node& n, const ble::Advertisement& adv) {
    n.adv = adv;
    n.advertising = true;
    n.adv_start_ms = air.clock->now_ms();
    ++n.adv_session;
    const AirConfig& c = air.config;
    const auto span = static_cast<std::uint64_t>(c.max_adv_interval_ms - c.min_adv_interval_ms + 1);
    n.adv_interval_ms = c.min_adv_interval_ms +
                        static_cast<std::int64_t>(packet_hash(c.seed, n.id, 0xFFFFFFFFu, n.adv_session, 0) % span);
}

}  // namespace

SimulatedRadio::~SimulatedRadio() {
    auto core = core_.lock();
    if (!core) return;
    {
        std::lock_guard lock(core->mu);
        if (Node* n = core->find(id_)) {
            core->set_scanning(*n, false);
            n->removed = true;
            n->advertising = false;
            n->on_heard.reset();
            n->on_event = nullptr;
            n->scan_gen.fetch_add(1);
            core->layout_dirty = true;
        }
    }
    core->wait_for_delivery();
}

Result<void> SimulatedRadio::start_advertising(const ble::Advertisement& adv) {
    auto core = core_.lock();
    if (!core) return unavailable();
    if (!usable_address(adv.address))
        return make_error(ErrorCode::kInvalidArgument, "simulated radio: address is not non-resolvable private");
    std::lock_guard lock(core->mu);
    Node* n = core->find(id_);
    if (!n) return unavailable();
    begin_session(*core, *n, adv);
    return ok();
}

Result<void> SimulatedRadio::rotate(const ble::Advertisement& adv) {
    auto core = core_.lock();
    if (!core) return unavailable();
    if (!usable_address(adv.address))
        return make_error(ErrorCode::kInvalidArgument, "simulated radio: address is not non-resolvable private");
    std::lock_guard lock(core->mu);
    Node* n = core->find(id_);
    if (!n) return unavailable();
    if (!n->advertising) return make_error(ErrorCode::kFailedPrecondition, "simulated radio: not advertising");
    if (adv.address == n->adv.address)
        return make_error(ErrorCode::kInvalidArgument, "simulated radio: rotate needs a new address");
    begin_session(*core, *n, adv);
    ++n->rotations;
    return ok();
}

Result<void> SimulatedRadio::stop_advertising() {
    auto core = core_.lock();
    if (!core) return unavailable();
    std::lock_guard lock(core->mu);
    if (Node* n = core->find(id_)) n->advertising = false;
    return ok();
}

Result<void> SimulatedRadio::start_scanning(ble::ScanCallback on_heard) {
    if (!on_heard) return make_error(ErrorCode::kInvalidArgument, "simulated radio: empty scan callback");
    auto core = core_.lock();
    if (!core) return unavailable();
    try {
        auto cb = std::make_shared<const ble::ScanCallback>(std::move(on_heard));
        std::lock_guard lock(core->mu);
        Node* n = core->find(id_);
        if (!n) return unavailable();
        if (!n->scanning) n->scan_cursor_ms = core->clock->now_ms();
        core->set_scanning(*n, true);
        n->on_heard = std::move(cb);
        n->scan_gen.fetch_add(1);
        return ok();
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "simulated radio: out of memory");
    }
}

Result<void> SimulatedRadio::stop_scanning() {
    auto core = core_.lock();
    if (!core) return ok();  // nothing can call back any more
    {
        std::lock_guard lock(core->mu);
        if (Node* n = core->find(id_)) {
            core->set_scanning(*n, false);
            n->on_heard.reset();
            n->scan_gen.fetch_add(1);
        }
    }
    core->wait_for_delivery();
    return ok();
}

void SimulatedRadio::set_event_callback(ble::EventCallback on_event) {
    // The simulated adapter is always present: no events are raised, the callback is kept only.
    auto core = core_.lock();
    if (!core) return;
    std::lock_guard lock(core->mu);
    if (Node* n = core->find(id_)) n->on_event = std::move(on_event);
}

ble::RadioStatus SimulatedRadio::status() const {
    ble::RadioStatus s;
    auto core = core_.lock();
    if (!core) return s;
    std::lock_guard lock(core->mu);
    const Node* n = core->find(id_);
    if (!n) return s;
    s.adapter_present = true;
    s.advertising = n->advertising;
    s.scanning = n->scanning;
    s.advertisements_heard = n->heard.load();
    s.rotations = n->rotations;
    return s;
}

}  // namespace sotto::platform::simulated
