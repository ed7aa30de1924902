#pragma once
// Internal: the ceiling a process puts on sotto's CPU-specific crypto paths, from the environment
// variable SOTTO_CRYPTO_ISA, read once (like OpenSSL's OPENSSL_ia32cap): for measuring and
// testing the paths of older CPUs on a newer one, or for avoiding a path. Values:
//
//   unset or "auto"  every path this CPU supports
//   "vaes256"        no AVX-512: VAES on 256-bit registers at most
//   "aesni"          no VAES: AES-NI (8 blocks in flight), SHA-NI
//   "none"           none of sotto's own CPU paths (x86 or ARMv8): the OpenSSL ones
//
// Any other value counts as "none" (the safe reading of a typo). Only lowers: a path the CPU lacks
// is never enabled. Each fast path asks `crypto_isa_allows` before its CPU check.

#include <cstdint>

namespace sotto::core::detail {

enum class CryptoIsa : std::uint8_t { kNone = 0, kAesNi = 1, kVaes256 = 2, kAll = 3 };

/// The ceiling from SOTTO_CRYPTO_ISA, read on first use (thread-safe).
CryptoIsa crypto_isa_cap() noexcept;

/// True when the ceiling allows paths of `level` (kAesNi for AES-NI, SHA-NI and the ARMv8 paths;
/// kVaes256; kAll for VAES-512).
inline bool crypto_isa_allows(CryptoIsa level) noexcept {
    return static_cast<std::uint8_t>(crypto_isa_cap()) >= static_cast<std::uint8_t>(level);
}

}  // namespace sotto::core::detail
