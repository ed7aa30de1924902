#pragma once
// The store's plain side file `PATH.kdf`: what must be known before the key is.
//
// SQLCipher encrypts the whole database file, so the Argon2id salt and cost cannot live inside
// it. The side file holds, per credential that can open the store, the KDF kind, its parameters,
// a salt and a key-check value (BLAKE2b keyed with the derived key). The key check is what tells
// "wrong key" from "damaged first page": with SQLCipher both surface as SQLITE_NOTADB.
//
// Layout (little-endian), 16 + 48 * n + 16 bytes:
//
//     0   8  magic "SOTTOKDF"
//     8   2  format version (1)
//     10  1  flags: bit 0 = database initialized (schema committed)
//     11  1  n, number of entries: 1, or 2 while a rekey is in flight
//     12  4  SQLCipher page size
//     16 48  entry: kind u8 (1 raw key, 2 Argon2id v1.3), 3 zero bytes, opslimit u32,
//                   memlimit u64, salt[16], check[16]
//     ...
//     end 16 BLAKE2b-128 (unkeyed) of all preceding bytes
//
// The file is replaced atomically (temporary file, fsync, rename, fsync of the directory).

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include <sotto/result.hpp>
#include <span>

#include <sotto/store/credential.hpp>

namespace sotto::store::detail {

enum class KdfKind : std::uint8_t { kRawKey = 1, kArgon2id13 = 2 };

inline constexpr std::size_t kSaltBytes = 16;
inline constexpr std::size_t kCheckBytes = 16;
inline constexpr std::uint16_t kKdfFileVersion = 1;
inline constexpr std::uint32_t kDefaultPageSize = 4096;

struct KdfEntry {
    KdfKind kind = KdfKind::kRawKey;
    std::uint32_t opslimit = 0;  // Argon2id only
    std::uint64_t memlimit = 0;  // Argon2id only, bytes
    std::array<std::uint8_t, kSaltBytes> salt{};
    std::array<std::uint8_t, kCheckBytes> check{};
};

struct KdfFile {
    bool initialized = false;
    std::uint32_t page_size = kDefaultPageSize;
    std::vector<KdfEntry> entries;  // 1 or 2
};

/// `PATH.kdf` for the database at `PATH`.
std::filesystem::path kdf_path(const std::filesystem::path& db);

/// The error for a failed system call on the store's files: EROFS/EACCES/EPERM ->
/// kStorageReadOnly, ENOSPC/EDQUOT/EFBIG -> kStorageFull, anything else kStorageIo.
Error error_from_errno(int err) noexcept;

/// Reads and checks the side file (a regular file only, opened without blocking; at most its
/// largest size is read). nullopt when it does not exist. kStorageNotAStore for a file
/// without the magic, kStorageNewerSchema for a newer format version, kStorageCorrupt for a
/// damaged one (checksum, sizes, parameters out of range).
Result<std::optional<KdfFile>> read_kdf_file(const std::filesystem::path& p);

/// Parses and checks the bytes of a side file (the pure part of `read_kdf_file`; fuzzed).
/// kStorageNotAStore without the magic, kStorageNewerSchema for a newer format version,
/// kStorageCorrupt for anything damaged.
Result<KdfFile> parse_kdf_file(std::span<const std::uint8_t> bytes);

/// True when `p` exists and starts with the side file's magic (checksum not checked).
bool has_kdf_magic(const std::filesystem::path& p);

/// Writes the side file atomically (mode 0600).
Result<void> write_kdf_file(const std::filesystem::path& p, const KdfFile& f);

/// Refuses Argon2id costs outside what the store accepts (kInvalidArgument).
Result<void> check_kdf_params(const KdfParams& params) noexcept;

/// A fresh entry for `credential` (random salt), with the key it derives.
struct NewEntry {
    KdfEntry entry;
    StoreKey key;
};
Result<NewEntry> make_entry(const Credential& credential);

/// The entry of `f` that `credential` opens, with the derived key. kStorageWrongKey when none
/// does (with a specific text when the credential is of the other kind).
struct Unlocked {
    std::size_t index = 0;
    StoreKey key;
};
Result<Unlocked> unlock(const KdfFile& f, const Credential& credential);

/// The key a raw-key credential gives for a store without side file (no check possible).
StoreKey raw_key_of(const Credential& credential) noexcept;

}  // namespace sotto::store::detail
