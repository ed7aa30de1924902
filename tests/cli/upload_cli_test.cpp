// `sotto keys upload` against a key server's publish endpoint on 127.0.0.1
// (tests/fetch/publish_server.py, which checks the body as the Exposure Notifications Server does
// and answers as it does), run as child processes.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "fetch/publish_server.hpp"
#include "support.hpp"

namespace {
using nlohmann::json;
using sotto::test::ProcessResult;
using sotto::test::run_process;
using sotto::test::TempDir;

constexpr const char* kCode = "12345678";

// publish_server.py on an ephemeral port (tests/fetch/publish_server.hpp).
class PublishServer : public sotto::test::PublishServer {
public:
    PublishServer(const std::filesystem::path& log, const std::string& mode = "")
        : sotto::test::PublishServer(log, kCode, {mode}) {}
};

// A store with own keys: sottod on the simulated air for a moment.
struct Device {
    TempDir tmp;
    std::string key, store;
    Device() {
        key = (tmp / "store.key").string();
        sotto::test::write_text(key, std::string(64, 'f') + "\n");
        REQUIRE(::chmod(key.c_str(), 0600) == 0);
        store = (tmp / "store.db").string();
        const auto r = run_process({"/usr/bin/timeout", "--preserve-status", "-s", "TERM", "1",
                                    SOTTO_SOTTOD_PATH, "--radio", "simulated", "--sim-peers", "0",
                                    "--store", store, "--key-file", key});
        REQUIRE(r.exit_code == 0);
    }
    ProcessResult upload(const std::string& url, std::vector<std::string> extra = {},
                         bool consent = true) const {
        std::vector<std::string> argv = {sotto::test::cli_path(),
                                         "keys",
                                         "upload",
                                         "--store",
                                         store,
                                         "--key-file",
                                         key,
                                         "--server",
                                         url,
                                         "--health-authority-id",
                                         "com.example.ha"};
        if (consent) argv.push_back("--i-consent-to-upload-my-keys");
        argv.insert(argv.end(), extra.begin(), extra.end());
        return run_process(argv);
    }
    json own_keys() const {
        auto r = run_process({sotto::test::cli_path(), "keys", "list", "--json", "--store", store,
                              "--key-file", key});
        REQUIRE(r.exit_code == 0);
        return json::parse(r.out).at("own_keys");
    }
};

bool none_published(const json& keys) {
    for (const auto& k : keys)
        if (k.at("published") == true) return false;
    return !keys.empty();
}

}  // namespace

