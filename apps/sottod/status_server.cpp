// StatusServer: one poll loop over the listening socket, a wake-up eventfd and the clients.
// Time for the client deadlines comes from steady_clock: this is the daemon, not the library.

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "status_socket.hpp"

namespace sotto::sottod {
namespace {

using Clock = std::chrono::steady_clock;

struct Client {
    int fd = -1;
    pid_t peer = 0;  // SO_PEERCRED pid, 0 unknown
    Clock::time_point deadline;
    std::string in;
    std::string out;
    std::size_t sent = 0;
    bool answering = false;
};

bool fill_address(const std::filesystem::path& p, sockaddr_un& addr) {
    std::memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    const std::string s = p.string();
    if (s.empty() || s.size() >= sizeof addr.sun_path) return false;
    std::memcpy(addr.sun_path, s.c_str(), s.size() + 1);
    return true;
}

void close_client(Client& c) noexcept {
    if (c.fd >= 0) ::close(c.fd);
    c.fd = -1;
}

pid_t peer_pid(int fd) noexcept {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return 0;
    return cred.pid;
}

}  // namespace

Result<void> check_status_socket_path(const std::filesystem::path& socket_path) noexcept {
    sockaddr_un addr{};
    if (!fill_address(socket_path, addr))
        return make_error(ErrorCode::kInvalidArgument, "status socket: path empty or too long");
    struct stat st {};
    if (::lstat(socket_path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return make_error(ErrorCode::kInvalidArgument,
                              "status socket: the path names something that is not a socket "
                              "(refusing to replace it)");
    } else if (errno != ENOENT) {
        return make_error(ErrorCode::kInvalidArgument, "status socket: the path cannot be checked");
    }
    std::filesystem::path dir = socket_path.parent_path();
    if (dir.empty()) dir = ".";
    struct stat ds {};
    if (::stat(dir.c_str(), &ds) != 0 || !S_ISDIR(ds.st_mode))
        return make_error(ErrorCode::kInvalidArgument,
                          "status socket: its directory does not exist");
    return {};
}

Result<std::unique_ptr<StatusServer>> StatusServer::start(const std::filesystem::path& socket_path,
                                                          Producer producer, Options options) {
    try {
        if (!producer || options.max_clients == 0 || options.max_per_peer == 0 ||
            options.max_accepts_per_wakeup == 0 || options.backlog < 1) {
            return make_error(ErrorCode::kInvalidArgument,
                              "status: no producer or no client slots");
        }
        if (auto ok = check_status_socket_path(socket_path); !ok) return ok.error();
        static std::atomic<unsigned> counter{0};
        const std::filesystem::path tmp =
            socket_path.parent_path() / (".status-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(counter.fetch_add(1)) + ".tmp");
        sockaddr_un addr{};
        sockaddr_un tmp_addr{};
        if (!fill_address(socket_path, addr) || !fill_address(tmp, tmp_addr)) {
            return make_error(ErrorCode::kInvalidArgument, "status: socket path too long");
        }
        const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return make_error(ErrorCode::kStorageIo, "status: cannot create a socket");
        ::unlink(tmp.c_str());
        // Bound under a temporary name, then made 0660, then renamed: nobody outside the group
        // can ever connect, whatever the umask.
        if (::bind(fd, reinterpret_cast<const sockaddr*>(&tmp_addr), sizeof tmp_addr) != 0) {
            ::close(fd);
            return make_error(ErrorCode::kStorageIo, "status: cannot bind the socket");
        }
        if (::chmod(tmp.c_str(), 0660) != 0 || ::listen(fd, options.backlog) != 0) {
            ::close(fd);
            ::unlink(tmp.c_str());
            return make_error(ErrorCode::kStorageIo, "status: cannot publish the socket");
        }
        // Checked again right before the rename: what appeared there since is not replaced.
        if (auto ok = check_status_socket_path(socket_path); !ok) {
            ::close(fd);
            ::unlink(tmp.c_str());
            return ok.error();
        }
        struct stat bound {};
        if (::rename(tmp.c_str(), socket_path.c_str()) != 0 ||
            ::lstat(socket_path.c_str(), &bound) != 0) {
            ::close(fd);
            ::unlink(tmp.c_str());
            return make_error(ErrorCode::kStorageIo, "status: cannot publish the socket");
        }
        const int wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (wake < 0) {
            ::close(fd);
            ::unlink(socket_path.c_str());
            return make_error(ErrorCode::kStorageIo, "status: cannot create an eventfd");
        }
        std::unique_ptr<StatusServer> server(
            new StatusServer(fd, wake, socket_path, std::move(producer), options));
        server->path_dev_ = static_cast<unsigned long long>(bound.st_dev);
        server->path_ino_ = static_cast<unsigned long long>(bound.st_ino);
        try {
            server->thread_ = std::thread([s = server.get()] { s->run(); });
        } catch (const std::system_error&) {
            server->stopped_ = true;
            return make_error(ErrorCode::kInternal, "status: cannot start the thread");
        }
        return server;
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "status: out of memory");
    }
}

StatusServer::StatusServer(int listen_fd, int wake_fd, std::filesystem::path path,
                           Producer producer, Options options) noexcept
    : listen_fd_(listen_fd),
      wake_fd_(wake_fd),
      path_(std::move(path)),
      producer_(std::move(producer)),
      options_(options) {}

StatusServer::~StatusServer() { stop(); }

void StatusServer::stop() noexcept {
    if (thread_.joinable()) {
        const std::uint64_t one = 1;
        [[maybe_unused]] const ssize_t w = ::write(wake_fd_, &one, sizeof one);
        thread_.join();
    }
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        struct stat st {};
        if (::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) &&
            static_cast<unsigned long long>(st.st_dev) == path_dev_ &&
            static_cast<unsigned long long>(st.st_ino) == path_ino_)
            ::unlink(path_.c_str());
        listen_fd_ = -1;
    }
    if (wake_fd_ >= 0) {
        ::close(wake_fd_);
        wake_fd_ = -1;
    }
    stopped_ = true;
}

