// Local directory transport: the same layout as the bucket (index.txt + zips), or a plain
// directory of *.zip files. The validator of a file is its size, mtime and inode.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <sotto/fetch/index.hpp>

#include "fetch/transport.hpp"

namespace sotto::fetch::detail {
namespace {

constexpr std::size_t kChunk = 64 * 1024;

std::string validator_of(const struct stat& st) {
    return "f-" + std::to_string(st.st_size) + "-" + std::to_string(st.st_mtim.tv_sec) + "." +
           std::to_string(st.st_mtim.tv_nsec) + "-" + std::to_string(st.st_ino);
}

// FNV-1a 64 of the listing: the validator of a synthesized index.
std::string validator_of(const std::string& listing) {
    std::uint64_t h = 1469598103934665603ULL;
    for (char c : listing) {
        h ^= static_cast<std::uint8_t>(c);
        h *= 1099511628211ULL;
    }
    return "l-" + std::to_string(h);
}

class Fd {
public:
    explicit Fd(int fd) noexcept : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const noexcept { return fd_; }

private:
    int fd_;
};

class DirectoryTransport final : public Transport {
public:
    DirectoryTransport(std::string root, const DownloadOptions& options)
        : root_(std::move(root)), options_(options) {}

    GetResponse get(const GetRequest& request, const BodySink& sink,
                    const TransferProgress& progress, std::stop_token stop) override {
        try {
            if (stop.stop_requested()) {
                GetResponse r;
                r.cancelled = true;
                r.error = {ErrorCode::kCancelled, "download: cancelled"};
                return r;
            }
            if (request.path == "index.txt" && !std::filesystem::exists(root_ / "index.txt")) {
                return list_zips(request, sink);
            }
            return read_file(request, sink, progress, stop);
        } catch (const std::bad_alloc&) {
            GetResponse r;
            r.error = {ErrorCode::kOutOfMemory, "local source: out of memory"};
            return r;
        } catch (...) {
            GetResponse r;
            r.error = {ErrorCode::kNetworkIo, "local source: cannot read the directory"};
            return r;
        }
    }

private:
    GetResponse read_file(const GetRequest& request, const BodySink& sink,
                          const TransferProgress& progress, const std::stop_token& stop) {
        GetResponse r;
        const std::filesystem::path file = root_ / request.path;
        // O_NONBLOCK: opening a FIFO planted in the directory must not hang.
        Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
        struct stat st {};
        if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) {
            r.error = {ErrorCode::kNetworkIo, "local source: file missing or unreadable"};
            return r;
        }
        if (!S_ISREG(st.st_mode)) {
            r.error = {ErrorCode::kNetworkIo, "local source: not a regular file"};
            return r;
        }
        const std::string validator = validator_of(st);
        if (!request.if_none_match.empty() && request.if_none_match == validator) {
            r.not_modified = true;
            return r;
        }
        const auto size = static_cast<std::uint64_t>(st.st_size);
        if (size > request.max_bytes) {
            r.error = {ErrorCode::kNetworkTooLarge, "local source: file exceeds the size cap"};
            return r;
        }
        std::vector<std::uint8_t> buf(kChunk);
        std::uint64_t total = 0;
        while (true) {
            const ssize_t got = ::read(fd.get(), buf.data(), buf.size());
            if (got < 0) {
                if (errno == EINTR) continue;
                r.error = {ErrorCode::kNetworkIo, "local source: read failed"};
                return r;
            }
            if (got == 0) break;
            total += static_cast<std::uint64_t>(got);
            if (total > request.max_bytes) {  // the file grew while we read it
                r.error = {ErrorCode::kNetworkTooLarge, "local source: file exceeds the size cap"};
                return r;
            }
            if (!sink(std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(got)))) {
                r.error = {ErrorCode::kStorageIo, "download: cannot write the spool file"};
                return r;
            }
            if (stop.stop_requested() || (progress && !progress(total, size))) {
                r.cancelled = true;
                r.error = {ErrorCode::kCancelled, "download: cancelled"};
                return r;
            }
        }
        r.etag = validator;
        r.body_bytes = total;
        return r;
    }

    GetResponse list_zips(const GetRequest& request, const BodySink& sink) {
        GetResponse r;
        std::vector<std::string> names;
        std::error_code ec;
        std::uint64_t bytes = 0;
        for (const auto& e : std::filesystem::directory_iterator(root_, ec)) {
            const std::string name = e.path().filename().string();
            if (!e.is_regular_file(ec) ||
                !is_valid_export_path(name, options_.index_limits.max_line_bytes)) {
                continue;
            }
            bytes += name.size() + 1;
            if (names.size() >= options_.index_limits.max_entries || bytes > request.max_bytes) {
                r.error = {ErrorCode::kNetworkTooLarge,
                           "local source: too many files in the directory"};
                return r;
            }
            names.push_back(name);
        }
        if (ec) {
            r.error = {ErrorCode::kNetworkIo, "local source: cannot list the directory"};
            return r;
        }
        std::sort(names.begin(), names.end());
        std::string listing;
        for (const auto& n : names) listing.append(n).push_back('\n');
        const std::string validator = validator_of(listing);
        if (!request.if_none_match.empty() && request.if_none_match == validator) {
            r.not_modified = true;
            return r;
        }
        if (!sink(std::span<const std::uint8_t>(
                reinterpret_cast<const std::uint8_t*>(listing.data()), listing.size()))) {
            r.error = {ErrorCode::kStorageIo, "download: cannot write the spool file"};
            return r;
        }
        r.etag = validator;
        r.body_bytes = listing.size();
        return r;
    }

    std::filesystem::path root_;
    DownloadOptions options_;
};

}  // namespace

std::unique_ptr<Transport> make_directory_transport(std::string root,
                                                    const DownloadOptions& options) {
    return std::make_unique<DirectoryTransport>(std::move(root), options);
}

}  // namespace sotto::fetch::detail
