#pragma once
// Internal: the matcher's filter pass over the RPIs of one key.
//
// The filter is a blocked Bloom filter of `2^(64 - shift)` 64-bit words over the stored RPIs: the
// first 8 bytes of an RPI (little-endian) give the word (top bits) and two bit positions (bits
// 0-5 and 6-11). Both functions write, in ascending order, the indices of the RPIs whose two bits
// are set, and return how many. Tested against each other in tests/unit/core/matcher_test.cpp.

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <sotto/core/rolling_id.hpp>

namespace sotto::core::detail {

/// The first 8 bytes of an RPI as a native integer (build and query read them the same way).
inline std::uint64_t load64(const std::uint8_t* p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}

/// The two filter bits of an RPI whose first 8 bytes are `w`: positions from bits 0-5 and 6-11.
inline std::uint64_t filter_bits(std::uint64_t w) noexcept {
    return (1ULL << (w & 63)) | (1ULL << ((w >> 6) & 63));
}

std::size_t filter_candidates_scalar(const std::uint64_t* filter, unsigned shift,
                                     const RollingProximityId* rpis, std::size_t n,
                                     std::uint8_t* out) noexcept;
/// AVX2 (four RPIs per gather); falls back to the scalar pass where AVX2 is not compiled in.
std::size_t filter_candidates_avx2(const std::uint64_t* filter, unsigned shift,
                                   const RollingProximityId* rpis, std::size_t n,
                                   std::uint8_t* out) noexcept;
/// True when this CPU runs `filter_candidates_avx2` natively.
bool filter_avx2_supported() noexcept;

}  // namespace sotto::core::detail
