#pragma once
// How the downloader gets bytes: over HTTP(S) or from a local directory. No curl here.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stop_token>
#include <string>

#include <sotto/error.hpp>
#include <sotto/fetch/downloader.hpp>

namespace sotto::fetch::detail {

/// One GET of `path` (relative to the source root; "index.txt" for the index).
struct GetRequest {
    std::string path;
    std::string if_none_match;      ///< empty: not sent
    std::string if_modified_since;  ///< empty: not sent
    std::uint64_t max_bytes = 0;    ///< the body must not exceed this
};

/// Receives the body in pieces. Returns false on a local write failure (aborts the transfer).
using BodySink = std::function<bool(std::span<const std::uint8_t>)>;
/// Progress: bytes so far, total (0 unknown). False cancels.
using TransferProgress = std::function<bool(std::uint64_t, std::uint64_t)>;

/// What came back. `error.code == kOk` on success (200 with a body, or 304).
struct GetResponse {
    Error error{ErrorCode::kOk, ""};
    long status = 0;            ///< last HTTP status (0 for a local file or no answer)
    bool not_modified = false;  ///< 304, or the local file's validator matched
    bool cancelled = false;     ///< the progress callback asked to stop
    std::string etag;
    std::string last_modified;
    std::uint64_t body_bytes = 0;
    std::uint32_t requests = 0;  ///< HTTP requests sent, redirects included
};

class Transport {
public:
    virtual ~Transport() = default;
    /// Never throws. Body bytes go to `sink` only for a 200 answer. A stop request on `stop`
    /// (from any thread) aborts the transfer in whatever phase it is: kCancelled, `cancelled`.
    virtual GetResponse get(const GetRequest& request, const BodySink& sink,
                            const TransferProgress& progress, std::stop_token stop) = 0;
};

/// `root` is checked with `check_url` already.
std::unique_ptr<Transport> make_http_transport(std::string root, const DownloadOptions& options);
/// `root` is an existing directory.
std::unique_ptr<Transport> make_directory_transport(std::string root,
                                                    const DownloadOptions& options);

}  // namespace sotto::fetch::detail
