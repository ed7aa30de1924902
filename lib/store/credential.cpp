#include <sodium.h>

#include <cstring>
#include <utility>

#include <sotto/store/credential.hpp>

#include "core/sodium_init.hpp"

namespace sotto::store {

Result<Passphrase> Passphrase::from(std::span<const std::uint8_t> bytes) noexcept {
    if (bytes.empty()) return make_error(ErrorCode::kInvalidArgument, "passphrase: empty");
    if (bytes.size() > kMaxBytes)
        return make_error(ErrorCode::kInvalidArgument, "passphrase: longer than 1024 bytes");
    if (auto r = sotto::detail::init_sodium(); !r) return r.error();
    // sodium_malloc: guard pages around, mlock'ed, wiped by sodium_free.
    auto* p = static_cast<std::uint8_t*>(sodium_malloc(bytes.size()));
    if (p == nullptr)
        return make_error(ErrorCode::kCryptoFailure, "passphrase: cannot allocate guarded memory");
    std::memcpy(p, bytes.data(), bytes.size());
    return Passphrase(p, bytes.size());
}

Passphrase::Passphrase(Passphrase&& o) noexcept : data_(o.data_), size_(o.size_) {
    o.data_ = nullptr;
    o.size_ = 0;
}

Passphrase& Passphrase::operator=(Passphrase&& o) noexcept {
    if (this != &o) {
        release();
        data_ = std::exchange(o.data_, nullptr);
        size_ = std::exchange(o.size_, 0);
    }
    return *this;
}

Passphrase::~Passphrase() { release(); }

void Passphrase::release() noexcept {
    if (data_ != nullptr) sodium_free(data_);  // wipes before freeing
    data_ = nullptr;
    size_ = 0;
}

Result<Passphrase> Passphrase::clone() const noexcept { return from(expose_secret()); }

KdfParams KdfParams::interactive() noexcept {
    return {crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
            crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE};
}

KdfParams KdfParams::moderate() noexcept {
    return {crypto_pwhash_argon2id_OPSLIMIT_MODERATE, crypto_pwhash_argon2id_MEMLIMIT_MODERATE};
}

KdfParams KdfParams::minimum() noexcept {
    return {crypto_pwhash_argon2id_OPSLIMIT_MIN, crypto_pwhash_argon2id_MEMLIMIT_MIN};
}

Credential Credential::raw_key(StoreKey key) noexcept {
    return Credential(std::variant<StoreKey, Passphrase>(std::in_place_index<0>, std::move(key)),
                      KdfParams{});
}

Credential Credential::passphrase(Passphrase passphrase, KdfParams params) noexcept {
    return Credential(
        std::variant<StoreKey, Passphrase>(std::in_place_index<1>, std::move(passphrase)), params);
}

}  // namespace sotto::store
