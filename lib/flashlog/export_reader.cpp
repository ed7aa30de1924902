#include <sotto/flashlog/export_reader.hpp>

#include "format.hpp"

namespace sotto::flashlog {

using namespace detail;
namespace sp = sotto::portable;

Result<TokenExport> read_export(std::span<const std::uint8_t> stream,
                                std::span<const std::uint8_t, 32> pairing_key) {
    if (stream.size() > kMaxExportBytes)
        return make_error(ErrorCode::kInvalidArgument, "token export: too large");
    if (stream.size() < kExportHeader + kExportTag ||
        std::memcmp(stream.data(), kExportMagic, 8) != 0)
        return make_error(ErrorCode::kInvalidArgument, "token export: not a sotto token export");
    std::uint8_t keys[48];
    export_keys(pairing_key, stream.data(), keys);
    const std::size_t body_len = stream.size() - kExportHeader - kExportTag;
    std::uint8_t tag[32];
    {
        sp::HmacSha256 mac(std::span<const std::uint8_t>(keys + 16, 32));
        mac.update(stream.first(stream.size() - kExportTag));
        mac.finish(tag);
    }
    if (!sp::equal_ct(tag, stream.data() + stream.size() - kExportTag, kExportTag)) {
        sp::wipe(keys, sizeof keys);
        return make_error(ErrorCode::kAuthenticationFailed,
                          "token export: authentication failed (wrong pairing key or altered)");
    }
    std::vector<std::uint8_t> body(
        stream.begin() + kExportHeader,
        stream.begin() + static_cast<std::ptrdiff_t>(kExportHeader + body_len));
    {
        const sp::Aes128 aes(std::span<const std::uint8_t, 16>(keys, 16));
        const std::uint8_t iv[16] = {};
        aes.ctr(iv, body.data(), body.data(), body.size());
    }
    sp::wipe(keys, sizeof keys);
    TokenExport out;
    std::memcpy(out.token_id.data(), stream.data() + 8, 8);
    out.sequence = get32(stream.data() + 16);
    auto corrupt = [] {
        return make_error(ErrorCode::kStorageCorrupt, "token export: malformed body");
    };
    std::size_t off = 0;
    std::uint32_t entries = 0;
    bool ended = false;
    while (off < body.size()) {
        if (ended || body.size() - off < kEntryHeader) return corrupt();
        const std::uint8_t kind = body[off];
        const std::uint32_t day = get32(&body[off + 1]);
        const std::size_t len = body[off + 5] | (std::size_t{body[off + 6]} << 8);
        off += kEntryHeader;
        if (body.size() - off < len) return corrupt();
        const std::uint8_t* p = body.data() + off;
        if (kind == kTek) {
            if (len != kTekPayload) return corrupt();
            core::ExposureKey k;
            k.rolling_start = get32(p);
            k.rolling_period = std::uint32_t{p[4]} + 1;
            std::memcpy(k.tek.expose_secret_mut().data(), p + 5, 16);
            if (k.rolling_period > core::kTekRollingPeriod ||
                k.rolling_start / core::kTekRollingPeriod != day)
                return corrupt();
            out.teks.push_back(std::move(k));
        } else if (kind == kRows) {
            if (len % kRowBytes != 0) return corrupt();
            for (std::size_t i = 0; i < len; i += kRowBytes) {
                HeardRow r = decode_row(p + i);
                if (r.interval >= core::kTekRollingPeriod) return corrupt();
                out.rows.push_back({day, r});
            }
        } else if (kind == kEntryEnd) {
            if (len != 4 || get32(p) != entries) return corrupt();
            ended = true;
        } else {
            return corrupt();
        }
        if (kind != kEntryEnd) ++entries;
        off += len;
    }
    sp::wipe(body.data(), body.size());
    if (!ended) return corrupt();
    return out;
}

}  // namespace sotto::flashlog
