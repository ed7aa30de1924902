#pragma once
/// \file
/// The 4-byte metadata carried (encrypted) in every beacon (EN Bluetooth Spec v1.2 §"Metadata").
///
///     byte 0: bits 7:6 major version (01), 5:4 minor version, 3:2 calibration confidence
///             (v1.1 only), 1:0 reserved
///     byte 1: TX power, signed dBm
///     bytes 2-3: reserved, zero

#include <array>
#include <cstdint>

#include <sotto/result.hpp>

namespace sotto::core {

using MetadataBytes = std::array<std::uint8_t, 4>;

/// How well the sender's TX power is calibrated (GAEN `CalibrationConfidence`).
enum class CalibrationConfidence : std::uint8_t { kLowest = 0, kLow = 1, kMedium = 2, kHigh = 3 };

/// Decoded metadata.
struct Metadata {
    /// 0 for v1.0 (version byte 0x40; carries no calibration confidence), 1 for v1.1 (0x50).
    /// Decoding accepts 0..3; encoding writes the value as is.
    std::uint8_t minor_version = 0;
    /// Calibrated TX power in dBm.
    std::int8_t tx_power_dbm = 0;
    /// Only carried from v1.1 on; decodes as kLowest for v1.0.
    CalibrationConfidence calibration_confidence = CalibrationConfidence::kLowest;

    friend bool operator==(const Metadata&, const Metadata&) = default;
};

/// Lowest and highest TX power (dBm) that `validate_metadata` accepts as plausible.
/// BLE allows at most +20 dBm; calibrated phone values seen in the field range from about -40 to
/// +12.
inline constexpr int kMinPlausibleTxPowerDbm = -100;
inline constexpr int kMaxPlausibleTxPowerDbm = 20;

/// Encodes metadata. `minor_version` is masked to 2 bits; for minor version 0 the calibration
/// confidence bits stay zero, as v1.0 defines them reserved.
MetadataBytes encode_metadata(const Metadata& m) noexcept;

/// Lenient decoding, as a receiver should read metadata of versions it does not know: requires
/// only major version 1 (kInvalidArgument otherwise). Reserved bits are ignored.
Result<Metadata> decode_metadata(const MetadataBytes& bytes) noexcept;

/// Strict check used to tell genuine beacons from forged or relayed ones: the version byte is
/// exactly a known form (0x40, or 0x50 | confidence << 2), reserved bytes are zero and the TX
/// power is plausible. Each failure has its own `what`.
Result<void> validate_metadata(const MetadataBytes& bytes) noexcept;

}  // namespace sotto::core
