#pragma once
// Internal: the matcher's per-key kernel. It encrypts the PaddedData blocks of one key's reachable
// intervals under its RPIK (the RPIs) and, as each RPI leaves the AES unit, prefetches the filter
// word the filter pass will read for it. The matcher runs the filter pass over a key's RPIs only
// after the next key's kernel, so the filter words (about 1 MB for 100,000 stored RPIs: L2 or L3)
// have arrived by then. The round keys stay in registers and are not wiped: the matcher's keys
// are published diagnosis keys.
//
// Kernels: x86-64 VAES-512, VAES-256 and AES-NI (aes128.cpp), AArch64 ARMv8 AES (aes128_arm.cpp),
// beside the AES code they share. Each writes exactly the blocks `Aes128Batch::encrypt` writes;
// tests/unit/core/aes128_test.cpp checks the kernel this CPU runs against OpenSSL.

#include <cstddef>
#include <cstdint>

#include <sotto/core/rolling_id.hpp>

namespace sotto::core::detail {

/// Writes the RPIs of `n` blocks (`in`, 16 bytes each) under `rpik` to `out`, prefetching for
/// each the filter word `filter[first 8 bytes (LE) >> shift]` (matcher_filter.hpp).
using RpiKernel = void (*)(const std::uint8_t* rpik, const std::uint8_t* in, std::size_t n,
                           RollingProximityId* out, const std::uint64_t* filter,
                           unsigned shift) noexcept;

/// The fastest kernel this CPU and SOTTO_CRYPTO_ISA allow (the widest AES instructions), or
/// nullptr when there is none: the matcher then uses RpiDeriver (OpenSSL).
RpiKernel rpi_kernel() noexcept;

/// The kernel's name for benchmarks and tests: "vaes512", "vaes256", "aesni", "armv8-aes", or
/// "none".
const char* rpi_kernel_name() noexcept;

#if defined(__aarch64__) && defined(__AARCH64EL__) && defined(__linux__)
/// The ARMv8 kernel (aes128_arm.cpp); only when arm_has_aes().
void rpi_kernel_armv8(const std::uint8_t* rpik, const std::uint8_t* in, std::size_t n,
                      RollingProximityId* out, const std::uint64_t* filter,
                      unsigned shift) noexcept;
#endif

}  // namespace sotto::core::detail
