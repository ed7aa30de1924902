// SHA-256, HMAC-SHA256 and HKDF-SHA256 in plain C++ (FIPS 180-4, RFC 2104, RFC 5869). The round
// constants are indexed by the round number only, so the timing does not depend on the data.
#include <cstring>

#include <sotto/core/portable_crypto.hpp>

#include "../sha256_k.hpp"

namespace sotto::portable {
namespace {

constexpr const auto& kK = sotto::core::detail::kSha256K;  // FIPS 180-4, 4.2.2

constexpr std::uint32_t kInit[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

inline std::uint32_t rotr(std::uint32_t x, int n) noexcept { return (x >> n) | (x << (32 - n)); }

}  // namespace

void Sha256::compress(std::uint32_t h[8], const std::uint8_t* block) noexcept {
    std::uint32_t w[16];
    for (int i = 0; i < 16; ++i)
        w[i] = (std::uint32_t{block[4 * i]} << 24) | (std::uint32_t{block[4 * i + 1]} << 16) |
               (std::uint32_t{block[4 * i + 2]} << 8) | block[4 * i + 3];
    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int i = 0; i < 64; ++i) {
        std::uint32_t wi;
        if (i < 16) {
            wi = w[i];
        } else {  // message schedule kept in a 16-word ring
            const std::uint32_t w15 = w[(i - 15) & 15], w2 = w[(i - 2) & 15];
            const std::uint32_t s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >> 3);
            const std::uint32_t s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >> 10);
            wi = w[i & 15] = w[i & 15] + s0 + w[(i - 7) & 15] + s1;
        }
        const std::uint32_t t1 =
            k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + kK[i] + wi;
        const std::uint32_t t2 =
            (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += k;
    wipe(w, sizeof w);
}

Sha256::Sha256() noexcept { std::memcpy(h_, kInit, sizeof h_); }

Sha256::~Sha256() {
    wipe(h_, sizeof h_);
    wipe(buf_, sizeof buf_);
}

void Sha256::update(std::span<const std::uint8_t> data) noexcept {
    if (data.empty()) return;  // an empty span may carry a null pointer: memcpy must not see it
    const std::uint8_t* p = data.data();
    std::size_t n = data.size();
    total_ += n;
    if (used_ > 0) {
        const std::size_t take = (n < 64 - used_) ? n : 64 - used_;
        std::memcpy(buf_ + used_, p, take);
        used_ += take;
        p += take;
        n -= take;
        if (used_ < 64) return;
        compress(h_, buf_);
        used_ = 0;
    }
    for (; n >= 64; p += 64, n -= 64) compress(h_, p);
    if (n > 0) std::memcpy(buf_, p, n);
    used_ = n;
}

void Sha256::finish(std::span<std::uint8_t, 32> out) noexcept {
    const std::uint64_t bits = total_ * 8;
    buf_[used_++] = 0x80;
    if (used_ > 56) {
        std::memset(buf_ + used_, 0, 64 - used_);
        compress(h_, buf_);
        used_ = 0;
    }
    std::memset(buf_ + used_, 0, 56 - used_);
    for (int i = 0; i < 8; ++i) buf_[56 + i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
    compress(h_, buf_);
    for (std::size_t i = 0; i < 8; ++i) {
        out[4 * i] = static_cast<std::uint8_t>(h_[i] >> 24);
        out[4 * i + 1] = static_cast<std::uint8_t>(h_[i] >> 16);
        out[4 * i + 2] = static_cast<std::uint8_t>(h_[i] >> 8);
        out[4 * i + 3] = static_cast<std::uint8_t>(h_[i]);
    }
}

void sha256(std::span<const std::uint8_t> data, std::span<std::uint8_t, 32> out) noexcept {
    Sha256 s;
    s.update(data);
    s.finish(out);
}

HmacSha256::HmacSha256(std::span<const std::uint8_t> key) noexcept {
    std::uint8_t k[64] = {};
    if (key.size() > 64) {
        sha256(key, std::span<std::uint8_t, 32>(k, 32));
    } else if (!key.empty()) {
        std::memcpy(k, key.data(), key.size());
    }
    std::uint8_t ipad[64];
    for (int i = 0; i < 64; ++i) {
        ipad[i] = static_cast<std::uint8_t>(k[i] ^ 0x36);
        opad_key_[i] = static_cast<std::uint8_t>(k[i] ^ 0x5c);
    }
    inner_.update(ipad);
    wipe(ipad, sizeof ipad);
    wipe(k, sizeof k);
}

HmacSha256::~HmacSha256() { wipe(opad_key_, sizeof opad_key_); }

void HmacSha256::update(std::span<const std::uint8_t> data) noexcept { inner_.update(data); }

void HmacSha256::finish(std::span<std::uint8_t, 32> out) noexcept {
    std::uint8_t inner_digest[32];
    inner_.finish(inner_digest);
    Sha256 outer;
    outer.update(opad_key_);
    outer.update(inner_digest);
    outer.finish(out);
    wipe(inner_digest, sizeof inner_digest);
}

void hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data,
                 std::span<std::uint8_t, 32> out) noexcept {
    HmacSha256 h(key);
    h.update(data);
    h.finish(out);
}

bool hkdf_sha256(std::span<const std::uint8_t> ikm, std::span<const std::uint8_t> salt,
                 std::span<const std::uint8_t> info, std::span<std::uint8_t> out) noexcept {
    if (out.empty() || out.size() > 255 * 32) return false;
    static constexpr std::uint8_t kZeroSalt[32] = {};
    std::uint8_t prk[32];
    hmac_sha256(salt.empty() ? std::span<const std::uint8_t>(kZeroSalt) : salt, ikm, prk);
    std::uint8_t t[32];
    std::size_t done = 0;
    for (std::uint8_t counter = 1; done < out.size(); ++counter) {
        HmacSha256 h(prk);
        if (counter > 1) h.update(t);
        h.update(info);
        h.update(std::span<const std::uint8_t>(&counter, 1));
        h.finish(t);
        const std::size_t take = (out.size() - done < 32) ? out.size() - done : 32;
        std::memcpy(out.data() + done, t, take);
        done += take;
    }
    wipe(t, sizeof t);
    wipe(prk, sizeof prk);
    return true;
}

namespace {
EntropySource g_source = nullptr;
void* g_context = nullptr;
}  // namespace

void set_entropy_source(EntropySource source, void* context) noexcept {
    g_source = source;
    g_context = context;
}

bool has_entropy_source() noexcept { return g_source != nullptr; }

bool draw_entropy(std::span<std::uint8_t> out) noexcept {
    if (g_source == nullptr) return false;
    if (out.empty()) return true;
    return g_source(g_context, out.data(), out.size());
}

}  // namespace sotto::portable
