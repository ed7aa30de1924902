#include "keyfile/zip_io.hpp"

#include <unistd.h>
#include <zip.h>

#include <limits>

namespace sotto::keyfile::detail {

namespace {

Error open_error(int code, bool from_file) {
    switch (code) {
        case ZIP_ER_NOENT:
        case ZIP_ER_OPEN:
        case ZIP_ER_READ:
        case ZIP_ER_SEEK:
            return from_file ? Error{ErrorCode::kKeyFileIo, "zip: cannot read the file"}
                             : Error{ErrorCode::kKeyFileMalformed, "zip: not a zip archive"};
        case ZIP_ER_MEMORY:
            return {ErrorCode::kOutOfMemory, "zip: out of memory"};
        default:
            return {ErrorCode::kKeyFileMalformed, "zip: not a zip archive"};
    }
}

class ZipEntrySource final : public ByteSource {
public:
    ZipEntrySource(zip_file_t* f, std::uint64_t declared) noexcept : f_(f), declared_(declared) {}
    ~ZipEntrySource() override { zip_fclose(f_); }
    ZipEntrySource(const ZipEntrySource&) = delete;
    ZipEntrySource& operator=(const ZipEntrySource&) = delete;

    Result<std::size_t> read(std::span<std::uint8_t> out) override {
        const zip_int64_t n = zip_fread(f_, out.data(), out.size());
        if (n < 0) {
            // Inflate errors, CRC mismatch at the end, a truncated archive.
            const int code = zip_error_code_zip(zip_file_get_error(f_));
            if (code == ZIP_ER_READ || code == ZIP_ER_SEEK)
                return make_error(ErrorCode::kKeyFileIo, "zip: read error");
            if (code == ZIP_ER_MEMORY)
                return make_error(ErrorCode::kOutOfMemory, "zip: out of memory");
            return make_error(ErrorCode::kKeyFileMalformed, "zip: corrupt entry data");
        }
        read_ += static_cast<std::uint64_t>(n);
        if (read_ > declared_)
            return make_error(ErrorCode::kKeyFileMalformed, "zip: entry longer than declared");
        if (n == 0 && read_ != declared_)
            return make_error(ErrorCode::kKeyFileMalformed, "zip: entry shorter than declared");
        return static_cast<std::size_t>(n);
    }

private:
    zip_file_t* f_;
    std::uint64_t declared_;
    std::uint64_t read_ = 0;
};

}  // namespace

Result<ZipReader> ZipReader::open_file(const std::filesystem::path& path, std::uint64_t max_bytes) {
    std::uint64_t size = 0;
    auto fd = open_regular_file(path, size);
    if (!fd) return fd.error();
    if (size > max_bytes) {
        ::close(*fd);
        return make_error(ErrorCode::kKeyFileTooLarge, "zip: the file is larger than the limit");
    }
    int err = 0;
    zip_t* za = zip_fdopen(*fd, ZIP_CHECKCONS, &err);  // owns the descriptor from here on success
    if (za == nullptr) {
        ::close(*fd);
        return open_error(err, true);
    }
    return ZipReader(za);
}

Result<ZipReader> ZipReader::open_memory(std::span<const std::uint8_t> bytes) {
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
    if (src == nullptr) {
        zip_error_fini(&error);
        return make_error(ErrorCode::kOutOfMemory, "zip: out of memory");
    }
    zip_t* za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &error);
    if (za == nullptr) {
        const int code = zip_error_code_zip(&error);
        zip_error_fini(&error);
        zip_source_free(src);
        return open_error(code, false);
    }
    zip_error_fini(&error);
    return ZipReader(za);
}

ZipReader::~ZipReader() {
    if (za_ != nullptr) zip_discard(za_);
}

std::uint64_t ZipReader::entry_count() const noexcept {
    const zip_int64_t n = zip_get_num_entries(za_, 0);
    return n < 0 ? 0 : static_cast<std::uint64_t>(n);
}

