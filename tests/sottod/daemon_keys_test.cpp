// sottod downloads key files from a real HTTP server on 127.0.0.1 (tests/fetch/key_server.py),
// verifies them, checks them through the Tracer against what its simulated radio heard, and
// marks a file used only once it was judged completely.
#include <catch2/catch.hpp>

#include <signal.h>

#include <thread>

#include <sotto/core/interval.hpp>
#include <sotto/core/rng.hpp>
#include <sotto/keyfile/export_writer.hpp>

#include "fetch/fetch_test_support.hpp"
#include "integration/keyfile/keyfile_test_support.hpp"
#include "sim_world.hpp"
#include "sottod/sottod_process.hpp"

namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using sotto::test::TempDir;
using sotto::test::fetch::KeyServer;
using sotto::test::sottod::Sottod;

constexpr std::int64_t kDay = 1795305600;  // Tue 2026-11-17 00:00 UTC
constexpr std::int64_t kSimStartMs = (kDay + 23 * 3600 + 40 * 60) * 1000;  // 23:40 that day
constexpr std::uint64_t kSeed = 7;
const std::string kBucket = "exposureKeyExport-XX/";

sotto::keyfile::ExportSigner signer() {
    auto s = sotto::keyfile::ExportSigner::generate();
    REQUIRE(s);
    return std::move(*s);
}

template <class... K>
std::vector<sotto::core::DiagnosisKey> keys(K&&... k) {
    std::vector<sotto::core::DiagnosisKey> v;
    (v.push_back(std::forward<K>(k)), ...);
    return v;
}

/// A zip with the given keys, signed by `by` (unsigned when null).
std::vector<std::uint8_t> export_zip(std::vector<sotto::core::DiagnosisKey> keys,
                                     const sotto::keyfile::ExportSigner& by, bool sign,
                                     std::uint64_t seed) {
    sotto::keyfile::ExportWriteOptions o;
    o.key_id = "test";
    o.key_version = "v1";
    o.region = "XX";
    o.start_timestamp = kDay;
    o.end_timestamp = kDay + 86400;
    sotto::core::DeterministicRng rng(seed);
    auto files = sotto::keyfile::build_export(keys, by, o, rng);
    REQUIRE(files);
    if (!sign) files->export_sig.clear();
    auto zip = sotto::keyfile::zip_export(*files);
    REQUIRE(zip);
    return *zip;
}

/// The key peer `index` of the daemon's simulated air broadcast on the story's day.
sotto::core::DiagnosisKey peer_key(int index) {
    const auto enin = sotto::core::interval_number(kSimStartMs / 1000);
    REQUIRE(enin);
    sotto::core::DiagnosisKey k;
    k.exposure_key = sotto::sottod::peer_tek(kSeed, index, *enin);
    k.transmission_risk_level = 6;
    k.report_type = sotto::core::ReportType::kConfirmedTest;
    k.days_since_onset = 2;  // CWA encodes infectiousness here: 2 = high
    return k;
}

/// Keys nobody broadcast.
sotto::core::DiagnosisKey stranger_key(std::uint8_t fill) {
    std::string h(32, '0');
    h[0] = "0123456789abcdef"[fill >> 4];
    h[1] = "0123456789abcdef"[fill & 15];
    return sotto::test::keyfile::make_key(h, static_cast<std::uint32_t>(kDay / 600), 144, 6,
                                          sotto::core::ReportType::kConfirmedTest);
}

void put(const std::filesystem::path& root, const std::string& rel,
         const std::vector<std::uint8_t>& bytes, const std::string& mode = "") {
    std::filesystem::create_directories((root / rel).parent_path());
    sotto::test::write_file(root / rel, bytes);
    if (!mode.empty()) sotto::test::write_text(root / (rel + ".mode"), mode + "\n");
}

/// Writes `by`'s public key to `tmp/name` (what `--pubkey` reads) and returns the path.
std::filesystem::path write_pubkey(const TempDir& tmp, const sotto::keyfile::ExportSigner& by,
                                   const char* name = "health.pem") {
    auto pem = by.public_key_pem();
    REQUIRE(pem);
    sotto::test::write_text(tmp / name, *pem);
    return tmp / name;
}

/// The daemon's directory under `tmp` (created).
std::filesystem::path daemon_dir(const TempDir& tmp) {
    std::filesystem::create_directories(tmp / "daemon");
    return tmp / "daemon";
}

