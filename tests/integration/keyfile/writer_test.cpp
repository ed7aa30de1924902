// The publisher side: build and sign an export with a fresh key, read it back, check it with
// the openssl command-line tool as an independent verifier.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include <sotto/bytes.hpp>
#include <sotto/core/rng.hpp>
#include <sotto/keyfile/export_reader.hpp>
#include <sotto/keyfile/export_writer.hpp>

#include "keyfile/zip_io.hpp"
#include "keyfile_test_support.hpp"
#include "support.hpp"

using namespace sotto;
using namespace sotto::keyfile;
using namespace sotto::test::keyfile;
using sotto::test::TempDir;
namespace pb = sotto::keyfile::pb;

namespace {

ExportWriteOptions options() {
    ExportWriteOptions o;
    o.key_id = "999";
    o.key_version = "v7";
    o.region = "ZZ";
    o.start_timestamp = 1614816000;
    o.end_timestamp = 1614902400;
    return o;
}

std::vector<core::DiagnosisKey> sample_keys() {
    std::vector<core::DiagnosisKey> keys;
    keys.push_back(make_key("ff0102030405060708090a0b0c0d0e0f", 2689920, 144, 1,
                            core::ReportType::kRecursive, 1));
    keys.push_back(make_key("000102030405060708090a0b0c0d0e0f", 2690064, 57, 8,
                            core::ReportType::kConfirmedTest, 2));
    keys.push_back(make_key("7f0102030405060708090a0b0c0d0e0f", 2689776, 144, 5,
                            core::ReportType::kConfirmedClinicalDiagnosis, -14));
    keys.push_back(make_key("800102030405060708090a0b0c0d0e0f", 2649866, 1, 0));
    return keys;
}

ExportSigner signer_of(const TestKeyPair& kp) {
    auto s = ExportSigner::from_pem(kp.private_pem);
    REQUIRE(s.has_value());
    return std::move(*s);
}

}  // namespace

TEST_CASE("Round trip: a written export reads back verified, sorted, with padding",
          "[keyfile][writer]") {
    TempDir dir;
    const auto kp = generate_p256();
    sotto::test::write_text(dir / "private.pem", kp.private_pem);
    const auto signer = signer_of(kp);
    auto pub = signer.public_key_pem();
    REQUIRE(pub.has_value());
    CHECK(*pub == kp.public_pem);

    const auto keys = sample_keys();
    core::DeterministicRng rng(7);
    auto o = options();
    o.padding_keys = 20;
    REQUIRE(write_export_zip(dir / "export.zip", keys, signer, o, rng).has_value());

    TrustStore trust;
    REQUIRE(trust.add_pem("999", "v7", kp.public_pem).has_value());
    Collected c;
    auto info = read_export_zip(dir / "export.zip", trust, VerifyMode::kRequireSignature, c.sink());
    REQUIRE(info.has_value());
    CHECK(info->verified);
    CHECK(info->verified_key_id == "999");
    CHECK(info->verified_key_version == "v7");
    CHECK(info->region == "ZZ");
    CHECK(info->start_timestamp == 1614816000u);
    CHECK(info->end_timestamp == 1614902400u);
    CHECK(info->batch_num == 1);
    CHECK(info->batch_size == 1);
    REQUIRE(info->signature_infos.size() == 1);
    CHECK(info->signature_infos[0].algorithm == "1.2.840.10045.4.3.2");
    CHECK(info->keys_valid == 24);
    CHECK(info->keys_invalid == 0);
    REQUIRE(c.keys.size() == 24);

    // Sorted by key_data.
    for (std::size_t i = 1; i < c.keys.size(); ++i)
        CHECK(tek_hex(c.keys[i - 1]) < tek_hex(c.keys[i]));
    // Every real key is there with all its fields.
    for (const auto& k : keys) {
        auto it = std::find_if(c.keys.begin(), c.keys.end(), [&](const auto& x) {
            return x.exposure_key.tek == k.exposure_key.tek;
        });
        REQUIRE(it != c.keys.end());
        CHECK(it->exposure_key.rolling_start == k.exposure_key.rolling_start);
        CHECK(it->exposure_key.rolling_period == k.exposure_key.rolling_period);
        CHECK(it->transmission_risk_level == k.transmission_risk_level);
        CHECK(it->report_type == k.report_type);
        CHECK(it->days_since_onset == k.days_since_onset);
    }
    // Fake keys look like real ones: their fields are copied from a real key.
    std::set<std::uint32_t> real_starts;
    for (const auto& k : keys) real_starts.insert(k.exposure_key.rolling_start);
    std::set<std::string> distinct;
    for (const auto& k : c.keys) {
        CHECK(real_starts.count(k.exposure_key.rolling_start) == 1);
        distinct.insert(tek_hex(k));
    }
    CHECK(distinct.size() == 24);

    // Negative neighbours: another key under the same name, or the name not configured.
    TrustStore other;
    REQUIRE(other.add_pem("999", "v7", generate_p256().public_pem).has_value());
    auto bad = read_export_zip(dir / "export.zip", other, VerifyMode::kRequireSignature, {});
    REQUIRE(!bad.has_value());
    CHECK(bad.error().code == ErrorCode::kAuthenticationFailed);
    TrustStore renamed;
    REQUIRE(renamed.add_pem("999", "v8", kp.public_pem).has_value());
    auto untrusted =
        read_export_zip(dir / "export.zip", renamed, VerifyMode::kRequireSignature, {});
    REQUIRE(!untrusted.has_value());
    CHECK(untrusted.error().code == ErrorCode::kUntrustedKey);
}