Result<ZipEntryInfo> ZipReader::entry(std::uint64_t index) const {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(za_, index, ZIP_FL_ENC_RAW, &st) != 0)
        return make_error(ErrorCode::kKeyFileMalformed, "zip: unreadable directory entry");
    constexpr zip_uint64_t kNeed = ZIP_STAT_NAME | ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE |
                                   ZIP_STAT_COMP_METHOD | ZIP_STAT_ENCRYPTION_METHOD;
    if ((st.valid & kNeed) != kNeed || st.name == nullptr)
        return make_error(ErrorCode::kKeyFileMalformed, "zip: incomplete directory entry");
    ZipEntryInfo e;
    e.name = st.name;
    e.size = st.size;
    e.compressed_size = st.comp_size;
    e.stored_or_deflated = st.comp_method == ZIP_CM_STORE || st.comp_method == ZIP_CM_DEFLATE;
    e.encrypted = st.encryption_method != ZIP_EM_NONE;
    return e;
}

Result<std::unique_ptr<ByteSource>> ZipReader::open_entry(std::uint64_t index,
                                                          std::uint64_t declared_size) {
    zip_file_t* f = zip_fopen_index(za_, index, 0);
    if (f == nullptr) {
        const int code = zip_error_code_zip(zip_get_error(za_));
        if (code == ZIP_ER_MEMORY) return make_error(ErrorCode::kOutOfMemory, "zip: out of memory");
        if (code == ZIP_ER_READ || code == ZIP_ER_SEEK)
            return make_error(ErrorCode::kKeyFileIo, "zip: read error");
        return make_error(ErrorCode::kKeyFileMalformed, "zip: cannot open entry");
    }
    try {
        return std::unique_ptr<ByteSource>(new ZipEntrySource(f, declared_size));
    } catch (...) {  // std::bad_alloc: the entry must not stay open
        zip_fclose(f);
        throw;
    }
}

Result<std::vector<std::uint8_t>> make_zip(std::span<const ZipEntryOut> entries) {
    if (entries.empty()) {
        // libzip writes nothing for an archive without entries; an empty zip is just the
        // end-of-central-directory record.
        std::vector<std::uint8_t> eocd(22, 0);
        eocd[0] = 'P';
        eocd[1] = 'K';
        eocd[2] = 5;
        eocd[3] = 6;
        return eocd;
    }
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* out = zip_source_buffer_create(nullptr, 0, 0, &error);
    if (out == nullptr) {
        zip_error_fini(&error);
        return make_error(ErrorCode::kOutOfMemory, "zip: out of memory");
    }
    zip_t* za = zip_open_from_source(out, ZIP_TRUNCATE, &error);
    zip_error_fini(&error);
    if (za == nullptr) {
        zip_source_free(out);
        return make_error(ErrorCode::kInternal, "zip: cannot create archive");
    }
    zip_source_keep(out);  // survive zip_close: the archive bytes are read from it afterwards
    constexpr time_t kDosEpoch = 315532800;  // 1980-01-01T00:00:00Z, like Go's archive/zip
    bool failed = false;
    for (const auto& e : entries) {
        zip_source_t* s = zip_source_buffer(za, e.bytes.data(), e.bytes.size(), 0);
        if (s == nullptr) {
            failed = true;
            break;
        }
        const zip_int64_t idx = zip_file_add(za, e.name.c_str(), s, ZIP_FL_ENC_UTF_8);
        if (idx < 0) {
            zip_source_free(s);
            failed = true;
            break;
        }
        const auto i = static_cast<zip_uint64_t>(idx);
        if (zip_set_file_compression(za, i, e.deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 9) != 0 ||
            zip_file_set_mtime(za, i, kDosEpoch, 0) != 0) {
            failed = true;
            break;
        }
    }
    if (failed || zip_close(za) != 0) {  // after a failed zip_close the archive is still open
        zip_discard(za);
        zip_source_free(out);
        return make_error(ErrorCode::kInternal, "zip: cannot write archive");
    }
    std::vector<std::uint8_t> bytes;
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_source_stat(out, &st) != 0 || (st.valid & ZIP_STAT_SIZE) == 0 ||
        zip_source_open(out) != 0) {
        zip_source_free(out);
        return make_error(ErrorCode::kInternal, "zip: cannot read back archive");
    }
    bytes.resize(static_cast<std::size_t>(st.size));
    const zip_int64_t n = zip_source_read(out, bytes.data(), bytes.size());
    zip_source_close(out);
    zip_source_free(out);
    if (n < 0 || static_cast<std::uint64_t>(n) != st.size)
        return make_error(ErrorCode::kInternal, "zip: cannot read back archive");
    return bytes;
}

}  // namespace sotto::keyfile::detail
