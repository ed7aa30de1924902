// sotto-bench match: diagnosis keys against stored sightings.
//
// Workload (what a phone checking 14 daily files sees): 14 files × 100,000 keys; the keys of the
// file published on day D were uploaded by people whose keys span the 14 days before D. The store
// holds 100,000 sightings (RPI-interval rows) over its 14-day retention, heard between 07:00 and
// 22:00; 1,000 of them are RPIs of published keys. Measured per core (one thread), and as wall time
// on all cores for the whole 1.4 M-key check.
#include <openssl/evp.h>
#include <time.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <fmt/core.h>

#include <sotto/core/keys.hpp>
#include <sotto/core/rolling_id.hpp>
#include <sotto/keyfile/export_reader.hpp>
#include <sotto/keyfile/trust_store.hpp>
#include <sotto/match/engine.hpp>
#include <sotto/match/session.hpp>

#include "bench.hpp"
#include "core/hkdf.hpp"
#include "match_workload.hpp"

namespace sotto::bench {

using namespace sotto::core;

Workload make_workload(std::size_t days, std::size_t keys_per_day, std::size_t sightings,
                       std::size_t planted) {
    DeterministicRng rng(2021);
    auto uniform = [&](std::uint32_t n) {
        std::uint32_t v = 0;
        rng.fill(std::span(reinterpret_cast<std::uint8_t*>(&v), sizeof v));
        return v % n;
    };
    Workload w;
    w.keys.reserve(days * keys_per_day);
    // One bulk draw for all key bytes and day offsets (a fill per key would dominate the setup).
    std::vector<std::uint8_t> random(days * keys_per_day * 17);
    rng.fill(random);
    const std::uint8_t* next = random.data();
    for (std::size_t d = 0; d < days; ++d) {
        const IntervalNumber file_day = kToday - static_cast<IntervalNumber>(144 * d);
        for (std::size_t i = 0; i < keys_per_day; ++i, next += 17) {
            DiagnosisKey k;
            std::copy(next, next + 16, k.exposure_key.tek.expose_secret_mut().begin());
            k.exposure_key.rolling_start = file_day - 144 * (1 + next[16] % 14u);
            k.exposure_key.rolling_period = 144;
            k.transmission_risk_level = 5;
            k.report_type = ReportType::kConfirmedTest;
            w.keys.push_back(std::move(k));
        }
    }
    auto heard_at = [&] {  // 07:00-22:00 on one of the store's 14 days
        return kToday - 144 * uniform(14) + 42 + uniform(90);
    };
    w.sightings.reserve(sightings);
    for (std::size_t i = 0; i < sightings - planted; ++i) {
        Observation o;
        o.time = interval_start_seconds(heard_at()) + uniform(600);
        o.rssi = static_cast<std::int8_t>(-50 - static_cast<int>(uniform(40)));
        rng.fill(o.beacon.rpi.bytes);
        rng.fill(o.beacon.aem.bytes);
        w.sightings.push_back(make_sighting(o));
    }
    // Plant RPIs of published keys whose day lies within the store's window.
    for (std::size_t i = 0; w.planted < planted && i < w.keys.size(); i += 997) {
        const DiagnosisKey& k = w.keys[i];
        if (k.exposure_key.rolling_start + 144 * 14 <= kToday + 144)
            continue;  // older than the store
        const IntervalNumber j = k.exposure_key.rolling_start + 42 + uniform(90);
        auto b = make_beacon(k.exposure_key, j, {1, 0, CalibrationConfidence::kHigh});
        if (!b) continue;
        w.sightings.push_back(make_sighting({interval_start_seconds(j) + 30, -60, *b}));
        ++w.planted;
    }
    return w;
}

Run run_engine(const Workload& w, bool prefilter, unsigned threads, std::size_t repeat) {
    match::EngineOptions o;
    o.threads = threads;
    o.match.prefilter = prefilter;
    auto engine = match::MatchEngine::create(w.sightings, o);
    if (!engine) throw std::runtime_error(engine.error().what);
    Run r;
    const double c0 = thread_cpu_seconds();
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < repeat; ++i) {
        auto hits = engine->match_keys(w.keys);
        if (!hits) throw std::runtime_error(hits.error().what);
        r.valid = static_cast<std::size_t>(std::count_if(
            hits->begin(), hits->end(),
            [](const MatchedSighting& m) { return m.status == MatchStatus::kValid; }));
    }
    r.seconds = seconds_since(t0) / static_cast<double>(repeat);
    r.thread_cpu_seconds = (thread_cpu_seconds() - c0) / static_cast<double>(repeat);
    r.counters = engine->counters();
    return r;
}

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

