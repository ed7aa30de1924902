#include "store/kdf_file.hpp"

#include "core/sodium_init.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sotto::store::detail {
namespace {

constexpr std::array<std::uint8_t, 8> kMagic = {'S', 'O', 'T', 'T', 'O', 'K', 'D', 'F'};
constexpr std::size_t kHeaderBytes = 16;
constexpr std::size_t kEntryBytes = 48;
constexpr std::size_t kTrailerBytes = 16;
constexpr std::size_t kMaxFileBytes = kHeaderBytes + 2 * kEntryBytes + kTrailerBytes;
// Key check: BLAKE2b-128 keyed with the derived key over this label and the entry's salt.
constexpr char kCheckLabel[] = "sotto-store key check v1";

// Upper bounds for Argon2id parameters read from a file (a crafted side file must not make us
// allocate gigabytes or spin for minutes): libsodium's SENSITIVE level.
constexpr std::uint64_t kMaxOpslimit = crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE;
constexpr std::uint64_t kMaxMemlimit = crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE;

void put_u16(std::uint8_t* p, std::uint16_t v) {
    p[0] = static_cast<std::uint8_t>(v);
    p[1] = static_cast<std::uint8_t>(v >> 8);
}
void put_u32(std::uint8_t* p, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put_u64(std::uint8_t* p, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint16_t get_u16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
std::uint32_t get_u32(const std::uint8_t* p) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}
std::uint64_t get_u64(const std::uint8_t* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

std::array<std::uint8_t, kCheckBytes> key_check(const StoreKey& key,
                                                const std::array<std::uint8_t, kSaltBytes>& salt) {
    std::array<std::uint8_t, sizeof kCheckLabel - 1 + kSaltBytes> msg{};
    std::memcpy(msg.data(), kCheckLabel, sizeof kCheckLabel - 1);
    std::memcpy(msg.data() + sizeof kCheckLabel - 1, salt.data(), kSaltBytes);
    std::array<std::uint8_t, kCheckBytes> out{};
    crypto_generichash(out.data(), out.size(), msg.data(), msg.size(), key.expose_secret().data(),
                       key.expose_secret().size());
    return out;
}

Result<StoreKey> derive(const Credential& c, const KdfEntry& e) {
    if (e.kind == KdfKind::kRawKey) {
        if (c.raw() == nullptr)
            return make_error(ErrorCode::kStorageWrongKey,
                              "store: this store is opened with a raw key, not a passphrase");
        return c.raw()->clone();
    }
    if (c.pass() == nullptr)
        return make_error(ErrorCode::kStorageWrongKey,
                          "store: this store is opened with a passphrase, not a raw key");
    StoreKey key;
    const auto pw = c.pass()->expose_secret();
    auto out = key.expose_secret_mut();
    if (crypto_pwhash(out.data(), out.size(), reinterpret_cast<const char*>(pw.data()), pw.size(),
                      e.salt.data(), e.opslimit, static_cast<std::size_t>(e.memlimit),
                      crypto_pwhash_ALG_ARGON2ID13) != 0)
        return make_error(ErrorCode::kCryptoFailure, "store: Argon2id failed (out of memory)");
    return key;
}

bool valid_page_size(std::uint32_t s) { return s >= 512 && s <= 65536 && (s & (s - 1)) == 0; }

class Fd {
public:
    explicit Fd(int fd) noexcept : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const noexcept { return fd_; }
    int release() noexcept { return std::exchange(fd_, -1); }

private:
    int fd_;
};

}  // namespace

std::filesystem::path kdf_path(const std::filesystem::path& db) {
    std::filesystem::path p = db;
    p += ".kdf";
    return p;
}

Error error_from_errno(int err) noexcept {
    switch (err) {
        case EROFS:
        case EACCES:
        case EPERM:
            return {ErrorCode::kStorageReadOnly, "store: the location is read-only"};
        case ENOSPC:
        case EDQUOT:
        case EFBIG:
            return {ErrorCode::kStorageFull, "store: disk or size limit full"};
        default:
            return {ErrorCode::kStorageIo, "store: I/O error on a store file"};
    }
}

Result<std::optional<KdfFile>> read_kdf_file(const std::filesystem::path& p) {
    // Non-blocking: a FIFO in its place must not hang the open or the read.
    Fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY));
    if (fd.get() < 0) {
        if (errno == ENOENT) return std::optional<KdfFile>{};
        if (errno == ELOOP)
            return make_error(ErrorCode::kStorageNotAStore, "store: key-derivation file is a link");
        if (errno == EACCES || errno == EPERM)
            return make_error(ErrorCode::kStorageIo, "store: no permission to read a store file");
        return error_from_errno(errno);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        return make_error(ErrorCode::kStorageNotAStore,
                          "store: key-derivation file is not a regular file");
    std::array<std::uint8_t, kMaxFileBytes + 1> buf{};
    std::size_t n = 0;
    while (n < buf.size()) {
        const ssize_t got = ::read(fd.get(), buf.data() + n, buf.size() - n);
        if (got < 0) {
            if (errno == EINTR) continue;
            return error_from_errno(errno);
        }
        if (got == 0) break;
        n += static_cast<std::size_t>(got);
    }
    auto f = parse_kdf_file(std::span<const std::uint8_t>(buf.data(), n));
    if (!f) return f.error();
    return std::optional<KdfFile>(std::move(*f));
}

Result<KdfFile> parse_kdf_file(std::span<const std::uint8_t> bytes) {
    if (bytes.size() > kMaxFileBytes)
        return make_error(ErrorCode::kStorageCorrupt, "store: key-derivation file is damaged");
    std::array<std::uint8_t, kMaxFileBytes + 1> buf{};
    const std::size_t n = bytes.size();
    if (n > 0) std::memcpy(buf.data(), bytes.data(), n);
    if (n < kMagic.size() || std::memcmp(buf.data(), kMagic.data(), kMagic.size()) != 0)
        return make_error(ErrorCode::kStorageNotAStore, "store: not a sotto store (key file)");
    if (n < kHeaderBytes)
        return make_error(ErrorCode::kStorageCorrupt, "store: key-derivation file is truncated");
    const std::uint16_t version = get_u16(buf.data() + 8);
    if (version > kKdfFileVersion)
        return make_error(ErrorCode::kStorageNewerSchema,
                          "store: key-derivation file written by a newer sotto");
    const std::size_t count = buf[11];
    if (version == 0 || count < 1 || count > 2 ||
        n != kHeaderBytes + count * kEntryBytes + kTrailerBytes)
        return make_error(ErrorCode::kStorageCorrupt, "store: key-derivation file is damaged");
    std::array<std::uint8_t, kTrailerBytes> sum{};
    crypto_generichash(sum.data(), sum.size(), buf.data(), n - kTrailerBytes, nullptr, 0);
    if (sodium_memcmp(sum.data(), buf.data() + n - kTrailerBytes, kTrailerBytes) != 0)
        return make_error(ErrorCode::kStorageCorrupt, "store: key-derivation file is damaged");

    KdfFile f;
    f.initialized = (buf[10] & 1) != 0;
    f.page_size = get_u32(buf.data() + 12);
    if (!valid_page_size(f.page_size) || (buf[10] & ~1) != 0)
        return make_error(ErrorCode::kStorageCorrupt, "store: key-derivation file is damaged");
    for (std::size_t i = 0; i < count; ++i) {
        const std::uint8_t* e = buf.data() + kHeaderBytes + i * kEntryBytes;
        KdfEntry entry;
        if (e[0] != static_cast<std::uint8_t>(KdfKind::kRawKey) &&
            e[0] != static_cast<std::uint8_t>(KdfKind::kArgon2id13))
            return make_error(ErrorCode::kStorageCorrupt, "store: unknown key-derivation kind");
        entry.kind = static_cast<KdfKind>(e[0]);
        entry.opslimit = get_u32(e + 4);
        entry.memlimit = get_u64(e + 8);
        std::memcpy(entry.salt.data(), e + 16, kSaltBytes);
        std::memcpy(entry.check.data(), e + 32, kCheckBytes);
        if (entry.kind == KdfKind::kArgon2id13 &&
            !check_kdf_params({entry.opslimit, entry.memlimit}))
            return make_error(ErrorCode::kStorageCorrupt,
                              "store: key-derivation parameters out of range");
        f.entries.push_back(entry);
    }
    return f;
}

bool has_kdf_magic(const std::filesystem::path& p) {
    Fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY));
    if (fd.get() < 0) return false;
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    std::array<std::uint8_t, kMagic.size()> buf{};
    return ::read(fd.get(), buf.data(), buf.size()) == static_cast<ssize_t>(buf.size()) &&
           buf == kMagic;
}

