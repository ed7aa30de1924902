#include "matcher_filter.hpp"
#include "cpu_cap.hpp"

#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SOTTO_HAVE_AVX2_FILTER 1
#include <immintrin.h>
#endif

namespace sotto::core::detail {
// The filter pass: writes the indices (ascending) of the RPIs whose filter bits are all set.
std::size_t filter_candidates_scalar(const std::uint64_t* filter, unsigned shift,
                                     const RollingProximityId* rpis, std::size_t n,
                                     std::uint8_t* out) noexcept {
    std::size_t c = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t w = load64(rpis[i].bytes.data());
        const std::uint64_t bits = filter_bits(w);
        out[c] = static_cast<std::uint8_t>(i);
        c += (filter[w >> shift] & bits) == bits;  // branchless: candidates are rare
    }
    return c;
}

#if SOTTO_HAVE_AVX2_FILTER
// Four RPIs per step: one gather of their filter words, variable shifts for the bits.
__attribute__((target("avx2"))) std::size_t filter_candidates_avx2(const std::uint64_t* filter,
                                                                   unsigned shift,
                                                                   const RollingProximityId* rpis,
                                                                   std::size_t n,
                                                                   std::uint8_t* out) noexcept {
    const auto* p = rpis[0].bytes.data();
    const __m256i one = _mm256_set1_epi64x(1);
    const __m256i m63 = _mm256_set1_epi64x(63);
    const __m128i sh = _mm_cvtsi32_si128(static_cast<int>(shift));
    std::size_t c = 0, i = 0;
    for (; i + 4 <= n; i += 4) {
        const __m256i a =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 16 * i));  // r0 r1
        const __m256i b =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 16 * i + 32));  // r2 r3
        // First 8 bytes of r0, r2 | r1, r3, then put back in order r0 r1 r2 r3.
        const __m256i w = _mm256_permute4x64_epi64(_mm256_unpacklo_epi64(a, b), 0xD8);
        const __m256i bits =
            _mm256_or_si256(_mm256_sllv_epi64(one, _mm256_and_si256(w, m63)),
                            _mm256_sllv_epi64(one, _mm256_and_si256(_mm256_srli_epi64(w, 6), m63)));
        const __m256i words = _mm256_i64gather_epi64(reinterpret_cast<const long long*>(filter),
                                                     _mm256_srl_epi64(w, sh), 8);
        const __m256i hit = _mm256_cmpeq_epi64(_mm256_and_si256(words, bits), bits);
        auto mask = static_cast<unsigned>(_mm256_movemask_pd(_mm256_castsi256_pd(hit)));
        while (mask != 0) {
            out[c++] = static_cast<std::uint8_t>(i + static_cast<std::size_t>(__builtin_ctz(mask)));
            mask &= mask - 1;
        }
    }
    const std::size_t tail = filter_candidates_scalar(filter, shift, rpis + i, n - i, out + c);
    for (std::size_t t = 0; t < tail; ++t) out[c + t] = static_cast<std::uint8_t>(out[c + t] + i);
    return c + tail;
}
#else
std::size_t filter_candidates_avx2(const std::uint64_t* filter, unsigned shift,
                                   const RollingProximityId* rpis, std::size_t n,
                                   std::uint8_t* out) noexcept {
    return filter_candidates_scalar(filter, shift, rpis, n, out);
}
#endif

bool filter_avx2_supported() noexcept {
#if SOTTO_HAVE_AVX2_FILTER
    static const bool v = crypto_isa_allows(CryptoIsa::kAesNi) && __builtin_cpu_supports("avx2");
    return v;
#else
    return false;
#endif
}

}  // namespace sotto::core::detail
