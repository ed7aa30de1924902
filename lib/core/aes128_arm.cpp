// See arm_crypto.hpp. AES-128 with the ARMv8 Cryptography Extension. Compiled with
// -march=armv8-a+crypto (lib/core/CMakeLists.txt); only reached when arm_has_aes().
//
// AESE(b, k) is AddRoundKey(k), SubBytes and ShiftRows; AESMC is MixColumns. Rounds 1..9 are
// AESMC(AESE(b, rk[r-1])), the last is AESE(b, rk[9]) ^ rk[10]. Each AESE/AESMC pair depends on
// the previous one (latency 2-4 cycles on Cortex-A cores, where the pair fuses), so eight
// independent blocks per round keep the pipelines full; 8 blocks + 11 round keys fit in the 32
// vector registers.
#include "arm_crypto.hpp"
#include "matcher_filter.hpp"
#include "matcher_kernel.hpp"

#if SOTTO_HAVE_ARM_CRYPTO
#include <arm_neon.h>
#include <sodium.h>

#include <cstring>

namespace sotto::core::detail {
namespace {

// SubWord(w) for a little-endian word: AESE with a zero key on w broadcast to all four columns
// (ShiftRows then moves equal bytes onto each other, leaving S-box(w) in every column).
inline std::uint32_t sub_word(std::uint32_t w) {
    const uint8x16_t x = vreinterpretq_u8_u32(vdupq_n_u32(w));
    return vgetq_lane_u32(vreinterpretq_u32_u8(vaeseq_u8(x, vdupq_n_u8(0))), 0);
}

// FIPS-197 5.2 key expansion, words in little-endian byte order: RotWord is a rotate right by 8.
void expand_key(const std::uint8_t* key, uint8x16_t rk[11]) {
    static constexpr std::uint8_t kRcon[10] = {0x01, 0x02, 0x04, 0x08, 0x10,
                                               0x20, 0x40, 0x80, 0x1b, 0x36};
    std::uint32_t w[44];
    std::memcpy(w, key, 16);
    for (std::size_t i = 0; i < 10; ++i) {
        const std::uint32_t t = sub_word(w[4 * i + 3]);
        w[4 * i + 4] = w[4 * i] ^ ((t >> 8) | (t << 24)) ^ kRcon[i];
        w[4 * i + 5] = w[4 * i + 1] ^ w[4 * i + 4];
        w[4 * i + 6] = w[4 * i + 2] ^ w[4 * i + 5];
        w[4 * i + 7] = w[4 * i + 3] ^ w[4 * i + 6];
    }
#pragma GCC unroll 16
    for (std::size_t r = 0; r < 11; ++r) rk[r] = vreinterpretq_u8_u32(vld1q_u32(w + 4 * r));
    sodium_memzero(w, sizeof w);
}

inline uint8x16_t encrypt_one(const uint8x16_t rk[11], uint8x16_t b) {
#pragma GCC unroll 16
    for (int r = 0; r < 9; ++r) b = vaesmcq_u8(vaeseq_u8(b, rk[r]));
    return veorq_u8(vaeseq_u8(b, rk[9]), rk[10]);
}

}  // namespace

void arm_aes128_ecb(const std::uint8_t* key, const std::uint8_t* in, std::uint8_t* out,
                    std::size_t n) noexcept {
    uint8x16_t rk[11];
    expand_key(key, rk);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const std::uint8_t* p = in + 16 * i;
        uint8x16_t b0 = vld1q_u8(p), b1 = vld1q_u8(p + 16), b2 = vld1q_u8(p + 32),
                   b3 = vld1q_u8(p + 48);
        uint8x16_t b4 = vld1q_u8(p + 64), b5 = vld1q_u8(p + 80), b6 = vld1q_u8(p + 96),
                   b7 = vld1q_u8(p + 112);
#pragma GCC unroll 16
        for (int r = 0; r < 9; ++r) {
            b0 = vaesmcq_u8(vaeseq_u8(b0, rk[r]));
            b1 = vaesmcq_u8(vaeseq_u8(b1, rk[r]));
            b2 = vaesmcq_u8(vaeseq_u8(b2, rk[r]));
            b3 = vaesmcq_u8(vaeseq_u8(b3, rk[r]));
            b4 = vaesmcq_u8(vaeseq_u8(b4, rk[r]));
            b5 = vaesmcq_u8(vaeseq_u8(b5, rk[r]));
            b6 = vaesmcq_u8(vaeseq_u8(b6, rk[r]));
            b7 = vaesmcq_u8(vaeseq_u8(b7, rk[r]));
        }
        std::uint8_t* q = out + 16 * i;
        vst1q_u8(q, veorq_u8(vaeseq_u8(b0, rk[9]), rk[10]));
        vst1q_u8(q + 16, veorq_u8(vaeseq_u8(b1, rk[9]), rk[10]));
        vst1q_u8(q + 32, veorq_u8(vaeseq_u8(b2, rk[9]), rk[10]));
        vst1q_u8(q + 48, veorq_u8(vaeseq_u8(b3, rk[9]), rk[10]));
        vst1q_u8(q + 64, veorq_u8(vaeseq_u8(b4, rk[9]), rk[10]));
        vst1q_u8(q + 80, veorq_u8(vaeseq_u8(b5, rk[9]), rk[10]));
        vst1q_u8(q + 96, veorq_u8(vaeseq_u8(b6, rk[9]), rk[10]));
        vst1q_u8(q + 112, veorq_u8(vaeseq_u8(b7, rk[9]), rk[10]));
    }
    for (; i < n; ++i) vst1q_u8(out + 16 * i, encrypt_one(rk, vld1q_u8(in + 16 * i)));
    sodium_memzero(rk, sizeof rk);
}

