// sotto match: exit codes, JSON, real data, and an end-to-end run built only from the CLI.
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sotto/bytes.hpp>
#include <sotto/core/keys.hpp>
#include <sotto/core/payload.hpp>
#include <sotto/core/rolling_id.hpp>

#include "integration/keyfile/keyfile_test_support.hpp"
#include "support.hpp"

using nlohmann::json;
using sotto::test::cli_path;
using sotto::test::run_process;
namespace fs = std::filesystem;

namespace {

const std::string kNow = "1614859200";  // 2021-03-04T12:00:00Z

struct Fixture {
    sotto::test::TempDir dir;
    std::string store = (dir / "enc.db").string();
    std::string key = (dir / "store.key").string();
    Fixture() {
        sotto::test::write_text(
            key, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
        REQUIRE(::chmod(key.c_str(), 0600) == 0);
    }
    sotto::test::ProcessResult run(std::vector<std::string> args) {
        args.insert(args.begin(), cli_path());
        return run_process(args);
    }
    void ingest_real() {
        const auto rows = sotto::test::parse_csv(
            sotto::test::read_text(sotto::test::gaen_data("cwa-real-2021-03-04/real_matches.csv")));
        std::string csv;
        for (std::size_t i = 1; i < rows.size(); ++i)
            csv += rows[i][5] + "," + (rows[i][7].empty() ? "-90" : rows[i][7]) + "," + rows[i][2] +
                   rows[i][3] + "\n";
        sotto::test::write_text(dir / "real.csv", csv);
        auto r = run({"ingest", "--store", store, "--key-file", key, "--now", kNow,
                      (dir / "real.csv").string()});
        REQUIRE(r.exit_code == 0);
    }
};

std::string cwa(const char* f) {
    return sotto::test::gaen_data(std::string("cwa-real-2021-03-04/") + f).string();
}

}  // namespace

TEST_CASE("sotto match finds the real matches and prints the JSON report", "[cli][match][data]") {
    Fixture fx;
    fx.ingest_real();
    auto r = fx.run({"match", "--store", fx.store, "--key-file", fx.key, "--now", kNow, "--pubkey",
                     cwa("cwa_prod_public_key_262-v1.pem"), "--json", cwa("export.bin")});
    CAPTURE(r.err);
    REQUIRE(r.exit_code == 0);
    const json j = json::parse(r.out);
    REQUIRE(j["files"].size() == 1);
    CHECK(j["files"][0]["verified"] == true);
    CHECK(j["files"][0]["key_id"] == "262");
    CHECK(j["files"][0]["key_version"] == "v1");
    CHECK(j["files"][0]["keys"] == 15521);
    CHECK(j["keys_checked"].get<int>() > 14000);
    REQUIRE(j["matches"].size() == 4);
    for (const auto& m : j["matches"]) {
        CHECK(m["status"] == "valid");
        CHECK(m["reason"] == "");
        CHECK(m["metadata"] == "5c010000");
        CHECK(m["report_type"] == 4);
        CHECK(m["transmission_risk_level"] == 1);
        CHECK(m["tek"].get<std::string>().size() == 32);
        CHECK(m["rpi"].get<std::string>().size() == 32);
        CHECK(m["first_seen"].get<std::int64_t>() <= m["last_seen"].get<std::int64_t>());
        // The publication time the rule used (the export's end timestamp): valid, so not before.
        REQUIRE(m["published_at"].is_number_integer());
        CHECK(m["first_seen"].get<std::int64_t>() <= m["published_at"].get<std::int64_t>());
    }
    CHECK(j["exposure_windows"].size() == 3);
    CHECK(j["daily_summaries"].size() == 3);
    // Three windows, each day below CWA's day mapping: no risk, in the same word everywhere
    // (docs/risk.md). The text said "low" (CWA's green-card total) beside these "none" days.
    CHECK(j["risk"]["risk_level"] == "none");
    for (const auto& d : j["risk"]["days"]) CHECK(d["risk_level"] == "none");
    CHECK(j["risk"]["number_of_days_with_high_risk"] == 0);
    auto text = fx.run({"match", "--store", fx.store, "--key-file", fx.key, "--now", kNow,
                        "--pubkey", cwa("cwa_prod_public_key_262-v1.pem"), cwa("export.bin")});
    REQUIRE(text.exit_code == 0);
    CHECK(text.out.find("risk (Corona-Warn-App): none (3 exposure windows)") != std::string::npos);
}

TEST_CASE("sotto match exits 3 when a file is refused and still matches the others",
          "[cli][match][data]") {
    Fixture fx;
    fx.ingest_real();
    auto bin = sotto::test::read_file(cwa("export.bin"));
    bin[100] ^= 0x40;
    fs::create_directory(fx.dir / "tampered");
    sotto::test::write_file(fx.dir / "tampered" / "export.bin", bin);
    fs::copy_file(cwa("export.sig"), fx.dir / "tampered" / "export.sig");
    auto r = fx.run({"match", "--store", fx.store, "--key-file", fx.key, "--now", kNow, "--pubkey",
                     cwa("cwa_prod_public_key_262-v1.pem"), "--json",
                     (fx.dir / "tampered").string(), cwa("export.bin")});
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("refused") != std::string::npos);
    const json j = json::parse(r.out);
    CHECK(j["files"][0]["verified"] == false);
    CHECK(j["files"][0]["matched"] == false);
    CHECK(j["files"][0].contains("error"));
    CHECK(j["files"][1]["verified"] == true);
    CHECK(j["matches"].size() == 4);

