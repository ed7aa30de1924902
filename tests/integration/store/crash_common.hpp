#pragma once
// Shared by crash_child (the process that gets killed) and crash_test (the parent that checks).

#include <cstdint>
#include <vector>

#include <sotto/core/sighting.hpp>
#include <sotto/store/credential.hpp>

namespace sotto::test::crash {

inline constexpr std::int64_t kNow = 1'700'000'000;
inline constexpr std::uint32_t kRpisPerBatch = 200;
inline constexpr std::uint32_t kPacketsPerRpi = 2;

inline store::StoreKey key(std::uint8_t seed) {
    store::StoreKey k;
    auto b = k.expose_secret_mut();
    for (std::size_t i = 0; i < b.size(); ++i)
        b[i] = static_cast<std::uint8_t>(seed * 57 + i * 3 + 11);
    return k;
}

/// RPI i of batch b: the batch number is in bytes 0..3, i in 4..7, and bytes 8..15 are a fixed
/// pattern with no zero byte. The secrets test searches the store's files for these RPIs, so an
/// RPI must not be mostly zeros: RPI (0, 0) was once 15 zero bytes and 0xC5, which the plain
/// side file holds by chance 1 run in 256 (15 zero bytes of its entry header, then a random salt
/// byte).
inline core::RollingProximityId rpi(std::uint32_t batch, std::uint32_t i) {
    core::RollingProximityId r;
    for (int k = 0; k < 4; ++k) {
        r.bytes[static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(batch >> (8 * k));
        r.bytes[static_cast<std::size_t>(4 + k)] = static_cast<std::uint8_t>(i >> (8 * k));
    }
    constexpr std::uint8_t kTail[8] = {0x9E, 0x37, 0x79, 0xB9, 0x7F, 0x4A, 0x7C, 0xC5};
    for (std::size_t k = 0; k < 8; ++k) r.bytes[8 + k] = kTail[k];
    return r;
}

inline std::uint32_t batch_of(const core::RollingProximityId& r) {
    return static_cast<std::uint32_t>(r.bytes[0]) | (static_cast<std::uint32_t>(r.bytes[1]) << 8) |
           (static_cast<std::uint32_t>(r.bytes[2]) << 16) |
           (static_cast<std::uint32_t>(r.bytes[3]) << 24);
}

/// The observations of batch b: every RPI twice, 5 s apart, within one interval.
inline std::vector<core::Observation> batch(std::uint32_t b) {
    std::vector<core::Observation> out;
    const std::int64_t base = (kNow - 6 * 3600) / 600 * 600 + (b % 30) * 600;
    for (std::uint32_t i = 0; i < kRpisPerBatch; ++i)
        for (std::uint32_t p = 0; p < kPacketsPerRpi; ++p) {
            core::Observation o;
            o.time = base + (i % 500) + 5 * p;
            o.rssi = static_cast<std::int8_t>(-40 - static_cast<int>(i % 60));
            o.beacon.rpi = rpi(b, i);
            o.beacon.aem.bytes = {1, 2, 3, static_cast<std::uint8_t>(i)};
            out.push_back(o);
        }
    return out;
}

}  // namespace sotto::test::crash
