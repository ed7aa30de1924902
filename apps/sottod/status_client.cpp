// query_status: the client side of the status socket (for `sotto status`).

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "status_socket.hpp"

namespace sotto::sottod {
namespace {

using Clock = std::chrono::steady_clock;

class Socket {
public:
    explicit Socket(int fd) noexcept : fd_(fd) {}
    ~Socket() {
        if (fd_ >= 0) ::close(fd_);
    }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    int get() const noexcept { return fd_; }

private:
    int fd_;
};

// Waits for `events` until `deadline`: 1 ready, 0 timed out, -1 error.
int wait_for(int fd, short events, Clock::time_point deadline) {
    while (true) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return 0;
        pollfd p{fd, events, 0};
        const int n = ::poll(&p, 1, static_cast<int>(left));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) return 0;
        return 1;
    }
}

}  // namespace

Result<std::string> query_status(const std::filesystem::path& socket_path,
                                 std::chrono::milliseconds timeout) {
    try {
        const auto deadline = Clock::now() + timeout;
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        const std::string p = socket_path.string();
        if (p.empty() || p.size() >= sizeof addr.sun_path) {
            return make_error(ErrorCode::kInvalidArgument, "status: socket path too long");
        }
        std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
        Socket s(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        if (s.get() < 0) return make_error(ErrorCode::kNetworkIo, "status: cannot create a socket");
        // A Unix socket whose listen queue is full refuses with EAGAIN (the connection is not
        // queued): try again until the deadline, as a busy server frees its queue quickly.
        int rc = ::connect(s.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
        while (rc != 0 && errno == EAGAIN && Clock::now() < deadline) {
            ::poll(nullptr, 0, 5);
            rc = ::connect(s.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
        }
        if (rc != 0) {
            if (errno == EACCES || errno == EPERM) {
                return make_error(ErrorCode::kNetworkRefused,
                                  "status: permission denied (not in the service's group?)");
            }
            if (errno == EAGAIN)
                return make_error(ErrorCode::kNetworkTimeout, "status: no answer in time");
            if (errno != EINPROGRESS) {
                return make_error(ErrorCode::kNetworkIo,
                                  "status: cannot connect (is sottod running?)");
            }
            const int w = wait_for(s.get(), POLLOUT, deadline);
            if (w == 0) return make_error(ErrorCode::kNetworkTimeout, "status: no answer in time");
            if (w < 0)
                return make_error(ErrorCode::kNetworkIo,
                                  "status: cannot connect (is sottod running?)");
        }
        const std::string_view request = "status\n";
        std::size_t sent = 0;
        while (sent < request.size()) {
            const ssize_t put =
                ::send(s.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
            if (put > 0) {
                sent += static_cast<std::size_t>(put);
                continue;
            }
            if (put < 0 && (errno == EAGAIN || errno == EINTR)) {
                const int w = wait_for(s.get(), POLLOUT, deadline);
                if (w == 0)
                    return make_error(ErrorCode::kNetworkTimeout, "status: no answer in time");
                if (w < 0) return make_error(ErrorCode::kNetworkIo, "status: connection broke off");
                continue;
            }
            return make_error(ErrorCode::kNetworkIo, "status: connection broke off");
        }
        std::string response;
        char buf[4096];
        while (true) {
            const int w = wait_for(s.get(), POLLIN, deadline);
            if (w == 0) return make_error(ErrorCode::kNetworkTimeout, "status: no answer in time");
            if (w < 0) return make_error(ErrorCode::kNetworkIo, "status: connection broke off");
            const ssize_t got = ::recv(s.get(), buf, sizeof buf, 0);
            if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (got <= 0)
                return make_error(ErrorCode::kNetworkIo,
                                  "status: connection closed before a full line");
            response.append(buf, static_cast<std::size_t>(got));
            const auto nl = response.find('\n');
            if (nl != std::string::npos) {
                if (nl > kMaxStatusResponseBytes) break;
                response.resize(nl);
                return response;
            }
            if (response.size() > kMaxStatusResponseBytes) break;
        }
        return make_error(ErrorCode::kNetworkTooLarge, "status: response too large");
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "status: out of memory");
    }
}

}  // namespace sotto::sottod