    // The same file with --no-verify is matched (and reported as not verified).
    auto nv = fx.run({"match", "--store", fx.store, "--key-file", fx.key, "--now", kNow,
                      "--no-verify", "--json", cwa("export.bin")});
    CHECK(nv.exit_code == 0);
    CHECK(json::parse(nv.out)["files"][0]["verified"] == false);
    CHECK(json::parse(nv.out)["matches"].size() == 4);
}

TEST_CASE("sotto match: bad arguments exit 2", "[cli][match]") {
    Fixture fx;
    const std::string pem = (fx.dir / "k.pem").string();
    sotto::test::write_text(pem, sotto::test::keyfile::generate_p256().public_pem);
    const std::vector<std::vector<std::string>> bad = {
        {"match", "--store", fx.store, "--key-file", fx.key, "x.zip"},          // no --pubkey
        {"match", "--store", fx.store, "--key-file", fx.key, "--pubkey", pem},  // no file
        {"match", "--store", fx.store, "--key-file", fx.key, "--pubkey", pem, "--key-id", "1",
         "x.zip"},
        {"match", "--store", fx.store, "--key-file", fx.key, "--pubkey", pem, "--tolerance", "200",
         "x.zip"},
        {"match", "--store", fx.store, "--pubkey", pem, "x.zip"},  // no credential
        {"match", "--store", fx.store, "--key-file", fx.key, "--pubkey",
         (fx.dir / "none.pem").string(), "x.zip"},
        {"match", "--store", fx.store, "--key-file", fx.key, "--pubkey", fx.key,
         "x.zip"},  // not a PEM
    };
    for (const auto& args : bad) {
        auto r = fx.run(args);
        CAPTURE(args, r.err);
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
    }
}

