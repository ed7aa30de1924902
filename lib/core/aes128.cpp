#include "aes128.hpp"
#include "arm_crypto.hpp"
#include "cpu_cap.hpp"
#include "matcher_filter.hpp"
#include "matcher_kernel.hpp"

#include <openssl/evp.h>
#include <sodium.h>

#include <new>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SOTTO_HAVE_X86_AES 1
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace sotto::core::detail {

struct Aes128Batch::OpenSsl {
    EVP_CIPHER* ecb = nullptr;
    EVP_CIPHER_CTX* ctx = nullptr;
    ~OpenSsl() {
        EVP_CIPHER_CTX_free(ctx);  // wipes the key schedule
        EVP_CIPHER_free(ecb);
    }
};

#if SOTTO_HAVE_X86_AES
namespace {

// FIPS-197 key expansion with AESKEYGENASSIST (Intel AES-NI white paper, "AES-128 key expansion").
#define SOTTO_AES_TARGET __attribute__((target("aes,sse4.1")))
#define SOTTO_VAES_TARGET __attribute__((target("aes,sse4.1,avx512f,vaes")))
#define SOTTO_VAES256_TARGET __attribute__((target("aes,sse4.1,avx2,vaes")))

SOTTO_AES_TARGET inline __m128i expand_step(__m128i key, __m128i assist) {
    assist = _mm_shuffle_epi32(assist, 0xff);
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    return _mm_xor_si128(key, assist);
}

SOTTO_AES_TARGET void expand_key(const std::uint8_t* key, __m128i rk[11]) {
    rk[0] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key));
    rk[1] = expand_step(rk[0], _mm_aeskeygenassist_si128(rk[0], 0x01));
    rk[2] = expand_step(rk[1], _mm_aeskeygenassist_si128(rk[1], 0x02));
    rk[3] = expand_step(rk[2], _mm_aeskeygenassist_si128(rk[2], 0x04));
    rk[4] = expand_step(rk[3], _mm_aeskeygenassist_si128(rk[3], 0x08));
    rk[5] = expand_step(rk[4], _mm_aeskeygenassist_si128(rk[4], 0x10));
    rk[6] = expand_step(rk[5], _mm_aeskeygenassist_si128(rk[5], 0x20));
    rk[7] = expand_step(rk[6], _mm_aeskeygenassist_si128(rk[6], 0x40));
    rk[8] = expand_step(rk[7], _mm_aeskeygenassist_si128(rk[7], 0x80));
    rk[9] = expand_step(rk[8], _mm_aeskeygenassist_si128(rk[8], 0x1b));
    rk[10] = expand_step(rk[9], _mm_aeskeygenassist_si128(rk[9], 0x36));
}

SOTTO_AES_TARGET inline __m128i load(const std::uint8_t* p) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}
SOTTO_AES_TARGET inline void store(std::uint8_t* p, __m128i v) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v);
}

SOTTO_AES_TARGET inline __m128i encrypt_one(const __m128i rk[11], __m128i b) {
    b = _mm_xor_si128(b, rk[0]);
#pragma GCC unroll 16
    for (int r = 1; r < 10; ++r) b = _mm_aesenc_si128(b, rk[r]);
    return _mm_aesenclast_si128(b, rk[10]);
}

