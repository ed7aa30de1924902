#pragma once
// tests/fetch/publish_server.py as a child process on an ephemeral port of 127.0.0.1 (a key
// server's publish endpoint and, with --api-key, a verification server); killed and reaped by
// the destructor. Needs SOTTO_PUBLISH_SERVER_PATH.

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "child_server.hpp"

namespace sotto::test {

class PublishServer {
public:
    /// `args`: MODE and/or "--api-key=KEY", "--expired-code=CODE" (see publish_server.py).
    PublishServer(const std::filesystem::path& log, const std::string& code,
                  std::vector<std::string> args = {})
        : log_(log), server_(argv(log, code, std::move(args))) {}
    std::string base() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }
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
    static std::vector<std::string> argv(const std::filesystem::path& log, const std::string& code,
                                         std::vector<std::string> args) {
        std::vector<std::string> v = {SOTTO_PUBLISH_SERVER_PATH, log.string(), code};
        for (auto& a : args)
            if (!a.empty()) v.push_back(std::move(a));
        return v;
    }
    std::filesystem::path log_;
    ChildServer server_;
};

}  // namespace sotto::test
