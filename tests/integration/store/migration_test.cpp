// Schema migrations, each tested from a fixture database of the version before it. Fixtures are
// generated here by running the migration list up to that version on a fresh encrypted file, then
// writing rows with that version's columns.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include <sotto/store/encounter_store.hpp>

#include "store/cipher.hpp"
#include "store/database.hpp"
#include "store/kdf_file.hpp"
#include "store/migrations.hpp"
#include "store/row_codec.hpp"
#include "store/sqlite.hpp"
#include "store/store_access.hpp"
#include "store_test_util.hpp"

using namespace sotto;
using namespace sotto::test;
using store::EncounterStore;
using store::detail::Database;
using store::detail::Statement;

namespace {

// A store at schema `version`, keyed with raw_credential(1), as that version created it.
Database make_fixture(const std::filesystem::path& p, int version) {
    auto made = store::detail::make_entry(raw_credential(1));
    REQUIRE(made.has_value());
    store::detail::KdfFile kf;
    kf.initialized = true;
    kf.entries = {made->entry};
    REQUIRE(store::detail::write_kdf_file(store::detail::kdf_path(p), kf));
    const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    REQUIRE(fd >= 0);
    ::close(fd);
    auto db = Database::open(p, SQLITE_OPEN_READWRITE);
    REQUIRE(db.has_value());
    REQUIRE(store::detail::apply_key(*db, made->key, kf.page_size));
    REQUIRE(db->exec("PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = WAL;"));
    REQUIRE(store::detail::migrate(*db, 0, version));
    REQUIRE(db->query_int("PRAGMA user_version").value_or(-1) == version);
    return std::move(*db);
}

bool has_table(Database& db, const char* name) {
    auto st = Statement::prepare(
        db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1");
    REQUIRE(st.has_value());
    REQUIRE(st->bind_text(1, name));
    REQUIRE(*st->step());
    return st->column_int(0) == 1;
}

core::Sighting fixture_sighting() {
    core::Sighting s = core::make_sighting(observation(kNow - 600, -61, rpi_of(11, 1), 4));
    core::add_observation(s, observation(kNow - 590, -70, rpi_of(11, 1), 4));
    core::add_observation(s, observation(kNow - 500, -52, rpi_of(11, 1), 5));
    return s;
}

// Rows as schema version 1 stores them.
void write_v1_rows(Database& db) {
    core::ExposureKey k;
    k.tek.expose_secret_mut()[0] = 0x77;
    k.rolling_start = kToday * 144;
    auto st = Statement::prepare(db, "INSERT INTO own_keys VALUES (?1, ?2, 144, ?3, 1)");
    REQUIRE(st.has_value());
    const auto tek = k.tek.expose_secret();
    REQUIRE(st->bind(1, std::span<const std::uint8_t>(tek)));
    REQUIRE(st->bind(2, static_cast<std::int64_t>(k.rolling_start)));
    REQUIRE(st->bind(3, kNow));
    REQUIRE(st->run());

    const core::Sighting s = fixture_sighting();
    auto row = store::detail::encode_sighting(s);
    REQUIRE(row.has_value());
    auto ins = Statement::prepare(db, "INSERT INTO sightings VALUES (?1, ?2, ?3)");
    REQUIRE(ins.has_value());
    REQUIRE(ins->bind(1, static_cast<std::int64_t>(s.interval)));
    REQUIRE(ins->bind(2, std::span<const std::uint8_t>(s.rpi.bytes)));
    REQUIRE(ins->bind(3, row->blob()));
    REQUIRE(ins->run());
}

}  // namespace

TEST_CASE("Migrations are numbered 1..kSchemaVersion without gaps", "[store][migration]") {
    const auto list = store::detail::migrations();
    REQUIRE(list.size() == static_cast<std::size_t>(store::kSchemaVersion));
    for (std::size_t i = 0; i < list.size(); ++i) CHECK(list[i].version == static_cast<int>(i + 1));
    TempDir dir;
    auto db = make_fixture(dir / "x.db", 0);
    CHECK_FALSE(store::detail::migrate(db, 1, 0));
    CHECK_FALSE(store::detail::migrate(db, 0, store::kSchemaVersion + 1));
}

TEST_CASE("Migration 0 -> 1 creates own keys and sightings and marks the file as sotto's",
          "[store][migration]") {
    TempDir dir;
    auto db = make_fixture(dir / "v0.db", 0);
    CHECK_FALSE(has_table(db, "sightings"));
    REQUIRE(store::detail::migrate(db, 0, 1));
    CHECK(db.query_int("PRAGMA user_version").value_or(-1) == 1);
    CHECK(db.query_int("PRAGMA application_id").value_or(-1) == store::detail::kApplicationId);
    CHECK(has_table(db, "own_keys"));
    CHECK(has_table(db, "sightings"));
    CHECK_FALSE(has_table(db, "exposure_records"));
}

TEST_CASE("Migration 1 -> 2 from a version-1 fixture keeps every row", "[store][migration]") {
    TempDir dir;
    const auto p = dir / "v1.db";
    {
        auto db = make_fixture(p, 1);
        write_v1_rows(db);
        CHECK_FALSE(has_table(db, "exposure_records"));
    }
    auto s = EncounterStore::open(p, raw_credential(1), no_create());
    REQUIRE(s.has_value());
    CHECK(store::detail::StoreAccess::database(*s).query_int("PRAGMA user_version").value_or(-1) ==
          store::kSchemaVersion);
    auto keys = s->own_keys();
    REQUIRE(keys.has_value());
    REQUIRE(keys->size() == 1);
    CHECK((*keys)[0].published);
    CHECK((*keys)[0].key.tek.expose_secret()[0] == 0x77);
    auto sightings = s->sightings_in_range(0, 1ull << 32);
    REQUIRE(sightings.has_value());
    REQUIRE(sightings->size() == 1);
    CHECK((*sightings)[0] == fixture_sighting());
    // The version-2 tables work.
    const store::ExposureRecord rec{kNow, kToday, 2, 3, 12.5, 55};
    REQUIRE(s->add_exposure_records(std::span(&rec, 1)));
    REQUIRE(s->mark_file_processed(std::string(64, 'c'), kNow, 10));
    CHECK(s->verify().has_value());
}

TEST_CASE(
    "Migration 2 -> 3 from a version-2 fixture splits nothing, loses nothing, keeps AEMs apart",
    "[store][migration]") {
    TempDir dir;
    const auto p = dir / "v2.db";
    const core::Sighting mixed = fixture_sighting();  // version 2 mixed two AEMs into one row
    REQUIRE(mixed.aem_conflict);
    core::Sighting plain = core::make_sighting(observation(kNow - 1200, -50, rpi_of(12, 1), 7));
    {
        auto db = make_fixture(p, 2);
        write_v1_rows(db);
        auto row = store::detail::encode_sighting(plain);
        REQUIRE(row.has_value());
        auto ins = Statement::prepare(db, "INSERT INTO sightings VALUES (?1, ?2, ?3)");
        REQUIRE(ins.has_value());
        REQUIRE(ins->bind(1, static_cast<std::int64_t>(plain.interval)));
        REQUIRE(ins->bind(2, std::span<const std::uint8_t>(plain.rpi.bytes)));
        REQUIRE(ins->bind(3, row->blob()));
        REQUIRE(ins->run());
        REQUIRE(
            db.exec("INSERT INTO exposure_records (computed_at, day, risk_level, windows, "
                    "weighted_minutes, min_attenuation_db) VALUES (1, 2, 1, 1, 2.5, 50)"));
        CHECK_FALSE(has_table(db, "store_meta"));
    }
    auto s = EncounterStore::open(p, raw_credential(1), no_create());
    REQUIRE(s.has_value());
    auto& db = store::detail::StoreAccess::database(*s);
    CHECK(db.query_int("PRAGMA user_version").value_or(-1) == store::kSchemaVersion);
    CHECK(has_table(db, "store_meta"));
    auto sightings = s->sightings_in_range(0, 1ull << 32);
    REQUIRE(sightings.has_value());
    REQUIRE(sightings->size() == 2);
    CHECK(std::find(sightings->begin(), sightings->end(), mixed) != sightings->end());
    CHECK(std::find(sightings->begin(), sightings->end(), plain) != sightings->end());
    CHECK(s->own_keys()->size() == 1);
    CHECK(s->exposure_records()->size() == 1);
    CHECK(s->verify().has_value());
    // The migrated table takes a second AEM of the plain RPI as a row of its own.
    auto r = s->ingest(
        std::vector<core::Observation>{observation(kNow - 1190, -40, rpi_of(12, 1), 8)}, kNow);
    REQUIRE(r.has_value());
    CHECK(r->new_rows == 1);
    CHECK(s->stats()->sightings == 3);
}

TEST_CASE("Migration 3 -> 4 from a version-3 fixture keeps every row and adds key publications",
          "[store][migration]") {
    TempDir dir;
    const auto p = dir / "v3.db";
    const core::Sighting sighting =
        core::make_sighting(observation(kNow - 900, -58, rpi_of(13, 2), 3));
    {
        auto db = make_fixture(p, 3);
        REQUIRE(db.exec("INSERT INTO own_keys VALUES (zeroblob(16), 2833488, 144, 5, 0)"));
        auto row = store::detail::encode_sighting(sighting);
        REQUIRE(row.has_value());
        auto ins = Statement::prepare(db, "INSERT INTO sightings VALUES (?1, ?2, ?3, ?4)");
        REQUIRE(ins.has_value());
        REQUIRE(ins->bind(1, static_cast<std::int64_t>(sighting.interval)));
        REQUIRE(ins->bind(2, std::span<const std::uint8_t>(sighting.rpi.bytes)));
        REQUIRE(ins->bind(3, std::span<const std::uint8_t>(sighting.aem.bytes)));
        REQUIRE(ins->bind(4, row->blob()));
        REQUIRE(ins->run());
        REQUIRE(db.exec("INSERT INTO store_meta VALUES ('last_retention', 1700000000)"));
        const std::string file =
            "INSERT INTO processed_files VALUES ('" + std::string(64, 'a') + "', 5, 7)";
        REQUIRE(db.exec(file.c_str()));
        CHECK_FALSE(has_table(db, "key_publications"));
    }
    auto s = EncounterStore::open(p, raw_credential(1), no_create());
    REQUIRE(s.has_value());
    auto& db = store::detail::StoreAccess::database(*s);
    CHECK(db.query_int("PRAGMA user_version").value_or(-1) == 4);
    CHECK(has_table(db, "key_publications"));
    auto sightings = s->sightings_in_range(0, 1ull << 32);
    REQUIRE(sightings.has_value());
    REQUIRE(sightings->size() == 1);
    CHECK((*sightings)[0] == sighting);
    CHECK(s->own_keys()->size() == 1);
    CHECK(*s->file_processed(std::string(64, 'a')));
    CHECK(db.query_int("SELECT value FROM store_meta").value_or(-1) == 1700000000);
    CHECK(s->key_publications()->empty());
    // The new table works.
    core::KeyPublication kp;
    kp.tek.fill(9);
    kp.window_end = kNowInterval;
    kp.published_at = kNow;
    REQUIRE(s->remember_key_publications(std::span(&kp, 1)));
    CHECK(s->key_publications()->size() == 1);
    CHECK(s->verify().has_value());
}

TEST_CASE("A failing migration leaves the store at its old version", "[store][migration]") {
    TempDir dir;
    const auto p = dir / "v1.db";
    {
        auto db = make_fixture(p, 1);
        write_v1_rows(db);
        // Something in the way of migration 2.
        REQUIRE(db.exec("CREATE TABLE processed_files (x)"));
    }
    auto s = EncounterStore::open(p, raw_credential(1), no_create());
    REQUIRE_FALSE(s.has_value());
    {
        auto db = Database::open(p, SQLITE_OPEN_READWRITE);
        REQUIRE(db.has_value());
        auto side = store::detail::read_kdf_file(store::detail::kdf_path(p));
        REQUIRE(side.has_value());
        auto u = store::detail::unlock(**side, raw_credential(1));
        REQUIRE(u.has_value());
        REQUIRE(store::detail::apply_key(*db, u->key, 4096));
        CHECK(db->query_int("PRAGMA user_version").value_or(-1) == 1);
        CHECK_FALSE(has_table(*db, "exposure_records"));
        CHECK(db->query_int("SELECT count(*) FROM sightings").value_or(-1) == 1);
    }
}

// Migration 4 needs a free page for key_publications: a version-3 store that is full under its
// size bound (OpenOptions::max_bytes) must still open after the upgrade, or the Tracer could not
// start although the store was usable the day before. Migrations run before the bound applies.
TEST_CASE("A full version-3 store under max_bytes still opens after the upgrade",
          "[store][migration]") {
    // Negative neighbour: the same full store at version 4 (nothing to migrate) opens.
    const int version = GENERATE(3, 4);
    CAPTURE(version);
    TempDir dir;
    const auto p = dir / "full.db";
    std::int64_t page_size = 0, pages = 0;
    {
        auto db = make_fixture(p, version);
        page_size = db.query_int("PRAGMA page_size").value_or(0);
        REQUIRE(page_size > 0);
        const auto now_pages = db.query_int("PRAGMA page_count").value_or(0);
        const std::string bound = "PRAGMA max_page_count = " + std::to_string(now_pages + 8);
        REQUIRE(db.exec(bound.c_str()));
        auto ins = Statement::prepare(db, "INSERT INTO sightings VALUES (?1, ?2, ?3, ?4)");
        REQUIRE(ins.has_value());
        bool full = false;
        for (std::uint32_t i = 0; i < 100000 && !full; ++i) {
            const core::Sighting s =
                core::make_sighting(observation(kNow - 900, -58, rpi_of(i, 7), 3));
            auto row = store::detail::encode_sighting(s);
            REQUIRE(row.has_value());
            store::detail::StatementReset reset(*ins);
            REQUIRE(ins->bind(1, static_cast<std::int64_t>(s.interval)));
            REQUIRE(ins->bind(2, std::span<const std::uint8_t>(s.rpi.bytes)));
            REQUIRE(ins->bind(3, std::span<const std::uint8_t>(s.aem.bytes)));
            REQUIRE(ins->bind(4, row->blob()));
            full = !ins->run();
        }
        REQUIRE(full);
        REQUIRE(db.exec("PRAGMA wal_checkpoint(TRUNCATE)"));
        pages = db.query_int("PRAGMA page_count").value_or(0);
        REQUIRE(db.query_int("PRAGMA freelist_count").value_or(-1) == 0);
    }
    store::OpenOptions o = no_create();
    o.max_bytes = static_cast<std::uint64_t>(pages * page_size);
    auto s = EncounterStore::open(p, raw_credential(1), o);
    REQUIRE(s.has_value());
    auto kp = s->key_publications();
    REQUIRE(kp.has_value());
    CHECK(kp->empty());
    auto stats = s->stats();
    REQUIRE(stats.has_value());
    CHECK(stats->sightings > 0);  // nothing lost on the way
}
