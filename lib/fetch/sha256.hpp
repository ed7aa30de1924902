#pragma once
// Streaming SHA-256 (libsodium) for downloaded files and the state checksum.

#include <sodium.h>

#include <array>
#include <cstdint>
#include <span>

namespace sotto::fetch::detail {

/// False when libsodium cannot be initialized.
bool sodium_ready() noexcept;

class Sha256 {
public:
    Sha256() noexcept { crypto_hash_sha256_init(&state_); }
    void update(std::span<const std::uint8_t> bytes) noexcept {
        crypto_hash_sha256_update(&state_, bytes.data(), bytes.size());
    }
    std::array<std::uint8_t, 32> finish() noexcept {
        std::array<std::uint8_t, 32> out{};
        crypto_hash_sha256_final(&state_, out.data());
        return out;
    }

private:
    crypto_hash_sha256_state state_{};
};

}  // namespace sotto::fetch::detail
