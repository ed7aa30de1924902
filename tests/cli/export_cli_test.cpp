// sotto export inspect | build, run as a child process.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

#include "support.hpp"

using sotto::test::cli_path;
using sotto::test::gaen_data;
using sotto::test::run_process;
using sotto::test::TempDir;

namespace {

std::string data(const char* rel) { return gaen_data(rel).string(); }

bool one_line(const std::string& s) { return !s.empty() && s.find('\n') == s.size() - 1; }

bool contains(const std::string& hay, const std::string& needle) {
    return hay.find(needle) != std::string::npos;
}

// An EC P-256 key pair made by the openssl tool (an independent producer of PEM keys).
void make_keys(const TempDir& dir) {
    auto gen = run_process({"/usr/bin/openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-out", (dir / "key.pem").string()});
    REQUIRE(gen.exit_code == 0);
    auto pub = run_process({"/usr/bin/openssl", "pkey", "-in", (dir / "key.pem").string(),
                            "-pubout", "-out", (dir / "pub.pem").string()});
    REQUIRE(pub.exit_code == 0);
}

}  // namespace

TEST_CASE("sotto export inspect: the real German export verifies with its key (loose pair and dir)",
          "[cli][export]") {
    const std::string pem = data("cwa-real-2021-03-04/cwa_prod_public_key_262-v1.pem");
    for (const std::string& file :
         {data("cwa-real-2021-03-04/export.bin"), data("cwa-real-2021-03-04")}) {
        auto r = run_process({cli_path(), "export", "inspect", file, "--pubkey", pem});
        CAPTURE(file, r.err);
        CHECK(r.exit_code == 0);
        CHECK(r.err.empty());
        CHECK(contains(r.out, "start_timestamp: 1614816000 (2021-03-04T00:00:00Z)\n"));
        CHECK(contains(r.out, "end_timestamp:   1614902400 (2021-03-05T00:00:00Z)\n"));
        CHECK(contains(r.out, "region:          DE\n"));
        CHECK(contains(r.out, "batch:           1 of 1\n"));
        CHECK(contains(
            r.out, "signature_info:  key_id=262 key_version=v1 algorithm=1.2.840.10045.4.3.2\n"));
        CHECK(contains(r.out, "keys:            15521 valid, 0 invalid\n"));
        CHECK(contains(r.out, "signature:       verified (key 262/v1)\n"));
        CHECK(!contains(r.out, "1a1a7081aa67a08072844aed3347730f"));  // no key bytes by default
    }
    // Bound to the name the file uses: still verifies; bound to another name: refused.
    auto bound = run_process({cli_path(), "export", "inspect", data("cwa-real-2021-03-04"),
                              "--pubkey", pem, "--key-id", "262", "--key-version", "v1"});
    CHECK(bound.exit_code == 0);
    auto other = run_process({cli_path(), "export", "inspect", data("cwa-real-2021-03-04"),
                              "--pubkey", pem, "--key-id", "262", "--key-version", "v2"});
    CHECK(other.exit_code == 3);
    CHECK(one_line(other.err));
    CHECK(contains(other.err, "kUntrustedKey"));
}

