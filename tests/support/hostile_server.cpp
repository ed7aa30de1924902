#include "hostile_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>

namespace sotto::test {

HostileServer::HostileServer(Mode mode, std::size_t entries) : mode_(mode), entries_(entries) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) throw std::runtime_error("hostile server: socket");
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 64) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(listen_fd_);
        throw std::runtime_error("hostile server: bind/listen");
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
}

HostileServer::~HostileServer() {
    stop_ = true;
    acceptor_.join();
    std::vector<std::thread> workers;
    {
        std::lock_guard lock(mu_);
        workers.swap(workers_);
    }
    for (auto& w : workers) w.join();
    for (int fd : fds_) ::close(fd);
    ::close(listen_fd_);
}

std::string HostileServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

bool HostileServer::sleep_ms(int ms) const {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < until) {
        if (stop_) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return !stop_;
}

void HostileServer::accept_loop() {
    while (!stop_) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        ++connections_;
        std::lock_guard lock(mu_);
        fds_.push_back(fd);  // closed by the destructor: a stalled peer keeps its connection
        workers_.emplace_back([this, fd] { serve(fd); });
    }
}

void HostileServer::serve(int fd) {
    std::string buf;
    auto send_all = [fd](const std::string& s) {
        return ::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
    };
    while (!stop_) {
        // Read one request (headers only: GET has no body).
        std::size_t end;
        while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
            pollfd p{fd, POLLIN, 0};
            if (stop_) return;
            if (::poll(&p, 1, 50) <= 0) continue;
            char chunk[4096];
            const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
            if (got <= 0) return;
            buf.append(chunk, static_cast<std::size_t>(got));
        }
        const std::string request = buf.substr(0, end);
        buf.erase(0, end + 4);
        ++requests_;
        std::string path;
        if (const auto sp = request.find(' '); sp != std::string::npos)
            path = request.substr(sp + 1, request.find(' ', sp + 1) - sp - 1);
        const bool index = path.ends_with("/index.txt");
        auto listing = [this] {
            std::string body;
            for (std::size_t i = 0; i < entries_; ++i)
                body += "exposureKeyExport-XX/" + std::to_string(1600000000 + i) + "-00001.zip\n";
            return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                   "\r\n\r\n" + body;
        };
        switch (mode_) {
            case Mode::kSilent:
                while (sleep_ms(100)) {
                }
                return;
            case Mode::kDripHeaders: {
                const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n" +
                                         std::string(4000, 'X') + ": y\r\n\r\n";
                for (char c : head) {
                    if (!send_all(std::string(1, c)) || !sleep_ms(1000)) return;
                }
                return;
            }
            case Mode::kRedirectHang:
                if (index) {
                    if (!send_all("HTTP/1.1 302 Found\r\nLocation: /stall\r\nContent-Length: "
                                  "0\r\n\r\n"))
                        return;
                    continue;
                }
                while (sleep_ms(100)) {
                }
                return;
            case Mode::kMany404:
                if (!index && !sleep_ms(20)) return;  // a slow server: 10,000 take minutes
                if (!send_all(index ? listing()
                                    : std::string("HTTP/1.1 404 Not Found\r\nContent-Length: "
                                                  "10\r\n\r\nnot found\n")))
                    return;
                continue;
            case Mode::kIndexThenHang:
                if (index) {
                    if (!send_all(listing())) return;
                    continue;
                }
                while (sleep_ms(100)) {
                }
                return;
        }
    }
}

}  // namespace sotto::test
