// Encryption at rest: no stored RPI, TEK, AEM-bearing payload, key or passphrase appears in any of
// the store's files, raw or as hex, while the store is open or after it is closed.
#include <algorithm>
#include <cstring>

#include <sotto/bytes.hpp>
#include <sotto/core/rng.hpp>
#include <sotto/store/encounter_store.hpp>

#include "store_test_util.hpp"

using namespace sotto;
using namespace sotto::test;
using store::EncounterStore;

namespace {

std::string upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

struct Needles {
    std::vector<std::vector<std::uint8_t>> raw;
    void add(std::span<const std::uint8_t> bytes) {
        raw.emplace_back(bytes.begin(), bytes.end());
        const std::string h = to_hex(bytes);
        raw.emplace_back(h.begin(), h.end());
        const std::string u = upper(h);
        raw.emplace_back(u.begin(), u.end());
    }
    void add_text(std::string_view s) { raw.emplace_back(s.begin(), s.end()); }
};

// Every needle that occurs in any file of `dir`, as "file: needle index".
std::vector<std::string> find_needles(const std::filesystem::path& dir, const Needles& n) {
    std::vector<std::string> hits;
    for (const auto& [name, bytes] : snapshot(dir))
        for (std::size_t i = 0; i < n.raw.size(); ++i)
            if (std::search(bytes.begin(), bytes.end(), n.raw[i].begin(), n.raw[i].end()) !=
                bytes.end())
                hits.push_back(name + ": needle " + std::to_string(i));
    return hits;
}

// Fills a store with random RPIs and TEKs and returns them as needles.
Needles fill(EncounterStore& s) {
    core::DeterministicRng rng(99);
    Needles n;
    std::vector<core::Observation> obs;
    for (std::uint32_t i = 0; i < 500; ++i) {
        core::Observation o = observation(kNow - 3000 + i, -60, {});
        rng.fill(o.beacon.rpi.bytes);
        rng.fill(o.beacon.aem.bytes);
        obs.push_back(o);
        obs.push_back(observation(o.time + 2, -61, o.beacon.rpi));
        n.add(o.beacon.rpi.bytes);
    }
    REQUIRE(s.ingest(obs, kNow));
    for (std::uint32_t d = 0; d < 10; ++d) {
        core::ExposureKey k;
        rng.fill(k.tek.expose_secret_mut());
        k.rolling_start = (kToday - d) * 144;
        REQUIRE(s.add_own_key(k, kNow));
        n.add(k.tek.expose_secret());
    }
    return n;
}

}  // namespace

TEST_CASE("No stored RPI or TEK appears in the store's files, raw or hex", "[store][secrets]") {
    TempDir dir;
    const auto p = dir / "s.db";
    Needles needles;
    const auto key = test_key(1);
    {
        auto s = open_store(p);
        needles = fill(s);
        // Make sure the needle search itself works: a plain copy would be found.
        write_file(dir / "control.bin", needles.raw[0]);
        CHECK(find_needles(dir.path(), needles) ==
              std::vector<std::string>{"control.bin: needle 0"});
        std::filesystem::remove(dir / "control.bin");
        // While open, the WAL holds the latest pages: encrypted too.
        CHECK(std::filesystem::exists(dir / "s.db-wal"));
        CHECK(std::filesystem::file_size(dir / "s.db-wal") > 0);
        needles.add(key.expose_secret());
        CHECK(find_needles(dir.path(), needles).empty());
    }
    const auto files = snapshot(dir.path());
    CHECK(files.count("s.db") == 1);
    CHECK(files.count("s.db.kdf") == 1);
    CHECK(find_needles(dir.path(), needles).empty());
    const auto& db = files.at("s.db");
    REQUIRE(db.size() >= 16);
    CHECK(std::memcmp(db.data(), "SQLite format 3", 16) != 0);
}

TEST_CASE("A passphrase store holds neither the passphrase nor the data in clear",
          "[store][secrets]") {
    TempDir dir;
    const auto p = dir / "s.db";
    Needles needles;
    {
        auto s = EncounterStore::open(p, passphrase_credential("hunter2 is my passphrase"));
        REQUIRE(s.has_value());
        needles = fill(*s);
        needles.add_text("hunter2 is my passphrase");
        CHECK(find_needles(dir.path(), needles).empty());
    }
    CHECK(find_needles(dir.path(), needles).empty());
}

TEST_CASE("Rekeyed and erased stores hold no data in clear either", "[store][secrets]") {
    TempDir dir;
    const auto p = dir / "s.db";
    Needles needles;
    {
        auto s = open_store(p);
        needles = fill(s);
        REQUIRE(s.rekey(raw_credential(2)));
        CHECK(find_needles(dir.path(), needles).empty());
        REQUIRE(s.erase_all());
    }
    CHECK(find_needles(dir.path(), needles).empty());
}
