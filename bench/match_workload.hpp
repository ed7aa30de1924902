#pragma once
// The workload of `sotto-bench match`, shared with `sotto-bench floor`: 14 files x 100,000 keys
// against 100,000 sightings of a 14-day store (see bench_match.cpp).
#include <cstddef>
#include <vector>

#include <sotto/core/diagnosis_key.hpp>
#include <sotto/core/matcher.hpp>
#include <sotto/core/sighting.hpp>

namespace sotto::bench {

inline constexpr core::IntervalNumber kToday = 2690496 + 144 * 30;  // a UTC midnight in 2021

struct Workload {
    std::vector<core::DiagnosisKey> keys;
    std::vector<core::Sighting> sightings;
    std::size_t planted = 0;
};

/// `days` files of `keys_per_day` keys; `sightings` stored rows of which `planted` are RPIs of
/// published keys. Deterministic.
Workload make_workload(std::size_t days, std::size_t keys_per_day, std::size_t sightings,
                       std::size_t planted);

/// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), in seconds.
double thread_cpu_seconds();

struct Run {
    double seconds = 0;
    double thread_cpu_seconds = 0;  ///< the calling thread's CPU time over the same span
    std::size_t valid = 0;
    core::MatchCounters counters;
};

/// `MatchEngine::match_keys` over all keys on `threads` threads, `repeat` times (mean seconds).
Run run_engine(const Workload& w, bool prefilter, unsigned threads, std::size_t repeat = 1);

}  // namespace sotto::bench
