// See store_access.hpp.
#include "store_access.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <filesystem>

#include <fmt/core.h>

#include <sotto/core/interval.hpp>
#include <sotto/secret.hpp>

#include "commands.hpp"

namespace sotto::cli {

using store::Credential;
using store::EncounterStore;


void add_store_options(CLI::App* cmd, StoreOptions& o) {
    cmd->add_option("--store", o.store, "Path of the store database")->required();
    auto* k = cmd->add_option("--key-file", o.key_file,
                              "File with the raw 256-bit key: 64 hex characters (mode 600)");
    auto* p = cmd->add_option("--passphrase-file", o.passphrase_file,
                              "File whose content (minus one trailing newline) is the passphrase "
                              "(mode 600)");
    k->excludes(p);
    cmd->add_option("--now", o.now,
                    "Unix seconds used as the current time for retention and validity checks "
                    "(default: the system clock)");
    cmd->add_option("--retention-days", o.retention_days, "Days of data to keep (1..3650)")
        ->capture_default_str();
}

namespace {

// Wipes a stack buffer when leaving scope.
template <std::size_t N>
struct WipedBuffer {
    std::array<std::uint8_t, N> bytes{};
    std::size_t size = 0;
    WipedBuffer() = default;
    WipedBuffer(const WipedBuffer&) = delete;
    WipedBuffer& operator=(const WipedBuffer&) = delete;
    ~WipedBuffer() { detail::secure_wipe(bytes.data(), bytes.size()); }
};

// Reads a secret file into `buf` after checking that only its owner may access it. Returns an
// exit code (0 on success) after printing one line.
template <std::size_t N>
int read_secret_file(const std::string& path, const char* what, WipedBuffer<N>& buf) {
    // Non-blocking until the type is known: a FIFO would block open() and read() forever.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) return fail(kExitUsage, fmt::format("cannot open the {}", what));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return fail(kExitUsage, fmt::format("the {} is not a regular file", what));
    }
    if ((st.st_mode & 077) != 0) {
        ::close(fd);
        return fail(kExitUsage,
                    fmt::format("the {} is accessible by group or others; chmod 600 it", what));
    }
    buf.size = 0;
    while (buf.size < N) {
        const ssize_t got = ::read(fd, buf.bytes.data() + buf.size, N - buf.size);
        if (got < 0) {
            if (errno == EINTR) continue;
            ::close(fd);
            return fail(kExitUsage, fmt::format("cannot read the {}", what));
        }
        if (got == 0) break;
        buf.size += static_cast<std::size_t>(got);
    }
    ::close(fd);
    return 0;
}

int read_key_file(const std::string& path, std::optional<Credential>& out) {
    WipedBuffer<2 * store::kStoreKeyBytes + 3> buf;  // one byte more than allowed: detects excess
    if (int rc = read_secret_file(path, "key file", buf); rc != 0) return rc;
    std::size_t n = buf.size;
    if (n > 0 && buf.bytes[n - 1] == '\n') --n;
    if (n > 0 && buf.bytes[n - 1] == '\r') --n;
    auto key = store::StoreKey::from_hex(
        std::string_view(reinterpret_cast<const char*>(buf.bytes.data()), n));
    if (!key) return fail(kExitUsage, "the key file must hold exactly 64 hex characters");
    out = Credential::raw_key(std::move(*key));
    return 0;
}

int read_passphrase_file(const std::string& path, std::optional<Credential>& out) {
    WipedBuffer<store::Passphrase::kMaxBytes + 2> buf;
    if (int rc = read_secret_file(path, "passphrase file", buf); rc != 0) return rc;
    std::size_t n = buf.size;
    if (n > 0 && buf.bytes[n - 1] == '\n') --n;
    if (n == 0) return fail(kExitUsage, "the passphrase file is empty");
    if (n > store::Passphrase::kMaxBytes)
        return fail(kExitUsage, "the passphrase is longer than 1024 bytes");
    auto p = store::Passphrase::from(std::span<const std::uint8_t>(buf.bytes.data(), n));
    if (!p) return fail(kExitFailure, p.error().what);
    out = Credential::passphrase(std::move(*p), store::KdfParams::interactive());
    return 0;
}

}  // namespace

// The credential named by --key-file / --passphrase-file (exactly one).
int read_credential(const std::string& key_file, const std::string& passphrase_file,
                    const char* key_flag, const char* pass_flag, std::optional<Credential>& out) {
    if (key_file.empty() == passphrase_file.empty())
        return fail(kExitUsage, fmt::format("give exactly one of {} and {}", key_flag, pass_flag));
    return key_file.empty() ? read_passphrase_file(passphrase_file, out)
                            : read_key_file(key_file, out);
}

int store_error(const Error& e) {
    return fail(kExitFailure, fmt::format("{} ({})", e.what, error_code_name(e.code)));
}

// Validates --now and --retention-days; fills `now`.
int resolve_clock(const StoreOptions& o, std::int64_t& now) {
    now = o.now ? *o.now
                : std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    if (!core::interval_number(now)) return fail(kExitUsage, "--now is outside the supported time range");
    if (o.retention_days < 1 || o.retention_days > 3650)
        return fail(kExitUsage, "--retention-days must be 1..3650");
    return 0;
}

// Reads the credential and opens the store. Returns an exit code; `out` is set on 0.
int open_store(const StoreOptions& o, bool create, std::optional<EncounterStore>& out,
               bool read_only) {
    std::optional<Credential> cred;
    if (int rc = read_credential(o.key_file, o.passphrase_file, "--key-file", "--passphrase-file", cred);
        rc != 0)
        return rc;
    store::OpenOptions opts;
    opts.create_if_missing = create;
    opts.read_only = read_only;
    opts.retention_days = o.retention_days;
    auto s = EncounterStore::open(o.store, std::move(*cred), opts);
    if (!s) {
        if (!create && s.error().code == ErrorCode::kStorageIo && !std::filesystem::exists(o.store))
            return fail(kExitFailure, "store: no store at this path");
        return store_error(s.error());
    }
    out.emplace(std::move(*s));
    return 0;
}

}  // namespace sotto::cli
