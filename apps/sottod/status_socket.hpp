#pragma once
// The daemon's status channel: a Unix stream socket in the RuntimeDirectory, mode 0660 (owner
// and the service's group only), with a one-line protocol:
//
//   client -> "status\n"
//   server -> one JSON object on one line, "\n", then the server closes the connection.
//
// Any other request gets {"error":"unknown request"}. See docs/daemon.md.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <sotto/result.hpp>

namespace sotto::sottod {

/// Longest request line accepted ("status" is 6 bytes); longer: the connection is closed.
inline constexpr std::size_t kMaxStatusRequestBytes = 64;
/// Longest response a client accepts.
inline constexpr std::size_t kMaxStatusResponseBytes = 64 * 1024;

/// Checks a status socket path before anything else is opened: it must fit `sun_path`, its
/// directory must exist, and the path must name nothing or a socket (a stale one from a crashed
/// daemon). Anything else (a regular file, a directory, a symlink, a FIFO) is refused, never
/// replaced. Errors: kInvalidArgument with a static reason.
Result<void> check_status_socket_path(const std::filesystem::path& socket_path) noexcept;

/// Serves the status socket on its own thread.
///
/// Bounded and fair: at most `max_clients` connections are open and at most `max_per_peer` from
/// one process (by SO_PEERCRED pid): a further one from it evicts that peer's oldest. When all
/// slots are taken, a new connection evicts the oldest one of the peer holding the most. Each
/// connection lives at most `client_timeout` (a client that connects and sends nothing is closed
/// then), requests are at most `kMaxStatusRequestBytes`, at most `max_accepts_per_wakeup`
/// connections are accepted before the others are served, and the listen backlog is `backlog`. One
/// slow, silent or flooding client never starves another: all I/O is non-blocking in one poll loop.
class StatusServer {
public:
    /// Produces the status as one JSON object on one line (no '\n'). Called on the server's
    /// thread, once per "status" request; must be thread-safe with respect to the daemon's state
    /// and quick (it delays other clients). If it throws or returns text with a newline, the
    /// client gets {"error":"internal"}.
    using Producer = std::function<std::string()>;

    struct Options {
        std::chrono::milliseconds client_timeout{2000};
        std::size_t max_clients = 64;
        std::size_t max_per_peer = 4;
        std::size_t max_accepts_per_wakeup = 64;
        int backlog = 512;
    };

    /// Binds `socket_path` (replacing a stale socket file there, never anything else), mode 0660,
    /// and starts the thread. The socket appears under its final name only after its mode is set
    /// (bound under a temporary name, chmod, rename), so there is no moment when others could
    /// connect. Errors: kInvalidArgument (`check_status_socket_path` refuses the path, no
    /// producer), kStorageIo (socket, bind, chmod or rename failed), kOutOfMemory, kInternal
    /// (thread creation).
    static Result<std::unique_ptr<StatusServer>> start(const std::filesystem::path& socket_path,
                                                       Producer producer, Options options);
    static Result<std::unique_ptr<StatusServer>> start(const std::filesystem::path& socket_path,
                                                       Producer producer) {
        return start(socket_path, std::move(producer), Options{});
    }

    /// Stops the thread, closes every connection and removes the socket file, if the path still
    /// names the socket it bound (not a file someone put there since). Idempotent.
    void stop() noexcept;
    ~StatusServer();
    StatusServer(const StatusServer&) = delete;
    StatusServer& operator=(const StatusServer&) = delete;

private:
    StatusServer(int listen_fd, int wake_fd, std::filesystem::path path, Producer producer,
                 Options options) noexcept;
    void run() noexcept;
    std::string answer(std::string_view request) noexcept;

    int listen_fd_;
    int wake_fd_;
    std::filesystem::path path_;
    unsigned long long path_dev_ = 0;  // the bound socket file, removed only if still there
    unsigned long long path_ino_ = 0;
    Producer producer_;
    Options options_;
    std::thread thread_;
    bool stopped_ = false;
};

/// The client side (for `sotto status`): connects, sends "status\n" and returns the response
/// line without its '\n'. Bounded by `timeout` overall and `kMaxStatusResponseBytes`.
/// Errors: kNetworkIo (no socket / not running / connection broke), kNetworkRefused (permission
/// denied: not in the service's group), kNetworkTimeout, kNetworkTooLarge, kInvalidArgument
/// (path too long).
Result<std::string> query_status(const std::filesystem::path& socket_path,
                                 std::chrono::milliseconds timeout = std::chrono::milliseconds{
                                     2000});

}  // namespace sotto::sottod