TEST_CASE("sotto export inspect: Google zips verify, wrong or missing keys are refused (exit 3)",
          "[cli][export]") {
    const std::string zip = data("google-server-example/testExport-2-records-1-of-1.zip");
    const std::string pem = data("google-server-example/public.pem");
    const std::string other_pem = data("google-internals-sample/key_310-v1_public.pem");

    auto ok = run_process({cli_path(), "export", "inspect", zip, "--pubkey", pem});
    CHECK(ok.exit_code == 0);
    CHECK(contains(ok.out, "keys:            2 valid, 0 invalid\n"));
    CHECK(contains(ok.out, "signature:       verified (key some_id/1)\n"));

    // Several --pubkey: one of them must verify.
    auto several =
        run_process({cli_path(), "export", "inspect", zip, "--pubkey", other_pem, "--pubkey", pem});
    CHECK(several.exit_code == 0);

    auto wrong = run_process({cli_path(), "export", "inspect", zip, "--pubkey", other_pem});
    CHECK(wrong.exit_code == 3);
    CHECK(one_line(wrong.err));
    CHECK(contains(wrong.err, "kAuthenticationFailed"));
    CHECK(contains(wrong.out, "signature:       NOT verified: bad signature\n"));

    auto none = run_process({cli_path(), "export", "inspect", zip});
    CHECK(none.exit_code == 3);
    CHECK(one_line(none.err));
    CHECK(contains(none.out, "keys:            2 valid"));  // still printed

    auto internals = run_process({cli_path(), "export", "inspect",
                                  data("google-internals-sample/sample_diagnosis_key_file.zip"),
                                  "--pubkey", other_pem, "--key-id", "310", "--key-version", "v1"});
    CHECK(internals.exit_code == 0);
    CHECK(contains(internals.out, "keys:            140 valid, 0 invalid\n"));

    auto listed = run_process({cli_path(), "export", "inspect", zip, "--pubkey", pem, "--keys"});
    CHECK(listed.exit_code == 0);
    CHECK(contains(listed.out,
                   "\n172fc480e598490c34177604339b1543,2649980,1,8,0,\n"
                   "2b63053ac483238de176169e861f3dcd,2649866,114,1,0,\n"));
}

TEST_CASE("sotto export inspect: unsigned, tampered and malformed files exit 3 with one line",
          "[cli][export]") {
    const std::string pem = data("cwa-real-2021-03-04/cwa_prod_public_key_262-v1.pem");
    auto immuni =
        run_process({cli_path(), "export", "inspect", data("immuni/export.bin"), "--pubkey", pem});
    CHECK(immuni.exit_code == 3);
    CHECK(one_line(immuni.err));
    CHECK(contains(immuni.err, "kUnsigned"));
    CHECK(contains(immuni.out, "keys:            3 valid, 0 invalid\n"));
    CHECK(contains(immuni.out, "region:          222\n"));

    TempDir dir;
    std::filesystem::copy_file(gaen_data("cwa-real-2021-03-04/export.sig"), dir / "export.sig");
    auto bin = sotto::test::read_file(gaen_data("cwa-real-2021-03-04/export.bin"));
    bin[bin.size() / 3] ^= 0x01;
    sotto::test::write_file(dir / "export.bin", bin);
    auto tampered =
        run_process({cli_path(), "export", "inspect", dir.path().string(), "--pubkey", pem});
    CHECK(tampered.exit_code == 3);
    CHECK(one_line(tampered.err));

    sotto::test::write_text(dir / "junk.zip", "PK\x03\x04 definitely not a zip");
    auto junk = run_process(
        {cli_path(), "export", "inspect", (dir / "junk.zip").string(), "--pubkey", pem});
    CHECK(junk.exit_code == 3);
    CHECK(one_line(junk.err));
    CHECK(contains(junk.err, "kKeyFileMalformed"));
    CHECK(junk.out.empty());
}

