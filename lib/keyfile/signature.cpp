#include "keyfile/signature.hpp"

#include <openssl/err.h>

#include <google/protobuf/arena.h>

#include "keyfile/proto/export.pb.h"
#include "keyfile/trust_store_internal.hpp"

namespace sotto::keyfile::detail {

namespace {

Verdict make_verdict(SignatureStatus status, ErrorCode code, const char* what) {
    return {status, Error{code, what}, {}, {}};
}

}  // namespace

Verdict malformed_signature_verdict() {
    return make_verdict(SignatureStatus::kMalformed, ErrorCode::kKeyFileMalformed,
                        "export.sig: not a TEKSignatureList");
}

Result<std::vector<TekSignature>> parse_signature_list(std::span<const std::uint8_t> sig) {
    // On an arena: protobuf is not exception-safe, and an allocation failing inside the parse
    // would leak the messages built so far; the arena frees them whatever happens.
    google::protobuf::Arena arena;
    auto& list = *google::protobuf::Arena::CreateMessage<pb::TEKSignatureList>(&arena);
    if (sig.size() > static_cast<std::size_t>(INT32_MAX) ||
        !list.ParseFromArray(sig.data(), static_cast<int>(sig.size())))
        return make_error(ErrorCode::kKeyFileMalformed, "export.sig: not a TEKSignatureList");
    std::vector<TekSignature> out;
    out.reserve(static_cast<std::size_t>(list.signatures_size()));
    for (const auto& s : list.signatures()) {
        TekSignature t;
        if (s.has_signature_info()) {
            t.info.key_id = s.signature_info().verification_key_id();
            t.info.key_version = s.signature_info().verification_key_version();
            t.info.algorithm = s.signature_info().signature_algorithm();
        }
        t.batch_num = s.batch_num();
        t.batch_size = s.batch_size();
        t.der.assign(s.signature().begin(), s.signature().end());
        out.push_back(std::move(t));
    }
    return out;
}

std::optional<Verdict> precheck_signatures(const std::vector<TekSignature>& sigs,
                                           const TrustStore& trust) {
    if (sigs.empty())
        return make_verdict(SignatureStatus::kUnsigned, ErrorCode::kUnsigned, "export: not signed");
    for (const auto& s : sigs)
        if (!TrustStoreAccess::candidates(trust, s.info).empty()) return std::nullopt;
    return make_verdict(SignatureStatus::kUntrustedKey, ErrorCode::kUntrustedKey,
                        "export: signed by no trusted key");
}

bool ecdsa_verify_digest(EVP_PKEY* key, std::span<const std::uint8_t, 32> digest,
                         std::span<const std::uint8_t> der) noexcept {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key, nullptr);
    bool ok = ctx != nullptr && EVP_PKEY_verify_init(ctx) == 1 &&
              EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
              EVP_PKEY_verify(ctx, der.data(), der.size(), digest.data(), digest.size()) == 1;
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();  // a bad signature leaves DER/ECDSA errors on the thread's queue
    return ok;
}

Verdict verify_signatures(const std::vector<TekSignature>& sigs, const ExportInfo& info,
                          std::span<const std::uint8_t, 32> digest, const TrustStore& trust) {
    // Same order as the precheck, so that kRequireSignature (which refuses early) and
    // kParseOnly report the same verdict: unsigned, then untrusted, then structure, then crypto.
    if (auto v = precheck_signatures(sigs, trust)) return *v;
    // Android's SignatureVerifier: one TEKSignature per SignatureInfo of export.bin, and every
    // signature belongs to the export's batch.
    if (sigs.size() != info.signature_infos.size())
        return make_verdict(SignatureStatus::kMalformed, ErrorCode::kKeyFileMalformed,
                            "export.sig: signature count differs from export.bin signature_infos");
    for (const auto& s : sigs)
        if (s.batch_num != info.batch_num.value_or(0) ||
            s.batch_size != info.batch_size.value_or(0))
            return make_verdict(SignatureStatus::kMalformed, ErrorCode::kKeyFileMalformed,
                                "export.sig: batch_num/batch_size differ from export.bin");

    const TekSignature* verified = nullptr;
    bool bound_failure = false;    // a key the file named exactly did not verify
    bool unbound_failure = false;  // an any-id/single key did not verify
    bool unsupported = false;      // a trusted key, but an algorithm other than ECDSA-SHA256
    for (const auto& s : sigs) {
        const auto candidates = TrustStoreAccess::candidates(trust, s.info);
        if (candidates.empty()) continue;  // another authority's key: rotation, co-signing
        // An absent algorithm is read as ECDSA-SHA256, the only one GAEN defines.
        if (!s.info.algorithm.empty() && s.info.algorithm != kEcdsaWithSha256Oid) {
            unsupported = true;
            if (candidates.front().bound) bound_failure = true;
            continue;
        }
        bool ok = false;
        for (const auto& c : candidates)
            if (ecdsa_verify_digest(c.key, digest, s.der)) {
                ok = true;
                break;
            }
        if (ok) {
            if (verified == nullptr) verified = &s;
        } else if (candidates.front().bound) {
            bound_failure = true;
        } else {
            unbound_failure = true;
        }
    }
    if (bound_failure) {
        if (unsupported)
            return make_verdict(SignatureStatus::kBadSignature, ErrorCode::kAuthenticationFailed,
                                "export.sig: unsupported signature algorithm");
        return make_verdict(SignatureStatus::kBadSignature, ErrorCode::kAuthenticationFailed,
                            "export: signature does not verify");
    }
    if (verified != nullptr)
        return {SignatureStatus::kVerified, std::nullopt, verified->info.key_id,
                verified->info.key_version};
    if (unbound_failure)
        return make_verdict(SignatureStatus::kBadSignature, ErrorCode::kAuthenticationFailed,
                            "export: signature does not verify");
    if (unsupported)
        return make_verdict(SignatureStatus::kBadSignature, ErrorCode::kAuthenticationFailed,
                            "export.sig: unsupported signature algorithm");
    return make_verdict(SignatureStatus::kUntrustedKey, ErrorCode::kUntrustedKey,
                        "export: signed by no trusted key");
}

}  // namespace sotto::keyfile::detail
