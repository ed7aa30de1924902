#pragma once
/// \file
/// Temporary Exposure Keys and the keys derived from them (EN Crypto Spec v1.2).
///
///     RPIK = HKDF-SHA256(IKM = TEK, salt = none, info = "EN-RPIK", L = 16)
///     AEMK = HKDF-SHA256(IKM = TEK, salt = none, info = "EN-AEMK", L = 16)

#include <cstdint>

#include <sotto/core/interval.hpp>
#include <sotto/core/rng.hpp>
#include <sotto/result.hpp>
#include <sotto/secret.hpp>

namespace sotto::core {

inline constexpr std::size_t kTekBytes = 16;

/// Temporary Exposure Key: 16 random bytes, one per day.
using TemporaryExposureKey = SecretBytes<kTekBytes, struct TekTag>;
/// Rolling Proximity Identifier Key, derived from a TEK.
using RollingProximityIdKey = SecretBytes<16, struct RpikTag>;
/// Associated Encrypted Metadata Key, derived from a TEK.
using AssociatedEncryptedMetadataKey = SecretBytes<16, struct AemkTag>;

/// A TEK with its validity: intervals `[rolling_start, rolling_start + rolling_period)`.
/// Used both for the device's own keys and for published diagnosis keys.
struct ExposureKey {
    TemporaryExposureKey tek;
    IntervalNumber rolling_start = 0;
    std::uint32_t rolling_period = kTekRollingPeriod;  ///< 1..144

    /// First interval after the key's validity (exclusive end).
    std::uint64_t rolling_end() const noexcept {
        return static_cast<std::uint64_t>(rolling_start) + rolling_period;
    }
    /// True when the key is the one to broadcast during interval `enin`.
    bool valid_at(IntervalNumber enin) const noexcept {
        return enin >= rolling_start && enin < rolling_end();
    }
    ExposureKey clone() const noexcept { return {tek.clone(), rolling_start, rolling_period}; }
};

/// A new TEK for the day that contains `now`: 16 bytes from `rng`, rolling start aligned to a
/// multiple of 144 (UTC midnight), rolling period 144.
ExposureKey generate_tek(Rng& rng, IntervalNumber now) noexcept;

/// GAEN's rule for rolling: a new TEK is due once `now >= rolling_start + rolling_period`.
inline bool tek_needs_rolling(const ExposureKey& current, IntervalNumber now) noexcept {
    return now >= current.rolling_end();
}

/// RPIK of a TEK. Cannot fail: it runs on precomputed SHA-256 states (6 compressions).
RollingProximityIdKey derive_rpik(const TemporaryExposureKey& tek) noexcept;

/// The RPIKs of two TEKs at once: their SHA-256 work runs interleaved, which keeps the CPU's
/// SHA unit busy. Same results as two `derive_rpik` calls, about 25% less time per key; for
/// code that derives many published keys (the matcher). Its SHA-256 working state is not wiped
/// from the stack, so use `derive_rpik` for the device's own keys.
void derive_rpik_pair(const TemporaryExposureKey& a, const TemporaryExposureKey& b,
                      RollingProximityIdKey& rpik_a, RollingProximityIdKey& rpik_b) noexcept;

/// AEMK of a TEK. Cannot fail.
AssociatedEncryptedMetadataKey derive_aemk(const TemporaryExposureKey& tek) noexcept;

}  // namespace sotto::core