// Eight independent blocks per round keep the AES unit's pipeline full.
SOTTO_AES_TARGET void ecb_aesni(const __m128i rk[11], const std::uint8_t* in, std::uint8_t* out,
                                std::size_t n) {
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i b0 = _mm_xor_si128(load(in + 16 * (i + 0)), rk[0]);
        __m128i b1 = _mm_xor_si128(load(in + 16 * (i + 1)), rk[0]);
        __m128i b2 = _mm_xor_si128(load(in + 16 * (i + 2)), rk[0]);
        __m128i b3 = _mm_xor_si128(load(in + 16 * (i + 3)), rk[0]);
        __m128i b4 = _mm_xor_si128(load(in + 16 * (i + 4)), rk[0]);
        __m128i b5 = _mm_xor_si128(load(in + 16 * (i + 5)), rk[0]);
        __m128i b6 = _mm_xor_si128(load(in + 16 * (i + 6)), rk[0]);
        __m128i b7 = _mm_xor_si128(load(in + 16 * (i + 7)), rk[0]);
#pragma GCC unroll 16
        for (int r = 1; r < 10; ++r) {
            b0 = _mm_aesenc_si128(b0, rk[r]);
            b1 = _mm_aesenc_si128(b1, rk[r]);
            b2 = _mm_aesenc_si128(b2, rk[r]);
            b3 = _mm_aesenc_si128(b3, rk[r]);
            b4 = _mm_aesenc_si128(b4, rk[r]);
            b5 = _mm_aesenc_si128(b5, rk[r]);
            b6 = _mm_aesenc_si128(b6, rk[r]);
            b7 = _mm_aesenc_si128(b7, rk[r]);
        }
        store(out + 16 * (i + 0), _mm_aesenclast_si128(b0, rk[10]));
        store(out + 16 * (i + 1), _mm_aesenclast_si128(b1, rk[10]));
        store(out + 16 * (i + 2), _mm_aesenclast_si128(b2, rk[10]));
        store(out + 16 * (i + 3), _mm_aesenclast_si128(b3, rk[10]));
        store(out + 16 * (i + 4), _mm_aesenclast_si128(b4, rk[10]));
        store(out + 16 * (i + 5), _mm_aesenclast_si128(b5, rk[10]));
        store(out + 16 * (i + 6), _mm_aesenclast_si128(b6, rk[10]));
        store(out + 16 * (i + 7), _mm_aesenclast_si128(b7, rk[10]));
    }
    for (; i < n; ++i) store(out + 16 * i, encrypt_one(rk, load(in + 16 * i)));
}

// VAES: each instruction runs one round on four blocks; four registers give 16 in flight.
SOTTO_VAES_TARGET void ecb_vaes512(const __m128i rk[11], const std::uint8_t* in, std::uint8_t* out,
                                   std::size_t n) {
    __m512i k[11];
// The maskz form: GCC 12 flags the plain broadcast's internal undefined register as
// uninitialized.
#pragma GCC unroll 16
    for (int r = 0; r < 11; ++r) k[r] = _mm512_maskz_broadcast_i32x4(0xffff, rk[r]);
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512i b0 = _mm512_xor_si512(_mm512_loadu_si512(in + 16 * i), k[0]);
        __m512i b1 = _mm512_xor_si512(_mm512_loadu_si512(in + 16 * (i + 4)), k[0]);
        __m512i b2 = _mm512_xor_si512(_mm512_loadu_si512(in + 16 * (i + 8)), k[0]);
        __m512i b3 = _mm512_xor_si512(_mm512_loadu_si512(in + 16 * (i + 12)), k[0]);
#pragma GCC unroll 16
        for (int r = 1; r < 10; ++r) {
            b0 = _mm512_aesenc_epi128(b0, k[r]);
            b1 = _mm512_aesenc_epi128(b1, k[r]);
            b2 = _mm512_aesenc_epi128(b2, k[r]);
            b3 = _mm512_aesenc_epi128(b3, k[r]);
        }
        _mm512_storeu_si512(out + 16 * i, _mm512_aesenclast_epi128(b0, k[10]));
        _mm512_storeu_si512(out + 16 * (i + 4), _mm512_aesenclast_epi128(b1, k[10]));
        _mm512_storeu_si512(out + 16 * (i + 8), _mm512_aesenclast_epi128(b2, k[10]));
        _mm512_storeu_si512(out + 16 * (i + 12), _mm512_aesenclast_epi128(b3, k[10]));
    }
    for (; i + 4 <= n; i += 4) {
        __m512i b = _mm512_xor_si512(_mm512_loadu_si512(in + 16 * i), k[0]);
#pragma GCC unroll 16
        for (int r = 1; r < 10; ++r) b = _mm512_aesenc_epi128(b, k[r]);
        _mm512_storeu_si512(out + 16 * i, _mm512_aesenclast_epi128(b, k[10]));
    }
    for (; i < n; ++i) store(out + 16 * i, encrypt_one(rk, load(in + 16 * i)));
    sodium_memzero(k, sizeof k);  // a plain zeroing loop is dead code to the optimiser
}

SOTTO_VAES256_TARGET inline __m256i ld(const std::uint8_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}
SOTTO_VAES256_TARGET inline void st(std::uint8_t* p, __m256i v) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
}

