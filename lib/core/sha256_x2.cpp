// See sha256_x2.hpp. The SHA-NI sequence follows Intel's "Intel SHA Extensions" white paper
// (Gulley et al., 2013): state kept as ABEF/CDGH, four rounds per SHA256RNDS2 pair, message
// schedule with SHA256MSG1/MSG2 interleaved with the rounds.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "sha256_x2.hpp"
#include "arm_crypto.hpp"
#include "cpu_cap.hpp"
#include "sha256_k.hpp"

#include <openssl/sha.h>
#include <sodium.h>

#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SOTTO_HAVE_SHA_NI 1
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace sotto::core::detail {
namespace {

// Fallback and reference: OpenSSL's compression on a context holding `s`.
void compress_openssl(Sha256State& s, const std::uint8_t* block) noexcept {
    SHA256_CTX ctx;
    std::memcpy(ctx.h, s.h, sizeof s.h);
    SHA256_Transform(&ctx, block);
    std::memcpy(s.h, ctx.h, sizeof s.h);
    sodium_memzero(&ctx, sizeof ctx);
}

#if SOTTO_HAVE_SHA_NI
#define SOTTO_SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))

// One message's working set: ABEF/CDGH state, the saved input state, the schedule ring.
struct Lane {
    __m128i abef, cdgh, abef0, cdgh0, m[4];
};

SOTTO_SHA_TARGET inline void load_state(Lane& l, const Sha256State& s) {
    __m128i abcd = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.h));
    __m128i efgh = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.h + 4));
    abcd = _mm_shuffle_epi32(abcd, 0xb1);        // CDAB
    efgh = _mm_shuffle_epi32(efgh, 0x1b);        // EFGH
    l.abef = _mm_alignr_epi8(abcd, efgh, 8);     // ABEF
    l.cdgh = _mm_blend_epi16(efgh, abcd, 0xf0);  // CDGH
    l.abef0 = l.abef;
    l.cdgh0 = l.cdgh;
}

SOTTO_SHA_TARGET inline void load_lane(Lane& l, const Sha256State& s, const std::uint8_t* block) {
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    load_state(l, s);
    for (int i = 0; i < 4; ++i)
        l.m[i] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 16 * i)),
                                  bswap);
}

SOTTO_SHA_TARGET inline void store_lane(const Lane& l, Sha256State& s) {
    const __m128i abef = _mm_add_epi32(l.abef, l.abef0);
    const __m128i cdgh = _mm_add_epi32(l.cdgh, l.cdgh0);
    const __m128i feba = _mm_shuffle_epi32(abef, 0x1b);
    const __m128i dchg = _mm_shuffle_epi32(cdgh, 0xb1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(s.h), _mm_blend_epi16(feba, dchg, 0xf0));   // ABCD
    _mm_storeu_si128(reinterpret_cast<__m128i*>(s.h + 4), _mm_alignr_epi8(dchg, feba, 8));  // EFGH
}

// Four rounds (group G of 16) of one lane, with the message schedule spread over the rounds as in
// Intel's reference: slot m[G % 4] holds W[4G..4G+3] when group G starts. During group G the
// schedule finishes W of group G+1 (sigma1 via MSG2, + W[t-7] via ALIGNR) and starts group G+3
// (sigma0 via MSG1), so the schedule never waits on the rounds.
template <int G>
SOTTO_SHA_TARGET inline void four_rounds(Lane& l) {
    __m128i k = _mm_add_epi32(l.m[G % 4],
                              _mm_load_si128(reinterpret_cast<const __m128i*>(kSha256K + 4 * G)));
    l.cdgh = _mm_sha256rnds2_epu32(l.cdgh, l.abef, k);
    if constexpr (G >= 3 && G <= 14) {
        __m128i w =
            _mm_add_epi32(l.m[(G + 1) % 4], _mm_alignr_epi8(l.m[G % 4], l.m[(G + 3) % 4], 4));
        l.m[(G + 1) % 4] = _mm_sha256msg2_epu32(w, l.m[G % 4]);
    }
    k = _mm_shuffle_epi32(k, 0x0e);
    l.abef = _mm_sha256rnds2_epu32(l.abef, l.cdgh, k);
    if constexpr (G >= 1 && G <= 12)
        l.m[(G + 3) % 4] = _mm_sha256msg1_epu32(l.m[(G + 3) % 4], l.m[G % 4]);
}

template <int G>
SOTTO_SHA_TARGET inline void rounds_x2(Lane& a, Lane& b) {
    four_rounds<G>(a);
    four_rounds<G>(b);
    if constexpr (G < 15) rounds_x2<G + 1>(a, b);
}

