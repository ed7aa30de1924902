// The internal crypto interfaces of lib/core (aes128.hpp, hkdf.hpp, sha256_x2.hpp) on the portable
// primitives. Built instead of aes128*.cpp, hkdf.cpp, sha256_*.cpp when SOTTO_CRYPTO=portable.
#include <cstring>
#include <new>

#include <sotto/core/portable_crypto.hpp>

#include "core/aes128.hpp"
#include "core/hkdf.hpp"
#include "core/sha256_x2.hpp"

namespace sotto::core::detail {

struct Aes128Batch::OpenSsl {};  // never allocated in this build

bool aes_backend_supported(AesBackend backend) noexcept {
    return backend == AesBackend::kAuto || backend == AesBackend::kSliced;
}

const char* aes_backend_name(AesBackend backend) noexcept {
    return backend == AesBackend::kSliced ? "portable-bitsliced" : "auto";
}

Aes128Batch::Aes128Batch(AesBackend backend, std::unique_ptr<OpenSsl> ossl) noexcept
    : backend_(backend), ossl_(std::move(ossl)) {}
Aes128Batch::Aes128Batch(Aes128Batch&&) noexcept = default;
Aes128Batch& Aes128Batch::operator=(Aes128Batch&&) noexcept = default;
Aes128Batch::~Aes128Batch() = default;

Result<Aes128Batch> Aes128Batch::create(AesBackend backend) noexcept {
    if (!aes_backend_supported(backend))
        return make_error(ErrorCode::kInvalidArgument, "aes: backend not supported in this build");
    return Aes128Batch(AesBackend::kSliced, nullptr);
}

bool Aes128Batch::encrypt(std::span<const std::uint8_t, 16> key, const std::uint8_t* in,
                          std::uint8_t* out, std::size_t n) noexcept {
    if (n == 0) return true;
    const portable::Aes128 aes(key);
    aes.encrypt_blocks(in, out, n);
    return true;
}

Result<void> hkdf_sha256(std::span<const std::uint8_t> ikm, std::span<const std::uint8_t> salt,
                         std::span<const std::uint8_t> info, std::span<std::uint8_t> out) noexcept {
    if (!portable::hkdf_sha256(ikm, salt, info, out))
        return make_error(ErrorCode::kInvalidArgument, "hkdf: output length must be 1..8160");
    return ok();
}

void gaen_hkdf16(std::span<const std::uint8_t, 16> ikm, std::span<const std::uint8_t, 7> info,
                 std::span<std::uint8_t, 16> out) noexcept {
    portable::hkdf_sha256(ikm, {}, info, out);  // the length is valid: cannot fail
}

void gaen_hkdf16_x2(std::span<const std::uint8_t, 16> ikm_a,
                    std::span<const std::uint8_t, 16> ikm_b, std::span<const std::uint8_t, 7> info,
                    std::span<std::uint8_t, 16> out_a, std::span<std::uint8_t, 16> out_b) noexcept {
    gaen_hkdf16(ikm_a, info, out_a);
    gaen_hkdf16(ikm_b, info, out_b);
}

void sha256_compress_x2(Sha256State& a, const std::uint8_t* block_a, Sha256State& b,
                        const std::uint8_t* block_b) noexcept {
    portable::Sha256::compress(a.h, block_a);
    portable::Sha256::compress(b.h, block_b);
}

void sha256_compress(Sha256State& s, const std::uint8_t* block) noexcept {
    portable::Sha256::compress(s.h, block);
}

bool sha256_ni_supported() noexcept { return false; }
bool sha256_arm_supported() noexcept { return false; }
const char* sha256_backend_name() noexcept { return "portable"; }

}  // namespace sotto::core::detail
