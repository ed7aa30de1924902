// FileFetchState: a checksummed text file, replaced atomically (temp + fsync + rename + fsync dir).
//
// Format (one record per line, fields separated by one space, validators hex-encoded, "-" empty):
//   sotto-fetch-state 1
//   index <etag> <last-modified>
//   entry <path>
//   file <path> <sha256> <bytes> <etag> <last-modified> <0 pending|1 used|2 refused>
//   used <sha256>                 (FetchStateData::retired_used)
//   verifier <fingerprint>        (optional, at most once: FetchStateData::verifier_fingerprint)
//   sha256 <hex of everything above, newlines included>

#include <sotto/fetch/fetch_state.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <sotto/bytes.hpp>
#include <sotto/fetch/index.hpp>

#include "fetch/sha256.hpp"

namespace sotto::fetch {
namespace {

constexpr std::string_view kMagic = "sotto-fetch-state 1\n";
constexpr std::uint64_t kMaxStateBytes = std::uint64_t{64} << 20;
constexpr std::size_t kMaxPathBytes = 4096;
constexpr std::size_t kMaxValidatorBytes = 256;

std::string encode_field(const std::string& v) {
    if (v.empty()) return "-";
    return to_hex(
        std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(v.data()), v.size()));
}

bool decode_field(std::string_view f, std::string& out) {
    if (f == "-") {
        out.clear();
        return true;
    }
    if (f.size() > 2 * kMaxValidatorBytes) return false;
    auto bytes = from_hex(f);
    if (!bytes || bytes->empty()) return false;
    for (std::uint8_t b : *bytes) {
        if (b < 0x20 || b > 0x7e) return false;
    }
    out.assign(bytes->begin(), bytes->end());
    return true;
}

std::vector<std::string_view> split(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t pos = 0;
    while (pos <= line.size()) {
        std::size_t sp = line.find(' ', pos);
        if (sp == std::string_view::npos) sp = line.size();
        out.push_back(line.substr(pos, sp - pos));
        pos = sp + 1;
    }
    return out;
}

std::string checksum_hex(std::string_view body) {
    detail::Sha256 h;
    h.update(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(body.data()),
                                           body.size()));
    const auto d = h.finish();
    return to_hex(d);
}

Error corrupt(const char* what) { return {ErrorCode::kStorageCorrupt, what}; }

Result<void> write_all(int fd, std::string_view data) {
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t put = ::write(fd, data.data() + done, data.size() - done);
        if (put < 0) {
            if (errno == EINTR) continue;
            if (errno == ENOSPC || errno == EDQUOT)
                return make_error(ErrorCode::kStorageFull, "fetch state: disk full");
            return make_error(ErrorCode::kStorageIo, "fetch state: write failed");
        }
        done += static_cast<std::size_t>(put);
    }
    return ok();
}

}  // namespace

bool is_valid_fingerprint(std::string_view fingerprint) noexcept {
    if (fingerprint.empty() || fingerprint.size() > 128) return false;
    for (char c : fingerprint)
        if (c <= 0x20 || c > 0x7e) return false;
    return true;
}

Result<std::string> encode_state(const FetchStateData& data) {
    if (!detail::sodium_ready())
        return make_error(ErrorCode::kInternal, "fetch state: libsodium failed");
    try {
        std::string body(kMagic);
        body += "index " + encode_field(data.index_etag) + " " +
                encode_field(data.index_last_modified) + "\n";
        for (const auto& e : data.index_entries) {
            if (!is_valid_export_path(e, kMaxPathBytes))
                return make_error(ErrorCode::kInvalidArgument, "fetch state: invalid path");
            body += "entry " + e + "\n";
        }
        for (const auto& f : data.files) {
            if (!is_valid_export_path(f.path, kMaxPathBytes))
                return make_error(ErrorCode::kInvalidArgument, "fetch state: invalid path");
            body += "file " + f.path + " " + to_hex(f.sha256) + " " + std::to_string(f.bytes) +
                    " " + encode_field(f.etag) + " " + encode_field(f.last_modified) +
                    (f.used      ? " 1\n"
                     : f.refused ? " 2\n"
                                 : " 0\n");
        }
        for (const auto& h : data.retired_used) body += "used " + to_hex(h) + "\n";
        if (!data.verifier_fingerprint.empty()) {
            if (!is_valid_fingerprint(data.verifier_fingerprint))
                return make_error(ErrorCode::kInvalidArgument, "fetch state: invalid fingerprint");
            body += "verifier " + data.verifier_fingerprint + "\n";
        }
        body += "sha256 " + checksum_hex(body) + "\n";
        return body;
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "fetch state: out of memory");
    }
}