std::vector<std::string> daemon_args(const KeyServer& server, const std::filesystem::path& pem) {
    return {"--radio",
            "simulated",
            "--sim-peers",
            "2",
            "--sim-seed",
            std::to_string(kSeed),
            "--sim-start",
            std::to_string(kSimStartMs),
            "--sim-speed",
            "600",
            "--scan-continuous",
            "--keys-url",
            server.url(),
            "--pubkey",
            pem.string(),
            "--check-every",
            "1s",
            "--http-timeout",
            "2s",
            "--max-file-bytes",
            "65536"};
}

std::uint64_t num(const json& j, const char* group, const char* field) {
    return j.at(group).at(field).get<std::uint64_t>();
}

}  // namespace

TEST_CASE(
    "sottod finds an exposure in a hostile bucket, uses only the verified file, and re-downloads "
    "nothing after a restart",
    "[sottod][keys]") {
    TempDir tmp;
    const auto root = tmp / "bucket";
    const auto health = signer(), forger = signer();
    put(root, kBucket + "1-good.zip",
        export_zip(keys(peer_key(0), stranger_key(1)), health, true, 1));
    put(root, kBucket + "2-unsigned.zip", export_zip(keys(peer_key(1)), health, false, 2));
    put(root, kBucket + "3-forged.zip", export_zip(keys(peer_key(1)), forger, true, 3));
    put(root, kBucket + "5-truncated.zip", export_zip(keys(stranger_key(5)), health, true, 5),
        "truncate");
    put(root, kBucket + "6-huge.zip", export_zip(keys(stranger_key(6)), health, true, 6),
        "endless");
    put(root, kBucket + "7-hang.zip", export_zip(keys(stranger_key(7)), health, true, 7), "hang");
    // The good file is published only after the daemon has heard peer 0 for a while: a sighting
    // heard after the device obtained the file would be suspect ("heard after the key was
    // published").
    sotto::test::fetch::write_index(
        root, {kBucket + "2-unsigned.zip", kBucket + "3-forged.zip", kBucket + "4-missing.zip",
               kBucket + "5-truncated.zip", kBucket + "6-huge.zip", kBucket + "7-hang.zip"});
    const auto health_pem = write_pubkey(tmp, health);
    KeyServer server(root);
    const auto dir = daemon_dir(tmp);

    {
        Sottod d(dir, daemon_args(server, health_pem));
        // 23:40 -> 01:00 simulated is 8 s. Peer 0 is heard from 23:40; its key is published at
        // 23:50 (still in use: no embargo, it is matched at once).
        const std::int64_t published = kDay + 23 * 3600 + 50 * 60;
        d.wait_for(
            [&](const json& j) {
                return j.at("now").get<std::int64_t>() >= published &&
                       num(j, "heard", "accepted") > 0;
            },
            60s);
        sotto::test::fetch::write_index(
            root, {kBucket + "1-good.zip", kBucket + "2-unsigned.zip", kBucket + "3-forged.zip",
                   kBucket + "4-missing.zip", kBucket + "5-truncated.zip", kBucket + "6-huge.zip",
                   kBucket + "7-hang.zip"});
        const json s =
            d.wait_for([](const json& j) { return num(j, "keys", "files_used") >= 1; }, 60s);
        INFO(s.dump() << "\n" << d.log());
        CHECK(num(s, "keys", "files_used") == 1);
        CHECK(num(s, "keys", "files_refused") == 2);  // unsigned and forged, once each
        CHECK(num(s, "keys", "files_failed") >= 4);   // 404, truncated, over the cap, timeout
        CHECK(num(s, "exposure", "windows") >= 1);
        CHECK(s.at("exposure").at("risk") != "none");
        CHECK(num(s, "heard", "accepted") > 0);
        CHECK(server.count(kBucket + "1-good.zip", 200) == 1);
        CHECK(server.count(kBucket + "2-unsigned.zip", 200) == 1);  // refused, then only asked
        CHECK(server.count(kBucket + "2-unsigned.zip", 304) >= 1);  // with its ETag
        CHECK(server.count(kBucket + "3-forged.zip", 200) == 1);
        CHECK(server.count(kBucket + "4-missing.zip", 404) >= 1);
        CHECK(d.stop() == 0);
        CHECK(sotto::test::sottod::log_is_journald_and_private(d.log()));
    }
    const auto stats = sotto::test::sottod::store_stats(dir);
    CHECK(stats.sightings > 0);
    CHECK(stats.processed_files >= 1);

    // A restart: nothing used is downloaded or matched again; a file added to the index is.
    const std::size_t requests_before = server.requests().size();
    Sottod again(dir, daemon_args(server, health_pem));
    json s = again.wait_for([](const json& j) { return num(j, "keys", "rounds") >= 2; }, 30s);
    INFO(s.dump() << "\n" << again.log());
    CHECK(num(s, "keys", "files_used") == 0);
    CHECK(num(s, "keys", "files_downloaded") == 0);
    CHECK(server.count(kBucket + "1-good.zip") == 1);
    CHECK(server.count(kBucket + "2-unsigned.zip", 200) == 1);
    CHECK(server.requests().size() > requests_before);  // it did ask for the index again

    put(root, kBucket + "8-new.zip", export_zip(keys(stranger_key(8)), health, true, 8));
    sotto::test::fetch::write_index(root, {kBucket + "1-good.zip", kBucket + "8-new.zip"});
    s = again.wait_for([](const json& j) { return num(j, "keys", "files_used") >= 1; }, 30s);
    CHECK(num(s, "keys", "files_used") == 1);
    CHECK(server.count(kBucket + "8-new.zip", 200) == 1);
    CHECK(server.count(kBucket + "1-good.zip") == 1);
    CHECK(again.stop() == 0);
}

