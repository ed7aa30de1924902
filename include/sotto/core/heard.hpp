#pragma once
/// \file
/// A heard advertisement, checked once: `HeardBeacon` can only be made by its factories, which
/// decode the payload and check the RSSI and the receive time. Whoever takes a `HeardBeacon`
/// (lib/ble's feed, the store, the Tracer) needs not check it again. Pure: no I/O, no clock.

#include <cstdint>
#include <span>

#include <sotto/core/rolling_id.hpp>
#include <sotto/core/sighting.hpp>
#include <sotto/result.hpp>

namespace sotto::core {

/// The `Error::what` of each refusal of `HeardBeacon`'s factories (compare the pointers to tell
/// them apart; the codes are kInvalidArgument for the payload, kOutOfRange for the others).
inline constexpr char kHeardMalformed[] = "observation: not a GAEN advertisement";
inline constexpr char kHeardRssiOutOfRange[] = "observation: RSSI outside -127..20 dBm";
inline constexpr char kHeardTimeOutOfRange[] =
    "observation: time before 1970 or beyond the ENIN range";

/// One heard GAEN packet: beacon (RPI, AEM), RSSI within kMinRssiDbm..kMaxRssiDbm and a receive
/// time (Unix ms, receiver clock) whose second has an ENIN. Immutable, trivially copyable.
class HeardBeacon {
public:
    /// Checks RSSI and time (the one place they are checked). kOutOfRange with
    /// `kHeardRssiOutOfRange` or `kHeardTimeOutOfRange`.
    static Result<HeardBeacon> make(const Beacon& beacon, int rssi_dbm,
                                    std::int64_t time_ms) noexcept;
    /// Decodes 20 bytes of service data or the full advertising data (with or without Flags,
    /// `decode_beacon`), then `make`. kInvalidArgument with `kHeardMalformed` for other bytes.
    static Result<HeardBeacon> decode(std::span<const std::uint8_t> bytes, int rssi_dbm,
                                      std::int64_t time_ms) noexcept;
    /// Exactly 20 bytes of service data (what a radio reports under UUID 0xFD6F), then `make`.
    static Result<HeardBeacon> from_service_data(std::span<const std::uint8_t> service_data,
                                                 int rssi_dbm, std::int64_t time_ms) noexcept;
    /// An observation handed over already decoded (a capture, an import): time in whole seconds.
    static Result<HeardBeacon> from_observation(const Observation& o) noexcept;

    const Beacon& beacon() const noexcept { return observation_.beacon; }
    std::int8_t rssi() const noexcept { return observation_.rssi; }
    /// Unix ms as heard.
    std::int64_t time_ms() const noexcept { return time_ms_; }
    /// The same at one-second resolution (what the store keeps); valid by construction.
    const Observation& observation() const noexcept { return observation_; }

    /// Keeps beacon and time, takes another packet's RSSI of the same beacon and second.
    void set_rssi_of(const HeardBeacon& other) noexcept { observation_.rssi = other.rssi(); }

private:
    HeardBeacon(const Observation& o, std::int64_t time_ms) noexcept
        : observation_(o), time_ms_(time_ms) {}
    Observation observation_;
    std::int64_t time_ms_ = 0;
};

}  // namespace sotto::core
