// sottod as a real child process on the simulated air: it hears its neighbours' beacons through
// the real encode, air, decode and ingest path, answers on its status socket, flushes what it
// heard on SIGTERM, and refuses bad command lines with exit code 2.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <thread>

#include <sotto/keyfile/export_writer.hpp>

#include "sottod/sottod_process.hpp"

namespace {
using namespace std::chrono_literals;
using nlohmann::json;
using sotto::test::TempDir;
using sotto::test::sottod::Sottod;

std::uint64_t heard(const json& j, const char* field) {
    return j.at("heard").at(field).get<std::uint64_t>();
}
}  // namespace

TEST_CASE(
    "sottod on the simulated air stores what its neighbours broadcast and flushes it on SIGTERM",
    "[sottod][sim]") {
    TempDir tmp;
    // --flush-every 1h: nothing is written by time, so what the store holds after SIGTERM was
    // written by the shutdown flush.
    Sottod d(tmp.path(), {"--radio", "simulated", "--sim-peers", "3", "--scan-continuous",
                          "--flush-every", "1h"});
    const json s = d.wait_for([](const json& j) { return heard(j, "pending") >= 20; }, 20s);
    INFO(s.dump() << "\n" << d.log());
    REQUIRE(heard(s, "pending") >= 20);
    CHECK(heard(s, "stored") == 0);
    CHECK(heard(s, "malformed") == 0);
    CHECK(s.at("radio") == "simulated");
    CHECK(s.at("bluetooth").at("advertising") == true);
    CHECK(s.at("bluetooth").at("scanning") == true);
    CHECK(s.at("keys").at("configured") == false);
    CHECK(d.stop() == 0);
    const std::string log = d.log();
    CHECK(log.find("<6>stopping: SIGTERM") != std::string::npos);
    CHECK(sotto::test::sottod::log_is_journald_and_private(log));
    const auto stats = sotto::test::sottod::store_stats(tmp.path());
    CHECK(stats.sightings >= 3);  // three phones, each at least one (RPI, interval)
    CHECK(stats.rpis >= 3);
    CHECK(stats.own_keys == 1);
    // The socket is gone with the daemon.
    CHECK_FALSE(std::filesystem::exists(tmp / "status.sock"));
}

TEST_CASE("sottod alone on the simulated air hears nothing and stores nothing", "[sottod][sim]") {
    TempDir tmp;
    Sottod d(tmp.path(), {"--radio", "simulated", "--sim-peers", "0", "--scan-continuous"});
    std::this_thread::sleep_for(2s);
    const json s = d.status();
    CHECK(heard(s, "accepted") == 0);
    CHECK(d.stop() == 0);
    CHECK(sotto::test::sottod::store_stats(tmp.path()).sightings == 0);
}

TEST_CASE("sottod keeps scanning to the GAEN duty cycle unless told to scan continuously",
          "[sottod][sim]") {
    TempDir tmp;
    // 60 simulated seconds per real second: 4 s windows every 3.5-5 minutes.
    Sottod d(tmp.path(), {"--radio", "simulated", "--sim-peers", "2", "--sim-speed", "60"});
    const json s = d.wait_for(
        [](const json& j) { return j.at("bluetooth").at("scan_windows").get<int>() >= 3; }, 30s);
    INFO(s.dump());
    CHECK(s.at("bluetooth").at("scan_windows").get<int>() >= 3);
    // Elapsed simulated time / windows stays near the 3.5-5 min period (not continuous).
    const double per_window = static_cast<double>(s.at("uptime_s").get<std::int64_t>()) /
                              s.at("bluetooth").at("scan_windows").get<double>();
    CHECK(per_window >= 60.0);
    CHECK(per_window <= 300.0);
    CHECK(d.stop() == 0);
}

