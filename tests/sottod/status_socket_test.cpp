// The daemon's status socket: real Unix sockets in a temp dir, real threads.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "status_socket.hpp"
#include "support.hpp"

using namespace sotto;
using namespace sotto::sottod;
using namespace std::chrono_literals;

namespace {

std::string status_json() { return R"({"state":"running","rounds":3})"; }

// A raw client socket connected to `path` (blocking).
int raw_connect(const std::filesystem::path& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
    return fd;
}

// Reads until EOF (or 5 s); returns what arrived.
std::string read_all(int fd) {
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string out;
    char buf[1024];
    while (true) {
        const ssize_t got = ::recv(fd, buf, sizeof buf, 0);
        if (got <= 0) break;
        out.append(buf, static_cast<std::size_t>(got));
    }
    return out;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("A client gets the status as one JSON line", "[sottod][status]") {
    test::TempDir dir;
    auto server = StatusServer::start(dir / "status.sock", status_json);
    REQUIRE(server);
    auto r = query_status(dir / "status.sock");
    REQUIRE(r);
    const auto j = nlohmann::json::parse(*r);
    CHECK(j["state"] == "running");
    CHECK(j["rounds"] == 3);

    // Negative neighbour: no server, no answer.
    (*server)->stop();
    CHECK_FALSE(std::filesystem::exists(dir / "status.sock"));
    auto gone = query_status(dir / "status.sock");
    REQUIRE_FALSE(gone);
    CHECK(gone.error().code == ErrorCode::kNetworkIo);
}

TEST_CASE("The socket file is a socket with mode 0660 whatever the umask", "[sottod][status]") {
    test::TempDir dir;
    const mode_t old = ::umask(0);
    auto server = StatusServer::start(dir / "status.sock", status_json);
    ::umask(old);
    REQUIRE(server);
    struct stat st {};
    REQUIRE(::stat((dir / "status.sock").c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 07777) == 0660);
    // Nothing else was left in the directory (the temporary bind name is gone).
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++n;
    CHECK(n == 1);
}

TEST_CASE("A stale socket file from a crashed daemon is replaced", "[sottod][status]") {
    test::TempDir dir;
    // What a crashed daemon leaves behind: a socket file nobody listens on.
    const int dead = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(dead >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, (dir / "status.sock").c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::bind(dead, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
    ::close(dead);
    CHECK_FALSE(query_status(dir / "status.sock"));
    auto server = StatusServer::start(dir / "status.sock", status_json);
    REQUIRE(server);
    CHECK(query_status(dir / "status.sock"));
}

TEST_CASE("A second client is answered while a first one stays connected and silent",
          "[sottod][status]") {
    test::TempDir dir;
    auto server = StatusServer::start(dir / "status.sock", status_json, {5000ms, 16});
    REQUIRE(server);
    const int silent = raw_connect(dir / "status.sock");
    const auto t0 = std::chrono::steady_clock::now();
    auto r = query_status(dir / "status.sock", 1000ms);
    REQUIRE(r);
    CHECK(*r == status_json());
    CHECK(seconds_since(t0) < 1.5);  // far below the 5 s the silent client may hold its slot
    ::close(silent);
}

TEST_CASE("A silent client is closed after the client timeout", "[sottod][status]") {
    test::TempDir dir;
    auto server = StatusServer::start(dir / "status.sock", status_json, {300ms, 16});
    REQUIRE(server);
    const int fd = raw_connect(dir / "status.sock");
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(read_all(fd).empty());  // EOF from the server, no answer
    const double took = seconds_since(t0);
    CHECK(took >= 0.25);
    CHECK(took < 3.0);
    ::close(fd);
}

TEST_CASE("Garbage and over-long requests get an error or a closed connection",
          "[sottod][status]") {
    test::TempDir dir;
    std::atomic<int> produced{0};
    auto server = StatusServer::start(dir / "status.sock", [&] {
        ++produced;
        return status_json();
    });
    REQUIRE(server);

    int fd = raw_connect(dir / "status.sock");
    REQUIRE(::send(fd, "hello\n", 6, MSG_NOSIGNAL) == 6);
    CHECK(read_all(fd) == "{\"error\":\"unknown request\"}\n");
    ::close(fd);

    fd = raw_connect(dir / "status.sock");
    const std::string flood(10'000, 'x');  // no newline, far over the limit
    ::send(fd, flood.data(), flood.size(), MSG_NOSIGNAL);
    CHECK(read_all(fd).empty());
    ::close(fd);

    fd = raw_connect(dir / "status.sock");
    const std::string long_line = std::string(100, 'y') + "\n";  // with a newline, still too long
    REQUIRE(::send(fd, long_line.data(), long_line.size(), MSG_NOSIGNAL) == 101);
    CHECK(read_all(fd).empty());
    ::close(fd);

    fd = raw_connect(dir / "status.sock");
    REQUIRE(::send(fd, "status\r\n", 8, MSG_NOSIGNAL) == 8);  // CRLF is fine
    CHECK(read_all(fd) == status_json() + "\n");
    ::close(fd);

    fd = raw_connect(dir / "status.sock");
    REQUIRE(::send(fd, "stat", 4, MSG_NOSIGNAL) == 4);
    ::shutdown(fd, SHUT_WR);  // EOF before a full line
    CHECK(read_all(fd).empty());
    ::close(fd);

    CHECK(produced == 1);
    CHECK(query_status(dir / "status.sock"));  // still serving
}

TEST_CASE("A producer that throws or returns several lines yields an internal error",
          "[sottod][status]") {
    test::TempDir dir;
    int calls = 0;
    auto server = StatusServer::start(dir / "status.sock", [&]() -> std::string {
        if (++calls == 1) throw std::runtime_error("boom");
        return "{\"a\":1}\n{\"forged\":true}";
    });
    REQUIRE(server);
    auto first = query_status(dir / "status.sock");
    REQUIRE(first);
    CHECK(*first == "{\"error\":\"internal\"}");
    auto second = query_status(dir / "status.sock");
    REQUIRE(second);
    CHECK(*second == "{\"error\":\"internal\"}");
}

TEST_CASE("A flood of idle connections evicts the oldest and the real client is answered",
          "[sottod][status]") {
    test::TempDir dir;
    auto server = StatusServer::start(dir / "status.sock", status_json, {10'000ms, 4});
    REQUIRE(server);
    std::vector<int> idle;
    for (int i = 0; i < 12; ++i) idle.push_back(raw_connect(dir / "status.sock"));
    const auto t0 = std::chrono::steady_clock::now();
    auto r = query_status(dir / "status.sock", 2000ms);
    REQUIRE(r);
    CHECK(seconds_since(t0) < 2.0);  // not the 10 s the idle clients may hold their slots
    for (int fd : idle) ::close(fd);
}

TEST_CASE("The client gives up on a server that never answers", "[sottod][status]") {
    test::TempDir dir;
    // A listener that accepts nothing and says nothing.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, (dir / "mute.sock").c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd, 4) == 0);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = query_status(dir / "mute.sock", 300ms);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kNetworkTimeout);
    CHECK(seconds_since(t0) < 2.0);
    ::close(fd);
}

TEST_CASE("A socket path longer than sun_path is refused", "[sottod][status]") {
    const std::filesystem::path p = "/tmp/" + std::string(200, 'a') + "/status.sock";
    auto server = StatusServer::start(p, status_json);
    REQUIRE_FALSE(server);
    CHECK(server.error().code == ErrorCode::kInvalidArgument);
    CHECK(query_status(p).error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("A path naming a regular file, a directory or a symlink is refused and left alone",
          "[sottod][status]") {
    test::TempDir dir;
    test::write_text(dir / "file", "keep me\n");
    std::filesystem::create_directory(dir / "adir");
    std::filesystem::create_symlink(dir / "elsewhere.sock", dir / "link.sock");
    for (const auto& p : {dir / "file", dir / "adir", dir / "link.sock", dir / "no" / "s.sock"}) {
        CAPTURE(p);
        CHECK(check_status_socket_path(p).error().code == ErrorCode::kInvalidArgument);
        auto server = StatusServer::start(p, status_json);
        REQUIRE_FALSE(server);
        CHECK(server.error().code == ErrorCode::kInvalidArgument);
    }
    CHECK(test::read_text(dir / "file") == "keep me\n");
    CHECK(std::filesystem::is_directory(dir / "adir"));
    CHECK(std::filesystem::is_symlink(dir / "link.sock"));
    CHECK(check_status_socket_path(dir / "new.sock"));  // nothing there: fine
}
