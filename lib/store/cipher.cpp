#include "store/cipher.hpp"

#include <sodium.h>

#include <cstdio>
#include <string>

#include "store/database.hpp"
#include "store/sqlite.hpp"

namespace sotto::store::detail {
namespace {

#if !defined(SOTTO_STORE_PLAIN_SQLITE)
// "x'" + 64 hex digits + "'" (67 characters) and a terminating NUL.
constexpr std::size_t kLiteralChars = 2 + 2 * kStoreKeyBytes + 1;
using KeyLiteral = SecretBytes<kLiteralChars + 1, struct KeyLiteralTag>;

KeyLiteral key_literal(const StoreKey& key) noexcept {
    KeyLiteral lit;
    auto out = lit.expose_secret_mut();
    out[0] = 'x';
    out[1] = '\'';
    // sodium_bin2hex is constant-time and writes 64 digits plus a NUL.
    sodium_bin2hex(reinterpret_cast<char*>(out.data() + 2), 2 * kStoreKeyBytes + 1,
                   key.expose_secret().data(), kStoreKeyBytes);
    out[kLiteralChars - 1] = '\'';
    out[kLiteralChars] = 0;
    return lit;
}
#endif

std::string query_text(Database& db, const char* sql) {
    auto st = Statement::prepare(db, sql);
    if (!st) return {};
    auto row = st->step();
    if (!row || !*row) return {};
    return std::string(st->column_text(0));
}

}  // namespace

bool sqlcipher_linked() {
    static const bool linked = [] {
        auto db = Database::open(":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
        return db && !query_text(*db, "PRAGMA cipher_version").empty();
    }();
    return linked;
}

bool cipher_active(Database& db) { return !query_text(db, "PRAGMA cipher_version").empty(); }

#if defined(SOTTO_STORE_PLAIN_SQLITE)

Result<void> apply_key(Database&, const StoreKey&, std::uint32_t) noexcept {
    return make_error(ErrorCode::kStorageNotEncrypted, "store: SQLite has no SQLCipher codec");
}

Result<void> apply_rekey(Database&, const StoreKey&) noexcept {
    return make_error(ErrorCode::kStorageNotEncrypted, "store: SQLite has no SQLCipher codec");
}

#else

Result<void> apply_key(Database& db, const StoreKey& key, std::uint32_t page_size) noexcept {
    {
        const KeyLiteral lit = key_literal(key);
        const int rc = sqlite3_key_v2(db.handle(), "main", lit.expose_secret().data(),
                                      static_cast<int>(kLiteralChars));
        if (rc != SQLITE_OK) return error_from_sqlite(rc);
    }  // the literal is wiped here
    char pragma[64];
    std::snprintf(pragma, sizeof pragma, "PRAGMA cipher_page_size = %u", page_size);
    return db.exec(pragma);
}

Result<void> apply_rekey(Database& db, const StoreKey& key) noexcept {
    const KeyLiteral lit = key_literal(key);
    const int rc = sqlite3_rekey_v2(db.handle(), "main", lit.expose_secret().data(),
                                    static_cast<int>(kLiteralChars));
    if (rc != SQLITE_OK) return error_from_sqlite(rc);
    return ok();
}

#endif

}  // namespace sotto::store::detail
