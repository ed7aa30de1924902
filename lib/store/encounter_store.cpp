#include <sotto/store/encounter_store.hpp>

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>
#include <string>

#include "core/sodium_init.hpp"
#include "store/cipher.hpp"
#include "store/database.hpp"
#include "store/kdf_file.hpp"
#include "store/migrations.hpp"
#include "store/row_codec.hpp"
#include "store/sqlite.hpp"
#include "store/store_access.hpp"

namespace sotto::store {

using detail::Database;
using detail::KdfFile;
using detail::Statement;
using detail::StatementReset;
using detail::Transaction;

namespace {

constexpr char kSqliteHeader[16] = "SQLite format 3";  // 15 characters and a NUL
constexpr std::uint32_t kMaxRetentionDays = 3650;
constexpr std::int64_t kWalSizeLimitBytes = 4 << 20;
constexpr std::uint32_t kMaxCacheKib = 1 << 20;

// ---- errors --------------------------------------------------------------------------------

Unexpected<Error> not_a_store(const char* what = "store: not a sotto store") {
    return make_error(ErrorCode::kStorageNotAStore, what);
}
Unexpected<Error> corrupt(const char* what = "store: the database is damaged") {
    return make_error(ErrorCode::kStorageCorrupt, what);
}
Unexpected<Error> read_only_store() {
    return make_error(ErrorCode::kStorageReadOnly, "store: opened read-only");
}

std::filesystem::path parent_dir(const std::filesystem::path& p) {
    return p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
}

// True when the database file (if it exists) and its directory can be written by us.
bool location_writable(const std::filesystem::path& p) {
    if (::faccessat(AT_FDCWD, parent_dir(p).c_str(), W_OK, AT_EACCESS) != 0) return false;
    if (::faccessat(AT_FDCWD, p.c_str(), W_OK, AT_EACCESS) != 0 && errno != ENOENT) return false;
    return true;
}

// Maps an error seen while opening: I/O failures in a location we cannot write are
// kStorageReadOnly (SQLite needs to create -wal/-shm even to read a WAL database).
Error refine(Error e, const std::filesystem::path& p) {
    if ((e.code == ErrorCode::kStorageIo || e.code == ErrorCode::kStorageReadOnly) &&
        !location_writable(p))
        return {ErrorCode::kStorageReadOnly, "store: the location is read-only"};
    return e;
}

Error error_from_open_rc(int rc, const std::filesystem::path& p) {
    return refine(detail::error_from_sqlite(rc), p);
}

Result<void> check_options(const OpenOptions& o) {
    if (o.retention_days < 1 || o.retention_days > kMaxRetentionDays)
        return make_error(ErrorCode::kInvalidArgument, "store: retention_days must be 1..3650");
    if (o.cache_kib > kMaxCacheKib)
        return make_error(ErrorCode::kInvalidArgument, "store: cache_kib too large");
    if (o.busy_timeout_ms > static_cast<std::uint32_t>(std::numeric_limits<int>::max()))
        return make_error(ErrorCode::kInvalidArgument, "store: busy_timeout_ms too large");
    return ok();
}

Result<std::string> query_text(Database& db, const char* sql) {
    auto st = Statement::prepare(db, sql);
    if (!st) return st.error();
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return std::string();
    return std::string(st->column_text(0));
}

void remove_quietly(const std::filesystem::path& p) {
    std::error_code ec;
    std::filesystem::remove(p, ec);
}

std::filesystem::path with_suffix(const std::filesystem::path& p, const char* suffix) {
    std::filesystem::path q = p;
    q += suffix;
    return q;
}

// Overwrites a file with zeros and fsyncs it (best effort), then unlinks it.
Result<void> shred(const std::filesystem::path& p) {
    const int fd = ::open(p.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) return ok();
        // Cannot overwrite (e.g. a link): still remove it below.
    } else {
        struct stat st {};
        if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
            static const std::array<std::uint8_t, 65536> kZeros{};
            off_t left = st.st_size;
            off_t off = 0;
            while (left > 0) {
                const auto n = static_cast<std::size_t>(
                    std::min<off_t>(left, static_cast<off_t>(kZeros.size())));
                const ssize_t put = ::pwrite(fd, kZeros.data(), n, off);
                if (put <= 0) break;
                off += put;
                left -= put;
            }
            (void)::fsync(fd);
        }
        ::close(fd);
    }
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) return detail::error_from_errno(errno);
    return ok();
}

// Column order of every sightings read.
constexpr char kSelectSightings[] = "SELECT interval, rpi, data FROM sightings";

Result<void> read_sighting_into(const Statement& st, core::Sighting& out) {
    detail::RawRow raw;
    raw.interval = st.column_int(0);
    raw.rpi = st.column_blob(1);
    raw.data = st.column_blob(2);
    return detail::decode_sighting_into(raw, out);
}

Result<core::Sighting> read_sighting(const Statement& st) {
    core::Sighting s;
    if (auto r = read_sighting_into(st, s); !r) return r.error();
    return s;
}

// Binds ?1 interval, ?2 rpi, ?3 data. `row` holds the data BLOB and must outlive the run.
Result<void> bind_sighting(Statement& st, const core::Sighting& s, const detail::SightingRow& row) {
    Result<void> r = st.bind(1, static_cast<std::int64_t>(s.interval));
    if (r) r = st.bind(2, std::span<const std::uint8_t>(s.rpi.bytes));
    if (r) r = st.bind(3, row.blob());
    return r;
}

bool is_hex_digest(std::string_view h) {
    return h.size() == 64 && std::all_of(h.begin(), h.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
           });
}

