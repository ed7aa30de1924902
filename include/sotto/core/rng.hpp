#pragma once
/// \file
/// Randomness source. Core functions take an `Rng&` instead of reaching for a global.

#include <array>
#include <cstdint>
#include <span>

#include <sotto/result.hpp>

namespace sotto::core {

/// A source of random bytes.
///
/// NOTE for implementers: `fill` must not fail; an RNG that can fail must abort instead of
/// returning weak bytes. Implementations need not be thread-safe unless documented.
class Rng {
public:
    virtual ~Rng() = default;
    /// Fills `out` with random bytes.
    virtual void fill(std::span<std::uint8_t> out) noexcept = 0;
};

/// The operating system CSPRNG via libsodium `randombytes_buf`. Thread-safe.
class SystemRng final : public Rng {
public:
    /// Initializes libsodium once (kInternal if that fails).
    static Result<SystemRng> create() noexcept;
    void fill(std::span<std::uint8_t> out) noexcept override;

private:
    SystemRng() = default;
};

/// A reproducible stream for tests and the simulated demo: the same seed gives the same bytes.
/// Never use it for real keys. Built on libsodium `randombytes_buf_deterministic` (ChaCha20).
/// Not thread-safe.
class DeterministicRng final : public Rng {
public:
    explicit DeterministicRng(std::uint64_t seed) noexcept;
    explicit DeterministicRng(const std::array<std::uint8_t, 32>& seed) noexcept;
    ~DeterministicRng() override;
    DeterministicRng(const DeterministicRng&) = delete;
    DeterministicRng& operator=(const DeterministicRng&) = delete;

    void fill(std::span<std::uint8_t> out) noexcept override;

private:
    std::array<std::uint8_t, 32> seed_{};
    std::uint64_t counter_ = 0;
};

}  // namespace sotto::core
