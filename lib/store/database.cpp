#include "store/database.hpp"

#include <climits>

#include "store/sqlite.hpp"

namespace sotto::store::detail {

Error error_from_sqlite(int rc) noexcept {
    switch (rc & 0xff) {
        case SQLITE_NOTADB:
        case SQLITE_CORRUPT:
            return {ErrorCode::kStorageCorrupt, "store: the database is damaged"};
        case SQLITE_FULL:
            return {ErrorCode::kStorageFull, "store: disk or size limit full"};
        case SQLITE_READONLY:
            return {ErrorCode::kStorageReadOnly, "store: the location is read-only"};
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return {ErrorCode::kStorageBusy, "store: locked by another connection"};
        case SQLITE_CONSTRAINT:
            return {ErrorCode::kInvalidArgument, "store: a value violates the schema"};
        case SQLITE_NOMEM:
            return {ErrorCode::kStorageIo, "store: out of memory"};
        case SQLITE_CANTOPEN:
            return {ErrorCode::kStorageIo, "store: cannot open the database file"};
        case SQLITE_IOERR:
            return {ErrorCode::kStorageIo, "store: I/O error"};
        default:
            return {ErrorCode::kStorageIo, "store: database error"};
    }
}

void Database::Closer::operator()(sqlite3* db) const noexcept {
    // sqlite3_close_v2 defers the close until every statement is finalized; statements are owned
    // by objects that die before the Database in every user, so this closes at once.
    sqlite3_close_v2(db);
}

Result<Database> Database::open(const std::filesystem::path& path, int flags,
                                int* rc_out) noexcept {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    if (rc_out != nullptr) *rc_out = rc;
    if (rc != SQLITE_OK) {
        sqlite3_close_v2(raw);  // a handle is returned even on most failures
        return error_from_sqlite(rc);
    }
    sqlite3_extended_result_codes(raw, 1);
    return Database(raw);
}

int Database::exec_rc(const char* sql) noexcept {
    return sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
}

Result<void> Database::exec(const char* sql) noexcept {
    const int rc = exec_rc(sql);
    if (rc != SQLITE_OK) return error_from_sqlite(rc);
    return ok();
}

Result<std::int64_t> Database::query_int(const char* sql) noexcept {
    auto st = Statement::prepare(*this, sql);
    if (!st) return st.error();
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return make_error(ErrorCode::kStorageIo, "store: query returned no row");
    return st->column_int(0);
}

std::int64_t Database::changes() const noexcept { return sqlite3_changes(db_.get()); }

bool Database::autocommit() const noexcept { return sqlite3_get_autocommit(db_.get()) != 0; }

void Statement::Finalizer::operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }

Result<Statement> Statement::prepare(const Database& db, std::string_view sql) noexcept {
    if (sql.size() > static_cast<std::size_t>(INT_MAX))
        return make_error(ErrorCode::kInternal, "store: SQL too long");
    sqlite3_stmt* s = nullptr;
    const int rc =
        sqlite3_prepare_v2(db.handle(), sql.data(), static_cast<int>(sql.size()), &s, nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(s);
        return error_from_sqlite(rc);
    }
    return Statement(s);
}

namespace {
Result<void> check_bind(int rc) noexcept {
    if (rc != SQLITE_OK) return make_error(ErrorCode::kInternal, "store: bind failed");
    return ok();
}
}  // namespace

Result<void> Statement::bind(int index, std::int64_t value) noexcept {
    return check_bind(sqlite3_bind_int64(stmt_.get(), index, value));
}

Result<void> Statement::bind(int index, double value) noexcept {
    return check_bind(sqlite3_bind_double(stmt_.get(), index, value));
}

Result<void> Statement::bind(int index, std::span<const std::uint8_t> blob) noexcept {
    if (blob.size() > static_cast<std::size_t>(INT_MAX))
        return make_error(ErrorCode::kInternal, "store: blob too large");
    // A zero-length blob still needs a non-null pointer, or SQLite stores NULL.
    static const std::uint8_t kEmpty = 0;
    const void* p = blob.empty() ? &kEmpty : blob.data();
    return check_bind(
        sqlite3_bind_blob(stmt_.get(), index, p, static_cast<int>(blob.size()), SQLITE_STATIC));
}

Result<void> Statement::bind_text(int index, std::string_view text) noexcept {
    if (text.size() > static_cast<std::size_t>(INT_MAX))
        return make_error(ErrorCode::kInternal, "store: text too large");
    return check_bind(sqlite3_bind_text(stmt_.get(), index, text.data(),
                                        static_cast<int>(text.size()), SQLITE_STATIC));
}

Result<bool> Statement::step() noexcept {
    const int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    // With sqlite3_prepare_v2 the step's own code is the detailed one.
    return error_from_sqlite(rc);
}

Result<void> Statement::run() noexcept {
    while (true) {
        auto r = step();
        if (!r) return r.error();
        if (!*r) return ok();
    }
}

void Statement::reset() noexcept {
    sqlite3_reset(stmt_.get());
    sqlite3_clear_bindings(stmt_.get());
}

std::int64_t Statement::column_int(int i) const noexcept {
    return sqlite3_column_int64(stmt_.get(), i);
}

double Statement::column_double(int i) const noexcept {
    return sqlite3_column_double(stmt_.get(), i);
}

std::span<const std::uint8_t> Statement::column_blob(int i) const noexcept {
    const void* p = sqlite3_column_blob(stmt_.get(), i);
    const int n = sqlite3_column_bytes(stmt_.get(), i);
    if (p == nullptr || n <= 0) return {};
    return {static_cast<const std::uint8_t*>(p), static_cast<std::size_t>(n)};
}

std::string_view Statement::column_text(int i) const noexcept {
    const unsigned char* p = sqlite3_column_text(stmt_.get(), i);
    const int n = sqlite3_column_bytes(stmt_.get(), i);
    if (p == nullptr || n <= 0) return {};
    return {reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)};
}

bool Statement::column_is_null(int i) const noexcept {
    return sqlite3_column_type(stmt_.get(), i) == SQLITE_NULL;
}

Result<Transaction> Transaction::begin(Database& db) noexcept {
    if (auto r = db.exec("BEGIN IMMEDIATE"); !r) return r.error();
    return Transaction(&db);
}

Transaction::~Transaction() {
    if (db_ != nullptr && !db_->autocommit()) (void)db_->exec_rc("ROLLBACK");
}

Result<void> Transaction::commit() noexcept {
    if (db_ == nullptr) return make_error(ErrorCode::kInternal, "store: transaction already ended");
    const int rc = db_->exec_rc("COMMIT");
    if (rc != SQLITE_OK) {
        // The destructor rolls back whatever is still open.
        return error_from_sqlite(rc);
    }
    db_ = nullptr;
    return ok();
}

}  // namespace sotto::store::detail
