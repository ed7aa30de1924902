#pragma once
// libzip behind small RAII types: reading entries of an archive as ByteSources, and writing
// archives in memory. Internal to sotto_keyfile (the tests use it to craft zips).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sotto/result.hpp>

#include "keyfile/byte_source.hpp"

struct zip;  // libzip's zip_t

namespace sotto::keyfile::detail {

/// What the central directory says about an entry.
struct ZipEntryInfo {
    std::string name;
    std::uint64_t size = 0;  // declared uncompressed size
    std::uint64_t compressed_size = 0;
    bool stored_or_deflated = false;  // compression method STORE or DEFLATE
    bool encrypted = false;
};

/// An archive open for reading. Valid once constructed.
class ZipReader {
public:
    /// kKeyFileIo when the file cannot be opened or is not a regular file (never blocks on a
    /// FIFO), kKeyFileTooLarge when it is larger than `max_bytes`, kKeyFileMalformed when it is
    /// not a zip.
    static Result<ZipReader> open_file(const std::filesystem::path& path, std::uint64_t max_bytes);
    /// The bytes must outlive the reader.
    static Result<ZipReader> open_memory(std::span<const std::uint8_t> bytes);

    ~ZipReader();
    ZipReader(ZipReader&& o) noexcept : za_(o.za_) { o.za_ = nullptr; }
    ZipReader& operator=(ZipReader&&) = delete;
    ZipReader(const ZipReader&) = delete;
    ZipReader& operator=(const ZipReader&) = delete;

    std::uint64_t entry_count() const noexcept;
    Result<ZipEntryInfo> entry(std::uint64_t index) const;
    /// A stream of the entry's uncompressed bytes. The source fails (kKeyFileMalformed) on a
    /// corrupt stream, a CRC mismatch, or more bytes than the entry declares.
    Result<std::unique_ptr<ByteSource>> open_entry(std::uint64_t index,
                                                   std::uint64_t declared_size);

private:
    explicit ZipReader(::zip* za) noexcept : za_(za) {}
    ::zip* za_ = nullptr;
};

/// One entry of an archive to write.
struct ZipEntryOut {
    std::string name;
    std::span<const std::uint8_t> bytes;
    bool deflate = true;
};

/// Writes an archive in memory, entries in the given order, mtime 1980-01-01.
Result<std::vector<std::uint8_t>> make_zip(std::span<const ZipEntryOut> entries);

}  // namespace sotto::keyfile::detail