// VAES on 256-bit registers (CPUs with VAES but without AVX-512, e.g. AMD Zen 3): each instruction
// runs one round on two blocks; eight registers give 16 in flight.
SOTTO_VAES256_TARGET void ecb_vaes256(const __m128i rk[11], const std::uint8_t* in,
                                      std::uint8_t* out, std::size_t n) {
    __m256i k[11];
#pragma GCC unroll 16
    for (int r = 0; r < 11; ++r) k[r] = _mm256_broadcastsi128_si256(rk[r]);
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i b[8];
#pragma GCC unroll 16
        for (std::size_t j = 0; j < 8; ++j)
            b[j] = _mm256_xor_si256(ld(in + 16 * (i + 2 * j)), k[0]);
#pragma GCC unroll 16
        for (int r = 1; r < 10; ++r)
#pragma GCC unroll 16
            for (std::size_t j = 0; j < 8; ++j) b[j] = _mm256_aesenc_epi128(b[j], k[r]);
#pragma GCC unroll 16
        for (std::size_t j = 0; j < 8; ++j)
            st(out + 16 * (i + 2 * j), _mm256_aesenclast_epi128(b[j], k[10]));
    }
    for (; i + 2 <= n; i += 2) {
        __m256i b = _mm256_xor_si256(ld(in + 16 * i), k[0]);
#pragma GCC unroll 16
        for (int r = 1; r < 10; ++r) b = _mm256_aesenc_epi128(b, k[r]);
        st(out + 16 * i, _mm256_aesenclast_epi128(b, k[10]));
    }
    for (; i < n; ++i) store(out + 16 * i, encrypt_one(rk, load(in + 16 * i)));
    sodium_memzero(k, sizeof k);
}

bool cpu_has_aesni() noexcept {
    static const bool v = __builtin_cpu_supports("aes") && __builtin_cpu_supports("sse4.1");
    return v;
}

// VAES with 512-bit registers: the CPU must have AVX512F and VAES (CPUID leaf 7) and the OS must
// save the ZMM state (XCR0 bits 1, 2, 5, 6, 7). Read directly: not every compiler's
// __builtin_cpu_supports knows "vaes".
bool detect_vaes512() noexcept {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return false;  // OSXSAVE
    unsigned xcr0_lo = 0, xcr0_hi = 0;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    if ((xcr0_lo & 0xe6u) != 0xe6u) return false;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    return (b & (1u << 16)) != 0 && (c & (1u << 9)) != 0;  // AVX512F, VAES
}

bool cpu_has_vaes512() noexcept {
    static const bool v = cpu_has_aesni() && detect_vaes512() && __builtin_cpu_supports("bmi2");
    return v;
}

// VAES with 256-bit registers: AVX2 and VAES, and the OS saves the YMM state (XCR0 bits 1, 2).
bool detect_vaes256() noexcept {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return false;  // OSXSAVE
    unsigned xcr0_lo = 0, xcr0_hi = 0;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    if ((xcr0_lo & 0x6u) != 0x6u) return false;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    return (b & (1u << 5)) != 0 && (c & (1u << 9)) != 0;  // AVX2, VAES
}

bool cpu_has_vaes256() noexcept {
    static const bool v = cpu_has_aesni() && detect_vaes256() && __builtin_cpu_supports("bmi2");
    return v;
}

// The matcher's kernels (matcher_kernel.hpp): AES of one key's blocks, and the filter probes of
// each loop step's RPIs one step later, read back with scalar loads: by then their stores have
// reached L1, the probes use only integer units and load ports (none of the vector pipes the AES
// instructions need), and their filter loads overlap the next step's AES.
#define SOTTO_VAES256_KERNEL_TARGET __attribute__((target("aes,sse4.1,avx2,vaes,bmi,bmi2")))
#define SOTTO_VAES512_KERNEL_TARGET __attribute__((target("aes,sse4.1,avx512f,vaes,bmi,bmi2")))

// Probes of the stored RPIs [from, from + K).
template <std::size_t K>
__attribute__((always_inline)) inline void probe_stored(const std::uint8_t* o, std::size_t from,
                                                        const std::uint64_t* filter, unsigned shift,
                                                        std::uint16_t* candidates, std::size_t& c,
                                                        std::size_t base) noexcept {
#pragma GCC unroll 16
    for (std::size_t j = 0; j < K; ++j)
        filter_probe(filter, shift, load64(o + 16 * (from + j)), candidates, c, base + from + j);
}

inline void probe_stored_rest(const std::uint8_t* o, std::size_t from, std::size_t to,
                              const std::uint64_t* filter, unsigned shift,
                              std::uint16_t* candidates, std::size_t& c,
                              std::size_t base) noexcept {
    for (std::size_t j = from; j < to; ++j)
        filter_probe(filter, shift, load64(o + 16 * j), candidates, c, base + j);
}

