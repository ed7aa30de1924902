// sotto ingest / sotto store stats|verify|rekey|erase, run as a child process on real files.
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support.hpp"

using sotto::test::cli_path;
using sotto::test::ProcessResult;
using sotto::test::run_process;
using sotto::test::TempDir;

namespace {

// 2023-11-14T22:13:20Z
const std::string kNow = "1700000000";
const std::string kKeyHex = "00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210";
// Beacons of the EN v1.2 test vectors (TEK 75c734c6..., intervals 2642976..2642978).
const std::string kSd1 = "8be6cd371c5c891604bfbe49df84509672033874";
const std::string kSd2 = "3c9a1de5dd6b02afa7fded7b570b3e56c29211b1";
const std::string kSd3 = "243ffe9a3b08bded3094bac8630bb8ad6adfad03";

std::string secret_file(const TempDir& dir, const std::string& name, const std::string& content,
                        std::filesystem::perms mode = std::filesystem::perms(0600)) {
    const auto p = dir / name;
    sotto::test::write_text(p, content);
    std::filesystem::permissions(p, mode);
    return p.string();
}

ProcessResult sotto_cli(std::vector<std::string> args, std::string_view stdin_text = {}) {
    args.insert(args.begin(), cli_path());
    return run_process(args, stdin_text);
}

std::vector<std::string> lines_of(const std::string& s) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < s.size()) {
        const std::size_t e = s.find('\n', pos);
        out.push_back(s.substr(pos, e - pos));
        if (e == std::string::npos) break;
        pos = e + 1;
    }
    return out;
}

bool one_line(const std::string& s) { return !s.empty() && s.find('\n') == s.size() - 1; }

}  // namespace

TEST_CASE(
    "sotto ingest stores valid lines, reports invalid ones by line number, and stats counts them",
    "[cli][store]") {
    TempDir dir;
    const auto key = secret_file(dir, "key", kKeyHex + "\n");
    const auto db = (dir / "s.db").string();
    const std::string csv =
        "# unix_seconds,rssi_dbm,service_data_hex\n"  // 1: comment
        "1699999000,-60," +
        kSd1 + "\n" +                                            // 2
        "1699999004,-65," + kSd1 + "\n" +                        // 3: same RPI, same interval
        "1699999004,-65," + kSd1.substr(0, 38) + "\n" +          // 4: 19 bytes: not a beacon
        "\n" +                                                   // 5: blank
        "1699999100,-200," + kSd2 + "\n" +                       // 6: RSSI out of range
        "abc,-50," + kSd2 + "\n" +                               // 7: time not an integer
        "1699999100,-50\n" +                                     // 8: two fields
        "1699999100,-50," + kSd2 + ",extra\n" +                  // 9: four fields
        "1699999100,-50,zz" + kSd2.substr(2) + "\n" +            // 10: not hex
        "1699999100,-50,02011a03036ffd17166ffd" + kSd2 + "\n" +  // 11: advertising data, iOS
        "1699999200,-55,03036ffd17166ffd" + kSd3 + "\n" +        // 12: advertising data, Android
        "1699999200,-55,03036ffd17166ffe" + kSd3 + "\n" +        // 13: wrong UUID
        "1800000000,-55," + kSd3 + "\n" +                        // 14: in the future
        "1600000000,-55," + kSd3 + "\n" +                        // 15: older than retention
        "1699999800, -58 , " + kSd3 + " \r\n";                   // 16: spaces and CRLF are fine
    sotto::test::write_text(dir / "in.csv", csv);
    auto r = sotto_cli(
        {"ingest", "--store", db, "--key-file", key, "--now", kNow, (dir / "in.csv").string()});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "ingested 5 beacons (4 new sightings), 9 invalid lines\n");
    const auto err = lines_of(r.err);
    REQUIRE(err.size() == 9);
    const std::vector<std::string> numbers = {
        "line 4:",  "line 6:",  "line 7:",  "line 8:", "line 9:",
        "line 10:", "line 13:", "line 14:", "line 15:"};
    for (std::size_t i = 0; i < err.size(); ++i) {
        CAPTURE(err[i]);
        CHECK(err[i].rfind(numbers[i], 0) == 0);
    }
    CHECK(err[1] == "line 6: observation: RSSI out of range");
    CHECK(err[7] == "line 14: observation: in the future");
    CHECK(err[8] == "line 15: observation: older than the retention period");
    // The line content is never echoed.
    CHECK(r.err.find(kSd1.substr(0, 16)) == std::string::npos);

    auto st = sotto_cli({"store", "stats", "--store", db, "--key-file", key, "--now", kNow});
    CHECK(st.exit_code == 0);
    CHECK(st.out ==
          "{\"sightings\":4,\"rpis\":3,\"days\":1,\"own_keys\":0,\"exposure_records\":0,"
          "\"processed_files\":0,\"key_publications\":0}\n");

    // The same file again: no new rows, the packets merge into the existing ones.
    auto again = sotto_cli(
        {"ingest", "--store", db, "--key-file", key, "--now", kNow, (dir / "in.csv").string()});
    CHECK(again.exit_code == 0);
    CHECK(again.out == "ingested 5 beacons (0 new sightings), 9 invalid lines\n");
    auto v = sotto_cli({"store", "verify", "--store", db, "--key-file", key, "--now", kNow});
    CHECK(v.exit_code == 0);
    CHECK(v.out == "ok: 4 sightings, 0 own keys, 0 sightings past the retention window\n");
}