TEST_CASE("sotto export inspect: bad arguments exit 2", "[cli][export]") {
    const std::string zip = data("google-server-example/testExport-2-records-1-of-1.zip");
    const std::string pem = data("google-server-example/public.pem");
    TempDir dir;
    sotto::test::write_text(dir / "notakey.pem",
                            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
    const std::vector<std::vector<std::string>> bad = {
        {"export", "inspect"},
        {"export", "inspect", (dir / "missing.zip").string()},
        {"export", "inspect", zip, "--pubkey", (dir / "missing.pem").string()},
        {"export", "inspect", zip, "--pubkey", (dir / "notakey.pem").string()},
        {"export", "inspect", zip, "--pubkey", pem, "--key-id", "some_id"},
        {"export", "inspect", zip, "--key-id", "some_id", "--key-version", "1"},
        {"export", "inspect", zip, "--bogus"},
        {"export"},
    };
    for (auto args : bad) {
        args.insert(args.begin(), cli_path());
        auto r = run_process(args);
        CAPTURE(args);
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        CHECK(one_line(r.err));
    }
}

TEST_CASE("sotto export build: a signed zip that inspect verifies, keys round-trip",
          "[cli][export]") {
    TempDir dir;
    make_keys(dir);
    sotto::test::write_text(dir / "keys.csv",
                            "tek_hex,rolling_start,rolling_period,transmission_risk_level,report_"
                            "type,days_since_onset\n"
                            "# comment\n"
                            "ff0102030405060708090a0b0c0d0e0f,2689920,144,1,4,1\n"
                            "\n"
                            "000102030405060708090a0b0c0d0e0f,2690064,57,8\r\n"
                            "7F0102030405060708090A0B0C0D0E0F,2689776,144,5,2,-3\n"
                            "800102030405060708090a0b0c0d0e0f,2649866,1,0,1,\n");
    const std::string out = (dir / "out.zip").string();
    auto b = run_process({cli_path(), "export", "build", "--keys", (dir / "keys.csv").string(),
                          "--signing-key", (dir / "key.pem").string(), "--key-id", "262",
                          "--key-version", "v9", "--region", "DE", "-o", out});
    CAPTURE(b.err);
    REQUIRE(b.exit_code == 0);
    CHECK(b.err.empty());
    CHECK(contains(b.out, "4 keys + 0 padding"));

    auto i =
        run_process({cli_path(), "export", "inspect", out, "--pubkey", (dir / "pub.pem").string(),
                     "--key-id", "262", "--key-version", "v9", "--keys"});
    CAPTURE(i.err);
    CHECK(i.exit_code == 0);
    CHECK(contains(i.out, "region:          DE\n"));
    CHECK(contains(i.out, "start_timestamp: 1589919600 "));  // 2649866 * 600, the earliest start
    CHECK(contains(i.out, "end_timestamp:   1614072600 "));  // (2690064 + 57) * 600, the latest end
    CHECK(contains(i.out, "signature:       verified (key 262/v9)\n"));
    CHECK(contains(i.out,
                   "000102030405060708090a0b0c0d0e0f,2690064,57,8,0,\n"
                   "7f0102030405060708090a0b0c0d0e0f,2689776,144,5,2,-3\n"
                   "800102030405060708090a0b0c0d0e0f,2649866,1,0,1,\n"
                   "ff0102030405060708090a0b0c0d0e0f,2689920,144,1,4,1\n"));

    // Padding and explicit window and batch.
    auto p = run_process({cli_path(),
                          "export",
                          "build",
                          "--keys",
                          (dir / "keys.csv").string(),
                          "--signing-key",
                          (dir / "key.pem").string(),
                          "--key-id",
                          "262",
                          "--key-version",
                          "v9",
                          "--region",
                          "DE",
                          "--pad",
                          "96",
                          "--start-timestamp",
                          "1614816000",
                          "--end-timestamp",
                          "1614902400",
                          "--batch-num",
                          "2",
                          "--batch-size",
                          "3",
                          "-o",
                          out});
    REQUIRE(p.exit_code == 0);
    auto pi =
        run_process({cli_path(), "export", "inspect", out, "--pubkey", (dir / "pub.pem").string()});
    CHECK(pi.exit_code == 0);
    CHECK(contains(pi.out, "keys:            100 valid, 0 invalid\n"));
    CHECK(contains(pi.out, "batch:           2 of 3\n"));
    CHECK(contains(pi.out, "start_timestamp: 1614816000 "));

    // The signature also verifies with the openssl tool.
    auto other_key = run_process({"/usr/bin/openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                                  "ec_paramgen_curve:P-256", "-out", (dir / "other.pem").string()});
    REQUIRE(other_key.exit_code == 0);
    auto wrong = run_process(
        {cli_path(), "export", "inspect", out, "--pubkey", (dir / "other.pem").string()});
    CHECK(wrong.exit_code == 2);  // a private key is not a --pubkey
}

TEST_CASE("sotto export build: bad CSV lines and arguments exit 2 with the line number",
          "[cli][export]") {
    TempDir dir;
    make_keys(dir);
    const std::string good = "00112233445566778899aabbccddeeff,2690000,144,1\n";
    const std::vector<std::pair<std::string, std::string>> bad_csv = {
        {good + "0011,2690000,144,1\n", "line 2: tek_hex"},
        {good + good + "00112233445566778899aabbccddeeff,abc,144,1\n", "line 3: rolling_start"},
        {"00112233445566778899aabbccddeeff,2690000,145,1\n",
         "line 1: rolling_period outside 1..144"},
        {"00112233445566778899aabbccddeeff,2690000,0,1\n", "line 1: rolling_period"},
        {"00112233445566778899aabbccddeeff,2690000,144,9\n", "line 1: transmission_risk_level"},
        {"00112233445566778899aabbccddeeff,2690000,144,1,6\n", "line 1: report_type"},
        {"00112233445566778899aabbccddeeff,2690000,144,1,1,15\n", "line 1: days_since_onset"},
        {"00112233445566778899aabbccddeeff,2690000,144\n", "line 1: expected"},
        {"00112233445566778899aabbccddeeff,2690000,144,1,1,1,1\n", "line 1: expected"},
        {"# only comments\n\n" + good + "00112233445566778899aabbccddeeff,0,144,1\n",
         "line 4: rolling_start"},
        {"tek_hex,rolling_start\n" + good + "tek_hex,rolling_start\n", "line 3: expected"},
    };
    for (const auto& [csv, message] : bad_csv) {
        sotto::test::write_text(dir / "keys.csv", csv);
        auto r = run_process({cli_path(), "export", "build", "--keys", (dir / "keys.csv").string(),
                              "--signing-key", (dir / "key.pem").string(), "--key-id", "1",
                              "--key-version", "v1", "--region", "XX", "-o",
                              (dir / "out.zip").string()});
        CAPTURE(csv, r.err);
        CHECK(r.exit_code == 2);
        CHECK(one_line(r.err));
        CHECK(contains(r.err, message));
        CHECK(!std::filesystem::exists(dir / "out.zip"));
    }
    sotto::test::write_text(dir / "keys.csv", good);
    // Arguments with some replaced or added (each option at most once).
    auto base = [&](std::vector<std::pair<std::string, std::string>> changes) {
        std::vector<std::pair<std::string, std::string>> opts = {
            {"--keys", (dir / "keys.csv").string()},
            {"--signing-key", (dir / "key.pem").string()},
            {"--key-id", "1"},
            {"--key-version", "v1"},
            {"--region", "XX"},
            {"-o", (dir / "out.zip").string()}};
        for (const auto& c : changes) {
            auto it = std::find_if(opts.begin(), opts.end(),
                                   [&](const auto& o) { return o.first == c.first; });
            if (it != opts.end()) {
                it->second = c.second;
            } else {
                opts.push_back(c);
            }
        }
        std::vector<std::string> args = {cli_path(), "export", "build"};
        for (const auto& [k, v] : opts) {
            args.push_back(k);
            args.push_back(v);
        }
        return run_process(args);
    };
    CHECK(base({}).exit_code == 0);
    const std::vector<std::vector<std::pair<std::string, std::string>>> bad_args = {
        {{"--start-timestamp", "1614816000"}},
        {{"--start-timestamp", "10"}, {"--end-timestamp", "5"}},
        {{"--batch-num", "2"}},
        {{"--batch-size", "0"}},
        {{"--pad", "-1"}},
        {{"--key-id", "a-b"}},
        {{"--key-version", "v 1"}},
        {{"--region", std::string(65, 'R')}},
        {{"--signing-key", (dir / "pub.pem").string()}},
        {{"--keys", (dir / "missing.csv").string()}},
    };
    for (const auto& changes : bad_args) {
        auto r = base(changes);
        CAPTURE(changes, r.err);
        CHECK(r.exit_code == 2);
        CHECK(one_line(r.err));
    }
    auto unwritable = base({{"-o", (dir / "no" / "dir" / "out.zip").string()}});
    CHECK(unwritable.exit_code == 1);
    CHECK(one_line(unwritable.err));
    auto no_out = run_process({cli_path(), "export", "build", "--keys", (dir / "keys.csv").string(),
                               "--signing-key", (dir / "key.pem").string(), "--key-id", "1",
                               "--key-version", "v1", "--region", "XX"});
    CHECK(no_out.exit_code == 2);
}
