#include "child_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>

namespace sotto::test {

ChildServer::ChildServer(std::vector<std::string> argv) {
    argv.insert(argv.begin(), "python3");
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("test server: pipe failed");
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0) {
        close(out[0]);
        close(out[1]);
        throw std::runtime_error("test server: fork failed");
    }
    if (pid_ == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) std::_Exit(127);
        dup2(out[1], 1);
        execv("/usr/bin/python3", args.data());
        std::_Exit(127);
    }
    close(out[1]);
    // 10 s for the whole line, not for each byte (a child that trickles bytes is cut off too).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::string line;
    pollfd p{out[0], POLLIN, 0};
    char c = 0;
    while (line.find('\n') == std::string::npos) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0 ||
            read(out[0], &c, 1) != 1)
            break;
        line.push_back(c);
    }
    close(out[0]);
    // Only a whole line is a port: "80" from a child cut off while writing "8080\n" is not.
    port_ = line.ends_with('\n') ? std::atoi(line.c_str()) : 0;
    if (port_ <= 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        throw std::runtime_error("test server: " + argv.at(1) + " did not start");
    }
}

ChildServer::~ChildServer() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
}

}  // namespace sotto::test
