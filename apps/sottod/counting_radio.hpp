#pragma once
// A `ble::Radio` decorator that counts scan windows (each `start_scanning` the Tracer makes on its
// duty cycle) for the status socket. Everything else passes straight through. Thread-safe as the
// wrapped radio is; the counter is atomic.

#include <atomic>
#include <cstdint>
#include <memory>

#include <sotto/ble/radio.hpp>

namespace sotto::sottod {

class CountingRadio final : public ble::Radio {
public:
    explicit CountingRadio(std::unique_ptr<ble::Radio> inner) noexcept : inner_(std::move(inner)) {}

    Result<void> start_advertising(const ble::Advertisement& adv) override {
        return inner_->start_advertising(adv);
    }
    Result<void> rotate(const ble::Advertisement& adv) override { return inner_->rotate(adv); }
    Result<void> stop_advertising() override { return inner_->stop_advertising(); }
    Result<void> start_scanning(ble::ScanCallback on_heard) override {
        windows_.fetch_add(1, std::memory_order_relaxed);
        return inner_->start_scanning(std::move(on_heard));
    }
    Result<void> stop_scanning() override { return inner_->stop_scanning(); }
    void set_event_callback(ble::EventCallback on_event) override {
        inner_->set_event_callback(std::move(on_event));
    }
    ble::RadioStatus status() const override { return inner_->status(); }

    /// Scan windows opened so far.
    std::uint64_t windows() const noexcept { return windows_.load(std::memory_order_relaxed); }

private:
    std::unique_ptr<ble::Radio> inner_;
    std::atomic<std::uint64_t> windows_{0};
};

}  // namespace sotto::sottod
