#pragma once
// A `ble::Radio` decorator that keeps the scanner to a duty cycle (ble::ScanDutyCycle: GAEN's
// 4 s every 3.5-5 min, or continuous). The Tracer asks it to scan; `update(now)` turns the
// wrapped radio's scanner on and off. Advertising passes straight through.
//
// Threading: every method is thread-safe (one mutex, never held while the wrapped radio calls
// back). `update` is called from the daemon's main loop.

#include <cstdint>
#include <memory>
#include <mutex>

#include <sotto/ble/radio.hpp>
#include <sotto/ble/scan_duty_cycle.hpp>
#include <sotto/core/rng.hpp>

namespace sotto::sottod {

class DutyCycledRadio final : public ble::Radio {
public:
    DutyCycledRadio(std::unique_ptr<ble::Radio> inner, ble::ScanDutyCycle duty) noexcept
        : inner_(std::move(inner)), duty_(std::move(duty)) {}

    Result<void> start_advertising(const ble::Advertisement& adv) override { return inner_->start_advertising(adv); }
    Result<void> rotate(const ble::Advertisement& adv) override { return inner_->rotate(adv); }
    Result<void> stop_advertising() override { return inner_->stop_advertising(); }
    Result<void> start_scanning(ble::ScanCallback on_heard) override;
    Result<void> stop_scanning() override;
    void set_event_callback(ble::EventCallback on_event) override { inner_->set_event_callback(std::move(on_event)); }
    ble::RadioStatus status() const override { return inner_->status(); }

    /// Applies the duty cycle at `now_ms`: starts or stops the wrapped scanner when due.
    /// Returns the wrapped radio's error, if any (the next update tries again).
    Result<void> update(std::int64_t now_ms) noexcept;

    /// Scan windows opened so far.
    std::uint64_t windows() const noexcept;

private:
    std::unique_ptr<ble::Radio> inner_;
    mutable std::mutex mutex_;
    ble::ScanDutyCycle duty_;
    ble::ScanCallback callback_;
    bool wanted_ = false;
    bool on_ = false;
    std::uint64_t windows_ = 0;
};

}  // namespace sotto::sottod
