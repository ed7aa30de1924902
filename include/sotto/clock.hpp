#pragma once
/// \file
/// The injected clock. Nothing in sotto reads the time on its own: the Tracer, the BLE scheduler,
/// the simulated air and the daemon all take a `Clock&`, so tests and simulations control time
/// and a wrong device clock can be reproduced.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

#if defined(__linux__)
#include <time.h>
#endif

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
    /// A second time source: milliseconds from an arbitrary origin on a clock that never jumps
    /// and keeps counting while the device is suspended (Linux `CLOCK_BOOTTIME`), or empty when
    /// there is none (the default). Never decreases within a process; means nothing across
    /// processes or reboots. The Tracer compares how far `now_ms` moved with how far this moved
    /// between two retention runs to catch a wall clock pushed ahead in small steps.
    virtual std::optional<std::int64_t> elapsed_ms() const noexcept { return std::nullopt; }
};

/// The system's real-time clock (`std::chrono::system_clock`); on Linux (and Android) also the
/// elapsed time since boot, suspend included (`CLOCK_BOOTTIME`). Not `steady_clock`
/// (`CLOCK_MONOTONIC`): it stops while the device sleeps, so a phone's night in a pocket would
/// look like a wall clock jumping ahead. Elsewhere `elapsed_ms` is empty.
class SystemClock final : public Clock {
public:
    std::int64_t now_ms() const noexcept override {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
    std::optional<std::int64_t> elapsed_ms() const noexcept override {
#if defined(__linux__)
        struct timespec ts {};
        if (::clock_gettime(CLOCK_BOOTTIME, &ts) != 0) return std::nullopt;
        return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
#else
        return std::nullopt;
#endif
    }
};

/// A clock that moves only when told to: for tests and simulations. Thread-safe. It has no
/// second time source (`elapsed_ms` is empty), so only the store's 3-day rule judges it.
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
