// SystemRng and DeterministicRng for SOTTO_CRYPTO=portable builds: the system source is the
// integrator's entropy callback (portable_crypto.hpp), the deterministic one is HMAC-SHA256 in
// counter mode (a different stream from the libsodium build's, for the same seed).
#include <cstdlib>
#include <cstring>

#include <sotto/core/portable_crypto.hpp>
#include <sotto/core/rng.hpp>

namespace sotto::core {

Result<SystemRng> SystemRng::create() noexcept {
    if (!portable::has_entropy_source())
        return make_error(ErrorCode::kFailedPrecondition,
                          "rng: no entropy source installed (portable::set_entropy_source)");
    return SystemRng();
}

void SystemRng::fill(std::span<std::uint8_t> out) noexcept {
    if (!portable::draw_entropy(out)) {
        portable::wipe(out.data(), out.size());
        std::abort();  // Rng::fill must not fail: never hand out weak bytes
    }
}

DeterministicRng::DeterministicRng(std::uint64_t seed) noexcept {
    for (std::size_t i = 0; i < 8; ++i) seed_[i] = static_cast<std::uint8_t>(seed >> (8 * i));
}

DeterministicRng::DeterministicRng(const std::array<std::uint8_t, 32>& seed) noexcept
    : seed_(seed) {}

DeterministicRng::~DeterministicRng() { portable::wipe(seed_.data(), seed_.size()); }

void DeterministicRng::fill(std::span<std::uint8_t> out) noexcept {
    // Block j of call c: HMAC-SHA256(seed, LE64(c) || LE32(j)).
    std::uint8_t msg[12];
    for (std::size_t i = 0; i < 8; ++i) msg[i] = static_cast<std::uint8_t>(counter_ >> (8 * i));
    ++counter_;
    std::uint8_t block[32];
    std::size_t done = 0;
    for (std::uint32_t j = 0; done < out.size(); ++j) {
        for (std::size_t i = 0; i < 4; ++i) msg[8 + i] = static_cast<std::uint8_t>(j >> (8 * i));
        portable::hmac_sha256(seed_, msg, block);
        const std::size_t take = (out.size() - done < 32) ? out.size() - done : 32;
        std::memcpy(out.data() + done, block, take);
        done += take;
    }
    portable::wipe(block, sizeof block);
}

}  // namespace sotto::core
