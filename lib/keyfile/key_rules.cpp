#include "keyfile/key_rules.hpp"

#include <limits>

namespace sotto::keyfile::detail {

std::optional<InvalidKeyReason> check_key_fields(const KeyFields& k) noexcept {
    using R = InvalidKeyReason;
    if (!k.has_key_data) return R::kKeyDataMissing;
    if (k.key_data_length != core::kTekBytes) return R::kKeyDataLength;
    if (!k.has_rolling_start) return R::kRollingStartMissing;
    if (k.rolling_start <= 0) return R::kRollingStartRange;
    // proto2 default: an absent rolling_period means 144 (gaen.md §1.2).
    const std::int32_t period = k.has_rolling_period
                                    ? k.rolling_period
                                    : static_cast<std::int32_t>(core::kTekRollingPeriod);
    if (period < 1 || period > static_cast<std::int32_t>(core::kTekRollingPeriod))
        return R::kRollingPeriodRange;
    if (static_cast<std::int64_t>(k.rolling_start) + period >
        std::numeric_limits<std::int32_t>::max())
        return R::kRollingEndOverflow;
    if (k.has_transmission_risk_level &&
        (k.transmission_risk_level < 0 || k.transmission_risk_level > kMaxTransmissionRiskLevel))
        return R::kTransmissionRiskLevel;
    if (k.has_report_type && (k.report_type < 0 || k.report_type > kMaxReportType))
        return R::kReportType;
    if (k.has_days_since_onset &&
        (k.days_since_onset < kMinDaysSinceOnset || k.days_since_onset > kMaxDaysSinceOnset))
        return R::kDaysSinceOnset;
    return std::nullopt;
}

std::optional<InvalidKeyReason> check_diagnosis_key(const core::DiagnosisKey& d) noexcept {
    KeyFields k;
    k.has_key_data = true;
    k.key_data_length = core::kTekBytes;
    k.has_rolling_start = true;
    if (d.exposure_key.rolling_start >
        static_cast<std::uint32_t>(std::numeric_limits<std::int32_t>::max()))
        return InvalidKeyReason::kRollingStartRange;
    k.rolling_start = static_cast<std::int32_t>(d.exposure_key.rolling_start);
    k.has_rolling_period = true;
    if (d.exposure_key.rolling_period > core::kTekRollingPeriod)
        return InvalidKeyReason::kRollingPeriodRange;
    k.rolling_period = static_cast<std::int32_t>(d.exposure_key.rolling_period);
    k.has_transmission_risk_level = true;
    k.transmission_risk_level = d.transmission_risk_level;
    k.has_report_type = true;
    k.report_type = static_cast<std::int32_t>(d.report_type);
    k.has_days_since_onset = d.days_since_onset.has_value();
    k.days_since_onset = d.days_since_onset.value_or(0);
    return check_key_fields(k);
}

}  // namespace sotto::keyfile::detail