// The matcher's kernel (matcher_kernel.hpp): eight blocks in flight, and the filter probes of
// each step's RPIs one step later (scalar loads of the stored RPIs), beside the next step's AES.
// Round keys are not wiped: the matcher's keys are published.
void expand_rpi_keys_armv8(const std::uint8_t (*rpik)[16], RpiRoundKeys* out,
                           std::size_t count) noexcept {
    // expand_key's steps for four keys at a time, round by round: four SubWord chains (AESE and
    // lane moves) hide each other's latency. Published keys: not wiped.
    static constexpr std::uint8_t kRcon[10] = {0x01, 0x02, 0x04, 0x08, 0x10,
                                               0x20, 0x40, 0x80, 0x1b, 0x36};
    for (std::size_t first = 0; first < count; first += 4) {
        const std::size_t lanes = count - first < 4 ? count - first : 4;
        std::uint32_t w[4][44];
        for (std::size_t k = 0; k < lanes; ++k) std::memcpy(w[k], rpik[first + k], 16);
        for (std::size_t i = 0; i < 10; ++i)
#pragma GCC unroll 4
            for (std::size_t k = 0; k < lanes; ++k) {
                std::uint32_t* x = w[k] + 4 * i;
                const std::uint32_t t = sub_word(x[3]);
                x[4] = x[0] ^ ((t >> 8) | (t << 24)) ^ kRcon[i];
                x[5] = x[1] ^ x[4];
                x[6] = x[2] ^ x[5];
                x[7] = x[3] ^ x[6];
            }
        for (std::size_t k = 0; k < lanes; ++k) std::memcpy(out[first + k].rk, w[k], 176);
    }
}

std::size_t rpi_kernel_armv8(const RpiRoundKeys& keys, const std::uint8_t* in, std::size_t n,
                             RollingProximityId* out, const std::uint64_t* filter, unsigned shift,
                             std::uint16_t* candidates, std::size_t base) noexcept {
    uint8x16_t rk[11];
    for (std::size_t r = 0; r < 11; ++r) rk[r] = vld1q_u8(keys.rk[r]);
    std::uint8_t* o = out->bytes.data();
    std::size_t c = 0;
    auto probe = [&](std::size_t j) {
        filter_probe(filter, shift, load64(o + 16 * j), candidates, c, base + j);
    };
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint8x16_t b[8];
#pragma GCC unroll 16
        for (std::size_t j = 0; j < 8; ++j) b[j] = vld1q_u8(in + 16 * (i + j));
#pragma GCC unroll 16
        for (int r = 0; r < 9; ++r)
#pragma GCC unroll 16
            for (std::size_t j = 0; j < 8; ++j) b[j] = vaesmcq_u8(vaeseq_u8(b[j], rk[r]));
#pragma GCC unroll 16
        for (std::size_t j = 0; j < 8; ++j)
            vst1q_u8(o + 16 * (i + j), veorq_u8(vaeseq_u8(b[j], rk[9]), rk[10]));
        if (i >= 8) {
#pragma GCC unroll 16
            for (std::size_t j = i - 8; j < i; ++j) probe(j);
        }
    }
    std::size_t probed = i >= 8 ? i - 8 : 0;
    for (; i < n; ++i) vst1q_u8(o + 16 * i, encrypt_one(rk, vld1q_u8(in + 16 * i)));
    for (; probed < n; ++probed) probe(probed);
    return c;
}

}  // namespace sotto::core::detail
#endif  // SOTTO_HAVE_ARM_CRYPTO
