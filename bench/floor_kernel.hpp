#pragma once
// The floor of `sotto-bench floor`: a minimal implementation of the per-key work of matching
// without lookups. Per key: HKDF-SHA256(TEK, no salt, "EN-RPIK", 16) on SHA-NI with four keys'
// compressions interleaved, then an AES-128 key expansion and 144 AES blocks (the key's PaddedData)
// on the widest AES instructions of the chosen path. Nothing else: no filter, no table, no checks,
// no wiping, no per-key bookkeeping. Its RPIs are checked against sotto's before it is timed.

#include <cstddef>
#include <cstdint>

namespace sotto::bench {

/// The AES width the floor runs: the same instruction set as the matcher it is compared with.
enum class FloorAes { kVaes512, kVaes256, kAesNi };

/// True when this CPU has SHA-NI and the AES instructions of `aes`.
bool floor_supported(FloorAes aes) noexcept;

/// Derives the 144 RPIs of 4 keys: `teks[k]` (16 bytes each), PaddedData blocks `blocks[k]`
/// (144 x 16 bytes), RPIs into `out + 144 * 16 * k`.
void floor_four_keys(FloorAes aes, const std::uint8_t* const teks[4],
                     const std::uint8_t* const blocks[4], std::uint8_t* out) noexcept;

}  // namespace sotto::bench
