#include <sotto/flashlog/flash_log.hpp>

#include "format.hpp"

namespace sotto::flashlog {

using namespace detail;
namespace sp = sotto::portable;

struct FlashLog::PageInfo {
    bool valid = false;  // header authenticated
    bool blank = false;  // header bytes all 0xFF
    std::uint32_t seq = 0, day = 0, oldest = 0;
};

namespace {

// MAC domain for a record or header: page index, sequence, offset.
void mac_context(sp::HmacSha256& mac, std::uint8_t what, std::size_t page, std::uint32_t seq,
                 std::size_t off) {
    std::uint8_t ctx[13];
    ctx[0] = what;
    put32(ctx + 1, static_cast<std::uint32_t>(page));
    put32(ctx + 5, seq);
    put32(ctx + 9, static_cast<std::uint32_t>(off));
    mac.update(ctx);
}

void record_iv(std::uint8_t iv[16], std::size_t page, std::uint32_t seq, std::size_t off) {
    put32(iv, seq);
    put32(iv + 4, static_cast<std::uint32_t>(off));
    put32(iv + 8, static_cast<std::uint32_t>(page));
    put32(iv + 12, 0);
}

constexpr std::size_t kChunk = 96;  // 4 rows, 6 AES blocks

}  // namespace

FlashLog::~FlashLog() {
    sp::wipe(slot_enc_, sizeof slot_enc_);
    sp::wipe(slot_mac_, sizeof slot_mac_);
    sp::wipe(log_key_, sizeof log_key_);
    sp::wipe(pairing_key_, sizeof pairing_key_);
    sp::wipe(enc_, sizeof enc_);
    sp::wipe(mac_, sizeof mac_);
}

std::size_t FlashLog::rows_per_page() const noexcept {
    return (page_size_ - kPageHeader - kRecordOverhead) / kRowBytes;
}

void FlashLog::derive_page_keys() noexcept {
    static constexpr std::uint8_t kInfo[] = {'s', 'o', 't', 't', 'o', '-', 'l', 'o', 'g'};
    std::uint8_t k[48];
    sp::hkdf_sha256(log_key_, {}, kInfo, k);
    std::memcpy(enc_, k, 16);
    std::memcpy(mac_, k + 16, 32);
    sp::wipe(k, sizeof k);
}

Result<FlashLog> FlashLog::open(FlashDevice& flash, std::span<const std::uint8_t, 32> device_key,
                                core::Rng& rng, std::uint32_t retention_days) noexcept {
    const std::size_t ps = flash.page_size();
    if (ps < 256 || ps > 65536 || ps % 16 != 0 || flash.page_count() < kKeyPages + 2 ||
        retention_days == 0 || retention_days > 3650)
        return make_error(ErrorCode::kInvalidArgument, "flashlog: unusable flash geometry");
    FlashLog log;
    log.flash_ = &flash;
    log.rng_ = &rng;
    log.retention_days_ = retention_days;
    log.page_size_ = ps;
    log.pages_ = flash.page_count();
    if (auto r = log.load_keys(device_key); !r) return r.error();
    if (auto r = log.scan(); !r) return r.error();
    return log;
}

// ---- Pages ------------------------------------------------------------------------------------

bool FlashLog::read_header(std::size_t page, PageInfo& info) noexcept {
    std::uint8_t h[kPageHeader];
    info = PageInfo{};
    if (!flash_->read(page * page_size_, h)) return false;
    info.blank = all_ff(h, sizeof h);
    if (std::memcmp(h, kPageMagic, 4) != 0 || h[4] != 1) return true;
    std::uint8_t tag[32];
    sp::HmacSha256 mac(mac_);
    mac_context(mac, 'P', page, 0, 0);
    mac.update(std::span<const std::uint8_t>(h, 24));
    mac.finish(tag);
    if (!sp::equal_ct(tag, h + 24, 16)) return true;
    info.valid = true;
    info.seq = get32(h + 8);
    info.day = get32(h + 12);
    info.oldest = get32(h + 16);
    return true;
}

Result<void> FlashLog::scan() noexcept {
    has_head_ = false;
    PageInfo info;
    for (std::size_t p = kKeyPages; p < pages_; ++p) {
        if (!read_header(p, info)) return io();
        if (info.valid && (!has_head_ || info.seq > head_seq_)) {
            has_head_ = true;
            head_page_ = p;
            head_seq_ = info.seq;
            head_day_ = info.day;
            oldest_seq_ = info.oldest;
        }
    }
    head_closed_ = false;
    head_off_ = kPageHeader;
    if (has_head_) {
        // Walk the head's records: the free space starts after the last good one; oldest-page
        // markers raise the floor.
        std::uint8_t buf[kChunk];
        const std::size_t base = head_page_ * page_size_;
        while (head_off_ + kRecordOverhead <= page_size_) {
            if (!flash_->read(base + head_off_, std::span<std::uint8_t>(buf, 4))) return io();
            if (all_ff(buf, 4)) break;
            const std::size_t len = buf[0] | (std::size_t{buf[1]} << 8);
            const std::uint8_t kind = buf[2];
            const std::size_t total = 4 + align4(len) + 16;
            bool good = kind >= kTek && kind <= kOldest && head_off_ + total <= page_size_;
            if (good) {
                sp::HmacSha256 mac(mac_);
                mac_context(mac, 'R', head_page_, head_seq_, head_off_);
                mac.update(std::span<const std::uint8_t>(buf, 4));
                std::uint8_t payload[8] = {};
                for (std::size_t o = 0; o < len; o += kChunk) {
                    const std::size_t n = len - o < kChunk ? len - o : kChunk;
                    if (!flash_->read(base + head_off_ + 4 + o, std::span<std::uint8_t>(buf, n)))
                        return io();
                    mac.update(std::span<const std::uint8_t>(buf, n));
                    if (o == 0 && kind == kOldest && n == 4) std::memcpy(payload, buf, 4);
                }
                std::uint8_t tag[32], stored[16];
                mac.finish(tag);
                if (!flash_->read(base + head_off_ + 4 + align4(len), stored)) return io();
                good = sp::equal_ct(tag, stored, 16);
                if (good && kind == kOldest && len == 4) {
                    std::uint8_t iv[16];
                    record_iv(iv, head_page_, head_seq_, head_off_);
                    const sp::Aes128 aes(std::span<const std::uint8_t, 16>(enc_, 16));
                    aes.ctr(iv, payload, payload, 4);
                    const std::uint32_t o = get32(payload);
                    if (o > oldest_seq_ && o <= head_seq_) oldest_seq_ = o;
                }
            }
            if (!good) {
                head_closed_ = true;  // torn by a power cut: never append after it
                break;
            }
            head_off_ += total;
        }
        if (!head_closed_ && head_off_ < page_size_) {
            // The free space must really be erased (a torn write may have left bits behind).
            for (std::size_t o = head_off_; o < page_size_ && !head_closed_; o += kChunk) {
                const std::size_t n = page_size_ - o < kChunk ? page_size_ - o : kChunk;
                if (!flash_->read(base + o, std::span<std::uint8_t>(buf, n))) return io();
                if (!all_ff(buf, n)) head_closed_ = true;
            }
        }
    }
    // Erase what is torn, stale (below the floor: dropped by retention, or a replayed old copy)
    // or sealed under another key.
    for (std::size_t p = kKeyPages; p < pages_; ++p) {
        if (!read_header(p, info)) return io();
        const bool live =
            info.valid && has_head_ && info.seq >= oldest_seq_ && info.seq <= head_seq_;
        bool dirty = !live && !info.blank;
        if (!live && info.blank) {  // a torn erase can leave 0xFF at the start only
            std::uint8_t buf[kChunk];
            for (std::size_t o = 0; o < page_size_ && !dirty; o += kChunk) {
                const std::size_t n = page_size_ - o < kChunk ? page_size_ - o : kChunk;
                if (!flash_->read(p * page_size_ + o, std::span<std::uint8_t>(buf, n))) return io();
                dirty = !all_ff(buf, n);
            }
        }
        if (dirty && !flash_->erase(p)) return io();
    }
    return ok();
}

// Starts a fresh page for `day` after the head (the ring's next page), dropping the oldest page
// if the ring is full.
Result<void> FlashLog::open_page(std::uint32_t day) noexcept {
    const std::size_t ring = pages_ - kKeyPages;
    const std::size_t target =
        has_head_ ? kKeyPages + (head_page_ - kKeyPages + 1) % ring : kKeyPages;
    const std::uint32_t seq = has_head_ ? head_seq_ + 1 : 1;
    PageInfo info;
    if (!read_header(target, info)) return io();
    if (info.valid && has_head_ && info.seq >= oldest_seq_ && info.seq <= head_seq_)
        ++dropped_pages_;  // full: the ring's next page is the oldest
    // The new floor: the oldest live page other than the target.
    std::uint32_t oldest = seq;
    for (std::size_t p = kKeyPages; p < pages_; ++p) {
        if (p == target) continue;
        if (!read_header(p, info)) return io();
        if (info.valid && has_head_ && info.seq >= oldest_seq_ && info.seq <= head_seq_ &&
            info.seq < oldest)
            oldest = info.seq;
    }
    std::uint8_t h[kPageHeader];
    std::memset(h, 0, sizeof h);
    std::memcpy(h, kPageMagic, 4);
    h[4] = 1;
    put32(h + 8, seq);
    put32(h + 12, day);
    put32(h + 16, oldest);
    std::uint8_t tag[32];
    sp::HmacSha256 mac(mac_);
    mac_context(mac, 'P', target, 0, 0);
    mac.update(std::span<const std::uint8_t>(h, 24));
    mac.finish(tag);
    std::memcpy(h + 24, tag, 16);
    // Erase only what is not blank already (retention erased it): each lap costs one erase.
    bool blank = true;
    std::uint8_t buf[kChunk];
    for (std::size_t o = 0; o < page_size_ && blank; o += kChunk) {
        const std::size_t n = page_size_ - o < kChunk ? page_size_ - o : kChunk;
        if (!flash_->read(target * page_size_ + o, std::span<std::uint8_t>(buf, n))) return io();
        blank = all_ff(buf, n);
    }
    if ((!blank && !flash_->erase(target)) || !flash_->program(target * page_size_, h)) {
        head_closed_ = true;  // the target is torn; the next attempt moves on
        return io();
    }
    has_head_ = true;
    head_closed_ = false;
    head_page_ = target;
    head_seq_ = seq;
    head_day_ = day;
    head_off_ = kPageHeader;
    oldest_seq_ = oldest;
    return ok();
}

Result<void> FlashLog::ensure_room(std::uint32_t day, std::size_t payload_len) noexcept {
    if (has_head_ && day < head_day_)
        return make_error(ErrorCode::kInvalidArgument, "flashlog: day older than the log's newest");
    const std::size_t need = 4 + align4(payload_len) + 16;
    if (has_head_ && !head_closed_ && day == head_day_ && head_off_ + need <= page_size_)
        return ok();
    return open_page(day);
}

Result<void> FlashLog::write_record(std::uint8_t kind, const std::uint8_t* payload, std::size_t len,
                                    const HeardRow* rows) noexcept {
    const std::size_t base = head_page_ * page_size_ + head_off_;
    std::uint8_t iv[16];
    record_iv(iv, head_page_, head_seq_, head_off_);
    const sp::Aes128 aes(std::span<const std::uint8_t, 16>(enc_, 16));
    sp::HmacSha256 mac(mac_);
    mac_context(mac, 'R', head_page_, head_seq_, head_off_);
    std::uint8_t buf[4 + kChunk];
    buf[0] = static_cast<std::uint8_t>(len);
    buf[1] = static_cast<std::uint8_t>(len >> 8);
    buf[2] = kind;
    buf[3] = 0;
    mac.update(std::span<const std::uint8_t>(buf, 4));
    std::size_t pre = 4;  // the first program carries the record header
    bool good = true;
    for (std::size_t o = 0; o < len && good; o += kChunk) {
        const std::size_t n = len - o < kChunk ? len - o : kChunk;
        std::uint8_t* chunk = buf + pre;
        if (rows != nullptr) {
            for (std::size_t i = 0; i < n / kRowBytes; ++i)
                encode_row(rows[o / kRowBytes + i], chunk + i * kRowBytes);
        } else {
            std::memcpy(chunk, payload + o, n);
        }
        ctr_at(aes, iv, o, chunk, n);
        mac.update(std::span<const std::uint8_t>(chunk, n));
        const std::size_t padded = align4(pre + n);
        std::memset(buf + pre + n, 0xff, padded - pre - n);
        good = flash_->program(base + (o == 0 ? 0 : 4 + o),
                               std::span<const std::uint8_t>(buf, padded));
        pre = 0;
    }
    if (good && len == 0) good = flash_->program(base, std::span<const std::uint8_t>(buf, 4));
    std::uint8_t tag[32];
    mac.finish(tag);
    if (good)
        good = flash_->program(base + 4 + align4(len), std::span<const std::uint8_t>(tag, 16));
    sp::wipe(buf, sizeof buf);
    if (!good) {
        head_closed_ = true;
        return io();
    }
    head_off_ += 4 + align4(len) + 16;
    return ok();
}

Result<void> FlashLog::put_tek(const core::ExposureKey& key) noexcept {
    if (key.rolling_period == 0 || key.rolling_period > core::kTekRollingPeriod)
        return make_error(ErrorCode::kInvalidArgument, "flashlog: bad rolling period");
    const std::uint32_t day = key.rolling_start / core::kTekRollingPeriod;
    if (auto r = ensure_room(day, kTekPayload); !r) return r;
    std::uint8_t p[kTekPayload];
    put32(p, key.rolling_start);
    p[4] = static_cast<std::uint8_t>(key.rolling_period - 1);
    std::memcpy(p + 5, key.tek.expose_secret().data(), 16);
    auto r = write_record(kTek, p, sizeof p, nullptr);
    sp::wipe(p, sizeof p);
    return r;
}

Result<void> FlashLog::append(std::uint32_t day, std::span<const HeardRow> rows) noexcept {
    for (const HeardRow& r : rows)
        if (r.interval >= core::kTekRollingPeriod)
            return make_error(ErrorCode::kInvalidArgument, "flashlog: interval beyond 143");
    const std::size_t per_page = rows_per_page();
    while (!rows.empty()) {
        std::size_t fit = 0;
        if (has_head_ && !head_closed_ && day == head_day_ &&
            head_off_ + kRecordOverhead + kRowBytes <= page_size_)
            fit = (page_size_ - head_off_ - kRecordOverhead) / kRowBytes;
        const std::size_t n =
            rows.size() < (fit ? fit : per_page) ? rows.size() : (fit ? fit : per_page);
        if (auto r = ensure_room(day, n * kRowBytes); !r) return r;
        if (auto r = write_record(kRows, nullptr, n * kRowBytes, rows.data()); !r) return r;
        rows = rows.subspan(n);
    }
    return ok();
}

Result<void> FlashLog::apply_retention(std::uint32_t today) noexcept {
    const std::uint32_t first_kept =
        today >= retention_days_ - 1 ? today - (retention_days_ - 1) : 0;
    if (!has_head_) return ok();
    if (head_day_ < first_kept) {  // everything expired: keep the sequence going on a new page
        if (auto r = open_page(today); !r) return r;
    }
    // The new floor: the lowest sequence among pages that stay.
    std::uint32_t floor = head_seq_;
    bool drop = false;
    PageInfo info;
    for (std::size_t p = kKeyPages; p < pages_; ++p) {
        if (!read_header(p, info)) return io();
        if (!info.valid || info.seq < oldest_seq_ || info.seq > head_seq_) continue;
        if (info.day < first_kept)
            drop = true;
        else if (info.seq < floor)
            floor = info.seq;
    }
    if (!drop) return ok();
    // Record the floor first (authenticated), then erase: a page erased later can't come back.
    std::uint8_t p4[4];
    put32(p4, floor);
    if (has_head_ && !head_closed_ && head_off_ + 4 + 4 + 16 <= page_size_) {
        if (auto r = write_record(kOldest, p4, 4, nullptr); !r) return r;
        oldest_seq_ = floor;
    } else {
        if (auto r = open_page(head_day_); !r) return r;  // its header carries the floor
    }
    if (floor > oldest_seq_) oldest_seq_ = floor;
    for (std::size_t p = kKeyPages; p < pages_; ++p) {
        if (!read_header(p, info)) return io();
        if (info.valid && info.seq < oldest_seq_ && !flash_->erase(p)) return io();
    }
    return ok();
}

// ---- Reading ----------------------------------------------------------------------------------

Result<void> FlashLog::walk(LogVisitor& visitor, bool count_only, LogStats* stats) noexcept {
    if (!has_head_) return ok();
    PageInfo info;
    const sp::Aes128 aes(std::span<const std::uint8_t, 16>(enc_, 16));
    // Pages are taken in ring order, so from the one after the head round to the head the live
    // ones come oldest first.
    const std::size_t ring = pages_ - kKeyPages;
    for (std::size_t step = 1; step <= ring; ++step) {
        const std::size_t page = kKeyPages + (head_page_ - kKeyPages + step) % ring;
        if (!read_header(page, info)) return io();
        if (!info.valid || info.seq < oldest_seq_ || info.seq > head_seq_) continue;
        const std::uint32_t best = info.seq;
        if (stats != nullptr) ++stats->live_pages;
        const std::size_t base = page * page_size_;
        std::size_t off = kPageHeader;
        std::uint8_t buf[kChunk];
        while (off + kRecordOverhead <= page_size_) {
            if (!flash_->read(base + off, std::span<std::uint8_t>(buf, 4))) return io();
            if (all_ff(buf, 4)) break;
            const std::size_t len = buf[0] | (std::size_t{buf[1]} << 8);
            const std::uint8_t kind = buf[2];
            const std::size_t total = 4 + align4(len) + 16;
            if (kind < kTek || kind > kOldest || off + total > page_size_) break;
            if ((kind == kTek && len != kTekPayload) || (kind == kRows && len % kRowBytes != 0))
                break;
            // Authenticate first, then decrypt in a second pass.
            sp::HmacSha256 mac(mac_);
            mac_context(mac, 'R', page, best, off);
            mac.update(std::span<const std::uint8_t>(buf, 4));
            for (std::size_t o = 0; o < len; o += kChunk) {
                const std::size_t n = len - o < kChunk ? len - o : kChunk;
                if (!flash_->read(base + off + 4 + o, std::span<std::uint8_t>(buf, n))) return io();
                mac.update(std::span<const std::uint8_t>(buf, n));
            }
            std::uint8_t tag[32], stored[16];
            mac.finish(tag);
            if (!flash_->read(base + off + 4 + align4(len), stored)) return io();
            if (!sp::equal_ct(tag, stored, 16)) break;  // torn: the page ends here
            std::uint8_t iv[16];
            record_iv(iv, page, best, off);
            for (std::size_t o = 0; o < len; o += kChunk) {
                const std::size_t n = len - o < kChunk ? len - o : kChunk;
                if (!flash_->read(base + off + 4 + o, std::span<std::uint8_t>(buf, n))) return io();
                ctr_at(aes, iv, o, buf, n);
                if (kind == kTek) {
                    if (stats != nullptr) ++stats->teks;
                    if (!count_only) {
                        core::ExposureKey key;
                        key.rolling_start = get32(buf);
                        key.rolling_period = std::uint32_t{buf[4]} + 1;
                        std::memcpy(key.tek.expose_secret_mut().data(), buf + 5, 16);
                        const bool go = visitor.on_tek(key);
                        sp::wipe(buf, sizeof buf);
                        if (!go) return ok();
                    }
                } else if (kind == kRows) {
                    HeardRow rows[kChunk / kRowBytes];
                    for (std::size_t i = 0; i < n / kRowBytes; ++i)
                        rows[i] = decode_row(buf + i * kRowBytes);
                    if (stats != nullptr) stats->rows += n / kRowBytes;
                    if (!count_only &&
                        !visitor.on_rows(info.day, std::span<const HeardRow>(rows, n / kRowBytes)))
                        return ok();
                }
            }
            off += total;
        }
    }
    return ok();
}

Result<void> FlashLog::visit(LogVisitor& visitor) noexcept { return walk(visitor, false, nullptr); }

Result<LogStats> FlashLog::stats() noexcept {
    struct None final : LogVisitor {
        bool on_tek(const core::ExposureKey&) noexcept override { return true; }
        bool on_rows(std::uint32_t, std::span<const HeardRow>) noexcept override { return true; }
    } none;
    LogStats s;
    s.pages = pages_ - kKeyPages;
    s.dropped_pages = dropped_pages_;
    s.export_sequence = export_seq_;
    s.paired = paired_ != 0;
    if (auto r = walk(none, true, &s); !r) return r.error();
    return s;
}

}  // namespace sotto::flashlog
