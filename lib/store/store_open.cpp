// EncounterStore::open: a new store, an existing one with its key-derivation side file, or one
// whose side file is gone (a raw key may still open it).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>

#include "core/sodium_init.hpp"
#include "store/sqlite.hpp"
#include "store/store_access.hpp"
#include "store/store_impl.hpp"

namespace sotto::store {

using detail::corrupt;
using detail::KdfFile;
using detail::not_a_store;

namespace {

constexpr char kSqliteHeader[16] = "SQLite format 3";  // 15 characters and a NUL
constexpr std::uint32_t kMaxRetentionDays = 3650;
constexpr std::uint32_t kMaxCacheKib = 1 << 20;

Result<void> check_options(const OpenOptions& o) {
    if (o.retention_days < 1 || o.retention_days > kMaxRetentionDays)
        return make_error(ErrorCode::kInvalidArgument, "store: retention_days must be 1..3650");
    if (o.cache_kib > kMaxCacheKib)
        return make_error(ErrorCode::kInvalidArgument, "store: cache_kib too large");
    if (o.busy_timeout_ms > static_cast<std::uint32_t>(std::numeric_limits<int>::max()))
        return make_error(ErrorCode::kInvalidArgument, "store: busy_timeout_ms too large");
    return ok();
}

void remove_quietly(const std::filesystem::path& p) {
    std::error_code ec;
    std::filesystem::remove(p, ec);
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

// An exclusive flock on a directory, released when destroyed.
class DirLock {
public:
    DirLock() = default;
    DirLock(const DirLock&) = delete;
    DirLock& operator=(const DirLock&) = delete;
    ~DirLock() {
        if (fd_ >= 0) ::close(fd_);
    }
    Result<void> acquire(const std::filesystem::path& dir) {
        fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd_ < 0) {
            if (errno == ENOENT)
                return make_error(ErrorCode::kStorageIo, "store: the directory does not exist");
            return detail::error_from_errno(errno);
        }
        while (::flock(fd_, LOCK_EX) != 0) {
            if (errno != EINTR) return detail::error_from_errno(errno);
        }
        return ok();
    }

private:
    int fd_ = -1;
};

// kStorageNotAStore when the file starts with the plain SQLite header.
Result<void> refuse_plain_sqlite(const std::filesystem::path& path) {
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
    return ok();
}

}  // namespace

// A new store: side file first (not yet marked initialized), then the database, then the side
// file marked initialized. Any failure removes what this call created.
auto EncounterStore::Impl::create_store(const std::filesystem::path& path,
                                        const Credential& credential, const OpenOptions& options)
    -> Result<ImplPtr> {
    const std::filesystem::path side_path = detail::kdf_path(path);
    const std::filesystem::path dir = detail::parent_dir(path);
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
    auto cleanup = [&](Error e) -> Result<ImplPtr> {
        if (!created || *created) remove_quietly(path);
        remove_quietly(detail::with_suffix(path, "-wal"));
        remove_quietly(detail::with_suffix(path, "-shm"));
        remove_quietly(detail::with_suffix(path, "-journal"));
        remove_quietly(side_path);
        return e;
    };
    if (!created) return cleanup(created.error());
    if (!*created && ::chmod(path.c_str(), 0600) != 0) {
        // An existing empty file is adopted: it must not stay readable by others.
        return cleanup(detail::error_from_errno(errno));
    }
    auto c = detail::connect(path, &made->key, kf.page_size, options);
    if (!c) return cleanup(c.error());
    if (c->probe_rc != SQLITE_OK) return cleanup(detail::probe_error(c->probe_rc, path));
    auto impl =
        std::make_unique<Impl>(path, options, kf, std::move(made->key), std::move(c->db), true);
    if (auto r = impl->setup(true); !r) {
        impl.reset();
        return cleanup(r.error());
    }
    impl->kdf.initialized = true;
    if (auto r = detail::write_kdf_file(side_path, impl->kdf); !r) {
        impl.reset();
        return cleanup(r.error());
    }
    return impl;
}

// No side file: a raw key may still open the store (the side file is then rewritten); a
// passphrase cannot (its salt is gone), and nothing tells a foreign file from a wrong key.
auto EncounterStore::Impl::open_without_side_file(const std::filesystem::path& path,
                                                  const Credential& credential,
                                                  const OpenOptions& options) -> Result<ImplPtr> {
    if (credential.is_passphrase())
        return not_a_store("store: not a sotto store (no key-derivation file)");
    StoreKey key = detail::raw_key_of(credential);
    auto c = detail::connect(path, &key, detail::kDefaultPageSize, options);
    if (!c) return c.error();
    if ((c->probe_rc & 0xff) == SQLITE_NOTADB)
        return not_a_store("store: not a sotto store, or a wrong key and no key-derivation file");
    if (c->probe_rc != SQLITE_OK) return detail::probe_error(c->probe_rc, path);
    KdfFile kf;
    kf.initialized = true;
    auto impl = std::make_unique<Impl>(path, options, kf, std::move(key), std::move(c->db), true);
    if (auto r = impl->setup(false); !r) return r.error();
    if (!options.read_only) {
        auto made = detail::make_entry(credential);
        if (!made) return made.error();
        impl->kdf.entries = {made->entry};
        if (auto r = detail::write_kdf_file(detail::kdf_path(path), impl->kdf); !r)
            return r.error();
    }
    return impl;
}

// The usual case: the side file names the credential(s) that open the database.
auto EncounterStore::Impl::open_with_side_file(const std::filesystem::path& path,
                                               const KdfFile& side, const Credential& credential,
                                               const OpenOptions& options) -> Result<ImplPtr> {
    auto unlocked = detail::unlock(side, credential);
    if (!unlocked) return unlocked.error();
    auto c = detail::connect(path, &unlocked->key, side.page_size, options);
    if (!c) return c.error();
    if (c->probe_rc != SQLITE_OK) {
        if ((c->probe_rc & 0xff) == SQLITE_NOTADB && side.entries.size() == 2)
            return make_error(ErrorCode::kStorageWrongKey,
                              "store: a key change was interrupted; the other credential opens it");
        return detail::probe_error(c->probe_rc, path);
    }
    KdfFile kf = side;
    kf.entries = {side.entries[unlocked->index]};
    bool rewrite = side.entries.size() != 1;
    auto impl =
        std::make_unique<Impl>(path, options, kf, std::move(unlocked->key), std::move(c->db), true);
    // A store whose creation was interrupted (side file not yet marked initialized) may hold an
    // empty database: finish creating it.
    if (auto r = impl->setup(!side.initialized); !r) return r.error();
    if (!side.initialized && !options.read_only) {
        impl->kdf.initialized = true;
        rewrite = true;
    }
    if (rewrite && !options.read_only) {
        // Finish an interrupted rekey: the credential that decrypts the database is the one left.
        if (auto r = detail::write_kdf_file(detail::kdf_path(path), impl->kdf); !r)
            return r.error();
    }
    return impl;
}

void EncounterStore::Impl::remove_new_side_files(const std::filesystem::path& path) noexcept {
    std::error_code ec;
    const auto wal = detail::with_suffix(path, "-wal");
    if (std::filesystem::exists(wal, ec) && std::filesystem::file_size(wal, ec) != 0) return;
    std::filesystem::remove(wal, ec);
    std::filesystem::remove(detail::with_suffix(path, "-shm"), ec);
}

auto EncounterStore::Impl::open_store(const std::filesystem::path& path,
                                      const Credential& credential, const OpenOptions& options,
                                      bool creation_locked) -> Result<ImplPtr> {
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
        if (auto r = refuse_plain_sqlite(path); !r) return r.error();
    }

