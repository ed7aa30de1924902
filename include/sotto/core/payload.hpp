#pragma once
/// \file
/// BLE payload codec for the Exposure Notification service (EN Bluetooth Spec v1.2).
///
/// Service data (20 bytes): RPI (16) || AEM (4), under 16-bit service UUID 0xFD6F.
/// Legacy advertising data, in the two forms seen in the field:
///
///     with Flags (iOS, 31 bytes):     02 01 1a | 03 03 6f fd | 17 16 6f fd <RPI> <AEM>
///     without Flags (Android, 28 B):            03 03 6f fd | 17 16 6f fd <RPI> <AEM>
///
/// The decoder is strict: it accepts these structures and nothing else, and never reads past the
/// end of its input.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include <sotto/core/rolling_id.hpp>
#include <sotto/result.hpp>

namespace sotto::core {

/// The Exposure Notification Service UUID.
inline constexpr std::uint16_t kExposureNotificationUuid = 0xFD6F;
inline constexpr std::size_t kServiceDataBytes = kRpiBytes + kAemBytes;  // 20
/// The Flags value iOS sends: LE General Discoverable + simultaneous LE/BR-EDR (controller, host).
inline constexpr std::uint8_t kDefaultAdvertisingFlags = 0x1a;

using ServiceData = std::array<std::uint8_t, kServiceDataBytes>;

/// Which of the two legacy advertising forms to produce.
enum class AdvertisingForm : std::uint8_t {
    kWithFlags,     ///< 31 bytes, Flags AD first (iOS).
    kWithoutFlags,  ///< 28 bytes (Android's non-connectable advertisement).
};

/// Legacy advertising data: at most 31 bytes.
struct AdvertisingData {
    std::array<std::uint8_t, 31> bytes{};
    std::size_t size = 0;
    std::span<const std::uint8_t> view() const noexcept { return {bytes.data(), size}; }
};

/// RPI || AEM.
ServiceData encode_service_data(const Beacon& beacon) noexcept;

/// Splits exactly 20 bytes of service data into RPI and AEM (kInvalidArgument on another length).
Result<Beacon> decode_service_data(std::span<const std::uint8_t> service_data) noexcept;

/// Full advertising data in the chosen form. `flags` is used only for `kWithFlags`.
AdvertisingData encode_advertising_data(const Beacon& beacon, AdvertisingForm form,
                                        std::uint8_t flags = kDefaultAdvertisingFlags) noexcept;

/// Strictly decodes advertising data of either form. kInvalidArgument with a specific `what` for:
/// an empty or over-long buffer, a truncated or zero-length AD structure, an AD structure other
/// than Flags / 16-bit UUID list / service data (or in another order), a UUID other than 0xFD6F,
/// service data of the wrong length, and trailing bytes.
Result<Beacon> decode_advertising_data(std::span<const std::uint8_t> adv) noexcept;

/// Decodes either 20 bytes of service data or full advertising data (as `sotto ingest` reads
/// captures): 20 bytes are service data, anything else must be advertising data.
Result<Beacon> decode_beacon(std::span<const std::uint8_t> bytes) noexcept;

}  // namespace sotto::core
