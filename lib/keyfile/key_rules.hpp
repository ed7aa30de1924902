#pragma once
// Validation rules for one TemporaryExposureKey, shared by the reader and the writer.
// docs/keyfile.md "Validation" lists them; gaen.md §1.2 and §3.3 give the ranges.

#include <cstdint>
#include <optional>

#include <sotto/core/diagnosis_key.hpp>
#include <sotto/keyfile/export_reader.hpp>

namespace sotto::keyfile::detail {

inline constexpr std::int32_t kMaxTransmissionRiskLevel = 8;
inline constexpr std::int32_t kMaxReportType = 5;  // REVOKED
/// Apple's key-server documentation: days since onset of symptoms is -14..14. Real CWA files
/// carry only 1 and 2 (gaen.md §4.5); the Google server drops values outside this range.
inline constexpr std::int32_t kMinDaysSinceOnset = -14;
inline constexpr std::int32_t kMaxDaysSinceOnset = 14;

/// The fields of one key as they came off the wire (int32 semantics). Absent fields have
/// `has_* == false`.
struct KeyFields {
    bool has_key_data = false;
    std::uint32_t key_data_length = 0;
    bool has_rolling_start = false;
    std::int32_t rolling_start = 0;
    bool has_rolling_period = false;
    std::int32_t rolling_period = 0;
    bool has_transmission_risk_level = false;
    std::int32_t transmission_risk_level = 0;
    bool has_report_type = false;
    std::int32_t report_type = 0;
    bool has_days_since_onset = false;
    std::int32_t days_since_onset = 0;
};

/// The first rule `k` breaks, or nothing when the key is valid.
std::optional<InvalidKeyReason> check_key_fields(const KeyFields& k) noexcept;

/// The same rules for a key about to be written.
std::optional<InvalidKeyReason> check_diagnosis_key(const core::DiagnosisKey& k) noexcept;

}  // namespace sotto::keyfile::detail
