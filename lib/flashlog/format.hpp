#pragma once
// Internal: byte layouts of the flash log and the export stream (docs/embedded.md), and the
// sealing helpers shared by the token (flash_log.cpp, export) and the host reader.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include <sotto/core/portable_crypto.hpp>
#include <sotto/flashlog/flash_log.hpp>

namespace sotto::flashlog::detail {

inline void put32(std::uint8_t* p, std::uint32_t v) noexcept {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
inline std::uint32_t get32(const std::uint8_t* p) noexcept {
    return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
           (std::uint32_t{p[3]} << 24);
}
inline std::size_t align4(std::size_t n) noexcept { return (n + 3) & ~std::size_t{3}; }
inline bool all_ff(const std::uint8_t* p, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i)
        if (p[i] != 0xff) return false;
    return true;
}
inline auto io() noexcept {
    return make_error(ErrorCode::kStorageIo, "flashlog: flash operation failed");
}

// Key record, at offset 0 of a key page.
inline constexpr std::uint8_t kKeyMagic[4] = {'S', 'K', 'Y', '1'};
inline constexpr std::size_t kKeyPayload =
    32 + 8 + 32 + 4 + 4;  // log key, token id, pairing, flags, export seq
inline constexpr std::size_t kKeyRecord = 8 + 16 + kKeyPayload + 16;

// Page header.
inline constexpr std::uint8_t kPageMagic[4] = {'S', 'L', 'G', '1'};
inline constexpr std::size_t kPageHeader = 40;  // magic, version/kind, seq, day, oldest, pad, tag
// Record: 4-byte header (length LE16, kind, 0), ciphertext padded to 4, 16-byte tag.
inline constexpr std::size_t kRecordOverhead = 4 + 16;
enum RecordKind : std::uint8_t { kTek = 1, kRows = 2, kOldest = 3 };
inline constexpr std::size_t kTekPayload = 4 + 1 + 16;  // rolling start, period - 1, TEK

inline void encode_row(const HeardRow& r, std::uint8_t* out) noexcept {
    out[0] = r.interval;
    std::memcpy(out + 1, r.rpi.bytes.data(), 16);
    std::memcpy(out + 17, r.aem.bytes.data(), 4);
    out[21] = static_cast<std::uint8_t>(r.rssi_max);
    out[22] = static_cast<std::uint8_t>(r.rssi_mean);
    out[23] = r.count;
}
inline HeardRow decode_row(const std::uint8_t* in) noexcept {
    HeardRow r;
    r.interval = in[0];
    std::memcpy(r.rpi.bytes.data(), in + 1, 16);
    std::memcpy(r.aem.bytes.data(), in + 17, 4);
    r.rssi_max = static_cast<std::int8_t>(in[21]);
    r.rssi_mean = static_cast<std::int8_t>(in[22]);
    r.count = in[23];
    return r;
}

// Export stream: header, AES-128-CTR body of entries, HMAC-SHA256 tag over header and body.
inline constexpr std::uint8_t kExportMagic[8] = {'S', 'O', 'T', 'T', 'O', 'T', 'K', '1'};
inline constexpr std::size_t kExportHeader = 8 + 8 + 4 + 4;  // magic, token id, sequence, zero
inline constexpr std::size_t kExportTag = 32;
inline constexpr std::uint8_t kEntryEnd = 0xff;
inline constexpr std::size_t kEntryHeader = 1 + 4 + 2;  // kind, day, payload length

/// enc (16) || mac (32) for the export with this header.
inline void export_keys(std::span<const std::uint8_t, 32> pairing_key, const std::uint8_t* header,
                        std::uint8_t out[48]) noexcept {
    static constexpr std::uint8_t kInfo[] = {'s', 'o', 't', 't', 'o', '-', 't', 'o', 'k',
                                             'e', 'n', '-', 'e', 'x', 'p', 'o', 'r', 't'};
    portable::hkdf_sha256(pairing_key, std::span<const std::uint8_t>(header + 8, 12), kInfo,
                          std::span<std::uint8_t>(out, 48));
}

/// CTR over `len` bytes that start `offset` bytes (a multiple of 16) into the stream.
inline void ctr_at(const portable::Aes128& aes, const std::uint8_t iv[16], std::size_t offset,
                   std::uint8_t* data, std::size_t len) noexcept {
    std::uint8_t ctr[16];
    std::memcpy(ctr, iv, 16);
    std::uint64_t add = offset / 16;
    for (int i = 15; i >= 0 && add != 0; --i) {  // big-endian add of the block index
        const std::uint64_t s = std::uint64_t{ctr[i]} + (add & 0xff);
        ctr[i] = static_cast<std::uint8_t>(s);
        add = (add >> 8) + (s >> 8);
    }
    aes.ctr(ctr, data, data, len);
}

}  // namespace sotto::flashlog::detail
