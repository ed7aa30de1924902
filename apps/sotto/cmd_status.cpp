// sotto status [--socket PATH] [--timeout-ms N]
//
// Asks a running sottod for its status over its Unix socket (docs/daemon.md) and prints the
// JSON line. Exit codes: 0 answered; 1 not running, no permission (not in group "sotto"),
// no answer in time; 2 bad arguments.
#include <chrono>
#include <memory>
#include <string>

#include <fmt/core.h>

#include "commands.hpp"
#include "status_socket.hpp"

namespace sotto::cli {
namespace {

struct StatusOptions {
    std::string socket = "/run/sotto/status.sock";
    std::uint32_t timeout_ms = 2000;
};

int run_status(const StatusOptions& o) {
    auto r = sottod::query_status(o.socket, std::chrono::milliseconds(o.timeout_ms));
    if (!r) {
        const int code = r.error().code == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailure;
        return fail(code, fmt::format("status: {}", r.error().what));
    }
    fmt::print("{}\n", printable(*r));
    return kExitOk;
}

}  // namespace

void add_status_command(CLI::App& app, Runner& run) {
    auto o = std::make_shared<StatusOptions>();
    auto* cmd = app.add_subcommand("status", "Ask the running sottod for its status (one JSON line)");
    cmd->add_option("--socket", o->socket, "The daemon's status socket")->capture_default_str();
    cmd->add_option("--timeout-ms", o->timeout_ms, "Give up after this long")->check(CLI::Range(1u, 60'000u));
    cmd->callback([o, &run] { run = [o] { return run_status(*o); }; });
}

}  // namespace sotto::cli
