#include <sodium.h>

#include <sotto/secret.hpp>

namespace sotto::detail {

void secure_wipe(void* p, std::size_t size) noexcept { sodium_memzero(p, size); }

bool secure_equal(const void* a, const void* b, std::size_t size) noexcept {
    return sodium_memcmp(a, b, size) == 0;
}

bool secure_hex_decode(std::string_view hex, std::span<std::uint8_t> out) noexcept {
    if (hex.size() != 2 * out.size()) return false;
    std::size_t written = 0;
    const char* end = nullptr;
    // sodium_hex2bin is constant-time in the digits it decodes.
    const int rc =
        sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &written, &end);
    if (rc != 0 || written != out.size() || end != hex.data() + hex.size()) {
        sodium_memzero(out.data(), out.size());
        return false;
    }
    return true;
}

}  // namespace sotto::detail