Result<void> write_kdf_file(const std::filesystem::path& p, const KdfFile& f) {
    if (f.entries.empty() || f.entries.size() > 2 || !valid_page_size(f.page_size))
        return make_error(ErrorCode::kInternal, "store: bad key-derivation file contents");
    std::array<std::uint8_t, kMaxFileBytes> buf{};
    std::memcpy(buf.data(), kMagic.data(), kMagic.size());
    put_u16(buf.data() + 8, kKdfFileVersion);
    buf[10] = f.initialized ? 1 : 0;
    buf[11] = static_cast<std::uint8_t>(f.entries.size());
    put_u32(buf.data() + 12, f.page_size);
    for (std::size_t i = 0; i < f.entries.size(); ++i) {
        std::uint8_t* e = buf.data() + kHeaderBytes + i * kEntryBytes;
        const KdfEntry& entry = f.entries[i];
        e[0] = static_cast<std::uint8_t>(entry.kind);
        put_u32(e + 4, entry.opslimit);
        put_u64(e + 8, entry.memlimit);
        std::memcpy(e + 16, entry.salt.data(), kSaltBytes);
        std::memcpy(e + 32, entry.check.data(), kCheckBytes);
    }
    const std::size_t body = kHeaderBytes + f.entries.size() * kEntryBytes;
    crypto_generichash(buf.data() + body, kTrailerBytes, buf.data(), body, nullptr, 0);
    const std::size_t total = body + kTrailerBytes;

    std::filesystem::path tmp = p;
    tmp += ".tmp";
    {
        Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (fd.get() < 0) return error_from_errno(errno);
        std::size_t done = 0;
        while (done < total) {
            const ssize_t put = ::write(fd.get(), buf.data() + done, total - done);
            if (put < 0) {
                if (errno == EINTR) continue;
                const int err = errno;
                ::unlink(tmp.c_str());
                return error_from_errno(err);
            }
            done += static_cast<std::size_t>(put);
        }
        if (::fsync(fd.get()) != 0 || ::close(fd.release()) != 0) {
            const int err = errno;
            ::unlink(tmp.c_str());
            return error_from_errno(err);
        }
    }
    if (::rename(tmp.c_str(), p.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return error_from_errno(err);
    }
    // Make the rename itself durable.
    const std::filesystem::path dir = p.has_parent_path() ? p.parent_path() : ".";
    Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd.get() >= 0) (void)::fsync(dfd.get());
    return ok();
}

