#pragma once
// sotto-bench: benchmarks that print numbers. Not tests: run on demand.
#include <chrono>

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <sotto/keyfile/export_reader.hpp>
#include <sotto/keyfile/export_writer.hpp>

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

/// This process's peak RSS (VmHWM) in kB, or -1.
long vm_hwm_kb();
/// Runs this executable again with `subcommand_args`; returns the number it prints (kB), or -1.
long measure_child(const std::vector<std::string>& subcommand_args);
/// A signed export.zip of `n_keys` random keys spread over 14 days (key id 262, version v1).
void write_generated_export(const std::string& zip, std::uint32_t n_keys,
                            const keyfile::ExportSigner& signer);
/// Read limits large enough for generated multi-million-key files.
keyfile::ReadOptions large_read_options();

void add_derive_bench(CLI::App& app);
void add_match_bench(CLI::App& app);
void add_floor_bench(CLI::App& app);
void add_keyfile_bench(CLI::App& app);
void add_store_bench(CLI::App& app);
void add_tracer_bench(CLI::App& app);
void add_air_bench(CLI::App& app);
void add_fetch_bench(CLI::App& app);
void add_capi_bench(CLI::App& app);
void add_update_bench(CLI::App& app);

}  // namespace sotto::bench
