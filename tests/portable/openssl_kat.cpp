#include "openssl_kat.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

#include <cstdio>
#include <cstdlib>
#include <random>

namespace sotto::test::portable {
namespace {

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "openssl_kat: %s failed\n", what);
    std::abort();
}

struct Builder {
    KatSet set;
    std::mt19937_64 prng;

    const std::uint8_t* keep(std::vector<std::uint8_t> v) {
        set.buffers.push_back(std::make_unique<std::vector<std::uint8_t>>(std::move(v)));
        return set.buffers.back()->data();
    }
    std::vector<std::uint8_t> random(std::size_t n) {
        std::vector<std::uint8_t> v(n);
        for (auto& b : v) b = static_cast<std::uint8_t>(prng());
        return v;
    }
    void add(Kat::Kind kind, const std::vector<std::uint8_t>& key,
             const std::vector<std::uint8_t>& in, const std::vector<std::uint8_t>& aux,
             const std::vector<std::uint8_t>& out) {
        set.cases.push_back(Kat{kind, keep(key), static_cast<std::uint16_t>(key.size()), keep(in),
                                static_cast<std::uint16_t>(in.size()), keep(aux),
                                static_cast<std::uint16_t>(aux.size()), keep(out),
                                static_cast<std::uint16_t>(out.size())});
    }
};

std::vector<std::uint8_t> evp_cipher(const char* name, const std::vector<std::uint8_t>& key,
                                     const std::vector<std::uint8_t>& iv,
                                     const std::vector<std::uint8_t>& in) {
    EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, name, nullptr);
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    std::vector<std::uint8_t> out(in.size() + 32);
    int len = 0, fin = 0;
    if (c == nullptr || ctx == nullptr ||
        EVP_EncryptInit_ex2(ctx, c, key.data(), iv.empty() ? nullptr : iv.data(), nullptr) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
        EVP_EncryptUpdate(ctx, out.data(), &len, in.data(), static_cast<int>(in.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx, out.data() + len, &fin) != 1)
        die(name);
    out.resize(static_cast<std::size_t>(len + fin));
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(c);
    return out;
}

std::vector<std::uint8_t> ossl_sha256(const std::vector<std::uint8_t>& in) {
    std::vector<std::uint8_t> out(32);
    unsigned len = 0;
    if (EVP_Digest(in.data(), in.size(), out.data(), &len, EVP_sha256(), nullptr) != 1)
        die("sha256");
    return out;
}

std::vector<std::uint8_t> ossl_hmac(const std::vector<std::uint8_t>& key,
                                    const std::vector<std::uint8_t>& in) {
    std::vector<std::uint8_t> out(32);
    unsigned len = 0;
    static const std::uint8_t kNone[1] = {0};
    if (HMAC(EVP_sha256(), key.empty() ? kNone : key.data(), static_cast<int>(key.size()),
             in.data(), in.size(), out.data(), &len) == nullptr)
        die("hmac");
    return out;
}

std::vector<std::uint8_t> ossl_hkdf(const std::vector<std::uint8_t>& ikm,
                                    const std::vector<std::uint8_t>& salt,
                                    const std::vector<std::uint8_t>& info, std::size_t l) {
    EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
    EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    char digest[] = "SHA256";
    static std::uint8_t none[1] = {0};
    OSSL_PARAM p[5];
    std::size_t n = 0;
    p[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
    p[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                               const_cast<std::uint8_t*>(ikm.data()), ikm.size());
    if (!salt.empty())
        p[n++] = OSSL_PARAM_construct_octet_string(
            OSSL_KDF_PARAM_SALT, const_cast<std::uint8_t*>(salt.data()), salt.size());
    p[n++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_INFO, info.empty() ? none : const_cast<std::uint8_t*>(info.data()),
        info.size());
    p[n] = OSSL_PARAM_construct_end();
    std::vector<std::uint8_t> out(l);
    if (ctx == nullptr || EVP_KDF_derive(ctx, out.data(), l, p) != 1) die("hkdf");
    EVP_KDF_CTX_free(ctx);
    return out;
}

}  // namespace

