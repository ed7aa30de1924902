#include <openssl/evp.h>

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <sotto/core/rng.hpp>

#include "core/aes128.hpp"
#include "core/matcher_filter.hpp"
#include "core/matcher_kernel.hpp"
#include "support.hpp"

using namespace sotto::core;
using detail::AesBackend;

namespace {
std::vector<std::uint8_t> openssl_ecb(const std::uint8_t* key,
                                      const std::vector<std::uint8_t>& in) {
    std::vector<std::uint8_t> out(in.size());
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    REQUIRE(EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), nullptr, key, nullptr) == 1);
    EVP_CIPHER_CTX_set_padding(ctx, 0);
    int len = 0;
    if (!in.empty())
        REQUIRE(EVP_EncryptUpdate(ctx, out.data(), &len, in.data(), static_cast<int>(in.size())) ==
                1);
    EVP_CIPHER_CTX_free(ctx);
    return out;
}
}  // namespace

TEST_CASE("Every AES-128 backend agrees with OpenSSL", "[core][aes]") {
    const auto backend = GENERATE(AesBackend::kOpenSsl, AesBackend::kAesNi, AesBackend::kVaes256,
                                  AesBackend::kVaes512, AesBackend::kArmv8);
    CAPTURE(detail::aes_backend_name(backend));
    if (!detail::aes_backend_supported(backend)) {
        WARN("backend not supported on this CPU: " << detail::aes_backend_name(backend));
        CHECK(detail::Aes128Batch::create(backend).error().code ==
              sotto::ErrorCode::kInvalidArgument);
        return;
    }
    auto aes = detail::Aes128Batch::create(backend);
    REQUIRE(aes);
    CHECK(aes->backend() == backend);
    DeterministicRng rng(99);
    for (std::size_t n = 0; n <= 150; ++n) {
        std::uint8_t key[16];
        rng.fill(key);
        std::vector<std::uint8_t> in(16 * n), out(16 * n);
        rng.fill(in);
        REQUIRE(aes->encrypt(std::span<const std::uint8_t, 16>(key, 16), in.data(), out.data(), n));
        const auto expected = openssl_ecb(key, in);
        CAPTURE(n);
        REQUIRE(out == expected);
        if (n > 0) {  // negative neighbour: another key gives other blocks
            key[0] ^= 1;
            REQUIRE(
                aes->encrypt(std::span<const std::uint8_t, 16>(key, 16), in.data(), out.data(), n));
            CHECK(out != expected);
        }
    }
}

TEST_CASE("AES-128 matches the FIPS-197 C.1 example", "[core][aes]") {
    // FIPS-197 Appendix C.1: AES-128.
    const auto key = sotto::test::hex("000102030405060708090a0b0c0d0e0f");
    const auto pt = sotto::test::hex("00112233445566778899aabbccddeeff");
    const auto ct = sotto::test::hex("69c4e0d86a7b0430d8cdb78070b4c55a");
    auto aes = detail::Aes128Batch::create();
    REQUIRE(aes);
    std::uint8_t out[16];
    REQUIRE(aes->encrypt(std::span<const std::uint8_t, 16>(key.data(), 16), pt.data(), out, 1));
    CHECK(std::vector<std::uint8_t>(out, out + 16) == ct);
}

TEST_CASE("The matcher's RPI kernel agrees with OpenSSL and the scalar filter pass",
          "[core][aes]") {
    const auto kernel = detail::rpi_kernel();
    CAPTURE(detail::rpi_kernel_name());
    if (kernel == nullptr) {
        WARN("no RPI kernel on this CPU (or SOTTO_CRYPTO_ISA=none): the matcher uses RpiDeriver");
        CHECK(std::string(detail::rpi_kernel_name()) == "none");
        return;
    }
    // The kernel runs the widest AES instructions the Aes128Batch backends would choose.
    CHECK(std::string(detail::rpi_kernel_name()) ==
          detail::aes_backend_name(detail::Aes128Batch::create()->backend()));
    DeterministicRng rng(144);
    // A dense filter (about half its bits set: a few RPIs in each batch pass), an empty one and
    // a full one; 64 words, so word indices come from the top 6 bits.
    std::vector<std::uint64_t> dense(64), empty(64, 0), full(64, ~std::uint64_t{0});
    rng.fill(std::span(reinterpret_cast<std::uint8_t*>(dense.data()), dense.size() * 8));
    for (auto& w : dense) w |= w << 1;
    std::size_t dense_candidates = 0;
    for (std::size_t n = 0; n <= 150; ++n) {
        std::uint8_t key[16];
        rng.fill(key);
        std::vector<std::uint8_t> in(16 * n);
        rng.fill(in);
        std::vector<RollingProximityId> out(n + 1);
        out[n].bytes.fill(0xa5);  // must stay untouched
        const auto expected = openssl_ecb(key, in);
        CAPTURE(n);
        // The key in lane n % 4 of the four-key expansion, random keys in the others.
        std::uint8_t lanes[4][16];
        rng.fill(std::span(&lanes[0][0], sizeof lanes));
        std::copy(key, key + 16, lanes[n % 4]);
        detail::RpiRoundKeys round_keys[4];
        detail::expand_rpi_keys_x4(lanes, round_keys);
        const detail::RpiRoundKeys& rk = round_keys[n % 4];
        for (const auto* filter : {&dense, &empty, &full}) {
            std::vector<std::uint16_t> got(n + 1, 0xffff), want(n + 1, 0xffff);
            const std::size_t base = 7;  // added to every index written
            const std::size_t found =
                kernel(rk, in.data(), n, out.data(), filter->data(), 58, got.data(), base);
            REQUIRE(std::equal(expected.begin(), expected.end(), out.front().bytes.begin()));
            for (std::uint8_t b : out[n].bytes) REQUIRE(b == 0xa5);
            const std::size_t wanted =
                detail::filter_candidates_scalar(filter->data(), 58, out.data(), n, want.data());
            REQUIRE(found == wanted);
            for (std::size_t c = 0; c < found; ++c) REQUIRE(got[c] == want[c] + base);
            REQUIRE(got[found] == 0xffff);  // nothing written past the candidates
            if (filter == &empty) CHECK(found == 0);
            if (filter == &full) CHECK(found == n);
            if (filter == &dense) dense_candidates += found;
        }
        if (n > 0) {  // negative neighbour: another lane's key gives other blocks
            std::uint16_t cand[151];
            kernel(round_keys[(n + 1) % 4], in.data(), n, out.data(), empty.data(), 58, cand, 0);
            CHECK_FALSE(std::equal(expected.begin(), expected.end(), out.front().bytes.begin()));
        }
    }
    CHECK(dense_candidates > 0);  // the dense filter exercised the candidates' path
}
