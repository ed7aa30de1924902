// sotto-bench derive: TEK -> 144 RPIs per second on one core, against a naive baseline.
#include <openssl/evp.h>

#include <vector>

#include <fmt/core.h>

#include <sotto/core/keys.hpp>
#include <sotto/core/rolling_id.hpp>

#include "bench.hpp"
#include "core/hkdf.hpp"
#include "core/sha256_x2.hpp"

namespace sotto::bench {
namespace {

using namespace sotto::core;

std::vector<TemporaryExposureKey> make_keys(std::size_t n) {
    DeterministicRng rng(42);
    std::vector<TemporaryExposureKey> keys(n);
    for (auto& k : keys) rng.fill(k.expose_secret_mut());
    return keys;
}

// sotto's path: one RpiDeriver, precomputed HKDF, one AES call of 144 blocks per key.
double run_fast(const std::vector<TemporaryExposureKey>& keys, double min_seconds) {
    auto d = RpiDeriver::create();
    if (!d) throw std::runtime_error(d.error().what);
    std::vector<RollingProximityId> out(kTekRollingPeriod);
    std::size_t done = 0;
    const auto t0 = Clock::now();
    double elapsed = 0;
    do {
        for (const auto& k : keys) {
            if (!d->derive(k, 2642976, out)) throw std::runtime_error("derive failed");
            do_not_optimize(out[0]);
        }
        done += keys.size();
        elapsed = seconds_since(t0);
    } while (elapsed < min_seconds);
    return static_cast<double>(done) / elapsed;
}

// Naive: one-shot HKDF (EVP_KDF) and a fresh AES context per key, one RPI per cipher call.
double run_naive(const std::vector<TemporaryExposureKey>& keys, double min_seconds) {
    std::uint8_t rpik[16];
    std::uint8_t block[16];
    std::uint8_t rpi[16];
    std::size_t done = 0;
    const auto t0 = Clock::now();
    double elapsed = 0;
    do {
        for (const auto& k : keys) {
            if (!core::detail::hkdf_sha256(k.expose_secret(), {}, core::detail::kInfoRpik, rpik))
                throw std::runtime_error("hkdf failed");
            EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
            EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), nullptr, rpik, nullptr);
            EVP_CIPHER_CTX_set_padding(ctx, 0);
            for (IntervalNumber j = 0; j < kTekRollingPeriod; ++j) {
                const auto p = padded_data(2642976 + j);
                std::copy(p.begin(), p.end(), block);
                int len = 0;
                EVP_EncryptUpdate(ctx, rpi, &len, block, 16);
                do_not_optimize(rpi);
            }
            EVP_CIPHER_CTX_free(ctx);
        }
        done += keys.size();
        elapsed = seconds_since(t0);
    } while (elapsed < min_seconds);
    return static_cast<double>(done) / elapsed;
}

}  // namespace

void add_derive_bench(CLI::App& app) {
    auto* cmd = app.add_subcommand("derive", "TEK -> 144 RPIs per second, one core");
    static double seconds = 2.0;
    cmd->add_option("--seconds", seconds, "Minimum time per measurement")->capture_default_str();
    cmd->callback([] {
        const auto keys = make_keys(4096);
        run_fast(keys, 0.2);  // warm-up
        const double fast = run_fast(keys, seconds);
        const double naive = run_naive(keys, seconds / 2);
        fmt::print("AES implementation: {}\n", RpiDeriver::create()->aes_implementation());
        fmt::print("SHA-256 implementation: {}\n", core::detail::sha256_backend_name());
        fmt::print("derive: {:.0f} keys/s ({:.3f} us/key, 144 RPIs each)\n", fast, 1e6 / fast);
        fmt::print("naive:  {:.0f} keys/s ({:.3f} us/key)\n", naive, 1e6 / naive);
        fmt::print("speedup: {:.1f}x\n", fast / naive);
        fmt::print("derive_keys_per_s={:.0f} baseline_keys_per_s={:.0f}\n", fast, naive);
    });
}

}  // namespace sotto::bench
