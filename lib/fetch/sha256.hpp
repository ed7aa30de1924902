#pragma once
// Streaming SHA-256 for downloaded files and the state checksum, on lib/core's compression
// function (SHA-NI or the ARMv8 SHA-256 instructions where the CPU has them, else OpenSSL's),
// which is tested against OpenSSL. Files are public data: the state is not wiped.

#include <array>
#include <cstdint>
#include <cstring>
#include <span>

#include "core/sha256_x2.hpp"

namespace sotto::fetch::detail {

/// False when libsodium cannot be initialized.
bool sodium_ready() noexcept;

class Sha256 {
public:
    void update(std::span<const std::uint8_t> bytes) noexcept {
        const std::uint8_t* p = bytes.data();
        std::size_t n = bytes.size();
        total_ += n;
        if (used_ > 0) {
            const std::size_t take = n < 64 - used_ ? n : 64 - used_;
            std::memcpy(buf_ + used_, p, take);
            used_ += take;
            p += take;
            n -= take;
            if (used_ < 64) return;
            core::detail::sha256_compress(state_, buf_);
            used_ = 0;
        }
        for (; n >= 64; p += 64, n -= 64) core::detail::sha256_compress(state_, p);
        if (n > 0) std::memcpy(buf_, p, n);
        used_ = n;
    }

    /// The digest; the object must not be updated afterwards.
    std::array<std::uint8_t, 32> finish() noexcept {
        const std::uint64_t bits = total_ * 8;
        buf_[used_++] = 0x80;
        if (used_ > 56) {
            std::memset(buf_ + used_, 0, 64 - used_);
            core::detail::sha256_compress(state_, buf_);
            used_ = 0;
        }
        std::memset(buf_ + used_, 0, 56 - used_);
        for (int i = 0; i < 8; ++i) buf_[56 + i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
        core::detail::sha256_compress(state_, buf_);
        std::array<std::uint8_t, 32> out{};
        for (int i = 0; i < 8; ++i)
            for (int b = 0; b < 4; ++b)
                out[static_cast<std::size_t>(4 * i + b)] =
                    static_cast<std::uint8_t>(state_.h[i] >> (24 - 8 * b));
        return out;
    }

private:
    core::detail::Sha256State state_ = core::detail::kSha256Init;
    std::uint8_t buf_[64] = {};
    std::uint64_t total_ = 0;
    std::size_t used_ = 0;
};

}  // namespace sotto::fetch::detail
