// sotto-bench tracer: heard advertisements per second through Tracer::on_advertisement (decode,
// batch, one store transaction per flush_count), in two workloads: a crowd (500 devices heard
// over and over: most packets update an existing row) and the worst case (every packet a new RPI).
#include <time.h>

#include <filesystem>
#include <string>

#include <fmt/core.h>

#include <sotto/clock.hpp>
#include <sotto/core/payload.hpp>
#include <sotto/tracer.hpp>

#include "bench.hpp"

namespace sotto::bench {
namespace {

// CPU seconds of this process (all threads): steadier than wall time on a shared machine.
double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct Rate {
    double wall;
    double cpu;
};

Rate run(const std::string& dir, std::uint64_t n, std::uint32_t devices, std::size_t flush_count) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const std::int64_t now_s = 1795305600 + 12 * 3600;
    ManualClock clock(now_s * 1000);
    store::StoreKey key;
    key.expose_secret_mut()[0] = 1;
    TracerOptions o;
    o.flush_count = flush_count;
    o.store.durability = store::Durability::kNormal;
    auto t = Tracer::open(dir + "/t.db", store::Credential::raw_key(std::move(key)), clock,
                          std::move(o));
    if (!t) throw std::runtime_error(t.error().what);
    core::ServiceData sd{};
    const auto t0 = Clock::now();
    const double c0 = cpu_seconds();
    for (std::uint64_t i = 0; i < n; ++i) {
        const std::uint32_t dev =
            devices == 0 ? static_cast<std::uint32_t>(i) : static_cast<std::uint32_t>(i % devices);
        for (std::size_t b = 0; b < 4; ++b) sd[b] = static_cast<std::uint8_t>(dev >> (8 * b));
        sd[16] = 0x40;
        // Packets spread over the last hour, in time order.
        const std::int64_t when_ms =
            (now_s - 3600) * 1000 + static_cast<std::int64_t>(i * 3'600'000 / n);
        if (auto r = t->on_advertisement(sd, -60 - static_cast<int>(i % 30), when_ms); !r)
            throw std::runtime_error(r.error().what);
    }
    if (auto r = t->flush(); !r) throw std::runtime_error(r.error().what);
    const double s = seconds_since(t0);
    const double cpu = cpu_seconds() - c0;
    const auto st = t->status();
    fmt::print(
        "  {} advertisements, {} devices: {:.2f} s wall, {:.2f} s CPU, {} stored in {} "
        "transactions\n",
        n, devices == 0 ? std::string("all distinct") : std::to_string(devices), s, cpu, st.stored,
        st.flushes);
    std::filesystem::remove_all(dir);
    return {static_cast<double>(n) / s, static_cast<double>(n) / cpu};
}

}  // namespace

void add_tracer_bench(CLI::App& app) {
    auto* cmd = app.add_subcommand("tracer", "Heard advertisements per second through the Tracer");
    static std::uint64_t n = 1'000'000;
    static std::size_t flush_count = TracerOptions{}.flush_count;
    static std::string dir =
        (std::filesystem::temp_directory_path() / "sotto-bench-tracer").string();
    cmd->add_option("--ads", n, "Advertisements per workload")->capture_default_str();
    cmd->add_option("--flush-count", flush_count, "TracerOptions::flush_count")
        ->capture_default_str();
    cmd->add_option("--dir", dir, "Scratch directory (removed)")->capture_default_str();
    cmd->callback([] {
        fmt::print(
            "sotto-bench tracer: Tracer::on_advertisement, flush_count {}, synchronous=NORMAL\n",
            flush_count);
        const Rate crowd = run(dir, n, 500, flush_count);
        const Rate distinct = run(dir, n / 4, 0, flush_count);
        fmt::print(
            "tracer_heard_per_s_crowd={:.0f} tracer_heard_per_s_distinct={:.0f} "
            "per_cpu_s_crowd={:.0f} per_cpu_s_distinct={:.0f}\n",
            crowd.wall, distinct.wall, crowd.cpu, distinct.cpu);
    });
}

}  // namespace sotto::bench
