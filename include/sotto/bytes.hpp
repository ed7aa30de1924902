#pragma once
/// \file
/// Hex helpers for non-secret bytes (RPIs, AEMs, metadata, file hashes).
/// Secrets are decoded with `SecretBytes<N>::from_hex`, never through these.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sotto/result.hpp>

namespace sotto {

/// Lowercase hex of `bytes`.
std::string to_hex(std::span<const std::uint8_t> bytes);

/// Decodes hex (either case, no separators, even length) of any length.
Result<std::vector<std::uint8_t>> from_hex(std::string_view hex);

/// Decodes exactly `2 * out.size()` hex digits into `out`.
Result<void> from_hex_into(std::string_view hex, std::span<std::uint8_t> out);

}  // namespace sotto
