// sotto token pairing-key / import, as users run them: a token's export made by the real flash
// log (on a simulated NOR flash), imported into a real SQLCipher store by the built program.
#include <sys/stat.h>

#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <sotto/bytes.hpp>
#include <sotto/core/rng.hpp>
#include <sotto/flashlog/flash_log.hpp>

#include "support.hpp"

using namespace sotto;
using sotto::test::cli_path;
using sotto::test::run_process;

namespace {

constexpr std::uint32_t kDay = 20454;
const std::string kNow = std::to_string((kDay * 144 + 150) * 600);

struct Token {
    std::vector<std::uint8_t> mem = std::vector<std::uint8_t>(64 * 4096, 0xff);
    flashlog::SimFlash flash{mem, 4096};
    core::DeterministicRng rng{11};
    std::uint8_t device_key[32] = {5};
    std::optional<flashlog::FlashLog> log;
    Token() {
        auto l = flashlog::FlashLog::open(flash, device_key, rng);
        REQUIRE(l);
        log.emplace(std::move(*l));
    }
    std::vector<std::uint8_t> export_now() {
        std::vector<std::uint8_t> out;
        REQUIRE(log->export_to(
            [](void* c, const std::uint8_t* p, std::size_t n) {
                auto* v = static_cast<std::vector<std::uint8_t>*>(c);
                v->insert(v->end(), p, p + n);
                return true;
            },
            &out));
        return out;
    }
};

flashlog::HeardRow heard(std::uint8_t interval, std::uint8_t tag) {
    flashlog::HeardRow r;
    r.interval = interval;
    r.rpi.bytes.fill(tag);
    r.aem.bytes.fill(static_cast<std::uint8_t>(tag ^ 0x5a));
    r.rssi_max = -60;
    r.rssi_mean = -66;
    r.count = 9;
    return r;
}

struct Fixture {
    sotto::test::TempDir dir;
    std::string store = (dir / "enc.db").string();
    std::string key = (dir / "store.key").string();
    std::string pairing = (dir / "pairing.key").string();
    Fixture() {
        sotto::test::write_text(
            key, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
        REQUIRE(::chmod(key.c_str(), 0600) == 0);
        REQUIRE(run({"token", "pairing-key", "-o", pairing}).exit_code == 0);
    }
    sotto::test::ProcessResult run(std::vector<std::string> args) {
        args.insert(args.begin(), cli_path());
        return run_process(args);
    }
    sotto::test::ProcessResult import(const std::vector<std::uint8_t>& bytes,
                                      const std::string& name, const std::string& pk = "") {
        const auto path = dir / name;
        sotto::test::write_file(path, bytes);
        return run({"token", "import", "--store", store, "--key-file", key, "--pairing-key",
                    pk.empty() ? pairing : pk, "--now", kNow, path.string()});
    }
};

std::array<std::uint8_t, 32> read_pairing(const std::string& path) {
    auto text = sotto::test::read_text(path);
    REQUIRE(text.size() == 65);
    std::array<std::uint8_t, 32> k{};
    REQUIRE(sotto::from_hex_into(text.substr(0, 64), k));
    return k;
}

}  // namespace

TEST_CASE("sotto token import: stores a token's export, refuses replays and altered bytes",
          "[cli][token]") {
    Fixture fx;
    struct stat st {};
    REQUIRE(::stat(fx.pairing.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(fx.run({"token", "pairing-key", "-o", fx.pairing}).exit_code == 1);  // never overwrites

    Token token;
    REQUIRE(token.log->pair(read_pairing(fx.pairing)));
    core::ExposureKey own;
    own.rolling_start = kDay * 144;
    for (auto& b : own.tek.expose_secret_mut()) b = 0x42;
    REQUIRE(token.log->put_tek(own));
    const std::vector<flashlog::HeardRow> morning = {heard(40, 1), heard(41, 1), heard(41, 2)};
    REQUIRE(token.log->append(kDay, morning));
    const auto first = token.export_now();

    auto r = fx.import(first, "e1.bin");
    CAPTURE(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("export #1: 1 own keys, 3 rows (3 new") != std::string::npos);
    auto stats =
        fx.run({"store", "stats", "--store", fx.store, "--key-file", fx.key, "--now", kNow});
    CHECK(stats.out.find("\"sightings\":3") != std::string::npos);
    CHECK(stats.out.find("\"own_keys\":1") != std::string::npos);

    // The same export again: a replay.
    r = fx.import(first, "e1-again.bin");
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("replay") != std::string::npos);

    // The next export adds only the new row; then the first one is older than it: refused.
    REQUIRE(token.log->append(kDay, std::vector<flashlog::HeardRow>{heard(90, 3)}));
    const auto second = token.export_now();
    r = fx.import(second, "e2.bin");
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("export #2: 1 own keys, 4 rows (1 new") != std::string::npos);
    CHECK(fx.import(first, "e1-late.bin").exit_code == 3);
    // An export the host never received (#3) does not stop #4.
    (void)token.export_now();
    const auto fourth = token.export_now();
    CHECK(fx.import(fourth, "e4.bin").exit_code == 0);

    // Altered, cut, another pairing key, not an export: refused, and the store is unchanged.
    auto fifth = token.export_now();
    for (std::size_t at : {std::size_t{0}, std::size_t{17}, std::size_t{30}, fifth.size() - 1}) {
        auto bad = fifth;
        bad[at] ^= 0x04;
        r = fx.import(bad, "bad.bin");
        CHECK(r.exit_code == 3);
    }
    auto cut = fifth;
    cut.resize(cut.size() - 5);
    CHECK(fx.import(cut, "cut.bin").exit_code == 3);
    const std::string other = (fx.dir / "other.key").string();
    REQUIRE(fx.run({"token", "pairing-key", "-o", other}).exit_code == 0);
    r = fx.import(fifth, "fifth.bin", other);
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("authentication failed") != std::string::npos);
    CHECK(fx.import(std::vector<std::uint8_t>(100, 'x'), "junk.bin").exit_code == 3);
    stats = fx.run({"store", "stats", "--store", fx.store, "--key-file", fx.key, "--now", kNow});
    CHECK(stats.out.find("\"sightings\":4") != std::string::npos);
    // ...and the untouched fifth export still imports.
    CHECK(fx.import(fifth, "fifth-ok.bin").exit_code == 0);

    // Bad arguments: a pairing-key file that is not 64 hex digits.
    sotto::test::write_text(fx.dir / "short.key", "abcd\n");
    CHECK(fx.import(fifth, "x.bin", (fx.dir / "short.key").string()).exit_code == 2);
}
