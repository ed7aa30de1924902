#pragma once
// The inside of EncounterStore, shared by the files that implement it (one per concern:
// store_open, store_connection, store_files, store_sightings, store_own_keys, store_records,
// store_maintenance, store_rekey). Internal to lib/store.

#include <sotto/store/encounter_store.hpp>

#include <sodium.h>

#include <filesystem>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <utility>

#include "store/cipher.hpp"
#include "store/database.hpp"
#include "store/kdf_file.hpp"
#include "store/row_codec.hpp"

namespace sotto::store {

/// The store's prepared statements (the hot paths of ingest and range reads).
struct Statements {
    detail::Statement insert_sighting;
    detail::Statement select_sighting;
    detail::Statement update_sighting;
    detail::Statement delete_sighting;
    detail::Statement sibling_sightings;
    detail::Statement count_aems;
    detail::Statement range_sightings;
    detail::Statement count_range;
    detail::Statement next_interval;
};

struct EncounterStore::Impl {
    Impl(std::filesystem::path p, const OpenOptions& o, detail::KdfFile k, StoreKey key_in,
         detail::Database d, bool enc)
        : path(std::move(p)),
          options(o),
          kdf(std::move(k)),
          key(std::move(key_in)),
          db(std::move(d)),
          encrypted(enc) {
        // Best effort: RLIMIT_MEMLOCK is small; on Linux this also excludes the key from core
        // dumps.
        (void)sodium_mlock(key.expose_secret_mut().data(), kStoreKeyBytes);
    }
    ~Impl() {
        st = Statements{};
        {
            detail::Database closing = std::move(db);  // closes the connection here
        }
        if (drop_side_files) remove_new_side_files(path);
        (void)sodium_munlock(key.expose_secret_mut().data(), kStoreKeyBytes);  // also wipes
    }
    /// Removes `-wal` (only when empty) and `-shm` of `path`: for side files that a read-only
    /// open of a damaged store created (store_open.cpp).
    static void remove_new_side_files(const std::filesystem::path& path) noexcept;
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    using ImplPtr = std::unique_ptr<Impl>;
    /// EncounterStore::open without its exception guard (store_open.cpp).
    static Result<ImplPtr> open_store(const std::filesystem::path& path,
                                      const Credential& credential, const OpenOptions& options,
                                      bool creation_locked = false);
    static Result<ImplPtr> create_store(const std::filesystem::path& path,
                                        const Credential& credential, const OpenOptions& options);
    static Result<ImplPtr> open_without_side_file(const std::filesystem::path& path,
                                                  const Credential& credential,
                                                  const OpenOptions& options);
    static Result<ImplPtr> open_with_side_file(const std::filesystem::path& path,
                                               const detail::KdfFile& side,
                                               const Credential& credential,
                                               const OpenOptions& options);

    /// Checks the header, sets the pragmas, migrates and prepares (store_connection.cpp).
    Result<void> setup(bool allow_init);
    Result<void> prepare();
    /// The body of EncounterStore::verify (store_maintenance.cpp).
    static Result<void> verify_store(Impl& im);
    /// Returns free pages to the file system and truncates the WAL.
    Result<void> compact();
    /// The clock anchor (store_clock.cpp): `store_meta` row `clock_anchor`, Unix seconds.
    static constexpr char kClockAnchorName[] = "clock_anchor";
    /// The erase mark (store_maintenance.cpp): `store_meta` row `erased_at_ms`, Unix ms.
    static constexpr char kErasedAtName[] = "erased_at_ms";
    Result<std::optional<std::int64_t>> read_clock_anchor();
    /// max(end of the newest sighting's interval, newest own key's creation, last retention run).
    Result<std::optional<std::int64_t>> newest_data_time();
    /// Sets the anchor from the data already stored when there is none (a writable open, before
    /// anything is written).
    Result<void> init_clock_anchor();
    /// anchor = max(anchor, t); with `exact`, anchor = t (a confirmed run repairs a bad anchor).
    Result<void> advance_clock_anchor(std::int64_t t, bool exact = false);
    /// apply_retention's clock check: kClockSuspect when `now` lies more than
    /// kMaxClockJumpSeconds from the anchor (or, without one, from the newest data), either way,
    /// unless `confirmed`.
    Result<void> judge_clock(std::int64_t now, bool confirmed);
    /// Distinct sighting intervals, ascending (store_sightings.cpp).
    Result<std::vector<core::IntervalNumber>> intervals();
    Result<void> writable() const {
        if (options.read_only)
            return make_error(ErrorCode::kStorageReadOnly, "store: opened read-only");
        return ok();
    }

