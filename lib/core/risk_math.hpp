#pragma once
// Small arithmetic helpers shared by the risk code (exposure windows, daily summaries, CWA).

#include <cmath>
#include <cstdint>

namespace sotto::core::detail {

/// ⌊a / b⌋ for b > 0, also for negative a.
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
    std::int64_t q = a / b;
    if (a % b != 0 && ((a < 0) != (b < 0))) --q;
    return q;
}

/// Java `Math.round(double)` / Kotlin `roundToLong()` as a double: ⌊x + ½⌋ computed exactly
/// (no double rounding of x + 0.5), i.e. ties go up. NaN gives 0.
inline double round_half_up(double x) noexcept {
    if (std::isnan(x)) return 0.0;
    const double f = std::floor(x);
    return x - f >= 0.5 ? f + 1.0 : f;
}

}  // namespace sotto::core::detail
