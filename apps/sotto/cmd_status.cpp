// sotto status [--socket PATH] [--json]: asks a running sottod what it knows (docs/daemon.md).
//
// Exit codes: 0 the daemon answered, 1 it is not running or did not answer (or answered with
// something that is not its status), 2 bad arguments, 3 permission denied (not in group sotto).
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "status_socket.hpp"

namespace sotto::cli {
namespace {

// sottod's default socket: the system service's, or the one a daemon run by this user outside
// systemd serves ($XDG_RUNTIME_DIR/sotto/status.sock) when only that one exists.
std::string default_socket() {
    const std::string system = "/run/sotto/status.sock";
    std::error_code ec;
    if (std::filesystem::exists(system, ec)) return system;
    if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg != nullptr && *xdg == '/') {
        const std::string mine = std::string(xdg) + "/sotto/status.sock";
        if (std::filesystem::exists(mine, ec)) return mine;
    }
    return system;
}

struct StatusOptions {
    std::string socket = default_socket();
    bool as_json = false;
    int timeout_ms = 2000;
};

std::string field(const nlohmann::json& j, const char* group, const char* name) {
    if (!j.contains(group) || !j[group].is_object() || !j[group].contains(name)) return "?";
    const auto& v = j[group][name];
    return v.is_string() ? printable(v.get<std::string>()) : v.dump();
}

int run_status(const StatusOptions& o) {
    auto line = sottod::query_status(o.socket, std::chrono::milliseconds(o.timeout_ms));
    if (!line) {
        if (line.error().code == ErrorCode::kNetworkRefused)
            return fail(kExitRefused, "status: permission denied on the socket (join group sotto)");
        return fail(kExitFailure,
                    fmt::format("status: sottod does not answer ({})", line.error().what));
    }
    auto j = nlohmann::json::parse(*line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.contains("error") || !j.contains("heard"))
        return fail(kExitFailure, "status: the answer is not a sottod status");
    if (o.as_json) {
        fmt::print("{}\n", j.dump());
        return kExitOk;
    }
    fmt::print("sottod {} ({} radio), up {} s\n", printable(j.value("version", "?")),
               printable(j.value("radio", "?")), j.value("uptime_s", 0L));
    fmt::print(
        "bluetooth: adapter {}, advertising {}, scanning {}, {} scan windows, {} rotations\n",
        field(j, "bluetooth", "adapter_present"), field(j, "bluetooth", "advertising"),
        field(j, "bluetooth", "scanning"), field(j, "bluetooth", "scan_windows"),
        field(j, "bluetooth", "rotations"));
    fmt::print("heard: {} beacons accepted, {} stored, {} pending, {} malformed\n",
               field(j, "heard", "accepted"), field(j, "heard", "stored"),
               field(j, "heard", "pending"), field(j, "heard", "malformed"));
    if (j.contains("bluetooth") && j["bluetooth"].is_object() &&
        j["bluetooth"].contains("dropped") && j["bluetooth"]["dropped"].is_object()) {
        const auto& d = j["bluetooth"]["dropped"];
        fmt::print(
            "bluez: dropped {} malformed signals (no RSSI, bad types, no address), {} "
            "service-data entries (bad UUID, type or size)\n",
            d.contains("malformed_signals") ? d["malformed_signals"].dump() : "?",
            d.contains("service_data_entries") ? d["service_data_entries"].dump() : "?");
    }
    if (j.contains("keys") && j["keys"].is_object() && j["keys"].contains("off_reason") &&
        j["keys"]["off_reason"].is_string()) {
        fmt::print("key files: OFF: {}\n", printable(j["keys"]["off_reason"].get<std::string>()));
    } else if (j.contains("keys") && j["keys"].value("configured", false)) {
        fmt::print("key files: {} rounds ({} failed), {} used, {} refused, {} failed downloads\n",
                   field(j, "keys", "rounds"), field(j, "keys", "rounds_failed"),
                   field(j, "keys", "files_used"), field(j, "keys", "files_refused"),
                   field(j, "keys", "files_failed"));
    } else {
        fmt::print("key files: not configured (--keys-url or --keys-dir)\n");
    }
    fmt::print("exposure: risk {}, {} exposure windows\n", field(j, "exposure", "risk"),
               field(j, "exposure", "windows"));
    if (j.contains("retention") && j["retention"].is_object() &&
        j["retention"].value("clock_suspect", false))
        fmt::print(
            "retention: paused: the clock is more than 3 days from the store's last trusted time, "
            "or ran ahead of the time elapsed since the last run; nothing is deleted until it is "
            "corrected or synchronized\n");
    return kExitOk;
}

}  // namespace

void add_status_command(CLI::App& app, Runner& run) {
    auto o = std::make_shared<StatusOptions>();
    auto* cmd =
        app.add_subcommand("status", "Ask the running sottod what it heard, downloaded and found");
    cmd->add_option("--socket", o->socket,
                    "sottod's status socket (default /run/sotto/status.sock, or "
                    "$XDG_RUNTIME_DIR/sotto/status.sock when only that one exists)")
        ->capture_default_str();
    cmd->add_option("--timeout-ms", o->timeout_ms, "Give up after this long")
        ->check(CLI::Range(10, 60'000))
        ->capture_default_str();
    cmd->add_flag("--json", o->as_json, "Print the daemon's JSON object as is");
    cmd->callback([o, &run] { run = [o] { return run_status(*o); }; });
}

}  // namespace sotto::cli
