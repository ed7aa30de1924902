#pragma once
/// \file
/// `SecretBytes<N>`: fixed-size key material that is wiped when it dies.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include <sotto/result.hpp>

namespace sotto {

namespace detail {
/// Overwrites `size` bytes at `p` with zeros in a way the compiler cannot elide (sodium_memzero).
void secure_wipe(void* p, std::size_t size) noexcept;
/// Constant-time comparison of two buffers of equal size (sodium_memcmp). True when equal.
bool secure_equal(const void* a, const void* b, std::size_t size) noexcept;
/// Constant-time hex decoding into exactly `out.size()` bytes (sodium_hex2bin).
/// Fails unless `hex` has exactly `2 * out.size()` hex digits. Wipes `out` on failure.
bool secure_hex_decode(std::string_view hex, std::span<std::uint8_t> out) noexcept;
}  // namespace detail

/// N bytes of secret key material (TEK, RPIK, AEMK, the store key).
///
/// * Not copyable: use `clone()`. A move wipes the source.
/// * The destructor wipes the bytes.
/// * `operator==` runs in constant time.
/// * `Tag` makes keys of the same size distinct types, so a TEK cannot be passed where an RPIK
///   is expected.
/// * Not formattable: there is no `operator<<` and no `fmt::formatter`, so a secret cannot reach a
///   log line by accident. The bytes are reached only through `expose_secret()`, which is easy to
///   grep for in review.
template <std::size_t N, class Tag = void>
class SecretBytes {
public:
    static constexpr std::size_t kSize = N;

    /// All zero bytes.
    SecretBytes() noexcept = default;

    /// Copies `bytes` in. The caller remains responsible for wiping its own copy.
    static SecretBytes from(std::span<const std::uint8_t, N> bytes) noexcept {
        SecretBytes s;
        for (std::size_t i = 0; i < N; ++i) s.b_[i] = bytes[i];
        return s;
    }

    /// Decodes exactly `2 * N` hex digits (either case), in constant time.
    static Result<SecretBytes> from_hex(std::string_view hex) noexcept {
        SecretBytes s;
        if (!detail::secure_hex_decode(hex, s.b_))
            return make_error(ErrorCode::kInvalidArgument, "secret: expected 2*N hex digits");
        return s;
    }

    SecretBytes(const SecretBytes&) = delete;
    SecretBytes& operator=(const SecretBytes&) = delete;
    SecretBytes(SecretBytes&& o) noexcept : b_(o.b_) { detail::secure_wipe(o.b_.data(), N); }
    SecretBytes& operator=(SecretBytes&& o) noexcept {
        if (this != &o) {
            b_ = o.b_;
            detail::secure_wipe(o.b_.data(), N);
        }
        return *this;
    }
    ~SecretBytes() { detail::secure_wipe(b_.data(), N); }

    /// An explicit copy.
    SecretBytes clone() const noexcept {
        SecretBytes s;
        s.b_ = b_;
        return s;
    }

    /// Read access to the raw bytes. Every call site is a place where a secret leaves its box.
    std::span<const std::uint8_t, N> expose_secret() const noexcept { return b_; }
    /// Write access, for filling the bytes from a derivation or an RNG.
    std::span<std::uint8_t, N> expose_secret_mut() noexcept { return b_; }

    friend bool operator==(const SecretBytes& a, const SecretBytes& b) noexcept {
        return detail::secure_equal(a.b_.data(), b.b_.data(), N);
    }

private:
    std::array<std::uint8_t, N> b_{};
};

}  // namespace sotto
