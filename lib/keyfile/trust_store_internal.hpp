#pragma once
// The entries of a TrustStore, for the signature verifier.

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <vector>

#include <sotto/keyfile/export_reader.hpp>
#include <sotto/keyfile/trust_store.hpp>

namespace sotto::keyfile {

struct TrustStore::Entry {
    std::string key_id;
    std::string key_version;
    bool any_id = false;            // tried for any name (see TrustStore)
    std::shared_ptr<EVP_PKEY> key;  // EC P-256 public key, immutable once added
};

namespace detail {

/// One key to try for a signature, and whether the signature's name bound it.
struct Candidate {
    EVP_PKEY* key = nullptr;
    bool bound = false;  // the signature named this entry's (key_id, key_version) exactly
};

struct TrustStoreAccess {
    /// The keys a signature with SignatureInfo `info` may be checked against, per the rules in
    /// TrustStore's class comment: bound entries named exactly; otherwise any-id entries;
    /// otherwise, when the signature names no key id and the store has one entry, that entry.
    static std::vector<Candidate> candidates(const TrustStore& store, const SignatureInfo& info);
};

/// Parses a PEM or DER SubjectPublicKeyInfo; nullptr unless it is an EC P-256 public key.
std::shared_ptr<EVP_PKEY> parse_p256_public_key_pem(std::string_view pem);
std::shared_ptr<EVP_PKEY> parse_p256_public_key_der(std::span<const std::uint8_t> der);
/// True when `key` is an EC key on P-256 (prime256v1).
bool is_p256(EVP_PKEY* key) noexcept;

}  // namespace detail
}  // namespace sotto::keyfile
