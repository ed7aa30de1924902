// FlashLog's key record: the A/B slots holding the log key, token id, pairing key and export
// sequence, sealed under the device key; pairing and "forget me" (crypto-shredding).
#include <sotto/flashlog/flash_log.hpp>

#include "format.hpp"

namespace sotto::flashlog {

using namespace detail;
namespace sp = sotto::portable;

Result<void> FlashLog::load_keys(std::span<const std::uint8_t, 32> device_key) noexcept {
    static constexpr std::uint8_t kInfo[] = {'s', 'o', 't', 't', 'o', '-', 'k', 'e', 'y', 's'};
    std::uint8_t k[48];
    sp::hkdf_sha256(device_key, {}, kInfo, k);
    std::memcpy(slot_enc_, k, 16);
    std::memcpy(slot_mac_, k + 16, 32);
    sp::wipe(k, sizeof k);

    std::uint8_t rec[kKeyRecord];
    std::uint32_t gen[kKeyPages] = {};
    bool valid[kKeyPages] = {};
    for (std::size_t s = 0; s < kKeyPages; ++s) {
        if (!flash_->read(s * page_size_, rec)) return io();
        if (std::memcmp(rec, kKeyMagic, 4) != 0) continue;
        std::uint8_t tag[32];
        sp::HmacSha256 mac(slot_mac_);
        mac.update(std::span<const std::uint8_t>(rec, kKeyRecord - 16));
        mac.finish(tag);
        valid[s] = sp::equal_ct(tag, rec + kKeyRecord - 16, 16);
        gen[s] = get32(rec + 4);
    }
    std::size_t best = kKeyPages;
    for (std::size_t s = 0; s < kKeyPages; ++s)
        if (valid[s] && (best == kKeyPages || gen[s] > gen[best])) best = s;
    if (best == kKeyPages) {
        // No key: a blank chip, or one whose key was shredded. Nothing here can be read.
        for (std::size_t p = 0; p < pages_; ++p) {
            if (!flash_->read(p * page_size_, std::span<std::uint8_t>(rec, 8))) return io();
            if (!all_ff(rec, 8) && !flash_->erase(p)) return io();
            // A torn erase may leave 0xFF at the start and data after it: erase anyway.
        }
        rng_->fill(log_key_);
        rng_->fill(token_id_);
        generation_ = 0;
        slot_ = 1;
        if (auto r = write_key_record(); !r) return r;
        derive_page_keys();
        return ok();
    }
    // Finish an interrupted update: only the newest record may stay.
    for (std::size_t s = 0; s < kKeyPages; ++s)
        if (s != best) {
            if (!flash_->read(s * page_size_, std::span<std::uint8_t>(rec, 8))) return io();
            if (!all_ff(rec, 8) && !flash_->erase(s)) return io();
        }
    if (!flash_->read(best * page_size_, rec)) return io();
    std::uint8_t payload[kKeyPayload];
    std::memcpy(payload, rec + 24, kKeyPayload);
    const sp::Aes128 aes(std::span<const std::uint8_t, 16>(slot_enc_, 16));
    aes.ctr(std::span<const std::uint8_t, 16>(rec + 8, 16), payload, payload, kKeyPayload);
    std::memcpy(log_key_, payload, 32);
    std::memcpy(token_id_, payload + 32, 8);
    std::memcpy(pairing_key_, payload + 40, 32);
    paired_ = get32(payload + 72);
    export_seq_ = get32(payload + 76);
    sp::wipe(payload, sizeof payload);
    sp::wipe(rec, sizeof rec);
    generation_ = gen[best];
    slot_ = best;
    derive_page_keys();
    return ok();
}

// Writes the key state as a new record in the other slot, then erases the old one.
Result<void> FlashLog::write_key_record() noexcept {
    const std::size_t target = (slot_ + 1) % kKeyPages;
    std::uint8_t rec[kKeyRecord];
    std::memcpy(rec, kKeyMagic, 4);
    put32(rec + 4, generation_ + 1);
    rng_->fill(std::span<std::uint8_t>(rec + 8, 16));
    std::uint8_t* payload = rec + 24;
    std::memcpy(payload, log_key_, 32);
    std::memcpy(payload + 32, token_id_, 8);
    std::memcpy(payload + 40, pairing_key_, 32);
    put32(payload + 72, paired_);
    put32(payload + 76, export_seq_);
    const sp::Aes128 aes(std::span<const std::uint8_t, 16>(slot_enc_, 16));
    aes.ctr(std::span<const std::uint8_t, 16>(rec + 8, 16), payload, payload, kKeyPayload);
    std::uint8_t tag[32];
    sp::HmacSha256 mac(slot_mac_);
    mac.update(std::span<const std::uint8_t>(rec, kKeyRecord - 16));
    mac.finish(tag);
    std::memcpy(rec + kKeyRecord - 16, tag, 16);
    const bool good = flash_->erase(target) && flash_->program(target * page_size_, rec);
    sp::wipe(rec, sizeof rec);
    if (!good) return io();
    // The new record is the newest; the old one (possibly holding a shredded key) goes.
    if (!flash_->erase(slot_)) return io();
    slot_ = target;
    ++generation_;
    return ok();
}

Result<void> FlashLog::pair(std::span<const std::uint8_t, 32> pairing_key) noexcept {
    std::memcpy(pairing_key_, pairing_key.data(), 32);
    paired_ = 1;
    return write_key_record();
}

Result<void> FlashLog::forget() noexcept {
    rng_->fill(log_key_);  // the old log key now exists only in the old slot...
    if (auto r = write_key_record(); !r) return r;  // ...which this erases
    derive_page_keys();
    std::uint8_t head[8];
    for (std::size_t p = kKeyPages; p < pages_; ++p) {
        if (!flash_->read(p * page_size_, head)) return io();
        if (!all_ff(head, 8) && !flash_->erase(p)) return io();
    }
    has_head_ = false;
    head_closed_ = false;
    oldest_seq_ = 0;
    dropped_pages_ = 0;
    return ok();
}

}  // namespace sotto::flashlog
