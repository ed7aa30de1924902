#pragma once
// Internal: the matcher's blocked Bloom filter over the stored RPIs, and its probe.
//
// The filter is `2^(64 - shift)` 64-bit words. The first 8 bytes of an RPI (little-endian) give
// its word (the top bits) and five bit positions in it: three from a pattern picked by the low
// byte, two from one picked by the next byte (kFilterPatterns: 2 x 256 fixed patterns, 4 KB that
// stay in L1), so 65,536 combinations and no arithmetic per bit. An RPI passes when all its bits
// are set in its word. The RPIs probed are AES outputs, uniformly random, so they need no hashing
// (see matcher.cpp).

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <sotto/core/rolling_id.hpp>

namespace sotto::core::detail {

/// Bits set per stored RPI: kFilterBitsLow from the first table, the rest from the second.
inline constexpr int kFilterBits = 5;
inline constexpr int kFilterBitsLow = 3;

/// The two pattern tables, [0][low byte] and [1][second byte]: kFilterBitsLow and
/// kFilterBits - kFilterBitsLow distinct bits of 64, drawn once with a fixed seed.
constexpr std::array<std::array<std::uint64_t, 256>, 2> make_filter_patterns() noexcept {
    std::array<std::array<std::uint64_t, 256>, 2> p{};
    std::uint64_t x = 0x5077'0f11'7e25'0001ULL;  // fixed: build and probe must agree
    for (int t = 0; t < 2; ++t) {
        const int bits = t == 0 ? kFilterBitsLow : kFilterBits - kFilterBitsLow;
        for (auto& m : p[static_cast<std::size_t>(t)]) {
            while (std::popcount(m) < bits) {  // splitmix64 picks the positions
                std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
                z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
                z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
                m |= 1ULL << ((z ^ (z >> 31)) & 63);
            }
        }
    }
    return p;
}
alignas(64) inline constexpr std::array<std::array<std::uint64_t, 256>, 2> kFilterPatterns =
    make_filter_patterns();

/// Filter words for `n` stored RPIs: 2 to 4 RPIs per word (16 to 32 bits each), at least 64
/// words and at most 2^20 (8 MB). 100,000 RPIs take 32,768 words (256 KB), which stay in a 512 KB
/// L2 beside the rest of the matcher's data; about one false positive in 400 probes there (one
/// in 1,900 at 2 RPIs per word, one in 240 at 4).
inline std::size_t filter_words(std::size_t n) noexcept {
    return std::min<std::size_t>(std::bit_ceil(std::max<std::size_t>(64, (n + 3) / 4)),
                                 std::size_t{1} << 20);
}

/// The first 8 bytes of an RPI as a native integer (build and query read them the same way).
inline std::uint64_t load64(const std::uint8_t* p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}

/// The filter bits of an RPI whose first 8 bytes are `w` (at most kFilterBits: the two patterns
/// may share a bit).
inline std::uint64_t filter_bits(std::uint64_t w) noexcept {
    return kFilterPatterns[0][w & 0xff] | kFilterPatterns[1][(w >> 8) & 0xff];
}

/// True when the RPI whose first 8 bytes are `w` passes the filter.
inline bool filter_passes(const std::uint64_t* filter, unsigned shift, std::uint64_t w) noexcept {
    const std::uint64_t bits = filter_bits(w);
    return (filter[w >> shift] & bits) == bits;
}

/// The probe the RPI kernels run: appends `i` to `out` (count `c`) when the RPI whose first 8
/// bytes are `w` passes. Candidates are rare, hence the branch.
inline void filter_probe(const std::uint64_t* filter, unsigned shift, std::uint64_t w,
                         std::uint16_t* out, std::size_t& c, std::size_t i) noexcept {
    if (filter_passes(filter, shift, w)) [[unlikely]]
        out[c++] = static_cast<std::uint16_t>(i);
}

/// Writes, in ascending order, the indices of the RPIs that pass the filter and returns how
/// many. The matcher's pass where no RPI kernel runs, and the reference the kernels' probes are
/// tested against.
std::size_t filter_candidates_scalar(const std::uint64_t* filter, unsigned shift,
                                     const RollingProximityId* rpis, std::size_t n,
                                     std::uint16_t* out) noexcept;

}  // namespace sotto::core::detail
