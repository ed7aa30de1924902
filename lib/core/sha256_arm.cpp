// See arm_crypto.hpp. SHA-256 compression with the ARMv8 Cryptography Extension. Compiled with
// -march=armv8-a+crypto (lib/core/CMakeLists.txt); only reached when arm_has_sha256().
//
// State in two registers, ABCD and EFGH; four rounds per SHA256H/SHA256H2 pair on W+K; the
// message schedule (SHA256SU0/SU1) for group G+4 is computed during group G. A compression is a
// chain of 16 dependent SHA256H/H2 pairs, so the paired version interleaves two messages.
#include "arm_crypto.hpp"

#if SOTTO_HAVE_ARM_CRYPTO
#include <arm_neon.h>
#include <sodium.h>

namespace sotto::core::detail {
namespace {

alignas(16) constexpr std::uint32_t kK[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

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
    const uint32x4_t wk = vaddq_u32(l.m[G % 4], vld1q_u32(kK + 4 * G));
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

void arm_sha256_compress(Sha256State& s, const std::uint8_t* block) noexcept {
    Lane l;
    load_lane(l, s, block);
    rounds_x1<0>(l);
    store_lane(l, s);
    sodium_memzero(&l, sizeof l);
}

}  // namespace sotto::core::detail
#endif  // SOTTO_HAVE_ARM_CRYPTO