TEST_CASE("sottod with the wrong public key uses no file and reports no exposure",
          "[sottod][keys]") {
    TempDir tmp;
    const auto root = tmp / "bucket";
    const auto health = signer(), other = signer();
    put(root, kBucket + "1-good.zip", export_zip(keys(peer_key(0)), health, true, 1));
    sotto::test::fetch::write_index(root, {kBucket + "1-good.zip"});
    const auto other_pem = write_pubkey(tmp, other, "other.pem");
    KeyServer server(root);
    const auto dir = daemon_dir(tmp);
    Sottod d(dir, daemon_args(server, other_pem));
    // Past 01:30 simulated (the key is no longer embargoed) and two more rounds.
    const std::int64_t late = (kDay + 86400 + 5400);
    json s = d.wait_for([&](const json& j) { return j.at("now").get<std::int64_t>() > late; }, 30s);
    const auto rounds = num(s, "keys", "rounds");
    s = d.wait_for([&](const json& j) { return num(j, "keys", "rounds") >= rounds + 2; }, 30s);
    INFO(s.dump() << "\n" << d.log());
    CHECK(num(s, "keys", "files_used") == 0);
    CHECK(num(s, "keys", "files_refused") == 1);  // once: dropped until the file changes
    CHECK(num(s, "exposure", "windows") == 0);
    CHECK(num(s, "heard", "accepted") > 0);
    CHECK(server.count(kBucket + "1-good.zip", 200) == 1);  // refused, not downloaded again
    CHECK(server.count(kBucket + "1-good.zip", 304) >= 2);  // only asked whether it changed
    CHECK(d.stop() == 0);
}

TEST_CASE("sottod keeps running and stops promptly while its key server never answers",
          "[sottod][keys]") {
    TempDir tmp;
    const auto root = tmp / "bucket";
    std::filesystem::create_directories(root);
    sotto::test::write_text(root / "index.txt", kBucket + "1.zip\n");
    sotto::test::write_text(root / "index.txt.mode", "hang\n");
    const auto health = signer();
    const auto health_pem = write_pubkey(tmp, health);
    KeyServer server(root);
    const auto dir = daemon_dir(tmp);
    Sottod d(dir, {"--radio", "simulated", "--sim-peers", "1", "--scan-continuous", "--keys-url",
                   server.url(), "--pubkey", health_pem.string(), "--check-every", "1s",
                   "--http-timeout", "1s"});
    json s = d.wait_for([](const json& j) { return num(j, "keys", "rounds_failed") >= 2; }, 30s);
    INFO(s.dump() << "\n" << d.log());
    CHECK(num(s, "keys", "rounds_failed") >= 2);
    CHECK(num(s, "keys", "files_downloaded") == 0);
    // The index hangs again now: SIGTERM cancels it, the daemon ends within the stop timeout.
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(d.stop(10s) == 0);
    CHECK(std::chrono::steady_clock::now() - t0 < 5s);
}