template <int G>
SOTTO_SHA_TARGET inline void rounds_x1(Lane& a) {
    four_rounds<G>(a);
    if constexpr (G < 15) rounds_x1<G + 1>(a);
}

SOTTO_SHA_TARGET void compress_ni_x2(Sha256State& a, const std::uint8_t* block_a, Sha256State& b,
                                     const std::uint8_t* block_b) noexcept {
    Lane la, lb;
    load_lane(la, a, block_a);
    load_lane(lb, b, block_b);
    rounds_x2<0>(la, lb);
    store_lane(la, a);
    store_lane(lb, b);
    // No wipe here: the paired path serves published diagnosis keys (see derive_rpik_pair), and a
    // wipe per compression costs the matcher 8%. The single path below wipes.
}

template <int G>
SOTTO_SHA_TARGET inline void rounds_x4(Lane* l) {
    four_rounds<G>(l[0]);
    four_rounds<G>(l[1]);
    four_rounds<G>(l[2]);
    four_rounds<G>(l[3]);
    if constexpr (G < 15) rounds_x4<G + 1>(l);
}

// load_lane for a message given as native words (no byte swap).
SOTTO_SHA_TARGET inline void load_lane_words(Lane& l, const Sha256State& s,
                                             const std::uint32_t* w) {
    load_state(l, s);
    for (int i = 0; i < 4; ++i)
        l.m[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 4 * i));
}

SOTTO_SHA_TARGET void compress_ni_words_x4(Sha256State* s, const std::uint32_t (*w)[16]) noexcept {
    Lane l[4];
    for (int k = 0; k < 4; ++k) load_lane_words(l[k], s[k], w[k]);
    rounds_x4<0>(l);
    for (int k = 0; k < 4; ++k) store_lane(l[k], s[k]);
}

SOTTO_SHA_TARGET void compress_ni(Sha256State& s, const std::uint8_t* block) noexcept {
    Lane l;
    load_lane(l, s, block);
    rounds_x1<0>(l);
    store_lane(l, s);
    sodium_memzero(&l, sizeof l);
}

bool detect_sha_ni() noexcept {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    return (b & (1u << 29)) != 0 && __builtin_cpu_supports("sse4.1") &&
           __builtin_cpu_supports("ssse3");
}
#endif

}  // namespace

bool sha256_ni_supported() noexcept {
#if SOTTO_HAVE_SHA_NI
    static const bool v = crypto_isa_allows(CryptoIsa::kAesNi) && detect_sha_ni();
    return v;
#else
    return false;
#endif
}

bool sha256_arm_supported() noexcept { return arm_has_sha256(); }

const char* sha256_backend_name() noexcept {
    if (sha256_ni_supported()) return "sha-ni";
    if (sha256_arm_supported()) return "armv8-sha2";
    return "openssl";
}

void sha256_compress_x2(Sha256State& a, const std::uint8_t* block_a, Sha256State& b,
                        const std::uint8_t* block_b) noexcept {
#if SOTTO_HAVE_SHA_NI
    if (sha256_ni_supported()) return compress_ni_x2(a, block_a, b, block_b);
#endif
#if SOTTO_HAVE_ARM_CRYPTO
    if (arm_has_sha256()) return arm_sha256_compress_x2(a, block_a, b, block_b);
#endif
    compress_openssl(a, block_a);
    compress_openssl(b, block_b);
}

void sha256_compress_words_x4(Sha256State* s, const std::uint32_t (*w)[16]) noexcept {
#if SOTTO_HAVE_SHA_NI
    if (sha256_ni_supported()) return compress_ni_words_x4(s, w);
#endif
#if SOTTO_HAVE_ARM_CRYPTO
    if (arm_has_sha256()) return arm_sha256_compress_words_x4(s, w);
#endif
    for (int k = 0; k < 4; ++k) {
        std::uint8_t block[64];
        for (int i = 0; i < 16; ++i) {
            block[4 * i] = static_cast<std::uint8_t>(w[k][i] >> 24);
            block[4 * i + 1] = static_cast<std::uint8_t>(w[k][i] >> 16);
            block[4 * i + 2] = static_cast<std::uint8_t>(w[k][i] >> 8);
            block[4 * i + 3] = static_cast<std::uint8_t>(w[k][i]);
        }
        compress_openssl(s[k], block);
    }
}

void sha256_compress(Sha256State& s, const std::uint8_t* block) noexcept {
#if SOTTO_HAVE_SHA_NI
    if (sha256_ni_supported()) return compress_ni(s, block);
#endif
#if SOTTO_HAVE_ARM_CRYPTO
    if (arm_has_sha256()) return arm_sha256_compress(s, block);
#endif
    compress_openssl(s, block);
}

}  // namespace sotto::core::detail