TEST_CASE("sotto ingest reads stdin and replays old captures with --now", "[cli][store]") {
    TempDir dir;
    const auto key = secret_file(dir, "key", kKeyHex);
    const auto db = (dir / "s.db").string();
    // A capture from April 2020, replayed with the clock of its day.
    const std::string csv = "1585785600,-60," + kSd1 + "\n1585785900,-61," + kSd2 + "\n";
    auto r =
        sotto_cli({"ingest", "--store", db, "--key-file", key, "--now", "1585790000", "-"}, csv);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "ingested 2 beacons (2 new sightings), 0 invalid lines\n");
    auto then =
        sotto_cli({"store", "stats", "--store", db, "--key-file", key, "--now", "1585790000"});
    CHECK(then.out.rfind("{\"sightings\":2,\"rpis\":2,\"days\":1,\"own_keys\":0", 0) == 0);
    // Reading never deletes, whatever the clock says (2100-01-01 here).
    for (const char* when : {"4102444800", "1586000000"}) {
        auto far = sotto_cli({"store", "stats", "--store", db, "--key-file", key, "--now", when});
        CHECK(far.exit_code == 0);
        CHECK(far.out.rfind("{\"sightings\":2,", 0) == 0);
    }
    // Without --now the system clock (years after the capture) is far past the store's anchor
    // (the first run, at the capture's --now): suspect. The capture is refused as too old, and
    // nothing is deleted.
    auto today = sotto_cli({"ingest", "--store", db, "--key-file", key, "-"}, csv);
    CHECK(today.exit_code == 3);  // every line refused
    CHECK(today.out == "ingested 0 beacons (0 new sightings), 2 invalid lines\n");
    CHECK(today.err.find("clock") != std::string::npos);
    auto kept =
        sotto_cli({"store", "stats", "--store", db, "--key-file", key, "--now", "1585790000"});
    CHECK(kept.out.rfind("{\"sightings\":2,", 0) == 0);
    // --now only sets the time: 14 days later is more than 3 days from the last run, so nothing
    // is deleted without the operator's word for it.
    const std::string later_now = std::to_string(1585790000 + 14 * 86400);
    auto later = sotto_cli({"ingest", "--store", db, "--key-file", key, "--now", later_now, "-"});
    CHECK(later.exit_code == 0);
    CHECK(later.err.find("--confirm-clock") != std::string::npos);
    auto still =
        sotto_cli({"store", "stats", "--store", db, "--key-file", key, "--now", "1585790000"});
    CHECK(still.out.rfind("{\"sightings\":2,", 0) == 0);
    // --confirm-clock is the operator's word for the time: then the data is gone.
    auto confirmed = sotto_cli(
        {"ingest", "--store", db, "--key-file", key, "--now", later_now, "--confirm-clock", "-"});
    CHECK(confirmed.exit_code == 0);
    CHECK(confirmed.err.empty());
    // Every deletion is reported.
    CHECK(confirmed.out.rfind("deleted 2 rows past retention (2 sightings, 0 own keys,", 0) == 0);
    auto gone =
        sotto_cli({"store", "stats", "--store", db, "--key-file", key, "--now", "1585790000"});
    CHECK(gone.out.rfind("{\"sightings\":0,\"rpis\":0,\"days\":0", 0) == 0);
}

