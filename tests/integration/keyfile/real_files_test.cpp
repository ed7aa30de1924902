// The real and official export files in ../shared/gaen-data (see its README): every signed file
// verifies with its key, and every tampered, re-keyed or unsigned neighbour is refused.
#include <catch2/catch.hpp>

#include <openssl/evp.h>

#include <map>
#include <utility>

#include <sotto/bytes.hpp>
#include <sotto/keyfile/export_reader.hpp>

#include "keyfile_test_support.hpp"
#include "support.hpp"

using namespace sotto;
using namespace sotto::keyfile;
using namespace sotto::test::keyfile;
using sotto::test::gaen_data;
using sotto::test::read_file;
using sotto::test::read_text;

namespace {

const char* kGoogleZip = "google-server-example/testExport-2-records-1-of-1.zip";
const char* kGooglePem = "google-server-example/public.pem";
const char* kInternalsZip = "google-internals-sample/sample_diagnosis_key_file.zip";
const char* kInternalsPem = "google-internals-sample/key_310-v1_public.pem";
const char* kCwaBin = "cwa-real-2021-03-04/export.bin";
const char* kCwaSig = "cwa-real-2021-03-04/export.sig";
const char* kCwaPem = "cwa-real-2021-03-04/cwa_prod_public_key_262-v1.pem";

TrustStore google_trust() { return trust_from_file(gaen_data(kGooglePem), "some_id", "1"); }
TrustStore internals_trust() { return trust_from_file(gaen_data(kInternalsPem), "310", "v1"); }
TrustStore cwa_trust() { return trust_from_file(gaen_data(kCwaPem), "262", "v1"); }

Result<ExportInfo> read_cwa_pair(std::span<const std::uint8_t> bin,
                                 std::span<const std::uint8_t> sig, const TrustStore& trust,
                                 Collected* c = nullptr) {
    return read_export_pair(bin, sig, trust, VerifyMode::kRequireSignature,
                            c ? c->sink() : KeySink{});
}

}  // namespace

TEST_CASE("Google server example export verifies and yields its 2 keys exactly",
          "[keyfile][data]") {
    Collected c;
    auto info = read_export_zip(gaen_data(kGoogleZip), google_trust(),
                                VerifyMode::kRequireSignature, c.sink());
    REQUIRE(info.has_value());
    CHECK(info->verified);
    CHECK(info->signature_status == SignatureStatus::kVerified);
    CHECK(info->verified_key_id == "some_id");
    CHECK(info->verified_key_version == "1");
    CHECK(info->start_timestamp == 1590159600u);
    CHECK(info->end_timestamp == 1590246000u);
    CHECK(info->region == "US");
    CHECK(info->batch_num == 1);
    CHECK(info->batch_size == 1);
    REQUIRE(info->signature_infos.size() == 1);
    CHECK(info->signature_infos[0].key_id == "some_id");
    CHECK(info->signature_infos[0].key_version == "1");
    CHECK(info->signature_infos[0].algorithm == "1.2.840.10045.4.3.2");
    REQUIRE(info->signatures.size() == 1);
    CHECK(info->signatures[0].key_id == "some_id");
    CHECK(info->export_bin_bytes == 135);
    CHECK(info->keys_valid == 2);
    CHECK(info->keys_invalid == 0);
    CHECK(info->keys_delivered == 2);

    REQUIRE(c.keys.size() == 2);
    CHECK(tek_hex(c.keys[0]) == "172fc480e598490c34177604339b1543");
    CHECK(c.keys[0].exposure_key.rolling_start == 2649980u);
    CHECK(c.keys[0].exposure_key.rolling_period == 1u);
    CHECK(c.keys[0].transmission_risk_level == 8);
    CHECK(c.keys[0].report_type == core::ReportType::kUnknown);
    CHECK(!c.keys[0].days_since_onset.has_value());
    CHECK(tek_hex(c.keys[1]) == "2b63053ac483238de176169e861f3dcd");
    CHECK(c.keys[1].exposure_key.rolling_start == 2649866u);
    CHECK(c.keys[1].exposure_key.rolling_period == 114u);
    CHECK(c.keys[1].transmission_risk_level == 1);
}

