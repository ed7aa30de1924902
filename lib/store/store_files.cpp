// The store's files: which they are, and removing them for good ("forget me").
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "store/store_impl.hpp"

namespace sotto::store {

namespace {

// Overwrites a file with zeros and fsyncs it (best effort), then unlinks it.
Result<void> shred(const std::filesystem::path& p) {
    const int fd = ::open(p.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) return ok();
        // Cannot overwrite (e.g. a link): still remove it below.
    } else {
        struct stat st {};
        if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
            static const std::array<std::uint8_t, 65536> kZeros{};
            off_t left = st.st_size;
            off_t off = 0;
            while (left > 0) {
                const auto n = static_cast<std::size_t>(
                    std::min<off_t>(left, static_cast<off_t>(kZeros.size())));
                const ssize_t put = ::pwrite(fd, kZeros.data(), n, off);
                if (put <= 0) break;
                off += put;
                left -= put;
            }
            (void)::fsync(fd);
        }
        ::close(fd);
    }
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) return detail::error_from_errno(errno);
    return ok();
}

}  // namespace

std::vector<std::filesystem::path> EncounterStore::files(const std::filesystem::path& path) {
    return {path, detail::with_suffix(path, "-wal"), detail::with_suffix(path, "-shm"),
            detail::with_suffix(path, "-journal"), detail::kdf_path(path)};
}

Result<void> EncounterStore::destroy(const std::filesystem::path& path) {
    const auto side = detail::kdf_path(path);
    if (!detail::has_kdf_magic(side))
        return detail::not_a_store("store: no sotto key-derivation file; refusing to delete");
    // The side file goes last: a crash in between leaves it without a database, which `open`
    // treats as "no store" (never as a store to recover).
    for (const auto& f : files(path)) {
        if (f == side) continue;
        if (auto r = shred(f); !r) return r;
    }
    if (auto r = shred(side); !r) return r;
    const std::filesystem::path dir = detail::parent_dir(path);
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)::fsync(dfd);
        ::close(dfd);
    }
    return ok();
}

}  // namespace sotto::store
