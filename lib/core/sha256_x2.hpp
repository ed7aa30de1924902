#pragma once
// Internal: SHA-256 compression of two independent (state, block) pairs at once.
//
// With SHA-NI each compression is a chain of 32 dependent SHA256RNDS2 instructions, so a single
// message leaves most of the unit idle. Interleaving two messages nearly doubles throughput, which
// is what the matcher's HKDF needs (6 compressions per key, keys processed in pairs). AArch64 CPUs
// with the ARMv8 SHA-256 instructions get the same treatment (arm_crypto.hpp). Where the CPU has
// neither, OpenSSL's SHA256_Transform compresses them one after the other.
// Tested against OpenSSL in tests/unit/core/sha256_x2_test.cpp.

#include <cstdint>

namespace sotto::core::detail {

/// SHA-256 chaining value: H0..H7 as in FIPS 180-4.
struct Sha256State {
    std::uint32_t h[8];
};

/// `a = compress(a, block_a)`, `b = compress(b, block_b)` (64-byte blocks, FIPS 180-4 §6.2.2).
/// Meant for published data: its working state is not wiped from the stack.
void sha256_compress_x2(Sha256State& a, const std::uint8_t* block_a, Sha256State& b,
                        const std::uint8_t* block_b) noexcept;

/// `s[k] = compress(s[k], w[k])` for k = 0..3, each message given as its 16 words W0..W15
/// (FIPS 180-4 §6.2.2, native integers: no byte order to undo), the four interleaved: SHA-NI's
/// and ARMv8's round instructions are latency-bound, and four chains fill their pipelines where
/// two leave gaps. The matcher's HKDF builds its blocks from digests as words. Working state not
/// wiped (published data).
void sha256_compress_words_x4(Sha256State* s, const std::uint32_t (*w)[16]) noexcept;

/// One compression (the same code path as the pair, for single keys).
void sha256_compress(Sha256State& s, const std::uint8_t* block) noexcept;

/// True when the SHA-NI path runs (else OpenSSL's SHA256_Transform).
bool sha256_ni_supported() noexcept;

/// True when the ARMv8 SHA-256 path runs (AArch64 with HWCAP_SHA2).
bool sha256_arm_supported() noexcept;

/// The path `sha256_compress_x2` takes on this CPU, for logs and benchmarks: "sha-ni",
/// "armv8-sha2" or "openssl".
const char* sha256_backend_name() noexcept;

/// The initial hash value H(0).
inline constexpr Sha256State kSha256Init = {{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                             0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}};

}  // namespace sotto::core::detail
