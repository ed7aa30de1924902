// The `sotto` tool as scripts use it, run as child processes: --version, clear errors for unknown
// and missing commands, exit 3 when every input line is refused, every deletion reported, one
// exit code for a missing file, `match DIR` on what `fetch --out DIR` fills, `export inspect
// --keys` read back by `export build --keys`, the signing key's permission rule, and --json.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include <sotto/version.hpp>

#include "support.hpp"

namespace {
using nlohmann::json;
using sotto::test::ProcessResult;
using sotto::test::run_process;
using sotto::test::TempDir;

ProcessResult sotto_cli(std::vector<std::string> args, std::string_view in = {}) {
    args.insert(args.begin(), sotto::test::cli_path());
    return run_process(args, in);
}

std::vector<std::string> cat(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

const std::string kSd1 = "0102030405060708090a0b0c0d0e0f1040200000";
const std::string kSd2 = "1112131415161718191a1b1c1d1e1f2040200000";

// A store with own keys (sottod on the simulated air for a moment), the authority's key pair
// (private key mode 0600, as openssl writes it) and a signed export.zip of the own keys.
struct Fixture {
    TempDir tmp;
    std::string key, store, signing_key, pub;
    Fixture() {
        key = (tmp / "store.key").string();
        sotto::test::write_text(key, std::string(64, 'b') + "\n");
        REQUIRE(::chmod(key.c_str(), 0600) == 0);
        store = (tmp / "store.db").string();
        const auto r = run_process({"/usr/bin/timeout", "--preserve-status", "-s", "TERM", "1",
                                    SOTTO_SOTTOD_PATH, "--radio", "simulated", "--sim-peers", "0",
                                    "--store", store, "--key-file", key});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        signing_key = (tmp / "signing.pem").string();
        pub = (tmp / "authority.pem").string();
        REQUIRE(run_process({"/usr/bin/openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                             "ec_paramgen_curve:P-256", "-out", signing_key})
                    .exit_code == 0);
        REQUIRE(
            run_process({"/usr/bin/openssl", "pkey", "-in", signing_key, "-pubout", "-out", pub})
                .exit_code == 0);
        REQUIRE(::chmod(signing_key.c_str(), 0600) == 0);
    }
    std::vector<std::string> store_args() const { return {"--store", store, "--key-file", key}; }
};

}  // namespace

TEST_CASE("sotto and sottod print the project's version", "[cli][scripting]") {
    const auto a = sotto_cli({"--version"});
    CHECK(a.exit_code == 0);
    CHECK(a.out == std::string("sotto ") + SOTTO_PROJECT_VERSION + "\n");
    CHECK(a.out == std::string("sotto ") + sotto::version_string() + "\n");
    const auto d = run_process({SOTTO_SOTTOD_PATH, "--version"});
    CHECK(d.exit_code == 0);
    CHECK(d.out == std::string("sottod ") + SOTTO_PROJECT_VERSION + "\n");
}

TEST_CASE("An unknown command is named, and a bare group lists its commands", "[cli][scripting]") {
    const auto top = sotto_cli({"frobnicate"});
    CHECK(top.exit_code == 2);
    CHECK(top.err.rfind("sotto: unknown command 'frobnicate' (commands: derive, match,", 0) == 0);
    CHECK(top.err.find("A subcommand is required") == std::string::npos);
    const auto sub = sotto_cli({"keys", "frob"});
    CHECK(sub.exit_code == 2);
    CHECK(sub.err == "sotto: keys: unknown command 'frob' (commands: list, publish, upload)\n");
    const auto bare = sotto_cli({"store"});
    CHECK(bare.exit_code == 2);
    CHECK(bare.err == "sotto: store: give a command: stats, verify, rekey, erase (see --help)\n");
    const auto none = sotto_cli({});
    CHECK(none.exit_code == 2);
    CHECK(none.err.rfind("sotto: give a command: derive, match,", 0) == 0);
    // A terminal escape in the word is not echoed.
    const auto esc = sotto_cli({"\x1b[31mred"});
    CHECK(esc.exit_code == 2);
    CHECK(esc.err.find('\x1b') == std::string::npos);
    // Options and help still reach CLI11.
    CHECK(sotto_cli({"keys", "--help"}).exit_code == 0);
    CHECK(sotto_cli({"keys", "list", "--bogus"}).exit_code == 2);
}

TEST_CASE("ingest exits 3 when every line was refused, 0 when one was taken", "[cli][scripting]") {
    TempDir dir;
    const auto key = (dir / "k").string();
    sotto::test::write_text(key, std::string(64, 'c'));
    REQUIRE(::chmod(key.c_str(), 0600) == 0);
    const std::vector<std::string> s = {
        "--store", (dir / "s.db").string(), "--key-file", key, "--now", "1700000000"};
    auto bad = sotto_cli(cat(cat({"ingest"}, s), {"-"}), "not,a,beacon\n1,2\nzz\n");
    CHECK(bad.exit_code == 3);
    CHECK(bad.err.find("sotto: ingest: refused: all 3 lines were invalid") != std::string::npos);
    auto empty = sotto_cli(cat(cat({"ingest"}, s), {"-"}), "# nothing\n\n");
    CHECK(empty.exit_code == 0);
    auto one = sotto_cli(cat(cat({"ingest"}, s), {"-"}), "bad\n1699999000,-60," + kSd1 + "\n");
    CHECK(one.exit_code == 0);
    auto j = sotto_cli(cat(cat({"ingest", "--json"}, s), {"-"}),
                       "1699999000,-60," + kSd1 + "\n1699999001,-61," + kSd1 + "\n");
    REQUIRE(j.exit_code == 0);
    const auto o = json::parse(j.out);
    CHECK(o.at("beacons") == 2);
    CHECK(o.at("new_sightings") == 0);  // the same RPI in the same interval as before
    CHECK(o.at("invalid_lines") == 0);
    CHECK(o.at("deleted_past_retention").at("rows") == 0);
}

TEST_CASE("store rekey reports every row retention deleted, in text and in JSON",
          "[cli][scripting]") {
    TempDir dir;
    const auto key = (dir / "k").string();
    const auto key2 = (dir / "k2").string();
    const auto key3 = (dir / "k3").string();
    const std::vector<std::pair<std::string, char>> files = {{key, 'c'}, {key2, 'd'}, {key3, 'e'}};
    for (const auto& [p, c] : files) {
        sotto::test::write_text(p, std::string(64, c));
        REQUIRE(::chmod(p.c_str(), 0600) == 0);
    }
    const auto db = (dir / "s.db").string();
    // An old capture (April 2020), stored with its own clock.
    REQUIRE(sotto_cli({"ingest", "--store", db, "--key-file", key, "--now", "1585790000", "-"},
                      "1585785600,-60," + kSd1 + "\n1585785900,-61," + kSd2 + "\n")
                .exit_code == 0);
    // Rekeyed a year later with the clock confirmed: retention deletes both, and says so.
    auto r = sotto_cli({"store", "rekey", "--store", db, "--key-file", key, "--new-key-file", key2,
                        "--now", "1617321600", "--confirm-clock"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out ==
          "deleted 2 rows past retention (2 sightings, 0 own keys, 0 exposure records, 0 processed "
          "files, 0 key publications)\nrekeyed\n");
    // Nothing left to delete: no deletion line; --json says 0.
    auto j = sotto_cli({"store", "rekey", "--store", db, "--key-file", key2, "--new-key-file", key3,
                        "--now", "1617321700", "--json"});
    REQUIRE(j.exit_code == 0);
    const auto o = json::parse(j.out);
    CHECK(o.at("rekeyed") == true);
    CHECK(o.at("deleted_past_retention").at("rows") == 0);
}

TEST_CASE("store rekey --json names the rows it deleted", "[cli][scripting]") {
    TempDir dir;
    const auto key = (dir / "k").string();
    const auto key2 = (dir / "k2").string();
    sotto::test::write_text(key, std::string(64, 'c'));
    sotto::test::write_text(key2, std::string(64, 'd'));
    REQUIRE(::chmod(key.c_str(), 0600) == 0);
    REQUIRE(::chmod(key2.c_str(), 0600) == 0);
    const auto db = (dir / "s.db").string();
    REQUIRE(sotto_cli({"ingest", "--store", db, "--key-file", key, "--now", "1585790000", "-"},
                      "1585785600,-60," + kSd1 + "\n")
                .exit_code == 0);
    auto j = sotto_cli({"store", "rekey", "--store", db, "--key-file", key, "--new-key-file", key2,
                        "--now", "1617321600", "--confirm-clock", "--json"});
    REQUIRE(j.exit_code == 0);
    const auto o = json::parse(j.out);  // one JSON object and nothing else on stdout
    CHECK(o.at("deleted_past_retention").at("rows") == 1);
    CHECK(o.at("deleted_past_retention").at("sightings") == 1);
}

TEST_CASE("A missing file is exit 2 in every command", "[cli][scripting]") {
    Fixture f;
    const std::string missing = (f.tmp / "missing").string();
    const std::vector<std::vector<std::string>> rows = {
        cat({"match", missing, "--pubkey", f.pub}, f.store_args()),
        {"export", "inspect", missing},
        {"export", "inspect", missing, "--json"},
        {"ingest", "--store", f.store, "--key-file", f.key, missing},
        {"store", "stats", "--store", missing, "--key-file", f.key},
        {"store", "verify", "--store", missing, "--key-file", f.key},
        {"keys", "list", "--store", missing, "--key-file", f.key},
        {"export", "build", "--keys", missing, "--signing-key", f.signing_key, "--key-id", "1",
         "--key-version", "v1", "--region", "XX", "-o", (f.tmp / "o.zip").string()},
        cat({"keys", "publish", "-o", (f.tmp / "p.zip").string(), "--signing-key", missing,
             "--key-id", "1", "--key-version", "v1", "--region", "XX",
             "--i-consent-to-upload-my-keys"},
            f.store_args()),
        {"store", "stats", "--store", f.store, "--key-file", missing},
    };
    for (const auto& args : rows) {
        const auto r = sotto_cli(args);
        INFO(args.front() << " " << args[1] << "\n" << r.err);
        CHECK(r.exit_code == 2);
        CHECK(r.err.rfind("sotto: ", 0) == 0);
    }
    // Nothing was released by the refused publish.
    const auto list = sotto_cli(cat({"keys", "list", "--json"}, f.store_args()));
    REQUIRE(list.exit_code == 0);
    // Named: a range-for over .at() of a temporary json would read freed memory.
    const json keys = json::parse(list.out);
    for (const auto& k : keys.at("own_keys")) CHECK(k.at("published") == false);
}

TEST_CASE("The signing key must be the owner's only, as the store key", "[cli][scripting]") {
    Fixture f;
    sotto::test::write_text(f.tmp / "keys.csv", "00112233445566778899aabbccddeeff,2700000,144,5\n");
    const std::vector<std::string> build = {"export",
                                            "build",
                                            "--keys",
                                            (f.tmp / "keys.csv").string(),
                                            "--signing-key",
                                            f.signing_key,
                                            "--key-id",
                                            "1",
                                            "--key-version",
                                            "v1",
                                            "--region",
                                            "XX",
                                            "-o",
                                            (f.tmp / "out.zip").string()};
    REQUIRE(::chmod(f.signing_key.c_str(), 0644) == 0);
    auto open = sotto_cli(build);
    CHECK(open.exit_code == 2);
    CHECK(open.err ==
          "sotto: export build: --signing-key is accessible by group or others; "
          "chmod 600 it\n");
    CHECK_FALSE(std::filesystem::exists(f.tmp / "out.zip"));
    auto publish = sotto_cli(cat(
        {"keys", "publish", "-o", (f.tmp / "p.zip").string(), "--signing-key", f.signing_key,
         "--key-id", "1", "--key-version", "v1", "--region", "XX", "--i-consent-to-upload-my-keys"},
        f.store_args()));
    CHECK(publish.exit_code == 2);
    CHECK(publish.err.find("chmod 600") != std::string::npos);
    // The store key has the same rule.
    REQUIRE(::chmod(f.key.c_str(), 0640) == 0);
    auto store = sotto_cli(cat({"keys", "list"}, f.store_args()));
    CHECK(store.exit_code == 2);
    CHECK(store.err.find("chmod 600") != std::string::npos);
    REQUIRE(::chmod(f.key.c_str(), 0600) == 0);
    REQUIRE(::chmod(f.signing_key.c_str(), 0600) == 0);
    CHECK(sotto_cli(build).exit_code == 0);
}

TEST_CASE("export inspect --keys writes a key CSV that export build --keys reads back",
          "[cli][scripting]") {
    Fixture f;
    const std::string csv =
        "00112233445566778899aabbccddeeff,2700000,144,5,1,3\n"
        "ffeeddccbbaa99887766554433221100,2700144,100,2,2,\n";
    sotto::test::write_text(f.tmp / "keys.csv", csv);
    auto build = [&](const std::string& keys, const std::string& out) {
        return sotto_cli({"export", "build", "--keys", keys, "--signing-key", f.signing_key,
                          "--key-id", "1", "--key-version", "v1", "--region", "XX", "-o", out});
    };
    REQUIRE(build((f.tmp / "keys.csv").string(), (f.tmp / "a.zip").string()).exit_code == 0);
    auto inspected =
        sotto_cli({"export", "inspect", (f.tmp / "a.zip").string(), "--pubkey", f.pub, "--keys"});
    REQUIRE(inspected.exit_code == 0);
    CHECK(inspected.out.find("# signature:       verified") != std::string::npos);
    sotto::test::write_text(f.tmp / "back.csv", inspected.out);
    auto rebuilt = build((f.tmp / "back.csv").string(), (f.tmp / "b.zip").string());
    INFO(inspected.out << rebuilt.err);
    REQUIRE(rebuilt.exit_code == 0);
    // The same keys, field for field.
    auto keys_of = [&](const std::string& zip) {
        auto r = sotto_cli({"export", "inspect", zip, "--pubkey", f.pub, "--keys", "--json"});
        REQUIRE(r.exit_code == 0);
        return json::parse(r.out).at("keys");
    };
    const auto a = keys_of((f.tmp / "a.zip").string());
    CHECK(a.size() == 2);
    CHECK(a == keys_of((f.tmp / "b.zip").string()));
    // The report without the '# ' is not a key CSV: build says which line.
    std::string uncommented;
    for (std::size_t i = 0; i < inspected.out.size(); ++i)
        if (!(inspected.out[i] == '#' && (i == 0 || inspected.out[i - 1] == '\n')))
            uncommented += inspected.out[i];
    sotto::test::write_text(f.tmp / "bad.csv", uncommented);
    auto refused = build((f.tmp / "bad.csv").string(), (f.tmp / "c.zip").string());
    CHECK(refused.exit_code == 2);
    CHECK(refused.err.find("line 1:") != std::string::npos);
}

TEST_CASE("store verify and export inspect print one JSON object with --json", "[cli][scripting]") {
    Fixture f;
    auto v = sotto_cli(cat({"store", "verify", "--json"}, f.store_args()));
    REQUIRE(v.exit_code == 0);
    const auto vo = json::parse(v.out);
    CHECK(vo.at("ok") == true);
    CHECK(vo.at("own_keys").get<int>() >= 1);
    CHECK(vo.contains("sightings_past_retention"));
    // A published file: verified with the right key, refused (exit 3, still JSON) with another.
    const auto zip = (f.tmp / "mine.zip").string();
    REQUIRE(sotto_cli(cat({"keys", "publish", "-o", zip, "--signing-key", f.signing_key, "--key-id",
                           "262", "--key-version", "v1", "--region", "DE",
                           "--i-consent-to-upload-my-keys"},
                          f.store_args()))
                .exit_code == 0);
    auto good = sotto_cli({"export", "inspect", zip, "--pubkey", f.pub, "--json"});
    REQUIRE(good.exit_code == 0);
    const auto g = json::parse(good.out);
    CHECK(g.at("verified") == true);
    CHECK(g.at("region") == "DE");
    CHECK(g.at("keys_valid").get<int>() >= 1);
    CHECK_FALSE(g.contains("keys"));  // only with --keys
    auto none = sotto_cli({"export", "inspect", zip, "--json"});
    CHECK(none.exit_code == 3);
    const auto n = json::parse(none.out);
    CHECK(n.at("verified") == false);
    CHECK(n.at("signature") == "no --pubkey given");
}

TEST_CASE("sotto match DIR reads the files sotto fetch --out DIR wrote", "[cli][scripting]") {
    Fixture f;
    // The authority publishes the device's own keys; a local key source serves the file.
    const auto src = f.tmp / "source";
    std::filesystem::create_directories(src / "exposureKeyExport-XX");
    REQUIRE(
        sotto_cli(cat({"keys", "publish", "-o", (src / "exposureKeyExport-XX" / "1.zip").string(),
                       "--signing-key", f.signing_key, "--key-id", "262", "--key-version", "v1",
                       "--region", "XX", "--i-consent-to-upload-my-keys"},
                      f.store_args()))
            .exit_code == 0);
    sotto::test::write_text(src / "index.txt", "exposureKeyExport-XX/1.zip\n");
    const auto out = f.tmp / "verified";
    auto fetched =
        sotto_cli({"fetch", "--source", src.string(), "--state-dir", (f.tmp / "state").string(),
                   "--pubkey", f.pub, "--out", out.string()});
    INFO(fetched.out << fetched.err);
    REQUIRE(fetched.exit_code == 0);
    auto m = sotto_cli(cat({"match", out.string(), "--pubkey", f.pub, "--json"}, f.store_args()));
    INFO(m.err);
    REQUIRE(m.exit_code == 0);
    const auto j = json::parse(m.out);
    REQUIRE(j.at("files").size() == 1);
    CHECK(j.at("files").at(0).at("verified") == true);
    CHECK(j.at("keys_checked").get<int>() >= 1);
    // A forged file in the same directory is refused (exit 3); the genuine one still verifies.
    sotto::test::write_text(out / "0000forged.zip", "PK\x03\x04 not a zip");
    auto forged =
        sotto_cli(cat({"match", out.string(), "--pubkey", f.pub, "--json"}, f.store_args()));
    CHECK(forged.exit_code == 3);
    const auto fj = json::parse(forged.out);
    CHECK(fj.at("files").size() == 2);
    // An empty directory matches nothing and says so.
    std::filesystem::create_directory(f.tmp / "empty");
    auto empty =
        sotto_cli(cat({"match", (f.tmp / "empty").string(), "--pubkey", f.pub}, f.store_args()));
    CHECK(empty.exit_code == 0);
    CHECK(empty.err.find("no export.bin and no *.zip") != std::string::npos);
}
