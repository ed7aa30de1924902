#pragma once
// tests/fetch/publish_server.py as a child process on an ephemeral port of 127.0.0.1 (a key
// server's publish endpoint and, with --api-key, a verification server); killed and reaped by
// the destructor. Needs SOTTO_PUBLISH_SERVER_PATH.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace sotto::test {

class PublishServer {
public:
    /// `args`: MODE and/or "--api-key=KEY", "--expired-code=CODE" (see publish_server.py).
    PublishServer(const std::filesystem::path& log, const std::string& code,
                  std::vector<std::string> args = {})
        : log_(log) {
        std::vector<std::string> argv = {"python3", SOTTO_PUBLISH_SERVER_PATH, log.string(), code};
        for (auto& a : args)
            if (!a.empty()) argv.push_back(a);
        std::vector<char*> cargs;
        for (auto& a : argv) cargs.push_back(a.data());
        cargs.push_back(nullptr);
        int out[2];
        REQUIRE(pipe2(out, O_CLOEXEC) == 0);
        const pid_t parent = getpid();
        pid_ = fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) std::_Exit(127);
            dup2(out[1], 1);
            execv("/usr/bin/python3", cargs.data());
            std::_Exit(127);
        }
        close(out[1]);
        std::string line;
        pollfd p{out[0], POLLIN, 0};
        char c = 0;
        while (line.find('\n') == std::string::npos) {
            if (poll(&p, 1, 10'000) <= 0 || read(out[0], &c, 1) != 1) break;
            line.push_back(c);
        }
        close(out[0]);
        port_ = std::atoi(line.c_str());
        REQUIRE(port_ > 0);
    }
    PublishServer(const PublishServer&) = delete;
    PublishServer& operator=(const PublishServer&) = delete;
    ~PublishServer() {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
    std::string url() const { return base() + "/v1/publish"; }
    /// Every request so far, one JSON object each
    /// ({"path","headers","status","body_bytes","body"}).
    std::vector<nlohmann::json> requests() const {
        std::vector<nlohmann::json> out;
        std::ifstream in(log_);
        std::string line;
        while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
        return out;
    }

private:
    std::filesystem::path log_;
    pid_t pid_ = -1;
    int port_ = 0;
};

}  // namespace sotto::test
