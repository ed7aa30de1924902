// Hostile and broken inputs: truncation, invalid keys, unknown fields, zip bombs, absurd
// lengths, wrong zip entries. Every one is a clean error or a counted invalid key.
#include <catch2/catch.hpp>

#include <sotto/keyfile/export_reader.hpp>
#include <sotto/keyfile/export_writer.hpp>

#include "keyfile/zip_io.hpp"
#include "keyfile_test_support.hpp"
#include "support.hpp"

using namespace sotto;
using namespace sotto::keyfile;
using namespace sotto::test::keyfile;
using sotto::test::gaen_data;
using sotto::test::read_file;
namespace pb = sotto::keyfile::pb;

namespace {

Result<ExportInfo> parse_bin(std::span<const std::uint8_t> bin, Collected* c = nullptr,
                             const ReadOptions& o = {}) {
    return read_export_pair(bin, {}, TrustStore{}, VerifyMode::kParseOnly,
                            c ? c->sink() : KeySink{}, o);
}

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

}  // namespace

TEST_CASE("Truncating the real German export at every 1 KB boundary is refused cleanly",
          "[keyfile][data][truncation]") {
    const auto bin = read_file(gaen_data("cwa-real-2021-03-04/export.bin"));
    const auto sig = read_file(gaen_data("cwa-real-2021-03-04/export.sig"));
    TrustStore trust;
    REQUIRE(trust
                .add_pem("262", "v1",
                         sotto::test::read_text(
                             gaen_data("cwa-real-2021-03-04/cwa_prod_public_key_262-v1.pem")))
                .has_value());
    const auto zip = zip_of({{"export.bin", bin}, {"export.sig", sig}});

    int loose_points = 0, parse_only_ok = 0;
    for (std::size_t len = 0; len < bin.size(); len += 1024) {
        ++loose_points;
        const std::span<const std::uint8_t> cut(bin.data(), len);
        Collected c;
        auto r = read_export_pair(cut, sig, trust, VerifyMode::kRequireSignature, c.sink());
        CAPTURE(len);
        REQUIRE(!r.has_value());
        CHECK((r.error().code == ErrorCode::kKeyFileMalformed ||
               r.error().code == ErrorCode::kAuthenticationFailed));
        // Parse-only: a cut on a key boundary is a shorter valid protobuf; anything else is
        // malformed. Never a crash, never a key beyond the cut.
        auto p = parse_bin(cut);
        if (p) {
            ++parse_only_ok;
            CHECK(p->signature_status == SignatureStatus::kUnsigned);
            CHECK(p->keys_valid < 15521);
        } else {
            CHECK(p.error().code == ErrorCode::kKeyFileMalformed);
        }
    }
    CHECK(loose_points == 515);
    CHECK(parse_only_ok < 40);  // most cuts land inside a field

    int zip_points = 0;
    for (std::size_t len = 0; len < zip.size(); len += 1024) {
        ++zip_points;
        auto r = read_export_zip(std::span<const std::uint8_t>(zip.data(), len), trust,
                                 VerifyMode::kRequireSignature, {});
        CAPTURE(len);
        REQUIRE(!r.has_value());
        CHECK(r.error().code == ErrorCode::kKeyFileMalformed);
    }
    CHECK(zip_points == static_cast<int>((zip.size() + 1023) / 1024));
    CHECK(zip_points > 250);  // the zip of the real export is ~290 KB
}

