// Signature rules: trust store entries, several signatures, key names, algorithms.
#include <catch2/catch.hpp>

#include <sotto/bytes.hpp>
#include <sotto/keyfile/export_reader.hpp>
#include <sotto/keyfile/export_writer.hpp>
#include <sotto/keyfile/trust_store.hpp>

#include "keyfile_test_support.hpp"
#include "support.hpp"

using namespace sotto;
using namespace sotto::keyfile;
using namespace sotto::test::keyfile;
namespace pb = sotto::keyfile::pb;

namespace {

struct Authority {
    TestKeyPair kp = generate_p256();
    ExportSigner signer = *ExportSigner::from_pem(kp.private_pem);
};

// export.bin naming `infos` (id, version), signed by each signer in turn (nullptr: garbage).
struct Signed {
    std::vector<std::uint8_t> bin, sig;
};
Signed make(const std::vector<std::pair<std::string, std::string>>& infos,
            const std::vector<const Authority*>& signers,
            const std::string& algorithm = "1.2.840.10045.4.3.2") {
    pb::TemporaryExposureKeyExport e = header();
    e.clear_signature_infos();
    for (const auto& [id, v] : infos) {
        auto* si = e.add_signature_infos();
        if (!id.empty()) si->set_verification_key_id(id);
        if (!v.empty()) si->set_verification_key_version(v);
        si->set_signature_algorithm(algorithm);
    }
    add_valid_key(e, 0x42);
    Signed s;
    s.bin = bin_of(e);
    pb::TEKSignatureList list;
    for (std::size_t i = 0; i < signers.size(); ++i) {
        const auto one =
            sign_bin(s.bin, signers[i]->signer, infos[i].first, infos[i].second, 1, 1, algorithm);
        pb::TEKSignatureList l;
        REQUIRE(l.ParseFromArray(one.data(), static_cast<int>(one.size())));
        auto* t = list.add_signatures();
        *t = l.signatures(0);
        if (infos[i].first.empty()) t->mutable_signature_info()->clear_verification_key_id();
        if (infos[i].second.empty()) t->mutable_signature_info()->clear_verification_key_version();
    }
    const std::string out = list.SerializeAsString();
    s.sig.assign(out.begin(), out.end());
    return s;
}

ErrorCode code_of(const Signed& s, const TrustStore& trust) {
    auto r = read_export_pair(s.bin, s.sig, trust, VerifyMode::kRequireSignature, {});
    return r ? ErrorCode::kOk : r.error().code;
}

}  // namespace

TEST_CASE("TrustStore accepts EC P-256 keys only", "[keyfile][trust]") {
    TrustStore t;
    CHECK(t.add_pem("1", "v1", generate_p256().public_pem).has_value());
    CHECK(t.size() == 1);
    for (const auto& pem : {generate_p384().public_pem, generate_ed25519().public_pem,
                            generate_p256().private_pem, std::string("garbage"), std::string()}) {
        auto r = t.add_pem("1", "v1", pem);
        REQUIRE(!r.has_value());
        CHECK(r.error().code == ErrorCode::kInvalidArgument);
        CHECK(!t.add_pem_any_id(pem).has_value());
    }
    CHECK(!t.add_pem("", "v1", generate_p256().public_pem).has_value());  // empty id
    CHECK(t.add_pem("1", "", generate_p256().public_pem).has_value());    // empty version is fine
    CHECK(t.size() == 2);
}

TEST_CASE("TrustStore takes SPKI DER (the base64 form of Android configs)", "[keyfile][trust]") {
    // Google server example key, gaen.md §3.4.
    const auto der = sotto::test::hex(
        "3059301306072a8648ce3d020106082a8648ce3d030107034200049a5e7d8ad79cf6acf05688eb78b5dd3cd46c"
        "516cdf"
        "60773570abc8222ebf1f9e80252fe46446109df0e9c6b8321a17409bea4d3761802775dd9d06754a4e1a9a");
    TrustStore t;
    REQUIRE(t.add_spki_der("some_id", "1", der).has_value());
    auto info = read_export_zip(
        sotto::test::gaen_data("google-server-example/testExport-2-records-1-of-1.zip"), t,
        VerifyMode::kRequireSignature, {});
    REQUIRE(info.has_value());
    CHECK(info->verified);
    auto trailing = der;
    trailing.push_back(0);
    CHECK(!t.add_spki_der("x", "1", trailing).has_value());
    CHECK(!t.add_spki_der("x", "1", std::span(der).first(40)).has_value());
    TrustStore any;
    REQUIRE(any.add_spki_der_any_id(der).has_value());
    CHECK(read_export_zip(
              sotto::test::gaen_data("google-server-example/testExport-2-records-1-of-1.zip"), any,
              VerifyMode::kRequireSignature, {})
              .has_value());
}

TEST_CASE("Two signatures (rotation): one trusted key suffices, a bound key that fails refuses",
          "[keyfile][signature]") {
    Authority a, b, c;
    const auto s = make({{"262", "v1"}, {"262", "v2"}}, {&a, &b});
    TrustStore only_b;
    REQUIRE(only_b.add_pem("262", "v2", b.kp.public_pem).has_value());
    CHECK(code_of(s, only_b) == ErrorCode::kOk);
    TrustStore both;
    REQUIRE(both.add_pem("262", "v1", a.kp.public_pem).has_value());
    REQUIRE(both.add_pem("262", "v2", b.kp.public_pem).has_value());
    CHECK(code_of(s, both) == ErrorCode::kOk);
    // v1 bound to the wrong key: that named signature fails, so the file fails even though v2
    // verifies (fail closed).
    TrustStore wrong_v1 = only_b;
    REQUIRE(wrong_v1.add_pem("262", "v1", c.kp.public_pem).has_value());
    CHECK(code_of(s, wrong_v1) == ErrorCode::kAuthenticationFailed);
    // Any-id key of b only: a's signature is tried with b's key and fails softly; b's verifies.
    TrustStore any_b;
    REQUIRE(any_b.add_pem_any_id(b.kp.public_pem).has_value());
    CHECK(code_of(s, any_b) == ErrorCode::kOk);
    TrustStore neither;
    REQUIRE(neither.add_pem("310", "v1", a.kp.public_pem).has_value());
    CHECK(code_of(s, neither) == ErrorCode::kUntrustedKey);
}

