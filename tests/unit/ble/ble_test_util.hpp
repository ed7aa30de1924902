#pragma once
// Helpers for the lib/ble tests: fixed times, a TEK source that remembers its keys.
#include <cstdint>
#include <memory>
#include <vector>

#include <sotto/ble/rotation.hpp>
#include <sotto/core/keys.hpp>
#include <sotto/core/rng.hpp>

namespace sotto::test {

/// 2023-11-14T00:00:00Z, a UTC midnight.
inline constexpr std::int64_t kMidnightMs = 1'699'920'000'000;
static_assert(kMidnightMs % 86'400'000 == 0);
inline constexpr std::int64_t kMinute = 60'000;

/// A TEK source that generates keys from its own deterministic RNG and keeps a copy of each.
struct RecordingTekSource {
    std::shared_ptr<core::DeterministicRng> rng = std::make_shared<core::DeterministicRng>(99);
    std::shared_ptr<std::vector<core::ExposureKey>> keys =
        std::make_shared<std::vector<core::ExposureKey>>();
    std::shared_ptr<std::vector<core::IntervalNumber>> asked =
        std::make_shared<std::vector<core::IntervalNumber>>();

    ble::TekSource source() const {
        return [rng = rng, keys = keys,
                asked = asked](core::IntervalNumber enin) -> Result<core::ExposureKey> {
            asked->push_back(enin);
            core::ExposureKey k = core::generate_tek(*rng, enin);
            keys->push_back(k.clone());
            return k;
        };
    }
    /// The recorded key valid at `enin`, or nullptr.
    const core::ExposureKey* key_for(core::IntervalNumber enin) const {
        for (const auto& k : *keys)
            if (k.valid_at(enin)) return &k;
        return nullptr;
    }
};

}  // namespace sotto::test
