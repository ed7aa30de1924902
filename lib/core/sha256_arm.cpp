// See arm_crypto.hpp. SHA-256 compression with the ARMv8 Cryptography Extension. Compiled with
// -march=armv8-a+crypto (lib/core/CMakeLists.txt); only reached when arm_has_sha256().
//
// State in two registers, ABCD and EFGH; four rounds per SHA256H/SHA256H2 pair on W+K; the
// message schedule (SHA256SU0/SU1) for group G+4 is computed during group G. A compression is a
// chain of 16 dependent SHA256H/H2 pairs, so the paired version interleaves two messages.
#include "arm_crypto.hpp"
#include "sha256_k.hpp"

#if SOTTO_HAVE_ARM_CRYPTO
#include <arm_neon.h>
#include <sodium.h>

namespace sotto::core::detail {
namespace {

// One message's working set: state, the saved input state, the schedule ring (m[G % 4] holds
// W[4G..4G+3] when group G starts).
struct Lane {
    uint32x4_t abcd, efgh, abcd0, efgh0, m[4];
};

inline void load_lane(Lane& l, const Sha256State& s, const std::uint8_t* block) {
    l.abcd = l.abcd0 = vld1q_u32(s.h);
    l.efgh = l.efgh0 = vld1q_u32(s.h + 4);
    for (int i = 0; i < 4; ++i)  // message words are big-endian
        l.m[i] = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(block + 16 * i)));
}

inline void store_lane(const Lane& l, Sha256State& s) {
    vst1q_u32(s.h, vaddq_u32(l.abcd, l.abcd0));
    vst1q_u32(s.h + 4, vaddq_u32(l.efgh, l.efgh0));
}

template <int G>
inline void four_rounds(Lane& l) {
    const uint32x4_t wk = vaddq_u32(l.m[G % 4], vld1q_u32(kSha256K + 4 * G));
    if constexpr (G < 12)  // W for group G+4 from W[t-16], W[t-12], W[t-8], W[t-4]
        l.m[G % 4] = vsha256su1q_u32(vsha256su0q_u32(l.m[G % 4], l.m[(G + 1) % 4]),
                                     l.m[(G + 2) % 4], l.m[(G + 3) % 4]);
    const uint32x4_t abcd = l.abcd;
    l.abcd = vsha256hq_u32(l.abcd, l.efgh, wk);
    l.efgh = vsha256h2q_u32(l.efgh, abcd, wk);
}

template <int G>
inline void rounds_x2(Lane& a, Lane& b) {
    four_rounds<G>(a);
    four_rounds<G>(b);
    if constexpr (G < 15) rounds_x2<G + 1>(a, b);
}

template <int G>
inline void rounds_x4(Lane* l) {
    four_rounds<G>(l[0]);
    four_rounds<G>(l[1]);
    four_rounds<G>(l[2]);
    four_rounds<G>(l[3]);
    if constexpr (G < 15) rounds_x4<G + 1>(l);
}

template <int G>
inline void rounds_x1(Lane& a) {
    four_rounds<G>(a);
    if constexpr (G < 15) rounds_x1<G + 1>(a);
}

}  // namespace

void arm_sha256_compress_x2(Sha256State& a, const std::uint8_t* block_a, Sha256State& b,
                            const std::uint8_t* block_b) noexcept {
    Lane la, lb;
    load_lane(la, a, block_a);
    load_lane(lb, b, block_b);
    rounds_x2<0>(la, lb);
    store_lane(la, a);
    store_lane(lb, b);
}

void arm_sha256_compress_words_x4(Sha256State* s, const std::uint32_t (*w)[16]) noexcept {
    Lane l[4];
    for (int k = 0; k < 4; ++k) {
        l[k].abcd = l[k].abcd0 = vld1q_u32(s[k].h);
        l[k].efgh = l[k].efgh0 = vld1q_u32(s[k].h + 4);
        for (int i = 0; i < 4; ++i) l[k].m[i] = vld1q_u32(w[k] + 4 * i);  // words: no swap
    }
    rounds_x4<0>(l);
    for (int k = 0; k < 4; ++k) store_lane(l[k], s[k]);
}

void arm_sha256_compress(Sha256State& s, const std::uint8_t* block) noexcept {
    Lane l;
    load_lane(l, s, block);
    rounds_x1<0>(l);
    store_lane(l, s);
    sodium_memzero(&l, sizeof l);
}

}  // namespace sotto::core::detail
#endif  // SOTTO_HAVE_ARM_CRYPTO