    const bool empty_file = exists && st.st_size == 0;
    const bool uninitialized = empty_file && (!side || !side->initialized);
    // Creating, or finishing a creation (side file not yet marked initialized): two processes
    // doing this at once take turns on a directory lock, and the second then finds the store
    // the first created and opens it.
    const bool creating = !exists || uninitialized || (side && !side->initialized);
    if (creating && options.create_if_missing && !options.read_only && !creation_locked) {
        DirLock lock;
        if (auto r = lock.acquire(detail::parent_dir(path)); !r) return r.error();
        return open_store(path, credential, options, true);
    }
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
        return create_store(path, credential, options);
    }
    std::error_code ec;
    const bool side_files_existed =
        std::filesystem::exists(detail::with_suffix(path, "-wal"), ec) ||
        std::filesystem::exists(detail::with_suffix(path, "-shm"), ec);
    auto opened = side ? open_with_side_file(path, *side, credential, options)
                       : open_without_side_file(path, credential, options);
    if (opened && !options.read_only) {
        // Before this process writes anything: what is stored now was written under earlier
        // clocks, so it may anchor the clock check (EncounterStore::apply_retention).
        if (auto r = (*opened)->init_clock_anchor(); !r) return r.error();
    }
    if (options.read_only && !side_files_existed) {
        if (!opened) {
            remove_new_side_files(path);  // the store is unusable: leave no trace of the attempt
        } else {
            (*opened)->side_files_new = true;
        }
    }
    return opened;
}

Result<EncounterStore> EncounterStore::open(const std::filesystem::path& path,
                                            Credential credential, const OpenOptions& options) {
    try {
        auto impl = Impl::open_store(path, credential, options);
        if (!impl) return impl.error();
        return EncounterStore(std::move(*impl));
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "store: out of memory");
    } catch (...) {
        return make_error(ErrorCode::kInternal, "store: unexpected exception");
    }
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

detail::Database& detail::StoreAccess::database(EncounterStore& store) noexcept {
    return store.impl_->db;
}

EncounterStore::EncounterStore(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
EncounterStore::EncounterStore(EncounterStore&&) noexcept = default;
EncounterStore& EncounterStore::operator=(EncounterStore&&) noexcept = default;
EncounterStore::~EncounterStore() = default;

std::uint32_t EncounterStore::retention_days() const noexcept {
    return impl_ ? impl_->options.retention_days : 0;
}

}  // namespace sotto::store