TEST_CASE("Invalid keys are counted per reason and never delivered", "[keyfile][validation]") {
    pb::TemporaryExposureKeyExport e = header();
    add_valid_key(e, 0x01);
    add_valid_key(e, 0x02)->set_key_data(std::string(15, 'x'));  // 15 bytes
    add_valid_key(e, 0x03)->set_key_data(std::string(17, 'x'));  // 17 bytes
    add_valid_key(e, 0x04)->clear_key_data();                    // missing
    add_valid_key(e, 0x05)->set_rolling_period(0);
    add_valid_key(e, 0x06)->set_rolling_period(145);
    add_valid_key(e, 0x07)->set_rolling_period(-1);
    add_valid_key(e, 0x08)->clear_rolling_start_interval_number();  // missing start
    add_valid_key(e, 0x09)->set_rolling_start_interval_number(0);
    add_valid_key(e, 0x0a)->set_rolling_start_interval_number(-5);
    add_valid_key(e, 0x0b)->set_rolling_start_interval_number(INT32_MAX - 10);  // + 144 overflows
    add_valid_key(e, 0x0c)->set_transmission_risk_level(9);
    add_valid_key(e, 0x0d)->set_transmission_risk_level(-1);
    add_valid_key(e, 0x0e);  // report_type 9, added below
    add_valid_key(e, 0x0f)->set_days_since_onset_of_symptoms(15);
    add_valid_key(e, 0x10)->set_days_since_onset_of_symptoms(-15);
    // Edges that are valid.
    add_valid_key(e, 0x11)->set_rolling_period(1);
    add_valid_key(e, 0x12)->clear_rolling_period();  // absent: 144
    add_valid_key(e, 0x13)->set_days_since_onset_of_symptoms(-14);
    add_valid_key(e, 0x14)->set_days_since_onset_of_symptoms(14);
    add_valid_key(e, 0x15)->set_transmission_risk_level(0);
    add_valid_key(e, 0x16)->set_rolling_start_interval_number(INT32_MAX - 144);
    add_valid_key(e, 0x17)->clear_transmission_risk_level();
    // report_type 9 is not in the generated enum: write "28 09" (field 5, varint 9) by hand into
    // key 0x0e, the 14th key.
    e.mutable_keys(13)->mutable_unknown_fields()->append("\x28\x09", 2);
    const auto bin = bin_of(e);

    Collected c;
    auto info = parse_bin(bin, &c);
    REQUIRE(info.has_value());
    using R = InvalidKeyReason;
    CHECK(info->invalid(R::kKeyDataLength) == 2);
    CHECK(info->invalid(R::kKeyDataMissing) == 1);
    CHECK(info->invalid(R::kRollingPeriodRange) == 3);
    CHECK(info->invalid(R::kRollingStartMissing) == 1);
    CHECK(info->invalid(R::kRollingStartRange) == 2);
    CHECK(info->invalid(R::kRollingEndOverflow) == 1);
    CHECK(info->invalid(R::kTransmissionRiskLevel) == 2);
    CHECK(info->invalid(R::kReportType) == 1);
    CHECK(info->invalid(R::kDaysSinceOnset) == 2);
    CHECK(info->keys_invalid == 15);
    CHECK(info->keys_valid == 8);
    REQUIRE(c.keys.size() == 8);
    std::vector<std::uint8_t> fills;
    for (const auto& k : c.keys) fills.push_back(k.exposure_key.tek.expose_secret()[0]);
    CHECK(fills == std::vector<std::uint8_t>{0x01, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17});
    CHECK(c.keys[1].exposure_key.rolling_period == 1u);
    CHECK(c.keys[2].exposure_key.rolling_period == 144u);
    CHECK(c.keys[3].days_since_onset == -14);
    CHECK(c.keys[4].days_since_onset == 14);
    CHECK(c.keys[6].exposure_key.rolling_start == static_cast<std::uint32_t>(INT32_MAX - 144));
    CHECK(c.keys[7].transmission_risk_level == 0);
    CHECK(!c.keys[0].days_since_onset.has_value());
    for (std::size_t i = 0; i < kInvalidKeyReasonCount; ++i)
        CHECK(std::string(invalid_key_reason_name(static_cast<R>(i))).size() > 5);
}

