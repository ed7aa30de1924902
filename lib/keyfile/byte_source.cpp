#include "keyfile/byte_source.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>

namespace sotto::keyfile::detail {

Result<std::size_t> MemorySource::read(std::span<std::uint8_t> out) {
    const std::size_t n = std::min(out.size(), bytes_.size() - pos_);
    if (n > 0) std::memcpy(out.data(), bytes_.data() + pos_, n);
    pos_ += n;
    return n;
}

Result<FileSource> FileSource::open(const std::filesystem::path& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return make_error(ErrorCode::kKeyFileIo, "cannot open the file");
    struct stat st {};
    if (::fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        std::fclose(f);
        return make_error(ErrorCode::kKeyFileIo, "not a regular file");
    }
    return FileSource(f, static_cast<std::uint64_t>(st.st_size));
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