TEST_CASE("sottod refuses bad command lines with exit code 2 and a bad store key with exit code 1",
          "[sottod][usage]") {
    TempDir tmp;
    sotto::test::sottod::write_store_key(tmp / "store.key");
    const std::string sottod = sotto::test::sottod::sottod_path();
    const std::string store = (tmp / "s.db").string(), key = (tmp / "store.key").string();
    auto signer = sotto::keyfile::ExportSigner::generate();
    REQUIRE(signer);
    const std::string pem = (tmp / "health.pem").string();
    sotto::test::write_text(pem, *signer->public_key_pem());
    struct Case {
        std::vector<std::string> args;
        int code;
    };
    const std::vector<Case> cases = {
        {{"--radio", "simulated", "--key-file", key}, 2},  // no --store
        {{"--radio", "carrier-pigeon", "--store", store, "--key-file", key}, 2},
        {{"--radio", "simulated", "--store", store, "--key-file", key, "--check-every", "soon"}, 2},
        {{"--radio", "simulated", "--store", store, "--key-file", key, "--check-every", "0s"}, 2},
        {{"--radio", "simulated", "--store", store, "--key-file", key, "--keys-url",
          "http://127.0.0.1:1/"},
         2},
        {{"--radio", "simulated", "--store", store, "--key-file", key, "--pubkey", key,
          "--keys-dir", tmp.path().string()},
         2},  // not a PEM
        {{"--radio", "bluez", "--store", store, "--key-file", key, "--sim-speed", "10"}, 2},
        {{"--radio", "simulated", "--store", store}, 2},  // no key, no credential
        {{"--radio", "simulated", "--store", store, "--key-file", (tmp / "missing").string()}, 1},
        {{"--radio", "simulated", "--store", store, "--key-file", key, "--keys-url",
          "http://example.com/keys", "--pubkey", pem},
         2},  // plain http, not loopback
        {{"--radio", "simulated", "--store", store, "--key-file", key, "--max-spool-bytes",
          "1048576"},
         2},  // a spool smaller than the largest file (32 MiB)
        {{"--radio", "simulated", "--store", store, "--key-file", key, "--max-file-bytes",
          "1048576", "--max-spool-bytes", "1048575"},
         2},
        {{"--radio", "simulated", "--store", store, "--key-file", key, "--max-spool-bytes", "0"},
         2},
    };
    for (const auto& c : cases) {
        std::vector<std::string> argv = {sottod};
        argv.insert(argv.end(), c.args.begin(), c.args.end());
        const auto r = sotto::test::run_process(argv);
        INFO(c.args.back() << ": " << r.err);
        CHECK(r.exit_code == c.code);
        CHECK(r.err.rfind("<3>", 0) == 0);
    }
    const auto help = sotto::test::run_process({sottod, "--help"});
    CHECK(help.exit_code == 0);
    CHECK(help.out.find("--keys-url") != std::string::npos);
}

TEST_CASE("sottod allows files above 256 MiB without a spool flag and refuses only a smaller cap",
          "[sottod][usage]") {
    TempDir tmp;
    const std::string big = std::to_string(std::uint64_t{512} << 20);
    {  // No --max-spool-bytes: the cap grows to the largest file, the daemon starts.
        Sottod d(tmp.path(), {"--radio", "simulated", "--sim-peers", "0", "--max-file-bytes", big});
        CHECK(d.status().at("radio") == "simulated");
        CHECK(d.stop() == 0);
        CHECK(d.log().find("--max-spool-bytes") == std::string::npos);
    }
    {  // An explicit cap equal to the largest file is fine.
        Sottod d(tmp.path(), {"--radio", "simulated", "--sim-peers", "0", "--max-file-bytes", big,
                              "--max-spool-bytes", big});
        CHECK(d.status().at("radio") == "simulated");
        CHECK(d.stop() == 0);
    }
    // An explicit cap below --max-file-bytes (here the default 256 MiB, given by hand) is refused.
    const auto r = sotto::test::run_process(
        {sotto::test::sottod::sottod_path(), "--radio", "simulated", "--store",
         (tmp / "store.db").string(), "--key-file", (tmp / "store.key").string(),
         "--max-file-bytes", big, "--max-spool-bytes", std::to_string(std::uint64_t{256} << 20)});
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("<3>sottod: --max-spool-bytes") == 0);
}

TEST_CASE(
    "sottod reads its store key from the systemd credential directory and refuses a wrong key",
    "[sottod][usage]") {
    TempDir tmp;
    std::filesystem::create_directories(tmp / "creds");
    sotto::test::sottod::write_store_key(tmp / "creds" / "store-key");
    std::filesystem::copy_file(tmp / "creds" / "store-key", tmp / "store.key");
    const std::string env = "CREDENTIALS_DIRECTORY=" + (tmp / "creds").string();
    std::vector<std::string> argv = {"/usr/bin/env",
                                     env,
                                     sotto::test::sottod::sottod_path(),
                                     "--radio",
                                     "simulated",
                                     "--store",
                                     (tmp / "store.db").string(),
                                     "--sim-peers",
                                     "0",
                                     "--status-socket",
                                     (tmp / "status.sock").string()};
    // Started through `timeout` so that the test does not need the fixture: SIGTERM after 2 s.
    argv.insert(argv.begin(), {"/usr/bin/timeout", "--preserve-status", "-s", "TERM", "2"});
    const auto r = sotto::test::run_process(argv);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("<6>started") != std::string::npos);
    CHECK(sotto::test::sottod::store_stats(tmp.path()).own_keys == 1);  // opened with the same key

    // Another key for the same store: refused, exit code 1, nothing changed.
    sotto::test::sottod::write_store_key(tmp / "creds" / "store-key");
    const auto bad = sotto::test::run_process(argv);
    CHECK(bad.exit_code == 1);
    CHECK(bad.err.find("<3>store: cannot be opened") != std::string::npos);
    CHECK(sotto::test::sottod::store_stats(tmp.path()).own_keys == 1);
}