TEST_CASE("Export digest is SHA-256 of export.bin, the bytes the signature covers",
          "[keyfile][data]") {
    auto zip = read_file(gaen_data(kGoogleZip));
    auto bin = unzip_entry(zip, "export.bin");
    std::array<std::uint8_t, 32> d{};
    unsigned int len = 0;
    REQUIRE(EVP_Digest(bin.data(), bin.size(), d.data(), &len, EVP_sha256(), nullptr) == 1);
    auto info = read_export_zip(zip, google_trust(), VerifyMode::kRequireSignature, {});
    REQUIRE(info.has_value());
    CHECK(info->export_bin_sha256 == d);
    CHECK(info->export_bin_sha256_hex() == to_hex(d));
    // The zip from disk and from memory give the same result.
    auto from_disk =
        read_export_zip(gaen_data(kGoogleZip), google_trust(), VerifyMode::kRequireSignature, {});
    REQUIRE(from_disk.has_value());
    CHECK(from_disk->export_bin_sha256 == d);
}

TEST_CASE("Google internals sample: 140 keys, absent rolling_period read as 144",
          "[keyfile][data]") {
    Collected c;
    auto info = read_export_zip(gaen_data(kInternalsZip), internals_trust(),
                                VerifyMode::kRequireSignature, c.sink());
    REQUIRE(info.has_value());
    CHECK(info->verified);
    CHECK(info->verified_key_id == "310");
    CHECK(info->verified_key_version == "v1");
    CHECK(info->start_timestamp == 1593633600u);
    CHECK(info->end_timestamp == 1593633900u);
    CHECK(info->region == "US");
    CHECK(info->keys_valid == 140);
    CHECK(info->keys_invalid == 0);
    REQUIRE(c.keys.size() == 140);
    for (const auto& k : c.keys) CHECK(k.exposure_key.rolling_period == 144u);
    // Sorted by key_data, as Google's server writes them.
    for (std::size_t i = 1; i < c.keys.size(); ++i)
        CHECK(tek_hex(c.keys[i - 1]) < tek_hex(c.keys[i]));
}

TEST_CASE("Real German CWA export (loose export.bin + export.sig) verifies with key 262/v1",
          "[keyfile][data]") {
    Collected c;
    auto info = read_export_pair(gaen_data(kCwaBin), gaen_data(kCwaSig), cwa_trust(),
                                 VerifyMode::kRequireSignature, c.sink());
    REQUIRE(info.has_value());
    CHECK(info->verified);
    CHECK(info->verified_key_id == "262");
    CHECK(info->verified_key_version == "v1");
    CHECK(info->region == "DE");
    CHECK(info->start_timestamp == 1614816000u);
    CHECK(info->end_timestamp == 1614902400u);
    CHECK(info->export_bin_bytes == 526415);
    CHECK(info->export_bin_sha256_hex() ==
          "2946abbd050c7a4c7aec01f9f6696ecd75411de2f1efc0c51712f7728a810246");
    CHECK(info->keys_valid == 15521);
    CHECK(info->keys_invalid == 0);
    REQUIRE(c.keys.size() == 15521);

    // (TRL, report_type) as CWA encodes them (gaen.md §4.5). The doc's table counts the 14,056
    // keys with rolling_period 144; the whole file (cross-checked with protoc --decode_raw) adds
    // the keys of shorter periods.
    std::map<std::pair<int, int>, int> all, full_day;
    std::map<int, int> dsos;
    for (const auto& k : c.keys) {
        const std::pair<int, int> p{k.transmission_risk_level, static_cast<int>(k.report_type)};
        ++all[p];
        if (k.exposure_key.rolling_period == 144) ++full_day[p];
        REQUIRE(k.days_since_onset.has_value());
        ++dsos[*k.days_since_onset];
    }
    const std::map<std::pair<int, int>, int> expected_full_day = {
        {{1, 4}, 4568}, {{5, 2}, 1858}, {{7, 1}, 1801}, {{8, 1}, 1764},
        {{6, 2}, 1720}, {{2, 4}, 927},  {{4, 3}, 843},  {{3, 3}, 575}};
    const std::map<std::pair<int, int>, int> expected_all = {
        {{1, 4}, 4697}, {{5, 2}, 2675}, {{6, 2}, 1840}, {{8, 1}, 1828},
        {{7, 1}, 1814}, {{2, 4}, 1025}, {{4, 3}, 1009}, {{3, 3}, 633}};
    CHECK(full_day == expected_full_day);
    CHECK(all == expected_all);
    // Only DSOS 1 and 2 occur in real CWA files (odd TRL -> 1, even TRL -> 2).
    CHECK(dsos == std::map<int, int>{{1, 9819}, {2, 5702}});
    for (const auto& k : c.keys)
        CHECK(*k.days_since_onset == (k.transmission_risk_level % 2 ? 1 : 2));

    // A key from real_matches.csv (gaen.md §1.8) is in it with its published fields.
    bool found = false;
    for (const auto& k : c.keys)
        if (tek_hex(k) == "1a1a7081aa67a08072844aed3347730f") {
            found = true;
            CHECK(k.exposure_key.rolling_start == 2689920u);
            CHECK(k.exposure_key.rolling_period == 144u);
            CHECK(k.report_type == core::ReportType::kRecursive);
            CHECK(k.days_since_onset == 1);
        }
    CHECK(found);
}

