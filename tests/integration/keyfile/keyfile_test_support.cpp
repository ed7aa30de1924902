#include "keyfile_test_support.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstring>

#include <sotto/bytes.hpp>

#include "keyfile/zip_io.hpp"

namespace sotto::test::keyfile {

namespace {
TestKeyPair to_pems(EVP_PKEY* key) {
    REQUIRE(key != nullptr);
    TestKeyPair kp;
    for (int pub = 0; pub < 2; ++pub) {
        BIO* bio = BIO_new(BIO_s_mem());
        REQUIRE(bio != nullptr);
        const int rc =
            pub ? PEM_write_bio_PUBKEY(bio, key)
                : PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
        REQUIRE(rc == 1);
        char* data = nullptr;
        const long len = BIO_get_mem_data(bio, &data);
        (pub ? kp.public_pem : kp.private_pem).assign(data, static_cast<std::size_t>(len));
        BIO_free(bio);
    }
    EVP_PKEY_free(key);
    return kp;
}
}  // namespace

TestKeyPair generate_p256() { return to_pems(EVP_EC_gen("P-256")); }
TestKeyPair generate_p384() { return to_pems(EVP_EC_gen("P-384")); }
TestKeyPair generate_ed25519() { return to_pems(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")); }

TrustStore trust_from_file(const std::filesystem::path& pem, std::string id, std::string version) {
    TrustStore t;
    auto r = t.add_pem(std::move(id), std::move(version), read_text(pem));
    REQUIRE(r.has_value());
    return t;
}

std::string tek_hex(const core::DiagnosisKey& k) {
    return to_hex(k.exposure_key.tek.expose_secret());
}

core::DiagnosisKey make_key(std::string_view hex_tek, std::uint32_t start, std::uint32_t period,
                            std::int32_t trl, core::ReportType rt,
                            std::optional<std::int32_t> dsos) {
    auto tek = core::TemporaryExposureKey::from_hex(hex_tek);
    REQUIRE(tek.has_value());
    core::DiagnosisKey k;
    k.exposure_key.tek = std::move(*tek);
    k.exposure_key.rolling_start = start;
    k.exposure_key.rolling_period = period;
    k.transmission_risk_level = trl;
    k.report_type = rt;
    k.days_since_onset = dsos;
    return k;
}

std::vector<std::uint8_t> bin_of_raw(std::span<const std::uint8_t> protobuf) {
    std::vector<std::uint8_t> bin(kExportBinHeader.size() + protobuf.size());
    std::memcpy(bin.data(), kExportBinHeader.data(), kExportBinHeader.size());
    if (!protobuf.empty())
        std::memcpy(bin.data() + kExportBinHeader.size(), protobuf.data(), protobuf.size());
    return bin;
}

std::vector<std::uint8_t> bin_of(const sotto::keyfile::pb::TemporaryExposureKeyExport& e) {
    const std::string s = e.SerializeAsString();
    return bin_of_raw({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
}

std::vector<std::uint8_t> zip_of(
    const std::vector<std::pair<std::string, std::vector<std::uint8_t>>>& entries) {
    std::vector<sotto::keyfile::detail::ZipEntryOut> out;
    for (const auto& [name, bytes] : entries) out.push_back({name, bytes, true});
    auto z = sotto::keyfile::detail::make_zip(out);
    REQUIRE(z.has_value());
    return *z;
}

std::vector<std::uint8_t> unzip_entry(std::span<const std::uint8_t> zip, std::string_view name) {
    auto zr = sotto::keyfile::detail::ZipReader::open_memory(zip);
    REQUIRE(zr.has_value());
    for (std::uint64_t i = 0; i < zr->entry_count(); ++i) {
        auto e = zr->entry(i);
        REQUIRE(e.has_value());
        if (e->name != name) continue;
        auto src = zr->open_entry(i, e->size);
        REQUIRE(src.has_value());
        REQUIRE(e->size <= SIZE_MAX);
        std::vector<std::uint8_t> out(static_cast<std::size_t>(e->size));
        std::size_t got = 0;
        while (got < out.size()) {
            auto n = (*src)->read(std::span<std::uint8_t>(out).subspan(got));
            REQUIRE(n.has_value());
            REQUIRE(*n > 0);
            got += *n;
        }
        return out;
    }
    FAIL("no entry " << name);
    return {};
}

std::vector<std::uint8_t> sign_bin(std::span<const std::uint8_t> bin, const ExportSigner& signer,
                                   const std::string& id, const std::string& version,
                                   std::int32_t batch_num, std::int32_t batch_size,
                                   const std::string& algorithm) {
    std::array<std::uint8_t, 32> digest{};
    unsigned int len = 0;
    REQUIRE(EVP_Digest(bin.data(), bin.size(), digest.data(), &len, EVP_sha256(), nullptr) == 1);
    auto der = signer.sign_digest(digest);
    REQUIRE(der.has_value());
    sotto::keyfile::pb::TEKSignatureList list;
    auto* s = list.add_signatures();
    s->mutable_signature_info()->set_verification_key_id(id);
    s->mutable_signature_info()->set_verification_key_version(version);
    if (!algorithm.empty()) s->mutable_signature_info()->set_signature_algorithm(algorithm);
    s->set_batch_num(batch_num);
    s->set_batch_size(batch_size);
    s->set_signature(der->data(), der->size());
    const std::string out = list.SerializeAsString();
    return {out.begin(), out.end()};
}

sotto::keyfile::pb::TemporaryExposureKeyExport header(const std::string& id,
                                                      const std::string& version) {
    sotto::keyfile::pb::TemporaryExposureKeyExport e;
    e.set_start_timestamp(1614816000);
    e.set_end_timestamp(1614902400);
    e.set_region("XX");
    e.set_batch_num(1);
    e.set_batch_size(1);
    auto* si = e.add_signature_infos();
    si->set_verification_key_id(id);
    si->set_verification_key_version(version);
    si->set_signature_algorithm("1.2.840.10045.4.3.2");
    return e;
}

sotto::keyfile::pb::TemporaryExposureKey* add_valid_key(
    sotto::keyfile::pb::TemporaryExposureKeyExport& e, std::uint8_t fill) {
    auto* k = e.add_keys();
    k->set_key_data(std::string(16, static_cast<char>(fill)));
    k->set_rolling_start_interval_number(2690000);
    k->set_rolling_period(144);
    k->set_transmission_risk_level(1);
    return k;
}

}  // namespace sotto::test::keyfile