std::string lower(std::string_view h) {
    std::string s(h);
    for (char& c : s)
        if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

}  // namespace

Result<core::IntervalNumber> retention_cutoff(std::int64_t now_unix, std::uint32_t retention_days) {
    if (retention_days == 0)
        return make_error(ErrorCode::kInvalidArgument, "store: retention_days must be at least 1");
    auto enin = core::interval_number(now_unix);
    if (!enin) return enin.error();
    const std::uint64_t start = core::day_start_interval(*enin);
    const std::uint64_t back = static_cast<std::uint64_t>(retention_days - 1) * core::kTekRollingPeriod;
    return static_cast<core::IntervalNumber>(start > back ? start - back : 0);
}

// ---- Impl ------------------------------------------------------------------------------------

struct Statements {
    Statement insert_sighting;
    Statement select_sighting;
    Statement update_sighting;
    Statement range_sightings;
    Statement count_range;
    Statement next_interval;
};

struct EncounterStore::Impl {
    Impl(std::filesystem::path p, const OpenOptions& o, KdfFile k, StoreKey key_in, Database d,
         bool enc)
        : path(std::move(p)), options(o), kdf(std::move(k)), key(std::move(key_in)),
          db(std::move(d)), encrypted(enc) {
        // Best effort: RLIMIT_MEMLOCK is small; on Linux this also excludes the key from core dumps.
        (void)sodium_mlock(key.expose_secret_mut().data(), kStoreKeyBytes);
    }
    ~Impl() {
        st = Statements{};
        (void)sodium_munlock(key.expose_secret_mut().data(), kStoreKeyBytes);  // also wipes
    }
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    Result<void> setup(bool allow_init);
    Result<void> prepare();
    Result<void> compact();
    Result<std::vector<core::IntervalNumber>> intervals();
    Result<void> writable() const {
        if (options.read_only) return read_only_store();
        return ok();
    }

    mutable std::mutex mu;
    std::filesystem::path path;
    OpenOptions options;
    KdfFile kdf;  // the side file as on disk (no entries in the unencrypted benchmark build)
    StoreKey key;  // current key: needed to reconnect after a failed rekey
    Database db;
    bool encrypted = true;
    Statements st;  // declared after db: finalized before the connection closes
};

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
        if (auto r = db.exec("PRAGMA auto_vacuum = INCREMENTAL"); !r) return refine(r.error(), path);
    }
    if (!options.read_only) {
        auto mode = query_text(db, "PRAGMA journal_mode = WAL");
        if (!mode) return refine(mode.error(), path);
        if (*mode != "wal") return refine({ErrorCode::kStorageIo, "store: cannot enable WAL"}, path);
    }
    char pragmas[512];
    std::snprintf(pragmas, sizeof pragmas,
                  "PRAGMA synchronous = %s; PRAGMA secure_delete = ON; PRAGMA temp_store = MEMORY; "
                  "PRAGMA cache_size = -%u; PRAGMA journal_size_limit = %lld; "
                  "PRAGMA foreign_keys = OFF;",
                  options.durability == Durability::kFull ? "FULL" : "NORMAL", options.cache_kib,
                  static_cast<long long>(kWalSizeLimitBytes));
    if (auto r = db.exec(pragmas); !r) return refine(r.error(), path);
    if (options.max_bytes != 0) {
        // SQLite answers SQLITE_FULL past this many pages: a hard bound on the file size.
        auto page = db.query_int("PRAGMA page_size");
        if (!page) return page.error();
        const auto pages = std::max<std::uint64_t>(options.max_bytes / static_cast<std::uint64_t>(*page), 1);
        char pc[64];
        std::snprintf(pc, sizeof pc, "PRAGMA max_page_count = %llu",
                      static_cast<unsigned long long>(pages));
        if (auto r = db.exec(pc); !r) return r.error();
    }
    if (*version < kSchemaVersion) {
        if (auto r = detail::migrate(db, static_cast<int>(*version), kSchemaVersion); !r)
            return refine(r.error(), path);
    }
    return prepare();
}