SOTTO_AES_TARGET inline void load_round_keys(const RpiRoundKeys& keys, __m128i rk[11]) {
#pragma GCC unroll 16
    for (int r = 0; r < 11; ++r)
        rk[r] = _mm_load_si128(reinterpret_cast<const __m128i*>(keys.rk[r]));
}

// Four FIPS-197 key expansions, round by round.
SOTTO_AES_TARGET void expand_keys_x4_aesni(const std::uint8_t (*key)[16], RpiRoundKeys* out) {
    __m128i k[4];
    for (int i = 0; i < 4; ++i) {
        k[i] = load(key[i]);
        _mm_store_si128(reinterpret_cast<__m128i*>(out[i].rk[0]), k[i]);
    }
#define SOTTO_EXPAND_ROUND(r, rcon)                                      \
    for (int i = 0; i < 4; ++i) {                                        \
        k[i] = expand_step(k[i], _mm_aeskeygenassist_si128(k[i], rcon)); \
        _mm_store_si128(reinterpret_cast<__m128i*>(out[i].rk[r]), k[i]); \
    }
    SOTTO_EXPAND_ROUND(1, 0x01)
    SOTTO_EXPAND_ROUND(2, 0x02)
    SOTTO_EXPAND_ROUND(3, 0x04)
    SOTTO_EXPAND_ROUND(4, 0x08)
    SOTTO_EXPAND_ROUND(5, 0x10)
    SOTTO_EXPAND_ROUND(6, 0x20)
    SOTTO_EXPAND_ROUND(7, 0x40)
    SOTTO_EXPAND_ROUND(8, 0x80)
    SOTTO_EXPAND_ROUND(9, 0x1b)
    SOTTO_EXPAND_ROUND(10, 0x36)
#undef SOTTO_EXPAND_ROUND
}

SOTTO_AES_TARGET std::size_t kernel_aesni(const RpiRoundKeys& keys, const std::uint8_t* in,
                                          std::size_t n, RollingProximityId* out,
                                          const std::uint64_t* filter, unsigned shift,
                                          std::uint16_t* candidates, std::size_t base) noexcept {
    __m128i rk[11];
    load_round_keys(keys, rk);
    std::uint8_t* o = out->bytes.data();
    std::size_t i = 0, c = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i b[8];
#pragma GCC unroll 16
        for (std::size_t j = 0; j < 8; ++j) b[j] = _mm_xor_si128(load(in + 16 * (i + j)), rk[0]);
#pragma GCC unroll 16
        for (int r = 1; r < 10; ++r)
#pragma GCC unroll 16
            for (std::size_t j = 0; j < 8; ++j) b[j] = _mm_aesenc_si128(b[j], rk[r]);
#pragma GCC unroll 16
        for (std::size_t j = 0; j < 8; ++j)
            store(o + 16 * (i + j), _mm_aesenclast_si128(b[j], rk[10]));
        if (i >= 8) probe_stored<8>(o, i - 8, filter, shift, candidates, c, base);
    }
    const std::size_t probed = i >= 8 ? i - 8 : 0;
    for (; i < n; ++i) store(o + 16 * i, encrypt_one(rk, load(in + 16 * i)));
    probe_stored_rest(o, probed, n, filter, shift, candidates, c, base);
    return c;
}

SOTTO_VAES256_KERNEL_TARGET std::size_t kernel_vaes256(const RpiRoundKeys& keys,
                                                       const std::uint8_t* in, std::size_t n,
                                                       RollingProximityId* out,
                                                       const std::uint64_t* filter, unsigned shift,
                                                       std::uint16_t* candidates,
                                                       std::size_t base) noexcept {
    __m128i rk[11];
    load_round_keys(keys, rk);
    __m256i k[11];
#pragma GCC unroll 16
    for (int r = 0; r < 11; ++r) k[r] = _mm256_broadcastsi128_si256(rk[r]);
    std::uint8_t* o = out->bytes.data();
    std::size_t i = 0, c = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i b[8];
#pragma GCC unroll 16
        for (std::size_t j = 0; j < 8; ++j)
            b[j] = _mm256_xor_si256(ld(in + 16 * (i + 2 * j)), k[0]);
#pragma GCC unroll 16
        for (int r = 1; r < 10; ++r)
#pragma GCC unroll 16
            for (std::size_t j = 0; j < 8; ++j) b[j] = _mm256_aesenc_epi128(b[j], k[r]);
#pragma GCC unroll 16
        for (std::size_t j = 0; j < 8; ++j)
            st(o + 16 * (i + 2 * j), _mm256_aesenclast_epi128(b[j], k[10]));
        if (i >= 16) probe_stored<16>(o, i - 16, filter, shift, candidates, c, base);
    }
    const std::size_t probed = i >= 16 ? i - 16 : 0;
    for (; i < n; ++i) store(o + 16 * i, encrypt_one(rk, load(in + 16 * i)));
    probe_stored_rest(o, probed, n, filter, shift, candidates, c, base);
    return c;
}

