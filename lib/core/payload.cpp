#include <cstring>

#include <sotto/core/payload.hpp>

namespace sotto::core {
namespace {

constexpr std::uint8_t kAdFlags = 0x01;
constexpr std::uint8_t kAdComplete16BitUuids = 0x03;
constexpr std::uint8_t kAdServiceData16 = 0x16;
constexpr std::uint8_t kUuidLo = kExposureNotificationUuid & 0xff;  // 0x6f
constexpr std::uint8_t kUuidHi = kExposureNotificationUuid >> 8;    // 0xfd

// One AD structure: [length][type][data...], length counting type + data.
struct AdStructure {
    std::uint8_t type;
    std::span<const std::uint8_t> data;
};

}  // namespace

ServiceData encode_service_data(const Beacon& beacon) noexcept {
    ServiceData s{};
    std::memcpy(s.data(), beacon.rpi.bytes.data(), kRpiBytes);
    std::memcpy(s.data() + kRpiBytes, beacon.aem.bytes.data(), kAemBytes);
    return s;
}

Result<Beacon> decode_service_data(std::span<const std::uint8_t> service_data) noexcept {
    if (service_data.size() != kServiceDataBytes)
        return make_error(ErrorCode::kInvalidArgument,
                          "service data: expected 20 bytes (RPI || AEM)");
    Beacon b;
    std::memcpy(b.rpi.bytes.data(), service_data.data(), kRpiBytes);
    std::memcpy(b.aem.bytes.data(), service_data.data() + kRpiBytes, kAemBytes);
    return b;
}

AdvertisingData encode_advertising_data(const Beacon& beacon, AdvertisingForm form,
                                        std::uint8_t flags) noexcept {
    AdvertisingData a;
    std::size_t n = 0;
    if (form == AdvertisingForm::kWithFlags) {
        a.bytes[n++] = 0x02;
        a.bytes[n++] = kAdFlags;
        a.bytes[n++] = flags;
    }
    a.bytes[n++] = 0x03;
    a.bytes[n++] = kAdComplete16BitUuids;
    a.bytes[n++] = kUuidLo;
    a.bytes[n++] = kUuidHi;
    a.bytes[n++] = static_cast<std::uint8_t>(1 + 2 + kServiceDataBytes);  // 0x17
    a.bytes[n++] = kAdServiceData16;
    a.bytes[n++] = kUuidLo;
    a.bytes[n++] = kUuidHi;
    const ServiceData s = encode_service_data(beacon);
    std::memcpy(a.bytes.data() + n, s.data(), s.size());
    a.size = n + s.size();
    return a;
}

Result<Beacon> decode_advertising_data(std::span<const std::uint8_t> adv) noexcept {
    if (adv.empty()) return make_error(ErrorCode::kInvalidArgument, "advertising data: empty");
    if (adv.size() > 31)
        return make_error(ErrorCode::kInvalidArgument, "advertising data: longer than 31 bytes");

    // Split into AD structures without ever reading past the end.
    AdStructure ads[3];
    std::size_t count = 0;
    std::size_t pos = 0;
    while (pos < adv.size()) {
        const std::size_t len = adv[pos];
        if (len == 0)
            return make_error(ErrorCode::kInvalidArgument,
                              "advertising data: zero-length AD structure");
        if (len > adv.size() - pos - 1)
            return make_error(ErrorCode::kInvalidArgument,
                              "advertising data: truncated AD structure");
        if (count == 3)
            return make_error(ErrorCode::kInvalidArgument, "advertising data: extra AD structure");
        ads[count++] = {adv[pos + 1], adv.subspan(pos + 2, len - 1)};
        pos += 1 + len;
    }

    std::size_t i = 0;
    if (count == 3) {  // the form with Flags: Flags must come first and carry one byte
        if (ads[0].type == kAdComplete16BitUuids && ads[1].type == kAdServiceData16)
            return make_error(ErrorCode::kInvalidArgument, "advertising data: extra AD structure");
        if (ads[0].type != kAdFlags)
            return make_error(ErrorCode::kInvalidArgument,
                              "advertising data: unexpected AD structure");
        if (ads[0].data.size() != 1)
            return make_error(ErrorCode::kInvalidArgument,
                              "advertising data: Flags must be 1 byte");
        i = 1;
    } else if (count != 2) {
        return make_error(ErrorCode::kInvalidArgument, "advertising data: missing AD structure");
    }

    const AdStructure& uuids = ads[i];
    const AdStructure& service = ads[i + 1];
    if (uuids.type != kAdComplete16BitUuids || service.type != kAdServiceData16)
        return make_error(ErrorCode::kInvalidArgument, "advertising data: unexpected AD structure");
    if (uuids.data.size() != 2)
        return make_error(ErrorCode::kInvalidArgument,
                          "advertising data: UUID list must hold one UUID");
    if (uuids.data[0] != kUuidLo || uuids.data[1] != kUuidHi)
        return make_error(ErrorCode::kInvalidArgument,
                          "advertising data: service UUID is not 0xFD6F");
    if (service.data.size() < 2)
        return make_error(ErrorCode::kInvalidArgument, "advertising data: service data too short");
    if (service.data[0] != kUuidLo || service.data[1] != kUuidHi)
        return make_error(ErrorCode::kInvalidArgument,
                          "advertising data: service data UUID is not 0xFD6F");
    return decode_service_data(service.data.subspan(2));
}

Result<Beacon> decode_beacon(std::span<const std::uint8_t> bytes) noexcept {
    if (bytes.size() == kServiceDataBytes) return decode_service_data(bytes);
    return decode_advertising_data(bytes);
}

}  // namespace sotto::core