TEST_CASE("Real German export read from memory, from a zip, and in two passes gives the same keys",
          "[keyfile][data]") {
    const auto bin = read_file(gaen_data(kCwaBin));
    const auto sig = read_file(gaen_data(kCwaSig));
    const auto zip = zip_of({{"export.bin", bin}, {"export.sig", sig}});
    Collected a, b, d;
    auto ra = read_cwa_pair(bin, sig, cwa_trust(), &a);
    auto rb = read_export_zip(zip, cwa_trust(), VerifyMode::kRequireSignature, b.sink());
    auto rd = read_export_zip(zip, cwa_trust(), VerifyMode::kRequireSignatureFirst, d.sink());
    REQUIRE(ra.has_value());
    REQUIRE(rb.has_value());
    REQUIRE(rd.has_value());
    CHECK(rd->verified);
    REQUIRE(a.keys.size() == 15521);
    REQUIRE(b.keys.size() == 15521);
    REQUIRE(d.keys.size() == 15521);
    for (std::size_t i = 0; i < a.keys.size(); i += 97) {
        CHECK(a.keys[i].exposure_key.tek == b.keys[i].exposure_key.tek);
        CHECK(a.keys[i].exposure_key.tek == d.keys[i].exposure_key.tek);
    }
}

TEST_CASE("Immuni export.bin parses in parse-only mode and is refused when a signature is required",
          "[keyfile][data]") {
    const auto bin_path = gaen_data("immuni/export.bin");
    const auto missing_sig = bin_path.parent_path() / "export.sig";  // does not exist
    Collected c;
    auto info =
        read_export_pair(bin_path, missing_sig, TrustStore{}, VerifyMode::kParseOnly, c.sink());
    REQUIRE(info.has_value());
    CHECK(!info->verified);
    CHECK(info->signature_status == SignatureStatus::kUnsigned);
    REQUIRE(info->signature_error);
    CHECK(info->signature_error->code == ErrorCode::kUnsigned);
    CHECK(info->region == "222");
    REQUIRE(info->signature_infos.size() == 1);
    CHECK(info->signature_infos[0].key_id == "222");
    CHECK(info->signature_infos[0].key_version == "v2");
    CHECK(info->keys_valid == 3);
    REQUIRE(c.keys.size() == 3);
    for (const auto& k : c.keys) {
        CHECK(k.transmission_risk_level == 8);
        CHECK(k.exposure_key.rolling_period == 144u);
    }
    // Negative neighbour: the same file when a signature is required.
    Collected none;
    for (auto mode : {VerifyMode::kRequireSignature, VerifyMode::kRequireSignatureFirst}) {
        auto refused = read_export_pair(bin_path, missing_sig, cwa_trust(), mode, none.sink());
        REQUIRE(!refused.has_value());
        CHECK(refused.error().code == ErrorCode::kUnsigned);
    }
    CHECK(none.keys.empty());  // refused before any key was delivered
}