TEST_CASE("A --now typed in milliseconds is refused and changes nothing, unless confirmed",
          "[cli][store][clock]") {
    TempDir dir;
    const auto key = secret_file(dir, "key", kKeyHex);
    const auto pw = secret_file(dir, "pw", "a new passphrase");
    const auto db = (dir / "s.db").string();
    const std::string csv = "1699999000,-60," + kSd1 + "\n";
    REQUIRE(sotto_cli({"ingest", "--store", db, "--key-file", key, "--now", kNow, "-"}, csv)
                .exit_code == 0);
    auto stats = [&] {
        return sotto_cli({"store", "stats", "--store", db, "--key-file", key, "--now", kNow}).out;
    };
    const std::string before = stats();
    REQUIRE(before.rfind("{\"sightings\":1,", 0) == 0);
    // Seconds typed as milliseconds: a valid time in the year 55,800. Refused before the store is
    // even opened, by ingest and by rekey.
    auto typo = sotto_cli({"ingest", "--store", db, "--key-file", key, "--now", kNow + "000", "-"});
    CHECK(typo.exit_code == 2);
    CHECK(one_line(typo.err));
    CHECK(typo.err.find("--confirm-clock") != std::string::npos);
    auto rekey = sotto_cli({"store", "rekey", "--store", db, "--key-file", key,
                            "--new-passphrase-file", pw, "--now", kNow + "000"});
    CHECK(rekey.exit_code == 2);
    CHECK(stats() == before);  // the old key still opens it, and the sighting is there
    // A time really ahead of the system clock (30 days), vouched for: retention obeys it.
    const auto system_now = std::chrono::duration_cast<std::chrono::seconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
    const std::string ahead = std::to_string(system_now + 30 * 86400);
    CHECK(sotto_cli({"ingest", "--store", db, "--key-file", key, "--now", ahead, "-"}).exit_code ==
          2);
    CHECK(stats() == before);
    auto vouched = sotto_cli(
        {"ingest", "--store", db, "--key-file", key, "--now", ahead, "--confirm-clock", "-"});
    CHECK(vouched.exit_code == 0);
    CHECK(stats().rfind("{\"sightings\":0,", 0) == 0);
    // --confirm-clock is only offered where retention runs.
    CHECK(sotto_cli({"store", "stats", "--store", db, "--key-file", key, "--confirm-clock"})
              .exit_code != 0);
}

