// The fast path uses OpenSSL's low-level SHA-256 API because it lets us copy a precomputed
// SHA256_CTX (a plain struct) instead of going through EVP_MD_CTX_copy_ex, which costs more than
// the compressions themselves. OpenSSL 3 marks that API deprecated; it is still exported and uses
// the same SHA-NI code. See docs/protocol.md "HKDF fast path".
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "hkdf.hpp"
#include "sha256_x2.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/sha.h>
#include <sodium.h>

#include <bit>
#include <cstring>

namespace sotto::core::detail {

Result<void> hkdf_sha256(std::span<const std::uint8_t> ikm, std::span<const std::uint8_t> salt,
                         std::span<const std::uint8_t> info, std::span<std::uint8_t> out) noexcept {
    if (out.empty() || out.size() > 255 * 32)
        return make_error(ErrorCode::kInvalidArgument, "hkdf: output length must be 1..8160");
    EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
    if (kdf == nullptr) return make_error(ErrorCode::kCryptoFailure, "hkdf: HKDF unavailable");
    EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (ctx == nullptr) return make_error(ErrorCode::kOutOfMemory, "hkdf: out of memory");

    static const std::uint8_t kEmpty[1] = {0};
    char digest[] = "SHA256";
    OSSL_PARAM params[5];
    std::size_t n = 0;
    params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
    params[n++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_KEY, const_cast<std::uint8_t*>(ikm.empty() ? kEmpty : ikm.data()),
        ikm.size());
    if (!salt.empty())  // absent salt: RFC 5869 uses HashLen zero bytes, as OpenSSL does
        params[n++] = OSSL_PARAM_construct_octet_string(
            OSSL_KDF_PARAM_SALT, const_cast<std::uint8_t*>(salt.data()), salt.size());
    params[n++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_INFO, const_cast<std::uint8_t*>(info.empty() ? kEmpty : info.data()),
        info.size());
    params[n] = OSSL_PARAM_construct_end();
    const int rc = EVP_KDF_derive(ctx, out.data(), out.size(), params);
    EVP_KDF_CTX_free(ctx);
    if (rc != 1) return make_error(ErrorCode::kCryptoFailure, "hkdf: derivation failed");
    return ok();
}

namespace {

// HMAC-SHA256 over inputs of fixed, known lengths, so every final block is padded by hand and
// compressed with SHA256_Transform: no buffering, no length bookkeeping, no SHA256_Final.

SHA256_CTX initial_state() noexcept {
    SHA256_CTX c;
    SHA256_Init(&c);
    return c;
}

// State after absorbing one 64-byte block filled with `pad`: the HMAC key is 32 zero bytes.
SHA256_CTX state_after_pad(std::uint8_t pad) noexcept {
    SHA256_CTX c = initial_state();
    std::uint8_t block[64];
    std::memset(block, pad, sizeof block);
    SHA256_Transform(&c, block);
    return c;
}

struct Precomputed {
    SHA256_CTX init = initial_state();
    SHA256_CTX zero_inner = state_after_pad(0x36);
    SHA256_CTX zero_outer = state_after_pad(0x5c);
};

const Precomputed& precomputed() noexcept {
    static const Precomputed p;
    return p;
}

// Writes the 32-byte digest held in the state's chaining words (big-endian).
void store_digest(const SHA256_CTX& c, std::uint8_t* out) noexcept {
    for (std::size_t i = 0; i < 8; ++i) {
        out[4 * i] = static_cast<std::uint8_t>(c.h[i] >> 24);
        out[4 * i + 1] = static_cast<std::uint8_t>(c.h[i] >> 16);
        out[4 * i + 2] = static_cast<std::uint8_t>(c.h[i] >> 8);
        out[4 * i + 3] = static_cast<std::uint8_t>(c.h[i]);
    }
}

// SHA-256 padding for a final block holding `used` message bytes, `total` bytes hashed in all.
void pad_final(std::uint8_t* block, std::size_t used, std::uint64_t total) noexcept {
    block[used] = 0x80;
    std::memset(block + used + 1, 0, 56 - used - 1);
    const std::uint64_t bits = total * 8;
    for (std::size_t i = 0; i < 8; ++i)
        block[56 + i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
}

// The same precomputation as `Precomputed`, as plain chaining values for sha256_compress_x2.
struct PrecomputedStates {
    Sha256State zero_inner, zero_outer;
    PrecomputedStates() noexcept {
        const Precomputed& p = precomputed();
        std::memcpy(zero_inner.h, p.zero_inner.h, sizeof zero_inner.h);
        std::memcpy(zero_outer.h, p.zero_outer.h, sizeof zero_outer.h);
    }
};

const PrecomputedStates& precomputed_states() noexcept {
    static const PrecomputedStates p;
    return p;
}

void store_digest(const Sha256State& s, std::uint8_t* out) noexcept {
    for (std::size_t i = 0; i < 8; ++i) {
        std::uint32_t be = s.h[i];
        if constexpr (std::endian::native == std::endian::little) be = __builtin_bswap32(be);
        std::memcpy(out + 4 * i, &be, 4);
    }
}

// One lane's buffers for the paired HKDF; `gaen_hkdf16_x2` wipes both lanes with one call.
struct HkdfLane {
    Sha256State st;
    std::uint8_t block[64];
    std::uint8_t key_block[64];
    std::uint8_t prk[32];
};

}  // namespace

void gaen_hkdf16_x2(std::span<const std::uint8_t, 16> ikm_a,
                    std::span<const std::uint8_t, 16> ikm_b, std::span<const std::uint8_t, 7> info,
                    std::span<std::uint8_t, 16> out_a, std::span<std::uint8_t, 16> out_b) noexcept {
    const PrecomputedStates& p = precomputed_states();
    HkdfLane l[2];
    struct Wipe {
        HkdfLane* lanes;
        ~Wipe() { sodium_memzero(lanes, 2 * sizeof(HkdfLane)); }
    } wipe{l};
    const std::span<const std::uint8_t, 16> ikm[2] = {ikm_a, ikm_b};
    auto both = [&l](const std::uint8_t* a, const std::uint8_t* b) {
        sha256_compress_x2(l[0].st, a, l[1].st, b);
    };
    // Extract: PRK = HMAC-SHA256(key = 0^32, msg = IKM), as in gaen_hkdf16.
    for (int i = 0; i < 2; ++i) {
        l[i].st = p.zero_inner;
        std::memcpy(l[i].block, ikm[i].data(), 16);
        pad_final(l[i].block, 16, 64 + 16);
    }
    both(l[0].block, l[1].block);
    for (auto& x : l) {
        store_digest(x.st, x.block);
        pad_final(x.block, 32, 64 + 32);
        x.st = p.zero_outer;
    }
    both(l[0].block, l[1].block);
    // Expand: T(1) = HMAC-SHA256(PRK, info || 0x01).
    for (auto& x : l) {
        store_digest(x.st, x.prk);
        for (std::size_t i = 0; i < 32; ++i)
            x.key_block[i] = static_cast<std::uint8_t>(x.prk[i] ^ 0x36);
        std::memset(x.key_block + 32, 0x36, 32);
        x.st = kSha256Init;
        std::memcpy(x.block, info.data(), 7);
        x.block[7] = 0x01;
        pad_final(x.block, 8, 64 + 8);
    }
    both(l[0].key_block, l[1].key_block);
    both(l[0].block, l[1].block);
    for (auto& x : l) {
        store_digest(x.st, x.block);
        pad_final(x.block, 32, 64 + 32);
        for (std::size_t i = 0; i < 64; ++i)
            x.key_block[i] = static_cast<std::uint8_t>(x.key_block[i] ^ (0x36 ^ 0x5c));
        x.st = kSha256Init;
    }
    both(l[0].key_block, l[1].key_block);
    both(l[0].block, l[1].block);
    store_digest(l[0].st, l[0].prk);
    store_digest(l[1].st, l[1].prk);
    std::memcpy(out_a.data(), l[0].prk, 16);
    std::memcpy(out_b.data(), l[1].prk, 16);
}

namespace {

std::uint32_t load_be32(const std::uint8_t* p) noexcept {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
    return v;
}

// SHA-256 padding of a message block given as words: `used` message words, `total` bytes hashed.
void pad_words(std::uint32_t* w, int used, std::uint32_t total) noexcept {
    w[used] = 0x80000000u;
    for (int i = used + 1; i < 15; ++i) w[i] = 0;
    w[15] = total * 8;
}

}  // namespace

void gaen_hkdf16_x4(const std::uint8_t* const ikm[4], std::span<const std::uint8_t, 7> info,
                    std::uint8_t (*out)[16]) noexcept {
    const PrecomputedStates& p = precomputed_states();
    Sha256State st[4];
    std::uint32_t w[4][16], prk[4][8], inner[4][16];
    std::uint8_t info_block[8];
    std::memcpy(info_block, info.data(), 7);
    info_block[7] = 0x01;
    const std::uint32_t info0 = load_be32(info_block), info1 = load_be32(info_block + 4);
    // Extract: PRK = HMAC-SHA256(key = 0^32, msg = IKM); inner 64 + 16 bytes, outer 64 + 32.
    for (int k = 0; k < 4; ++k) {
        st[k] = p.zero_inner;
        for (int i = 0; i < 4; ++i) w[k][i] = load_be32(ikm[k] + 4 * i);
        pad_words(w[k], 4, 64 + 16);
    }
    sha256_compress_words_x4(st, w);
    for (int k = 0; k < 4; ++k) {
        std::memcpy(w[k], st[k].h, 32);
        pad_words(w[k], 8, 64 + 32);
        st[k] = p.zero_outer;
    }
    sha256_compress_words_x4(st, w);
    // Expand: T(1) = HMAC-SHA256(PRK, info || 0x01): (PRK ^ ipad) then the info block ...
    for (int k = 0; k < 4; ++k) {
        std::memcpy(prk[k], st[k].h, 32);
        for (int i = 0; i < 8; ++i) w[k][i] = prk[k][i] ^ 0x36363636u;
        for (int i = 8; i < 16; ++i) w[k][i] = 0x36363636u;
        st[k] = kSha256Init;
    }
    sha256_compress_words_x4(st, w);
    for (int k = 0; k < 4; ++k) {
        w[k][0] = info0;
        w[k][1] = info1;
        pad_words(w[k], 2, 64 + 8);
    }
    sha256_compress_words_x4(st, w);
    // ... then (PRK ^ opad) and the inner digest.
    for (int k = 0; k < 4; ++k) {
        std::memcpy(inner[k], st[k].h, 32);
        pad_words(inner[k], 8, 64 + 32);
        for (int i = 0; i < 8; ++i) w[k][i] = prk[k][i] ^ 0x5c5c5c5cu;
        for (int i = 8; i < 16; ++i) w[k][i] = 0x5c5c5c5cu;
        st[k] = kSha256Init;
    }
    sha256_compress_words_x4(st, w);
    sha256_compress_words_x4(st, inner);
    for (int k = 0; k < 4; ++k)
        for (int i = 0; i < 4; ++i) {
            std::uint32_t be = st[k].h[i];
            if constexpr (std::endian::native == std::endian::little) be = __builtin_bswap32(be);
            std::memcpy(out[k] + 4 * i, &be, 4);
        }
}

namespace {

// gaen_hkdf16 on Sha256State and sha256_compress (the ARMv8 SHA-256 path): the same steps as
// gaen_hkdf16_x2 for one lane, from the same precomputed HMAC states.
void gaen_hkdf16_states(std::span<const std::uint8_t, 16> ikm,
                        std::span<const std::uint8_t, 7> info,
                        std::span<std::uint8_t, 16> out) noexcept {
    const PrecomputedStates& p = precomputed_states();
    HkdfLane l;
    struct Wipe {
        HkdfLane* lane;
        ~Wipe() { sodium_memzero(lane, sizeof(HkdfLane)); }
    } wipe{&l};
    l.st = p.zero_inner;  // extract: PRK = HMAC-SHA256(key = 0^32, msg = IKM)
    std::memcpy(l.block, ikm.data(), 16);
    pad_final(l.block, 16, 64 + 16);
    sha256_compress(l.st, l.block);
    store_digest(l.st, l.block);
    pad_final(l.block, 32, 64 + 32);
    l.st = p.zero_outer;
    sha256_compress(l.st, l.block);
    store_digest(l.st, l.prk);
    // Expand: T(1) = HMAC-SHA256(PRK, info || 0x01).
    for (std::size_t i = 0; i < 32; ++i)
        l.key_block[i] = static_cast<std::uint8_t>(l.prk[i] ^ 0x36);
    std::memset(l.key_block + 32, 0x36, 32);
    l.st = kSha256Init;
    sha256_compress(l.st, l.key_block);
    std::memcpy(l.block, info.data(), 7);
    l.block[7] = 0x01;
    pad_final(l.block, 8, 64 + 8);
    sha256_compress(l.st, l.block);
    store_digest(l.st, l.block);
    pad_final(l.block, 32, 64 + 32);
    for (std::size_t i = 0; i < 64; ++i)
        l.key_block[i] = static_cast<std::uint8_t>(l.key_block[i] ^ (0x36 ^ 0x5c));
    l.st = kSha256Init;
    sha256_compress(l.st, l.key_block);
    sha256_compress(l.st, l.block);
    store_digest(l.st, l.prk);
    std::memcpy(out.data(), l.prk, 16);
}

}  // namespace

void gaen_hkdf16(std::span<const std::uint8_t, 16> ikm, std::span<const std::uint8_t, 7> info,
                 std::span<std::uint8_t, 16> out) noexcept {
    // On ARMv8 our own compression beats SHA256_Transform's per-call state copy and wipe. On
    // x86-64 OpenSSL's SHA-NI transform on a copied SHA256_CTX is already the fast single path.
    if (sha256_arm_supported()) return gaen_hkdf16_states(ikm, info, out);
    const Precomputed& p = precomputed();
    std::uint8_t prk[32];
    std::uint8_t block[64];
    std::uint8_t key_block[64];
    SHA256_CTX ctx;

    // Extract: PRK = HMAC-SHA256(key = 0^32, msg = IKM). Inner: 64 + 16 bytes; outer: 64 + 32.
    ctx = p.zero_inner;
    std::memcpy(block, ikm.data(), 16);
    pad_final(block, 16, 64 + 16);
    SHA256_Transform(&ctx, block);
    store_digest(ctx, block);
    pad_final(block, 32, 64 + 32);
    ctx = p.zero_outer;
    SHA256_Transform(&ctx, block);
    store_digest(ctx, prk);

    // Expand, one block: T(1) = HMAC-SHA256(key = PRK, msg = info || 0x01); OKM = T(1)[0..16).
    for (std::size_t i = 0; i < 32; ++i) key_block[i] = static_cast<std::uint8_t>(prk[i] ^ 0x36);
    std::memset(key_block + 32, 0x36, 32);
    ctx = p.init;
    SHA256_Transform(&ctx, key_block);
    std::memcpy(block, info.data(), 7);
    block[7] = 0x01;
    pad_final(block, 8, 64 + 8);
    SHA256_Transform(&ctx, block);
    store_digest(ctx, block);
    pad_final(block, 32, 64 + 32);
    for (std::size_t i = 0; i < 64; ++i)
        key_block[i] = static_cast<std::uint8_t>(key_block[i] ^ (0x36 ^ 0x5c));
    ctx = p.init;
    SHA256_Transform(&ctx, key_block);
    SHA256_Transform(&ctx, block);
    store_digest(ctx, prk);  // prk now holds T(1)
    std::memcpy(out.data(), prk, 16);

    sodium_memzero(prk, sizeof prk);
    sodium_memzero(block, sizeof block);
    sodium_memzero(key_block, sizeof key_block);
    sodium_memzero(&ctx, sizeof ctx);
}

}  // namespace sotto::core::detail
