// FlashLog::export_to: the log as an authenticated, encrypted stream for the paired host.
#include <sotto/flashlog/flash_log.hpp>

#include "format.hpp"

namespace sotto::flashlog {

using namespace detail;
namespace sp = sotto::portable;

namespace {

// Encrypts and authenticates what it is given, passing ciphertext to the sink.
class StreamSealer final : public LogVisitor {
public:
    StreamSealer(const std::uint8_t keys[48], ExportSink sink, void* ctx) noexcept
        : aes_(std::span<const std::uint8_t, 16>(keys, 16)),
          mac_(std::span<const std::uint8_t>(keys + 16, 32)),
          sink_(sink),
          ctx_(ctx) {}

    bool raw(const std::uint8_t* p, std::size_t n) noexcept {  // the plain header
        mac_.update(std::span<const std::uint8_t>(p, n));
        return ok_ = ok_ && sink_(ctx_, p, n);
    }
    // Plaintext in; CTR keystream position follows the body offset.
    bool body(const std::uint8_t* p, std::size_t n) noexcept {
        std::uint8_t buf[64];
        while (n > 0 && ok_) {
            const std::size_t in_block = offset_ % 16;
            std::size_t take = 64 - in_block;
            if (take > n) take = n;
            std::uint8_t tmp[80];
            std::memset(tmp, 0, in_block);
            std::memcpy(tmp + in_block, p, take);
            ctr_at(aes_, iv_, offset_ - in_block, tmp, in_block + take);
            std::memcpy(buf, tmp + in_block, take);
            sp::wipe(tmp, sizeof tmp);
            mac_.update(std::span<const std::uint8_t>(buf, take));
            ok_ = sink_(ctx_, buf, take);
            offset_ += take;
            p += take;
            n -= take;
        }
        return ok_;
    }
    bool entry(std::uint8_t kind, std::uint32_t day, const std::uint8_t* payload,
               std::size_t len) noexcept {
        std::uint8_t h[kEntryHeader];
        h[0] = kind;
        put32(h + 1, day);
        h[5] = static_cast<std::uint8_t>(len);
        h[6] = static_cast<std::uint8_t>(len >> 8);
        ++entries_;
        return body(h, sizeof h) && body(payload, len);
    }
    bool on_tek(const core::ExposureKey& key) noexcept override {
        std::uint8_t p[kTekPayload];
        put32(p, key.rolling_start);
        p[4] = static_cast<std::uint8_t>(key.rolling_period - 1);
        std::memcpy(p + 5, key.tek.expose_secret().data(), 16);
        const bool good = entry(kTek, key.rolling_start / core::kTekRollingPeriod, p, sizeof p);
        sp::wipe(p, sizeof p);
        return good;
    }
    bool on_rows(std::uint32_t day, std::span<const HeardRow> rows) noexcept override {
        std::uint8_t p[4 * kRowBytes];
        bool good = true;
        for (std::size_t i = 0; i < rows.size() && good; i += 4) {
            const std::size_t n = rows.size() - i < 4 ? rows.size() - i : 4;
            for (std::size_t j = 0; j < n; ++j) encode_row(rows[i + j], p + j * kRowBytes);
            good = entry(kRows, day, p, n * kRowBytes);
        }
        return good;
    }
    bool finish() noexcept {
        std::uint8_t count[4];
        put32(count, entries_);
        if (!entry(kEntryEnd, 0, count, 4)) return false;
        std::uint8_t tag[32];
        mac_.finish(tag);
        return ok_ && sink_(ctx_, tag, sizeof tag);
    }
    bool good() const noexcept { return ok_; }

private:
    sp::Aes128 aes_;
    sp::HmacSha256 mac_;
    ExportSink sink_;
    void* ctx_;
    std::uint8_t iv_[16] = {};  // the key is fresh per export: a zero IV is safe
    std::size_t offset_ = 0;
    std::uint32_t entries_ = 0;
    bool ok_ = true;
};

}  // namespace

Result<void> FlashLog::export_to(ExportSink sink, void* context) noexcept {
    if (paired_ == 0)
        return make_error(ErrorCode::kFailedPrecondition, "flashlog: not paired with a host");
    ++export_seq_;  // committed before anything leaves the token
    if (auto r = write_key_record(); !r) {
        --export_seq_;
        return r;
    }
    std::uint8_t header[kExportHeader] = {};
    std::memcpy(header, kExportMagic, 8);
    std::memcpy(header + 8, token_id_, 8);
    put32(header + 16, export_seq_);
    std::uint8_t keys[48];
    export_keys(std::span<const std::uint8_t, 32>(pairing_key_, 32), header, keys);
    StreamSealer sealer(keys, sink, context);
    sp::wipe(keys, sizeof keys);
    if (!sealer.raw(header, sizeof header))
        return make_error(ErrorCode::kStorageIo, "flashlog: export sink refused");
    if (auto r = visit(sealer); !r) return r;
    if (!sealer.good() || !sealer.finish())
        return make_error(ErrorCode::kStorageIo, "flashlog: export sink refused");
    return ok();
}

}  // namespace sotto::flashlog
