#pragma once
// Internal: HKDF-SHA256 (RFC 5869), generic and GAEN-specialised.

#include <cstdint>
#include <span>

#include <sotto/result.hpp>

namespace sotto::core::detail {

/// RFC 5869 HKDF-SHA256 through OpenSSL's EVP_KDF: any salt (empty = 32 zero bytes), any info,
/// `out.size()` in 1..8160. This is the reference the fast path is tested against, and the
/// benchmark's "one-shot" baseline.
Result<void> hkdf_sha256(std::span<const std::uint8_t> ikm, std::span<const std::uint8_t> salt,
                         std::span<const std::uint8_t> info, std::span<std::uint8_t> out) noexcept;

/// The 7-byte info strings of the EN Crypto Spec.
inline constexpr std::uint8_t kInfoRpik[7] = {'E', 'N', '-', 'R', 'P', 'I', 'K'};
inline constexpr std::uint8_t kInfoAemk[7] = {'E', 'N', '-', 'A', 'E', 'M', 'K'};

/// HKDF-SHA256(IKM = 16-byte key, salt = none, info = 7 bytes, L = 16), the only shape GAEN uses.
/// The HMAC key of the extract step is the constant 32 zero bytes, so its padded-key blocks are
/// hashed once per process; a call then costs 6 SHA-256 compressions.
void gaen_hkdf16(std::span<const std::uint8_t, 16> ikm, std::span<const std::uint8_t, 7> info,
                 std::span<std::uint8_t, 16> out) noexcept;

/// `gaen_hkdf16` for two keys at once: their SHA-256 compressions run interleaved
/// (`sha256_compress_x2`), which keeps SHA-NI busy. Same results, about 25% faster per key.
void gaen_hkdf16_x2(std::span<const std::uint8_t, 16> ikm_a,
                    std::span<const std::uint8_t, 16> ikm_b, std::span<const std::uint8_t, 7> info,
                    std::span<std::uint8_t, 16> out_a, std::span<std::uint8_t, 16> out_b) noexcept;

/// `gaen_hkdf16` for four keys at once (`ikm[k]` 16 bytes each, into `out[k]`): messages kept as
/// words from one step to the next and four compressions interleaved
/// (`sha256_compress_words_x4`). For published keys: the working state is not wiped.
void gaen_hkdf16_x4(const std::uint8_t* const ikm[4], std::span<const std::uint8_t, 7> info,
                    std::uint8_t (*out)[16]) noexcept;

}  // namespace sotto::core::detail
