// SimulatedRadio: ble::Radio on the simulated air.
#include <algorithm>
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

Payload gaen_payload(const ble::Advertisement& adv) {
    Payload p;
    std::copy(adv.service_data.begin(), adv.service_data.end(), p.bytes.begin());
    p.size = static_cast<std::uint8_t>(adv.service_data.size());
    return p;
}

void begin_session(AirCore& air, Node& n, const ble::Advertisement& adv, const Payload& payload) {
    n.adv = adv;
    n.payload = payload;
    n.advertising = true;
    air.restart_session(n);
}

Error adapter_away() {
    return {ErrorCode::kBleUnavailable, "simulated radio: no adapter (wish kept)"};
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
            n->on_event.reset();
            n->event_gen.fetch_add(1);
            n->want_scan = false;
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
        return make_error(ErrorCode::kInvalidArgument,
                          "simulated radio: address is not non-resolvable private");
    std::lock_guard lock(core->mu);
    Node* n = core->find(id_);
    if (!n) return unavailable();
    begin_session(*core, *n, adv, gaen_payload(adv));
    if (!n->present) return adapter_away();
    return ok();
}

Result<void> SimulatedRadio::rotate(const ble::Advertisement& adv) {
    auto core = core_.lock();
    if (!core) return unavailable();
    if (!usable_address(adv.address))
        return make_error(ErrorCode::kInvalidArgument,
                          "simulated radio: address is not non-resolvable private");
    std::lock_guard lock(core->mu);
    Node* n = core->find(id_);
    if (!n) return unavailable();
    if (!n->advertising)
        return make_error(ErrorCode::kFailedPrecondition, "simulated radio: not advertising");
    if (adv.address == n->adv.address)
        return make_error(ErrorCode::kInvalidArgument,
                          "simulated radio: rotate needs a new address");
    begin_session(*core, *n, adv, gaen_payload(adv));
    if (!n->present) return adapter_away();
    ++n->rotations;
    return ok();
}

Result<void> SimulatedRadio::start_advertising_raw(std::uint16_t service_uuid,
                                                   std::span<const std::uint8_t> service_data,
                                                   const ble::Address& address) {
    if (service_data.size() > kMaxServiceDataBytes)
        return make_error(ErrorCode::kInvalidArgument,
                          "simulated radio: service data over 27 bytes");
    auto core = core_.lock();
    if (!core) return unavailable();
    Payload p;
    std::copy(service_data.begin(), service_data.end(), p.bytes.begin());
    p.size = static_cast<std::uint8_t>(service_data.size());
    p.uuid = service_uuid;
    ble::Advertisement adv;
    adv.address = address;
    std::lock_guard lock(core->mu);
    Node* n = core->find(id_);
    if (!n) return unavailable();
    begin_session(*core, *n, adv, p);
    if (!n->present) return adapter_away();
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
    if (!on_heard)
        return make_error(ErrorCode::kInvalidArgument, "simulated radio: empty scan callback");
    auto core = core_.lock();
    if (!core) return unavailable();
    try {
        auto cb = std::make_shared<const ble::ScanCallback>(std::move(on_heard));
        std::lock_guard lock(core->mu);
        Node* n = core->find(id_);
        if (!n) return unavailable();
        n->want_scan = true;
        n->on_heard = std::move(cb);
        n->scan_gen.fetch_add(1);
        if (!n->present) return adapter_away();
        if (!n->scanning) n->scan_cursor_ms = core->clock->now_ms();
        core->set_scanning(*n, true);
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
            n->want_scan = false;
            core->set_scanning(*n, false);
            n->on_heard.reset();
            n->scan_gen.fetch_add(1);
        }
    }
    core->wait_for_delivery();
    return ok();
}

void SimulatedRadio::set_event_callback(ble::EventCallback on_event) {
    auto core = core_.lock();
    if (!core) return;
    std::shared_ptr<const ble::EventCallback> cb;
    try {
        if (on_event) cb = std::make_shared<const ble::EventCallback>(std::move(on_event));
    } catch (const std::bad_alloc&) {
        // Keeps no callback: nothing can be delivered to one that could not be stored.
    }
    {
        std::lock_guard lock(core->mu);
        if (Node* n = core->find(id_)) {
            n->on_event = std::move(cb);
            n->event_gen.fetch_add(1);
        }
    }
    core->wait_for_delivery();  // the old callback is not running once this returns
}

ble::RadioStatus SimulatedRadio::status() const {
    ble::RadioStatus s;
    auto core = core_.lock();
    if (!core) return s;
    std::lock_guard lock(core->mu);
    const Node* n = core->find(id_);
    if (!n) return s;
    s.adapter_present = n->present;
    s.advertising = n->advertising && n->present;
    s.scanning = n->scanning;
    s.advertisements_heard = n->heard.load();
    s.rotations = n->rotations;
    return s;
}

}  // namespace sotto::platform::simulated