TEST_CASE("Key and passphrase files are checked: content, and no access for group or others",
          "[cli][store]") {
    TempDir dir;
    const auto db = (dir / "s.db").string();
    sotto::test::write_text(dir / "in.csv", "1699999000,-60," + kSd1 + "\n");
    const auto in = (dir / "in.csv").string();
    struct Case {
        std::string name, content;
        std::filesystem::perms mode;
        bool passphrase;
    };
    const std::vector<Case> bad = {
        {"k1", kKeyHex, std::filesystem::perms(0640), false},
        {"k2", kKeyHex, std::filesystem::perms(0604), false},
        {"k3", kKeyHex, std::filesystem::perms(0620), false},
        {"k4", kKeyHex.substr(1), std::filesystem::perms(0600), false},
        {"k5", kKeyHex + "00", std::filesystem::perms(0600), false},
        {"k6", "zz" + kKeyHex.substr(2), std::filesystem::perms(0600), false},
        {"k7", kKeyHex + "\n\n", std::filesystem::perms(0600), false},
        {"k8", "", std::filesystem::perms(0600), false},
        {"p1", "secret\n", std::filesystem::perms(0644), true},
        {"p2", "\n", std::filesystem::perms(0600), true},
        {"p3", std::string(1025, 'x'), std::filesystem::perms(0600), true},
    };
    for (const auto& c : bad) {
        CAPTURE(c.name);
        const auto f = secret_file(dir, c.name, c.content, c.mode);
        auto r =
            sotto_cli({"ingest", "--store", db, c.passphrase ? "--passphrase-file" : "--key-file",
                       f, "--now", kNow, in});
        CHECK(r.exit_code == 2);
        CHECK(one_line(r.err));
        CHECK(r.out.empty());
        CHECK_FALSE(std::filesystem::exists(db));
    }
    // Neither, both, or a missing file: usage errors too.
    const auto key = secret_file(dir, "key", kKeyHex + "\n");
    const auto pw = secret_file(dir, "pw", "pw\n");
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"ingest", "--store", db, "--now", kNow, in},
             {"ingest", "--store", db, "--key-file", key, "--passphrase-file", pw, in},
             {"ingest", "--store", db, "--key-file", (dir / "nope").string(), in},
             {"ingest", "--store", db, "--key-file", key, "--now", "-5", in},
             {"ingest", "--store", db, "--key-file", key, "--retention-days", "0", in},
             {"ingest", "--store", db, "--key-file", key, (dir / "missing.csv").string()},
             {"store", "stats", "--key-file", key},
             {"store", "rekey", "--store", db, "--key-file", key},
         }) {
        CAPTURE(args);
        auto r = sotto_cli(args);
        CHECK(r.exit_code == 2);
        CHECK(one_line(r.err));
    }
    CHECK_FALSE(std::filesystem::exists(db));
    // The good ones work: a key with a trailing newline, a passphrase with one.
    CHECK(sotto_cli({"ingest", "--store", db, "--key-file", key, "--now", kNow, in}).exit_code ==
          0);
    const auto db2 = (dir / "p.db").string();
    CHECK(sotto_cli({"ingest", "--store", db2, "--passphrase-file", pw, "--now", kNow, in})
              .exit_code == 0);
}

TEST_CASE("Store commands fail cleanly on a missing store, a wrong key or a damaged file",
          "[cli][store]") {
    TempDir dir;
    const auto key = secret_file(dir, "key", kKeyHex);
    const auto other = secret_file(dir, "other", std::string(64, 'a'));
    const auto db = (dir / "s.db").string();
    for (const char* sub : {"stats", "verify"}) {
        auto r = sotto_cli({"store", sub, "--store", db, "--key-file", key});
        CHECK(r.exit_code == 2);  // a missing file is a usage error in every command
        CHECK(r.err == "sotto: store: " + db + ": no such file\n");
    }
    CHECK_FALSE(std::filesystem::exists(db));
    sotto::test::write_text(dir / "in.csv", "1699999000,-60," + kSd1 + "\n");
    REQUIRE(sotto_cli({"ingest", "--store", db, "--key-file", key, "--now", kNow,
                       (dir / "in.csv").string()})
                .exit_code == 0);

    auto wrong = sotto_cli({"store", "stats", "--store", db, "--key-file", other, "--now", kNow});
    CHECK(wrong.exit_code == 1);
    CHECK(wrong.err.find("kStorageWrongKey") != std::string::npos);
    CHECK(one_line(wrong.err));
    auto right = sotto_cli({"store", "stats", "--store", db, "--key-file", key, "--now", kNow});
    CHECK(right.out.rfind("{\"sightings\":1,", 0) == 0);

    // Flip a byte in the second page: verify reports the damage.
    {
        std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(4096 + 100);
        f.put('\x5a');
    }
    auto v = sotto_cli({"store", "verify", "--store", db, "--key-file", key, "--now", kNow});
    CHECK(v.exit_code == 1);
    CHECK(v.err.find("kStorageCorrupt") != std::string::npos);
    // A plain file is not a store.
    sotto::test::write_text(dir / "plain.db", "not a database at all, just text\n");
    auto n =
        sotto_cli({"store", "stats", "--store", (dir / "plain.db").string(), "--key-file", key});
    CHECK(n.exit_code == 1);
    CHECK(n.err.find("kStorageNotAStore") != std::string::npos);
}

