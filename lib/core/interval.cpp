#include <limits>

#include <sotto/core/interval.hpp>

namespace sotto::core {

Result<IntervalNumber> interval_number(std::int64_t unix_seconds) noexcept {
    if (unix_seconds < 0) return make_error(ErrorCode::kOutOfRange, "time before the Unix epoch");
    const std::int64_t enin = unix_seconds / kIntervalSeconds;
    if (enin > std::numeric_limits<IntervalNumber>::max())
        return make_error(ErrorCode::kOutOfRange, "time beyond the ENIntervalNumber range");
    return static_cast<IntervalNumber>(enin);
}

}  // namespace sotto::core
