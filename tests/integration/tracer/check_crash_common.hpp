// Shared by the check crash test and the child process it kills: the store's key, the day of the
// sightings, the time of each check, and the authority's key of file `i`.
#pragma once

#include <cstdint>
#include <string>

#include <sotto/core/interval.hpp>
#include <sotto/core/keys.hpp>
#include <sotto/core/rng.hpp>
#include <sotto/store/credential.hpp>

namespace sotto::test::check_crash {

/// 2021-03-01, a UTC midnight: every key is valid that day, and heard once in it.
inline constexpr core::IntervalNumber kDay = 2690784;
/// File i is checked at kFirstCheck + i (Unix seconds): its records carry that `computed_at`.
inline constexpr std::int64_t kFirstCheck = (kDay + 144) * 600LL + 3600;

inline store::Credential credential() {
    store::StoreKey key;
    key.expose_secret_mut()[0] = 0x5c;
    return store::Credential::raw_key(std::move(key));
}

/// The positive key published in file `i`.
inline core::DiagnosisKey key(std::uint32_t i) {
    core::DeterministicRng rng(1000 + i);
    return core::DiagnosisKey{core::generate_tek(rng, kDay), 6, core::ReportType::kConfirmedTest,
                              2};
}

inline std::string file_name(std::uint32_t i) { return "export" + std::to_string(i) + ".zip"; }

}  // namespace sotto::test::check_crash