TEST_CASE("All report types 0..5 are valid, revoked and revised keys follow the options",
          "[keyfile][validation]") {
    pb::TemporaryExposureKeyExport e = header();
    for (int t = 0; t <= 5; ++t)
        add_valid_key(e, static_cast<std::uint8_t>(0x20 + t))
            ->set_report_type(static_cast<pb::TemporaryExposureKey::ReportType>(t));
    auto* revised = e.add_revised_keys();
    *revised = e.keys(1);
    revised->set_report_type(pb::TemporaryExposureKey::CONFIRMED_CLINICAL_DIAGNOSIS);
    auto* revoked = e.add_revised_keys();
    *revoked = e.keys(2);
    revoked->set_report_type(pb::TemporaryExposureKey::REVOKED);
    auto* bad_revised = e.add_revised_keys();
    *bad_revised = e.keys(3);
    bad_revised->set_rolling_period(200);
    const auto bin = bin_of(e);

    SECTION("default: keys of field 7 except REVOKED") {
        Collected c;
        auto info = parse_bin(bin, &c);
        REQUIRE(info.has_value());
        CHECK(info->keys_valid == 6);
        CHECK(info->revised_keys_valid == 2);
        CHECK(info->keys_revoked == 2);  // one in keys, one in revised_keys
        CHECK(info->keys_invalid == 1);
        CHECK(info->keys_delivered == 5);
        REQUIRE(c.keys.size() == 5);
        for (const auto& k : c.keys) CHECK(k.report_type != core::ReportType::kRevoked);
        CHECK(c.keys[0].report_type == core::ReportType::kUnknown);
        CHECK(c.keys[4].report_type == core::ReportType::kRecursive);
    }
    SECTION("revised keys delivered, revoked still skipped") {
        ReadOptions o;
        o.deliver_revised_keys = true;
        Collected c;
        auto info = parse_bin(bin, &c, o);
        REQUIRE(info.has_value());
        CHECK(c.keys.size() == 6);
        CHECK(c.keys.back().report_type == core::ReportType::kConfirmedClinicalDiagnosis);
    }
    SECTION("everything delivered") {
        ReadOptions o;
        o.deliver_revised_keys = true;
        o.deliver_revoked_keys = true;
        Collected c;
        auto info = parse_bin(bin, &c, o);
        REQUIRE(info.has_value());
        CHECK(c.keys.size() == 8);
        CHECK(info->keys_delivered == 8);
    }
}

TEST_CASE("Unknown fields are skipped at every level, reserved SignatureInfo fields too",
          "[keyfile][validation]") {
    pb::TemporaryExposureKeyExport e = header();
    auto* k = add_valid_key(e, 0x33);
    k->set_variant_of_concern(pb::TemporaryExposureKey::VARIANT_TYPE_2);
    // Key: unknown varint 15, unknown bytes 16, unknown fixed32 17, unknown fixed64 18, a group 19.
    k->mutable_unknown_fields()->append(std::string("\x78\x05", 2));
    k->mutable_unknown_fields()->append(
        std::string("\x82\x01\x03"
                    "abc",
                    6));
    k->mutable_unknown_fields()->append(std::string("\x8d\x01\x01\x02\x03\x04", 6));
    k->mutable_unknown_fields()->append(
        std::string("\x91\x01"
                    "12345678",
                    10));
    k->mutable_unknown_fields()->append(std::string("\x9b\x01\x08\x01\x9c\x01", 6));
    // Export: unknown field 99 (bytes), SignatureInfo reserved fields 1 and 2 and unknown 9.
    e.mutable_unknown_fields()->append(std::string("\x9a\x06\x02zz", 5));
    e.mutable_signature_infos(0)->mutable_unknown_fields()->append(
        std::string("\x0a\x14"
                    "de.rki.coronawarnapp",
                    22));
    e.mutable_signature_infos(0)->mutable_unknown_fields()->append(
        std::string("\x12\x03"
                    "pkg",
                    5));
    e.mutable_signature_infos(0)->mutable_unknown_fields()->append(std::string("\x48\x01", 2));
    Collected c;
    auto info = parse_bin(bin_of(e), &c);
    REQUIRE(info.has_value());
    CHECK(info->keys_valid == 1);
    REQUIRE(c.keys.size() == 1);
    CHECK(c.keys[0].transmission_risk_level == 1);
    REQUIRE(info->signature_infos.size() == 1);
    CHECK(info->signature_infos[0].key_id == "test");
    CHECK(info->signature_infos[0].key_version == "v1");

    // A known field with the wrong wire type is an unknown field: key_data as a varint means
    // no key_data.
    pb::TemporaryExposureKeyExport w = header();
    auto* wk = add_valid_key(w, 0x44);
    wk->clear_key_data();
    wk->mutable_unknown_fields()->append(std::string("\x08\x07", 2));
    Collected c2;
    auto info2 = parse_bin(bin_of(w), &c2);
    REQUIRE(info2.has_value());
    CHECK(info2->invalid(InvalidKeyReason::kKeyDataMissing) == 1);
    CHECK(c2.keys.empty());
}

