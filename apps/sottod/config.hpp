#pragma once
// sottod's configuration: the command line of docs/daemon.md, parsed and checked.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <sotto/result.hpp>

namespace sotto::sottod {

enum class RadioKind { kBluez, kSimulated };

/// Everything sottod is told. Durations in milliseconds.
struct Config {
    RadioKind radio = RadioKind::kBluez;
    std::filesystem::path store;
    /// `--key-file`; empty: `$CREDENTIALS_DIRECTORY/store-key` (systemd `LoadCredential=`).
    std::filesystem::path key_file;
    std::string adapter = "hci0";
    std::string keys_url;
    std::filesystem::path keys_dir;
    std::vector<std::string> pubkeys;
    std::int64_t check_every_ms = 4 * 3600 * 1000;
    /// Where the downloader keeps its state and spool; default `<store>.fetch`.
    std::filesystem::path fetch_dir;
    /// `--status-socket`, else `$RUNTIME_DIRECTORY/status.sock` (systemd), else
    /// `$XDG_RUNTIME_DIR/sotto/status.sock`; empty when none of them is set (logged at start).
    std::filesystem::path status_socket;
    /// The directory of the XDG default, created (mode 0700) before the socket is bound.
    std::filesystem::path status_socket_make_dir;
    std::int64_t http_timeout_ms = 120'000;
    std::uint64_t max_file_bytes = std::uint64_t{32} << 20;
    /// Most bytes of downloaded, not yet used key files kept at once (`--max-spool-bytes`).
    std::uint64_t max_spool_bytes = std::uint64_t{256} << 20;
    /// PEM CAs to trust for the https key server instead of the system store (pinning).
    std::string ca_file;
    bool scan_continuous = false;
    std::int64_t flush_interval_ms = 30'000;
    bool debug = false;
    /// `--trust-clock`: the wall clock is reliable without NTP (a battery-backed real-time clock
    /// on a device that never reaches a time server): retention after days off is confirmed by
    /// this alone. Default: only when the kernel says the clock is synchronized.
    bool trust_clock = false;
    // Simulated radio only.
    int sim_peers = 3;
    std::uint64_t sim_seed = 1;
    /// Start of simulated time (Unix ms); 0: the system clock's now.
    std::int64_t sim_start_ms = 0;
    /// Simulated milliseconds per real millisecond (1 .. 3600).
    int sim_speed = 1;
};

/// "90s", "15m", "4h", "1d", "250ms" or a plain number of seconds -> milliseconds.
/// kInvalidArgument for anything else, zero or negative, or more than 30 days.
Result<std::int64_t> parse_duration_ms(const std::string& text) noexcept;

/// What `parse_command_line` decided.
struct ParsedCommandLine {
    std::optional<Config> config;  ///< set when the daemon should run
    int exit_code = 0;             ///< otherwise: exit with this (0 after --help, 2 usage)
};

/// Parses argv (prints help or one usage line on stderr itself).
ParsedCommandLine parse_command_line(int argc, char** argv);

}  // namespace sotto::sottod
