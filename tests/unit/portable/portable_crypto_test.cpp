// The portable backend (SOTTO_CRYPTO=portable) on the host: primitives against FIPS/RFC vectors
// and against OpenSSL on random inputs; the core's token subset against the 144 GAEN vectors.
// The same checks (tests/portable/checks.cpp) run on the Cortex-M4 under QEMU (platform/mcu).
#include <array>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <sotto/core/portable_crypto.hpp>
#include <sotto/core/rng.hpp>
#include <sotto/core/rolling_id.hpp>
#include <sotto/secret.hpp>

#include "portable/checks.hpp"
#include "portable/openssl_kat.hpp"

namespace sp = sotto::portable;
using sotto::test::portable::check_gaen;
using sotto::test::portable::check_kats;
using sotto::test::portable::GaenRow;
using sotto::test::portable::GaenVectors;

namespace {

std::vector<std::uint8_t> unhex(const std::string& h) {
    std::vector<std::uint8_t> v(h.size() / 2);
    for (std::size_t i = 0; i < v.size(); ++i)
        v[i] = static_cast<std::uint8_t>(std::stoul(h.substr(2 * i, 2), nullptr, 16));
    return v;
}

std::string hexs(std::span<const std::uint8_t> b) {
    static const char* d = "0123456789abcdef";
    std::string s;
    for (auto x : b) {
        s += d[x >> 4];
        s += d[x & 15];
    }
    return s;
}

}  // namespace

TEST_CASE("portable AES-128 matches FIPS-197 and SP 800-38A", "[portable]") {
    const auto key = unhex("000102030405060708090a0b0c0d0e0f");
    const sp::Aes128 aes(std::span<const std::uint8_t, 16>(key.data(), 16));
    auto pt = unhex("00112233445566778899aabbccddeeff");
    std::uint8_t ct[16];
    aes.encrypt_blocks(pt.data(), ct, 1);
    CHECK(hexs(ct) == "69c4e0d86a7b0430d8cdb78070b4c55a");
    // SP 800-38A F.5.1 CTR-AES128.Encrypt, first two blocks.
    const auto k2 = unhex("2b7e151628aed2a6abf7158809cf4f3c");
    const auto iv = unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
    auto p2 = unhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
    std::vector<std::uint8_t> c2(p2.size());
    const sp::Aes128 aes2(std::span<const std::uint8_t, 16>(k2.data(), 16));
    aes2.ctr(std::span<const std::uint8_t, 16>(iv.data(), 16), p2.data(), c2.data(), p2.size());
    CHECK(hexs(c2) == "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff");
    // Negative neighbour: one key bit off.
    auto k3 = key;
    k3[0] ^= 1;
    const sp::Aes128 aes3(std::span<const std::uint8_t, 16>(k3.data(), 16));
    aes3.encrypt_blocks(pt.data(), ct, 1);
    CHECK(hexs(ct) != "69c4e0d86a7b0430d8cdb78070b4c55a");
}