    mutable std::mutex mu;
    std::filesystem::path path;
    OpenOptions options;
    detail::KdfFile
        kdf;       // the side file as on disk (no entries in the unencrypted benchmark build)
    StoreKey key;  // current key: needed to reconnect after a failed rekey
    detail::Database db;
    bool encrypted = true;
    Statements st;  // declared after db: finalized before the connection closes
    /// Read-only open that created `-wal`/`-shm` (they did not exist before).
    bool side_files_new = false;
    /// Remove them on close: `verify` found the store damaged (nothing will use them).
    bool drop_side_files = false;
};

namespace detail {

/// Runs `fn(impl)` under the store's mutex: the one door of every public call after `open`.
/// kFailedPrecondition on a moved-from store; kOutOfMemory when an allocation fails (an open
/// transaction rolls back as its guard unwinds, so nothing stored is lost); kInternal for any
/// other exception. No exception leaves.
template <class ImplPtr, class Fn>
auto guarded(const ImplPtr& impl, Fn&& fn) noexcept -> decltype(fn(*impl)) {
    if (!impl) return make_error(ErrorCode::kFailedPrecondition, "store: moved-from store");
    try {
        std::lock_guard<std::mutex> lock(impl->mu);
        return fn(*impl);
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "store: out of memory");
    } catch (...) {
        return make_error(ErrorCode::kInternal, "store: unexpected exception");
    }
}

// ---- errors (store_connection.cpp) -----------------------------------------------------------

Unexpected<Error> not_a_store(const char* what = "store: not a sotto store");
Unexpected<Error> corrupt(const char* what = "store: the database is damaged");

std::filesystem::path parent_dir(const std::filesystem::path& p);
std::filesystem::path with_suffix(const std::filesystem::path& p, const char* suffix);

/// Maps an error seen while opening: I/O failures in a location we cannot write are
/// kStorageReadOnly (SQLite needs to create -wal/-shm even to read a WAL database).
Error refine(Error e, const std::filesystem::path& p);
Error error_from_open_rc(int rc, const std::filesystem::path& p);

/// A fresh connection and the result of reading its first page.
struct Connected {
    Database db;
    int probe_rc = 0;  // SQLITE_OK when the first page could be read and decrypted
};

/// Opens the existing file, keys it and reads the schema (the first page): the probe tells a key
/// that decrypts from one that does not (SQLITE_NOTADB), and a damaged file (SQLITE_CORRUPT).
Result<Connected> connect(const std::filesystem::path& p, const StoreKey* key,
                          std::uint32_t page_size, const OpenOptions& o);
/// The error for a failed probe.
Error probe_error(int rc, const std::filesystem::path& p);

// ---- rows (store_sightings.cpp) --------------------------------------------------------------

/// Column order of every sightings read.
inline constexpr char kSelectSightings[] = "SELECT interval, rpi, data FROM sightings";
Result<void> read_sighting_into(const Statement& st, core::Sighting& out);
Result<core::Sighting> read_sighting(const Statement& st);

// ---- results (store_records.cpp, store_publications.cpp) -------------------------------------
// Each writes inside the caller's open transaction (none of its own) and validates nothing.

Result<void> insert_exposure_records(Database& db, std::span<const ExposureRecord> records);
Result<void> insert_key_publications(Database& db,
                                     std::span<const core::KeyPublication> publications);

}  // namespace detail
}  // namespace sotto::store
