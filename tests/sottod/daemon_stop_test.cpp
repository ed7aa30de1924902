// sottod stops within 2 s whatever its key server does, with its default options (no
// --http-timeout): the key round in flight is cancelled, and what was heard reaches the store.
// The server is a real TCP server on 127.0.0.1 in this process (tests/support/hostile_server).
#include <catch2/catch.hpp>

#include <chrono>
#include <regex>
#include <string>
#include <thread>

#include "hostile_server.hpp"
#include "sottod/sottod_process.hpp"

namespace {
using namespace std::chrono_literals;
using nlohmann::json;
using sotto::test::HostileServer;
using sotto::test::TempDir;
using sotto::test::sottod::Sottod;

std::uint64_t heard(const json& j, const char* field) {
    return j.at("heard").at(field).get<std::uint64_t>();
}

// "stopped: beacons stored N" from the log (the last line the daemon writes).
std::uint64_t stored_at_stop(const std::string& log) {
    static const std::regex line("stopped: beacons stored (\\d+)");
    std::smatch m;
    if (!std::regex_search(log, m, line)) return 0;
    return std::stoull(m[1]);
}

void wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(50ms);
}

}  // namespace

TEST_CASE("sottod stops within 2 s whatever the key server does and keeps what it heard",
          "[sottod][keys][stop]") {
    const auto mode = GENERATE(HostileServer::Mode::kSilent, HostileServer::Mode::kMany404,
                               HostileServer::Mode::kDripHeaders);
    CAPTURE(static_cast<int>(mode));
    TempDir tmp;
    HostileServer server(mode, 10'000);
    const std::string pem = (tmp / "health.pem").string();
    sotto::test::write_text(pem,
                            "-----BEGIN PUBLIC KEY-----\n"
                            "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEulSQvF1to8ojTUMV3/Zk9sQxw+z6\n"
                            "Ced8ZWKL3e/xXGFqE2GvcZG9wn5Mgd3eV5VFTKTIdLX5zALvZv1lgjuvfA==\n"
                            "-----END PUBLIC KEY-----\n");
    // Defaults for everything about keys and flushing: only the radio is simulated.
    Sottod d(tmp.path(), {"--radio", "simulated", "--sim-peers", "3", "--scan-continuous",
                          "--keys-url", server.url(), "--pubkey", pem});
    // The key round is stuck in the server (the index hangs or drips; or the 404s go on) ...
    const std::size_t busy = mode == HostileServer::Mode::kMany404 ? 20 : 1;
    wait_until([&] { return server.requests() >= busy; }, 20s);
    REQUIRE(server.requests() >= busy);
    // ... and the daemon heard its neighbours meanwhile.
    const json before = d.wait_for(
        [](const json& j) { return heard(j, "pending") + heard(j, "stored") >= 5; }, 20s);
    INFO(before.dump() << "\n" << d.log());
    REQUIRE(heard(before, "pending") + heard(before, "stored") >= 5);
    if (mode == HostileServer::Mode::kMany404) CHECK(server.requests() < 10'001);  // mid-round

    const auto t0 = std::chrono::steady_clock::now();
    const int code = d.stop(10s);
    const auto took = std::chrono::steady_clock::now() - t0;
    const std::string log = d.log();
    INFO(log);
    CHECK(code == 0);  // not SIGKILLed: a clean stop
    CHECK(took < 2s);
    CHECK(log.find("keys: round cancelled") != std::string::npos);
    CHECK(log.find("heard beacons could not be written") == std::string::npos);
    // Everything heard before the stop reached the store (and whatever came after it too).
    CHECK(stored_at_stop(log) >= heard(before, "pending") + heard(before, "stored"));
    CHECK(sotto::test::sottod::store_stats(tmp.path()).sightings >= 3);
}
