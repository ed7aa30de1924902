#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "keyfile/trust_store_internal.hpp"

namespace sotto::keyfile {

namespace detail {

bool is_p256(EVP_PKEY* key) noexcept {
    if (key == nullptr || !EVP_PKEY_is_a(key, "EC")) return false;
    char group[64] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) != 1) return false;
    return std::strcmp(group, "prime256v1") == 0 || std::strcmp(group, "P-256") == 0;
}

namespace {
std::shared_ptr<EVP_PKEY> checked(EVP_PKEY* key) {
    ERR_clear_error();
    if (!is_p256(key)) {
        EVP_PKEY_free(key);
        return nullptr;
    }
    return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}
}  // namespace

std::shared_ptr<EVP_PKEY> parse_p256_public_key_pem(std::string_view pem) {
    if (pem.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) return nullptr;
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    if (bio == nullptr) return nullptr;
    EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    return checked(key);
}

std::shared_ptr<EVP_PKEY> parse_p256_public_key_der(std::span<const std::uint8_t> der) {
    if (der.size() > static_cast<std::size_t>(std::numeric_limits<long>::max())) return nullptr;
    const unsigned char* p = der.data();
    EVP_PKEY* key = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
    if (key != nullptr && p != der.data() + der.size()) {  // trailing bytes
        EVP_PKEY_free(key);
        key = nullptr;
    }
    return checked(key);
}

std::vector<Candidate> TrustStoreAccess::candidates(const TrustStore& store,
                                                    const SignatureInfo& info) {
    std::vector<Candidate> out;
    if (!info.key_id.empty()) {
        for (const auto& e : store.entries_)
            if (!e.any_id && e.key_id == info.key_id && e.key_version == info.key_version)
                out.push_back({e.key.get(), true});
        if (!out.empty()) return out;
    }
    for (const auto& e : store.entries_)
        if (e.any_id) out.push_back({e.key.get(), false});
    if (out.empty() && info.key_id.empty() && store.entries_.size() == 1)
        out.push_back({store.entries_.front().key.get(), false});
    return out;
}

}  // namespace detail

TrustStore::TrustStore() = default;
TrustStore::~TrustStore() = default;
TrustStore::TrustStore(const TrustStore&) = default;
TrustStore& TrustStore::operator=(const TrustStore&) = default;
TrustStore::TrustStore(TrustStore&&) noexcept = default;
TrustStore& TrustStore::operator=(TrustStore&&) noexcept = default;

std::size_t TrustStore::size() const noexcept { return entries_.size(); }

Result<std::array<std::uint8_t, 32>> TrustStore::fingerprint() const {
    try {
        // Each entry as length-prefixed fields, sorted: the order of `add_*` calls is irrelevant.
        std::vector<std::string> parts;
        auto field = [](std::string& out, const void* p, std::size_t n) {
            const auto len = static_cast<std::uint32_t>(n);
            for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
            out.append(static_cast<const char*>(p), n);
        };
        for (const auto& e : entries_) {
            unsigned char* der = nullptr;
            const int n = i2d_PUBKEY(e.key.get(), &der);
            if (n <= 0) return make_error(ErrorCode::kCryptoFailure, "trust store: cannot encode");
            std::string part;
            part.push_back(e.any_id ? '\1' : '\0');
            field(part, e.key_id.data(), e.key_id.size());
            field(part, e.key_version.data(), e.key_version.size());
            field(part, der, static_cast<std::size_t>(n));
            OPENSSL_free(der);
            parts.push_back(std::move(part));
        }
        std::sort(parts.begin(), parts.end());
        std::string all;
        for (const auto& p : parts) field(all, p.data(), p.size());
        std::array<std::uint8_t, 32> out{};
        unsigned int len = 0;
        if (EVP_Digest(all.data(), all.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 ||
            len != out.size())
            return make_error(ErrorCode::kCryptoFailure, "trust store: SHA-256 failed");
        return out;
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "trust store: out of memory");
    }
}

Result<void> TrustStore::add_entry(Entry e) {
    if (!e.key)
        return make_error(ErrorCode::kInvalidArgument, "trust store: not an EC P-256 public key");
    entries_.push_back(std::move(e));
    return ok();
}

Result<void> TrustStore::add_pem(std::string key_id, std::string key_version,
                                 std::string_view pem) {
    if (key_id.empty()) return make_error(ErrorCode::kInvalidArgument, "trust store: empty key id");
    return add_entry(
        {std::move(key_id), std::move(key_version), false, detail::parse_p256_public_key_pem(pem)});
}

Result<void> TrustStore::add_spki_der(std::string key_id, std::string key_version,
                                      std::span<const std::uint8_t> der) {
    if (key_id.empty()) return make_error(ErrorCode::kInvalidArgument, "trust store: empty key id");
    return add_entry(
        {std::move(key_id), std::move(key_version), false, detail::parse_p256_public_key_der(der)});
}

Result<void> TrustStore::add_pem_any_id(std::string_view pem) {
    return add_entry({{}, {}, true, detail::parse_p256_public_key_pem(pem)});
}

Result<void> TrustStore::add_spki_der_any_id(std::span<const std::uint8_t> der) {
    return add_entry({{}, {}, true, detail::parse_p256_public_key_der(der)});
}

}  // namespace sotto::keyfile
