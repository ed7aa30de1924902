#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <new>

#include <sotto/host/files.hpp>
#include <sotto/secret.hpp>

namespace sotto::host {
namespace {

// An open descriptor, closed on scope exit.
struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

// Opens `path` without blocking (a FIFO without writer would block a plain open) and checks it
// is a regular file; `owner_only` also refuses group/other permission bits.
Result<void> open_regular(const std::filesystem::path& path, bool owner_only, Fd& out) noexcept {
    out.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (out.fd < 0) return make_error(ErrorCode::kStorageIo, "file: cannot open");
    struct stat st {};
    if (::fstat(out.fd, &st) != 0) return make_error(ErrorCode::kStorageIo, "file: cannot stat");
    if (!S_ISREG(st.st_mode))
        return make_error(ErrorCode::kInvalidArgument, "file: not a regular file");
    if (owner_only && (st.st_mode & 077) != 0)
        return make_error(ErrorCode::kFailedPrecondition,
                          "file: accessible by group or others; chmod 600 it");
    return {};
}

// Reads at most `cap` bytes into `buf`; `size` is what was read. Reading `cap` bytes means the
// file may be larger: callers give one byte more than they accept.
Result<void> read_up_to(int fd, std::uint8_t* buf, std::size_t cap, std::size_t& size) noexcept {
    size = 0;
    while (size < cap) {
        const ssize_t got = ::read(fd, buf + size, cap - size);
        if (got < 0) {
            if (errno == EINTR) continue;
            return make_error(ErrorCode::kStorageIo, "file: cannot read");
        }
        if (got == 0) break;
        size += static_cast<std::size_t>(got);
    }
    return {};
}

// A stack buffer wiped when it goes out of scope.
template <std::size_t N>
struct WipedBuffer {
    std::array<std::uint8_t, N> bytes{};
    std::size_t size = 0;
    WipedBuffer() = default;
    WipedBuffer(const WipedBuffer&) = delete;
    WipedBuffer& operator=(const WipedBuffer&) = delete;
    ~WipedBuffer() { detail::secure_wipe(bytes.data(), bytes.size()); }
};

template <std::size_t N>
Result<void> read_secret(const std::filesystem::path& path, WipedBuffer<N>& buf) noexcept {
    Fd fd;
    if (auto r = open_regular(path, true, fd); !r) return r;
    if (auto r = read_up_to(fd.fd, buf.bytes.data(), N, buf.size); !r) return r;
    if (buf.size == N) return make_error(ErrorCode::kInvalidArgument, "secret file: too large");
    return {};
}

}  // namespace

Result<std::vector<std::uint8_t>> read_regular_file(const std::filesystem::path& path,
                                                    std::size_t max_bytes) noexcept {
    if (max_bytes > (std::size_t{1} << 40))
        return make_error(ErrorCode::kInvalidArgument, "file: cap above 1 TiB");
    try {
        Fd fd;
        if (auto r = open_regular(path, false, fd); !r) return r.error();
        struct stat st {};
        (void)::fstat(fd.fd, &st);
        const std::uint64_t declared = st.st_size > 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
        if (declared > max_bytes)
            return make_error(ErrorCode::kInvalidArgument, "file: larger than allowed");
        // Sized by what the file declares, one byte more to see its end; grown (up to the cap)
        // only if it grows while being read.
        std::vector<std::uint8_t> out(static_cast<std::size_t>(declared) + 1);
        std::size_t size = 0;
        for (;;) {
            std::size_t got = 0;
            if (auto r = read_up_to(fd.fd, out.data() + size, out.size() - size, got); !r)
                return r.error();
            size += got;
            if (size > max_bytes)
                return make_error(ErrorCode::kInvalidArgument, "file: larger than allowed");
            if (size < out.size()) break;  // end of file
            out.resize(std::min(out.size() * 2, max_bytes + 1));
        }
        out.resize(size);
        return out;
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "file: out of memory");
    }
}

Result<store::StoreKey> read_key_file(const std::filesystem::path& path) noexcept {
    WipedBuffer<2 * store::kStoreKeyBytes + 3> buf;  // "\r\n" allowed, one byte more detects excess
    if (auto r = read_secret(path, buf); !r) return r.error();
    std::size_t n = buf.size;
    if (n > 0 && buf.bytes[n - 1] == '\n') --n;
    if (n > 0 && buf.bytes[n - 1] == '\r') --n;
    auto key = store::StoreKey::from_hex(
        std::string_view(reinterpret_cast<const char*>(buf.bytes.data()), n));
    if (!key)
        return make_error(ErrorCode::kInvalidArgument, "key file: expected 64 hex characters");
    return std::move(*key);
}

Result<store::Passphrase> read_passphrase_file(const std::filesystem::path& path) noexcept {
    WipedBuffer<store::Passphrase::kMaxBytes + 2>
        buf;  // "\n" allowed, one byte more detects excess
    if (auto r = read_secret(path, buf); !r) {
        if (r.error().code == ErrorCode::kInvalidArgument && buf.size == buf.bytes.size())
            return make_error(ErrorCode::kInvalidArgument,
                              "passphrase file: longer than 1024 bytes");
        return r.error();
    }
    std::size_t n = buf.size;
    if (n > 0 && buf.bytes[n - 1] == '\n') --n;
    if (n == 0) return make_error(ErrorCode::kInvalidArgument, "passphrase file: empty");
    if (n > store::Passphrase::kMaxBytes)
        return make_error(ErrorCode::kInvalidArgument, "passphrase file: longer than 1024 bytes");
    return store::Passphrase::from(std::span<const std::uint8_t>(buf.bytes.data(), n));
}

Result<keyfile::ExportSigner> read_signing_key_file(const std::filesystem::path& path) noexcept {
    WipedBuffer<kMaxPrivateKeyFileBytes + 1> buf;  // one byte more detects excess
    if (auto r = read_secret(path, buf); !r) {
        if (r.error().code == ErrorCode::kInvalidArgument && buf.size == buf.bytes.size())
            return make_error(ErrorCode::kInvalidArgument, "signing key file: larger than 16 KiB");
        return r.error();
    }
    try {
        auto signer = keyfile::ExportSigner::from_pem(
            std::string_view(reinterpret_cast<const char*>(buf.bytes.data()), buf.size));
        if (!signer)
            return make_error(ErrorCode::kInvalidArgument,
                              "signing key file: not an EC P-256 private key");
        return std::move(*signer);
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "signing key file: out of memory");
    }
}

Result<void> add_pem_files(keyfile::TrustStore& trust,
                           std::span<const std::filesystem::path> pem_files,
                           std::string_view key_id, std::string_view key_version,
                           std::size_t* failed_index) noexcept {
    try {
        for (std::size_t i = 0; i < pem_files.size(); ++i) {
            if (failed_index) *failed_index = i;
            auto bytes = read_regular_file(pem_files[i], kMaxPemFileBytes);
            if (!bytes) return bytes.error();
            const std::string_view pem(reinterpret_cast<const char*>(bytes->data()), bytes->size());
            auto added = key_id.empty()
                             ? trust.add_pem_any_id(pem)
                             : trust.add_pem(std::string(key_id), std::string(key_version), pem);
            if (!added) return added.error();
        }
        return {};
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "trust store: out of memory");
    }
}

}  // namespace sotto::host
