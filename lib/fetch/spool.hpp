#pragma once
// The spool directory: downloaded files named by the SHA-256 of their content, written through
// a temporary ".part-" file that is renamed only when the transfer completed.

#include <array>
#include <cstdint>
#include <filesystem>
#include <set>
#include <span>
#include <string>

#include <sotto/result.hpp>

#include "fetch/sha256.hpp"

namespace sotto::fetch::detail {

/// One file being written. Removed on destruction unless committed.
class SpoolWriter {
public:
    SpoolWriter(int fd, std::filesystem::path part) noexcept : fd_(fd), part_(std::move(part)) {}
    ~SpoolWriter();
    SpoolWriter(const SpoolWriter&) = delete;
    SpoolWriter& operator=(const SpoolWriter&) = delete;

    /// Appends and hashes. False on a write error (disk full).
    bool write(std::span<const std::uint8_t> bytes) noexcept;
    std::uint64_t bytes() const noexcept { return bytes_; }
    /// The digest of everything written; call once.
    std::array<std::uint8_t, 32> finish() noexcept { return sha_.finish(); }
    /// Closes and renames to `final_path` (no fsync: see spool.cpp). kStorageIo on failure (the
    /// part file is removed).
    Result<void> commit(const std::filesystem::path& final_path);

private:
    int fd_;
    std::filesystem::path part_;
    Sha256 sha_;
    std::uint64_t bytes_ = 0;
    bool committed_ = false;
};

class Spool {
public:
    /// Creates `dir` (mode 0700) if needed and removes stale ".part-" files. kStorageIo.
    static Result<Spool> open(std::filesystem::path dir);

    /// A new part file. kStorageIo.
    Result<std::unique_ptr<SpoolWriter>> begin() const;
    /// Where a file with this content lives.
    std::filesystem::path path_of(const std::array<std::uint8_t, 32>& sha256) const;
    /// True when the file for `sha256` exists, has `bytes` bytes and hashes to `sha256`.
    bool intact(const std::array<std::uint8_t, 32>& sha256, std::uint64_t bytes) const noexcept;
    /// Removes the file for `sha256` (no error if missing).
    void remove(const std::array<std::uint8_t, 32>& sha256) const noexcept;
    /// Removes every downloaded file whose content is not in `keep` (best effort).
    void remove_all_but(const std::set<std::array<std::uint8_t, 32>>& keep) const noexcept;

private:
    explicit Spool(std::filesystem::path dir) : dir_(std::move(dir)) {}
    std::filesystem::path dir_;
};

}  // namespace sotto::fetch::detail