Result<FetchStateData> decode_state(std::string_view text) {
    if (!detail::sodium_ready())
        return make_error(ErrorCode::kInternal, "fetch state: libsodium failed");
    try {
        if (!text.starts_with(kMagic)) return corrupt("fetch state: bad magic");
        if (text.empty() || text.back() != '\n') return corrupt("fetch state: truncated");
        const std::size_t last = text.rfind('\n', text.size() - 2);
        if (last == std::string_view::npos) return corrupt("fetch state: truncated");
        const std::string_view body = text.substr(0, last + 1);
        const std::string_view sum_line = text.substr(last + 1, text.size() - last - 2);
        if (sum_line != "sha256 " + checksum_hex(body))
            return corrupt("fetch state: checksum mismatch");

        FetchStateData d;
        std::unordered_set<std::string_view> seen_files;
        bool have_index = false;
        std::size_t pos = kMagic.size();
        while (pos < body.size()) {
            const std::size_t end = body.find('\n', pos);
            const auto f = split(body.substr(pos, end - pos));
            pos = end + 1;
            if (f[0] == "index" && f.size() == 3 && !have_index) {
                if (!decode_field(f[1], d.index_etag) ||
                    !decode_field(f[2], d.index_last_modified)) {
                    return corrupt("fetch state: bad index line");
                }
                have_index = true;
            } else if (f[0] == "entry" && f.size() == 2 &&
                       is_valid_export_path(f[1], kMaxPathBytes)) {
                d.index_entries.emplace_back(f[1]);
            } else if (f[0] == "file" && f.size() == 7 &&
                       is_valid_export_path(f[1], kMaxPathBytes) &&
                       seen_files.insert(f[1]).second) {
                FileRecord r;
                r.path = std::string(f[1]);
                if (!from_hex_into(f[2], r.sha256)) return corrupt("fetch state: bad hash");
                const auto [p, ec] =
                    std::from_chars(f[3].data(), f[3].data() + f[3].size(), r.bytes);
                if (ec != std::errc() || p != f[3].data() + f[3].size())
                    return corrupt("fetch state: bad size");
                if (!decode_field(f[4], r.etag) || !decode_field(f[5], r.last_modified)) {
                    return corrupt("fetch state: bad validator");
                }
                if (f[6] != "0" && f[6] != "1" && f[6] != "2")
                    return corrupt("fetch state: bad used flag");
                r.used = f[6] == "1";
                r.refused = f[6] == "2";
                d.files.push_back(std::move(r));
            } else if (f[0] == "verifier" && f.size() == 2 && d.verifier_fingerprint.empty() &&
                       is_valid_fingerprint(f[1])) {
                d.verifier_fingerprint = std::string(f[1]);
            } else if (f[0] == "used" && f.size() == 2) {
                std::array<std::uint8_t, 32> h{};
                if (!from_hex_into(f[1], h)) return corrupt("fetch state: bad hash");
                d.retired_used.push_back(h);
            } else {
                return corrupt("fetch state: unknown or malformed line");
            }
        }
        if (!have_index) return corrupt("fetch state: no index line");
        return d;
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "fetch state: out of memory");
    }
}

Result<LoadedState> FileFetchState::load() {
    LoadedState out;
    const int fd = ::open(file_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT) return out;  // nothing stored yet
        return make_error(ErrorCode::kStorageIo, "fetch state: cannot open the file");
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        static_cast<std::uint64_t>(st.st_size) > kMaxStateBytes) {
        ::close(fd);
        out.damaged = true;
        return out;
    }
    std::string text;
    try {
        text.resize(static_cast<std::size_t>(st.st_size));
    } catch (const std::bad_alloc&) {
        ::close(fd);
        return make_error(ErrorCode::kOutOfMemory, "fetch state: out of memory");
    }
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t got = ::read(fd, text.data() + done, text.size() - done);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            ::close(fd);
            return make_error(ErrorCode::kStorageIo, "fetch state: read failed");
        }
        if (got == 0) break;
        done += static_cast<std::size_t>(got);
    }
    ::close(fd);
    text.resize(done);
    auto decoded = decode_state(text);
    if (!decoded) {
        if (decoded.error().code != ErrorCode::kStorageCorrupt) return decoded.error();
        out.damaged = true;
        return out;
    }
    out.data = std::move(decoded).value();
    return out;
}

Result<void> FileFetchState::save(const FetchStateData& data) {
    auto text = encode_state(data);
    if (!text) return text.error();
    try {
        const std::filesystem::path dir = file_.has_parent_path() ? file_.parent_path() : ".";
        std::string tmpl = (dir / (file_.filename().string() + ".tmp-XXXXXX")).string();
        const int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
        if (fd < 0)
            return make_error(ErrorCode::kStorageIo, "fetch state: cannot create a temporary file");
        Result<void> w = write_all(fd, *text);
        if (w && ::fsync(fd) != 0)
            w = make_error(ErrorCode::kStorageIo, "fetch state: fsync failed");
        if (::close(fd) != 0 && w)
            w = make_error(ErrorCode::kStorageIo, "fetch state: close failed");
        if (w && ::rename(tmpl.c_str(), file_.c_str()) != 0) {
            w = make_error(ErrorCode::kStorageIo, "fetch state: rename failed");
        }
        if (!w) {
            ::unlink(tmpl.c_str());
            return w;
        }
        const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            const int rc = ::fsync(dfd);
            ::close(dfd);
            if (rc != 0)
                return make_error(ErrorCode::kStorageIo, "fetch state: directory fsync failed");
        }
        return ok();
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "fetch state: out of memory");
    }
}

}  // namespace sotto::fetch