TEST_CASE("keys upload sends the own keys in the publish format and nothing else",
          "[cli][upload]") {
    Device dev;
    PublishServer server(dev.tmp / "publish.log");
    const auto before = dev.own_keys();
    REQUIRE(none_published(before));
    const auto r = dev.upload(server.url(),
                              {"--verification-code", kCode, "--transmission-risk", "4", "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto answer = json::parse(r.out);
    CHECK(answer.at("accepted") == true);
    CHECK(answer.at("http_status") == 200);
    CHECK(answer.at("revision_token").get<std::string>().size() > 20);
    const auto reqs = server.requests();
    REQUIRE(reqs.size() == 1);
    const auto& req = reqs[0];
    CHECK(req.at("status") == 200);
    const auto& body = req.at("body");
    // Exactly the publish fields; no identifier of the device or the user.
    std::set<std::string> fields;
    for (const auto& [k, v] : body.items()) fields.insert(k);
    CHECK(fields == std::set<std::string>{"temporaryExposureKeys", "healthAuthorityID",
                                          "verificationPayload", "hmacKey", "revisionToken",
                                          "padding"});
    CHECK(body.at("verificationPayload") == kCode);
    CHECK(body.at("healthAuthorityID") == "com.example.ha");
    const auto& keys = body.at("temporaryExposureKeys");
    CHECK(keys.size() == answer.at("keys_sent").get<std::size_t>());
    CHECK(keys.size() >= before.size());
    for (const auto& k : keys) {
        CHECK(k.at("transmissionRisk") == 4);
        CHECK(k.at("rollingStartNumber").get<std::int64_t>() % 144 == 0);
        CHECK(k.at("rollingPeriod").get<int>() >= 1);
    }
    // The body is padded: its size does not follow the number of keys.
    CHECK(req.at("body_bytes").get<int>() >= 6 * 1024 - 4);
    CHECK(req.at("body_bytes").get<int>() < 8 * 1024);
    // Only what HTTP needs in the headers: no cookie, no custom header.
    std::set<std::string> headers;
    for (const auto& h : req.at("headers")) headers.insert(h.get<std::string>());
    CHECK(headers ==
          std::set<std::string>{"host", "user-agent", "accept", "content-type", "content-length"});
    // Released: marked published, and the key material never reached the terminal.
    for (const auto& k : dev.own_keys()) CHECK(k.at("published") == true);
    CHECK(r.out.find(keys.at(0).at("key").get<std::string>()) == std::string::npos);
}

TEST_CASE("keys upload reports the server's refusal of a bad verification code with exit 3",
          "[cli][upload]") {
    Device dev;
    PublishServer server(dev.tmp / "publish.log");
    const auto r = dev.upload(server.url(), {"--verification-code", "00000000"});
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("HTTP 400 health_authority_verification_certificate_invalid") !=
          std::string::npos);
    CHECK(r.err.find("token is invalid") != std::string::npos);
    REQUIRE(server.requests().size() == 1);
    // An unknown health authority: refused the same way, with its own code.
    const auto other =
        run_process({sotto::test::cli_path(), "keys", "upload", "--store", dev.store, "--key-file",
                     dev.key, "--server", server.url(), "--health-authority-id", "org.other",
                     "--verification-code", kCode, "--i-consent-to-upload-my-keys", "--json"});
    CHECK(other.exit_code == 3);
    CHECK(json::parse(other.out).at("code") == "unknown_health_authority_id");
    // A server error is a failure (exit 1), not a refusal.
    PublishServer broken(dev.tmp / "broken.log", "error500");
    const auto e = dev.upload(broken.url(), {"--verification-code", kCode});
    CHECK(e.exit_code == 1);
    CHECK(e.err.find("HTTP 500 internal_error") != std::string::npos);
    // A redirect is never followed with the keys.
    PublishServer moved(dev.tmp / "moved.log", "redirect");
    const auto m = dev.upload(moved.url(), {"--verification-code", kCode});
    CHECK(m.exit_code == 3);
    CHECK(moved.requests().size() == 1);
}

TEST_CASE("keys upload sends nothing without consent or to a plain-http remote host",
          "[cli][upload]") {
    Device dev;
    PublishServer server(dev.tmp / "publish.log");
    const auto no = dev.upload(server.url(), {"--verification-code", kCode}, /*consent=*/false);
    CHECK(no.exit_code == 2);
    CHECK(no.err.find("--i-consent-to-upload-my-keys") != std::string::npos);
    const auto remote = dev.upload("http://example.com/v1/publish", {"--verification-code", kCode});
    CHECK(remote.exit_code == 2);
    const auto ftp = dev.upload("ftp://127.0.0.1/v1/publish", {"--verification-code", kCode});
    CHECK(ftp.exit_code == 2);
    const auto no_code = dev.upload(server.url(), {"--verification-code", "bad\x01code"});
    CHECK(no_code.exit_code == 2);
    CHECK(server.requests().empty());
    CHECK(none_published(dev.own_keys()));  // nothing was released either
}

TEST_CASE("keys upload gives up on a server that never answers, in bounded time", "[cli][upload]") {
    Device dev;
    PublishServer server(dev.tmp / "publish.log", "hang");
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = dev.upload(server.url(), {"--verification-code", kCode, "--timeout", "1"});
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("timed out") != std::string::npos);
    CHECK(s < 10.0);  // 1 s of timeout plus the process start, far below the server's hour
}

// With a verification server: publish_server.py also plays it (--api-key) and accepts a publish
// only with a certificate it issued over the HMAC of exactly the keys published.
namespace {
constexpr const char* kApiKey = "app-api-key-5f3c9e1d";

class VerifyServer : public sotto::test::PublishServer {
public:
    VerifyServer(const std::filesystem::path& log, const std::string& mode = "")
        : sotto::test::PublishServer(
              log, kCode, {mode, std::string("--api-key=") + kApiKey, "--expired-code=87654321"}) {}
};
}  // namespace