TEST_CASE(
    "sottod reads a local key directory, uses the signed file at once and refuses the forged one",
    "[sottod][keys]") {
    TempDir tmp;
    const auto keys_dir = tmp / "keys";
    const auto health = signer(), forger = signer();
    // A key of an old day: no longer in use, so it is judged at the first round.
    auto old_key = [] {
        auto k = stranger_key(9);
        k.exposure_key.rolling_start = static_cast<std::uint32_t>((kDay - 3 * 86400) / 600);
        return k;
    };
    put(keys_dir, "a-signed.zip", export_zip(keys(old_key()), health, true, 9));
    put(keys_dir, "b-forged.zip", export_zip(keys(old_key()), forger, true, 10));
    const auto health_pem = write_pubkey(tmp, health);
    const auto dir = daemon_dir(tmp);
    Sottod d(dir, {"--radio", "simulated", "--sim-peers", "0", "--sim-start",
                   std::to_string(kSimStartMs), "--keys-dir", keys_dir.string(), "--pubkey",
                   health_pem.string(), "--check-every", "1s"});
    const json s = d.wait_for([](const json& j) { return num(j, "keys", "rounds") >= 3; }, 30s);
    INFO(s.dump() << "\n" << d.log());
    CHECK(num(s, "keys", "files_used") == 1);
    CHECK(num(s, "keys", "files_refused") == 1);  // the forged file, once: unchanged since
    CHECK(num(s, "keys", "checks") == 1);         // the used file is not checked again
    // SIGHUP does not end it (nothing to reload); SIGTERM does, cleanly.
    kill(d.pid(), SIGHUP);
    std::this_thread::sleep_for(300ms);
    CHECK(d.status().at("keys").at("files_used") == 1);
    CHECK(d.stop() == 0);
    CHECK(d.log().find("<6>SIGHUP: nothing to reload") != std::string::npos);
}

TEST_CASE("sottod with a small spool cap downloads a few files per round and uses them all",
          "[sottod][keys]") {
    TempDir tmp;
    const auto root = tmp / "bucket";
    const auto health = signer();
    std::string index;
    std::size_t largest = 0;
    for (std::uint8_t i = 0; i < 4; ++i) {
        auto k = stranger_key(static_cast<std::uint8_t>(0x20 + i));
        k.exposure_key.rolling_start = static_cast<std::uint32_t>((kDay - 3 * 86400) / 600);
        const auto zip = export_zip(keys(std::move(k)), health, true, 20 + i);
        largest = std::max(largest, zip.size());
        const std::string rel = kBucket + "f" + std::to_string(i) + ".zip";
        put(root, rel, zip);
        index += rel + "\n";
    }
    sotto::test::write_text(root / "index.txt", index);
    REQUIRE(largest <= 1024);
    const auto health_pem = write_pubkey(tmp, health);
    KeyServer server(root);
    const auto dir = daemon_dir(tmp);
    // Room for one or two files at a time: a later one of the first round crosses the cap.
    Sottod d(dir, {"--radio", "simulated", "--sim-peers", "0", "--sim-start",
                   std::to_string(kSimStartMs), "--keys-url", server.url(), "--pubkey",
                   health_pem.string(), "--check-every", "1s", "--max-file-bytes", "1024",
                   "--max-spool-bytes",
                   std::to_string(std::max<std::size_t>(1024, largest + largest / 2))});
    const json s = d.wait_for([](const json& j) { return num(j, "keys", "files_used") >= 4; }, 30s);
    INFO(s.dump() << "\n" << d.log());
    CHECK(num(s, "keys", "files_used") == 4);
    CHECK(num(s, "keys", "files_failed") >= 2);  // spool full: the file that crossed, the rest
    CHECK(num(s, "keys", "rounds") >= 2);
    for (std::uint8_t i = 0; i < 4; ++i)  // each stored once: at most one aborted transfer more
        CHECK(server.count(kBucket + "f" + std::to_string(i) + ".zip", 200) <= 2);
    CHECK(d.stop() == 0);
}

