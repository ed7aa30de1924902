// sotto status against a StatusServer started by the test.
#include <string>

#include <catch2/catch.hpp>

#include "status_socket.hpp"
#include "support.hpp"

using namespace sotto::test;

TEST_CASE("sotto status prints the daemon's JSON line and fails cleanly without a daemon",
          "[cli][status]") {
    TempDir dir;
    const std::string sock = (dir / "status.sock").string();
    {
        auto server = sotto::sottod::StatusServer::start(
            sock, [] { return std::string(R"({"heard":{"accepted":1}})"); });
        REQUIRE(server);
        auto r = run_process({cli_path(), "status", "--socket", sock, "--json"});
        CHECK(r.exit_code == 0);
        CHECK(r.out == "{\"heard\":{\"accepted\":1}}\n");
    }
    auto gone = run_process({cli_path(), "status", "--socket", sock, "--timeout-ms", "500"});
    CHECK(gone.exit_code == 1);
    CHECK(gone.err.find("is sottod running?") != std::string::npos);
    CHECK(gone.out.empty());
}

TEST_CASE("sotto status says when retention is paused for a suspect clock and only then",
          "[cli][status]") {
    TempDir dir;
    const std::string sock = (dir / "status.sock").string();
    for (const char* flag : {"true", "false"}) {
        const std::string line =
            std::string(R"({"heard":{"accepted":1},"retention":{"clock_suspect":)") + flag + "}}";
        auto server = sotto::sottod::StatusServer::start(sock, [line] { return line; });
        REQUIRE(server);
        auto r = run_process({cli_path(), "status", "--socket", sock});
        CHECK(r.exit_code == 0);
        const bool paused = r.out.find("retention: paused") != std::string::npos;
        CHECK(paused == (std::string(flag) == "true"));
    }
}
