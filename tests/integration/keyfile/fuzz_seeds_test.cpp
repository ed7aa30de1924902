// The fuzz seed corpus (tests/fuzz/corpus/keyfile) is crafted byte by byte by
// make_keyfile_seeds.py and zipped by Python's zipfile: an encoder independent of sotto's
// writer. Each seed must read exactly as designed.
#include <catch2/catch.hpp>

#include <filesystem>

#include <sotto/keyfile/export_reader.hpp>
#include <sotto/keyfile/export_writer.hpp>

#include "keyfile_test_support.hpp"
#include "support.hpp"

using namespace sotto;
using namespace sotto::keyfile;
using namespace sotto::test::keyfile;

namespace {

const std::filesystem::path kDir = std::filesystem::path(SOTTO_FUZZ_DIR);

TrustStore seed_trust() {
    auto signer = ExportSigner::from_pem(sotto::test::read_text(kDir / "keyfile_seed_key.pem"));
    REQUIRE(signer.has_value());
    auto pub = signer->public_key_pem();
    REQUIRE(pub.has_value());
    TrustStore t;
    REQUIRE(t.add_pem("fuzz", "v1", *pub).has_value());
    return t;
}

std::vector<std::uint8_t> seed(const char* name) {
    return sotto::test::read_file(kDir / "corpus" / "keyfile" / name);
}

// [2-byte LE length n][export.bin][export.sig], as keyfile_fuzz.cpp splits it.
Result<ExportInfo> read_pair_seed(const char* name, VerifyMode mode, Collected* c = nullptr) {
    const auto b = seed(name);
    REQUIRE(b.size() >= 2);
    const std::size_t n = b[0] | (std::size_t{b[1]} << 8);
    REQUIRE(n + 2 <= b.size());
    const std::span<const std::uint8_t> all(b);
    return read_export_pair(all.subspan(2, n), all.subspan(2 + n), seed_trust(), mode,
                            c ? c->sink() : KeySink{});
}

}  // namespace

TEST_CASE("Fuzz seeds: Python-built signed zips verify (deflated and stored)", "[keyfile][seeds]") {
    for (const char* name : {"signed.zip", "signed-stored.zip"}) {
        Collected c;
        auto info =
            read_export_zip(seed(name), seed_trust(), VerifyMode::kRequireSignature, c.sink());
        CAPTURE(name);
        REQUIRE(info.has_value());
        CHECK(info->verified);
        CHECK(info->region == "FZ");
        REQUIRE(c.keys.size() == 3);
        CHECK(c.keys[0].report_type == core::ReportType::kRecursive);
        CHECK(c.keys[0].days_since_onset == 1);
        CHECK(c.keys[1].exposure_key.rolling_period == 1u);
        CHECK(c.keys[2].exposure_key.rolling_period == 144u);  // absent
        CHECK(c.keys[2].days_since_onset == -14);
    }
    auto u = read_export_zip(seed("unsigned.zip"), seed_trust(), VerifyMode::kRequireSignature, {});
    REQUIRE(!u.has_value());
    CHECK(u.error().code == ErrorCode::kUnsigned);
}

TEST_CASE("Fuzz seeds: odd fields, invalid keys, revised keys", "[keyfile][seeds]") {
    Collected c;
    auto info = read_export_pair(seed("odd-fields.bin"), {}, seed_trust(), VerifyMode::kParseOnly,
                                 c.sink());
    REQUIRE(info.has_value());
    using R = InvalidKeyReason;
    CHECK(info->keys_valid == 4);
    CHECK(info->keys_invalid == 9);
    CHECK(info->invalid(R::kKeyDataLength) == 1);
    CHECK(info->invalid(R::kKeyDataMissing) == 1);
    CHECK(info->invalid(R::kRollingPeriodRange) == 2);
    CHECK(info->invalid(R::kRollingStartMissing) == 1);
    CHECK(info->invalid(R::kTransmissionRiskLevel) == 1);
    CHECK(info->invalid(R::kReportType) == 1);
    CHECK(info->invalid(R::kDaysSinceOnset) == 1);
    CHECK(info->invalid(R::kRollingEndOverflow) == 1);
    CHECK(info->revised_keys_valid == 2);
    CHECK(info->keys_revoked == 1);
    CHECK(c.keys.size() == 4);
    REQUIRE(info->signature_infos.size() == 1);
    CHECK(info->signature_infos[0].key_id == "fuzz");

    auto signed_odd = read_pair_seed("odd-fields.pair", VerifyMode::kRequireSignature);
    REQUIRE(signed_odd.has_value());
    CHECK(signed_odd->keys_invalid == 9);
}

TEST_CASE("Fuzz seeds: signature variants", "[keyfile][seeds]") {
    auto good = read_pair_seed("signed.pair", VerifyMode::kRequireSignature);
    REQUIRE(good.has_value());
    CHECK(good->verified);
    auto two = read_pair_seed("two-signatures.pair", VerifyMode::kRequireSignature);
    REQUIRE(two.has_value());  // the second names an untrusted key: skipped
    CHECK(two->signatures.size() == 2);
    auto sha512 = read_pair_seed("sha512-oid.pair", VerifyMode::kRequireSignature);
    REQUIRE(!sha512.has_value());
    CHECK(sha512.error().code == ErrorCode::kAuthenticationFailed);
    auto batch = read_pair_seed("batch-mismatch.pair", VerifyMode::kRequireSignature);
    REQUIRE(!batch.has_value());
    CHECK(batch.error().code == ErrorCode::kKeyFileMalformed);
    auto cut =
        read_export_pair(seed("truncated.bin"), {}, seed_trust(), VerifyMode::kParseOnly, {});
    REQUIRE(!cut.has_value());
    CHECK(cut.error().code == ErrorCode::kKeyFileMalformed);
}
