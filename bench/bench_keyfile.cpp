// sotto-bench keyfile: diagnosis-key file import speed and peak memory.
//
//   * the real German export (15,521 keys) read with signature verification, keys/s;
//   * a generated export of --keys keys (default 1,000,000) written as a signed zip, then read
//     back from disk with verification, keys/s;
//   * the peak RSS (VmHWM) of a fresh child process that only imports that zip, next to the
//     VmHWM of a child that imports nothing: streaming keeps the difference independent of the
//     number of keys.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/core.h>

#include <sotto/core/diagnosis_key.hpp>
#include <sotto/core/rng.hpp>
#include <sotto/keyfile/export_reader.hpp>
#include <sotto/keyfile/export_writer.hpp>

#include "bench.hpp"

namespace sotto::bench {
namespace {

namespace fs = std::filesystem;
using namespace sotto::keyfile;

ReadOptions bench_options() { return large_read_options(); }

// The child: import `zip` (or nothing when empty) and print VmHWM in kB.
int rss_child(const std::string& zip, const std::string& pubkey_pem) {
    std::uint64_t sum = 0;
    if (!zip.empty()) {
        TrustStore trust;
        if (!trust.add_pem_any_id(pubkey_pem)) return 1;
        auto info = read_export_zip(
            zip, trust, VerifyMode::kRequireSignature,
            [&sum](core::DiagnosisKey&& k) { sum += k.exposure_key.rolling_start; },
            bench_options());
        if (!info) {
            fmt::print(stderr, "child: {}\n", info.error().what);
            return 1;
        }
    }
    do_not_optimize(sum);
    fmt::print("{}\n", vm_hwm_kb());
    return 0;
}

struct Rate {
    double keys_per_s = 0;
    double mb_per_s = 0;
    std::uint64_t keys = 0;
};

template <class Read>
Rate time_reads(Read&& read, double min_seconds) {
    Rate r;
    std::uint64_t keys = 0, bytes = 0;
    const auto t0 = Clock::now();
    double elapsed = 0;
    do {
        auto info = read();
        if (!info) throw std::runtime_error(info.error().what);
        if (!info->verified) throw std::runtime_error("not verified");
        keys += info->keys_delivered;
        bytes += info->export_bin_bytes;
        r.keys = info->keys_delivered;
        elapsed = seconds_since(t0);
    } while (elapsed < min_seconds);
    r.keys_per_s = static_cast<double>(keys) / elapsed;
    r.mb_per_s = static_cast<double>(bytes) / elapsed / 1e6;
    return r;
}

void run(std::uint32_t n_keys, double seconds, const std::string& data_dir) {
    std::uint64_t sink_sum = 0;
    const KeySink sink = [&sink_sum](core::DiagnosisKey&& k) {
        sink_sum += k.exposure_key.rolling_start;
    };

    // 1. The real German export, loose pair, with verification.
    const fs::path cwa = fs::path(data_dir) / "cwa-real-2021-03-04";
    double real_rate = 0;
    if (fs::exists(cwa / "export.bin")) {
        std::ifstream f(cwa / "cwa_prod_public_key_262-v1.pem");
        std::stringstream pem;
        pem << f.rdbuf();
        TrustStore trust;
        if (!trust.add_pem("262", "v1", pem.str())) throw std::runtime_error("CWA key");
        const auto r = time_reads(
            [&] {
                return read_export_pair(cwa / "export.bin", cwa / "export.sig", trust,
                                        VerifyMode::kRequireSignature, sink);
            },
            seconds);
        real_rate = r.keys_per_s;
        fmt::print(
            "real CWA export 2021-03-04: {} keys: {:.0f} keys/s ({:.0f} MB/s export.bin), "
            "verified\n",
            r.keys, r.keys_per_s, r.mb_per_s);
    } else {
        fmt::print("real CWA export: not found under {} (skipped)\n", data_dir);
    }

    // 2. A generated export of n_keys keys.
    char tmpl[] = "/tmp/sotto-bench-keyfile-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
    const fs::path dir(tmpl);
    auto signer = ExportSigner::generate();
    if (!signer) throw std::runtime_error(signer.error().what);
    const std::string pub = *signer->public_key_pem();
    const std::string pub_path = (dir / "pub.pem").string();
    std::ofstream(pub_path) << pub;
    auto t0 = Clock::now();
    const std::string zip = (dir / "export.zip").string();
    write_generated_export(zip, n_keys, *signer);
    const double write_s = seconds_since(t0);
    TrustStore trust;
    if (!trust.add_pem("262", "v1", pub)) throw std::runtime_error("bench key");
    const auto gen = time_reads(
        [&] {
            return read_export_zip(zip, trust, VerifyMode::kRequireSignature, sink,
                                   bench_options());
        },
        seconds);
    fmt::print("generated export: {} keys, zip {:.1f} MB, written in {:.2f} s\n", n_keys,
               static_cast<double>(fs::file_size(zip)) / 1e6, write_s);
    fmt::print("read generated zip: {:.0f} keys/s ({:.0f} MB/s export.bin), verified\n",
               gen.keys_per_s, gen.mb_per_s);

    // 3. Peak RSS of an import in a fresh process.
    const long base = measure_child({"keyfile", "--rss-child", "-", "--pubkey", pub_path});
    const long peak = measure_child({"keyfile", "--rss-child", zip, "--pubkey", pub_path});
    fmt::print(
        "peak RSS (VmHWM) of a child importing the {}-key zip: {:.1f} MB (a child importing "
        "nothing: {:.1f} MB)\n",
        n_keys, static_cast<double>(peak) / 1024, static_cast<double>(base) / 1024);
    do_not_optimize(sink_sum);
    std::error_code ec;
    fs::remove_all(dir, ec);
    fmt::print(
        "keyfile_real_keys_per_s={:.0f} keyfile_generated_keys_per_s={:.0f} keyfile_peak_rss_kb={} "
        "keyfile_baseline_rss_kb={}\n",
        real_rate, gen.keys_per_s, peak, base);
}

}  // namespace

void add_keyfile_bench(CLI::App& app) {
    auto* cmd = app.add_subcommand("keyfile", "Diagnosis-key file import: keys/s and peak RSS");
    static std::uint32_t n_keys = 1'000'000;
    static double seconds = 2.0;
    static std::string data_dir = SOTTO_GAEN_DATA_DIR;
    static std::string rss_child_zip;
    static std::string pubkey;
    cmd->add_option("--keys", n_keys, "Keys in the generated export")->capture_default_str();
    cmd->add_option("--seconds", seconds, "Minimum time per measurement")->capture_default_str();
    cmd->add_option("--data", data_dir, "GAEN test data directory")->capture_default_str();
    cmd->add_option("--rss-child", rss_child_zip)->group("");  // internal: the measured child
    cmd->add_option("--pubkey", pubkey)->group("");
    cmd->callback([] {
        if (!rss_child_zip.empty()) {
            std::ifstream f(pubkey);
            std::stringstream pem;
            pem << f.rdbuf();
            std::exit(rss_child(rss_child_zip == "-" ? std::string() : rss_child_zip, pem.str()));
        }
        run(n_keys, seconds, data_dir);
    });
}

}  // namespace sotto::bench
