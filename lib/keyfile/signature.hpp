#pragma once
// export.sig: parsing the TEKSignatureList and checking it against export.bin's digest and the
// trust store (gaen.md §3.4; rules in docs/keyfile.md "Signatures").

#include <openssl/evp.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <sotto/keyfile/export_reader.hpp>
#include <sotto/keyfile/trust_store.hpp>

namespace sotto::keyfile::detail {

/// One TEKSignature of export.sig.
struct TekSignature {
    SignatureInfo info;          // absent fields are empty
    std::int32_t batch_num = 0;  // proto2 getter semantics: absent is 0
    std::int32_t batch_size = 0;
    std::vector<std::uint8_t> der;
};

/// Parses export.sig. kKeyFileMalformed when it is not a TEKSignatureList.
Result<std::vector<TekSignature>> parse_signature_list(std::span<const std::uint8_t> sig);

/// The verdict on a file's signatures.
struct Verdict {
    SignatureStatus status = SignatureStatus::kUnsigned;
    /// Why it did not verify; empty when verified.
    std::optional<Error> error = Error{ErrorCode::kUnsigned, "export: not signed"};
    std::string key_id;
    std::string key_version;
};

/// What can be decided before export.bin is read: unsigned, or no signature names a trusted key.
/// Nothing when the verdict needs the digest.
std::optional<Verdict> precheck_signatures(const std::vector<TekSignature>& sigs,
                                           const TrustStore& trust);

/// The full verdict, once export.bin was parsed (`info` gives batch and signature_infos) and
/// hashed.
Verdict verify_signatures(const std::vector<TekSignature>& sigs, const ExportInfo& info,
                          std::span<const std::uint8_t, 32> digest, const TrustStore& trust);

/// The verdict for an export.sig that could not be parsed.
Verdict malformed_signature_verdict();

/// ECDSA verification of a DER signature over a SHA-256 digest. False on any failure.
bool ecdsa_verify_digest(EVP_PKEY* key, std::span<const std::uint8_t, 32> digest,
                         std::span<const std::uint8_t> der) noexcept;

}  // namespace sotto::keyfile::detail
