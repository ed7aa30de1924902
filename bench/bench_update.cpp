// sotto-bench update: the key updater (sotto::KeyUpdater).
//
//   * a round over N unchanged files (all used already) from tests/fetch/key_server.py on
//     127.0.0.1 and from a local directory: ms per round (target <= 5 ms for 200 files);
//   * cancel latency against a server on 127.0.0.1 that accepts and never answers, default
//     timeouts: from cancel() to run() returning (target <= 1 s);
//   * the check through the updater (directory source: copy into the spool, hash, import, check,
//     mark) against Tracer::import_key_file + Tracer::check alone, over the same files and the
//     same sightings on two identical stores (target: within 5 %).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include <sotto/clock.hpp>
#include <sotto/core/rng.hpp>
#include <sotto/update/key_updater.hpp>

#include "bench.hpp"
#include "child_server.hpp"

namespace sotto::bench {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kNow = 1614902400 + 12 * 3600;  // 2021-03-05 12:00 UTC

// tests/fetch/key_server.py serving `root` (requests logged to `log`).
struct PythonServer {
    sotto::test::ChildServer child;
    int port;
    PythonServer(const fs::path& root, const fs::path& log)
        : child({SOTTO_KEY_SERVER_PATH, root.string(), log.string()}), port(child.port()) {}
};

// Accepts connections and never answers.
struct SilentServer {
    int fd = -1;
    int port = 0;
    std::atomic<bool> stop{false};
    std::vector<int> held;
    std::thread thread;
    SilentServer() {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::listen(fd, 64) != 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
            throw std::runtime_error("silent server");
        port = ntohs(a.sin_port);
        thread = std::thread([this] {
            while (!stop) {
                pollfd p{fd, POLLIN, 0};
                if (::poll(&p, 1, 50) > 0) {
                    const int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
                    if (c >= 0) held.push_back(c);
                }
            }
        });
    }
    ~SilentServer() {
        stop = true;
        thread.join();
        for (int c : held) ::close(c);
        ::close(fd);
    }
};

Tracer open_tracer(const fs::path& db, const sotto::Clock& clock,
                   const keyfile::TrustStore& trust) {
    store::StoreKey key;
    key.expose_secret_mut()[0] = 3;
    TracerOptions o;
    o.trust = trust;
    auto t = Tracer::open(db, store::Credential::raw_key(std::move(key)), clock, std::move(o));
    if (!t) throw std::runtime_error(t.error().what);
    return std::move(*t);
}

// `files` signed zips of `keys` random keys each (distinct content), listed in index.txt.
std::vector<std::string> write_bucket(const fs::path& root, std::uint32_t files, std::uint32_t keys,
                                      const keyfile::ExportSigner& signer) {
    fs::create_directories(root / "exposureKeyExport-DE");
    std::vector<std::string> paths;
    std::string index;
    for (std::uint32_t f = 0; f < files; ++f) {
        core::DeterministicRng rng(1000 + f);
        std::vector<core::DiagnosisKey> ks(keys);
        for (std::uint32_t i = 0; i < keys; ++i) {
            rng.fill(ks[i].exposure_key.tek.expose_secret_mut());
            ks[i].exposure_key.rolling_start = 2690064 - 144 * (i % 14);
            ks[i].transmission_risk_level = 6;
            ks[i].report_type = core::ReportType::kConfirmedTest;
            ks[i].days_since_onset = 1;
        }
        keyfile::ExportWriteOptions w;
        w.key_id = "262";
        w.key_version = "v1";
        w.region = "DE";
        w.start_timestamp = 1614816000;
        w.end_timestamp = 1614902400;
        const std::string rel = fmt::format("exposureKeyExport-DE/{}-{:05}.zip", 1614816000, f);
        if (auto r = keyfile::write_export_zip((root / rel).string(), ks, signer, w, rng); !r)
            throw std::runtime_error(r.error().what);
        paths.push_back(rel);
        index += rel + "\n";
    }
    std::ofstream(root / "index.txt") << index;
    return paths;
}

UpdateReport run_ok(KeyUpdater& u) {
    auto r = u.run();
    if (!r) throw std::runtime_error(r.error().what);
    if (r->index_status == fetch::IndexStatus::kFailed)
        throw std::runtime_error(r->index_error.what);
    return std::move(*r);
}

double process_cpu_s() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

void run(std::uint32_t files, std::uint32_t check_files, std::uint32_t keys,
         std::uint32_t sightings) {
    char tmpl[] = "/tmp/sotto-bench-update-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
    const fs::path tmp = tmpl;
    auto signer = keyfile::ExportSigner::generate();
    if (!signer) throw std::runtime_error("signer");
    keyfile::TrustStore trust;
    if (!trust.add_pem("262", "v1", *signer->public_key_pem())) throw std::runtime_error("pem");
    ManualClock clock(kNow * 1000);

    // 1. A round over `files` unchanged files.
    write_bucket(tmp / "bucket", files, 10, *signer);
    fmt::print("update: {} signed files of 10 keys, used in a first round\n", files);
    double http_ms = 0, dir_ms = 0;
    {
        PythonServer server(tmp / "bucket", tmp / "requests.log");
        auto tracer = open_tracer(tmp / "unchanged.db", clock, trust);
        auto u = KeyUpdater::create(tracer,
                                    fetch::Source{fmt::format("http://127.0.0.1:{}", server.port)},
                                    tmp / "unchanged-state");
        if (!u) throw std::runtime_error(u.error().what);
        auto first = run_ok(*u);
        if (first.count(UpdateOutcome::kChecked) != files)
            throw std::runtime_error("first round did not check every file");
        std::vector<double> ms;
        for (int i = 0; i < 20; ++i) {
            const auto t0 = Clock::now();
            auto r = run_ok(*u);
            ms.push_back(seconds_since(t0) * 1e3);
            if (r.count(UpdateOutcome::kUnchanged) != files || r.check)
                throw std::runtime_error("an unchanged round did something");
        }
        http_ms = median(ms);
        fmt::print("  unchanged round, http (1 conditional request): {:8.3f} ms (median of 20)\n",
                   http_ms);
        auto ud = KeyUpdater::create(tracer, fetch::Source{(tmp / "bucket").string()},
                                     tmp / "unchanged-dir-state");
        if (!ud) throw std::runtime_error(ud.error().what);
        run_ok(*ud);  // the same content: already processed, marked used
        ms.clear();
        for (int i = 0; i < 20; ++i) {
            const auto t0 = Clock::now();
            run_ok(*ud);
            ms.push_back(seconds_since(t0) * 1e3);
        }
        dir_ms = median(ms);
        fmt::print("  unchanged round, directory:                     {:8.3f} ms (median of 20)\n",
                   dir_ms);
    }

    // 2. Cancel latency against a server that never answers (default timeouts).
    std::vector<double> latency;
    {
        SilentServer silent;
        auto tracer = open_tracer(tmp / "cancel.db", clock, trust);
        auto u = KeyUpdater::create(tracer,
                                    fetch::Source{fmt::format("http://127.0.0.1:{}", silent.port)},
                                    tmp / "cancel-state");
        if (!u) throw std::runtime_error(u.error().what);
        for (int i = 0; i < 10; ++i) {
            Clock::time_point cancelled_at;
            std::thread canceller([&] {
                std::this_thread::sleep_for(std::chrono::milliseconds(300 + 37 * i));
                cancelled_at = Clock::now();
                u->cancel();
            });
            auto r = u->run();
            const auto done = Clock::now();
            canceller.join();
            if (!r || !r->cancelled) throw std::runtime_error("the round was not cancelled");
            latency.push_back(std::chrono::duration<double>(done - cancelled_at).count() * 1e3);
        }
        fmt::print("  cancel latency, silent server:   median {:7.2f} ms, max {:7.2f} ms\n",
                   median(latency), *std::max_element(latency.begin(), latency.end()));
    }

    // 3. The check through the updater against Tracer::import_key_file + check.
    write_bucket(tmp / "check-bucket", check_files, keys, *signer);
    auto heard = [&](Tracer& t) {
        core::DeterministicRng rng(5);
        for (std::uint32_t i = 0; i < sightings; ++i) {
            core::ServiceData sd{};
            rng.fill(sd);
            const std::int64_t when = (kNow - 10 * 86400) * 1000 + std::int64_t{i} * 17'000;
            if (auto r = t.on_advertisement(sd, -60, when); !r)
                throw std::runtime_error(r.error().what);
        }
        if (auto r = t.flush(); !r) throw std::runtime_error(r.error().what);
    };
    std::vector<fs::path> zips;
    for (const auto& e : fs::directory_iterator(tmp / "check-bucket" / "exposureKeyExport-DE"))
        zips.push_back(e.path());
    std::sort(zips.begin(), zips.end());
    double direct_s = 0, updater_s = 0;
    double direct_cpu = 0, updater_cpu = 0;  // process CPU time: what load and fsync do not move
    // download (copy + hash), import (verify + parse), check (and marking): seconds, best run
    std::array<double, 3> direct_phases{}, updater_phases{};
    std::size_t windows_direct = 0, windows_updater = 0;
    for (int rep = 0; rep < 5; ++rep) {  // alternate, keep the best of each
        {
            fs::remove_all(tmp / "direct");
            fs::create_directories(tmp / "direct");
            auto t = open_tracer(tmp / "direct" / "t.db", clock, trust);
            heard(t);
            const double c0 = process_cpu_s();
            const auto t0 = Clock::now();
            for (const auto& z : zips)
                if (auto r = t.import_key_file(z); !r || !r->matched())
                    throw std::runtime_error("import failed");
            const double imp = seconds_since(t0);
            auto c = t.check();
            const double s = seconds_since(t0);
            const double cpu = process_cpu_s() - c0;
            direct_cpu = rep == 0 ? cpu : std::min(direct_cpu, cpu);
            if (!c) throw std::runtime_error(c.error().what);
            windows_direct = c->report.windows.size();
            if (rep == 0 || s < direct_s) direct_phases = {0.0, imp, s - imp};
            direct_s = rep == 0 ? s : std::min(direct_s, s);
        }
        {
            fs::remove_all(tmp / "via");
            fs::create_directories(tmp / "via");
            auto t = open_tracer(tmp / "via" / "t.db", clock, trust);
            heard(t);
            auto u = KeyUpdater::create(t, fetch::Source{(tmp / "check-bucket").string()},
                                        tmp / "via" / "state");
            if (!u) throw std::runtime_error(u.error().what);
            // Phase boundaries from the progress callback: first import, check, end.
            double t_import = -1, t_check = -1;
            const double c0 = process_cpu_s();
            const auto t0 = Clock::now();
            auto rr = u->run([&](const UpdateProgress& p) {
                if (p.phase == UpdatePhase::kImport && t_import < 0) t_import = seconds_since(t0);
                if (p.phase == UpdatePhase::kCheck && t_check < 0) t_check = seconds_since(t0);
            });
            const double s = seconds_since(t0);
            const double cpu = process_cpu_s() - c0;
            updater_cpu = rep == 0 ? cpu : std::min(updater_cpu, cpu);
            if (!rr) throw std::runtime_error(rr.error().what);
            auto& r = *rr;
            if (rep == 0 || s < updater_s)
                updater_phases = {t_import, t_check - t_import, s - t_check};
            if (r.count(UpdateOutcome::kChecked) != check_files || !r.check)
                throw std::runtime_error("the updater did not check every file");
            windows_updater = r.check->report.windows.size();
            updater_s = rep == 0 ? s : std::min(updater_s, s);
        }
    }
    const double overhead = (updater_s / direct_s - 1.0) * 100.0;
    const double overhead_cpu = (updater_cpu / direct_cpu - 1.0) * 100.0;
    fmt::print(
        "  check of {} files x {} keys over {} heard advertisements (best of 5, wall / CPU):\n"
        "    Tracer::import_key_file + check:  {:8.1f} ms  {:8.1f} ms CPU\n"
        "    KeyUpdater::run (directory):      {:8.1f} ms  {:8.1f} ms CPU  ({:+.1f} % / {:+.1f} % "
        "CPU)  windows {} / {}\n",
        check_files, keys, sightings, direct_s * 1e3, direct_cpu * 1e3, updater_s * 1e3,
        updater_cpu * 1e3, overhead, overhead_cpu, windows_direct, windows_updater);
    auto ms = [](double x) { return x * 1e3; };
    fmt::print(
        "    phases, direct:  download {:6.1f}  import {:6.1f}  check {:6.1f} ms\n"
        "    phases, updater: download {:6.1f}  import {:6.1f}  check and mark {:6.1f} ms\n",
        ms(direct_phases[0]), ms(direct_phases[1]), ms(direct_phases[2]), ms(updater_phases[0]),
        ms(updater_phases[1]), ms(updater_phases[2]));
    fmt::print(
        "unchanged_round_http_ms={:.3f} unchanged_round_dir_ms={:.3f} cancel_median_ms={:.2f} "
        "cancel_max_ms={:.2f} check_direct_ms={:.1f} check_updater_ms={:.1f} "
        "updater_overhead_pct={:.1f} updater_overhead_cpu_pct={:.1f}\n",
        http_ms, dir_ms, median(latency), *std::max_element(latency.begin(), latency.end()),
        direct_s * 1e3, updater_s * 1e3, overhead, overhead_cpu);
    std::error_code ec;
    fs::remove_all(tmp, ec);
}

}  // namespace

void add_update_bench(CLI::App& app) {
    auto* cmd = app.add_subcommand("update", "The key updater: unchanged rounds, cancel, check");
    auto files = std::make_shared<std::uint32_t>(200);
    auto check_files = std::make_shared<std::uint32_t>(14);
    auto keys = std::make_shared<std::uint32_t>(5000);
    auto sightings = std::make_shared<std::uint32_t>(50'000);
    cmd->add_option("--files", *files, "Unchanged files per round")->check(CLI::Range(1u, 5000u));
    cmd->add_option("--check-files", *check_files, "Files in the check comparison")
        ->check(CLI::Range(1u, 1000u));
    cmd->add_option("--keys", *keys, "Keys per file in the check comparison")
        ->check(CLI::Range(1u, 1'000'000u));
    cmd->add_option("--heard", *sightings, "Heard advertisements in the check comparison")
        ->check(CLI::Range(0u, 10'000'000u));
    cmd->callback([=] { run(*files, *check_files, *keys, *sightings); });
}

}  // namespace sotto::bench
