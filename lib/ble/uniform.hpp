#pragma once
// Unbiased uniform integers from a core::Rng (rejection sampling).
#include <array>
#include <cstdint>
#include <cstring>

#include <sotto/core/rng.hpp>

namespace sotto::ble::detail {

inline std::uint64_t random_u64(core::Rng& rng) noexcept {
    std::array<std::uint8_t, 8> b{};
    rng.fill(b);
    std::uint64_t v = 0;
    std::memcpy(&v, b.data(), b.size());
    return v;
}

/// Uniform in [lo, hi] (requires lo <= hi).
inline std::int64_t uniform_between(core::Rng& rng, std::int64_t lo, std::int64_t hi) noexcept {
    const std::uint64_t span = static_cast<std::uint64_t>(hi - lo) + 1;
    if (span == 0) return lo + static_cast<std::int64_t>(random_u64(rng));  // full range
    const std::uint64_t limit = UINT64_MAX - (UINT64_MAX % span);
    std::uint64_t v = random_u64(rng);
    while (v >= limit) v = random_u64(rng);
    return lo + static_cast<std::int64_t>(v % span);
}

}  // namespace sotto::ble::detail
