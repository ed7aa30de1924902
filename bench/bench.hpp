#pragma once
// sotto-bench: benchmarks that print numbers. Not tests: run on demand.
#include <chrono>

#include <CLI/CLI.hpp>

namespace sotto::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// Keeps the optimizer from discarding a computed value.
template <class T>
inline void do_not_optimize(const T& v) {
    asm volatile("" : : "g"(&v) : "memory");
}

void add_derive_bench(CLI::App& app);
void add_match_bench(CLI::App& app);
void add_keyfile_bench(CLI::App& app);
void add_store_bench(CLI::App& app);

}  // namespace sotto::bench
