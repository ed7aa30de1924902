#pragma once
/// \file
/// The portable crypto backend (`SOTTO_CRYPTO=portable`): AES-128, SHA-256, HMAC-SHA256 and
/// HKDF-SHA256 in plain C++ with no dependency, for microcontrollers (docs/embedded.md).
///
/// * Constant time: no table lookup and no branch depends on a key or on data. AES is bitsliced
///   (the S-box is computed as x^254 in GF(2^8) on 32 lanes at once); SHA-256 only indexes its
///   round constants by the round number.
/// * No heap, no exceptions, no I/O. Every call is reentrant; objects are not thread-safe.
/// * Objects that hold key material wipe it in their destructor with `wipe`.
///
/// Tested against OpenSSL on random inputs and against FIPS/RFC and GAEN vectors, on the host
/// (tests/unit/portable) and on a Cortex-M4 under QEMU (platform/mcu).

#include <cstddef>
#include <cstdint>
#include <span>

namespace sotto::portable {

/// Overwrites `n` bytes at `p` with zeros through a volatile pointer (not elided).
void wipe(void* p, std::size_t n) noexcept;

/// True when the buffers are equal; the time depends on `n` only.
bool equal_ct(const void* a, const void* b, std::size_t n) noexcept;

/// AES-128 with an expanded key (bitsliced round keys, 352 bytes). Encryption only: GAEN and the
/// flash log use ECB on single blocks and CTR.
class Aes128 {
public:
    explicit Aes128(std::span<const std::uint8_t, 16> key) noexcept;
    ~Aes128();
    Aes128(const Aes128&) = delete;
    Aes128& operator=(const Aes128&) = delete;

    /// ECB: `n` 16-byte blocks from `in` to `out`; `in == out` is allowed.
    void encrypt_blocks(const std::uint8_t* in, std::uint8_t* out, std::size_t n) const noexcept;

    /// CTR (NIST SP 800-38A): keystream blocks AES(iv), AES(iv + 1), ... with the whole 16-byte
    /// counter incremented big-endian, XORed onto `len` bytes; `in == out` is allowed.
    void ctr(std::span<const std::uint8_t, 16> iv, const std::uint8_t* in, std::uint8_t* out,
             std::size_t len) const noexcept;

private:
    std::uint32_t rk_[11][8];
};

/// SHA-256 (FIPS 180-4), streaming.
class Sha256 {
public:
    Sha256() noexcept;
    ~Sha256();
    void update(std::span<const std::uint8_t> data) noexcept;
    /// Writes the digest; the object must not be used afterwards except to be destroyed.
    void finish(std::span<std::uint8_t, 32> out) noexcept;

    /// The compression function on a 64-byte block (for the GAEN HKDF fast path).
    static void compress(std::uint32_t h[8], const std::uint8_t* block) noexcept;

private:
    std::uint32_t h_[8];
    std::uint8_t buf_[64];
    std::uint64_t total_ = 0;
    std::size_t used_ = 0;
};

/// HMAC-SHA256 (RFC 2104), streaming; keys longer than 64 bytes are hashed first.
class HmacSha256 {
public:
    explicit HmacSha256(std::span<const std::uint8_t> key) noexcept;
    ~HmacSha256();
    void update(std::span<const std::uint8_t> data) noexcept;
    void finish(std::span<std::uint8_t, 32> out) noexcept;

private:
    Sha256 inner_;
    std::uint8_t opad_key_[64];
};

/// SHA-256 of `data` in one call.
void sha256(std::span<const std::uint8_t> data, std::span<std::uint8_t, 32> out) noexcept;

/// HMAC-SHA256 of `data` under `key` in one call.
void hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data,
                 std::span<std::uint8_t, 32> out) noexcept;

/// HKDF-SHA256 (RFC 5869). Empty `salt` means 32 zero bytes. False (and `out` untouched) unless
/// `out.size()` is 1..8160.
bool hkdf_sha256(std::span<const std::uint8_t> ikm, std::span<const std::uint8_t> salt,
                 std::span<const std::uint8_t> info, std::span<std::uint8_t> out) noexcept;

/// Where `SystemRng` gets its bytes in a portable build: the integrator's hardware TRNG (or a
/// DRBG seeded from it). Must fill all `n` bytes and return true, or return false on a fault
/// (the caller then aborts rather than use weak bytes). Called from the thread that calls
/// `SystemRng::fill`; must be reentrant if several threads draw randomness.
using EntropySource = bool (*)(void* context, std::uint8_t* out, std::size_t n);

/// Installs the entropy source (nullptr removes it). Call once at boot, before
/// `SystemRng::create`; not thread-safe against concurrent `SystemRng::fill`.
void set_entropy_source(EntropySource source, void* context) noexcept;

/// True when an entropy source is installed.
bool has_entropy_source() noexcept;

/// Fills `out` from the installed source. False when none is installed or it reported a fault.
bool draw_entropy(std::span<std::uint8_t> out) noexcept;

}  // namespace sotto::portable