TEST_CASE("Written zip: entries export.bin then export.sig, deflated, rolling_period 144 omitted",
          "[keyfile][writer]") {
    const auto kp = generate_p256();
    const auto signer = signer_of(kp);
    core::DeterministicRng rng(1);
    auto files = build_export(sample_keys(), signer, options(), rng);
    REQUIRE(files.has_value());
    auto zip = zip_export(*files);
    REQUIRE(zip.has_value());
    auto zr = sotto::keyfile::detail::ZipReader::open_memory(*zip);
    REQUIRE(zr.has_value());
    REQUIRE(zr->entry_count() == 2);
    CHECK(zr->entry(0)->name == "export.bin");
    CHECK(zr->entry(1)->name == "export.sig");
    CHECK(zr->entry(0)->compressed_size < zr->entry(0)->size);
    CHECK(unzip_entry(*zip, "export.bin") == files->export_bin);
    CHECK(unzip_entry(*zip, "export.sig") == files->export_sig);

    // Decode with the generated classes (an independent decoder of the same schema).
    const auto& bin = files->export_bin;
    REQUIRE(std::equal(kExportBinHeader.begin(), kExportBinHeader.end(), bin.begin()));
    pb::TemporaryExposureKeyExport e;
    REQUIRE(e.ParseFromArray(bin.data() + 16, static_cast<int>(bin.size() - 16)));
    REQUIRE(e.keys_size() == 4);
    for (const auto& k : e.keys()) {
        CHECK(k.key_data().size() == 16);
        CHECK(k.has_transmission_risk_level());
        CHECK(k.has_rolling_period() == (k.rolling_period() != 144));
    }
    CHECK(!e.keys(2).has_report_type());  // kUnknown is omitted
    CHECK(e.keys(0).days_since_onset_of_symptoms() == 2);

    auto o = options();
    o.always_write_rolling_period = true;
    auto always = build_export(sample_keys(), signer, o, rng);
    REQUIRE(always.has_value());
    pb::TemporaryExposureKeyExport e2;
    REQUIRE(e2.ParseFromArray(always->export_bin.data() + 16,
                              static_cast<int>(always->export_bin.size() - 16)));
    for (const auto& k : e2.keys()) CHECK(k.has_rolling_period());
}

TEST_CASE("openssl dgst verifies the signature independently", "[keyfile][writer][openssl]") {
    TempDir dir;
    const auto kp = generate_p256();
    sotto::test::write_text(dir / "pub.pem", kp.public_pem);
    const auto signer = signer_of(kp);
    core::DeterministicRng rng(3);
    auto files = build_export(sample_keys(), signer, options(), rng);
    REQUIRE(files.has_value());
    pb::TEKSignatureList list;
    REQUIRE(
        list.ParseFromArray(files->export_sig.data(), static_cast<int>(files->export_sig.size())));
    REQUIRE(list.signatures_size() == 1);
    const auto& der = list.signatures(0).signature();
    CHECK(der.size() >= 68);
    CHECK(der.size() <= 72);
    CHECK(list.signatures(0).signature_info().verification_key_id() == "999");
    sotto::test::write_text(dir / "sig.der", der);
    sotto::test::write_file(dir / "export.bin", files->export_bin);
    auto r = sotto::test::run_process({"/usr/bin/openssl", "dgst", "-sha256", "-verify",
                                       (dir / "pub.pem").string(), "-signature",
                                       (dir / "sig.der").string(), (dir / "export.bin").string()});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "Verified OK\n");
    auto flipped = files->export_bin;
    flipped.back() ^= 1;
    sotto::test::write_file(dir / "export.bin", flipped);
    auto bad = sotto::test::run_process(
        {"/usr/bin/openssl", "dgst", "-sha256", "-verify", (dir / "pub.pem").string(), "-signature",
         (dir / "sig.der").string(), (dir / "export.bin").string()});
    CHECK(bad.exit_code != 0);
}

