#pragma once
// The demo's key server: a minimal HTTP/1.1 server on 127.0.0.1 (an ephemeral port) that serves
// files held in memory, in the layout of an export bucket (`/index.txt`, `/<path>.zip`). One
// thread, one request per connection, GET only, 404 for anything unknown. For the demo only: it
// lets a fresh clone run the whole story without any other program.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sotto/result.hpp>

namespace sotto::demo {

class BucketServer {
public:
    /// Binds 127.0.0.1:0 and starts serving. kStorageIo when the socket cannot be set up.
    static Result<std::unique_ptr<BucketServer>> start() noexcept;
    ~BucketServer();
    BucketServer(const BucketServer&) = delete;
    BucketServer& operator=(const BucketServer&) = delete;

    /// Serves `bytes` at `/path` from now on (replacing what was there).
    void put(const std::string& path, std::vector<std::uint8_t> bytes);
    /// "http://127.0.0.1:<port>".
    std::string url() const;
    /// GET requests answered with 200 so far.
    std::uint64_t served() const;

private:
    BucketServer(int fd, int port) noexcept : fd_(fd), port_(port) {}
    void run() noexcept;
    void answer(int client) noexcept;

    int fd_;
    int port_;
    std::thread thread_;
    mutable std::mutex mutex_;
    std::map<std::string, std::vector<std::uint8_t>> files_;
    std::uint64_t served_ = 0;
    bool stop_ = false;
};

}  // namespace sotto::demo
