#pragma once
// Internal: AES-128 in ECB over a batch of blocks, with a fresh key per call. This is the
// matcher's hot loop (one key, up to 144 blocks).
//
// OpenSSL 3's EVP layer spends about 0.15 us per re-key in provider dispatch (parameter lookups,
// locks), which is a sixth of a whole key's work. On x86-64 with AES-NI we therefore expand the key
// and run the rounds with the CPU's AES instructions ourselves (4 blocks per instruction with
// VAES-512, 2 with VAES-256, 8 blocks in flight with AES-NI), and likewise on AArch64 with the
// ARMv8 AES instructions (8 blocks in flight, arm_crypto.hpp); elsewhere, or when asked, OpenSSL
// does the work. All backends are checked against OpenSSL in tests/unit/core/aes128_test.cpp.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include <sotto/result.hpp>

namespace sotto::core::detail {

enum class AesBackend : std::uint8_t {
    kAuto,     ///< the fastest one this CPU supports
    kOpenSsl,  ///< EVP AES-128-ECB (portable)
    kAesNi,    ///< x86-64 AES-NI, 8 blocks in flight
    kVaes512,  ///< x86-64 VAES with AVX-512, 16 blocks in flight
    kVaes256,  ///< x86-64 VAES with AVX2 (no AVX-512), 16 blocks in flight
    kArmv8,    ///< AArch64 ARMv8 Cryptography Extension (AESE/AESMC), 8 blocks in flight
    kSliced,   ///< bitsliced constant-time C++ (the only one in SOTTO_CRYPTO=portable builds)
};

/// True when this build and CPU can run `backend` and SOTTO_CRYPTO_ISA (cpu_cap.hpp) allows it
/// (kAuto and kOpenSsl always can).
bool aes_backend_supported(AesBackend backend) noexcept;

/// Name for logs and benchmarks ("vaes512", "vaes256", "aesni", "armv8-aes", "openssl").
const char* aes_backend_name(AesBackend backend) noexcept;

/// AES-128-ECB with a new key per call. Not thread-safe. The x86 and ARM backends wipe their round
/// keys after every call; the OpenSSL backend keeps the last key schedule inside its EVP context
/// until the next call or destruction (EVP_CIPHER_CTX_free cleanses it).
class Aes128Batch {
public:
    /// kInvalidArgument if `backend` is not supported here; kCryptoFailure if OpenSSL fails.
    static Result<Aes128Batch> create(AesBackend backend = AesBackend::kAuto) noexcept;
    Aes128Batch(Aes128Batch&&) noexcept;
    Aes128Batch& operator=(Aes128Batch&&) noexcept;
    ~Aes128Batch();

    /// The backend in use (never kAuto).
    AesBackend backend() const noexcept { return backend_; }

    /// Encrypts `n` 16-byte blocks from `in` into `out` under `key`. `in` and `out` may be equal.
    bool encrypt(std::span<const std::uint8_t, 16> key, const std::uint8_t* in, std::uint8_t* out,
                 std::size_t n) noexcept;

private:
    struct OpenSsl;
    Aes128Batch(AesBackend backend, std::unique_ptr<OpenSsl> ossl) noexcept;
    AesBackend backend_;
    std::unique_ptr<OpenSsl> ossl_;  // only for kOpenSsl
};

}  // namespace sotto::core::detail
