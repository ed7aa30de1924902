// The downloader's streaming SHA-256 (lib/fetch/sha256.hpp) against OpenSSL: every length
// around the block and padding boundaries, split into updates at random places.
#include <openssl/sha.h>

#include <array>
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include <sotto/core/rng.hpp>

#include "fetch/sha256.hpp"

namespace {

std::array<std::uint8_t, 32> reference(const std::vector<std::uint8_t>& m) {
    std::array<std::uint8_t, 32> d{};
    SHA256(m.data(), m.size(), d.data());
    return d;
}

}  // namespace

TEST_CASE("The spool's SHA-256 equals OpenSSL's for any length and any split", "[fetch][sha256]") {
    sotto::core::DeterministicRng rng(7);
    std::vector<std::size_t> lengths;
    for (std::size_t n = 0; n <= 200; ++n) lengths.push_back(n);
    for (std::size_t n : {1000u, 4095u, 4096u, 65535u, 65536u, 65537u, 300'001u})
        lengths.push_back(n);
    for (std::size_t n : lengths) {
        std::vector<std::uint8_t> m(n);
        rng.fill(m);
        const auto want = reference(m);
        // In one piece, and in random pieces (including empty ones).
        sotto::fetch::detail::Sha256 whole;
        whole.update(m);
        CHECK(whole.finish() == want);
        sotto::fetch::detail::Sha256 pieces;
        std::size_t at = 0;
        while (at < n) {
            std::uint8_t r[2];
            rng.fill(r);
            const std::size_t step =
                std::min<std::size_t>(n - at, static_cast<std::size_t>(r[0] | (r[1] << 8)) % 150);
            pieces.update(std::span<const std::uint8_t>(m.data() + at, step));
            at += step;
        }
        CHECK(pieces.finish() == want);
        // A changed byte changes the digest.
        if (n > 0) {
            m[n / 2] ^= 0x01;
            sotto::fetch::detail::Sha256 changed;
            changed.update(m);
            CHECK(changed.finish() != want);
        }
    }
}
