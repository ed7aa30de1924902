#include "store/migrations.hpp"

#include <array>
#include <string>

#include <sotto/store/encounter_store.hpp>

#include "store/database.hpp"

namespace sotto::store::detail {
namespace {

// Version 1: what ingest needs. The application id marks the file as a sotto store; it is set in
// the same transaction as the first tables.
constexpr char kV1[] = R"sql(
PRAGMA application_id = 1397707860;

CREATE TABLE own_keys (
    tek            BLOB    NOT NULL PRIMARY KEY CHECK (length(tek) = 16),
    rolling_start  INTEGER NOT NULL,
    rolling_period INTEGER NOT NULL CHECK (rolling_period BETWEEN 1 AND 144),
    created        INTEGER NOT NULL,
    published      INTEGER NOT NULL DEFAULT 0 CHECK (published IN (0, 1))
) WITHOUT ROWID;
CREATE INDEX own_keys_by_start ON own_keys (rolling_start);

-- One row per (receiver interval, RPI). The primary key serves "all RPIs of day D" and
-- "all RPIs in [a, b)" as range scans, and keeps inserts local (intervals grow with time).
-- `data` packs AEM, flags, first/last seen, count, RSSI range and the scan records
-- (layout: lib/store/row_codec.hpp).
CREATE TABLE sightings (
    interval INTEGER NOT NULL,
    rpi      BLOB    NOT NULL CHECK (length(rpi) = 16),
    data     BLOB    NOT NULL CHECK (length(data) >= 15 AND (length(data) - 15) % 9 = 0),
    PRIMARY KEY (interval, rpi)
) WITHOUT ROWID;
)sql";

// Version 2: what matching needs: exposure results and the diagnosis-key files already matched.
constexpr char kV2[] = R"sql(
CREATE TABLE exposure_records (
    id                 INTEGER PRIMARY KEY,
    computed_at        INTEGER NOT NULL,
    day                INTEGER NOT NULL,
    risk_level         INTEGER NOT NULL CHECK (risk_level BETWEEN 0 AND 2),
    windows            INTEGER NOT NULL,
    weighted_minutes   REAL    NOT NULL,
    min_attenuation_db INTEGER NOT NULL
);
CREATE INDEX exposure_records_by_day ON exposure_records (day, computed_at);

CREATE TABLE processed_files (
    sha256       TEXT    NOT NULL PRIMARY KEY CHECK (length(sha256) = 64),
    processed_at INTEGER NOT NULL,
    keys         INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// Version 3: one sightings row per (receiver interval, RPI, AEM), so that a forged or garbled
// copy of an RPI keeps its packets apart from the genuine ones (a version-2 row mixed them under
// the first AEM and kept only a conflict flag, which the row keeps as it is); and the store's own
// bookkeeping (`store_meta`: the last retention run, for the clock check).
constexpr char kV3[] = R"sql(
CREATE TABLE sightings_v3 (
    interval INTEGER NOT NULL,
    rpi      BLOB    NOT NULL CHECK (length(rpi) = 16),
    aem      BLOB    NOT NULL CHECK (length(aem) = 4),
    data     BLOB    NOT NULL CHECK (length(data) >= 15 AND (length(data) - 15) % 9 = 0),
    PRIMARY KEY (interval, rpi, aem)
) WITHOUT ROWID;
INSERT INTO sightings_v3 (interval, rpi, aem, data)
    SELECT interval, rpi, substr(data, 1, 4), data FROM sightings;
DROP TABLE sightings;
ALTER TABLE sightings_v3 RENAME TO sightings;

CREATE TABLE store_meta (
    name  TEXT    NOT NULL PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// Version 4: the earliest publication of each diagnosis key that was still forgeable when
// published (core/publication.hpp), so that a key published again in a later file is judged by
// its first publication across checks. Only such keys are kept: a few hundred rows.
constexpr char kV4[] = R"sql(
CREATE TABLE key_publications (
    tek          BLOB    NOT NULL PRIMARY KEY CHECK (length(tek) = 16),
    window_end   INTEGER NOT NULL CHECK (window_end >= 0),
    published_at INTEGER NOT NULL CHECK (published_at >= 0)
) WITHOUT ROWID;
)sql";

constexpr std::array<Migration, 4> kMigrations = {{
    {1, "own keys and sightings", kV1},
    {2, "exposure records and processed files", kV2},
    {3, "one sightings row per AEM; store bookkeeping", kV3},
    {4, "earliest publication of forgeable diagnosis keys", kV4},
}};

static_assert(kMigrations.back().version == kSchemaVersion);
static_assert(kApplicationId == 1397707860);

}  // namespace

std::span<const Migration> migrations() noexcept { return kMigrations; }

Result<void> migrate(Database& db, int from, int to) {
    if (from > to || to > kSchemaVersion || from < 0)
        return make_error(ErrorCode::kInternal, "store: bad migration range");
    for (const Migration& m : kMigrations) {
        if (m.version <= from || m.version > to) continue;
        auto tx = Transaction::begin(db);
        if (!tx) return tx.error();
        if (auto r = db.exec(m.sql); !r) return r.error();
        const std::string bump = "PRAGMA user_version = " + std::to_string(m.version);
        if (auto r = db.exec(bump.c_str()); !r) return r.error();
        if (auto r = tx->commit(); !r) return r.error();
    }
    return ok();
}

}  // namespace sotto::store::detail
