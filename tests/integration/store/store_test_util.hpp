#pragma once
// Helpers shared by the store tests: credentials, observations, file snapshots.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include <sotto/core/sighting.hpp>
#include <sotto/store/credential.hpp>
#include <sotto/store/encounter_store.hpp>

#include "support.hpp"

namespace sotto::test {

/// 2023-11-14T22:13:20Z: a fixed "now" for every store test.
inline constexpr std::int64_t kNow = 1'700'000'000;
inline constexpr core::IntervalNumber kNowInterval = kNow / 600;
inline constexpr std::uint32_t kToday = kNowInterval / 144;

/// A raw store key with every byte derived from `seed`.
inline store::StoreKey test_key(std::uint8_t seed) {
    store::StoreKey k;
    auto b = k.expose_secret_mut();
    for (std::size_t i = 0; i < b.size(); ++i)
        b[i] = static_cast<std::uint8_t>(seed * 31 + i * 7 + 1);
    return k;
}

inline store::Credential raw_credential(std::uint8_t seed) {
    return store::Credential::raw_key(test_key(seed));
}

/// A passphrase credential with the minimum Argon2id cost (tests only).
inline store::Credential passphrase_credential(std::string_view p) {
    auto pw = store::Passphrase::from({reinterpret_cast<const std::uint8_t*>(p.data()), p.size()});
    REQUIRE(pw.has_value());
    return store::Credential::passphrase(std::move(*pw), store::KdfParams::minimum());
}

/// An RPI whose bytes encode (a, b): unique per pair, easy to find again.
inline core::RollingProximityId rpi_of(std::uint32_t a, std::uint32_t b) {
    core::RollingProximityId r;
    for (int i = 0; i < 4; ++i) {
        r.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(a >> (8 * i));
        r.bytes[static_cast<std::size_t>(4 + i)] = static_cast<std::uint8_t>(b >> (8 * i));
    }
    for (std::size_t i = 8; i < 16; ++i) r.bytes[i] = static_cast<std::uint8_t>(0xA0 + i);
    return r;
}

inline core::AssociatedEncryptedMetadata aem_of(std::uint8_t x) {
    return {{x, static_cast<std::uint8_t>(x ^ 0x5a), 0x11, 0x22}};
}

inline core::Observation observation(std::int64_t time, int rssi,
                                     const core::RollingProximityId& rpi, std::uint8_t aem = 1) {
    core::Observation o;
    o.time = time;
    o.rssi = static_cast<std::int8_t>(rssi);
    o.beacon.rpi = rpi;
    o.beacon.aem = aem_of(aem);
    return o;
}

/// Every file in `dir` with its bytes.
inline std::map<std::string, std::vector<std::uint8_t>> snapshot(const std::filesystem::path& dir) {
    std::map<std::string, std::vector<std::uint8_t>> out;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        if (e.is_regular_file()) out[e.path().filename().string()] = read_file(e.path());
    return out;
}

/// As `snapshot`, without what SQLite leaves behind even on a read-only open: the -shm index
/// and an empty -wal (a read-only connection cannot remove them).
inline std::map<std::string, std::vector<std::uint8_t>> snapshot_data(
    const std::filesystem::path& dir) {
    auto all = snapshot(dir);
    for (auto it = all.begin(); it != all.end();) {
        const std::string& n = it->first;
        const bool shm = n.size() > 4 && n.compare(n.size() - 4, 4, "-shm") == 0;
        const bool empty_wal =
            n.size() > 4 && n.compare(n.size() - 4, 4, "-wal") == 0 && it->second.empty();
        it = (shm || empty_wal) ? all.erase(it) : std::next(it);
    }
    return all;
}

inline store::OpenOptions no_create() {
    store::OpenOptions o;
    o.create_if_missing = false;
    return o;
}

/// Opens (creating) a store and requires success.
inline store::EncounterStore open_store(const std::filesystem::path& p, std::uint8_t seed = 1,
                                        store::OpenOptions options = {}) {
    auto s = store::EncounterStore::open(p, raw_credential(seed), options);
    if (!s) FAIL(error_code_name(s.error().code) << ": " << s.error().what);
    return std::move(*s);
}

}  // namespace sotto::test
