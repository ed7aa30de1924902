#include <sotto/core/metadata.hpp>

namespace sotto::core {

MetadataBytes encode_metadata(const Metadata& m) noexcept {
    const auto minor = static_cast<std::uint8_t>(m.minor_version & 0x03);
    auto b0 = static_cast<std::uint8_t>(0x40 | (minor << 4));
    if (minor >= 1)
        b0 = static_cast<std::uint8_t>(
            b0 | (static_cast<std::uint8_t>(m.calibration_confidence) & 0x03) << 2);
    return {b0, static_cast<std::uint8_t>(m.tx_power_dbm), 0, 0};
}

Result<Metadata> decode_metadata(const MetadataBytes& bytes) noexcept {
    if ((bytes[0] >> 6) != 0x01)
        return make_error(ErrorCode::kInvalidArgument, "metadata: major version is not 1");
    Metadata m;
    m.minor_version = static_cast<std::uint8_t>((bytes[0] >> 4) & 0x03);
    m.tx_power_dbm = static_cast<std::int8_t>(bytes[1]);
    m.calibration_confidence = m.minor_version >= 1
                                   ? static_cast<CalibrationConfidence>((bytes[0] >> 2) & 0x03)
                                   : CalibrationConfidence::kLowest;
    return m;
}

Result<void> validate_metadata(const MetadataBytes& bytes) noexcept {
    const std::uint8_t v = bytes[0];
    const bool v10 = v == 0x40;
    const bool v11 = (v & 0xf3) == 0x50;  // 0x50 | confidence << 2, reserved bits 1:0 zero
    if (!v10 && !v11)
        return make_error(ErrorCode::kInvalidArgument, "metadata: unknown version byte");
    if (bytes[2] != 0 || bytes[3] != 0)
        return make_error(ErrorCode::kInvalidArgument, "metadata: reserved bytes are not zero");
    const int tx = static_cast<std::int8_t>(bytes[1]);
    if (tx < kMinPlausibleTxPowerDbm || tx > kMaxPlausibleTxPowerDbm)
        return make_error(ErrorCode::kInvalidArgument, "metadata: implausible TX power");
    return ok();
}

}  // namespace sotto::core