SOTTO_VAES512_KERNEL_TARGET std::size_t kernel_vaes512(const RpiRoundKeys& keys,
                                                       const std::uint8_t* in, std::size_t n,
                                                       RollingProximityId* out,
                                                       const std::uint64_t* filter, unsigned shift,
                                                       std::uint16_t* candidates,
                                                       std::size_t base) noexcept {
    __m128i rk[11];
    load_round_keys(keys, rk);
    __m512i k[11];
#pragma GCC unroll 16
    for (int r = 0; r < 11; ++r) k[r] = _mm512_maskz_broadcast_i32x4(0xffff, rk[r]);
    std::uint8_t* o = out->bytes.data();
    std::size_t i = 0, c = 0;
    for (; i + 16 <= n; i += 16) {
        __m512i b[4];
#pragma GCC unroll 16
        for (std::size_t j = 0; j < 4; ++j)
            b[j] = _mm512_xor_si512(_mm512_loadu_si512(in + 16 * (i + 4 * j)), k[0]);
#pragma GCC unroll 16
        for (int r = 1; r < 10; ++r)
#pragma GCC unroll 16
            for (std::size_t j = 0; j < 4; ++j) b[j] = _mm512_aesenc_epi128(b[j], k[r]);
#pragma GCC unroll 16
        for (std::size_t j = 0; j < 4; ++j)
            _mm512_storeu_si512(o + 16 * (i + 4 * j), _mm512_aesenclast_epi128(b[j], k[10]));
        if (i >= 16) probe_stored<16>(o, i - 16, filter, shift, candidates, c, base);
    }
    const std::size_t probed = i >= 16 ? i - 16 : 0;
    for (; i < n; ++i) store(o + 16 * i, encrypt_one(rk, load(in + 16 * i)));
    probe_stored_rest(o, probed, n, filter, shift, candidates, c, base);
    return c;
}

}  // namespace
#endif  // SOTTO_HAVE_X86_AES

bool aes_backend_supported(AesBackend backend) noexcept {
    switch (backend) {
        case AesBackend::kAuto:
        case AesBackend::kOpenSsl:
            return true;
#if SOTTO_HAVE_X86_AES
        case AesBackend::kAesNi:
            return crypto_isa_allows(CryptoIsa::kAesNi) && cpu_has_aesni();
        case AesBackend::kVaes256:
            return crypto_isa_allows(CryptoIsa::kVaes256) && cpu_has_vaes256();
        case AesBackend::kVaes512:
            return crypto_isa_allows(CryptoIsa::kAll) && cpu_has_vaes512();
#endif
#if SOTTO_HAVE_ARM_CRYPTO
        case AesBackend::kArmv8:
            return arm_has_aes();  // SOTTO_CRYPTO_ISA applies inside
#endif
        default:
            return false;
    }
}

const char* aes_backend_name(AesBackend backend) noexcept {
    switch (backend) {
        case AesBackend::kOpenSsl:
            return "openssl";
        case AesBackend::kAesNi:
            return "aesni";
        case AesBackend::kVaes512:
            return "vaes512";
        case AesBackend::kVaes256:
            return "vaes256";
        case AesBackend::kArmv8:
            return "armv8-aes";
        default:
            return "auto";
    }
}

Aes128Batch::Aes128Batch(AesBackend backend, std::unique_ptr<OpenSsl> ossl) noexcept
    : backend_(backend), ossl_(std::move(ossl)) {}
Aes128Batch::Aes128Batch(Aes128Batch&&) noexcept = default;
Aes128Batch& Aes128Batch::operator=(Aes128Batch&&) noexcept = default;
Aes128Batch::~Aes128Batch() = default;

