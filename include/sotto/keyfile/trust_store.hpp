#pragma once
/// \file
/// `TrustStore`: the public keys a diagnosis-key file may be signed with.
///
/// GAEN export files are signed with ECDSA P-256 / SHA-256. Each signature in export.sig names
/// its key by `(verification_key_id, verification_key_version)`, e.g. `("262", "v1")` for the
/// German health authority. Keys reach devices out of band (see docs/keyfile.md), so the trust
/// store is configured by the application.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sotto/result.hpp>

namespace sotto::keyfile {

namespace detail {
struct TrustStoreAccess;
}

/// Public verification keys, each bound to a `(key_id, key_version)` name or to any name.
///
/// * Several entries may coexist: that is how key rotation works (old and new key both
///   configured while files signed by either are in circulation).
/// * A **bound** entry (`add_pem`, `add_spki_der`) is used only for signatures whose
///   SignatureInfo names exactly that id and version. A signature that names a bound key and does
///   not verify makes the file fail (`kAuthenticationFailed`), even if another signature verifies.
/// * An **any-id** entry (`add_pem_any_id`, `add_spki_der_any_id`) is tried for every signature
///   whose name matches no bound entry, including signatures that name no key at all. Use it when
///   the operator holds a specific public key and does not care how files call it (the
///   `sotto export inspect --pubkey` case). The file still cannot choose the key, only the name.
/// * A signature that names no key id is checked against the any-id entries; if there are none
///   and the store holds exactly one entry, against that entry (Android's rule).
///
/// Only EC P-256 keys are accepted. Copies share the (immutable) key objects. A const
/// `TrustStore` may be used from several threads at once.
class TrustStore {
public:
    TrustStore();
    ~TrustStore();
    TrustStore(const TrustStore&);
    TrustStore& operator=(const TrustStore&);
    TrustStore(TrustStore&&) noexcept;
    TrustStore& operator=(TrustStore&&) noexcept;

    /// Adds a PEM `-----BEGIN PUBLIC KEY-----` (SubjectPublicKeyInfo) key under `(key_id,
    /// key_version)`. `key_id` must not be empty; `key_version` may be (files that name no
    /// version). Fails with kInvalidArgument when the PEM does not hold exactly an EC P-256 public
    /// key.
    Result<void> add_pem(std::string key_id, std::string key_version, std::string_view pem);

    /// Same as `add_pem` for a DER SubjectPublicKeyInfo (the base64 form in Android configs).
    Result<void> add_spki_der(std::string key_id, std::string key_version,
                              std::span<const std::uint8_t> der);

    /// Adds a PEM key that is tried for any key id and version (see the class comment).
    Result<void> add_pem_any_id(std::string_view pem);

    /// Same as `add_pem_any_id` for a DER SubjectPublicKeyInfo.
    Result<void> add_spki_der_any_id(std::span<const std::uint8_t> der);

    /// Number of entries (bound and any-id).
    std::size_t size() const noexcept;
    bool empty() const noexcept { return size() == 0; }

    /// SHA-256 over every entry (key id, version, any-id flag and the DER public key), in a
    /// canonical order: equal for stores that trust the same keys under the same names, however
    /// they were added; different as soon as one key or name differs. Public data. Errors:
    /// kCryptoFailure, kOutOfMemory.
    Result<std::array<std::uint8_t, 32>> fingerprint() const;

private:
    friend struct detail::TrustStoreAccess;
    struct Entry;
    Result<void> add_entry(Entry e);
    std::vector<Entry> entries_;
};

}  // namespace sotto::keyfile