TEST_CASE("A signature that names no key uses the single configured key", "[keyfile][signature]") {
    Authority a, b;
    const auto s = make({{"", ""}}, {&a});
    TrustStore single;
    REQUIRE(single.add_pem("262", "v1", a.kp.public_pem).has_value());
    CHECK(code_of(s, single) == ErrorCode::kOk);
    TrustStore single_wrong;
    REQUIRE(single_wrong.add_pem("262", "v1", b.kp.public_pem).has_value());
    CHECK(code_of(s, single_wrong) == ErrorCode::kAuthenticationFailed);
    TrustStore two = single;
    REQUIRE(two.add_pem("262", "v2", b.kp.public_pem).has_value());
    CHECK(code_of(s, two) == ErrorCode::kUntrustedKey);  // ambiguous: no key chosen
}

TEST_CASE("Signature algorithm must be ECDSA-SHA256 (absent is read as such)",
          "[keyfile][signature]") {
    Authority a;
    TrustStore t;
    REQUIRE(t.add_pem("262", "v1", a.kp.public_pem).has_value());
    CHECK(code_of(make({{"262", "v1"}}, {&a}), t) == ErrorCode::kOk);
    CHECK(code_of(make({{"262", "v1"}}, {&a}, ""), t) == ErrorCode::kOk);
    CHECK(code_of(make({{"262", "v1"}}, {&a}, "1.2.840.10045.4.3.4"), t) ==
          ErrorCode::kAuthenticationFailed);
    CHECK(code_of(make({{"262", "v1"}}, {&a}, "1.2.840.113549.1.1.11"), t) ==
          ErrorCode::kAuthenticationFailed);
}

TEST_CASE("Signature bytes that are not DER, empty or from another file are refused",
          "[keyfile][signature]") {
    Authority a;
    TrustStore t;
    REQUIRE(t.add_pem("262", "v1", a.kp.public_pem).has_value());
    auto s = make({{"262", "v1"}}, {&a});
    pb::TEKSignatureList list;
    REQUIRE(list.ParseFromArray(s.sig.data(), static_cast<int>(s.sig.size())));
    const std::string der = list.signatures(0).signature();
    for (const std::string& replacement :
         {std::string(), std::string(72, '\0'), der.substr(0, der.size() - 1),
          der + std::string(1, '\0'), std::string(1000, '\x30')}) {
        auto changed = list;
        changed.mutable_signatures(0)->set_signature(replacement);
        const std::string out = changed.SerializeAsString();
        Signed bad{s.bin, {out.begin(), out.end()}};
        CHECK(code_of(bad, t) == ErrorCode::kAuthenticationFailed);
    }
    // A valid signature of another export.bin.
    auto other = make({{"262", "v1"}}, {&a});
    other.bin.back() ^= 1;  // other key byte
    CHECK(code_of(Signed{other.bin, s.sig}, t) == ErrorCode::kAuthenticationFailed);
    CHECK(code_of(s, t) == ErrorCode::kOk);
}

TEST_CASE("Verify-first mode delivers nothing from a file that does not verify",
          "[keyfile][signature]") {
    Authority a, b;
    auto s = make({{"262", "v1"}}, {&a});
    TrustStore wrong;
    REQUIRE(wrong.add_pem("262", "v1", b.kp.public_pem).has_value());
    Collected streamed, first;
    auto r1 = read_export_pair(s.bin, s.sig, wrong, VerifyMode::kRequireSignature, streamed.sink());
    auto r2 =
        read_export_pair(s.bin, s.sig, wrong, VerifyMode::kRequireSignatureFirst, first.sink());
    REQUIRE(!r1.has_value());
    REQUIRE(!r2.has_value());
    CHECK(r1.error().code == ErrorCode::kAuthenticationFailed);
    CHECK(r2.error().code == ErrorCode::kAuthenticationFailed);
    CHECK(streamed.keys.size() == 1);  // streamed as a candidate, then the call failed
    CHECK(first.keys.empty());         // verified first: never delivered
    TrustStore right;
    REQUIRE(right.add_pem("262", "v1", a.kp.public_pem).has_value());
    Collected ok;
    auto r3 = read_export_pair(s.bin, s.sig, right, VerifyMode::kRequireSignatureFirst, ok.sink());
    REQUIRE(r3.has_value());
    CHECK(ok.keys.size() == 1);
}

TEST_CASE("Status and reason names are short static strings", "[keyfile]") {
    CHECK(std::string(signature_status_name(SignatureStatus::kVerified)) == "verified");
    CHECK(std::string(signature_status_name(SignatureStatus::kUnsigned)) == "unsigned");
    CHECK(std::string(signature_status_name(SignatureStatus::kUntrustedKey)) == "untrusted key");
    CHECK(std::string(signature_status_name(SignatureStatus::kBadSignature)) == "bad signature");
    CHECK(std::string(signature_status_name(SignatureStatus::kMalformed)) == "malformed");
    CHECK(std::string(error_code_name(ErrorCode::kKeyFileIo)) == "kKeyFileIo");
}
