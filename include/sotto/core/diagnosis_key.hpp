#pragma once
/// \file
/// A published TEK (diagnosis key) as read from a key file, with what the health authority says
/// about it.

#include <cstdint>
#include <optional>

#include <sotto/core/keys.hpp>

namespace sotto::core {

/// `TemporaryExposureKey.ReportType` of the export protobuf.
enum class ReportType : std::uint8_t {
    kUnknown = 0,
    kConfirmedTest = 1,
    kConfirmedClinicalDiagnosis = 2,
    kSelfReport = 3,
    kRecursive = 4,
    kRevoked = 5,
};

/// A diagnosis key. Published keys are not secret, but they are the same kind of key material as
/// the device's own TEKs and share the type.
struct DiagnosisKey {
    ExposureKey exposure_key;                  ///< TEK, rolling start, rolling period (1..144)
    std::int32_t transmission_risk_level = 0;  ///< 0..8, app-defined (deprecated in v1.5)
    ReportType report_type = ReportType::kUnknown;
    std::optional<std::int32_t> days_since_onset;  ///< absent when the file does not say

    DiagnosisKey clone() const {
        return {exposure_key.clone(), transmission_risk_level, report_type, days_since_onset};
    }
};

}  // namespace sotto::core
