#pragma once
// A real sottod child process for the daemon tests: started with a store, key file and status
// socket in a temp dir, stderr to a file; queried through its status socket; stopped with
// SIGTERM (SIGKILL after a timeout) and reaped on every exit path. Dies with the test process
// (PR_SET_PDEATHSIG).

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <sotto/store/encounter_store.hpp>

#include "support.hpp"

namespace sotto::test::sottod {

/// Path of the built sottod.
std::string sottod_path();

/// A fresh random store key file (mode 0600) at `path`.
void write_store_key(const std::filesystem::path& path);

class Sottod {
public:
    /// Starts sottod with `--store dir/store.db --key-file dir/store.key --status-socket
    /// dir/status.sock` plus `args`, and waits (at most 10 s) for the status socket.
    /// With `default_socket` set, no --status-socket is passed: sottod picks its default, which
    /// the caller names there (waited for and queried instead of dir/status.sock).
    Sottod(const std::filesystem::path& dir, const std::vector<std::string>& args,
           const std::vector<std::string>& env = {},
           const std::filesystem::path& default_socket = {});
    ~Sottod();
    Sottod(const Sottod&) = delete;
    Sottod& operator=(const Sottod&) = delete;

    /// The status object (fails the test if the socket does not answer).
    nlohmann::json status() const;
    /// Polls the status until `pred` holds, at most `timeout`; returns the last status.
    nlohmann::json wait_for(const std::function<bool(const nlohmann::json&)>& pred,
                            std::chrono::milliseconds timeout) const;
    /// SIGTERM, then waits at most `timeout` (SIGKILL after). Returns the exit code (128+signal).
    int stop(std::chrono::milliseconds timeout = std::chrono::milliseconds{15'000});
    /// Everything it wrote to stderr so far.
    std::string log() const;
    pid_t pid() const noexcept { return pid_; }
    const std::filesystem::path& socket() const noexcept { return socket_; }

private:
    std::filesystem::path dir_;
    std::filesystem::path socket_;
    std::filesystem::path log_;
    pid_t pid_ = -1;
};

/// Opens `dir/store.db` with `dir/store.key` read-only and returns its stats.
store::StoreStats store_stats(const std::filesystem::path& dir);

/// True when every line of `log` is "<N>text" with N in 0..7 and no line holds 32 or more
/// hex digits in a row (no key, RPI or hash) or a ':'-separated address.
bool log_is_journald_and_private(const std::string& log);

}  // namespace sotto::test::sottod
