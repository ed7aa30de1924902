// sotto-bench floor: sotto's full derivation against a minimal implementation of the same
// cryptographic work, in the same run.
//
// "Full" is `sotto-bench match`'s one-core full derivation: MatchEngine::match_keys on one thread,
// no prefilter, over the 1.4 M-key workload (every key: HKDF, 144 RPIs, filter, table, checks).
// The floor (floor_kernel.hpp) derives the same 144 RPIs of the same keys with nothing around
// them. Rounds alternate full and floor so that both see the same machine load; the ratio of each
// round is full / floor, and the summary line gives the medians. Both run on this thread and are
// timed in this thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so time spent waiting for a core on
// a loaded machine does not count; wall-clock rates are printed beside them.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <fmt/core.h>

#include <sotto/core/rolling_id.hpp>

#include "bench.hpp"
#include "core/sha256_x2.hpp"
#include "floor_kernel.hpp"
#include "match_workload.hpp"

namespace sotto::bench {
namespace {

using namespace sotto::core;

struct Rate {
    double cpu = 0, wall = 0;  // keys per second of thread CPU time / of wall time
};

std::string loadavg() {
    std::ifstream f("/proc/loadavg");
    std::string a, b, c;
    f >> a >> b >> c;
    return f ? a + " " + b + " " + c : "unknown";
}

// Per key, its TEK and the PaddedData blocks of its 144 intervals (built before timing).
struct FloorInput {
    std::map<IntervalNumber, std::vector<std::uint8_t>> runs;
    std::vector<const std::uint8_t*> teks, blocks;
};

FloorInput floor_input(const Workload& w) {
    FloorInput in;
    for (const auto& k : w.keys) {
        const IntervalNumber start = k.exposure_key.rolling_start;
        auto [it, fresh] = in.runs.try_emplace(start);
        if (fresh) {
            it->second.resize(144 * 16);
            for (IntervalNumber j = 0; j < 144; ++j) {
                const auto p = padded_data(start + j);
                std::copy(p.begin(), p.end(), it->second.begin() + 16 * j);
            }
        }
        in.teks.push_back(k.exposure_key.tek.expose_secret().data());
        in.blocks.push_back(it->second.data());
    }
    while (in.teks.size() % 4 != 0) {  // a last partial group repeats its first key
        in.teks.push_back(in.teks[in.teks.size() & ~std::size_t{3}]);
        in.blocks.push_back(in.blocks[in.blocks.size() & ~std::size_t{3}]);
    }
    return in;
}

// The floor's RPIs must be sotto's: otherwise it would not be the same work.
void check_floor(FloorAes aes, const Workload& w, const FloorInput& in) {
    auto d = RpiDeriver::create();
    if (!d) throw std::runtime_error(d.error().what);
    std::vector<std::uint8_t> got(4 * 144 * 16);
    std::vector<RollingProximityId> want(144);
    for (std::size_t g = 0; g < std::min<std::size_t>(w.keys.size(), 64); g += 4) {
        floor_four_keys(aes, &in.teks[g], &in.blocks[g], got.data());
        for (std::size_t k = 0; k < 4 && g + k < w.keys.size(); ++k) {
            const auto& key = w.keys[g + k].exposure_key;
            if (!d->derive(key.tek, key.rolling_start, want))
                throw std::runtime_error("derive failed");
            if (!std::equal(got.begin() + static_cast<std::ptrdiff_t>(144 * 16 * k),
                            got.begin() + static_cast<std::ptrdiff_t>(144 * 16 * (k + 1)),
                            want.front().bytes.begin()))
                throw std::runtime_error("the floor's RPIs differ from sotto's");
        }
    }
}

Rate run_floor(FloorAes aes, const FloorInput& in, std::size_t n_keys) {
    std::vector<std::uint8_t> out(4 * 144 * 16);
    const double c0 = thread_cpu_seconds();
    const auto t0 = Clock::now();
    for (std::size_t g = 0; g < in.teks.size(); g += 4) {
        floor_four_keys(aes, &in.teks[g], &in.blocks[g], out.data());
        do_not_optimize(out[0]);
    }
    const double n = static_cast<double>(n_keys);
    return {n / (thread_cpu_seconds() - c0), n / seconds_since(t0)};
}

Rate run_full(const Workload& w) {
    const Run f = run_engine(w, false, 1);
    if (f.valid != w.planted)
        throw std::runtime_error("the full derivation missed planted sightings");
    const double n = static_cast<double>(w.keys.size());
    return {n / f.thread_cpu_seconds, n / f.seconds};
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t m = v.size() / 2;
    return v.size() % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

}  // namespace

void add_floor_bench(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "floor", "Full derivation (1 core, no prefilter) against a minimal implementation");
    static std::size_t days = 14, keys_per_day = 100000, sightings = 100000, rounds = 5;
    static std::string floor_aes = "auto";
    cmd->add_option("--days", days)->capture_default_str();
    cmd->add_option("--keys-per-day", keys_per_day)->capture_default_str();
    cmd->add_option("--sightings", sightings)->capture_default_str();
    cmd->add_option("--rounds", rounds, "Alternating full/floor rounds")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000));
    cmd->add_option("--floor-aes", floor_aes,
                    "AES instructions of the floor; auto: those sotto runs (see SOTTO_CRYPTO_ISA)")
        ->check(CLI::IsMember({"auto", "vaes512", "vaes256", "aesni"}))
        ->capture_default_str();
    cmd->callback([] {
        const std::string sotto_aes = RpiDeriver::create()->aes_implementation();
        const std::string aes_name = floor_aes == "auto" ? sotto_aes : floor_aes;
        const FloorAes aes = aes_name == "vaes512"   ? FloorAes::kVaes512
                             : aes_name == "vaes256" ? FloorAes::kVaes256
                                                     : FloorAes::kAesNi;
        if ((aes_name != "vaes512" && aes_name != "vaes256" && aes_name != "aesni") ||
            !floor_supported(aes) || std::string(core::detail::sha256_backend_name()) != "sha-ni")
            throw CLI::RuntimeError(
                "the floor needs SHA-NI and the AES instructions it is asked for (sotto runs " +
                    sotto_aes + ", the floor " + aes_name + ")",
                1);
        fmt::print("AES: sotto {}, floor {}; SHA-256: {}; load average at start: {}\n", sotto_aes,
                   aes_name, core::detail::sha256_backend_name(), loadavg());
        const Workload w = make_workload(days, keys_per_day, sightings,
                                         std::min<std::size_t>(1000, sightings / 2));
        const FloorInput in = floor_input(w);
        check_floor(aes, w, in);
        run_floor(aes, in, w.keys.size());  // warm-up
        std::vector<double> full, floor, ratio;
        for (std::size_t r = 0; r < rounds; ++r) {
            const Rate f = run_full(w);
            const Rate g = run_floor(aes, in, w.keys.size());
            full.push_back(f.cpu);
            floor.push_back(g.cpu);
            ratio.push_back(f.cpu / g.cpu);
            fmt::print(
                "round {}: full {:.0f} keys/s, floor {:.0f} keys/s, ratio {:.3f} (CPU time; wall: "
                "{:.0f}, {:.0f}, {:.3f})\n",
                r + 1, f.cpu, g.cpu, ratio.back(), f.wall, g.wall, f.wall / g.wall);
            std::fflush(stdout);
        }
        fmt::print("load average at end: {}\n", loadavg());
        fmt::print("full_keys_per_s={:.0f} floor_keys_per_s={:.0f} ratio={:.3f}\n", median(full),
                   median(floor), median(ratio));
    });
}

}  // namespace sotto::bench
