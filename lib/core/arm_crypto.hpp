#pragma once
// Internal: the ARMv8 Cryptography Extension paths (AArch64 only), used by aes128.cpp and
// sha256_x2.cpp. aes128_arm.cpp and sha256_arm.cpp are the only files compiled with
// -march=armv8-a+crypto; nothing else may execute their instructions, so every caller checks
// arm_has_aes() / arm_has_sha256() first. Both read getauxval(AT_HWCAP) once, which is what the
// kernel reports for this CPU (a CPU feature query: no I/O, so lib/core stays pure).
// On any other target only the two queries exist, as inline constants (false).
// Tested against OpenSSL in tests/unit/core/aes128_test.cpp and sha256_x2_test.cpp, under qemu
// with the extensions reported and masked (scripts/cross-test.sh).

#include <cstddef>
#include <cstdint>

#include "sha256_x2.hpp"

// Little-endian only: the key expansion treats key words as little-endian (as every AArch64
// Linux and Android system is; aarch64_be takes the OpenSSL paths).
#if defined(__aarch64__) && defined(__AARCH64EL__) && defined(__linux__)
#define SOTTO_HAVE_ARM_CRYPTO 1
#endif

namespace sotto::core::detail {

#if SOTTO_HAVE_ARM_CRYPTO
/// True when the CPU has AESE/AESMC (HWCAP_AES) and SOTTO_CRYPTO_ISA is not "none"
/// (cpu_cap.hpp). Thread-safe; always false off AArch64 Linux.
bool arm_has_aes() noexcept;
/// True when the CPU has SHA256H/H2/SU0/SU1 (HWCAP_SHA2), likewise.
bool arm_has_sha256() noexcept;

/// AES-128-ECB of `n` blocks under `key` (FIPS-197 key expansion with AESE for SubWord, then 8
/// blocks in flight). `in` and `out` may be equal. Round keys are wiped before returning.
/// Only when arm_has_aes().
void arm_aes128_ecb(const std::uint8_t* key, const std::uint8_t* in, std::uint8_t* out,
                    std::size_t n) noexcept;

/// `a = compress(a, block_a)`, `b = compress(b, block_b)` with the two messages' rounds
/// interleaved. Working state not wiped (published data, as sha256_compress_x2).
/// Only when arm_has_sha256().
void arm_sha256_compress_x2(Sha256State& a, const std::uint8_t* block_a, Sha256State& b,
                            const std::uint8_t* block_b) noexcept;

/// sha256_compress_words_x4 (sha256_x2.hpp): four compressions interleaved, messages as words.
/// Only when arm_has_sha256().
void arm_sha256_compress_words_x4(Sha256State* s, const std::uint32_t (*w)[16]) noexcept;

/// One compression; wipes its working state. Only when arm_has_sha256().
void arm_sha256_compress(Sha256State& s, const std::uint8_t* block) noexcept;
#else
// Elsewhere constant, so the dispatch costs nothing.
inline bool arm_has_aes() noexcept { return false; }
inline bool arm_has_sha256() noexcept { return false; }
#endif

}  // namespace sotto::core::detail
