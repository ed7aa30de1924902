#include "bucket_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace sotto::demo {

Result<std::unique_ptr<BucketServer>> BucketServer::start() noexcept {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Error{ErrorCode::kStorageIo, "demo server: no socket"};
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(fd);
        return Error{ErrorCode::kStorageIo, "demo server: cannot listen on 127.0.0.1"};
    }
    try {
        std::unique_ptr<BucketServer> s(new BucketServer(fd, ntohs(addr.sin_port)));
        s->thread_ = std::thread([p = s.get()] { p->run(); });
        return s;
    } catch (...) {
        ::close(fd);
        return Error{ErrorCode::kInternal, "demo server: no thread"};
    }
}

BucketServer::~BucketServer() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
}

void BucketServer::put(const std::string& path, std::vector<std::uint8_t> bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    files_[path] = std::move(bytes);
}

std::string BucketServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::uint64_t BucketServer::served() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return served_;
}

void BucketServer::run() noexcept {
    for (;;) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stop_) return;
        }
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0) continue;
        answer(client);
        ::close(client);
    }
}

void BucketServer::answer(int client) noexcept {
    try {
        std::string request;
        char buf[2048];
        while (request.find("\r\n\r\n") == std::string::npos && request.size() < 8192) {
            pollfd p{client, POLLIN, 0};
            if (::poll(&p, 1, 2000) <= 0) return;
            const ssize_t got = ::recv(client, buf, sizeof buf, 0);
            if (got <= 0) return;
            request.append(buf, static_cast<std::size_t>(got));
        }
        std::string path;
        if (request.rfind("GET ", 0) == 0) path = request.substr(4, request.find(' ', 4) - 4);
        std::vector<std::uint8_t> body;
        bool found = false;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (auto it = files_.find(path); it != files_.end()) {
                body = it->second;
                found = true;
                ++served_;
            }
        }
        const std::string head =
            found ? "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                  : "HTTP/1.1 404 Not Found\r\n";
        const std::string header = head + "Content-Length: " + std::to_string(body.size()) +
                                   "\r\nConnection: close\r\n\r\n";
        std::string out = header;
        out.append(reinterpret_cast<const char*>(body.data()), body.size());
        std::size_t sent = 0;
        while (sent < out.size()) {
            const ssize_t n = ::send(client, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) return;
            sent += static_cast<std::size_t>(n);
        }
    } catch (...) {
        // out of memory while answering: drop the connection
    }
}

}  // namespace sotto::demo