TEST_CASE("End to end through the CLI: export build, ingest, match", "[cli][match]") {
    using namespace sotto::core;
    Fixture fx;
    // The health authority's key pair.
    const auto authority = sotto::test::keyfile::generate_p256();
    const std::string priv = (fx.dir / "authority.pem").string(),
                      pub = (fx.dir / "authority.pub").string();
    sotto::test::write_text(priv, authority.private_pem);
    REQUIRE(::chmod(priv.c_str(), 0600) == 0);  // a signing key is the owner's only
    sotto::test::write_text(pub, authority.public_pem);
    // A positive user's TEK, and what our device heard of it: 20 minutes, one scan a minute.
    DeterministicRng rng(9);
    const IntervalNumber day = 2690496;
    const ExposureKey tek = generate_tek(rng, day);
    std::string csv;
    for (int m = 0; m < 20; ++m) {
        const std::int64_t t = interval_start_seconds(day + 60) + 60 * m;
        auto b = make_beacon(tek, *interval_number(t), {1, 0, CalibrationConfidence::kHigh});
        REQUIRE(b);
        const auto adv = encode_advertising_data(
            *b, m % 2 ? AdvertisingForm::kWithFlags : AdvertisingForm::kWithoutFlags);
        csv += std::to_string(t) + ",-58," + sotto::to_hex(adv.view()) + "\n";
    }
    sotto::test::write_text(fx.dir / "heard.csv", csv);
    const std::string now = std::to_string(interval_start_seconds(day + 144 + 12));
    REQUIRE(fx.run({"ingest", "--store", fx.store, "--key-file", fx.key, "--now", now,
                    (fx.dir / "heard.csv").string()})
                .exit_code == 0);
    sotto::test::write_text(fx.dir / "keys.csv",
                            "tek_hex,rolling_start,rolling_period,transmission_risk_level,report_"
                            "type,days_since_onset\n" +
                                sotto::to_hex(tek.tek.expose_secret()) + "," + std::to_string(day) +
                                ",144,6,1,2\n");
    const std::string zip = (fx.dir / "export.zip").string();
    auto built = fx.run({"export", "build", "--keys", (fx.dir / "keys.csv").string(),
                         "--signing-key", priv, "--key-id", "999", "--key-version", "v1",
                         "--region", "XX", "--pad", "20", "-o", zip});
    REQUIRE(built.exit_code == 0);

    auto r = fx.run({"match", "--store", fx.store, "--key-file", fx.key, "--now", now, "--pubkey",
                     pub, "--key-id", "999", "--key-version", "v1", "--json", zip});
    CAPTURE(r.err);
    REQUIRE(r.exit_code == 0);
    const json j = json::parse(r.out);
    CHECK(j["files"][0]["keys"] == 21);
    REQUIRE(j["matches"].size() == 2);
    CHECK(j["matches"][0]["tek"] == sotto::to_hex(tek.tek.expose_secret()));
    CHECK(j["risk"]["risk_level"] == "high");

    // Text output names the exposure; a key bound to another id refuses the file.
    auto text = fx.run(
        {"match", "--store", fx.store, "--key-file", fx.key, "--now", now, "--pubkey", pub, zip});
    CHECK(text.exit_code == 0);
    CHECK(text.out.find("risk (Corona-Warn-App): high") != std::string::npos);
    auto other = fx.run({"match", "--store", fx.store, "--key-file", fx.key, "--now", now,
                         "--pubkey", pub, "--key-id", "262", "--key-version", "v1", zip});
    CHECK(other.exit_code == 3);
}

TEST_CASE("sotto match never prints control characters a file carries", "[cli][match]") {
    // A file whose export.sig names the key "\x1b]..." (the signature does not cover the name).
    Fixture fx;
    const auto authority = sotto::test::keyfile::generate_p256();
    const std::string pub = (fx.dir / "authority.pub").string();
    sotto::test::write_text(pub, authority.public_pem);
    auto signer = sotto::keyfile::ExportSigner::from_pem(authority.private_pem);
    REQUIRE(signer);
    sotto::keyfile::ExportWriteOptions wo;
    wo.key_id = "X1b";
    wo.key_version = "v1";
    wo.start_timestamp = 1;
    wo.end_timestamp = 2;
    sotto::core::DeterministicRng rng(1);
    auto files = sotto::keyfile::build_export({}, *signer, wo, rng);
    REQUIRE(files);
    auto sig = files->export_sig;
    const std::string needle = "X1b";
    auto at = std::search(sig.begin(), sig.end(), needle.begin(), needle.end());
    REQUIRE(at != sig.end());
    at[0] = 0x1b;  // ESC
    at[1] = 0xff;  // not UTF-8
    sotto::test::write_file(fx.dir / "export.bin", files->export_bin);
    sotto::test::write_file(fx.dir / "export.sig", sig);
    sotto::test::write_text(fx.dir / "empty.csv", "");
    REQUIRE(fx.run({"ingest", "--store", fx.store, "--key-file", fx.key,
                    (fx.dir / "empty.csv").string()})
                .exit_code == 0);
    for (bool as_json : {false, true}) {
        std::vector<std::string> args = {
            "match", "--store",  fx.store, "--key-file",
            fx.key,  "--pubkey", pub,      (fx.dir / "export.bin").string()};
        if (as_json) args.push_back("--json");
        auto r = fx.run(args);
        CAPTURE(r.out, r.err);
        CHECK(r.exit_code == 0);
        CHECK(r.out.find('\x1b') == std::string::npos);
        CHECK(r.out.find('\xff') == std::string::npos);
        if (as_json) CHECK(json::parse(r.out)["files"][0]["key_id"] == "??b");
    }
}

