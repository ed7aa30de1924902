#pragma once
/// \file
/// Host side of the token hand-over: opens a token's export stream (FlashLog::export_to) with the
/// pairing key. Pure: bytes in, keys and rows out.

#include <cstdint>
#include <span>
#include <vector>

#include <sotto/core/keys.hpp>
#include <sotto/flashlog/flash_log.hpp>
#include <sotto/result.hpp>

namespace sotto::flashlog {

/// Largest export accepted (a token with 1 MiB of log, with room to spare).
inline constexpr std::size_t kMaxExportBytes = 4u << 20;

struct TokenExport {
    std::array<std::uint8_t, 8> token_id{};
    std::uint32_t sequence = 0;  ///< increases with every export of this token
    std::vector<core::ExposureKey> teks;
    struct DayRows {
        std::uint32_t day = 0;
        HeardRow row;
    };
    std::vector<DayRows> rows;
};

/// Authenticates the whole stream before decrypting anything. kAuthenticationFailed for a wrong
/// pairing key or any changed, cut or appended byte; kInvalidArgument for something that is not
/// an export (bad magic, larger than kMaxExportBytes); kStorageCorrupt for an authentic stream
/// that does not parse (a token bug). Never exposes partial data.
Result<TokenExport> read_export(std::span<const std::uint8_t> stream,
                                std::span<const std::uint8_t, 32> pairing_key);

}  // namespace sotto::flashlog