TEST_CASE("Broken protobuf structure is kKeyFileMalformed", "[keyfile][malformed]") {
    const auto good = bin_of(header());
    REQUIRE(parse_bin(good).has_value());
    const std::vector<std::pair<const char*, std::vector<std::uint8_t>>> cases = {
        {"empty", {}},
        {"half a header", bytes("EK Export")},
        {"wrong header", bytes("EK Export v2    ")},
        {"header in lower case", bytes("ek export v1    ")},
        {"length beyond the end", bin_of_raw(std::vector<std::uint8_t>{0x3a, 0x7f, 0x0a})},
        {"huge length varint", bin_of_raw(std::vector<std::uint8_t>{0x3a, 0xff, 0xff, 0xff, 0xff, 0x07})},
        {"length above 2^31", bin_of_raw(std::vector<std::uint8_t>{0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f})},
        {"unterminated varint", bin_of_raw(std::vector<std::uint8_t>{0x20, 0xff, 0xff})},
        {"11-byte varint", bin_of_raw(std::vector<std::uint8_t>{0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                                                0xff, 0xff, 0xff, 0xff, 0x01})},
        {"truncated fixed64", bin_of_raw(std::vector<std::uint8_t>{0x09, 0x01, 0x02})},
        {"tag 0", bin_of_raw(std::vector<std::uint8_t>{0x00, 0x01})},
        {"field 0 length-delimited", bin_of_raw(std::vector<std::uint8_t>{0x02, 0x00})},
        {"end-group without start", bin_of_raw(std::vector<std::uint8_t>{0x0c})},
        {"wire type 6", bin_of_raw(std::vector<std::uint8_t>{0x0e, 0x00})},
        {"key length beyond its parent", bin_of_raw(std::vector<std::uint8_t>{
                                              0x3a, 0x04, 0x0a, 0x10, 0x00, 0x00, 0x00})},
        {"key_data length beyond the file", bin_of_raw(std::vector<std::uint8_t>{0x3a, 0x02, 0x0a, 0x10})},
        {"zero byte inside a key", bin_of_raw(std::vector<std::uint8_t>{0x3a, 0x02, 0x00, 0x00})},
        {"unterminated group in a key", bin_of_raw(std::vector<std::uint8_t>{0x3a, 0x02, 0x9b, 0x01})},
        {"region too long", [] {
             pb::TemporaryExposureKeyExport e = header();
             e.set_region(std::string(300, 'R'));
             return bin_of(e);
         }()},
        {"batch_num above batch_size", [] {
             pb::TemporaryExposureKeyExport e = header();
             e.set_batch_num(2);
             return bin_of(e);
         }()},
        {"batch_size 0", [] {
             pb::TemporaryExposureKeyExport e = header();
             e.set_batch_size(0);
             e.clear_batch_num();
             return bin_of(e);
         }()},
        {"17 signature_infos", [] {
             pb::TemporaryExposureKeyExport e = header();
             for (int i = 0; i < 16; ++i) *e.add_signature_infos() = e.signature_infos(0);
             return bin_of(e);
         }()},
        {"bad SignatureInfo", bin_of_raw(std::vector<std::uint8_t>{0x32, 0x02, 0x1a, 0x05})},
    };
    for (const auto& [name, bin] : cases) {
        CAPTURE(name);
        Collected c;
        auto r = parse_bin(bin, &c);
        REQUIRE(!r.has_value());
        CHECK(r.error().code == ErrorCode::kKeyFileMalformed);
        CHECK(std::string(r.error().what).size() > 5);
        // The same bytes zipped: the same error.
        auto z = read_export_zip(zip_of({{"export.bin", bin}}), TrustStore{},
                                 VerifyMode::kParseOnly, {});
        REQUIRE(!z.has_value());
        CHECK(z.error().code == ErrorCode::kKeyFileMalformed);
    }
}