KatSet make_openssl_kats(std::uint64_t seed, std::size_t per_kind) {
    Builder b{{}, std::mt19937_64(seed)};
    auto len = [&b](std::size_t lo, std::size_t hi) { return lo + b.prng() % (hi - lo + 1); };
    for (std::size_t i = 0; i < per_kind; ++i) {
        auto key = b.random(16);
        auto in = b.random(16 * len(1, 4));
        b.add(Kat::kAesEcb, key, in, {}, evp_cipher("AES-128-ECB", key, {}, in));
    }
    for (std::size_t i = 0; i < per_kind; ++i) {
        auto key = b.random(16);
        auto iv = b.random(16);
        if (i % 4 == 0)  // counters about to carry across bytes
            for (std::size_t j = 8 + i % 8; j < 16; ++j) iv[j] = 0xff;
        auto in = b.random(len(0, 100));
        b.add(Kat::kAesCtr, key, in, iv, evp_cipher("AES-128-CTR", key, iv, in));
    }
    const std::size_t boundary[] = {0, 1, 55, 56, 63, 64, 65, 119, 120, 128};
    for (std::size_t i = 0; i < per_kind + std::size(boundary); ++i) {
        auto in = b.random(i < std::size(boundary) ? boundary[i] : len(0, 200));
        b.add(Kat::kSha256, {}, in, {}, ossl_sha256(in));
    }
    const std::size_t key_boundary[] = {1, 32, 63, 64, 65, 100};
    for (std::size_t i = 0; i < per_kind + std::size(key_boundary); ++i) {
        auto key = b.random(i < std::size(key_boundary) ? key_boundary[i] : len(1, 100));
        auto in = b.random(len(0, 150));
        b.add(Kat::kHmac, key, in, {}, ossl_hmac(key, in));
    }
    for (std::size_t i = 0; i < per_kind; ++i) {
        auto ikm = b.random(len(1, 80));
        auto salt = b.random(i % 3 == 0 ? 0 : len(1, 80));
        auto info = b.random(len(0, 40));
        const std::size_t l = i % 5 == 0 ? 16 : len(1, 100);
        b.add(Kat::kHkdf, ikm, salt, info, ossl_hkdf(ikm, salt, info, l));
    }
    return std::move(b.set);
}

std::string kats_to_cpp(const KatSet& set, const std::string& name) {
    std::string s =
        "// Generated by sotto-portable-kat from OpenSSL: do not edit.\n"
        "#include \"portable/checks.hpp\"\n\nnamespace {\n";
    char tmp[64];
    std::size_t id = 0;
    auto array = [&](const std::uint8_t* p, std::size_t n) {
        std::string a = "b" + std::to_string(id++);
        s += "const std::uint8_t " + a + "[] = {";
        for (std::size_t i = 0; i < n; ++i) {
            std::snprintf(tmp, sizeof tmp, "%s%u", i ? "," : "", p[i]);
            s += tmp;
        }
        if (n == 0) s += "0";
        s += "};\n";
        return a;
    };
    std::string table;
    for (const Kat& c : set.cases) {
        const std::string k = array(c.key, c.key_len), in = array(c.in, c.in_len),
                          aux = array(c.aux, c.aux_len), out = array(c.expected, c.out_len);
        table += "    {sotto::test::portable::Kat::Kind(" + std::to_string(int(c.kind)) + "), " +
                 k + ", " + std::to_string(c.key_len) + ", " + in + ", " +
                 std::to_string(c.in_len) + ", " + aux + ", " + std::to_string(c.aux_len) + ", " +
                 out + ", " + std::to_string(c.out_len) + "},\n";
    }
    s += "}  // namespace\n\nextern const sotto::test::portable::Kat " + name + "[];\n";
    s += "extern const std::size_t " + name + "_count;\n";
    s += "const sotto::test::portable::Kat " + name + "[] = {\n" + table + "};\n";
    s += "const std::size_t " + name + "_count = sizeof " + name + " / sizeof " + name + "[0];\n";
    return s;
}

}  // namespace sotto::test::portable
