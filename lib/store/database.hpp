#pragma once
// RAII over the SQLite C API in the style of SQLiteCpp (Database, Statement, Transaction), but
// returning Result instead of throwing. Internal to lib/store.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string_view>

#include <sotto/result.hpp>

struct sqlite3;
struct sqlite3_stmt;

namespace sotto::store::detail {

/// The sotto error for a SQLite result code (primary or extended) after the store was opened:
/// NOTADB/CORRUPT -> kStorageCorrupt, FULL -> kStorageFull, READONLY -> kStorageReadOnly,
/// BUSY/LOCKED -> kStorageBusy, CONSTRAINT -> kInvalidArgument, everything else kStorageIo.
Error error_from_sqlite(int rc) noexcept;

/// An open connection. Valid once constructed; closes on destruction.
class Database {
public:
    /// `sqlite3_open_v2(path, flags)` with extended result codes on. `flags` are SQLITE_OPEN_*.
    /// On failure, returns the raw SQLite code in `rc_out` (if given) for the caller to classify.
    static Result<Database> open(const std::filesystem::path& path, int flags,
                                 int* rc_out = nullptr) noexcept;

    Database(Database&&) noexcept = default;
    Database& operator=(Database&&) noexcept = default;
    ~Database() = default;

    sqlite3* handle() const noexcept { return db_.get(); }

    /// Runs SQL without results (may hold several statements).
    Result<void> exec(const char* sql) noexcept;
    /// The raw SQLite code of `exec` (for callers that classify errors themselves).
    int exec_rc(const char* sql) noexcept;
    /// Runs a statement that yields one integer (e.g. `PRAGMA user_version`).
    Result<std::int64_t> query_int(const char* sql) noexcept;
    /// Rows changed by the last statement.
    std::int64_t changes() const noexcept;
    /// True when no transaction is open.
    bool autocommit() const noexcept;

private:
    struct Closer {
        void operator()(sqlite3* db) const noexcept;
    };
    explicit Database(sqlite3* db) noexcept : db_(db) {}
    std::unique_ptr<sqlite3, Closer> db_;
};

/// A prepared statement. Blobs and texts are bound without copying (SQLITE_STATIC): the bound
/// memory must stay valid until the statement is stepped to completion or reset. This also keeps
/// secret bytes out of SQLite's own unwiped allocations.
class Statement {
public:
    static Result<Statement> prepare(const Database& db, std::string_view sql) noexcept;

    Statement() noexcept = default;
    Statement(Statement&&) noexcept = default;
    Statement& operator=(Statement&&) noexcept = default;
    ~Statement() = default;

    Result<void> bind(int index, std::int64_t value) noexcept;
    Result<void> bind(int index, double value) noexcept;
    Result<void> bind(int index, std::span<const std::uint8_t> blob) noexcept;
    Result<void> bind_text(int index, std::string_view text) noexcept;

    /// Steps once: true when a row is available, false when done.
    Result<bool> step() noexcept;
    /// Steps to completion (for statements without rows).
    Result<void> run() noexcept;
    /// Resets for another run and clears bindings. Never fails.
    void reset() noexcept;

    std::int64_t column_int(int i) const noexcept;
    double column_double(int i) const noexcept;
    std::span<const std::uint8_t> column_blob(int i) const noexcept;
    std::string_view column_text(int i) const noexcept;
    bool column_is_null(int i) const noexcept;

    explicit operator bool() const noexcept { return stmt_ != nullptr; }

private:
    struct Finalizer {
        void operator()(sqlite3_stmt* s) const noexcept;
    };
    explicit Statement(sqlite3_stmt* s) noexcept : stmt_(s) {}
    std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
};

/// Resets a statement when leaving a scope (so bound memory is released before it dies).
class StatementReset {
public:
    explicit StatementReset(Statement& s) noexcept : s_(s) {}
    ~StatementReset() { s_.reset(); }
    StatementReset(const StatementReset&) = delete;
    StatementReset& operator=(const StatementReset&) = delete;

private:
    Statement& s_;
};

/// A write transaction (`BEGIN IMMEDIATE`: takes the write lock up front, so the busy timeout
/// applies once and a reader cannot deadlock an upgrade). Rolls back on destruction unless
/// committed; a failed rollback is ignored (SQLite may already have rolled back, e.g. on
/// SQLITE_FULL).
class Transaction {
public:
    static Result<Transaction> begin(Database& db) noexcept;
    Transaction(Transaction&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
    Transaction& operator=(Transaction&&) = delete;
    Transaction(const Transaction&) = delete;
    ~Transaction();

    Result<void> commit() noexcept;

private:
    explicit Transaction(Database* db) noexcept : db_(db) {}
    Database* db_;
};

}  // namespace sotto::store::detail
