// sotto::detail's wiping, comparison and hex decoding for SOTTO_CRYPTO=portable builds.
#include <sotto/core/portable_crypto.hpp>
#include <sotto/secret.hpp>

namespace sotto::detail {

void secure_wipe(void* p, std::size_t size) noexcept { portable::wipe(p, size); }

bool secure_equal(const void* a, const void* b, std::size_t size) noexcept {
    return portable::equal_ct(a, b, size);
}

namespace {

// The value of one hex digit, computed without branches or tables on it; `bad` collects 1 when
// `c` is not a hex digit.
unsigned hex_value(unsigned c, unsigned& bad) noexcept {
    const unsigned num = c ^ 48u;                                           // '0'..'9' -> 0..9
    const unsigned num_ok = ((num - 10u) >> 8) & 1u;                        // num < 10
    const unsigned alpha = (c & ~32u) - 55u;                                // 'A'..'F' -> 10..15
    const unsigned alpha_ok = (((alpha - 10u) ^ (alpha - 16u)) >> 8) & 1u;  // 10 <= alpha < 16
    bad |= (num_ok | alpha_ok) ^ 1u;
    return ((0u - num_ok) & num) | ((0u - alpha_ok) & alpha);
}

}  // namespace

bool secure_hex_decode(std::string_view hex, std::span<std::uint8_t> out) noexcept {
    if (hex.size() != 2 * out.size()) return false;
    unsigned bad = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
        const unsigned hi = hex_value(static_cast<unsigned char>(hex[2 * i]), bad);
        const unsigned lo = hex_value(static_cast<unsigned char>(hex[2 * i + 1]), bad);
        out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
    }
    if (bad != 0) {
        portable::wipe(out.data(), out.size());
        return false;
    }
    return true;
}

}  // namespace sotto::detail
