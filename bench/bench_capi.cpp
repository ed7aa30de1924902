// sotto-bench capi: the C ABI path against the same work done through the C++ Tracer.
//
// ingest: heard advertisements (20-byte service data) fed one by one through
//         sotto_tracer_on_advertisement, including the batched store writes and the final flush.
//         Target >= 100,000/s. Also in batches (--batch, default 256;
//         sotto_tracer_on_advertisements), and the C++ Tracer's on_advertisement on the same input.
// match:  the exposure check on bench/bench_match.cpp's workload (14 signed files x 100,000 keys
//         against 100,000 sightings, 1,000 of them planted): import of the 14 zips (bytes) and
//         check, through sotto_tracer_import_keyfile + sotto_tracer_check, and through
//         Tracer::import_key_file + Tracer::check on an identical store. Target: within 10%.
#include <stdlib.h>  // mkdtemp

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/core.h>

#include <sotto/sotto.h>
#include <sotto/core/rng.hpp>
#include <sotto/core/rolling_id.hpp>
#include <sotto/keyfile/export_writer.hpp>
#include <sotto/tracer.hpp>

#include "bench.hpp"

namespace sotto::bench {
namespace {

using namespace sotto::core;
constexpr IntervalNumber kToday = 2690496 + 144 * 30;            // as bench_match.cpp
std::int64_t g_now_ms = (std::int64_t{kToday} + 120) * 600'000;  // 20:00 UTC
std::int64_t host_clock(void*) { return g_now_ms; }

struct Heard {
    std::array<std::uint8_t, 20> bytes;
    std::int64_t time_ms;
    int rssi;
};

void ok(sotto_status s, const char* what) {
    if (s != SOTTO_OK) throw std::runtime_error(fmt::format("{}: {}", what, sotto_status_name(s)));
}

std::string scratch_dir() {
    char dir[] = "/tmp/sotto-bench-capi-XXXXXX";
    if (mkdtemp(dir) == nullptr) throw std::runtime_error("mkdtemp");
    return dir;
}

sotto_tracer* open_c(const std::string& path, const sotto_trust_store* trust) {
    sotto_tracer* t = nullptr;
    const std::uint8_t key[32] = {7};
    ok(sotto_tracer_open(&t, path.c_str(), key, sizeof key, trust, host_clock, nullptr, nullptr),
       "open");
    return t;
}

Tracer open_cpp(const std::string& path, const ManualClock& clock,
                const keyfile::TrustStore& trust) {
    std::array<std::uint8_t, 32> key{7};
    TracerOptions o;
    o.trust = trust;
    auto t = Tracer::open(path, store::Credential::raw_key(store::StoreKey::from(key)), clock,
                          std::move(o));
    if (!t) throw std::runtime_error(t.error().what);
    return std::move(*t);
}

/// `n` heard advertisements over the last 13 days, 07:00-22:00, in time order; `planted` of them
/// are genuine beacons of the given keys.
std::vector<Heard> make_heard(std::size_t n, std::span<const DiagnosisKey> keys,
                              std::size_t planted) {
    DeterministicRng rng(77);
    std::vector<Heard> out(n);
    std::vector<std::uint8_t> random(n * 24);
    rng.fill(random);
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t* r = &random[i * 24];
        std::copy(r, r + 20, out[i].bytes.begin());
        const IntervalNumber j = kToday - 144 * (1 + r[20] % 13u) + 42 + r[21] % 90u;
        out[i].time_ms = interval_start_seconds(j) * 1000 + r[22] * 2000;
        out[i].rssi = -50 - r[23] % 40;
    }
    std::size_t done = 0;
    for (std::size_t i = 0; done < planted && i < keys.size() && done < n; i += 997) {
        const auto& k = keys[i].exposure_key;
        if (k.rolling_start + 144 * 13 <= kToday) continue;  // older than the store window
        const IntervalNumber j = k.rolling_start + 42 + static_cast<IntervalNumber>(i % 90);
        auto b = make_beacon(k, j, {1, 0, CalibrationConfidence::kHigh});
        if (!b) continue;
        auto sd = encode_service_data(*b);
        out[done * (n / planted)] = Heard{sd, interval_start_seconds(j) * 1000 + 30'000, -60};
        ++done;
    }
    std::sort(out.begin(), out.end(),
              [](const Heard& a, const Heard& b) { return a.time_ms < b.time_ms; });
    return out;
}

std::vector<DiagnosisKey> make_keys(std::size_t days, std::size_t per_day) {
    DeterministicRng rng(2021);
    std::vector<DiagnosisKey> keys(days * per_day);
    std::vector<std::uint8_t> random(keys.size() * 17);
    rng.fill(random);
    for (std::size_t i = 0; i < keys.size(); ++i) {
        auto& k = keys[i];
        std::copy(&random[i * 17], &random[i * 17] + 16,
                  k.exposure_key.tek.expose_secret_mut().begin());
        const IntervalNumber file_day = kToday - static_cast<IntervalNumber>(144 * (i / per_day));
        k.exposure_key.rolling_start = file_day - 144 * (1 + random[i * 17 + 16] % 14u);
        k.transmission_risk_level = 5;
        k.report_type = ReportType::kConfirmedTest;
    }
    return keys;
}

void run_ingest(std::size_t n, std::size_t batch_size) {
    DeterministicRng rng(5);
    std::vector<Heard> heard = make_heard(n, {}, 0);
    const std::string dir = scratch_dir();
    double c_seconds = 0, cpp_seconds = 0;
    {
        sotto_tracer* t = open_c(dir + "/c.db", nullptr);
        const auto t0 = Clock::now();
        for (const auto& h : heard)
            ok(sotto_tracer_on_advertisement(t, h.bytes.data(), 20, h.rssi, h.time_ms), "heard");
        ok(sotto_tracer_flush(t), "flush");
        c_seconds = seconds_since(t0);
        sotto_tracer_status st{};
        st.struct_size = sizeof st;
        ok(sotto_tracer_get_status(&st, t), "status");
        if (st.stored != n) throw std::runtime_error("not everything was stored");
        sotto_tracer_destroy(t);
    }
    double batch_seconds = 0;
    {
        sotto_tracer* t = open_c(dir + "/batch.db", nullptr);
        std::vector<sotto_heard_advertisement> batch(batch_size);
        const auto t0 = Clock::now();
        for (std::size_t i = 0; i < heard.size(); i += batch.size()) {
            const std::size_t n_batch = std::min(batch.size(), heard.size() - i);
            for (std::size_t j = 0; j < n_batch; ++j) {
                const Heard& h = heard[i + j];
                batch[j].time_ms = h.time_ms;
                batch[j].rssi_dbm = h.rssi;
                batch[j].len = 20;
                std::memcpy(batch[j].bytes, h.bytes.data(), 20);
            }
            std::size_t accepted = 0;
            ok(sotto_tracer_on_advertisements(t, batch.data(), n_batch, &accepted), "batch");
            if (accepted != n_batch) throw std::runtime_error("batch refused advertisements");
        }
        ok(sotto_tracer_flush(t), "flush");
        batch_seconds = seconds_since(t0);
        sotto_tracer_destroy(t);
    }
    {
        ManualClock clock(g_now_ms);
        Tracer t = open_cpp(dir + "/cpp.db", clock, {});
        const auto t0 = Clock::now();
        for (const auto& h : heard) {
            if (!t.on_advertisement(h.bytes, h.rssi, h.time_ms)) throw std::runtime_error("heard");
        }
        if (!t.flush()) throw std::runtime_error("flush");
        cpp_seconds = seconds_since(t0);
    }
    std::filesystem::remove_all(dir);
    fmt::print("ingest: {} heard advertisements, C ABI {:.3f} s, C++ {:.3f} s\n", n, c_seconds,
               cpp_seconds);
    fmt::print("capi_heard_per_second={:.0f}\n", static_cast<double>(n) / c_seconds);
    fmt::print("capi_batch{}_heard_per_second={:.0f}\n", batch_size,
               static_cast<double>(n) / batch_seconds);
    fmt::print("cpp_heard_per_second={:.0f}\n", static_cast<double>(n) / cpp_seconds);
}

void run_match(std::size_t days, std::size_t per_day, std::size_t sightings, std::size_t planted) {
    auto signer = keyfile::ExportSigner::generate();
    if (!signer) throw std::runtime_error(signer.error().what);
    auto pem = signer->public_key_pem();
    if (!pem) throw std::runtime_error("pem");
    keyfile::TrustStore trust;
    if (!trust.add_pem("262", "v1", *pem)) throw std::runtime_error("trust");
    sotto_trust_store* c_trust = nullptr;
    ok(sotto_trust_store_create(&c_trust), "trust");
    ok(sotto_trust_store_add(c_trust, "262", "v1",
                             reinterpret_cast<const std::uint8_t*>(pem->data()), pem->size(), 1),
       "trust");

    const auto keys = make_keys(days, per_day);
    const auto heard = make_heard(sightings, keys, planted);
    std::vector<std::vector<std::uint8_t>> zips;
    DeterministicRng rng(9);
    for (std::size_t d = 0; d < days; ++d) {
        keyfile::ExportWriteOptions w;
        w.key_id = "262";
        w.key_version = "v1";
        w.region = "DE";
        w.end_timestamp = static_cast<std::uint64_t>(
            interval_start_seconds(kToday - static_cast<IntervalNumber>(144 * d)));
        w.start_timestamp = w.end_timestamp - 86400;
        auto files =
            keyfile::build_export(std::span(keys).subspan(d * per_day, per_day), *signer, w, rng);
        if (!files) throw std::runtime_error(files.error().what);
        auto zip = keyfile::zip_export(*files);
        if (!zip) throw std::runtime_error(zip.error().what);
        zips.push_back(std::move(*zip));
    }
    const std::string dir = scratch_dir();
    double best_c = 1e9, best_cpp = 1e9;
    std::uint64_t c_valid = 0, cpp_valid = 0;
    for (int round = 0; round < 2; ++round) {
        {
            sotto_tracer* t = open_c(fmt::format("{}/c{}.db", dir, round), c_trust);
            for (const auto& h : heard)
                ok(sotto_tracer_on_advertisement(t, h.bytes.data(), 20, h.rssi, h.time_ms),
                   "heard");
            ok(sotto_tracer_flush(t), "flush");
            const auto t0 = Clock::now();
            for (const auto& z : zips) {
                sotto_import_result r{};
                r.struct_size = sizeof r;
                ok(sotto_tracer_import_keyfile(&r, t, z.data(), z.size(), 0), "import");
                if (!r.matched) throw std::runtime_error("a file was refused");
            }
            sotto_check* c = nullptr;
            ok(sotto_tracer_check(&c, t), "check");
            best_c = std::min(best_c, seconds_since(t0));
            sotto_check_summary s{};
            s.struct_size = sizeof s;
            ok(sotto_check_get_summary(&s, c), "summary");
            c_valid = s.valid_matches;
            sotto_check_destroy(c);
            sotto_tracer_destroy(t);
        }
        {
            ManualClock clock(g_now_ms);
            Tracer t = open_cpp(fmt::format("{}/cpp{}.db", dir, round), clock, trust);
            for (const auto& h : heard) {
                if (!t.on_advertisement(h.bytes, h.rssi, h.time_ms))
                    throw std::runtime_error("heard");
            }
            if (!t.flush()) throw std::runtime_error("flush");
            const auto t0 = Clock::now();
            for (const auto& z : zips) {
                auto r = t.import_key_file(std::span<const std::uint8_t>(z));
                if (!r || !r->matched()) throw std::runtime_error("import");
            }
            auto report = t.check();
            if (!report) throw std::runtime_error(report.error().what);
            best_cpp = std::min(best_cpp, seconds_since(t0));
            cpp_valid = report->report.valid_matches;
        }
    }
    std::filesystem::remove_all(dir);
    sotto_trust_store_destroy(c_trust);
    if (c_valid != cpp_valid || c_valid == 0) throw std::runtime_error("the two paths disagree");
    fmt::print(
        "match: {} keys in {} signed files vs {} sightings ({} planted), import + check, best of "
        "2\n",
        keys.size(), days, sightings, planted);
    fmt::print("capi_check_seconds={:.3f}\ncpp_check_seconds={:.3f}\n", best_c, best_cpp);
    fmt::print("capi_valid_matches={}\n", c_valid);
    fmt::print("capi_keys_per_second={:.0f}\n", static_cast<double>(keys.size()) / best_c);
    fmt::print("capi_vs_cpp_ratio={:.3f}\n", best_c / best_cpp);
}

}  // namespace

void add_capi_bench(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "capi", "the C ABI: heard advertisements per second, and the check vs the C++ Tracer");
    static std::size_t heard = 1'000'000, days = 14, per_day = 100'000, sightings = 100'000,
                       planted = 1000;
    static std::size_t batch_size = 256;
    static std::string only;
    cmd->add_option("--heard", heard)->capture_default_str();
    cmd->add_option("--batch", batch_size, "advertisements per sotto_tracer_on_advertisements call")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
    cmd->add_option("--days", days)->capture_default_str();
    cmd->add_option("--keys-per-day", per_day)->capture_default_str();
    cmd->add_option("--sightings", sightings)->capture_default_str();
    cmd->add_option("--only", only, "ingest or match");
    cmd->callback([] {
        if (only.empty() || only == "ingest") run_ingest(heard, batch_size);
        if (only.empty() || only == "match") run_match(days, per_day, sightings, planted);
    });
}

}  // namespace sotto::bench
