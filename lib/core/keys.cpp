#include <sotto/core/keys.hpp>

#include "hkdf.hpp"

namespace sotto::core {

ExposureKey generate_tek(Rng& rng, IntervalNumber now) noexcept {
    ExposureKey k;
    rng.fill(k.tek.expose_secret_mut());
    k.rolling_start = day_start_interval(now);  // EN: aligned to TEKRollingPeriod
    k.rolling_period = kTekRollingPeriod;
    return k;
}

RollingProximityIdKey derive_rpik(const TemporaryExposureKey& tek) noexcept {
    RollingProximityIdKey k;
    detail::gaen_hkdf16(tek.expose_secret(), detail::kInfoRpik, k.expose_secret_mut());
    return k;
}

void derive_rpik_pair(const TemporaryExposureKey& a, const TemporaryExposureKey& b,
                      RollingProximityIdKey& rpik_a, RollingProximityIdKey& rpik_b) noexcept {
    detail::gaen_hkdf16_x2(a.expose_secret(), b.expose_secret(), detail::kInfoRpik,
                           rpik_a.expose_secret_mut(), rpik_b.expose_secret_mut());
}

AssociatedEncryptedMetadataKey derive_aemk(const TemporaryExposureKey& tek) noexcept {
    AssociatedEncryptedMetadataKey k;
    detail::gaen_hkdf16(tek.expose_secret(), detail::kInfoAemk, k.expose_secret_mut());
    return k;
}

}  // namespace sotto::core
