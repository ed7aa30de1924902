#include "fetch/spool.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <mutex>
#include <system_error>
#include <vector>

#include <sotto/bytes.hpp>

#include "core/sodium_init.hpp"

namespace sotto::fetch::detail {

bool sodium_ready() noexcept { return sotto::detail::init_sodium().has_value(); }

SpoolWriter::~SpoolWriter() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(part_.c_str());
}

bool SpoolWriter::write(std::span<const std::uint8_t> bytes) noexcept {
    sha_.update(bytes);
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t put = ::write(fd_, bytes.data() + done, bytes.size() - done);
        if (put < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        done += static_cast<std::size_t>(put);
    }
    bytes_ += bytes.size();
    return true;
}

Result<void> SpoolWriter::commit(const std::filesystem::path& final_path) {
    // No fsync: a spool file is only ever used after its SHA-256 is checked again (a pending file
    // in a later round) or right away by the caller; a file lost or torn by a power cut is
    // simply downloaded again.
    const int fd = fd_;
    fd_ = -1;
    const bool closed = ::close(fd) == 0;
    if (!closed || ::rename(part_.c_str(), final_path.c_str()) != 0) {
        return make_error(ErrorCode::kStorageIo, "spool: cannot store the downloaded file");
    }
    committed_ = true;
    return ok();
}

Result<Spool> Spool::open(std::filesystem::path dir) {
    try {
        std::error_code ec;
        if (dir.has_parent_path()) std::filesystem::create_directories(dir.parent_path(), ec);
        if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
            return make_error(ErrorCode::kStorageIo, "spool: cannot create the directory");
        }
        if (!std::filesystem::is_directory(dir, ec)) {
            return make_error(ErrorCode::kStorageIo, "spool: not a directory");
        }
        std::vector<std::filesystem::path> stale;
        for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
            if (e.path().filename().string().starts_with(".part-")) stale.push_back(e.path());
        }
        if (ec) return make_error(ErrorCode::kStorageIo, "spool: cannot list the directory");
        for (const auto& p : stale) std::filesystem::remove(p, ec);
        return Spool(std::move(dir));
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "spool: out of memory");
    } catch (...) {  // std::filesystem::filesystem_error from the directory iteration
        return make_error(ErrorCode::kStorageIo, "spool: cannot list the directory");
    }
}

Result<std::unique_ptr<SpoolWriter>> Spool::begin() const {
    try {
        std::string tmpl = (dir_ / ".part-XXXXXX").string();
        const int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
        if (fd < 0) return make_error(ErrorCode::kStorageIo, "spool: cannot create a file");
        return std::make_unique<SpoolWriter>(fd, std::filesystem::path(tmpl));
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "spool: out of memory");
    }
}

std::filesystem::path Spool::path_of(const std::array<std::uint8_t, 32>& sha256) const {
    return dir_ / (to_hex(sha256) + ".zip");
}

bool Spool::intact(const std::array<std::uint8_t, 32>& sha256, std::uint64_t bytes) const noexcept {
    try {
        const auto p = path_of(sha256);
        const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0) return false;
        struct stat st {};
        if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
            static_cast<std::uint64_t>(st.st_size) != bytes) {
            ::close(fd);
            return false;
        }
        Sha256 h;
        std::vector<std::uint8_t> buf(64 * 1024);
        while (true) {
            const ssize_t got = ::read(fd, buf.data(), buf.size());
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) {
                ::close(fd);
                if (got < 0) return false;
                break;
            }
            h.update(std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(got)));
        }
        return h.finish() == sha256;
    } catch (...) {
        return false;
    }
}

void Spool::remove(const std::array<std::uint8_t, 32>& sha256) const noexcept {
    try {
        ::unlink(path_of(sha256).c_str());
    } catch (...) {
    }
}

void Spool::remove_all_but(const std::set<std::array<std::uint8_t, 32>>& keep) const noexcept {
    try {
        std::set<std::filesystem::path> wanted;
        for (const auto& sha : keep) wanted.insert(path_of(sha).filename());
        std::vector<std::filesystem::path> stale;
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
            const auto name = e.path().filename();
            if (name.extension() == ".zip" && wanted.count(name) == 0) stale.push_back(e.path());
        }
        for (const auto& p : stale) std::filesystem::remove(p, ec);
    } catch (...) {  // best effort: a file left behind is removed next time
    }
}

}  // namespace sotto::fetch::detail
