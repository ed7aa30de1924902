#pragma once
// SQLCipher keying. The raw key literal x'<64 hex>' is built in a wiped fixed-size buffer, handed
// to sqlite3_key_v2 / sqlite3_rekey_v2 and wiped again; it never sits in a std::string.

#include <cstdint>

#include <sotto/result.hpp>
#include <sotto/store/credential.hpp>

namespace sotto::store::detail {

class Database;

/// True when the linked SQLite library is SQLCipher (`PRAGMA cipher_version` answers on an
/// in-memory database). Checked once per process.
bool sqlcipher_linked();

/// `PRAGMA cipher_version` on `db` is non-empty.
bool cipher_active(Database& db);

/// Keys a freshly opened connection with `key` (raw key, no KDF) and sets the page size. Must run
/// before the first read.
Result<void> apply_key(Database& db, const StoreKey& key, std::uint32_t page_size) noexcept;

/// Re-encrypts every page under `key` in one transaction. SQLCipher 3.4.1's sqlite3_rekey_v2
/// reports success even when its commit fails: callers must check the result by opening a second
/// connection with the new key.
Result<void> apply_rekey(Database& db, const StoreKey& key) noexcept;

}  // namespace sotto::store::detail