std::string StatusServer::answer(std::string_view request) noexcept {
    try {
        if (request != "status") return "{\"error\":\"unknown request\"}\n";
        std::string json = producer_();
        if (json.empty() || json.find('\n') != std::string::npos ||
            json.find('\r') != std::string::npos) {
            return "{\"error\":\"internal\"}\n";
        }
        json.push_back('\n');
        return json;
    } catch (...) {
        return "{\"error\":\"internal\"}\n";
    }
}

// Accepts at most `max_accepts_per_wakeup` connections. A peer over `max_per_peer` loses the
// new connection; when every slot is taken, the peer holding the most loses its oldest.
static void accept_some(int listen_fd, const StatusServer::Options& options,
                        std::deque<Client>& clients, Clock::time_point now) {
    for (std::size_t n = 0; n < options.max_accepts_per_wakeup; ++n) {
        const int cfd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) return;
        Client c;
        c.fd = cfd;
        c.peer = peer_pid(cfd);
        c.deadline = now + options.client_timeout;
        std::size_t same = 0;
        for (const auto& o : clients) same += o.peer == c.peer ? 1U : 0U;
        std::optional<std::size_t> victim;
        if (same >= options.max_per_peer) {
            // This peer's oldest connection makes room: a flooder only ever competes with itself.
            for (std::size_t i = 0; i < clients.size() && !victim; ++i)
                if (clients[i].peer == c.peer) victim = i;
        } else if (clients.size() >= options.max_clients) {
            // The peer with the most connections (the first seen on a tie) gives up its oldest.
            std::size_t most = 0;
            for (std::size_t i = 0; i < clients.size(); ++i) {
                std::size_t count = 0;
                for (const auto& o : clients) count += o.peer == clients[i].peer ? 1U : 0U;
                if (count > most) {
                    most = count;
                    victim = i;
                }
            }
        }
        if (victim) {
            close_client(clients[*victim]);
            clients.erase(clients.begin() + static_cast<std::ptrdiff_t>(*victim));
        }
        clients.push_back(std::move(c));
    }
}

void StatusServer::run() noexcept {
    std::deque<Client> clients;
    std::vector<pollfd> fds;
    char buf[256];
    while (true) {
        try {
            fds.clear();
            fds.push_back({wake_fd_, POLLIN, 0});
            fds.push_back({listen_fd_, POLLIN, 0});
            auto now = Clock::now();
            auto next = now + options_.client_timeout;
            for (const auto& c : clients) {
                fds.push_back({c.fd, static_cast<short>(c.answering ? POLLOUT : POLLIN), 0});
                next = std::min(next, c.deadline);
            }
            const auto wait =
                std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count();
            const int n =
                ::poll(fds.data(), fds.size(), static_cast<int>(std::max<long long>(wait, 0) + 1));
            if ((n < 0 && errno != EINTR) || (fds[0].revents & POLLIN)) {  // stop(), or poll broke
                for (auto& c : clients) close_client(c);
                return;
            }
            now = Clock::now();
            for (std::size_t i = 0; i < clients.size(); ++i) {
                Client& c = clients[i];
                const short ev = fds[i + 2].revents;
                if (ev == 0) continue;
                if (!c.answering) {
                    const ssize_t got = ::recv(c.fd, buf, sizeof buf, 0);
                    if (got <= 0) {
                        if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                        close_client(c);  // EOF before a full line, or an error
                        continue;
                    }
                    c.in.append(buf, static_cast<std::size_t>(got));
                    const auto nl = c.in.find('\n');
                    if (nl == std::string::npos) {
                        if (c.in.size() > kMaxStatusRequestBytes) close_client(c);
                        continue;
                    }
                    std::string_view line(c.in.data(), nl);
                    if (line.size() > kMaxStatusRequestBytes) {
                        close_client(c);
                        continue;
                    }
                    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
                    c.out = answer(line);
                    c.answering = true;
                }
                // Answering: write what the socket takes now; POLLOUT brings us back for the rest.
                const ssize_t put =
                    ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
                if (put < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                if (put <= 0) {
                    close_client(c);
                    continue;
                }
                c.sent += static_cast<std::size_t>(put);
                if (c.sent == c.out.size()) close_client(c);
            }
            for (auto& c : clients) {
                if (c.fd >= 0 && now >= c.deadline) close_client(c);  // silent or slow client
            }
            std::erase_if(clients, [](const Client& c) { return c.fd < 0; });
            if (fds[1].revents & POLLIN) accept_some(listen_fd_, options_, clients, now);
        } catch (...) {
            // Out of memory: drop every client and keep serving.
            for (auto& c : clients) close_client(c);
            clients.clear();
        }
    }
}

}  // namespace sotto::sottod
