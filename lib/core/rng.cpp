#include <sodium.h>

#include <cstring>
#include <mutex>

#include <sotto/core/rng.hpp>

#include "core/sodium_init.hpp"

namespace sotto::core {

Result<SystemRng> SystemRng::create() noexcept {
    if (auto r = detail::init_sodium(); !r) return r.error();
    return SystemRng();
}

void SystemRng::fill(std::span<std::uint8_t> out) noexcept {
    if (out.empty()) return;  // data() may be null, which libsodium does not accept
    randombytes_buf(out.data(), out.size());
}

DeterministicRng::DeterministicRng(std::uint64_t seed) noexcept {
    for (std::size_t i = 0; i < 8; ++i) seed_[i] = static_cast<std::uint8_t>(seed >> (8 * i));
}

DeterministicRng::DeterministicRng(const std::array<std::uint8_t, 32>& seed) noexcept
    : seed_(seed) {}

DeterministicRng::~DeterministicRng() { sodium_memzero(seed_.data(), seed_.size()); }

void DeterministicRng::fill(std::span<std::uint8_t> out) noexcept {
    if (out.empty()) return;  // data() may be null, which libsodium does not accept
    // Each call gets its own ChaCha20 key: BLAKE2b(seed || counter). This keeps successive
    // calls independent and the whole stream reproducible from the seed.
    std::uint8_t input[40];
    std::memcpy(input, seed_.data(), 32);
    for (std::size_t i = 0; i < 8; ++i)
        input[32 + i] = static_cast<std::uint8_t>(counter_ >> (8 * i));
    ++counter_;
    unsigned char call_seed[randombytes_SEEDBYTES];
    crypto_generichash(call_seed, sizeof call_seed, input, sizeof input, nullptr, 0);
    randombytes_buf_deterministic(out.data(), out.size(), call_seed);
    sodium_memzero(call_seed, sizeof call_seed);
    sodium_memzero(input, sizeof input);
}

}  // namespace sotto::core