TEST_CASE("A flipped byte anywhere in export.bin or export.sig is refused", "[keyfile][data]") {
    const auto bin = read_file(gaen_data(kCwaBin));
    const auto sig = read_file(gaen_data(kCwaSig));
    REQUIRE(read_cwa_pair(bin, sig, cwa_trust()).has_value());

    SECTION("export.bin: header, first field, middle, last byte") {
        for (std::size_t pos :
             {std::size_t{0}, std::size_t{15}, std::size_t{17}, bin.size() / 2, bin.size() - 1}) {
            auto bad = bin;
            bad[pos] ^= 0x01;
            CAPTURE(pos);
            auto r = read_cwa_pair(bad, sig, cwa_trust());
            REQUIRE(!r.has_value());
            CHECK((r.error().code == ErrorCode::kAuthenticationFailed ||
                   r.error().code == ErrorCode::kKeyFileMalformed));
        }
        // A flip inside a key's bytes keeps the protobuf valid: only the signature catches it.
        auto bad = bin;
        bad[bin.size() / 2] ^= 0x80;
        auto parsed = read_export_pair(bad, sig, cwa_trust(), VerifyMode::kParseOnly, {});
        if (parsed) {
            CHECK(parsed->signature_status == SignatureStatus::kBadSignature);
            CHECK(!parsed->verified);
        }
    }
    SECTION("export.sig: the signature bytes, r and s") {
        // The DER signature is the last field of export.sig; flip its first, middle, last byte.
        for (std::size_t back :
             {std::size_t{1}, std::size_t{20}, std::size_t{40}, std::size_t{60}}) {
            auto bad = sig;
            bad[sig.size() - back] ^= 0x01;
            CAPTURE(back);
            auto r = read_cwa_pair(bin, bad, cwa_trust());
            REQUIRE(!r.has_value());
            CHECK((r.error().code == ErrorCode::kAuthenticationFailed ||
                   r.error().code == ErrorCode::kKeyFileMalformed));
        }
    }
    SECTION("the zip around them: re-zipped flipped bin is refused by the signature") {
        auto zip = read_file(gaen_data(kGoogleZip));
        auto gbin = unzip_entry(zip, "export.bin");
        auto gsig = unzip_entry(zip, "export.sig");
        for (std::size_t pos : {std::size_t{3}, std::size_t{40}, gbin.size() - 1}) {
            auto bad = gbin;
            bad[pos] ^= 0x04;
            CAPTURE(pos);
            auto r = read_export_zip(zip_of({{"export.bin", bad}, {"export.sig", gsig}}),
                                     google_trust(), VerifyMode::kRequireSignature, {});
            REQUIRE(!r.has_value());
            CHECK((r.error().code == ErrorCode::kAuthenticationFailed ||
                   r.error().code == ErrorCode::kKeyFileMalformed));
        }
    }
    SECTION("the zip bytes themselves: CRC and inflate errors are malformed, never accepted") {
        auto zip = read_file(gaen_data(kGoogleZip));
        for (std::size_t pos = 0; pos < zip.size(); ++pos) {
            auto bad = zip;
            bad[pos] ^= 0x10;
            auto r = read_export_zip(bad, google_trust(), VerifyMode::kRequireSignature, {});
            if (r) {
                // Only bytes outside what is checked (e.g. timestamps, "version made by") may flip.
                CHECK(r->verified);
                CHECK(r->keys_valid == 2);
            } else {
                CAPTURE(pos);
                CHECK(r.error().code != ErrorCode::kInternal);
            }
        }
    }
}

