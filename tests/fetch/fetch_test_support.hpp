#pragma once
// The fetch tests' key server (a real HTTP server on 127.0.0.1, a child process) and helpers to
// publish signed export zips into its directory.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <sotto/fetch/downloader.hpp>
#include <sotto/keyfile/export_writer.hpp>

#include <sotto/keyfile/trust_store.hpp>
#include "child_server.hpp"

#include "support.hpp"

namespace sotto::test::fetch {

/// One line of the server's request log.
struct LoggedRequest {
    std::string path;
    int status = 0;
    std::string if_none_match;  ///< "-" when the request was unconditional
    std::string user_agent;     ///< spaces replaced by '_'
    std::string header_names;   ///< sorted, comma-separated
};

/// tests/fetch/key_server.py serving `root` on 127.0.0.1, started by the constructor (waits for
/// the port line, at most 10 s) and killed (SIGKILL + waitpid) by the destructor, on every exit
/// path. The child also dies with the test process (PR_SET_PDEATHSIG).
class KeyServer {
public:
    explicit KeyServer(std::filesystem::path root);
    /// Serves https with this certificate and key (PEM files).
    KeyServer(std::filesystem::path root, const std::filesystem::path& cert,
              const std::filesystem::path& key);
    ~KeyServer();
    KeyServer(const KeyServer&) = delete;
    KeyServer& operator=(const KeyServer&) = delete;

    /// "http://127.0.0.1:<port>" + `suffix` ("https://" for a TLS server).
    std::string url(const std::string& suffix = "") const;
    int port() const noexcept { return server_->port(); }
    /// Requests so far, in order.
    std::vector<LoggedRequest> requests() const;
    /// Requests for `path` answered with `status` (any status when status < 0).
    std::size_t count(const std::string& path, int status = -1) const;

private:
    std::filesystem::path root_;
    std::filesystem::path log_;
    std::unique_ptr<ChildServer> server_;
    bool tls_ = false;
    void start(const std::vector<std::string>& extra_args);
};

/// A self-signed EC P-256 certificate for 127.0.0.1 and localhost (made by the openssl tool):
/// `dir/cert.pem`, `dir/key.pem`.
void make_tls_certificate(const std::filesystem::path& dir);

/// A publisher: a signing key, the matching trust store, and signed export zips.
struct Publisher {
    Publisher();
    keyfile::ExportSigner signer;
    keyfile::TrustStore trust;
    /// A signed zip with `n` keys whose bytes start with `fill`, written to `dir / rel` (parent
    /// directories created). Returns the zip bytes.
    std::vector<std::uint8_t> publish(const std::filesystem::path& dir, const std::string& rel,
                                      std::uint8_t fill, int n = 3) const;
};

/// Writes `dir/index.txt` listing `paths`.
void write_index(const std::filesystem::path& dir, const std::vector<std::string>& paths);

/// A downloader over `source` with its state file and spool under `work`.
sotto::fetch::Downloader make_downloader(const std::string& source,
                                         const std::filesystem::path& work,
                                         const sotto::fetch::DownloadOptions& options = {});

/// The report entry for `path` (fails the test if missing).
const sotto::fetch::FetchedFile& entry(const sotto::fetch::FetchReport& r, const std::string& path);

/// Small timeouts for tests.
sotto::fetch::DownloadOptions quick_options();

/// Export paths in Google's layout.
inline constexpr const char* kA = "exposureKeyExport-XX/1614816000-1614902400-00001.zip";
inline constexpr const char* kB = "exposureKeyExport-XX/1614902400-1614988800-00001.zip";
inline constexpr const char* kC = "exposureKeyExport-XX/1614988800-1615075200-00001.zip";

/// A temp dir with a bucket directory (served by a KeyServer) and a work directory (state and
/// spool), and a publisher.
struct Bucket {
    test::TempDir tmp;
    std::filesystem::path root = tmp / "bucket";
    std::filesystem::path work = tmp / "work";
    Publisher pub;
    Bucket();
    /// Sets how the key server serves `rel` (see key_server.py: "truncate", "hang", ...).
    void mode(const std::string& rel, const std::string& m) const;
    /// Publishes a signed zip per (path, fill) (see `Publisher::publish`) and writes an index
    /// listing exactly them, in order. Returns the zips' bytes, in the same order.
    std::vector<std::vector<std::uint8_t>> publish_listed(
        const std::vector<std::pair<std::string, std::uint8_t>>& files) const;
    /// A downloader over `server` with its state and spool under `work`.
    sotto::fetch::Downloader downloader(const KeyServer& server,
                                        const sotto::fetch::DownloadOptions& options) const;
    sotto::fetch::Downloader downloader(const KeyServer& server) const;
};

/// One round that must succeed as a whole (per-file failures are in the report).
sotto::fetch::FetchReport fetch_ok(sotto::fetch::Downloader& d);

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace sotto::test::fetch