TEST_CASE("sottod started with its clock a month past the store's deletes nothing and says so once",
          "[sottod][sim][clock]") {
    TempDir tmp;
    const std::int64_t t0 = (1614556800LL + 8 * 3600) * 1000;  // 2021-03-01T08:00:00Z
    auto run = [&](std::int64_t start_ms) {
        return std::vector<std::string>{"--radio", "simulated",         "--sim-peers",
                                        "3",       "--scan-continuous", "--flush-every",
                                        "1s",      "--sim-start",       std::to_string(start_ms)};
    };
    auto suspect = [](const json& j) { return j.at("retention").at("clock_suspect").get<bool>(); };
    {
        Sottod d(tmp.path(), run(t0));
        const json s = d.wait_for([](const json& j) { return heard(j, "stored") >= 3; }, 20s);
        INFO(s.dump());
        REQUIRE(heard(s, "stored") >= 3);
        CHECK_FALSE(suspect(s));
        CHECK(d.stop() == 0);
    }
    const auto before = sotto::test::sottod::store_stats(tmp.path());
    REQUIRE(before.sightings >= 3);
    {
        // Thirty days on (a bad time sync); the simulated clock is never confirmed.
        Sottod d(tmp.path(), run(t0 + 30LL * 86'400'000));
        const json s = d.wait_for(suspect, 10s);
        INFO(s.dump());
        CHECK(suspect(s));
        // Ticks go on (every 100 ms): still one warning, not one per tick.
        d.wait_for([](const json& j) { return heard(j, "stored") >= 3; }, 20s);
        std::this_thread::sleep_for(1s);
        CHECK(d.stop() == 0);
        const std::string log = d.log();
        INFO(log);
        std::size_t warnings = 0;
        for (auto at = log.find("<4>tracer: retention paused"); at != std::string::npos;
             at = log.find("<4>tracer: retention paused", at + 1))
            ++warnings;
        CHECK(warnings == 1);
        CHECK(sotto::test::sottod::log_is_journald_and_private(log));
    }
    const auto after = sotto::test::sottod::store_stats(tmp.path());
    CHECK(after.sightings >= before.sightings + 3);  // the old ones, and those of the wrong month
    CHECK(after.own_keys == before.own_keys + 1);
    {
        // The negative neighbour: a day after the first run is an ordinary clock.
        Sottod d(tmp.path(), run(t0 + 86'400'000));
        const json s = d.wait_for([](const json& j) { return heard(j, "stored") >= 3; }, 20s);
        INFO(s.dump());
        CHECK_FALSE(suspect(s));
        CHECK(d.stop() == 0);
        // The log file holds every run: still the one line of the second.
        const std::string log = d.log();
        INFO(log);
        CHECK(log.find("retention paused") == log.rfind("retention paused"));
    }
    CHECK(sotto::test::sottod::store_stats(tmp.path()).sightings >= after.sightings);
}

TEST_CASE("sottod told to trust its clock deletes what is past the window after a month off",
          "[sottod][sim][clock]") {
    TempDir tmp;
    const std::int64_t t0 = (1614556800LL + 8 * 3600) * 1000;  // 2021-03-01T08:00:00Z
    const auto args = [&](std::int64_t start_ms, bool trust) {
        std::vector<std::string> a = {"--radio", "simulated",         "--sim-peers",
                                      "3",       "--scan-continuous", "--flush-every",
                                      "1s",      "--sim-start",       std::to_string(start_ms)};
        if (trust) a.push_back("--trust-clock");
        return a;
    };
    auto stored = [](const json& j) { return heard(j, "stored") >= 3; };
    {
        Sottod d(tmp.path(), args(t0, false));
        REQUIRE(heard(d.wait_for(stored, 20s), "stored") >= 3);
        CHECK(d.stop() == 0);
    }
    const auto before = sotto::test::sottod::store_stats(tmp.path());
    REQUIRE(before.sightings >= 3);
    Sottod d(tmp.path(), args(t0 + 30LL * 86'400'000, true));
    const json s = d.wait_for(stored, 20s);
    INFO(s.dump());
    CHECK_FALSE(s.at("retention").at("clock_suspect").get<bool>());
    CHECK(d.stop() == 0);
    const std::string log = d.log();
    CHECK(log.find("<6>tracer: the host confirmed the clock for retention") != std::string::npos);
    CHECK(log.find("retention paused") == std::string::npos);
    const auto after = sotto::test::sottod::store_stats(tmp.path());
    CHECK(after.own_keys == 1);   // the month-old key is gone; today's is new
    CHECK(after.sightings >= 3);  // heard today
    CHECK(after.days == 1);       // nothing of the month-old day is left
}