TEST_CASE("Signatures of every DER length (70-72 bytes) verify", "[keyfile][writer]") {
    const auto kp = generate_p256();
    const auto signer = signer_of(kp);
    TrustStore trust;
    REQUIRE(trust.add_pem("999", "v7", kp.public_pem).has_value());
    core::DeterministicRng rng(5);
    std::set<std::size_t> lengths;
    for (int i = 0; i < 40; ++i) {
        auto files = build_export(sample_keys(), signer, options(), rng);
        REQUIRE(files.has_value());
        pb::TEKSignatureList list;
        REQUIRE(list.ParseFromArray(files->export_sig.data(),
                                    static_cast<int>(files->export_sig.size())));
        lengths.insert(list.signatures(0).signature().size());
        auto info = read_export_pair(files->export_bin, files->export_sig, trust,
                                     VerifyMode::kRequireSignature, {});
        REQUIRE(info.has_value());
    }
    CHECK(lengths.size() >= 2);  // 71 and 72 are each ~50 % likely; 70 ~0.4 %
}

TEST_CASE("Padding without real keys: plausible fake keys inside the export window",
          "[keyfile][writer]") {
    const auto kp = generate_p256();
    const auto signer = signer_of(kp);
    core::DeterministicRng rng(11);
    auto o = options();
    o.padding_keys = 50;
    auto files = build_export({}, signer, o, rng);
    REQUIRE(files.has_value());
    TrustStore trust;
    REQUIRE(trust.add_pem("999", "v7", kp.public_pem).has_value());
    Collected c;
    auto info = read_export_pair(files->export_bin, files->export_sig, trust,
                                 VerifyMode::kRequireSignature, c.sink());
    REQUIRE(info.has_value());
    REQUIRE(c.keys.size() == 50);
    const std::uint32_t end_day = static_cast<std::uint32_t>(1614902400 / 600 / 144 * 144);
    for (const auto& k : c.keys) {
        CHECK(k.exposure_key.rolling_start % 144 == 0);
        CHECK(k.exposure_key.rolling_start < end_day);
        CHECK(k.exposure_key.rolling_start >= end_day - 14 * 144);
        CHECK(k.exposure_key.rolling_period == 144u);
        CHECK(k.transmission_risk_level >= 1);
        CHECK(k.transmission_risk_level <= 8);
        CHECK(k.report_type == core::ReportType::kConfirmedTest);
    }
    // Same seed, same fake keys.
    core::DeterministicRng rng2(11);
    auto again = build_export({}, signer, o, rng2);
    REQUIRE(again.has_value());
    Collected c2;
    REQUIRE(read_export_pair(again->export_bin, again->export_sig, trust,
                             VerifyMode::kRequireSignature, c2.sink())
                .has_value());
    REQUIRE(c2.keys.size() == 50);
    for (std::size_t i = 0; i < 50; ++i)
        CHECK(c.keys[i].exposure_key.tek == c2.keys[i].exposure_key.tek);
}

