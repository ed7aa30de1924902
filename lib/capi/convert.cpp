#include "capi/convert.hpp"

#include <algorithm>
#include <cstring>

namespace sotto::capi {
namespace {

std::int32_t signature_status_code(keyfile::SignatureStatus s) noexcept {
    switch (s) {
        case keyfile::SignatureStatus::kVerified:
            return SOTTO_SIGNATURE_VERIFIED;
        case keyfile::SignatureStatus::kUnsigned:
            return SOTTO_SIGNATURE_UNSIGNED;
        case keyfile::SignatureStatus::kUntrustedKey:
            return SOTTO_SIGNATURE_UNTRUSTED_KEY;
        case keyfile::SignatureStatus::kBadSignature:
            return SOTTO_SIGNATURE_BAD;
        case keyfile::SignatureStatus::kMalformed:
            return SOTTO_SIGNATURE_MALFORMED;
        default:
            return SOTTO_SIGNATURE_MALFORMED;
    }
}

}  // namespace

void to_c(const keyfile::ExportInfo& i, sotto_keyfile_info& r) noexcept {
    r = sotto_keyfile_info{};
    r.start_timestamp = i.start_timestamp.value_or(0);
    r.end_timestamp = i.end_timestamp.value_or(0);
    r.keys_valid = i.keys_valid;
    r.revised_keys_valid = i.revised_keys_valid;
    r.keys_revoked = i.keys_revoked;
    r.keys_delivered = i.keys_delivered;
    r.keys_invalid = i.keys_invalid;
    r.export_bin_bytes = i.export_bin_bytes;
    std::memcpy(r.export_bin_sha256, i.export_bin_sha256.data(), sizeof r.export_bin_sha256);
    r.signature_status = signature_status_code(i.signature_status);
    r.verified = i.verified ? 1 : 0;
    const std::size_t n = std::min(i.region.size(), sizeof r.region - 1);
    std::memcpy(r.region, i.region.data(), n);
    r.region[n] = '\0';
}

void to_c(const core::DiagnosisKey& k, sotto_diagnosis_key& o) noexcept {
    o = sotto_diagnosis_key{};
    const auto tek = k.exposure_key.tek.expose_secret();
    std::memcpy(o.tek, tek.data(), tek.size());
    o.rolling_start = k.exposure_key.rolling_start;
    o.rolling_period = k.exposure_key.rolling_period;
    o.transmission_risk_level = k.transmission_risk_level;
    o.report_type = static_cast<std::int32_t>(k.report_type);
    o.has_days_since_onset = k.days_since_onset.has_value() ? 1 : 0;
    o.days_since_onset = k.days_since_onset.value_or(0);
}

}  // namespace sotto::capi
