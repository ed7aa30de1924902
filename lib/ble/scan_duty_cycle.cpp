#include <limits>

#include <sotto/ble/scan_duty_cycle.hpp>

#include "ble/uniform.hpp"

namespace sotto::ble {

Result<ScanDutyCycle> ScanDutyCycle::create(const ScanDutyConfig& c, core::Rng& rng) noexcept {
    if (!c.continuous) {
        if (c.window_ms < 100 || c.window_ms > c.min_period_ms)
            return make_error(ErrorCode::kInvalidArgument, "scan duty cycle: window out of range");
        if (c.min_period_ms > c.max_period_ms || c.max_period_ms > 3'600'000)
            return make_error(ErrorCode::kInvalidArgument, "scan duty cycle: period out of range");
    }
    return ScanDutyCycle(c, rng);
}

void ScanDutyCycle::start_cycle(std::int64_t now_ms) noexcept {
    started_ = true;
    cycle_start_ms_ = now_ms;
    cycle_period_ms_ = detail::uniform_between(*rng_, config_.min_period_ms, config_.max_period_ms);
}

ScanState ScanDutyCycle::at(std::int64_t now_ms) noexcept {
    if (config_.continuous) return {true, std::numeric_limits<std::int64_t>::max()};
    if (!started_ || now_ms < cycle_start_ms_ || now_ms >= cycle_start_ms_ + cycle_period_ms_)
        start_cycle(now_ms);
    const std::int64_t window_end = cycle_start_ms_ + config_.window_ms;
    if (now_ms < window_end) return {true, window_end};
    return {false, cycle_start_ms_ + cycle_period_ms_};
}

}  // namespace sotto::ble
