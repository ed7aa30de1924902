// The `sotto` tool's contract: every command has --help, exit codes mean the same thing
// everywhere (0 ok, 1 other failure, 2 usage, 3 refused input), `keys publish` needs the explicit
// confirmation, and `status` reads a running sottod.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include <sotto/keyfile/export_writer.hpp>

#include "support.hpp"

namespace {
using sotto::test::run_process;
using sotto::test::TempDir;

struct Fixture {
    TempDir tmp;
    std::string key, store, good_pem, signing_key, other_pem;
    Fixture() {
        key = (tmp / "store.key").string();
        sotto::test::write_text(key, std::string(64, 'a') + "\n");
        REQUIRE(chmod(key.c_str(), 0600) == 0);
        store = (tmp / "store.db").string();
        // A store with an own key: sottod on the simulated air for a moment (SIGTERM after 1 s).
        const auto r = run_process({"/usr/bin/timeout", "--preserve-status", "-s", "TERM", "1",
                                    SOTTO_SOTTOD_PATH, "--radio", "simulated", "--sim-peers", "1",
                                    "--store", store, "--key-file", key});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        auto signer = sotto::keyfile::ExportSigner::generate();
        auto other = sotto::keyfile::ExportSigner::generate();
        REQUIRE(signer);
        REQUIRE(other);
        good_pem = (tmp / "good.pem").string();
        other_pem = (tmp / "other.pem").string();
        sotto::test::write_text(good_pem, *signer->public_key_pem());
        sotto::test::write_text(other_pem, *other->public_key_pem());
        // The signing key as PKCS#8 PEM, through openssl (the library exports only public keys).
        signing_key = (tmp / "signing.pem").string();
        const auto g = run_process({"/usr/bin/openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                                    "ec_paramgen_curve:P-256", "-out", signing_key});
        REQUIRE(g.exit_code == 0);
        const auto p = run_process(
            {"/usr/bin/openssl", "pkey", "-in", signing_key, "-pubout", "-out", good_pem});
        REQUIRE(p.exit_code == 0);
    }
    std::vector<std::string> store_args() const { return {"--store", store, "--key-file", key}; }
};

std::vector<std::string> cat(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

}  // namespace

TEST_CASE("Every sotto command prints its help and exits 0", "[cli][contract]") {
    const std::vector<std::vector<std::string>> commands = {{},
                                                            {"status"},
                                                            {"keys"},
                                                            {"keys", "list"},
                                                            {"keys", "publish"},
                                                            {"match"},
                                                            {"import"},
                                                            {"ingest"},
                                                            {"store"},
                                                            {"store", "stats"},
                                                            {"store", "verify"},
                                                            {"store", "rekey"},
                                                            {"store", "erase"},
                                                            {"derive"},
                                                            {"export"},
                                                            {"export", "inspect"},
                                                            {"export", "build"},
                                                            {"fetch"},
                                                            {"demo"}};
    for (const auto& c : commands) {
        auto argv = cat({sotto::test::cli_path()}, c);
        argv.push_back("--help");
        const auto r = run_process(argv);
        INFO(argv.size());
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("Usage:") != std::string::npos);
    }
}

TEST_CASE("sotto exit codes mean the same in every command", "[cli][contract]") {
    Fixture f;
    // export.zip files: one signed by the trusted key (via keys publish), one forged.
    const std::string published = (f.tmp / "published.zip").string();
    struct Row {
        std::vector<std::string> args;
        int code;
        const char* why;
    };
    const std::vector<Row> table = {
        {{}, 2, "no command"},
        {{"frobnicate"}, 2, "unknown command"},
        {{"keys"}, 2, "group without a subcommand"},
        {{"keys", "list"}, 2, "missing --store"},
        {cat({"keys", "list", "--bogus"}, f.store_args()), 2, "unknown flag"},
        {cat({"keys", "publish", "-o", published, "--signing-key", f.signing_key, "--key-id", "262",
              "--key-version", "v1", "--region", "DE"},
             f.store_args()),
         2, "publish without consent"},
        {{"status", "--timeout-ms", "1"}, 2, "timeout out of range"},
        {{"status", "--socket", (f.tmp / "none.sock").string()}, 1, "no daemon"},
        {{"keys", "list", "--store", (f.tmp / "missing.db").string(), "--key-file", f.key},
         2,
         "missing store"},
        {cat({"keys", "list"}, f.store_args()), 0, "list"},
        {cat({"keys", "list", "--json"}, f.store_args()), 0, "list as JSON"},
        {cat({"keys", "publish", "-o", published, "--signing-key", f.signing_key, "--key-id", "262",
              "--key-version", "v1", "--region", "DE", "--i-consent-to-upload-my-keys"},
             f.store_args()),
         0, "publish with consent"},
        {{"export", "inspect", published, "--pubkey", f.good_pem}, 0, "published file verifies"},
        {{"export", "inspect", published, "--pubkey", f.other_pem}, 3, "wrong public key: refused"},
        {cat({"match", published, "--pubkey", f.other_pem}, f.store_args()), 3,
         "match refuses it too"},
        {cat({"import", published, "--pubkey", f.good_pem}, f.store_args()), 0, "import is match"},
        {{"derive", "--tek", "zz", "--interval", "1"}, 2, "bad hex"},
        {{"fetch", "--state-dir", (f.tmp / "fetch").string(), "--pubkey", f.good_pem},
         2,
         "fetch without --source"},
        {{"fetch", "--source", "http://example.com/keys", "--state-dir", (f.tmp / "fetch").string(),
          "--pubkey", f.good_pem},
         2,
         "plain http to a remote host"},
        {{"demo", "--bogus"}, 2, "demo with an unknown flag"},
    };
    for (const auto& row : table) {
        const auto r = run_process(cat({sotto::test::cli_path()}, row.args));
        INFO(row.why << "\nstdout: " << r.out << "\nstderr: " << r.err);
        CHECK(r.exit_code == row.code);
        if (row.code != 0) CHECK(r.err.rfind("sotto: ", 0) == 0);
    }
    // After publishing, every own key is marked published and a new one broadcasts from now on.
    const auto list =
        run_process(cat({sotto::test::cli_path(), "keys", "list", "--json"}, f.store_args()));
    REQUIRE(list.exit_code == 0);
    const auto j = nlohmann::json::parse(list.out);
    REQUIRE(j.at("own_keys").size() >= 1);
    CHECK(j.at("own_keys").at(0).at("published") == true);
    CHECK(list.out.find(std::string(32, 'a')) == std::string::npos);
}

TEST_CASE("sotto status reads a running sottod and prints JSON for scripts", "[cli][contract]") {
    Fixture f;
    const std::string sock = (f.tmp / "status.sock").string();
    // sottod in the background for 4 s; the status is read meanwhile.
    const std::string cmd =
        std::string("/usr/bin/timeout --preserve-status -s TERM 4 ") + SOTTO_SOTTOD_PATH +
        " --radio simulated --sim-peers 2 --scan-continuous --store " + f.store + " --key-file " +
        f.key + " --status-socket " + sock + " 2>/dev/null &";
    REQUIRE(std::system(cmd.c_str()) == 0);
    sotto::test::ProcessResult r;
    for (int i = 0; i < 60; ++i) {
        r = run_process({sotto::test::cli_path(), "status", "--socket", sock, "--json"});
        if (r.exit_code == 0 &&
            nlohmann::json::parse(r.out).at("heard").at("accepted").get<int>() > 0)
            break;
        usleep(100'000);
    }
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j.at("radio") == "simulated");
    CHECK(j.at("heard").at("accepted").get<int>() > 0);
    const auto human = run_process({sotto::test::cli_path(), "status", "--socket", sock});
    CHECK(human.exit_code == 0);
    CHECK(human.out.find("heard: ") != std::string::npos);
    CHECK(human.out.find("key files: not configured") != std::string::npos);
    // Something that is not sottod on the socket path: a plain file.
    sotto::test::write_text(f.tmp / "plain", "x");
    CHECK(run_process({sotto::test::cli_path(), "status", "--socket", (f.tmp / "plain").string()})
              .exit_code == 1);
    for (int i = 0; i < 80 && std::filesystem::exists(sock); ++i) usleep(100'000);
}
