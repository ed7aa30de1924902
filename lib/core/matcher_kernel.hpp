#pragma once
// Internal: the matcher's per-key kernel. It encrypts the PaddedData blocks of one key's reachable
// intervals under its RPIK (the RPIs) and probes each RPI against the filter
// (matcher_filter.hpp) a loop step after it left the AES unit, so that the probes' integer work
// and filter loads overlap the next blocks' AES; the few RPIs that pass are the candidates the
// table is asked about. The filter is sized to stay in L2 for the usual stores (matcher.cpp). The
// round keys stay in registers and are not wiped: the matcher's keys are published diagnosis keys.
//
// Kernels: x86-64 VAES-512, VAES-256 and AES-NI (aes128.cpp), AArch64 ARMv8 AES (aes128_arm.cpp),
// beside the AES code they share. Each writes exactly the blocks `Aes128Batch::encrypt` writes and
// the candidates `filter_candidates_scalar` finds; tests/unit/core/aes128_test.cpp checks the
// kernel this CPU runs against OpenSSL and the scalar pass.

#include <cstddef>
#include <cstdint>

#include <sotto/core/rolling_id.hpp>

namespace sotto::core::detail {

/// AES-128 round keys of one RPIK, as the kernels read them.
struct alignas(16) RpiRoundKeys {
    std::uint8_t rk[11][16];
};

/// The round keys of four RPIKs, their four key expansions interleaved (each is a chain of
/// dependent steps: four chains hide each other's latency). Only where `rpi_kernel()` is not
/// null. Not wiped: the matcher's keys are published.
void expand_rpi_keys_x4(const std::uint8_t (*rpik)[16], RpiRoundKeys* out) noexcept;

/// Writes the RPIs of `n` blocks (`in`, 16 bytes each) under the round keys `rk` to `out`, and to
/// `candidates`, ascending, `base + i` for each RPI `i` that passes the filter of
/// `2^(64 - shift)` words at `filter` (matcher_filter.hpp); returns how many.
using RpiKernel = std::size_t (*)(const RpiRoundKeys& rk, const std::uint8_t* in, std::size_t n,
                                  RollingProximityId* out, const std::uint64_t* filter,
                                  unsigned shift, std::uint16_t* candidates,
                                  std::size_t base) noexcept;

/// The fastest kernel this CPU and SOTTO_CRYPTO_ISA allow (the widest AES instructions), or
/// nullptr when there is none: the matcher then uses RpiDeriver (OpenSSL).
RpiKernel rpi_kernel() noexcept;

/// The kernel's name for benchmarks and tests: "vaes512", "vaes256", "aesni", "armv8-aes", or
/// "none".
const char* rpi_kernel_name() noexcept;

#if defined(__aarch64__) && defined(__AARCH64EL__) && defined(__linux__)
/// The ARMv8 kernel (aes128_arm.cpp); only when arm_has_aes().
std::size_t rpi_kernel_armv8(const RpiRoundKeys& rk, const std::uint8_t* in, std::size_t n,
                             RollingProximityId* out, const std::uint64_t* filter, unsigned shift,
                             std::uint16_t* candidates, std::size_t base) noexcept;
/// The ARMv8 key expansion of `count` RPIKs (aes128_arm.cpp).
void expand_rpi_keys_armv8(const std::uint8_t (*rpik)[16], RpiRoundKeys* out,
                           std::size_t count) noexcept;
#endif

}  // namespace sotto::core::detail