TEST_CASE("keys upload --verification-server: code -> token -> certificate -> publish",
          "[cli][upload][verification]") {
    Device dev;
    VerifyServer server(dev.tmp / "verify.log");
    const std::string api = (dev.tmp / "api.key").string();
    sotto::test::write_text(api, std::string(kApiKey) + "\n");
    const auto r = dev.upload(server.url(), {"--verification-code", kCode, "--verification-server",
                                             server.base(), "--api-key-file", api, "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto answer = json::parse(r.out);
    CHECK(answer.at("accepted") == true);
    CHECK(answer.at("stage") == "publish");
    const auto reqs = server.requests();
    REQUIRE(reqs.size() == 3);
    CHECK(reqs[0].at("path") == "/api/verify");
    CHECK(reqs[1].at("path") == "/api/certificate");
    CHECK(reqs[2].at("path") == "/v1/publish");
    CHECK(reqs[2].at("status") == 200);  // the server's own HMAC of the keys matched
    const std::string cert = reqs[2].at("body").at("verificationPayload");
    const std::string token = reqs[1].at("body").at("token");
    // Neither the API key, nor the token, nor the certificate reaches the terminal.
    for (const std::string& secret : {std::string(kApiKey), token, cert}) {
        CHECK(r.out.find(secret) == std::string::npos);
        CHECK(r.err.find(secret) == std::string::npos);
    }
    for (const auto& k : dev.own_keys()) CHECK(k.at("published") == true);
}

TEST_CASE("keys upload --verification-server: refusals are exit 3 and reach no key server",
          "[cli][upload][verification]") {
    Device dev;
    VerifyServer server(dev.tmp / "verify.log");
    const std::string api = (dev.tmp / "api.key").string();
    sotto::test::write_text(api, std::string(kApiKey) + "\n");
    const std::string wrong = (dev.tmp / "wrong.key").string();
    sotto::test::write_text(wrong, "not-the-app-key\n");
    auto run = [&](const std::string& code, const std::string& key_file) {
        return dev.upload(server.url(), {"--verification-code", code, "--verification-server",
                                         server.base(), "--api-key-file", key_file, "--json"});
    };
    const auto bad_key = run(kCode, wrong);
    CHECK(bad_key.exit_code == 3);
    CHECK(json::parse(bad_key.out).at("stage") == "verify");
    CHECK(json::parse(bad_key.out).at("http_status") == 401);
    CHECK(bad_key.err.find("not-the-app-key") == std::string::npos);
    const auto invalid = run("11111111", api);
    CHECK(invalid.exit_code == 3);
    CHECK(json::parse(invalid.out).at("code") == "code_invalid");
    CHECK(invalid.err.find("verification server (verify)") != std::string::npos);
    const auto expired = run("87654321", api);
    CHECK(expired.exit_code == 3);
    CHECK(json::parse(expired.out).at("code") == "code_expired");
    for (const auto& r : server.requests()) CHECK(r.at("path") == "/api/verify");
}

TEST_CASE("keys upload --verification-server: bad options send nothing, a hang is bounded",
          "[cli][upload][verification]") {
    Device dev;
    VerifyServer server(dev.tmp / "verify.log");
    const std::string api = (dev.tmp / "api.key").string();
    sotto::test::write_text(api, std::string(kApiKey) + "\n");
    // A plain-http remote verification server, a missing key file, one without the other.
    const auto remote =
        dev.upload(server.url(), {"--verification-code", kCode, "--verification-server",
                                  "http://192.0.2.1", "--api-key-file", api});
    CHECK(remote.exit_code == 2);
    const auto missing =
        dev.upload(server.url(), {"--verification-code", kCode, "--verification-server",
                                  server.base(), "--api-key-file", (dev.tmp / "nope").string()});
    CHECK(missing.exit_code == 2);
    const auto alone = dev.upload(
        server.url(), {"--verification-code", kCode, "--verification-server", server.base()});
    CHECK(alone.exit_code == 2);
    CHECK(server.requests().empty());
    CHECK(none_published(dev.own_keys()));

    VerifyServer hang(dev.tmp / "hang.log", "hang");
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = dev.upload(server.url(), {"--verification-code", kCode, "--verification-server",
                                             hang.base(), "--api-key-file", api, "--timeout", "1"});
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("timed out") != std::string::npos);
    CHECK(s < 10.0);
    CHECK(server.requests().empty());
}
