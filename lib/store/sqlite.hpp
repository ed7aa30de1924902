#pragma once
// The ONE place that includes SQLite's header.
//
// The production store (`sotto_store`) is compiled against SQLCipher with its codec API
// (sqlite3_key, sqlite3_rekey). Those symbols exist only in libsqlcipher, so `sotto_store` cannot
// link against plain libsqlite3 by accident; at run time `open` checks `PRAGMA cipher_version`
// as well.
//
// `sotto_store_plain` (built only for the benchmark's plain-SQLite comparison and for the test
// that proves the refusal) compiles the same sources against plain SQLite 3.40 with
// SOTTO_STORE_PLAIN_SQLITE defined: no codec, and `EncounterStore::open` refuses to run with
// kStorageNotEncrypted.

#if defined(SOTTO_STORE_PLAIN_SQLITE)
#include <sqlite3.h>
#else
#define SQLITE_HAS_CODEC 1
#include <sqlcipher/sqlite3.h>
#endif