TEST_CASE("Wrong public keys and unknown key names are refused", "[keyfile][data]") {
    const auto bin = read_file(gaen_data(kCwaBin));
    const auto sig = read_file(gaen_data(kCwaSig));

    SECTION("the right name bound to another authority's key: authentication fails") {
        auto trust = trust_from_file(gaen_data(kGooglePem), "262", "v1");
        auto r = read_cwa_pair(bin, sig, trust);
        REQUIRE(!r.has_value());
        CHECK(r.error().code == ErrorCode::kAuthenticationFailed);
    }
    SECTION("a freshly generated key under the right name: authentication fails") {
        TrustStore trust;
        REQUIRE(trust.add_pem("262", "v1", generate_p256().public_pem).has_value());
        auto r = read_cwa_pair(bin, sig, trust);
        REQUIRE(!r.has_value());
        CHECK(r.error().code == ErrorCode::kAuthenticationFailed);
    }
    SECTION("the right key under another name: the file's key is not configured") {
        for (auto [id, version] : std::vector<std::pair<std::string, std::string>>{
                 {"262", "v2"}, {"263", "v1"}, {"some_id", "1"}}) {
            auto trust = trust_from_file(gaen_data(kCwaPem), id, version);
            auto r = read_cwa_pair(bin, sig, trust);
            REQUIRE(!r.has_value());
            CHECK(r.error().code == ErrorCode::kUntrustedKey);
        }
    }
    SECTION("an empty trust store") {
        auto r = read_cwa_pair(bin, sig, TrustStore{});
        REQUIRE(!r.has_value());
        CHECK(r.error().code == ErrorCode::kUntrustedKey);
    }
    SECTION("key rotation: the old and the new key both configured") {
        auto trust = trust_from_file(gaen_data(kGooglePem), "262", "v0");
        REQUIRE(trust.add_pem("262", "v1", read_text(gaen_data(kCwaPem))).has_value());
        REQUIRE(trust.add_pem("262", "v2", generate_p256().public_pem).has_value());
        auto r = read_cwa_pair(bin, sig, trust);
        REQUIRE(r.has_value());
        CHECK(r->verified_key_version == "v1");
    }
    SECTION("an any-id key: the right one verifies, a wrong one fails") {
        TrustStore right;
        REQUIRE(right.add_pem_any_id(read_text(gaen_data(kCwaPem))).has_value());
        auto ok = read_cwa_pair(bin, sig, right);
        REQUIRE(ok.has_value());
        CHECK(ok->verified_key_id == "262");
        TrustStore wrong;
        REQUIRE(wrong.add_pem_any_id(read_text(gaen_data(kGooglePem))).has_value());
        REQUIRE(wrong.add_pem_any_id(read_text(gaen_data(kInternalsPem))).has_value());
        auto bad = read_cwa_pair(bin, sig, wrong);
        REQUIRE(!bad.has_value());
        CHECK(bad.error().code == ErrorCode::kAuthenticationFailed);
        // Several any-id keys: one of them must verify.
        REQUIRE(wrong.add_pem_any_id(read_text(gaen_data(kCwaPem))).has_value());
        CHECK(read_cwa_pair(bin, sig, wrong).has_value());
    }
    SECTION("parse-only reports the same verdict without refusing") {
        auto trust = trust_from_file(gaen_data(kGooglePem), "262", "v1");
        auto r = read_export_pair(bin, sig, trust, VerifyMode::kParseOnly, {});
        REQUIRE(r.has_value());
        CHECK(!r->verified);
        CHECK(r->signature_status == SignatureStatus::kBadSignature);
        REQUIRE(r->signature_error);
        CHECK(r->signature_error->code == ErrorCode::kAuthenticationFailed);
        CHECK(r->keys_valid == 15521);
        CHECK(r->verified_key_id.empty());
    }
}

