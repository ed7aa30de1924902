// Connecting to the database file, checking and setting it up (header, pragmas, migrations,
// prepared statements), and the error mapping shared by every part of the store.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <limits>
#include <string>

#include "store/migrations.hpp"
#include "store/sqlite.hpp"
#include "store/store_impl.hpp"

namespace sotto::store {

using detail::Database;
using detail::Statement;

namespace detail {

Unexpected<Error> not_a_store(const char* what) {
    return make_error(ErrorCode::kStorageNotAStore, what);
}
Unexpected<Error> corrupt(const char* what) { return make_error(ErrorCode::kStorageCorrupt, what); }

std::filesystem::path parent_dir(const std::filesystem::path& p) {
    return p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
}

namespace {

// True when the database file (if it exists) and its directory can be written by us.
bool location_writable(const std::filesystem::path& p) {
    if (::faccessat(AT_FDCWD, parent_dir(p).c_str(), W_OK, AT_EACCESS) != 0) return false;
    if (::faccessat(AT_FDCWD, p.c_str(), W_OK, AT_EACCESS) != 0 && errno != ENOENT) return false;
    return true;
}

}  // namespace

Error refine(Error e, const std::filesystem::path& p) {
    if ((e.code == ErrorCode::kStorageIo || e.code == ErrorCode::kStorageReadOnly) &&
        !location_writable(p))
        return {ErrorCode::kStorageReadOnly, "store: the location is read-only"};
    return e;
}

Error error_from_open_rc(int rc, const std::filesystem::path& p) {
    return refine(error_from_sqlite(rc), p);
}

std::filesystem::path with_suffix(const std::filesystem::path& p, const char* suffix) {
    std::filesystem::path q = p;
    q += suffix;
    return q;
}

namespace {

// `file:` URI of `p` with `?immutable=1`: every byte outside [A-Za-z0-9/._-~] percent-encoded.
std::string immutable_uri(const std::filesystem::path& p) {
    static const char kHex[] = "0123456789ABCDEF";
    std::string out = "file:";
    for (const char ch : p.string()) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '/' || c == '.' || c == '_' || c == '-' || c == '~') {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        }
    }
    return out + "?immutable=1";
}

// Read-only media: SQLite cannot create the WAL index (-shm) that reading a WAL database needs.
// Nothing can write there either, so the file is opened as immutable (no locks, no -shm) when
// there is no WAL content it would miss.
bool open_as_immutable(const std::filesystem::path& p, const OpenOptions& o) {
    if (!o.read_only || location_writable(p)) return false;
    std::error_code ec;
    const auto wal = with_suffix(p, "-wal");
    if (!std::filesystem::exists(wal, ec)) return !ec;
    return std::filesystem::file_size(wal, ec) == 0 && !ec;
}

}  // namespace

Result<Connected> connect(const std::filesystem::path& p, const StoreKey* key,
                          std::uint32_t page_size, const OpenOptions& o) {
    int flags = (o.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
    std::filesystem::path target = p;
    if (open_as_immutable(p, o)) {
        flags |= SQLITE_OPEN_URI;
        target = immutable_uri(p);
    }
    int rc = 0;
    auto db = Database::open(target, flags, &rc);
    if (!db) return error_from_open_rc(rc, p);
    sqlite3_busy_timeout(db->handle(), static_cast<int>(o.busy_timeout_ms));
    if (key != nullptr) {
        if (auto r = apply_key(*db, *key, page_size); !r) return r.error();
    }
    const int probe = db->exec_rc("SELECT count(*) FROM sqlite_master");
    return Connected{std::move(*db), probe};
}

Error probe_error(int rc, const std::filesystem::path& p) {
    switch (rc & 0xff) {
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
            return {ErrorCode::kStorageCorrupt,
                    "store: the key is right but the database is damaged"};
        default:
            return error_from_open_rc(rc, p);
    }
}

}  // namespace detail

namespace {

using detail::corrupt;
using detail::not_a_store;
using detail::refine;

constexpr std::int64_t kWalSizeLimitBytes = 4 << 20;

Result<std::string> query_text(Database& db, const char* sql) {
    auto st = Statement::prepare(db, sql);
    if (!st) return st.error();
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return std::string();
    return std::string(st->column_text(0));
}

}  // namespace

