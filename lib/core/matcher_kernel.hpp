#pragma once
// Internal: the matcher's per-key kernel. For one key it encrypts the PaddedData blocks of the
// reachable intervals under the RPIK (the RPIs) and runs the filter pass over them in the same
// loop: while the AES unit works on the next blocks, the integer units test the RPIs that came out
// of the previous ones against the filter, so the filter costs almost no time of its own. The
// round keys stay in registers and are not wiped: the matcher's keys are published diagnosis keys.
//
// Kernels: x86-64 VAES-512, VAES-256 and AES-NI (aes128.cpp), AArch64 ARMv8 AES
// (aes128_arm.cpp), beside the AES code they share. Each writes exactly what `Aes128Batch::encrypt`
// and `filter_candidates_scalar` write; tests/unit/core/matcher_kernel_test.cpp checks every kernel
// this CPU runs against them and OpenSSL.

#include <cstddef>
#include <cstdint>

#include <sotto/core/rolling_id.hpp>

namespace sotto::core::detail {

/// Writes the RPIs of `n` blocks (`in`, 16 bytes each) under `rpik` to `out`, and the indices
/// (ascending) of the RPIs whose filter bits are set to `candidates`; returns how many.
/// `filter` and `shift` as in matcher_filter.hpp; n <= 255.
using RpiFilterKernel = std::size_t (*)(const std::uint8_t* rpik, const std::uint8_t* in,
                                        std::size_t n, RollingProximityId* out,
                                        const std::uint64_t* filter, unsigned shift,
                                        std::uint8_t* candidates) noexcept;

/// The fastest kernel this CPU and SOTTO_CRYPTO_ISA allow, or nullptr when there is none (the
/// matcher then uses RpiDeriver and the separate filter pass).
RpiFilterKernel rpi_filter_kernel() noexcept;

/// The kernel's name for benchmarks and tests: "vaes512", "vaes256", "aesni", "armv8-aes", or
/// "none".
const char* rpi_filter_kernel_name() noexcept;

#if defined(__aarch64__)
/// The ARMv8 kernel (aes128_arm.cpp); only when arm_has_aes().
std::size_t rpi_filter_armv8(const std::uint8_t* rpik, const std::uint8_t* in, std::size_t n,
                             RollingProximityId* out, const std::uint64_t* filter, unsigned shift,
                             std::uint8_t* candidates) noexcept;
#endif

}  // namespace sotto::core::detail
