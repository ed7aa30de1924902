// Bitsliced AES-128 encryption. Two blocks at a time live in eight 32-bit words: bit i of word b
// is bit b of byte (i mod 16) of block (i / 16); byte k of a block is row k mod 4, column k / 4.
// SubBytes computes the inverse as x^254 in GF(2^8) with AND/XOR on whole words (4 multiplications,
// 7 squarings), then the affine map; ShiftRows and MixColumns are fixed shifts and masks. No
// memory address or branch depends on the key or the data. See docs/embedded.md.
#include <cstring>

#include <sotto/core/portable_crypto.hpp>

namespace sotto::portable {
namespace {

using W = std::uint32_t;

// Product of two bitsliced GF(2^8) elements modulo x^8 + x^4 + x^3 + x + 1.
inline void gf_mul(const W a[8], const W b[8], W out[8]) noexcept {
    W p[15] = {};
    for (int i = 0; i < 8; ++i)
        for (int j = 0; j < 8; ++j) p[i + j] ^= a[i] & b[j];
    for (int k = 14; k >= 8; --k) {  // x^8 = x^4 + x^3 + x + 1
        p[k - 4] ^= p[k];
        p[k - 5] ^= p[k];
        p[k - 7] ^= p[k];
        p[k - 8] ^= p[k];
    }
    for (int i = 0; i < 8; ++i) out[i] = p[i];
}

inline void gf_sq(const W a[8], W out[8]) noexcept {
    W p[15] = {};
    for (int i = 0; i < 8; ++i) p[2 * i] = a[i];
    for (int k = 14; k >= 8; --k) {
        p[k - 4] ^= p[k];
        p[k - 5] ^= p[k];
        p[k - 7] ^= p[k];
        p[k - 8] ^= p[k];
    }
    for (int i = 0; i < 8; ++i) out[i] = p[i];
}

// The AES S-box on 32 bitsliced lanes, in place.
void sub_bytes(W q[8]) noexcept {
    W x2[8], x3[8], x6[8], x12[8], x15[8], t[8];
    gf_sq(q, x2);
    gf_mul(x2, q, x3);
    gf_sq(x3, x6);
    gf_sq(x6, x12);
    gf_mul(x12, x3, x15);
    gf_sq(x15, t);       // x^30
    gf_sq(t, x6);        // x^60 (x6 reused as scratch)
    gf_sq(x6, t);        // x^120
    gf_sq(t, x6);        // x^240
    gf_mul(x6, x12, t);  // x^252
    W inv[8];
    gf_mul(t, x2, inv);  // x^254 = x^-1 (and 0 -> 0)
    // Affine map: s_i = b_i ^ b_{i+4} ^ b_{i+5} ^ b_{i+6} ^ b_{i+7} ^ c_i, c = 0x63.
    for (int i = 0; i < 8; ++i) {
        W s = inv[i] ^ inv[(i + 4) & 7] ^ inv[(i + 5) & 7] ^ inv[(i + 6) & 7] ^ inv[(i + 7) & 7];
        q[i] = ((0x63 >> i) & 1) ? ~s : s;  // i is public: not a data-dependent branch
    }
    wipe(x2, sizeof x2);
    wipe(x3, sizeof x3);
    wipe(x6, sizeof x6);
    wipe(x12, sizeof x12);
    wipe(x15, sizeof x15);
    wipe(t, sizeof t);
    wipe(inv, sizeof inv);
}

// new[r + 4c] = old[r + 4((c + r) mod 4)] within each 16-lane half.
inline W shift_rows_word(W w) noexcept {
    W out = w & 0x11111111u;
    for (int r = 1; r < 4; ++r) {
        const W m = w & (0x11111111u << r);
        const W lo = (1u << (16 - 4 * r)) - 1;
        const W lomask = lo | (lo << 16);
        out |= ((m >> (4 * r)) & lomask) | ((m << (16 - 4 * r)) & ~lomask);
    }
    return out;
}

// Lane r + 4c takes lane ((r + k) mod 4) + 4c: the column's bytes rotated by k rows.
inline W rot_rows(W x, int k) noexcept {
    static constexpr W kLow[4] = {0xffffffffu, 0x77777777u, 0x33333333u, 0x11111111u};
    return ((x >> k) & kLow[k]) | ((x << (4 - k)) & ~kLow[k]);
}

void mix_columns(W q[8]) noexcept {
    W r1[8], t[8];
    for (int i = 0; i < 8; ++i) {
        r1[i] = rot_rows(q[i], 1);
        t[i] = q[i] ^ r1[i];
    }
    // b = xtime(a ^ rot1 a) ^ rot1 a ^ rot2 a ^ rot3 a
    const W x[8] = {t[7], t[0] ^ t[7], t[1], t[2] ^ t[7], t[3] ^ t[7], t[4], t[5], t[6]};
    for (int i = 0; i < 8; ++i) q[i] = x[i] ^ r1[i] ^ rot_rows(q[i], 2) ^ rot_rows(q[i], 3);
}

// Bytes of up to two blocks (32 bytes, lane = byte index) into bitsliced words and back.
void bitslice(const std::uint8_t* in, std::size_t nbytes, W q[8]) noexcept {
    for (int b = 0; b < 8; ++b) q[b] = 0;
    for (std::size_t i = 0; i < nbytes; ++i) {
        const W v = in[i];
        for (int b = 0; b < 8; ++b) q[b] |= ((v >> b) & 1u) << i;
    }
}

void unbitslice(const W q[8], std::uint8_t* out, std::size_t nbytes) noexcept {
    for (std::size_t i = 0; i < nbytes; ++i) {
        W v = 0;
        for (int b = 0; b < 8; ++b) v |= ((q[b] >> i) & 1u) << b;
        out[i] = static_cast<std::uint8_t>(v);
    }
}

// SubWord of the key schedule, through the same bitsliced S-box.
void sub_word(std::uint8_t w[4]) noexcept {
    W q[8];
    bitslice(w, 4, q);
    sub_bytes(q);
    unbitslice(q, w, 4);
    wipe(q, sizeof q);
}

}  // namespace

void wipe(void* p, std::size_t n) noexcept {
    volatile std::uint8_t* v = static_cast<volatile std::uint8_t*>(p);
    for (std::size_t i = 0; i < n; ++i) v[i] = 0;
}

bool equal_ct(const void* a, const void* b, std::size_t n) noexcept {
    const volatile std::uint8_t* x = static_cast<const volatile std::uint8_t*>(a);
    const volatile std::uint8_t* y = static_cast<const volatile std::uint8_t*>(b);
    std::uint8_t d = 0;
    for (std::size_t i = 0; i < n; ++i) d = static_cast<std::uint8_t>(d | (x[i] ^ y[i]));
    return d == 0;
}

Aes128::Aes128(std::span<const std::uint8_t, 16> key) noexcept {
    std::uint8_t ks[176];  // FIPS 197 section 5.2, on bytes
    std::memcpy(ks, key.data(), 16);
    std::uint8_t rcon = 1;
    for (int i = 4; i < 44; ++i) {
        std::uint8_t t[4];
        std::memcpy(t, ks + 4 * (i - 1), 4);
        if (i % 4 == 0) {
            const std::uint8_t t0 = t[0];  // RotWord
            t[0] = t[1];
            t[1] = t[2];
            t[2] = t[3];
            t[3] = t0;
            sub_word(t);
            t[0] ^= rcon;
            rcon = static_cast<std::uint8_t>((rcon << 1) ^ ((rcon >> 7) * 0x1b));  // public
        }
        for (int j = 0; j < 4; ++j)
            ks[4 * i + j] = static_cast<std::uint8_t>(ks[4 * (i - 4) + j] ^ t[j]);
        wipe(t, sizeof t);
    }
    for (int r = 0; r < 11; ++r) {
        std::uint8_t two[32];
        std::memcpy(two, ks + 16 * r, 16);
        std::memcpy(two + 16, ks + 16 * r, 16);
        bitslice(two, 32, rk_[r]);
        wipe(two, sizeof two);
    }
    wipe(ks, sizeof ks);
}

Aes128::~Aes128() { wipe(rk_, sizeof rk_); }

void Aes128::encrypt_blocks(const std::uint8_t* in, std::uint8_t* out,
                            std::size_t n) const noexcept {
    W q[8];
    std::uint8_t buf[32];
    for (std::size_t i = 0; i < n; i += 2) {
        const std::size_t bytes = (n - i >= 2) ? 32 : 16;
        std::memcpy(buf, in + 16 * i, bytes);
        bitslice(buf, bytes, q);
        for (int b = 0; b < 8; ++b) q[b] ^= rk_[0][b];
        for (int r = 1; r < 10; ++r) {
            sub_bytes(q);
            for (int b = 0; b < 8; ++b) q[b] = shift_rows_word(q[b]);
            mix_columns(q);
            for (int b = 0; b < 8; ++b) q[b] ^= rk_[r][b];
        }
        sub_bytes(q);
        for (int b = 0; b < 8; ++b) q[b] = shift_rows_word(q[b]) ^ rk_[10][b];
        unbitslice(q, buf, bytes);
        std::memcpy(out + 16 * i, buf, bytes);
    }
    wipe(q, sizeof q);
    wipe(buf, sizeof buf);
}

void Aes128::ctr(std::span<const std::uint8_t, 16> iv, const std::uint8_t* in, std::uint8_t* out,
                 std::size_t len) const noexcept {
    std::uint8_t ctr[32];
    std::uint8_t ks[32];
    std::memcpy(ctr, iv.data(), 16);
    auto increment = [](std::uint8_t* c) {
        unsigned carry = 1;
        for (int i = 15; i >= 0; --i) {
            carry += c[i];
            c[i] = static_cast<std::uint8_t>(carry);
            carry >>= 8;
        }
    };
    std::size_t done = 0;
    while (done < len) {
        std::memcpy(ctr + 16, ctr, 16);
        increment(ctr + 16);
        encrypt_blocks(ctr, ks, 2);
        const std::size_t take = (len - done < 32) ? len - done : 32;
        for (std::size_t i = 0; i < take; ++i)
            out[done + i] = static_cast<std::uint8_t>(in[done + i] ^ ks[i]);
        done += take;
        std::memcpy(ctr, ctr + 16, 16);
        increment(ctr);
    }
    wipe(ks, sizeof ks);
    wipe(ctr, sizeof ctr);
}

}  // namespace sotto::portable