Result<void> check_kdf_params(const KdfParams& params) noexcept {
    if (params.opslimit < crypto_pwhash_argon2id_OPSLIMIT_MIN || params.opslimit > kMaxOpslimit ||
        params.memlimit_bytes < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
        params.memlimit_bytes > kMaxMemlimit)
        return make_error(ErrorCode::kInvalidArgument, "store: Argon2id parameters out of range");
    return ok();
}

Result<NewEntry> make_entry(const Credential& credential) {
    if (auto r = sotto::detail::init_sodium(); !r) return r.error();
    NewEntry out;
    if (credential.is_passphrase()) {
        if (auto r = check_kdf_params(credential.kdf_params()); !r) return r.error();
        out.entry.kind = KdfKind::kArgon2id13;
        out.entry.opslimit = static_cast<std::uint32_t>(credential.kdf_params().opslimit);
        out.entry.memlimit = credential.kdf_params().memlimit_bytes;
    }
    randombytes_buf(out.entry.salt.data(), out.entry.salt.size());
    auto key = derive(credential, out.entry);
    if (!key) return key.error();
    out.key = std::move(*key);
    out.entry.check = key_check(out.key, out.entry.salt);
    return out;
}

Result<Unlocked> unlock(const KdfFile& f, const Credential& credential) {
    if (auto r = sotto::detail::init_sodium(); !r) return r.error();
    Error last = {ErrorCode::kStorageWrongKey, "store: wrong key or passphrase"};
    bool kind_matched = false;
    for (std::size_t i = 0; i < f.entries.size(); ++i) {
        auto key = derive(credential, f.entries[i]);
        if (!key) {
            if (key.error().code != ErrorCode::kStorageWrongKey) return key.error();
            if (!kind_matched) last = key.error();
            continue;
        }
        kind_matched = true;
        last = {ErrorCode::kStorageWrongKey, "store: wrong key or passphrase"};
        const auto check = key_check(*key, f.entries[i].salt);
        if (sodium_memcmp(check.data(), f.entries[i].check.data(), kCheckBytes) == 0)
            return Unlocked{i, std::move(*key)};
    }
    return last;
}

StoreKey raw_key_of(const Credential& credential) noexcept {
    return credential.raw() != nullptr ? credential.raw()->clone() : StoreKey{};
}

}  // namespace sotto::store::detail