Result<void> EncounterStore::Impl::prepare() {
    struct Def {
        Statement* st;
        const char* sql;
    };
    const std::string range = std::string(kSelectSightings) +
                              " WHERE interval >= ?1 AND interval < ?2 ORDER BY interval, rpi";
    const Def defs[] = {
        {&st.insert_sighting,
         "INSERT OR IGNORE INTO sightings (interval, rpi, data) VALUES (?1, ?2, ?3)"},
        {&st.select_sighting,
         "SELECT interval, rpi, data FROM sightings WHERE interval = ?1 AND rpi = ?2"},
        {&st.update_sighting, "UPDATE sightings SET data = ?3 WHERE interval = ?1 AND rpi = ?2"},
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

// ---- opening ---------------------------------------------------------------------------------

namespace {

struct Connected {
    Database db;
    int probe_rc = 0;  // SQLITE_OK when the first page could be read and decrypted
};

// Opens the existing file, keys it and reads the schema (the first page): the probe tells a key
// that decrypts from one that does not (SQLITE_NOTADB), and a damaged file (SQLITE_CORRUPT).
Result<Connected> connect(const std::filesystem::path& p, const StoreKey* key,
                          std::uint32_t page_size, const OpenOptions& o) {
    const int flags = (o.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
                      SQLITE_OPEN_NOMUTEX;
    int rc = 0;
    auto db = Database::open(p, flags, &rc);
    if (!db) return error_from_open_rc(rc, p);
    sqlite3_busy_timeout(db->handle(), static_cast<int>(o.busy_timeout_ms));
    if (key != nullptr) {
        if (auto r = detail::apply_key(*db, *key, page_size); !r) return r.error();
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

// Creates an empty database file with mode 0600 (SQLite would use 0644); -wal and -shm inherit
// its mode. Returns true when this call created it.
Result<bool> create_db_file(const std::filesystem::path& p) {
    const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        if (errno == EEXIST) return false;
        return detail::error_from_errno(errno);
    }
    ::close(fd);
    return true;
}

}  // namespace

Result<EncounterStore> EncounterStore::open(const std::filesystem::path& path,
                                            Credential credential, const OpenOptions& options) {
    if (auto r = check_options(options); !r) return r.error();
    if (auto r = sotto::detail::init_sodium(); !r) return r.error();
    // Refuse plain SQLite before touching any file.
    if (!detail::sqlcipher_linked())
        return make_error(ErrorCode::kStorageNotEncrypted, "store: SQLite has no SQLCipher codec");

    const std::filesystem::path side_path = detail::kdf_path(path);
    struct stat st {};
    bool exists = ::stat(path.c_str(), &st) == 0;
    if (!exists && errno != ENOENT) return detail::error_from_errno(errno);
    if (exists && !S_ISREG(st.st_mode)) return not_a_store("store: not a regular file");

    std::optional<KdfFile> side;
    if (exists || options.create_if_missing) {
        auto s = detail::read_kdf_file(side_path);
        if (!s) {
            // A damaged or foreign side file next to a missing database: creation overwrites it.
            if (exists || options.read_only) return s.error();
        } else {
            side = std::move(*s);
        }
    }

    if (exists && st.st_size >= 16) {
        std::array<char, 16> head{};
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            if (errno == EACCES || errno == EPERM)
                return make_error(ErrorCode::kStorageIo, "store: no permission to read a store file");
            return detail::error_from_errno(errno);
        }
        const ssize_t got = ::read(fd, head.data(), head.size());
        ::close(fd);
        if (got == 16 && std::memcmp(head.data(), kSqliteHeader, 16) == 0)
            return not_a_store("store: a plain (unencrypted) SQLite database, not a sotto store");
    }

    // ---- a new store -------------------------------------------------------------------------
    const bool empty_file = exists && st.st_size == 0;
    const bool uninitialized = empty_file && (!side || !side->initialized);
    if (empty_file && side && side->initialized)
        return corrupt("store: the database file is empty (truncated)");
    if (!exists || uninitialized) {
        if (!options.create_if_missing || options.read_only)
            return exists ? not_a_store("store: the database was never initialized")
                          : make_error(ErrorCode::kStorageIo, "store: no store at this path");
        if (side && uninitialized) {
            // Creation was interrupted after the side file was written: only its owner may finish.
            auto u = detail::unlock(*side, credential);
            if (!u) return u.error();
        }
        const std::filesystem::path dir = parent_dir(path);
        if (::faccessat(AT_FDCWD, dir.c_str(), W_OK | X_OK, AT_EACCESS) != 0) {
            if (errno == ENOENT)
                return make_error(ErrorCode::kStorageIo, "store: the directory does not exist");
            return detail::error_from_errno(errno);
        }
        auto made = detail::make_entry(credential);
        if (!made) return made.error();
        KdfFile kf;
        kf.initialized = false;
        kf.page_size = detail::kDefaultPageSize;
        kf.entries = {made->entry};
        if (auto r = detail::write_kdf_file(side_path, kf); !r) return r.error();
        auto created = create_db_file(path);
        auto cleanup = [&](Error e) -> Result<EncounterStore> {
            if (!created || *created) remove_quietly(path);
            remove_quietly(with_suffix(path, "-wal"));
            remove_quietly(with_suffix(path, "-shm"));
            remove_quietly(with_suffix(path, "-journal"));
            remove_quietly(side_path);
            return e;
        };
        if (!created) return cleanup(created.error());
        auto c = connect(path, &made->key, kf.page_size, options);
        if (!c) return cleanup(c.error());
        if (c->probe_rc != SQLITE_OK) return cleanup(probe_error(c->probe_rc, path));
        auto impl = std::make_unique<Impl>(path, options, kf, std::move(made->key),
                                           std::move(c->db), true);
        if (auto r = impl->setup(true); !r) {
            impl.reset();
            return cleanup(r.error());
        }
        impl->kdf.initialized = true;
        if (auto r = detail::write_kdf_file(side_path, impl->kdf); !r) {
            impl.reset();
            return cleanup(r.error());
        }
        return EncounterStore(std::move(impl));
    }

    // ---- an existing store -------------------------------------------------------------------
    if (!side) {
        // No side file: a raw key may still open the store (the side file is then rewritten);
        // a passphrase cannot (its salt is gone), and nothing tells a foreign file from a wrong key.
        if (credential.is_passphrase())
            return not_a_store("store: not a sotto store (no key-derivation file)");
        StoreKey key = detail::raw_key_of(credential);
        auto c = connect(path, &key, detail::kDefaultPageSize, options);
        if (!c) return c.error();
        if ((c->probe_rc & 0xff) == SQLITE_NOTADB)
            return not_a_store("store: not a sotto store, or a wrong key and no key-derivation file");
        if (c->probe_rc != SQLITE_OK) return probe_error(c->probe_rc, path);
        KdfFile kf;
        kf.initialized = true;
        auto impl = std::make_unique<Impl>(path, options, kf, std::move(key), std::move(c->db), true);
        if (auto r = impl->setup(false); !r) return r.error();
        if (!options.read_only) {
            auto made = detail::make_entry(credential);
            if (!made) return made.error();
            impl->kdf.entries = {made->entry};
            if (auto r = detail::write_kdf_file(side_path, impl->kdf); !r) return r.error();
        }
        return EncounterStore(std::move(impl));
    }

    auto unlocked = detail::unlock(*side, credential);
    if (!unlocked) return unlocked.error();
    auto c = connect(path, &unlocked->key, side->page_size, options);
    if (!c) return c.error();
    if (c->probe_rc != SQLITE_OK) {
        if ((c->probe_rc & 0xff) == SQLITE_NOTADB && side->entries.size() == 2)
            return make_error(ErrorCode::kStorageWrongKey,
                              "store: a key change was interrupted; the other credential opens it");
        return probe_error(c->probe_rc, path);
    }
    KdfFile kf = *side;
    kf.entries = {side->entries[unlocked->index]};
    bool rewrite = side->entries.size() != 1;
    auto impl = std::make_unique<Impl>(path, options, kf, std::move(unlocked->key),
                                       std::move(c->db), true);
    // A store whose creation was interrupted (side file not yet marked initialized) may hold an
    // empty database: finish creating it.
    if (auto r = impl->setup(!side->initialized); !r) return r.error();
    if (!side->initialized && !options.read_only) {
        impl->kdf.initialized = true;
        rewrite = true;
    }
    if (rewrite && !options.read_only) {
        // Finish an interrupted rekey: the credential that decrypts the database is the one left.
        if (auto r = detail::write_kdf_file(side_path, impl->kdf); !r) return r.error();
    }
    return EncounterStore(std::move(impl));
}

#if defined(SOTTO_STORE_PLAIN_SQLITE)
Result<EncounterStore> detail::StoreAccess::open_unencrypted_for_benchmark(
    const std::filesystem::path& path, const OpenOptions& options) {
    if (auto r = check_options(options); !r) return r.error();
    auto created = create_db_file(path);
    if (!created) return created.error();
    auto c = connect(path, nullptr, 0, options);
    if (!c) return c.error();
    if (c->probe_rc != SQLITE_OK) return probe_error(c->probe_rc, path);
    auto impl = std::make_unique<EncounterStore::Impl>(path, options, KdfFile{}, StoreKey{},
                                                       std::move(c->db), false);
    if (auto r = impl->setup(true); !r) return r.error();
    return EncounterStore(std::move(impl));
}
#endif

Database& detail::StoreAccess::database(EncounterStore& store) noexcept { return store.impl_->db; }

std::vector<std::filesystem::path> EncounterStore::files(const std::filesystem::path& path) {
    return {path, with_suffix(path, "-wal"), with_suffix(path, "-shm"),
            with_suffix(path, "-journal"), detail::kdf_path(path)};
}

Result<void> EncounterStore::destroy(const std::filesystem::path& path) {
    const auto side = detail::kdf_path(path);
    if (!detail::has_kdf_magic(side))
        return not_a_store("store: no sotto key-derivation file; refusing to delete");
    // The side file goes last: a crash in between leaves it without a database, which `open`
    // treats as "no store" (never as a store to recover).
    for (const auto& f : files(path)) {
        if (f == side) continue;
        if (auto r = shred(f); !r) return r;
    }
    if (auto r = shred(side); !r) return r;
    const std::filesystem::path dir = parent_dir(path);
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)::fsync(dfd);
        ::close(dfd);
    }
    return ok();
}

EncounterStore::EncounterStore(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
EncounterStore::EncounterStore(EncounterStore&&) noexcept = default;
EncounterStore& EncounterStore::operator=(EncounterStore&&) noexcept = default;
EncounterStore::~EncounterStore() = default;

std::uint32_t EncounterStore::retention_days() const noexcept {
    return impl_ ? impl_->options.retention_days : 0;
}

#define SOTTO_STORE_LOCK()                                                                       \
    if (!impl_) return make_error(ErrorCode::kFailedPrecondition, "store: moved-from store");     \
    std::lock_guard<std::mutex> lock_(impl_->mu)

// ---- sightings -------------------------------------------------------------------------------

Result<IngestReport> EncounterStore::ingest(std::span<const core::Observation> batch,
                                            std::int64_t now_unix) {
    SOTTO_STORE_LOCK();
    if (auto r = impl_->writable(); !r) return r.error();
    auto cutoff = retention_cutoff(now_unix, impl_->options.retention_days);
    if (!cutoff) return cutoff.error();

    IngestReport report;
    struct Item {
        core::IntervalNumber interval;
        std::uint32_t index;
    };
    std::vector<Item> items;
    items.reserve(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const core::Observation& o = batch[i];
        if (auto v = core::validate_observation(o); !v) {
            report.rejected.push_back({i, v.error()});
            continue;
        }
        if (o.time > now_unix + kMaxFutureSkewSeconds) {
            report.rejected.push_back(
                {i, {ErrorCode::kOutOfRange, "observation: in the future"}});
            continue;
        }
        const core::IntervalNumber enin = *core::interval_number(o.time);
        if (enin < *cutoff) {
            report.rejected.push_back(
                {i, {ErrorCode::kOutOfRange, "observation: older than the retention period"}});
            continue;
        }
        items.push_back({enin, static_cast<std::uint32_t>(i)});
    }
    if (items.empty()) return report;

    // Group by (interval, RPI); inside a group, time order, so the first packet is the first heard.
    std::sort(items.begin(), items.end(), [&](const Item& a, const Item& b) {
        if (a.interval != b.interval) return a.interval < b.interval;
        const auto& oa = batch[a.index];
        const auto& ob = batch[b.index];
        if (oa.beacon.rpi != ob.beacon.rpi) return oa.beacon.rpi < ob.beacon.rpi;
        if (oa.time != ob.time) return oa.time < ob.time;
        return a.index < b.index;
    });

    auto tx = Transaction::begin(impl_->db);
    if (!tx) return tx.error();
    Statements& st = impl_->st;
    std::size_t new_rows = 0;
    std::size_t updated_rows = 0;
    for (std::size_t g = 0; g < items.size();) {
        std::size_t end = g + 1;
        core::Sighting s = core::make_sighting(batch[items[g].index]);
        while (end < items.size() && items[end].interval == items[g].interval &&
               batch[items[end].index].beacon.rpi == s.rpi) {
            core::add_observation(s, batch[items[end].index]);
            ++end;
        }
        g = end;

        auto row = detail::encode_sighting(s);
        if (!row) return row.error();
        {
            StatementReset reset(st.insert_sighting);
            if (auto r = bind_sighting(st.insert_sighting, s, *row); !r) return r.error();
            if (auto r = st.insert_sighting.run(); !r) return r.error();
        }
        if (impl_->db.changes() == 1) {
            ++new_rows;
            continue;
        }
        // The row exists: merge with the stored aggregate.
        core::Sighting merged;
        {
            StatementReset reset(st.select_sighting);
            Result<void> b = st.select_sighting.bind(1, static_cast<std::int64_t>(s.interval));
            if (b) b = st.select_sighting.bind(2, std::span<const std::uint8_t>(s.rpi.bytes));
            if (!b) return b.error();
            auto found = st.select_sighting.step();
            if (!found) return found.error();
            if (!*found) return make_error(ErrorCode::kInternal, "store: row vanished during ingest");
            auto existing = read_sighting(st.select_sighting);
            if (!existing) return existing.error();
            merged = std::move(*existing);
        }
        core::merge_sightings(merged, s);
        auto merged_row = detail::encode_sighting(merged);
        if (!merged_row) return merged_row.error();
        {
            StatementReset reset(st.update_sighting);
            if (auto r = bind_sighting(st.update_sighting, merged, *merged_row); !r) return r.error();
            if (auto r = st.update_sighting.run(); !r) return r.error();
        }
        ++updated_rows;
    }
    if (auto r = tx->commit(); !r) return r.error();
    report.accepted = items.size();
    report.new_rows = new_rows;
    report.updated_rows = updated_rows;
    return report;
}

Result<std::vector<core::Sighting>> EncounterStore::sightings_in_range(core::IntervalNumber begin,
                                                                       std::uint64_t end) const {
    SOTTO_STORE_LOCK();
    std::vector<core::Sighting> out;
    if (end <= begin) return out;
    const auto last = static_cast<std::int64_t>(std::min<std::uint64_t>(end, 1ull << 32));
    {
        // Counting first (a cheap scan of the same pages, which it also brings into the cache)
        // spares the result vector its reallocations.
        Statement& count = impl_->st.count_range;
        StatementReset reset(count);
        Result<void> b = count.bind(1, static_cast<std::int64_t>(begin));
        if (b) b = count.bind(2, last);
        if (!b) return b.error();
        auto row = count.step();
        if (!row) return row.error();
        if (*row) out.reserve(static_cast<std::size_t>(count.column_int(0)));
    }
    Statement& st = impl_->st.range_sightings;
    StatementReset reset(st);
    Result<void> b = st.bind(1, static_cast<std::int64_t>(begin));
    if (b) b = st.bind(2, last);
    if (!b) return b.error();
    while (true) {
        auto row = st.step();
        if (!row) return row.error();
        if (!*row) break;
        if (auto r = read_sighting_into(st, out.emplace_back()); !r) return r.error();
    }
    return out;
}

Result<std::vector<core::Sighting>> EncounterStore::sightings_on_day(std::uint32_t day) const {
    const std::uint64_t begin = static_cast<std::uint64_t>(day) * core::kTekRollingPeriod;
    if (begin > std::numeric_limits<core::IntervalNumber>::max())
        return make_error(ErrorCode::kOutOfRange, "store: day outside the ENIN range");
    return sightings_in_range(static_cast<core::IntervalNumber>(begin),
                              begin + core::kTekRollingPeriod);
}

Result<std::vector<core::IntervalNumber>> EncounterStore::sighting_intervals() const {
    SOTTO_STORE_LOCK();
    return impl_->intervals();
}

Result<std::vector<core::IntervalNumber>> EncounterStore::Impl::intervals() {
    std::vector<core::IntervalNumber> out;
    Statement& next = st.next_interval;
    // One index seek per distinct interval instead of a scan over every row.
    std::int64_t from = 0;
    while (from <= std::numeric_limits<core::IntervalNumber>::max()) {
        StatementReset reset(next);
        if (auto b = next.bind(1, from); !b) return b.error();
        auto row = next.step();
        if (!row) return row.error();
        if (!*row) break;
        const std::int64_t v = next.column_int(0);
        if (v < from || v > std::numeric_limits<core::IntervalNumber>::max())
            return corrupt("store: malformed sighting row");
        out.push_back(static_cast<core::IntervalNumber>(v));
        from = v + 1;
    }
    return out;
}

Result<void> EncounterStore::for_each_sighting(
    const std::function<bool(const core::Sighting&)>& fn) const {
    SOTTO_STORE_LOCK();
    Statement& st = impl_->st.range_sightings;
    StatementReset reset(st);
    Result<void> b = st.bind(1, std::int64_t{0});
    if (b) b = st.bind(2, std::int64_t{1} << 32);
    if (!b) return b.error();
    core::Sighting s;  // reused: its scan vector keeps its capacity
    while (true) {
        auto row = st.step();
        if (!row) return row.error();
        if (!*row) return ok();
        if (auto r = read_sighting_into(st, s); !r) return r.error();
        if (!fn(s)) return ok();
    }
}

// ---- own keys --------------------------------------------------------------------------------

Result<void> EncounterStore::add_own_key(const core::ExposureKey& key, std::int64_t created_unix) {
    SOTTO_STORE_LOCK();
    if (auto r = impl_->writable(); !r) return r.error();
    if (key.rolling_period < 1 || key.rolling_period > core::kTekRollingPeriod)
        return make_error(ErrorCode::kInvalidArgument, "store: rolling period must be 1..144");
    auto tx = Transaction::begin(impl_->db);
    if (!tx) return tx.error();
    const auto tek = key.tek.expose_secret();  // bound SQLITE_STATIC: SQLite makes no copy of its own
    {
        auto st = Statement::prepare(impl_->db,
                                     "SELECT rolling_start, rolling_period FROM own_keys WHERE tek = ?1");
        if (!st) return st.error();
        if (auto b = st->bind(1, std::span<const std::uint8_t>(tek)); !b) return b.error();
        auto row = st->step();
        if (!row) return row.error();
        if (*row) {
            if (st->column_int(0) != key.rolling_start || st->column_int(1) != key.rolling_period)
                return make_error(ErrorCode::kInvalidArgument,
                                  "store: this TEK is stored with another validity");
            st->reset();
            return tx->commit();  // already stored: nothing to do
        }
        st->reset();
    }
    auto st = Statement::prepare(impl_->db,
                                 "INSERT INTO own_keys (tek, rolling_start, rolling_period, created, "
                                 "published) VALUES (?1, ?2, ?3, ?4, 0)");
    if (!st) return st.error();
    StatementReset reset(*st);
    Result<void> b = st->bind(1, std::span<const std::uint8_t>(tek));
    if (b) b = st->bind(2, static_cast<std::int64_t>(key.rolling_start));
    if (b) b = st->bind(3, static_cast<std::int64_t>(key.rolling_period));
    if (b) b = st->bind(4, created_unix);
    if (!b) return b.error();
    if (auto r = st->run(); !r) return r.error();
    return tx->commit();
}

Result<std::vector<OwnKey>> EncounterStore::own_keys() const {
    SOTTO_STORE_LOCK();
    auto st = Statement::prepare(impl_->db,
                                 "SELECT tek, rolling_start, rolling_period, created, published FROM "
                                 "own_keys ORDER BY rolling_start, created, tek");
    if (!st) return st.error();
    std::vector<OwnKey> out;
    while (true) {
        auto row = st->step();
        if (!row) return row.error();
        if (!*row) break;
        const auto tek = st->column_blob(0);
        const std::int64_t start = st->column_int(1);
        const std::int64_t period = st->column_int(2);
        if (tek.size() != core::kTekBytes || start < 0 ||
            start > std::numeric_limits<core::IntervalNumber>::max() || period < 1 ||
            period > core::kTekRollingPeriod)
            return corrupt("store: malformed own-key row");
        OwnKey k;
        k.key.tek = core::TemporaryExposureKey::from(tek.first<core::kTekBytes>());
        k.key.rolling_start = static_cast<core::IntervalNumber>(start);
        k.key.rolling_period = static_cast<std::uint32_t>(period);
        k.created = st->column_int(3);
        k.published = st->column_int(4) != 0;
        out.push_back(std::move(k));
    }
    return out;
}

Result<void> EncounterStore::mark_published(const core::TemporaryExposureKey& tek) {
    SOTTO_STORE_LOCK();
    if (auto r = impl_->writable(); !r) return r.error();
    auto st = Statement::prepare(impl_->db, "UPDATE own_keys SET published = 1 WHERE tek = ?1");
    if (!st) return st.error();
    StatementReset reset(*st);
    if (auto b = st->bind(1, std::span<const std::uint8_t>(tek.expose_secret())); !b)
        return b.error();
    if (auto r = st->run(); !r) return r.error();
    if (impl_->db.changes() == 0)
        return make_error(ErrorCode::kInvalidArgument, "store: no such own key");
    return ok();
}

// ---- exposure results ------------------------------------------------------------------------

Result<void> EncounterStore::add_exposure_records(std::span<const ExposureRecord> records) {
    SOTTO_STORE_LOCK();
    if (auto r = impl_->writable(); !r) return r.error();
    for (const auto& r : records)
        if (r.risk_level < 0 || r.risk_level > 2)
            return make_error(ErrorCode::kInvalidArgument, "store: risk level must be 0..2");
    if (records.empty()) return ok();
    auto tx = Transaction::begin(impl_->db);
    if (!tx) return tx.error();
    auto st = Statement::prepare(impl_->db,
                                 "INSERT INTO exposure_records (computed_at, day, risk_level, windows, "
                                 "weighted_minutes, min_attenuation_db) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st) return st.error();
    for (const auto& rec : records) {
        StatementReset reset(*st);
        Result<void> b = st->bind(1, rec.computed_at);
        if (b) b = st->bind(2, static_cast<std::int64_t>(rec.day));
        if (b) b = st->bind(3, static_cast<std::int64_t>(rec.risk_level));
        if (b) b = st->bind(4, static_cast<std::int64_t>(rec.windows));
        if (b) b = st->bind(5, rec.weighted_minutes);
        if (b) b = st->bind(6, static_cast<std::int64_t>(rec.min_attenuation_db));
        if (!b) return b.error();
        if (auto r = st->run(); !r) return r.error();
    }
    return tx->commit();
}

Result<std::vector<ExposureRecord>> EncounterStore::exposure_records() const {
    SOTTO_STORE_LOCK();
    auto st = Statement::prepare(impl_->db,
                                 "SELECT computed_at, day, risk_level, windows, weighted_minutes, "
                                 "min_attenuation_db FROM exposure_records ORDER BY day, computed_at, id");
    if (!st) return st.error();
    std::vector<ExposureRecord> out;
    while (true) {
        auto row = st->step();
        if (!row) return row.error();
        if (!*row) break;
        ExposureRecord r;
        r.computed_at = st->column_int(0);
        const std::int64_t day = st->column_int(1);
        const std::int64_t windows = st->column_int(3);
        const std::int64_t att = st->column_int(5);
        r.risk_level = static_cast<int>(st->column_int(2));
        if (day < 0 || day > std::numeric_limits<std::uint32_t>::max() || windows < 0 ||
            windows > std::numeric_limits<std::uint32_t>::max() || r.risk_level < 0 ||
            r.risk_level > 2 || att < std::numeric_limits<int>::min() ||
            att > std::numeric_limits<int>::max())
            return corrupt("store: malformed exposure record");
        r.day = static_cast<std::uint32_t>(day);
        r.windows = static_cast<std::uint32_t>(windows);
        r.weighted_minutes = st->column_double(4);
        r.min_attenuation_db = static_cast<int>(att);
        out.push_back(r);
    }
    return out;
}

Result<void> EncounterStore::mark_file_processed(std::string_view sha256_hex,
                                                 std::int64_t now_unix, std::uint32_t keys) {
    SOTTO_STORE_LOCK();
    if (auto r = impl_->writable(); !r) return r.error();
    if (!is_hex_digest(sha256_hex))
        return make_error(ErrorCode::kInvalidArgument, "store: SHA-256 must be 64 hex digits");
    const std::string digest = lower(sha256_hex);
    auto st = Statement::prepare(impl_->db,
                                 "INSERT OR REPLACE INTO processed_files (sha256, processed_at, keys) "
                                 "VALUES (?1, ?2, ?3)");
    if (!st) return st.error();
    StatementReset reset(*st);
    Result<void> b = st->bind_text(1, digest);
    if (b) b = st->bind(2, now_unix);
    if (b) b = st->bind(3, static_cast<std::int64_t>(keys));
    if (!b) return b.error();
    return st->run();
}

Result<bool> EncounterStore::file_processed(std::string_view sha256_hex) const {
    SOTTO_STORE_LOCK();
    if (!is_hex_digest(sha256_hex))
        return make_error(ErrorCode::kInvalidArgument, "store: SHA-256 must be 64 hex digits");
    const std::string digest = lower(sha256_hex);
    auto st = Statement::prepare(impl_->db, "SELECT 1 FROM processed_files WHERE sha256 = ?1");
    if (!st) return st.error();
    StatementReset reset(*st);
    if (auto b = st->bind_text(1, digest); !b) return b.error();
    auto row = st->step();
    if (!row) return row.error();
    return *row;
}

// ---- maintenance -----------------------------------------------------------------------------

Result<RetentionReport> EncounterStore::apply_retention(std::int64_t now_unix) {
    SOTTO_STORE_LOCK();
    if (auto r = impl_->writable(); !r) return r.error();
    auto cutoff = retention_cutoff(now_unix, impl_->options.retention_days);
    if (!cutoff) return cutoff.error();
    RetentionReport report;
    report.cutoff = *cutoff;
    const std::int64_t c = *cutoff;
    struct Step {
        const char* sql;
        std::int64_t arg;
        std::size_t* count;
    };
    const Step steps[] = {
        {"DELETE FROM sightings WHERE interval < ?1", c, &report.sightings},
        {"DELETE FROM own_keys WHERE rolling_start + rolling_period <= ?1", c, &report.own_keys},
        {"DELETE FROM exposure_records WHERE day < ?1", c / core::kTekRollingPeriod,
         &report.exposure_records},
        {"DELETE FROM processed_files WHERE processed_at < ?1", c * core::kIntervalSeconds,
         &report.processed_files},
    };
    auto tx = Transaction::begin(impl_->db);
    if (!tx) return tx.error();
    for (const Step& s : steps) {
        auto st = Statement::prepare(impl_->db, s.sql);
        if (!st) return st.error();
        if (auto b = st->bind(1, s.arg); !b) return b.error();
        if (auto r = st->run(); !r) return r.error();
        *s.count = static_cast<std::size_t>(impl_->db.changes());
    }
    if (auto r = tx->commit(); !r) return r.error();
    if (report.sightings + report.own_keys + report.exposure_records + report.processed_files > 0) {
        if (auto r = impl_->compact(); !r) return r.error();
    }
    return report;
}

Result<void> EncounterStore::erase_all() {
    SOTTO_STORE_LOCK();
    if (auto r = impl_->writable(); !r) return r.error();
    {
        auto tx = Transaction::begin(impl_->db);
        if (!tx) return tx.error();
        // secure_delete is on: freed cells and pages are overwritten, not just unlinked.
        if (auto r = impl_->db.exec("DELETE FROM sightings; DELETE FROM own_keys; "
                                    "DELETE FROM exposure_records; DELETE FROM processed_files;");
            !r)
            return r.error();
        if (auto r = tx->commit(); !r) return r.error();
    }
    return impl_->compact();
}

Result<void> EncounterStore::rekey(Credential new_credential) {
    SOTTO_STORE_LOCK();
    Impl& im = *impl_;
    if (auto r = im.writable(); !r) return r.error();
    if (!im.encrypted || im.kdf.entries.size() != 1)
        return make_error(ErrorCode::kFailedPrecondition, "store: cannot rekey this store");
    auto made = detail::make_entry(new_credential);
    if (!made) return made.error();
    const auto side_path = detail::kdf_path(im.path);

    // Fold the WAL into the database first, so that the rekey rewrites every page and the WAL
    // holds no old-key frames afterwards. A reader in another connection keeps the checkpoint
    // from completing: refuse then, before anything changed.
    {
        auto st = Statement::prepare(im.db, "PRAGMA wal_checkpoint(TRUNCATE)");
        if (!st) return st.error();
        auto row = st->step();
        if (!row) return row.error();
        if (*row && st->column_int(0) != 0)
            return make_error(ErrorCode::kStorageBusy, "store: other connections are open");
    }

    // 1. Side file lists both credentials: whichever state the database is in after a crash,
    //    the credential that decrypts it is listed (open() keeps only that one).
    KdfFile pending = im.kdf;
    pending.entries = {im.kdf.entries[0], made->entry};
    if (auto r = detail::write_kdf_file(side_path, pending); !r) return r.error();

    // 2. Re-encrypt every page in one transaction.
    auto rk = detail::apply_rekey(im.db, made->key);

    // 3. SQLCipher 3.4.1 does not report a failed commit: check with a second connection.
    bool committed = false;
    if (rk) {
        OpenOptions probe_options = im.options;
        probe_options.read_only = true;
        auto probe = connect(im.path, &made->key, im.kdf.page_size, probe_options);
        committed = probe && probe->probe_rc == SQLITE_OK;
    }

    KdfFile final_kdf = im.kdf;
    if (committed) final_kdf.entries = {made->entry};
    // The main connection's codec state cannot be trusted after a failed rekey: reconnect with
    // the key that works.
    const StoreKey& good_key = committed ? made->key : im.key;
    im.st = Statements{};
    auto c = connect(im.path, &good_key, im.kdf.page_size, im.options);
    if (!c || c->probe_rc != SQLITE_OK)
        return make_error(ErrorCode::kStorageIo, "store: cannot reopen after a key change");
    im.db = std::move(c->db);
    if (auto r = im.setup(false); !r) return r.error();
    if (committed) {
        im.key = made->key.clone();
        (void)sodium_mlock(im.key.expose_secret_mut().data(), kStoreKeyBytes);
        // Old-key pages still sit in the WAL until it is checkpointed and truncated.
        (void)im.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    im.kdf = final_kdf;
    // 4. Drop the credential that no longer opens the store. If this write fails, the next open
    //    finishes it.
    if (auto r = detail::write_kdf_file(side_path, final_kdf); !r && committed) return ok();
    if (!committed)
        return make_error(ErrorCode::kStorageIo,
                          "store: the key change did not complete; the old credential still opens it");
    return ok();
}

Result<void> EncounterStore::verify() const {
    SOTTO_STORE_LOCK();
    Impl& im = *impl_;
    auto fail = [](const Error& e) -> Result<void> {
        if (e.code == ErrorCode::kStorageIo || e.code == ErrorCode::kStorageCorrupt)
            return corrupt("store: integrity check failed");
        return e;
    };
    {
        auto st = Statement::prepare(im.db, "PRAGMA integrity_check");
        if (!st) return fail(st.error());
        std::size_t rows = 0;
        bool ok_row = false;
        while (true) {
            auto row = st->step();
            if (!row) return fail(row.error());
            if (!*row) break;
            ++rows;
            ok_row = st->column_text(0) == "ok";
        }
        if (rows != 1 || !ok_row) return corrupt("store: integrity check failed");
    }
    auto app = im.db.query_int("PRAGMA application_id");
    auto version = im.db.query_int("PRAGMA user_version");
    if (!app || !version || *app != detail::kApplicationId || *version != kSchemaVersion)
        return corrupt("store: integrity check failed (header)");
    // Every row must decode.
    {
        auto st = Statement::prepare(im.db, kSelectSightings);
        if (!st) return fail(st.error());
        while (true) {
            auto row = st->step();
            if (!row) return fail(row.error());
            if (!*row) break;
            if (auto s = read_sighting(*st); !s) return s.error();
        }
    }
    auto bad_keys = im.db.query_int(
        "SELECT count(*) FROM own_keys WHERE length(tek) != 16 OR rolling_period NOT BETWEEN 1 AND "
        "144 OR rolling_start < 0");
    if (!bad_keys) return fail(bad_keys.error());
    if (*bad_keys != 0) return corrupt("store: malformed own-key row");
    return ok();
}

Result<StoreStats> EncounterStore::stats() const {
    SOTTO_STORE_LOCK();
    Impl& im = *impl_;
    StoreStats s;
    struct Q {
        const char* sql;
        std::uint64_t* out;
    };
    const Q queries[] = {
        {"SELECT count(*) FROM sightings", &s.sightings},
        {"SELECT count(DISTINCT rpi) FROM sightings", &s.rpis},
        {"SELECT count(*) FROM own_keys", &s.own_keys},
        {"SELECT count(*) FROM exposure_records", &s.exposure_records},
        {"SELECT count(*) FROM processed_files", &s.processed_files},
    };
    for (const Q& q : queries) {
        auto v = im.db.query_int(q.sql);
        if (!v) return v.error();
        *q.out = static_cast<std::uint64_t>(*v);
    }
    // Days from the distinct intervals: one index seek per interval instead of a full scan.
    auto intervals = im.intervals();
    if (!intervals) return intervals.error();
    std::uint32_t last_day = 0;
    for (const core::IntervalNumber iv : *intervals) {
        const std::uint32_t day = core::day_number(iv);
        if (s.days == 0 || day != last_day) ++s.days;
        last_day = day;
    }
    return s;
}

}  // namespace sotto::store
