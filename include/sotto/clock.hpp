#pragma once
/// \file
/// The injected clock. Nothing in sotto reads the time on its own: the Tracer, the BLE scheduler,
/// the simulated air and the daemon all take a `Clock&`, so tests and simulations control time
/// and a wrong device clock can be reproduced.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace sotto {

/// A source of wall-clock time in Unix milliseconds. Implementations must be thread-safe.
class Clock {
public:
    virtual ~Clock() = default;
    /// Milliseconds since 1970-01-01T00:00:00Z. May jump (NTP, a user setting the date).
    virtual std::int64_t now_ms() const noexcept = 0;
    /// Whole seconds since the epoch (floor).
    std::int64_t now_seconds() const noexcept {
        const std::int64_t ms = now_ms();
        return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    }
};

/// The system's real-time clock (`std::chrono::system_clock`).
class SystemClock final : public Clock {
public:
    std::int64_t now_ms() const noexcept override {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
};

/// A clock that moves only when told to: for tests and simulations. Thread-safe.
class ManualClock final : public Clock {
public:
    explicit ManualClock(std::int64_t start_ms = 0) noexcept : ms_(start_ms) {}
    std::int64_t now_ms() const noexcept override { return ms_.load(std::memory_order_acquire); }
    void set_ms(std::int64_t ms) noexcept { ms_.store(ms, std::memory_order_release); }
    void advance_ms(std::int64_t delta) noexcept {
        ms_.fetch_add(delta, std::memory_order_acq_rel);
    }

private:
    std::atomic<std::int64_t> ms_;
};

}  // namespace sotto
