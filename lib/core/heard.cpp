// HeardBeacon: the one check of a heard packet's RSSI and time. Rules:
// include/sotto/core/heard.hpp.
#include <limits>

#include <sotto/core/heard.hpp>
#include <sotto/core/interval.hpp>
#include <sotto/core/payload.hpp>

namespace sotto::core {

Result<HeardBeacon> HeardBeacon::make(const Beacon& beacon, int rssi_dbm,
                                      std::int64_t time_ms) noexcept {
    if (rssi_dbm < kMinRssiDbm || rssi_dbm > kMaxRssiDbm)
        return make_error(ErrorCode::kOutOfRange, kHeardRssiOutOfRange);
    if (time_ms < 0 || !interval_number(time_ms / 1000))
        return make_error(ErrorCode::kOutOfRange, kHeardTimeOutOfRange);
    Observation o;
    o.time = time_ms / 1000;
    o.rssi = static_cast<std::int8_t>(rssi_dbm);
    o.beacon = beacon;
    return HeardBeacon(o, time_ms);
}

Result<HeardBeacon> HeardBeacon::decode(std::span<const std::uint8_t> bytes, int rssi_dbm,
                                        std::int64_t time_ms) noexcept {
    auto beacon = decode_beacon(bytes);
    if (!beacon) return make_error(ErrorCode::kInvalidArgument, kHeardMalformed);
    return make(*beacon, rssi_dbm, time_ms);
}

Result<HeardBeacon> HeardBeacon::from_service_data(std::span<const std::uint8_t> service_data,
                                                   int rssi_dbm, std::int64_t time_ms) noexcept {
    auto beacon = decode_service_data(service_data);
    if (!beacon) return make_error(ErrorCode::kInvalidArgument, kHeardMalformed);
    return make(*beacon, rssi_dbm, time_ms);
}

Result<HeardBeacon> HeardBeacon::from_observation(const Observation& o) noexcept {
    constexpr std::int64_t kMaxSeconds = std::numeric_limits<std::int64_t>::max() / 1000;
    if (o.time < 0 || o.time > kMaxSeconds)
        return make_error(ErrorCode::kOutOfRange, kHeardTimeOutOfRange);
    return make(o.beacon, o.rssi, o.time * 1000);
}

}  // namespace sotto::core