Result<void> EncounterStore::Impl::setup(bool allow_init) {
    if (encrypted && !detail::cipher_active(db))
        return make_error(ErrorCode::kStorageNotEncrypted, "store: SQLite has no SQLCipher codec");
    auto app = db.query_int("PRAGMA application_id");
    if (!app) return refine(app.error(), path);
    auto version = db.query_int("PRAGMA user_version");
    if (!version) return refine(version.error(), path);
    auto tables = db.query_int("SELECT count(*) FROM sqlite_master");
    if (!tables) return refine(tables.error(), path);
    const bool empty = *app == 0 && *version == 0 && *tables == 0;
    if (empty && !allow_init) return not_a_store("store: the database was never initialized");
    if (!empty && *app != detail::kApplicationId)
        return not_a_store("store: an SQLCipher database, but not a sotto store");
    if (*version > kSchemaVersion)
        return make_error(ErrorCode::kStorageNewerSchema,
                          "store: written by a newer sotto (schema version)");
    if (*version < 0) return corrupt("store: negative schema version");
    if (!options.read_only && sqlite3_db_readonly(db.handle(), "main") == 1)
        return make_error(ErrorCode::kStorageReadOnly, "store: the location is read-only");
    if (options.read_only && (empty || *version < kSchemaVersion))
        return make_error(ErrorCode::kFailedPrecondition,
                          "store: needs an upgrade; open it writable once");

    if (empty) {
        // Must precede the first table. Freed pages can then be returned to the file system
        // (incremental_vacuum after retention) instead of leaving the file at its peak size.
        if (auto r = db.exec("PRAGMA auto_vacuum = INCREMENTAL"); !r)
            return refine(r.error(), path);
    }
    if (!options.read_only) {
        auto mode = query_text(db, "PRAGMA journal_mode = WAL");
        if (!mode) return refine(mode.error(), path);
        if (*mode != "wal")
            return refine({ErrorCode::kStorageIo, "store: cannot enable WAL"}, path);
    }
    char pragmas[512];
    std::snprintf(pragmas, sizeof pragmas,
                  "PRAGMA synchronous = %s; PRAGMA secure_delete = ON; PRAGMA temp_store = MEMORY; "
                  "PRAGMA cache_size = -%u; PRAGMA journal_size_limit = %lld; "
                  "PRAGMA foreign_keys = OFF;",
                  options.durability == Durability::kFull ? "FULL" : "NORMAL", options.cache_kib,
                  static_cast<long long>(kWalSizeLimitBytes));
    if (auto r = db.exec(pragmas); !r) return refine(r.error(), path);
    // Migrations run before the size cap is applied: a store that is full under its cap must
    // still open after an upgrade that adds a table (a page or two beyond the cap, once).
    if (*version < kSchemaVersion) {
        if (auto r = detail::migrate(db, static_cast<int>(*version), kSchemaVersion); !r)
            return refine(r.error(), path);
    }
    if (options.max_bytes != 0) {
        // SQLite answers SQLITE_FULL past this many pages: a hard bound on the file size.
        auto page = db.query_int("PRAGMA page_size");
        if (!page) return page.error();
        const auto pages =
            std::max<std::uint64_t>(options.max_bytes / static_cast<std::uint64_t>(*page), 1);
        char pc[64];
        std::snprintf(pc, sizeof pc, "PRAGMA max_page_count = %llu",
                      static_cast<unsigned long long>(pages));
        if (auto r = db.exec(pc); !r) return r.error();
    }
    return prepare();
}

Result<void> EncounterStore::Impl::prepare() {
    struct Def {
        Statement* st;
        const char* sql;
    };
    const std::string range = std::string(detail::kSelectSightings) +
                              " WHERE interval >= ?1 AND interval < ?2 ORDER BY interval, rpi, aem";
    const Def defs[] = {
        {&st.insert_sighting,
         "INSERT OR IGNORE INTO sightings (interval, rpi, aem, data) VALUES (?1, ?2, ?3, ?4)"},
        {&st.select_sighting,
         "SELECT interval, rpi, data FROM sightings WHERE interval = ?1 AND rpi = ?2 AND aem = ?3"},
        {&st.update_sighting,
         "UPDATE sightings SET data = ?4 WHERE interval = ?1 AND rpi = ?2 AND aem = ?3"},
        {&st.delete_sighting,
         "DELETE FROM sightings WHERE interval = ?1 AND rpi = ?2 AND aem = ?3"},
        {&st.count_aems, "SELECT count(*) FROM sightings WHERE interval = ?1 AND rpi = ?2"},
        {&st.sibling_sightings,
         "SELECT interval, rpi, data FROM sightings WHERE interval = ?1 AND rpi = ?2"},
        {&st.range_sightings, range.c_str()},
        {&st.count_range, "SELECT count(*) FROM sightings WHERE interval >= ?1 AND interval < ?2"},
        {&st.next_interval,
         "SELECT interval FROM sightings WHERE interval >= ?1 ORDER BY interval LIMIT 1"},
    };
    for (const Def& d : defs) {
        auto s = Statement::prepare(db, d.sql);
        if (!s) return s.error();
        *d.st = std::move(*s);
    }
    return ok();
}

Result<void> EncounterStore::Impl::compact() {
    // Return free pages to the file system, then fold the WAL into the database and truncate it.
    if (auto r = db.exec("PRAGMA incremental_vacuum"); !r) return r.error();
    // Without waiting: while another connection reads, the checkpoint stops short and the file
    // shrinks at a later checkpoint instead of stalling this call for the busy timeout.
    sqlite3_busy_timeout(db.handle(), 0);
    const int rc = db.exec_rc("PRAGMA wal_checkpoint(TRUNCATE)");
    sqlite3_busy_timeout(db.handle(), static_cast<int>(options.busy_timeout_ms));
    if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY) return detail::error_from_sqlite(rc);
    return ok();
}

}  // namespace sotto::store