TEST_CASE("sotto match only reads: a --now far in the future deletes nothing",
          "[cli][match][data]") {
    Fixture fx;
    fx.ingest_real();
    auto before =
        fx.run({"store", "stats", "--store", fx.store, "--key-file", fx.key, "--now", kNow});
    REQUIRE(before.exit_code == 0);
    const auto rows = json::parse(before.out)["sightings"].get<int>();
    REQUIRE(rows == 5);
    // Ten years later nothing is within the window: no match, and nothing deleted either.
    auto r =
        fx.run({"match", "--store", fx.store, "--key-file", fx.key, "--now", "1930000000",
                "--pubkey", cwa("cwa_prod_public_key_262-v1.pem"), "--json", cwa("export.bin")});
    REQUIRE(r.exit_code == 0);
    CHECK(json::parse(r.out)["matches"].empty());
    CHECK(json::parse(r.out)["sightings_checked"] == 0);
    auto after =
        fx.run({"store", "stats", "--store", fx.store, "--key-file", fx.key, "--now", kNow});
    CHECK(json::parse(after.out)["sightings"].get<int>() == rows);
    // And with --now before the captures (replaying): the later sightings are not used.
    auto early =
        fx.run({"match", "--store", fx.store, "--key-file", fx.key, "--now", "1613700000",
                "--pubkey", cwa("cwa_prod_public_key_262-v1.pem"), "--json", cwa("export.bin")});
    REQUIRE(early.exit_code == 0);
    CHECK(json::parse(early.out)["sightings_checked"] == 0);
}

TEST_CASE("sotto match records results once per verified file and never for --no-verify runs",
          "[cli][match][data]") {
    Fixture fx;
    fx.ingest_real();
    auto stats = [&] {
        auto s =
            fx.run({"store", "stats", "--store", fx.store, "--key-file", fx.key, "--now", kNow});
        REQUIRE(s.exit_code == 0);
        return json::parse(s.out);
    };
    // --no-verify: matched and reported, but nothing recorded.
    auto unverified = fx.run({"match", "--store", fx.store, "--key-file", fx.key, "--now", kNow,
                              "--no-verify", "--json", cwa("export.bin")});
    REQUIRE(unverified.exit_code == 0);
    CHECK(json::parse(unverified.out)["matches"].size() == 4);
    CHECK(stats()["exposure_records"] == 0);
    CHECK(stats()["processed_files"] == 0);

    const std::vector<std::string> verified = {
        "match",      "--store",        fx.store,
        "--key-file", fx.key,           "--now",
        kNow,         "--pubkey",       cwa("cwa_prod_public_key_262-v1.pem"),
        "--json",     cwa("export.bin")};
    auto first = fx.run(verified);
    REQUIRE(first.exit_code == 0);
    const auto records = stats()["exposure_records"].get<int>();
    CHECK(records > 0);
    CHECK(stats()["processed_files"] == 1);
    // No key of the real daily file could still be forged at its end timestamp (its newest key
    // window ended 3 h 10 min before): the publication memory stays empty.
    CHECK(stats()["key_publications"] == 0);
    // The same file again: the same report, and no second set of records.
    auto second = fx.run(verified);
    REQUIRE(second.exit_code == 0);
    CHECK(json::parse(second.out)["matches"].size() == 4);
    CHECK(stats()["exposure_records"] == records);
    CHECK(stats()["processed_files"] == 1);
}