TEST_CASE(
    "sottod drops key files refused for their bytes so a genuine file behind them arrives, and "
    "checks them again only under new public keys",
    "[sottod][keys]") {
    TempDir tmp;
    const auto root = tmp / "bucket";
    const auto health = signer(), other = signer();
    auto old_key = [](std::uint8_t fill) {
        auto k = stranger_key(fill);
        k.exposure_key.rolling_start = static_cast<std::uint32_t>((kDay - 3 * 86400) / 600);
        return k;
    };
    // Listed first: two files that are not zips and two signed by a key not (yet) trusted.
    std::vector<std::string> junk = {kBucket + "0-garbage.zip", kBucket + "1-garbage.zip",
                                     kBucket + "2-other.zip", kBucket + "3-other.zip"};
    std::uint64_t junk_bytes = 0;
    for (std::size_t i = 0; i < junk.size(); ++i) {
        const auto bytes = i < 2
                               ? std::vector<std::uint8_t>(600, static_cast<std::uint8_t>('a' + i))
                               : export_zip(keys(old_key(static_cast<std::uint8_t>(0x40 + i)),
                                                 old_key(static_cast<std::uint8_t>(0x50 + i))),
                                            other, true, 40 + i);
        put(root, junk[i], bytes);
        junk_bytes += bytes.size();
    }
    const std::string good = kBucket + "9-good.zip";
    put(root, good, export_zip(keys(old_key(0x60)), health, true, 60));
    auto listed = junk;
    listed.push_back(good);
    sotto::test::fetch::write_index(root, listed);
    const auto health_pem = write_pubkey(tmp, health);
    const auto other_pem = write_pubkey(tmp, other, "other.pem");
    KeyServer server(root);
    const auto dir = daemon_dir(tmp);
    // The spool holds the four refused files and 100 bytes more: never the genuine one as well.
    const std::string cap = std::to_string(std::max<std::uint64_t>(1024, junk_bytes + 100));
    REQUIRE(junk_bytes + 100 >= 1024);
    auto args = [&](std::vector<std::string> pems) {
        std::vector<std::string> a = {"--radio",           "simulated",
                                      "--sim-peers",       "0",
                                      "--sim-start",       std::to_string(kSimStartMs),
                                      "--keys-url",        server.url(),
                                      "--check-every",     "1s",
                                      "--max-file-bytes",  "1024",
                                      "--max-spool-bytes", cap};
        for (const auto& p : pems) a.insert(a.end(), {"--pubkey", p});
        return a;
    };
    {
        Sottod d(dir, args({health_pem.string()}));
        json s = d.wait_for([](const json& j) { return num(j, "keys", "files_used") >= 1; }, 30s);
        const auto rounds = num(s, "keys", "rounds");
        s = d.wait_for([&](const json& j) { return num(j, "keys", "rounds") >= rounds + 2; }, 30s);
        INFO(s.dump() << "\n" << d.log());
        CHECK(num(s, "keys", "files_used") == 1);
        CHECK(num(s, "keys", "files_refused") == 4);  // each once: then dropped until it changes
        // Used once; at most one more transfer, aborted at the cap while the junk filled it.
        CHECK(server.count(good, 200) <= 2);
        for (const auto& p : junk) {
            CAPTURE(p);
            CHECK(server.count(p, 200) == 1);
            CHECK(server.count(p, 304) >= 2);  // asked with its ETag every later round
        }
        CHECK(d.stop() == 0);
    }
    const std::size_t good_transfers = server.count(good, 200);
    {  // The neighbour: a restart with the same key keeps the refusals.
        Sottod d(dir, args({health_pem.string()}));
        const json s = d.wait_for([](const json& j) { return num(j, "keys", "rounds") >= 2; }, 30s);
        INFO(s.dump() << "\n" << d.log());
        CHECK(num(s, "keys", "files_refused") == 0);
        for (const auto& p : junk) CHECK(server.count(p, 200) == 1);
        CHECK(d.stop() == 0);
    }
    {  // Trusting the other key too: the refused files are fetched and checked again.
        Sottod d(dir, args({health_pem.string(), other_pem.string()}));
        const json s =
            d.wait_for([](const json& j) { return num(j, "keys", "files_used") >= 2; }, 30s);
        INFO(s.dump() << "\n" << d.log());
        CHECK(num(s, "keys", "files_used") == 2);  // the two signed by the other key
        CHECK(server.count(junk[2], 200) == 2);
        CHECK(server.count(junk[3], 200) == 2);
        CHECK(server.count(good, 200) == good_transfers);  // used: never fetched again
        CHECK(d.stop() == 0);
    }
}
