// See floor_kernel.hpp. Written for speed and brevity, not reuse: the SHA-NI sequence is Intel's
// (Gulley et al., 2013), the key expansion is the AES-NI white paper's. Messages are kept as
// 32-bit words, so no byte swapping happens between the HKDF steps.
#include "floor_kernel.hpp"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

#include <cstring>

#include "core/sha256_k.hpp"

namespace sotto::bench {
namespace {

#define FLOOR_SHA __attribute__((target("sha,sse4.1,ssse3"), always_inline)) inline
#define FLOOR_AES __attribute__((target("aes,sse4.1"), always_inline)) inline

using core::detail::kSha256K;

inline const __m128i* c128(const void* p) { return static_cast<const __m128i*>(p); }
inline __m128i* m128(void* p) { return static_cast<__m128i*>(p); }
inline const __m256i* c256(const void* p) { return static_cast<const __m256i*>(p); }
inline __m256i* m256(void* p) { return static_cast<__m256i*>(p); }

constexpr std::uint32_t kInit[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

struct Lane {
    __m128i abef, cdgh, abef0, cdgh0, m[4];
};

FLOOR_SHA void load(Lane& l, const std::uint32_t* h, const std::uint32_t* w) {
    const __m128i abcd = _mm_shuffle_epi32(_mm_loadu_si128(c128(h)), 0xb1);
    const __m128i efgh = _mm_shuffle_epi32(_mm_loadu_si128(c128(h + 4)), 0x1b);
    l.abef = l.abef0 = _mm_alignr_epi8(abcd, efgh, 8);
    l.cdgh = l.cdgh0 = _mm_blend_epi16(efgh, abcd, 0xf0);
    for (int i = 0; i < 4; ++i) l.m[i] = _mm_loadu_si128(c128(w + 4 * i));
}

FLOOR_SHA void store(const Lane& l, std::uint32_t* h) {
    const __m128i feba = _mm_shuffle_epi32(_mm_add_epi32(l.abef, l.abef0), 0x1b);
    const __m128i dchg = _mm_shuffle_epi32(_mm_add_epi32(l.cdgh, l.cdgh0), 0xb1);
    _mm_storeu_si128(m128(h), _mm_blend_epi16(feba, dchg, 0xf0));
    _mm_storeu_si128(m128(h + 4), _mm_alignr_epi8(dchg, feba, 8));
}

template <int G>
FLOOR_SHA void four_rounds(Lane& l) {
    __m128i k = _mm_add_epi32(l.m[G % 4], _mm_load_si128(c128(kSha256K + 4 * G)));
    l.cdgh = _mm_sha256rnds2_epu32(l.cdgh, l.abef, k);
    if constexpr (G >= 3 && G <= 14)
        l.m[(G + 1) % 4] = _mm_sha256msg2_epu32(
            _mm_add_epi32(l.m[(G + 1) % 4], _mm_alignr_epi8(l.m[G % 4], l.m[(G + 3) % 4], 4)),
            l.m[G % 4]);
    l.abef = _mm_sha256rnds2_epu32(l.abef, l.cdgh, _mm_shuffle_epi32(k, 0x0e));
    if constexpr (G >= 1 && G <= 12)
        l.m[(G + 3) % 4] = _mm_sha256msg1_epu32(l.m[(G + 3) % 4], l.m[G % 4]);
}

template <int G>
FLOOR_SHA void rounds4(Lane* l) {
    four_rounds<G>(l[0]);
    four_rounds<G>(l[1]);
    four_rounds<G>(l[2]);
    four_rounds<G>(l[3]);
    if constexpr (G < 15) rounds4<G + 1>(l);
}

// h[k] = compress(h[k], w[k]) for four lanes; words in native order.
__attribute__((target("sha,sse4.1,ssse3"))) void compress4(std::uint32_t (*h)[8],
                                                           std::uint32_t (*w)[16]) {
    Lane l[4];
    for (int k = 0; k < 4; ++k) load(l[k], h[k], w[k]);
    rounds4<0>(l);
    for (int k = 0; k < 4; ++k) store(l[k], h[k]);
}

void compress1(std::uint32_t* h, const std::uint32_t* w) {
    std::uint32_t hh[4][8], ww[4][16];
    for (auto& x : hh) std::memcpy(x, h, 32);
    for (auto& x : ww) std::memcpy(x, w, 64);
    compress4(hh, ww);
    std::memcpy(h, hh[0], 32);
}

struct Pads {
    std::uint32_t inner[8], outer[8];  // states after the 32-zero-byte HMAC key's pad blocks
    Pads() {
        std::uint32_t w[16];
        std::memcpy(inner, kInit, 32);
        std::memcpy(outer, kInit, 32);
        for (auto& x : w) x = 0x36363636;
        compress1(inner, w);
        for (auto& x : w) x = 0x5c5c5c5c;
        compress1(outer, w);
    }
};
const Pads kPads;

inline std::uint32_t be32(const std::uint8_t* p) {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return __builtin_bswap32(v);
}

inline void pad(std::uint32_t* w, int used_words, std::uint32_t total_bytes) {
    w[used_words] = 0x80000000u;
    for (int i = used_words + 1; i < 15; ++i) w[i] = 0;
    w[15] = total_bytes * 8;
}

// RPIK of four TEKs; rpik[k] holds T(1)[0..16) as big-endian words.
void hkdf4(const std::uint8_t* const teks[4], std::uint32_t (*rpik)[8]) {
    std::uint32_t h[4][8], w[4][16], prk[4][8], inner[4][16];
    for (int k = 0; k < 4; ++k) {  // extract, inner: 0x36 pad block || TEK
        std::memcpy(h[k], kPads.inner, 32);
        for (int i = 0; i < 4; ++i) w[k][i] = be32(teks[k] + 4 * i);
        pad(w[k], 4, 64 + 16);
    }
    compress4(h, w);
    for (int k = 0; k < 4; ++k) {  // extract, outer
        std::memcpy(w[k], h[k], 32);
        pad(w[k], 8, 64 + 32);
        std::memcpy(h[k], kPads.outer, 32);
    }
    compress4(h, w);
    for (int k = 0; k < 4; ++k) {  // expand, inner: (PRK ^ ipad) || "EN-RPIK" 0x01
        std::memcpy(prk[k], h[k], 32);
        for (int i = 0; i < 8; ++i) w[k][i] = prk[k][i] ^ 0x36363636u;
        for (int i = 8; i < 16; ++i) w[k][i] = 0x36363636u;
        std::memcpy(h[k], kInit, 32);
    }
    compress4(h, w);
    for (int k = 0; k < 4; ++k) {
        w[k][0] = 0x454e2d52u;  // "EN-R"
        w[k][1] = 0x50494b01u;  // "PIK" 0x01
        pad(w[k], 2, 64 + 8);
    }
    compress4(h, w);
    for (int k = 0; k < 4; ++k) {  // expand, outer: (PRK ^ opad) || inner digest
        std::memcpy(inner[k], h[k], 32);
        pad(inner[k], 8, 64 + 32);
        for (int i = 0; i < 8; ++i) w[k][i] = prk[k][i] ^ 0x5c5c5c5cu;
        for (int i = 8; i < 16; ++i) w[k][i] = 0x5c5c5c5cu;
        std::memcpy(h[k], kInit, 32);
    }
    compress4(h, w);
    compress4(h, inner);
    std::memcpy(rpik, h, sizeof h);
}

FLOOR_AES __m128i step(__m128i key, __m128i assist) {
    assist = _mm_shuffle_epi32(assist, 0xff);
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    return _mm_xor_si128(key, assist);
}

// Round keys from T(1)'s first four big-endian words.
FLOOR_AES void expand(const std::uint32_t* t, __m128i* rk) {
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    rk[0] = _mm_shuffle_epi8(_mm_loadu_si128(c128(t)), bswap);
    rk[1] = step(rk[0], _mm_aeskeygenassist_si128(rk[0], 0x01));
    rk[2] = step(rk[1], _mm_aeskeygenassist_si128(rk[1], 0x02));
    rk[3] = step(rk[2], _mm_aeskeygenassist_si128(rk[2], 0x04));
    rk[4] = step(rk[3], _mm_aeskeygenassist_si128(rk[3], 0x08));
    rk[5] = step(rk[4], _mm_aeskeygenassist_si128(rk[4], 0x10));
    rk[6] = step(rk[5], _mm_aeskeygenassist_si128(rk[5], 0x20));
    rk[7] = step(rk[6], _mm_aeskeygenassist_si128(rk[6], 0x40));
    rk[8] = step(rk[7], _mm_aeskeygenassist_si128(rk[7], 0x80));
    rk[9] = step(rk[8], _mm_aeskeygenassist_si128(rk[8], 0x1b));
    rk[10] = step(rk[9], _mm_aeskeygenassist_si128(rk[9], 0x36));
}

__attribute__((target("aes,sse4.1,ssse3"))) void aes_ni(const std::uint32_t* t,
                                                        const std::uint8_t* in, std::uint8_t* out) {
    __m128i rk[11];
    expand(t, rk);
    for (int i = 0; i < 144; i += 8) {
        __m128i b[8];
#pragma GCC unroll 16
        for (int j = 0; j < 8; ++j)
            b[j] = _mm_xor_si128(_mm_loadu_si128(c128(in + 16 * (i + j))), rk[0]);
#pragma GCC unroll 16
        for (int r = 1; r < 10; ++r)
#pragma GCC unroll 16
            for (int j = 0; j < 8; ++j) b[j] = _mm_aesenc_si128(b[j], rk[r]);
#pragma GCC unroll 16
        for (int j = 0; j < 8; ++j)
            _mm_storeu_si128(m128(out + 16 * (i + j)), _mm_aesenclast_si128(b[j], rk[10]));
    }
}

__attribute__((target("aes,sse4.1,ssse3,avx2,vaes"))) void aes_vaes256(const std::uint32_t* t,
                                                                       const std::uint8_t* in,
                                                                       std::uint8_t* out) {
    __m128i rk[11];
    expand(t, rk);
    __m256i k[11];
#pragma GCC unroll 16
    for (int r = 0; r < 11; ++r) k[r] = _mm256_broadcastsi128_si256(rk[r]);
    for (int i = 0; i < 144; i += 16) {
        __m256i b[8];
#pragma GCC unroll 16
        for (int j = 0; j < 8; ++j)
            b[j] = _mm256_xor_si256(_mm256_loadu_si256(c256(in + 16 * (i + 2 * j))), k[0]);
#pragma GCC unroll 16
        for (int r = 1; r < 10; ++r)
#pragma GCC unroll 16
            for (int j = 0; j < 8; ++j) b[j] = _mm256_aesenc_epi128(b[j], k[r]);
#pragma GCC unroll 16
        for (int j = 0; j < 8; ++j)
            _mm256_storeu_si256(m256(out + 16 * (i + 2 * j)),
                                _mm256_aesenclast_epi128(b[j], k[10]));
    }
}

__attribute__((target("aes,sse4.1,ssse3,avx512f,vaes"))) void aes_vaes512(const std::uint32_t* t,
                                                                          const std::uint8_t* in,
                                                                          std::uint8_t* out) {
    __m128i rk[11];
    expand(t, rk);
    __m512i k[11];
#pragma GCC unroll 16
    for (int r = 0; r < 11; ++r) k[r] = _mm512_maskz_broadcast_i32x4(0xffff, rk[r]);
    for (int i = 0; i < 144; i += 16) {
        __m512i b[4];
#pragma GCC unroll 16
        for (int j = 0; j < 4; ++j)
            b[j] = _mm512_xor_si512(_mm512_loadu_si512(in + 16 * (i + 4 * j)), k[0]);
#pragma GCC unroll 16
        for (int r = 1; r < 10; ++r)
#pragma GCC unroll 16
            for (int j = 0; j < 4; ++j) b[j] = _mm512_aesenc_epi128(b[j], k[r]);
#pragma GCC unroll 16
        for (int j = 0; j < 4; ++j)
            _mm512_storeu_si512(out + 16 * (i + 4 * j), _mm512_aesenclast_epi128(b[j], k[10]));
    }
}

bool has_leaf7(unsigned reg, unsigned bit) {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    return (((reg == 1) ? b : c) >> bit) & 1u;
}

}  // namespace

bool floor_supported(FloorAes aes) noexcept {
    if (!has_leaf7(1, 29) || !__builtin_cpu_supports("aes") || !__builtin_cpu_supports("sse4.1"))
        return false;  // SHA-NI, AES-NI
    if (aes == FloorAes::kAesNi) return true;
    if (!has_leaf7(2, 9)) return false;  // VAES
    // The OS state checks (XCR0) are the library's: the floor runs only where sotto runs that path.
    return aes == FloorAes::kVaes256 ? __builtin_cpu_supports("avx2")
                                     : __builtin_cpu_supports("avx512f");
}

void floor_four_keys(FloorAes aes, const std::uint8_t* const teks[4],
                     const std::uint8_t* const blocks[4], std::uint8_t* out) noexcept {
    std::uint32_t rpik[4][8];
    hkdf4(teks, rpik);
    for (int k = 0; k < 4; ++k) {
        std::uint8_t* o = out + 144 * 16 * k;
        switch (aes) {
            case FloorAes::kVaes512:
                aes_vaes512(rpik[k], blocks[k], o);
                break;
            case FloorAes::kVaes256:
                aes_vaes256(rpik[k], blocks[k], o);
                break;
            case FloorAes::kAesNi:
                aes_ni(rpik[k], blocks[k], o);
                break;
        }
    }
}

}  // namespace sotto::bench

#else  // The floor is written for x86-64 (SHA-NI, AES-NI, VAES); elsewhere there is none to time.

namespace sotto::bench {

bool floor_supported(FloorAes) noexcept { return false; }

void floor_four_keys(FloorAes, const std::uint8_t* const[4], const std::uint8_t* const[4],
                     std::uint8_t*) noexcept {}

}  // namespace sotto::bench

#endif
