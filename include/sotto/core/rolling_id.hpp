#pragma once
/// \file
/// Rolling Proximity Identifiers and Associated Encrypted Metadata (EN Crypto Spec v1.2):
///
///     PaddedData_j = "EN-RPI" || 0x00 * 6 || LE32(ENIN_j)
///     RPI_j        = AES-128(RPIK, PaddedData_j)
///     AEM          = AES-128-CTR(AEMK, IV = RPI_j, metadata)
///
/// `RpiDeriver` is the batch form used by the matcher: contexts are reused and all blocks of a key
/// go through AES in one call.

#include <array>
#include <compare>
#include <cstdint>
#include <memory>
#include <span>

#include <sotto/core/interval.hpp>
#include <sotto/core/keys.hpp>
#include <sotto/core/metadata.hpp>
#include <sotto/result.hpp>

namespace sotto::core {

inline constexpr std::size_t kRpiBytes = 16;
inline constexpr std::size_t kAemBytes = 4;

/// A Rolling Proximity Identifier. Not secret (it is broadcast), but privacy-sensitive once
/// stored: do not log it.
struct RollingProximityId {
    std::array<std::uint8_t, kRpiBytes> bytes{};
    friend auto operator<=>(const RollingProximityId&, const RollingProximityId&) = default;
};

/// Associated Encrypted Metadata: the 4 metadata bytes encrypted under the AEMK.
struct AssociatedEncryptedMetadata {
    std::array<std::uint8_t, kAemBytes> bytes{};
    friend auto operator<=>(const AssociatedEncryptedMetadata&,
                            const AssociatedEncryptedMetadata&) = default;
};

/// What a device broadcasts during one interval.
struct Beacon {
    RollingProximityId rpi;
    AssociatedEncryptedMetadata aem;
    friend bool operator==(const Beacon&, const Beacon&) = default;
};

/// The 16-byte AES input for interval `enin`.
std::array<std::uint8_t, 16> padded_data(IntervalNumber enin) noexcept;

/// Derives RPIs in batches, reusing one AES context and the HKDF precomputation.
///
/// Not thread-safe: give each thread its own deriver. Cheap to keep; costly to create
/// (one OpenSSL cipher fetch).
class RpiDeriver {
public:
    /// kCryptoFailure if OpenSSL cannot provide AES-128.
    static Result<RpiDeriver> create() noexcept;
    RpiDeriver(RpiDeriver&&) noexcept;
    RpiDeriver& operator=(RpiDeriver&&) noexcept;
    ~RpiDeriver();

    /// Which AES implementation runs ("vaes512", "aesni", "armv8-aes" or "openssl"), for
    /// diagnostics.
    const char* aes_implementation() const noexcept;

    /// RPIs of `tek` for intervals `first, first + 1, ..., first + out.size() - 1`.
    /// kInvalidArgument if `out.size()` exceeds 144 or the range leaves uint32.
    Result<void> derive(const TemporaryExposureKey& tek, IntervalNumber first,
                        std::span<RollingProximityId> out) noexcept;

    /// RPIs of `tek` for the given intervals (any order): `out[i]` is the RPI of `intervals[i]`.
    /// kInvalidArgument unless both spans have the same size, at most 144.
    Result<void> derive_at(const TemporaryExposureKey& tek,
                           std::span<const IntervalNumber> intervals,
                           std::span<RollingProximityId> out) noexcept;

    /// RPIs for intervals `run_start + offset, run_start + offset + 1, ...` with the RPIK already
    /// derived. The PaddedData blocks of the run that starts at `run_start` (pass the key's rolling
    /// start) are cached, so keys of the same day share them. kInvalidArgument unless
    /// `offset + out.size() <= 144` and the intervals stay within uint32.
    Result<void> derive_range(const RollingProximityIdKey& rpik, IntervalNumber run_start,
                              std::size_t offset, std::span<RollingProximityId> out) noexcept;

    /// As `derive_at`, with the RPIK already derived.
    Result<void> derive_at(const RollingProximityIdKey& rpik,
                           std::span<const IntervalNumber> intervals,
                           std::span<RollingProximityId> out) noexcept;

    /// The AEM of `metadata` under `aemk` for `rpi` (encryption and decryption are the same).
    Result<AssociatedEncryptedMetadata> crypt_aem(const AssociatedEncryptedMetadataKey& aemk,
                                                  const RollingProximityId& rpi,
                                                  std::span<const std::uint8_t, 4> data) noexcept;

private:
    struct Impl;
    explicit RpiDeriver(std::unique_ptr<Impl> impl) noexcept;
    std::unique_ptr<Impl> impl_;
};

/// RPIs of `tek` for intervals `first, first + 1, ..., first + out.size() - 1`, computed in place
/// in `out` without a deriver. Allocates nothing (except with the OpenSSL AES backend, on CPUs
/// without AES instructions): the call small devices use once a day. kInvalidArgument if
/// `out.size()` exceeds 144 or the range leaves uint32.
Result<void> derive_rpis(const TemporaryExposureKey& tek, IntervalNumber first,
                         std::span<RollingProximityId> out) noexcept;

/// One RPI (a cipher context per call, no heap as `derive_rpis`; use `RpiDeriver` in loops).
Result<RollingProximityId> derive_rpi(const RollingProximityIdKey& rpik,
                                      IntervalNumber enin) noexcept;

/// AEM = AES-128-CTR(AEMK, IV = RPI, metadata).
Result<AssociatedEncryptedMetadata> encrypt_aem(const AssociatedEncryptedMetadataKey& aemk,
                                                const RollingProximityId& rpi,
                                                const MetadataBytes& metadata) noexcept;

/// The inverse of `encrypt_aem` (CTR mode: the same operation). The result is not checked; use
/// `decode_metadata` / `validate_metadata` on it.
Result<MetadataBytes> decrypt_aem(const AssociatedEncryptedMetadataKey& aemk,
                                  const RollingProximityId& rpi,
                                  const AssociatedEncryptedMetadata& aem) noexcept;

/// The beacon a device holding `key` broadcasts during `enin`.
/// kOutOfRange if `enin` lies outside the key's validity.
Result<Beacon> make_beacon(const ExposureKey& key, IntervalNumber enin,
                           const Metadata& metadata) noexcept;

}  // namespace sotto::core