TEST_CASE("Unsigned zips and mismatched batches are refused", "[keyfile][data]") {
    auto zip = read_file(gaen_data(kGoogleZip));
    auto bin = unzip_entry(zip, "export.bin");
    auto sig = unzip_entry(zip, "export.sig");

    SECTION("zip without export.sig") {
        auto unsigned_zip = zip_of({{"export.bin", bin}});
        Collected c;
        auto r =
            read_export_zip(unsigned_zip, google_trust(), VerifyMode::kRequireSignature, c.sink());
        REQUIRE(!r.has_value());
        CHECK(r.error().code == ErrorCode::kUnsigned);
        CHECK(c.keys.empty());
        auto parsed =
            read_export_zip(unsigned_zip, google_trust(), VerifyMode::kParseOnly, c.sink());
        REQUIRE(parsed.has_value());
        CHECK(parsed->signature_status == SignatureStatus::kUnsigned);
        CHECK(c.keys.size() == 2);
    }
    SECTION("export.sig with an empty signature list") {
        auto r = read_export_zip(zip_of({{"export.bin", bin}, {"export.sig", {}}}), google_trust(),
                                 VerifyMode::kRequireSignature, {});
        REQUIRE(!r.has_value());
        CHECK(r.error().code == ErrorCode::kUnsigned);
    }
    SECTION("export.sig that is not a TEKSignatureList") {
        auto r = read_export_zip(zip_of({{"export.bin", bin}, {"export.sig", {0xff, 0xff, 0xff}}}),
                                 google_trust(), VerifyMode::kRequireSignature, {});
        REQUIRE(!r.has_value());
        CHECK(r.error().code == ErrorCode::kKeyFileMalformed);
        auto parsed =
            read_export_zip(zip_of({{"export.bin", bin}, {"export.sig", {0xff, 0xff, 0xff}}}),
                            google_trust(), VerifyMode::kParseOnly, {});
        REQUIRE(parsed.has_value());
        CHECK(parsed->signature_status == SignatureStatus::kMalformed);
    }
    SECTION("TEKSignature batch_num/batch_size differ from export.bin") {
        sotto::keyfile::pb::TEKSignatureList list;
        REQUIRE(list.ParseFromArray(sig.data(), static_cast<int>(sig.size())));
        for (auto [num, size] : std::vector<std::pair<int, int>>{{1, 2}, {2, 1}, {0, 0}}) {
            auto changed = list;
            if (num == 0) {
                changed.mutable_signatures(0)->clear_batch_num();
                changed.mutable_signatures(0)->clear_batch_size();
            } else {
                changed.mutable_signatures(0)->set_batch_num(num);
                changed.mutable_signatures(0)->set_batch_size(size);
            }
            const std::string s = changed.SerializeAsString();
            auto r =
                read_export_zip(zip_of({{"export.bin", bin}, {"export.sig", {s.begin(), s.end()}}}),
                                google_trust(), VerifyMode::kRequireSignature, {});
            CAPTURE(num, size);
            REQUIRE(!r.has_value());
            CHECK(r.error().code == ErrorCode::kKeyFileMalformed);
        }
    }
    SECTION("more signatures than export.bin's signature_infos") {
        sotto::keyfile::pb::TEKSignatureList list;
        REQUIRE(list.ParseFromArray(sig.data(), static_cast<int>(sig.size())));
        *list.add_signatures() = list.signatures(0);
        const std::string s = list.SerializeAsString();
        auto r =
            read_export_zip(zip_of({{"export.bin", bin}, {"export.sig", {s.begin(), s.end()}}}),
                            google_trust(), VerifyMode::kRequireSignature, {});
        REQUIRE(!r.has_value());
        CHECK(r.error().code == ErrorCode::kKeyFileMalformed);
    }
    SECTION("the original zip still verifies (positive neighbour)") {
        auto r = read_export_zip(zip_of({{"export.bin", bin}, {"export.sig", sig}}), google_trust(),
                                 VerifyMode::kRequireSignature, {});
        REQUIRE(r.has_value());
        CHECK(r->verified);
    }
}