TEST_CASE("sotto store rekey switches credentials and erase removes every file", "[cli][store]") {
    TempDir dir;
    const auto key = secret_file(dir, "key", kKeyHex);
    const auto key2 = secret_file(dir, "key2", std::string(64, 'b'));
    const auto pw = secret_file(dir, "pw", "a long passphrase\n");
    const auto db = (dir / "s.db").string();
    sotto::test::write_text(dir / "in.csv",
                            "1699999000,-60," + kSd1 + "\n1699999000,-60," + kSd2 + "\n");
    REQUIRE(sotto_cli({"ingest", "--store", db, "--key-file", key, "--now", kNow,
                       (dir / "in.csv").string()})
                .exit_code == 0);

    auto r1 = sotto_cli({"store", "rekey", "--store", db, "--key-file", key,
                         "--new-passphrase-file", pw, "--now", kNow});
    CHECK(r1.exit_code == 0);
    CHECK(r1.out == "rekeyed\n");
    CHECK(
        sotto_cli({"store", "stats", "--store", db, "--key-file", key, "--now", kNow}).exit_code ==
        1);
    auto st = sotto_cli({"store", "stats", "--store", db, "--passphrase-file", pw, "--now", kNow});
    CHECK(st.out.rfind("{\"sightings\":2,", 0) == 0);
    auto r2 = sotto_cli({"store", "rekey", "--store", db, "--passphrase-file", pw, "--new-key-file",
                         key2, "--now", kNow});
    CHECK(r2.exit_code == 0);
    CHECK(sotto_cli({"store", "stats", "--store", db, "--passphrase-file", pw, "--now", kNow})
              .exit_code == 1);
    CHECK(sotto_cli({"store", "verify", "--store", db, "--key-file", key2, "--now", kNow})
              .exit_code == 0);

    // No command ever prints key material.
    for (const auto& res : {r1, r2, st})
        for (const auto* s : {&res.out, &res.err}) {
            CHECK(s->find(kKeyHex.substr(0, 12)) == std::string::npos);
            CHECK(s->find("bbbbbbbbbbbb") == std::string::npos);
            CHECK(s->find("a long passphrase") == std::string::npos);
        }

    auto no = sotto_cli({"store", "erase", "--store", db});
    CHECK(no.exit_code == 2);
    CHECK(std::filesystem::exists(db));
    auto yes = sotto_cli({"store", "erase", "--store", db, "--yes"});
    CHECK(yes.exit_code == 0);
    for (const char* suffix : {"", "-wal", "-shm", "-journal", ".kdf"})
        CHECK_FALSE(std::filesystem::exists(db + suffix));
    auto refuse = sotto_cli({"store", "erase", "--store", (dir / "in.csv").string(), "--yes"});
    CHECK(refuse.exit_code == 3);
    CHECK(std::filesystem::exists(dir / "in.csv"));
}
