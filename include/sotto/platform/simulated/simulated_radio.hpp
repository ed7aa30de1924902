#pragma once
/// \file
/// `SimulatedRadio`: a `ble::Radio` on a simulated `Air` (see air.hpp for the model and threads).

#include <cstdint>
#include <memory>
#include <span>

#include <sotto/ble/radio.hpp>
#include <sotto/platform/simulated/air.hpp>

namespace sotto::platform::simulated {

/// A radio in an `Air`, made by `Air::add_radio`. Follows every rule of `ble::Radio`'s note for
/// implementers. `start_advertising` and `rotate` require a random non-resolvable private
/// address (kInvalidArgument otherwise) and `rotate` a different one from the current
/// (kInvalidArgument): the payload never changes without the address. While its adapter is
/// away (`Air::set_adapter_present`), calls return kBleUnavailable and the wish is kept. Once the
/// air is gone, every call returns kBleUnavailable.
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

    /// A hostile or foreign transmitter, for tests: sends `service_data` (0-27 bytes, copied)
    /// under any 16-bit UUID from any address, with no checks, until the next
    /// `start_advertising`, `rotate` or `stop_advertising`. kInvalidArgument over 27 bytes.
    Result<void> start_advertising_raw(std::uint16_t service_uuid,
                                       std::span<const std::uint8_t> service_data,
                                       const ble::Address& address);
    Result<void> start_scanning(ble::ScanCallback on_heard) override;
    Result<void> stop_scanning() override;
    void set_event_callback(ble::EventCallback on_event) override;
    ble::RadioStatus status() const override;

private:
    friend class Air;
    SimulatedRadio(std::weak_ptr<AirCore> core, NodeId id) noexcept
        : core_(std::move(core)), id_(id) {}
    std::weak_ptr<AirCore> core_;
    NodeId id_;
};

}  // namespace sotto::platform::simulated
