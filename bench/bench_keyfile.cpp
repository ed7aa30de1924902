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

// A fresh P-256 private key as PEM (the bench signs its own export).
std::string fresh_private_key_pem() {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    BIO* bio = BIO_new(BIO_s_mem());
    std::string out;
    if (key != nullptr && bio != nullptr &&
        PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1) {
        char* data = nullptr;
        const long len = BIO_get_mem_data(bio, &data);
        out.assign(data, static_cast<std::size_t>(len));
    }
    BIO_free(bio);
    EVP_PKEY_free(key);
    return out;
}

long vm_hwm_kb() {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

ReadOptions bench_options() {
    ReadOptions o;
    o.max_export_bin_bytes = std::uint64_t{256} << 20;
    return o;
}

// The child: import `zip` (or nothing when empty) and print VmHWM in kB.
int rss_child(const std::string& zip, const std::string& pubkey_pem) {
    std::uint64_t sum = 0;
    if (!zip.empty()) {
        TrustStore trust;
        if (!trust.add_pem_any_id(pubkey_pem)) return 1;
        auto info = read_export_zip(zip, trust, VerifyMode::kRequireSignature,
                                    [&sum](core::DiagnosisKey&& k) { sum += k.key.rolling_start; },
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

// Runs this binary again as `keyfile --rss-child ZIP --pubkey PEM` and returns the VmHWM it prints.
long measure_child(const std::string& zip, const std::string& pem) {
    int fds[2];
    if (pipe(fds) != 0) return -1;
    const pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        const std::string exe = fs::read_symlink("/proc/self/exe").string();
        std::vector<std::string> args = {exe, "keyfile", "--rss-child", zip.empty() ? "-" : zip, "--pubkey", pem};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    close(fds[1]);
    std::string out;
    char buf[256];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
    return std::stol(out);
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
    const KeySink sink = [&sink_sum](core::DiagnosisKey&& k) { sink_sum += k.key.rolling_start; };

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
        fmt::print("real CWA export 2021-03-04: {} keys: {:.0f} keys/s ({:.0f} MB/s export.bin), verified\n",
                   r.keys, r.keys_per_s, r.mb_per_s);
    } else {
        fmt::print("real CWA export: not found under {} (skipped)\n", data_dir);
    }

    // 2. A generated export of n_keys keys.
    char tmpl[] = "/tmp/sotto-bench-keyfile-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
    const fs::path dir(tmpl);
    auto signer = ExportSigner::from_pem(fresh_private_key_pem());
    if (!signer) throw std::runtime_error(signer.error().what);
    const std::string pub = *signer->public_key_pem();
    const std::string pub_path = (dir / "pub.pem").string();
    std::ofstream(pub_path) << pub;
    std::vector<core::DiagnosisKey> keys(n_keys);
    core::DeterministicRng rng(2024);
    for (std::uint32_t i = 0; i < n_keys; ++i) {
        auto& k = keys[i];
        rng.fill(k.key.key.expose_secret_mut());
        k.key.rolling_start = 2690064 - 144 * (i % 14);
        k.transmission_risk_level = static_cast<std::int32_t>(1 + i % 8);
        k.report_type = core::ReportType::kConfirmedTest;
        k.days_since_onset = 1 + static_cast<std::int32_t>(i % 2);
    }
    ExportWriteOptions w;
    w.key_id = "262";
    w.key_version = "v1";
    w.region = "DE";
    w.start_timestamp = 1614816000;
    w.end_timestamp = 1614902400;
    const std::string zip = (dir / "export.zip").string();
    auto t0 = Clock::now();
    if (auto r = write_export_zip(zip, keys, *signer, w, rng); !r) throw std::runtime_error(r.error().what);
    const double write_s = seconds_since(t0);
    keys.clear();
    keys.shrink_to_fit();
    TrustStore trust;
    if (!trust.add_pem("262", "v1", pub)) throw std::runtime_error("bench key");
    const auto gen = time_reads(
        [&] { return read_export_zip(zip, trust, VerifyMode::kRequireSignature, sink, bench_options()); },
        seconds);
    fmt::print("generated export: {} keys, zip {:.1f} MB, written in {:.2f} s\n", n_keys,
               static_cast<double>(fs::file_size(zip)) / 1e6, write_s);
    fmt::print("read generated zip: {:.0f} keys/s ({:.0f} MB/s export.bin), verified\n", gen.keys_per_s,
               gen.mb_per_s);

    // 3. Peak RSS of an import in a fresh process.
    const long base = measure_child("", pub_path);
    const long peak = measure_child(zip, pub_path);
    fmt::print("peak RSS (VmHWM) of a child importing the {}-key zip: {:.1f} MB (a child importing "
               "nothing: {:.1f} MB)\n",
               n_keys, static_cast<double>(peak) / 1024, static_cast<double>(base) / 1024);
    do_not_optimize(sink_sum);
    std::error_code ec;
    fs::remove_all(dir, ec);
    fmt::print("keyfile_real_keys_per_s={:.0f} keyfile_generated_keys_per_s={:.0f} keyfile_peak_rss_kb={} "
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
