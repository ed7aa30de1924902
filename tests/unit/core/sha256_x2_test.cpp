#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>

#include <cstring>

#include <catch2/catch.hpp>

#include <sotto/bytes.hpp>
#include <sotto/core/rng.hpp>

#include "core/sha256_x2.hpp"
#include "support.hpp"

using namespace sotto::core;
using detail::Sha256State;

namespace {
Sha256State reference(Sha256State s, const std::uint8_t* block) {
    SHA256_CTX ctx;
    std::memcpy(ctx.h, s.h, sizeof s.h);
    SHA256_Transform(&ctx, block);
    std::memcpy(s.h, ctx.h, sizeof s.h);
    return s;
}
bool same(const Sha256State& a, const Sha256State& b) {
    return std::memcmp(a.h, b.h, sizeof a.h) == 0;
}
}  // namespace

TEST_CASE("SHA-256 compression of \"abc\" gives the FIPS 180-4 digest", "[core][sha256]") {
    // FIPS 180-4 / NIST example "abc": one padded block.
    std::uint8_t block[64] = {'a', 'b', 'c', 0x80};
    block[63] = 24;  // length in bits
    std::uint8_t other[64] = {'a', 'b', 'd', 0x80};
    other[63] = 24;
    Sha256State s = detail::kSha256Init, x = detail::kSha256Init, y = detail::kSha256Init;
    detail::sha256_compress(s, block);
    detail::sha256_compress_x2(x, block, y, other);
    const std::uint32_t expected[8] = {0xba7816bf, 0x8f01cfea, 0x414140de, 0x5dae2223,
                                       0xb00361a3, 0x96177a9c, 0xb410ff61, 0xf20015ad};
    CHECK(std::memcmp(s.h, expected, sizeof expected) == 0);
    CHECK(std::memcmp(x.h, expected, sizeof expected) == 0);
    CHECK(same(y, reference(detail::kSha256Init, other)));
    CHECK_FALSE(same(y, x));
    if (!detail::sha256_ni_supported()) WARN("no SHA-NI here: the OpenSSL fallback was tested");
}

TEST_CASE("Paired SHA-256 compression equals OpenSSL on random states and blocks",
          "[core][sha256]") {
    DeterministicRng rng(256);
    for (int i = 0; i < 20000; ++i) {
        Sha256State a, b;
        std::uint8_t ba[64], bb[64];
        rng.fill(std::span(reinterpret_cast<std::uint8_t*>(a.h), sizeof a.h));
        rng.fill(std::span(reinterpret_cast<std::uint8_t*>(b.h), sizeof b.h));
        rng.fill(ba);
        rng.fill(bb);
        const Sha256State ra = reference(a, ba), rb = reference(b, bb);
        Sha256State x = a, y = b, z = a;
        detail::sha256_compress_x2(x, ba, y, bb);
        detail::sha256_compress(z, ba);
        REQUIRE(same(x, ra));
        REQUIRE(same(y, rb));
        REQUIRE(same(z, ra));
        // Negative neighbour: one flipped message bit changes the result.
        ba[i % 64] ^= static_cast<std::uint8_t>(1u << (i % 8));
        Sha256State w = a;
        detail::sha256_compress(w, ba);
        REQUIRE_FALSE(same(w, ra));
    }
}

TEST_CASE("Four interleaved compressions on message words equal OpenSSL", "[core][sha256]") {
    DeterministicRng rng(257);
    for (int i = 0; i < 5000; ++i) {
        Sha256State s[4], want[4];
        std::uint32_t w[4][16];
        std::uint8_t block[4][64];
        for (int k = 0; k < 4; ++k) {
            rng.fill(std::span(reinterpret_cast<std::uint8_t*>(s[k].h), sizeof s[k].h));
            rng.fill(block[k]);
            for (int j = 0; j < 16; ++j)  // W_j is the j-th big-endian word of the block
                w[k][j] = std::uint32_t{block[k][4 * j]} << 24 |
                          std::uint32_t{block[k][4 * j + 1]} << 16 |
                          std::uint32_t{block[k][4 * j + 2]} << 8 | block[k][4 * j + 3];
            want[k] = reference(s[k], block[k]);
        }
        detail::sha256_compress_words_x4(s, w);
        for (int k = 0; k < 4; ++k) REQUIRE(same(s[k], want[k]));
        // Negative neighbour: one flipped word bit in lane 2 changes lane 2 only.
        Sha256State t[4] = {want[0], want[1], want[2], want[3]};
        Sha256State u[4] = {want[0], want[1], want[2], want[3]};
        detail::sha256_compress_words_x4(t, w);
        w[2][i % 16] ^= 1u << (i % 32);
        detail::sha256_compress_words_x4(u, w);
        REQUIRE(same(t[0], u[0]));
        REQUIRE_FALSE(same(t[2], u[2]));
    }
}