TEST_CASE("A valid key before a broken field is delivered, but the call fails",
          "[keyfile][malformed]") {
    pb::TemporaryExposureKeyExport e = header();
    add_valid_key(e, 0x01);
    auto bin = bin_of(e);
    bin.push_back(0x3a);
    bin.push_back(0x50);  // a key of 80 bytes that is not there
    Collected c;
    auto r = parse_bin(bin, &c);
    REQUIRE(!r.has_value());
    CHECK(r.error().code == ErrorCode::kKeyFileMalformed);
    CHECK(c.keys.size() == 1);  // streamed: keys are candidates until the call succeeds
}

TEST_CASE("Zip bombs and oversized entries are kKeyFileTooLarge", "[keyfile][limits]") {
    pb::TemporaryExposureKeyExport e = header();
    add_valid_key(e, 0x01);
    // A valid export.bin followed by a huge unknown field of zeros: compresses ~1000:1.
    auto make_bin = [&](std::size_t zeros) {
        auto bin = bin_of(e);
        // field 99, wire type 2, length = zeros
        std::string tag = "\x9a\x06";
        bin.insert(bin.end(), tag.begin(), tag.end());
        std::size_t n = zeros;
        while (n >= 0x80) {
            bin.push_back(static_cast<std::uint8_t>(n | 0x80));
            n >>= 7;
        }
        bin.push_back(static_cast<std::uint8_t>(n));
        bin.resize(bin.size() + zeros, 0);
        return bin;
    };

    SECTION("declared size above the default 32 MiB limit") {
        const auto bin = make_bin(std::size_t{40} << 20);
        const auto zip = zip_of({{"export.bin", bin}});
        CHECK(zip.size() < 100 * 1024);
        auto r = read_export_zip(zip, TrustStore{}, VerifyMode::kParseOnly, {});
        REQUIRE(!r.has_value());
        CHECK(r.error().code == ErrorCode::kKeyFileTooLarge);
    }
    SECTION("under the size limit but above the compression ratio") {
        const auto bin = make_bin(std::size_t{4} << 20);
        auto r = read_export_zip(zip_of({{"export.bin", bin}}), TrustStore{},
                                 VerifyMode::kParseOnly, {});
        REQUIRE(!r.has_value());
        CHECK(r.error().code == ErrorCode::kKeyFileTooLarge);
        // Positive neighbour: with the ratio check relaxed it parses.
        ReadOptions o;
        o.max_compression_ratio = 100000;
        auto ok = read_export_zip(zip_of({{"export.bin", bin}}), TrustStore{},
                                  VerifyMode::kParseOnly, {}, o);
        REQUIRE(ok.has_value());
        CHECK(ok->keys_valid == 1);
    }
    SECTION("a configured lower limit, loose and zipped") {
        ReadOptions o;
        o.max_export_bin_bytes = 1000;
        const auto bin = make_bin(2000);
        auto loose = parse_bin(bin, nullptr, o);
        REQUIRE(!loose.has_value());
        CHECK(loose.error().code == ErrorCode::kKeyFileTooLarge);
        auto zipped = read_export_zip(zip_of({{"export.bin", bin}}), TrustStore{},
                                      VerifyMode::kParseOnly, {}, o);
        REQUIRE(!zipped.has_value());
        CHECK(zipped.error().code == ErrorCode::kKeyFileTooLarge);
        o.max_export_bin_bytes = bin.size();
        CHECK(parse_bin(bin, nullptr, o).has_value());
    }
    SECTION("an entry that inflates to more than its directory entry declares") {
        const auto bin = make_bin(200000);
        auto zip = zip_of({{"export.bin", bin}});
        // Patch the uncompressed size (local header offset 22, central directory +24) to 1000.
        const std::uint32_t lie = 1000;
        auto put32 = [&](std::size_t at) {
            for (int i = 0; i < 4; ++i)
                zip[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(lie >> (8 * i));
        };
        REQUIRE(zip[0] == 'P');
        put32(22);
        std::size_t cd = 0;
        for (std::size_t i = 0; i + 4 <= zip.size(); ++i)
            if (zip[i] == 'P' && zip[i + 1] == 'K' && zip[i + 2] == 1 && zip[i + 3] == 2) cd = i;
        REQUIRE(cd > 0);
        put32(cd + 24);
        auto r = read_export_zip(zip, TrustStore{}, VerifyMode::kParseOnly, {});
        REQUIRE(!r.has_value());
        CHECK((r.error().code == ErrorCode::kKeyFileMalformed ||
               r.error().code == ErrorCode::kKeyFileTooLarge));
    }
    SECTION("export.sig above its limit") {
        const auto bin = bin_of(e);
        std::vector<std::uint8_t> sig(70000, 0);
        auto r = read_export_zip(zip_of({{"export.bin", bin}, {"export.sig", sig}}), TrustStore{},
                                 VerifyMode::kParseOnly, {});
        REQUIRE(!r.has_value());
        CHECK(r.error().code == ErrorCode::kKeyFileTooLarge);
        auto loose = read_export_pair(bin, sig, TrustStore{}, VerifyMode::kParseOnly, {});
        REQUIRE(!loose.has_value());
        CHECK(loose.error().code == ErrorCode::kKeyFileTooLarge);
    }
    SECTION("bad options") {
        ReadOptions o;
        o.max_export_bin_bytes = std::uint64_t{2} << 30;
        auto r = parse_bin(bin_of(e), nullptr, o);
        REQUIRE(!r.has_value());
        CHECK(r.error().code == ErrorCode::kInvalidArgument);
    }
}

TEST_CASE("Zip containers: exactly export.bin and optionally export.sig", "[keyfile][zip]") {
    pb::TemporaryExposureKeyExport e = header();
    add_valid_key(e, 0x01);
    const auto bin = bin_of(e);

    auto code_of = [](const std::vector<std::uint8_t>& zip) {
        auto r = read_export_zip(zip, TrustStore{}, VerifyMode::kParseOnly, {});
        return r ? ErrorCode::kOk : r.error().code;
    };
    CHECK(code_of(zip_of({{"export.bin", bin}})) == ErrorCode::kOk);
    CHECK(code_of(zip_of({{"export.sig", {}}, {"export.bin", bin}})) ==
          ErrorCode::kOk);  // any order
    CHECK(code_of(zip_of({{"export.bin", bin}, {"export.sig", {}}, {"README", {1}}})) ==
          ErrorCode::kKeyFileMalformed);
    CHECK(code_of(zip_of({{"export.bin", bin}, {"other.bin", bin}})) ==
          ErrorCode::kKeyFileMalformed);
    CHECK(code_of(zip_of({{"Export.bin", bin}})) == ErrorCode::kKeyFileMalformed);
    CHECK(code_of(zip_of({{"dir/export.bin", bin}})) == ErrorCode::kKeyFileMalformed);
    CHECK(code_of(zip_of({{"export.sig", {}}})) == ErrorCode::kKeyFileMalformed);
    CHECK(code_of(zip_of({})) == ErrorCode::kKeyFileMalformed);
    CHECK(code_of(bytes("not a zip at all")) == ErrorCode::kKeyFileMalformed);
    CHECK(code_of({}) == ErrorCode::kKeyFileMalformed);
    CHECK(code_of(bin) == ErrorCode::kKeyFileMalformed);  // a loose export.bin is not a zip

    // Stored (not deflated) entries are fine too.
    std::vector<sotto::keyfile::detail::ZipEntryOut> stored = {{"export.bin", bin, false}};
    auto z = sotto::keyfile::detail::make_zip(stored);
    REQUIRE(z.has_value());
    CHECK(code_of(*z) == ErrorCode::kOk);

    // Files that are not there.
    sotto::test::TempDir dir;
    auto missing = read_export_zip(dir / "nope.zip", TrustStore{}, VerifyMode::kParseOnly, {});
    REQUIRE(!missing.has_value());
    CHECK(missing.error().code == ErrorCode::kKeyFileIo);
    auto missing_bin = read_export_pair(dir / "export.bin", dir / "export.sig", TrustStore{},
                                        VerifyMode::kParseOnly, {});
    REQUIRE(!missing_bin.has_value());
    CHECK(missing_bin.error().code == ErrorCode::kKeyFileIo);
    auto a_dir = read_export_zip(dir.path(), TrustStore{}, VerifyMode::kParseOnly, {});
    REQUIRE(!a_dir.has_value());
}
