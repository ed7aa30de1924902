// Changing the key or passphrase, including the states an interrupted rekey can leave behind.
#include <sotto/store/encounter_store.hpp>

#include "store/kdf_file.hpp"
#include "store_test_util.hpp"

using namespace sotto;
using namespace sotto::test;
using store::EncounterStore;

namespace {

void populate(EncounterStore& s) {
    std::vector<core::Observation> obs;
    for (std::uint32_t i = 0; i < 2000; ++i)
        obs.push_back(observation(kNow - 7200 + i, -66, rpi_of(9, i)));
    REQUIRE(s.ingest(obs, kNow));
    core::ExposureKey k;
    k.tek.expose_secret_mut()[5] = 5;
    k.rolling_start = kToday * 144;
    REQUIRE(s.add_own_key(k, kNow));
}

}  // namespace

TEST_CASE("Rekey switches credentials: the old one stops working, data stays", "[store][rekey]") {
    TempDir dir;
    const auto p = dir / "s.db";
    {
        auto s = open_store(p, 1);
        populate(s);
        REQUIRE(s.rekey(raw_credential(2)));
        // The open store keeps working after the rekey.
        CHECK(s.stats()->sightings == 2000);
        const std::vector<core::Observation> one = {observation(kNow - 5, -50, rpi_of(10, 1))};
        REQUIRE(s.ingest(one, kNow));
    }
    CHECK(EncounterStore::open(p, raw_credential(1)).error().code == ErrorCode::kStorageWrongKey);
    {
        auto s = EncounterStore::open(p, raw_credential(2), no_create());
        REQUIRE(s.has_value());
        CHECK(s->stats()->sightings == 2001);
        CHECK(s->verify().has_value());
        // raw key -> passphrase
        REQUIRE(s->rekey(passphrase_credential("new passphrase")));
    }
    CHECK(EncounterStore::open(p, raw_credential(2)).error().code == ErrorCode::kStorageWrongKey);
    CHECK(EncounterStore::open(p, passphrase_credential("old")).error().code ==
          ErrorCode::kStorageWrongKey);
    {
        auto s = EncounterStore::open(p, passphrase_credential("new passphrase"), no_create());
        REQUIRE(s.has_value());
        CHECK(s->own_keys()->size() == 1);
        // passphrase -> another passphrase -> raw key
        REQUIRE(s->rekey(passphrase_credential("third")));
        REQUIRE(s->rekey(raw_credential(7)));
    }
    CHECK(EncounterStore::open(p, passphrase_credential("third")).error().code ==
          ErrorCode::kStorageWrongKey);
    auto s = EncounterStore::open(p, raw_credential(7), no_create());
    REQUIRE(s.has_value());
    CHECK(s->stats()->sightings == 2001);
    CHECK(std::filesystem::file_size(dir / "s.db.kdf") == 16 + 48 + 16);
}

TEST_CASE("Rekey is refused while another connection reads", "[store][rekey]") {
    TempDir dir;
    const auto p = dir / "s.db";
    store::OpenOptions quick;
    quick.busy_timeout_ms = 200;
    auto s = open_store(p, 1, quick);
    populate(s);
    auto reader = EncounterStore::open(p, raw_credential(1));
    REQUIRE(reader.has_value());
    // Hold a read transaction open in the reader.
    bool refused = false;
    REQUIRE(reader->for_each_sighting([&](const core::Sighting&) {
        auto r = s.rekey(raw_credential(2));
        refused = !r.has_value() && r.error().code == ErrorCode::kStorageBusy;
        return false;
    }));
    CHECK(refused);
    CHECK(EncounterStore::open(p, raw_credential(1)).has_value());
    CHECK(EncounterStore::open(p, raw_credential(2)).error().code == ErrorCode::kStorageWrongKey);
}

TEST_CASE("An interrupted rekey leaves one credential working, whichever side it stopped on",
          "[store][rekey]") {
    TempDir dir;
    const auto p = dir / "s.db";
    const auto side = dir / "s.db.kdf";
    {
        auto s = open_store(p, 1);
        populate(s);
    }
    const auto db_old = read_file(p);
    const auto side_old = read_file(side);
    {
        auto s = EncounterStore::open(p, raw_credential(2));
        REQUIRE_FALSE(s.has_value());
        auto o = open_store(p, 1);
        REQUIRE(o.rekey(raw_credential(2)));
    }
    const auto db_new = read_file(p);
    const auto side_new = read_file(side);
    // Both entries, as written before the database is re-encrypted.
    auto a = store::detail::read_kdf_file(side);
    write_file(side, side_old);
    auto b = store::detail::read_kdf_file(side);
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    store::detail::KdfFile pending = **b;
    pending.entries.push_back((*a)->entries[0]);

    SECTION("stopped before the database changed: the old credential opens, the new one does not") {
        write_file(p, db_old);
        REQUIRE(store::detail::write_kdf_file(side, pending));
        CHECK(EncounterStore::open(p, raw_credential(2)).error().code ==
              ErrorCode::kStorageWrongKey);
        auto s = EncounterStore::open(p, raw_credential(1));
        REQUIRE(s.has_value());
        CHECK(s->stats()->sightings == 2000);
        CHECK(read_file(side).size() == 16 + 48 + 16);  // the pending entry was dropped
        CHECK(EncounterStore::open(p, raw_credential(2)).error().code ==
              ErrorCode::kStorageWrongKey);
    }
    SECTION("stopped after the database changed: the new credential opens, the old one does not") {
        write_file(p, db_new);
        REQUIRE(store::detail::write_kdf_file(side, pending));
        CHECK(EncounterStore::open(p, raw_credential(1)).error().code ==
              ErrorCode::kStorageWrongKey);
        auto s = EncounterStore::open(p, raw_credential(2));
        REQUIRE(s.has_value());
        CHECK(s->stats()->sightings == 2000);
        CHECK(read_file(side).size() == 16 + 48 + 16);
        CHECK(EncounterStore::open(p, raw_credential(1)).error().code ==
              ErrorCode::kStorageWrongKey);
    }
    SECTION("a wrong third credential is a wrong key in either state") {
        write_file(p, db_new);
        REQUIRE(store::detail::write_kdf_file(side, pending));
        CHECK(EncounterStore::open(p, raw_credential(3)).error().code ==
              ErrorCode::kStorageWrongKey);
        (void)side_new;
    }
}
