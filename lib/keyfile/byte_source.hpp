#pragma once
// Sequential byte sources for export.bin: memory, a file, a zip entry (zip_io.hpp).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>

#include <sotto/result.hpp>

namespace sotto::keyfile::detail {

/// Opens `path` for reading without ever blocking on it: opened non-blocking (a FIFO or device
/// would otherwise hang `open` or the reads), then refused unless it is a regular file, then
/// switched back to blocking reads. Returns the descriptor (O_CLOEXEC) and stores the size in
/// `size`. kKeyFileIo when it cannot be opened or is not a regular file.
Result<int> open_regular_file(const std::filesystem::path& path, std::uint64_t& size);

/// A forward-only stream of bytes.
class ByteSource {
public:
    virtual ~ByteSource() = default;
    /// Reads up to `out.size()` bytes into `out`; returns how many, 0 only at the end.
    virtual Result<std::size_t> read(std::span<std::uint8_t> out) = 0;
};

/// Bytes held by the caller.
class MemorySource final : public ByteSource {
public:
    explicit MemorySource(std::span<const std::uint8_t> bytes) noexcept : bytes_(bytes) {}
    Result<std::size_t> read(std::span<std::uint8_t> out) override;

private:
    std::span<const std::uint8_t> bytes_;
    std::size_t pos_ = 0;
};

/// A file read with stdio, in the caller's chunk sizes.
class FileSource final : public ByteSource {
public:
    /// kKeyFileIo when the file cannot be opened or is not a regular file (never blocks on a
    /// FIFO: see open_regular_file).
    static Result<FileSource> open(const std::filesystem::path& path);
    ~FileSource() override;
    FileSource(FileSource&& o) noexcept : f_(o.f_), size_(o.size_) { o.f_ = nullptr; }
    FileSource& operator=(FileSource&&) = delete;
    FileSource(const FileSource&) = delete;
    FileSource& operator=(const FileSource&) = delete;

    /// Size of the file when it was opened.
    std::uint64_t size() const noexcept { return size_; }
    Result<std::size_t> read(std::span<std::uint8_t> out) override;

private:
    FileSource(std::FILE* f, std::uint64_t size) noexcept : f_(f), size_(size) {}
    std::FILE* f_ = nullptr;
    std::uint64_t size_ = 0;
};

}  // namespace sotto::keyfile::detail
