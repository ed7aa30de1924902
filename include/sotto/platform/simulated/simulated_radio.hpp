#pragma once
/// \file
/// `SimulatedRadio`: a `ble::Radio` on a simulated `Air` (see air.hpp for the model and threads).

#include <memory>

#include <sotto/ble/radio.hpp>
#include <sotto/platform/simulated/air.hpp>

namespace sotto::platform::simulated {

/// A radio in an `Air`, made by `Air::add_radio`. Follows every rule of `ble::Radio`'s note for
/// implementers. `start_advertising` and `rotate` require a random non-resolvable private
/// address (kInvalidArgument otherwise) and `rotate` a different one from the current
/// (kInvalidArgument): the payload never changes without the address. Once the air is gone,
/// every call returns kBleUnavailable.
class SimulatedRadio final : public ble::Radio {
public:
    ~SimulatedRadio() override;
    SimulatedRadio(const SimulatedRadio&) = delete;
    SimulatedRadio& operator=(const SimulatedRadio&) = delete;

    /// This radio's id in its air.
    NodeId id() const noexcept { return id_; }

    Result<void> start_advertising(const ble::Advertisement& adv) override;
    Result<void> rotate(const ble::Advertisement& adv) override;
    Result<void> stop_advertising() override;
    Result<void> start_scanning(ble::ScanCallback on_heard) override;
    Result<void> stop_scanning() override;
    void set_event_callback(ble::EventCallback on_event) override;
    ble::RadioStatus status() const override;

private:
    friend class Air;
    SimulatedRadio(std::weak_ptr<AirCore> core, NodeId id) noexcept : core_(std::move(core)), id_(id) {}
    std::weak_ptr<AirCore> core_;
    NodeId id_;
};

}  // namespace sotto::platform::simulated