namespace {

// The whole check as the Tracer runs it: one MatchSession, one file per day (each published at the
// end of its day), keys streamed in, the publication rule applied, the matches taken. Prefiltered.
Run run_session(const Workload& w, std::size_t days, unsigned threads, std::size_t repeat = 1) {
    match::EngineOptions o;
    o.threads = threads;
    auto engine = match::MatchEngine::create(w.sightings, o);
    if (!engine) throw std::runtime_error(engine.error().what);
    const std::size_t per_file = (w.keys.size() + days - 1) / std::max<std::size_t>(days, 1);
    Run r;
    double total = 0;
    for (std::size_t i = 0; i < repeat; ++i) {
        std::vector<DiagnosisKey> keys;  // copied outside the timed part (the reader moves them in)
        keys.reserve(w.keys.size());
        for (const auto& k : w.keys) keys.push_back(k.clone());
        const auto t0 = Clock::now();
        match::MatchSession session(*engine);
        for (std::size_t f = 0; f * per_file < keys.size(); ++f) {
            if (!session.begin_file(static_cast<std::uint32_t>(f)))
                throw std::runtime_error("begin_file");
            const std::size_t end = std::min(keys.size(), (f + 1) * per_file);
            for (std::size_t k = f * per_file; k < end; ++k)
                if (!session.add_key(std::move(keys[k]))) throw std::runtime_error("add_key");
            const std::int64_t published =
                interval_start_seconds(kToday - static_cast<IntervalNumber>(144 * f) + 144);
            if (!session.end_file(true, {.end_timestamp = published, .obtained_at = published}))
                throw std::runtime_error("end_file");
        }
        const auto taken = session.take_matches();
        total += seconds_since(t0);
        if (!taken) throw std::runtime_error(taken.error().what);
        const auto& matches = *taken;
        r.valid = static_cast<std::size_t>(std::count_if(
            matches.begin(), matches.end(),
            [](const match::RpiMatch& m) { return m.status == MatchStatus::kValid; }));
    }
    r.seconds = total / static_cast<double>(repeat);
    r.counters = engine->counters();
    return r;
}

// Naive: one-shot HKDF and a fresh AES context per key, 144 single-block calls, std::unordered_set.
double run_naive(const Workload& w, std::size_t n_keys, std::size_t* found) {
    std::unordered_set<std::string> seen;
    for (const auto& s : w.sightings)
        seen.emplace(reinterpret_cast<const char*>(s.rpi.bytes.data()), 16);
    std::uint8_t rpik[16], rpi[16];
    *found = 0;
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < n_keys; ++i) {
        const auto& k = w.keys[i];
        if (!core::detail::hkdf_sha256(k.exposure_key.tek.expose_secret(), {},
                                       core::detail::kInfoRpik, rpik))
            throw std::runtime_error("hkdf");
        EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
        EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), nullptr, rpik, nullptr);
        EVP_CIPHER_CTX_set_padding(ctx, 0);
        for (IntervalNumber j = 0; j < 144; ++j) {
            const auto p = padded_data(k.exposure_key.rolling_start + j);
            int len = 0;
            EVP_EncryptUpdate(ctx, rpi, &len, p.data(), 16);
            if (seen.count(std::string(reinterpret_cast<const char*>(rpi), 16))) ++*found;
        }
        EVP_CIPHER_CTX_free(ctx);
    }
    return static_cast<double>(n_keys) / seconds_since(t0);
}

// The measured child: streams `zip` through a matching session (the same path `sotto match`
// takes) and prints its peak RSS in kB. With "-" it imports nothing (the baseline).
int import_child(const std::string& zip, const std::string& pubkey_path) {
    std::uint64_t keys = 0;
    if (zip != "-") {
        std::ifstream f(pubkey_path);
        std::stringstream pem;
        pem << f.rdbuf();
        keyfile::TrustStore trust;
        if (!trust.add_pem_any_id(pem.str())) return 1;
        auto engine = match::MatchEngine::create({}, {});
        if (!engine) return 1;
        match::MatchSession session(*engine);
        if (!session.begin_file(0)) return 1;
        auto info = keyfile::read_export_file(
            zip, trust, keyfile::VerifyMode::kRequireSignature,
            [&](DiagnosisKey&& k) { (void)session.add_key(std::move(k)); }, large_read_options());
        if (!info || !session.end_file(true)) return 1;
        keys = session.counters().keys;
    }
    do_not_optimize(keys);
    fmt::print("{}\n", vm_hwm_kb());
    return 0;
}

