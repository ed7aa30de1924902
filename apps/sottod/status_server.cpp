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
#include <string>
#include <vector>

#include "status_socket.hpp"

namespace sotto::sottod {
namespace {

using Clock = std::chrono::steady_clock;

struct Client {
    int fd = -1;
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

}  // namespace

Result<std::unique_ptr<StatusServer>> StatusServer::start(const std::filesystem::path& socket_path,
                                                          Producer producer, Options options) {
    try {
        if (!producer || options.max_clients == 0) {
            return make_error(ErrorCode::kInvalidArgument,
                              "status: no producer or no client slots");
        }
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
        if (::chmod(tmp.c_str(), 0660) != 0 || ::listen(fd, 16) != 0 ||
            ::rename(tmp.c_str(), socket_path.c_str()) != 0) {
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
            if (fds[1].revents & POLLIN) {
                while (true) {
                    const int cfd =
                        ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (cfd < 0) break;
                    if (clients.size() >= options_.max_clients) {  // evict the oldest
                        close_client(clients.front());
                        clients.pop_front();
                    }
                    Client c;
                    c.fd = cfd;
                    c.deadline = now + options_.client_timeout;
                    clients.push_back(std::move(c));
                }
            }
        } catch (...) {
            // Out of memory: drop every client and keep serving.
            for (auto& c : clients) close_client(c);
            clients.clear();
        }
    }
}

}  // namespace sotto::sottod
