#include "keyfile/byte_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace sotto::keyfile::detail {

Result<std::size_t> MemorySource::read(std::span<std::uint8_t> out) {
    const std::size_t n = std::min(out.size(), bytes_.size() - pos_);
    if (n > 0) std::memcpy(out.data(), bytes_.data() + pos_, n);
    pos_ += n;
    return n;
}

Result<int> open_regular_file(const std::filesystem::path& path, std::uint64_t& size) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) return make_error(ErrorCode::kKeyFileIo, "cannot open the file");
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return make_error(ErrorCode::kKeyFileIo, "not a regular file");
    }
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        ::close(fd);
        return make_error(ErrorCode::kKeyFileIo, "cannot open the file");
    }
    size = static_cast<std::uint64_t>(st.st_size);
    return fd;
}

Result<FileSource> FileSource::open(const std::filesystem::path& path) {
    std::uint64_t size = 0;
    auto fd = open_regular_file(path, size);
    if (!fd) return fd.error();
    std::FILE* f = ::fdopen(*fd, "rb");
    if (f == nullptr) {
        ::close(*fd);
        return make_error(ErrorCode::kKeyFileIo, "cannot open the file");
    }
    return FileSource(f, size);
}

FileSource::~FileSource() {
    if (f_ != nullptr) std::fclose(f_);
}

Result<std::size_t> FileSource::read(std::span<std::uint8_t> out) {
    const std::size_t n = std::fread(out.data(), 1, out.size(), f_);
    if (n == 0 && std::ferror(f_)) return make_error(ErrorCode::kKeyFileIo, "read error");
    return n;
}

}  // namespace sotto::keyfile::detail