Result<Aes128Batch> Aes128Batch::create(AesBackend backend) noexcept {
    if (!aes_backend_supported(backend))
        return make_error(ErrorCode::kInvalidArgument, "aes: backend not supported on this CPU");
    if (backend == AesBackend::kAuto) {
        backend = aes_backend_supported(AesBackend::kVaes512)   ? AesBackend::kVaes512
                  : aes_backend_supported(AesBackend::kVaes256) ? AesBackend::kVaes256
                  : aes_backend_supported(AesBackend::kAesNi)   ? AesBackend::kAesNi
                  : aes_backend_supported(AesBackend::kArmv8)   ? AesBackend::kArmv8
                                                                : AesBackend::kOpenSsl;
    }
    if (backend != AesBackend::kOpenSsl) return Aes128Batch(backend, nullptr);

    std::unique_ptr<OpenSsl> o(new (std::nothrow) OpenSsl());
    if (!o) return make_error(ErrorCode::kOutOfMemory, "aes: out of memory");
    o->ecb = EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr);
    o->ctx = EVP_CIPHER_CTX_new();
    if (o->ecb == nullptr || o->ctx == nullptr ||
        EVP_EncryptInit_ex2(o->ctx, o->ecb, nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_set_padding(o->ctx, 0) != 1)
        return make_error(ErrorCode::kCryptoFailure, "AES-128-ECB unavailable");
    return Aes128Batch(backend, std::move(o));
}

bool Aes128Batch::encrypt(std::span<const std::uint8_t, 16> key, const std::uint8_t* in,
                          std::uint8_t* out, std::size_t n) noexcept {
    if (n == 0) return true;
#if SOTTO_HAVE_X86_AES
    if (backend_ == AesBackend::kAesNi || backend_ == AesBackend::kVaes256 ||
        backend_ == AesBackend::kVaes512) {
        __m128i rk[11];
        expand_key(key.data(), rk);
        if (backend_ == AesBackend::kVaes512)
            ecb_vaes512(rk, in, out, n);
        else if (backend_ == AesBackend::kVaes256)
            ecb_vaes256(rk, in, out, n);
        else
            ecb_aesni(rk, in, out, n);
        sodium_memzero(rk, sizeof rk);
        return true;
    }
#endif
#if SOTTO_HAVE_ARM_CRYPTO
    if (backend_ == AesBackend::kArmv8) {
        arm_aes128_ecb(key.data(), in, out, n);
        return true;
    }
#endif
    if (n > static_cast<std::size_t>(INT32_MAX / 16)) return false;
    if (EVP_EncryptInit_ex2(ossl_->ctx, nullptr, key.data(), nullptr, nullptr) != 1) return false;
    int len = 0;
    return EVP_EncryptUpdate(ossl_->ctx, out, &len, in, static_cast<int>(16 * n)) == 1 &&
           static_cast<std::size_t>(len) == 16 * n;
}

void expand_rpi_keys_x4(const std::uint8_t (*rpik)[16], RpiRoundKeys* out) noexcept {
#if SOTTO_HAVE_X86_AES
    if (cpu_has_aesni()) return expand_keys_x4_aesni(rpik, out);
#endif
#if SOTTO_HAVE_ARM_CRYPTO
    if (arm_has_aes()) return expand_rpi_keys_armv8(rpik, out, 4);
#endif
    (void)rpik;
    (void)out;
}

RpiKernel rpi_kernel() noexcept {
#if SOTTO_HAVE_X86_AES
    if (aes_backend_supported(AesBackend::kVaes512)) return kernel_vaes512;
    if (aes_backend_supported(AesBackend::kVaes256)) return kernel_vaes256;
    if (aes_backend_supported(AesBackend::kAesNi)) return kernel_aesni;
#endif
#if SOTTO_HAVE_ARM_CRYPTO
    if (aes_backend_supported(AesBackend::kArmv8)) return rpi_kernel_armv8;
#endif
    return nullptr;
}

const char* rpi_kernel_name() noexcept {
    const RpiKernel k = rpi_kernel();
#if SOTTO_HAVE_X86_AES
    if (k == kernel_vaes512) return "vaes512";
    if (k == kernel_vaes256) return "vaes256";
    if (k == kernel_aesni) return "aesni";
#endif
    return k != nullptr ? "armv8-aes" : "none";
}

}  // namespace sotto::core::detail