TEST_CASE("portable SHA-256, HMAC and HKDF match FIPS 180-4, RFC 4231 and RFC 5869", "[portable]") {
    std::array<std::uint8_t, 32> d{};
    const std::string abc = "abc";
    sp::sha256(std::span(reinterpret_cast<const std::uint8_t*>(abc.data()), 3), d);
    CHECK(hexs(d) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sp::sha256({}, d);
    CHECK(hexs(d) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    // Streaming in odd pieces gives the one-shot digest.
    std::vector<std::uint8_t> msg(1000);
    for (std::size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<std::uint8_t>(i * 7);
    std::array<std::uint8_t, 32> one{}, pieces{};
    sp::sha256(msg, one);
    sp::Sha256 s;
    for (std::size_t off = 0, step = 1; off < msg.size(); off += step, step = step * 3 % 97 + 1)
        s.update(std::span(msg).subspan(off, std::min(step, msg.size() - off)));
    s.finish(pieces);
    CHECK(one == pieces);
    // RFC 4231 test case 2.
    const std::string jefe = "Jefe", what = "what do ya want for nothing?";
    sp::hmac_sha256(std::span(reinterpret_cast<const std::uint8_t*>(jefe.data()), jefe.size()),
                    std::span(reinterpret_cast<const std::uint8_t*>(what.data()), what.size()), d);
    CHECK(hexs(d) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // RFC 5869 A.1.
    const auto ikm = unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
    const auto salt = unhex("000102030405060708090a0b0c");
    const auto info = unhex("f0f1f2f3f4f5f6f7f8f9");
    std::vector<std::uint8_t> okm(42);
    REQUIRE(sp::hkdf_sha256(ikm, salt, info, okm));
    CHECK(hexs(okm) ==
          "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
    std::vector<std::uint8_t> none, too_long(255 * 32 + 1);
    CHECK_FALSE(sp::hkdf_sha256(ikm, salt, info, none));
    CHECK_FALSE(sp::hkdf_sha256(ikm, salt, info, too_long));
}

TEST_CASE("portable primitives agree with OpenSSL on random inputs", "[portable]") {
    for (std::uint64_t seed : {1u, 0x5077u}) {
        const auto set = sotto::test::portable::make_openssl_kats(seed, 150);
        INFO("seed " << seed << ", " << set.cases.size() << " cases");
        CHECK(set.cases.size() > 700);
        CHECK(check_kats(set.cases.data(), set.cases.size()) == 0);
    }
    // The checker catches a wrong answer of every kind.
    auto set = sotto::test::portable::make_openssl_kats(7, 3);
    for (std::size_t i = 0; i < set.cases.size(); ++i) {
        if (set.cases[i].out_len == 0) continue;
        auto copy = set.cases;
        std::vector<std::uint8_t> wrong(set.cases[i].expected,
                                        set.cases[i].expected + set.cases[i].out_len);
        wrong[wrong.size() / 2] ^= 0x10;
        copy[i].expected = wrong.data();
        CHECK(check_kats(copy.data(), copy.size()) == 1);
    }
}

TEST_CASE("portable wipe, constant-time compare and hex decoding", "[portable]") {
    std::uint8_t buf[33];
    std::memset(buf, 0xab, sizeof buf);
    sp::wipe(buf, sizeof buf);
    for (auto b : buf) CHECK(b == 0);
    const std::uint8_t a[4] = {1, 2, 3, 4}, b[4] = {1, 2, 3, 5};
    CHECK(sp::equal_ct(a, a, 4));
    CHECK_FALSE(sp::equal_ct(a, b, 4));
    std::uint8_t out[4];
    CHECK(sotto::detail::secure_hex_decode("0aF9ff00", out));
    CHECK(hexs(out) == "0af9ff00");
    for (const char* bad : {"0aF9ff0g", "0aF9ff0:", "0aF9ff0@", "0aF9ff0`", "0aF9ff0G", "0aF9ff"}) {
        std::memset(out, 0x55, sizeof out);
        CHECK_FALSE(sotto::detail::secure_hex_decode(bad, out));
    }
}

namespace {
int g_calls = 0;
bool counting_source(void* ctx, std::uint8_t* out, std::size_t n) {
    ++g_calls;
    auto* next = static_cast<std::uint8_t*>(ctx);
    for (std::size_t i = 0; i < n; ++i) out[i] = (*next)++;
    return true;
}
}  // namespace

TEST_CASE("portable SystemRng draws from the installed source and refuses without one",
          "[portable]") {
    sp::set_entropy_source(nullptr, nullptr);
    auto none = sotto::core::SystemRng::create();
    REQUIRE_FALSE(none);
    CHECK(none.error().code == sotto::ErrorCode::kFailedPrecondition);
    std::uint8_t next = 40;
    sp::set_entropy_source(counting_source, &next);
    auto rng = sotto::core::SystemRng::create();
    REQUIRE(rng);
    std::uint8_t out[3];
    rng->fill(out);
    CHECK(g_calls == 1);
    CHECK((out[0] == 40 && out[1] == 41 && out[2] == 42));
    sp::set_entropy_source(nullptr, nullptr);
    // The deterministic stream is reproducible and seed-dependent.
    std::uint8_t x[40], y[40], z[40];
    sotto::core::DeterministicRng(1).fill(x);
    sotto::core::DeterministicRng(1).fill(y);
    sotto::core::DeterministicRng(2).fill(z);
    CHECK(std::memcmp(x, y, sizeof x) == 0);
    CHECK(std::memcmp(x, z, sizeof x) != 0);
}

TEST_CASE("portable core passes the 144 EN Crypto Spec vectors", "[portable][vectors]") {
    const std::string path =
        std::string(SOTTO_GAEN_DATA_DIR) + "/crypto/gaen_test_vectors_v1.2.csv";
    std::ifstream in(path);
    if (!in) {
        WARN("GAEN data not found at " << path);
        if (const char* ci = std::getenv("CI"); ci && std::string(ci) == "true")
            FAIL("CI needs it");
        std::exit(4);  // skipped
    }
    GaenVectors v{};
    std::vector<GaenRow> rows;
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("# TEK=", 0) == 0) {
            std::istringstream ss(line.substr(2));
            std::string f;
            while (ss >> f) {
                const auto eq = f.find('=');
                const std::string k = f.substr(0, eq), val = f.substr(eq + 1);
                auto put = [&](std::uint8_t* dst, std::size_t n) {
                    auto b = unhex(val);
                    REQUIRE(b.size() == n);
                    std::memcpy(dst, b.data(), n);
                };
                if (k == "TEK") put(v.tek, 16);
                if (k == "RPIK") put(v.rpik, 16);
                if (k == "AEMK") put(v.aemk, 16);
                if (k == "BLE_METADATA") put(v.metadata, 4);
            }
            continue;
        }
        if (line.empty() || line[0] == '#' || line.rfind("enin", 0) == 0) continue;
        std::istringstream ss(line);
        std::string enin, padded, rpi, aem;
        std::getline(ss, enin, ',');
        std::getline(ss, padded, ',');
        std::getline(ss, rpi, ',');
        std::getline(ss, aem, ',');
        GaenRow r{};
        r.enin = static_cast<std::uint32_t>(std::stoul(enin));
        auto rb = unhex(rpi), ab = unhex(aem);
        REQUIRE((rb.size() == 16 && ab.size() == 4));
        std::memcpy(r.rpi, rb.data(), 16);
        std::memcpy(r.aem, ab.data(), 4);
        rows.push_back(r);
    }
    REQUIRE(rows.size() == 144);
    v.rows = rows.data();
    v.n = rows.size();
    CHECK(check_gaen(v) == 0);
    // Negative neighbours: a wrong RPI row, a wrong AEMK are caught.
    rows[77].rpi[3] ^= 0x04;
    CHECK(check_gaen(v) > 0);
    rows[77].rpi[3] ^= 0x04;
    v.aemk[0] ^= 1;
    CHECK(check_gaen(v) > 0);
    // The portable AES backend is the one in use.
    auto d = sotto::core::RpiDeriver::create();
    REQUIRE(d);
    CHECK(std::string(d->aes_implementation()) == "portable-bitsliced");
}
