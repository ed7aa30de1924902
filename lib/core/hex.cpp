#include <sotto/bytes.hpp>

namespace sotto {
namespace {
constexpr char kDigits[] = "0123456789abcdef";

int nibble(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

std::string to_hex(std::span<const std::uint8_t> bytes) {
    std::string s(bytes.size() * 2, '0');
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        s[2 * i] = kDigits[bytes[i] >> 4];
        s[2 * i + 1] = kDigits[bytes[i] & 0x0f];
    }
    return s;
}

Result<void> from_hex_into(std::string_view hex, std::span<std::uint8_t> out) {
    if (hex.size() != 2 * out.size())
        return make_error(ErrorCode::kInvalidArgument, "hex: wrong number of digits");
    for (std::size_t i = 0; i < out.size(); ++i) {
        const int hi = nibble(hex[2 * i]);
        const int lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return make_error(ErrorCode::kInvalidArgument, "hex: not a hex digit");
        out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
    }
    return ok();
}

Result<std::vector<std::uint8_t>> from_hex(std::string_view hex) {
    if (hex.size() % 2 != 0)
        return make_error(ErrorCode::kInvalidArgument, "hex: odd number of digits");
    std::vector<std::uint8_t> out(hex.size() / 2);
    if (auto r = from_hex_into(hex, out); !r) return r.error();
    return out;
}

}  // namespace sotto