// Writes a signed 1,000,000-key export and measures the peak RSS of a child importing it.
double import_peak_rss_mb(std::uint32_t n_keys, long* baseline_kb) {
    char tmpl[] = "/tmp/sotto-bench-match-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
    const std::filesystem::path dir(tmpl);
    auto signer = keyfile::ExportSigner::generate();
    if (!signer) throw std::runtime_error(signer.error().what);
    const std::string pub = (dir / "pub.pem").string();
    std::ofstream(pub) << *signer->public_key_pem();
    const std::string zip = (dir / "export.zip").string();
    write_generated_export(zip, n_keys, *signer);
    *baseline_kb = measure_child({"match", "--import-child", "-", "--pubkey", pub});
    const long peak = measure_child({"match", "--import-child", zip, "--pubkey", pub});
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (peak < 0) throw std::runtime_error("the import child failed");
    return static_cast<double>(peak) / 1024.0;
}

}  // namespace

void add_match_bench(CLI::App& app) {
    auto* cmd = app.add_subcommand("match", "1.4 M diagnosis keys against 100,000 sightings");
    static std::size_t days = 14, keys_per_day = 100000, sightings = 100000;
    static std::string only;
    static std::string import_zip, pubkey;
    static std::uint32_t import_keys = 1'000'000;
    cmd->add_option("--days", days)->capture_default_str();
    cmd->add_option("--keys-per-day", keys_per_day)->capture_default_str();
    cmd->add_option("--sightings", sightings)->capture_default_str();
    cmd->add_option("--only", only,
                    "Run one measurement: full, prefilter or session (one core), for profiling");
    cmd->add_option("--import-keys", import_keys, "Keys in the export whose import RSS is measured")
        ->capture_default_str();
    cmd->add_option("--import-child", import_zip)->group("");  // internal: the measured child
    cmd->add_option("--pubkey", pubkey)->group("");
    cmd->callback([] {
        if (!import_zip.empty()) std::exit(import_child(import_zip, pubkey));
        const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
        fmt::print("workload: {} files x {} keys, {} sightings ...\n", days, keys_per_day,
                   sightings);
        const Workload w = make_workload(days, keys_per_day, sightings,
                                         std::min<std::size_t>(1000, sightings / 2));
        const double n = static_cast<double>(w.keys.size());
        fmt::print("AES implementation: {}\n", RpiDeriver::create()->aes_implementation());
        if (only == "session") {
            const Run r = run_session(w, days, 1);
            fmt::print("session (whole check, 1 core): {:.0f} keys/s ({:.3f} s), {} valid\n",
                       n / r.seconds, r.seconds, r.valid);
            return;
        }
        if (!only.empty()) {
            const Run r = run_engine(w, only == "prefilter", 1);
            fmt::print(
                "{}: {:.0f} keys/s, {} valid; keys derived {}, skipped {}, RPIs derived {}, "
                "matched {}\n",
                only, n / r.seconds, r.valid, r.counters.keys_checked, r.counters.keys_skipped,
                r.counters.rpis_derived, r.counters.rpis_matched);
            return;
        }

        const Run full1 = run_engine(w, false, 1);
        const Run pre1 = run_engine(w, true, 1);
        const Run fullN = run_engine(w, false, cores);
        const Run preN = run_engine(w, true, cores);
        std::size_t naive_found = 0;
        const std::size_t naive_keys = std::min<std::size_t>(w.keys.size(), 100000);
        const double naive = run_naive(w, naive_keys, &naive_found);

        long baseline_kb = 0;
        const double rss_mb = import_peak_rss_mb(import_keys, &baseline_kb);
        fmt::print(
            "import of a {}-key export in a child process: peak RSS {:.1f} MB (a child importing "
            "nothing: "
            "{:.1f} MB)\n",
            import_keys, rss_mb, static_cast<double>(baseline_kb) / 1024.0);
        fmt::print(
            "planted matches: {}; found valid: full {}, prefiltered {} (naive, first {} keys: "
            "{})\n",
            w.planted, full1.valid, pre1.valid, naive_keys, naive_found);
        fmt::print(
            "1 core:  full derivation {:.0f} keys/s ({:.3f} s), prefiltered {:.0f} keys/s ({:.3f} "
            "s)\n",
            n / full1.seconds, full1.seconds, n / pre1.seconds, pre1.seconds);
        fmt::print(
            "{} cores: full derivation {:.3f} s wall, prefiltered {:.3f} s wall for {:.0f} keys\n",
            cores, fullN.seconds, preN.seconds, n);
        fmt::print("naive:   {:.0f} keys/s (one core)\n", naive);
        if (full1.valid != w.planted || pre1.valid != w.planted || fullN.valid != w.planted ||
            preN.valid != w.planted)
            fmt::print("WARNING: not every planted sighting was found\n");
        fmt::print(
            "match_keys_per_s={:.0f} prefilter_keys_per_s={:.0f} naive_keys_per_s={:.0f} "
            "import_peak_rss_mb={:.1f}\n",
            n / full1.seconds, n / pre1.seconds, naive, rss_mb);
    });
}

}  // namespace sotto::bench
