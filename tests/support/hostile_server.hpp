#pragma once
// A hostile HTTP key server on 127.0.0.1, in a thread of the test process: it accepts real TCP
// connections and then stalls in the ways a broken or malicious server does. Used to show that
// a download round is cancelled within a bound whatever the server does.

#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sotto::test {

class HostileServer {
public:
    enum class Mode {
        kSilent,         ///< accepts, reads the request, never answers
        kDripHeaders,    ///< answers every request with headers sent one byte per second
        kRedirectHang,   ///< index.txt: 302 to /stall; /stall: never answers
        kMany404,        ///< index.txt lists `entries` files; each answers 404 after 20 ms
        kIndexThenHang,  ///< index.txt lists `entries` files; each never answers
    };

    explicit HostileServer(Mode mode, std::size_t entries = 0);
    ~HostileServer();
    HostileServer(const HostileServer&) = delete;
    HostileServer& operator=(const HostileServer&) = delete;

    /// "http://127.0.0.1:<port>" (the bucket root).
    std::string url() const;
    /// Requests received so far (request lines parsed).
    std::size_t requests() const noexcept { return requests_.load(); }
    /// Connections accepted so far.
    std::size_t connections() const noexcept { return connections_.load(); }

private:
    void accept_loop();
    void serve(int fd);
    bool sleep_ms(int ms) const;  // false once the server stops

    Mode mode_;
    std::size_t entries_;
    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<std::size_t> requests_{0};
    std::atomic<std::size_t> connections_{0};
    std::mutex mu_;
    std::vector<std::thread> workers_;
    std::vector<int> fds_;
    std::thread acceptor_;
};

}  // namespace sotto::test
