#pragma once
// A test server script (tests/fetch/key_server.py, publish_server.py, ...) as a child process:
// `/usr/bin/python3 argv...`, which prints the port it listens on (127.0.0.1) as its first line.
// Shared by the tests and the benchmarks, so it uses no test framework.
#include <sys/types.h>

#include <string>
#include <vector>

namespace sotto::test {

class ChildServer {
public:
    /// Starts the server and waits (at most 10 s in all) for its port: a whole first line. The
    /// child dies with this process (PR_SET_PDEATHSIG). Throws std::runtime_error when no port
    /// arrives (the child is killed then).
    explicit ChildServer(std::vector<std::string> argv);
    /// Kills (SIGKILL) and reaps the child.
    ~ChildServer();
    ChildServer(const ChildServer&) = delete;
    ChildServer& operator=(const ChildServer&) = delete;

    int port() const noexcept { return port_; }
    pid_t pid() const noexcept { return pid_; }

private:
    pid_t pid_ = -1;
    int port_ = 0;
};

}  // namespace sotto::test