TEST_CASE("The writer refuses invalid keys, options and signing keys", "[keyfile][writer]") {
    const auto kp = generate_p256();
    const auto signer = signer_of(kp);
    core::DeterministicRng rng(1);
    REQUIRE(build_export(sample_keys(), signer, options(), rng).has_value());

    std::vector<std::vector<core::DiagnosisKey>> bad_keys;
    bad_keys.emplace_back().push_back(make_key("00112233445566778899aabbccddeeff", 2690000, 0));
    bad_keys.emplace_back().push_back(make_key("00112233445566778899aabbccddeeff", 2690000, 145));
    bad_keys.emplace_back().push_back(make_key("00112233445566778899aabbccddeeff", 0, 144));
    bad_keys.emplace_back().push_back(
        make_key("00112233445566778899aabbccddeeff", 0x80000000u, 144));
    bad_keys.emplace_back().push_back(
        make_key("00112233445566778899aabbccddeeff", 2690000, 144, 9));
    bad_keys.emplace_back().push_back(make_key("00112233445566778899aabbccddeeff", 2690000, 144, 1,
                                               core::ReportType::kConfirmedTest, 15));
    bad_keys.emplace_back().push_back(make_key("00112233445566778899aabbccddeeff", 2690000, 144, 1,
                                               static_cast<core::ReportType>(6)));
    for (const auto& keys : bad_keys) {
        auto r = build_export(keys, signer, options(), rng);
        REQUIRE(!r.has_value());
        CHECK(r.error().code == ErrorCode::kInvalidArgument);
    }

    auto with = [&](auto change) {
        auto o = options();
        change(o);
        auto r = build_export(sample_keys(), signer, o, rng);
        return r ? ErrorCode::kOk : r.error().code;
    };
    CHECK(with([](ExportWriteOptions& o) { o.key_id = ""; }) == ErrorCode::kInvalidArgument);
    CHECK(with([](ExportWriteOptions& o) { o.key_id = "a-b"; }) == ErrorCode::kInvalidArgument);
    CHECK(with([](ExportWriteOptions& o) { o.key_version = ""; }) == ErrorCode::kInvalidArgument);
    CHECK(with([](ExportWriteOptions& o) { o.key_version = "v 1"; }) ==
          ErrorCode::kInvalidArgument);
    CHECK(with([](ExportWriteOptions& o) { o.region = std::string(65, 'x'); }) ==
          ErrorCode::kInvalidArgument);
    CHECK(with([](ExportWriteOptions& o) { o.start_timestamp = o.end_timestamp + 1; }) ==
          ErrorCode::kInvalidArgument);
    CHECK(with([](ExportWriteOptions& o) { o.batch_num = 2; }) == ErrorCode::kInvalidArgument);
    CHECK(with([](ExportWriteOptions& o) { o.batch_num = 0; }) == ErrorCode::kInvalidArgument);
    CHECK(with([](ExportWriteOptions& o) { o.batch_size = 0; }) == ErrorCode::kInvalidArgument);
    CHECK(with([](ExportWriteOptions& o) { o.region = ""; }) == ErrorCode::kOk);
    CHECK(with([](ExportWriteOptions& o) { o.batch_num = 2, o.batch_size = 3; }) == ErrorCode::kOk);

    for (const auto& pem :
         {generate_p384().private_pem, generate_ed25519().private_pem, kp.public_pem,
          std::string("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
          std::string()}) {
        auto s = ExportSigner::from_pem(pem);
        REQUIRE(!s.has_value());
        CHECK(s.error().code == ErrorCode::kInvalidArgument);
    }

    TempDir dir;
    auto io =
        write_export_zip(dir / "no" / "such" / "dir.zip", sample_keys(), signer, options(), rng);
    REQUIRE(!io.has_value());
    CHECK(io.error().code == ErrorCode::kKeyFileIo);
}

TEST_CASE("A batch of 2 files: each names its batch_num and verifies", "[keyfile][writer]") {
    const auto kp = generate_p256();
    const auto signer = signer_of(kp);
    TrustStore trust;
    REQUIRE(trust.add_pem("999", "v7", kp.public_pem).has_value());
    core::DeterministicRng rng(2);
    auto o = options();
    o.batch_size = 2;
    for (int n = 1; n <= 2; ++n) {
        o.batch_num = n;
        auto files = build_export(sample_keys(), signer, o, rng);
        REQUIRE(files.has_value());
        auto info = read_export_pair(files->export_bin, files->export_sig, trust,
                                     VerifyMode::kRequireSignature, {});
        REQUIRE(info.has_value());
        CHECK(info->batch_num == n);
        CHECK(info->batch_size == 2);
    }
}

TEST_CASE("A generated signing key signs files its public key verifies, and only those",
          "[keyfile][writer]") {
    auto a = sotto::keyfile::ExportSigner::generate();
    auto b = sotto::keyfile::ExportSigner::generate();
    REQUIRE(a);
    REQUIRE(b);
    REQUIRE(*a->public_key_pem() != *b->public_key_pem());
    sotto::keyfile::ExportWriteOptions o;
    o.key_id = "1";
    o.key_version = "v1";
    o.start_timestamp = 1;
    o.end_timestamp = 2;
    std::vector<sotto::core::DiagnosisKey> keys;
    keys.push_back(make_key("00112233445566778899aabbccddeeff", 2690064));
    sotto::core::DeterministicRng rng(1);
    auto files = sotto::keyfile::build_export(keys, *a, o, rng);
    REQUIRE(files);
    TrustStore ta, tb;
    REQUIRE(ta.add_pem("1", "v1", *a->public_key_pem()));
    REQUIRE(tb.add_pem("1", "v1", *b->public_key_pem()));
    CHECK(read_export_pair(files->export_bin, files->export_sig, ta, VerifyMode::kRequireSignature,
                           {}));
    CHECK_FALSE(read_export_pair(files->export_bin, files->export_sig, tb,
                                 VerifyMode::kRequireSignature, {}));
}
