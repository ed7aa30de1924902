#pragma once
// The `sotto` tool: one file per command group, registered on a CLI11 app.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include <sotto/keyfile/export_writer.hpp>
#include <sotto/keyfile/trust_store.hpp>

namespace sotto::cli {

/// Exit codes of the tool.
enum Exit : int {
    kExitOk = 0,
    kExitFailure = 1,  ///< the operation failed (I/O, store, crypto)
    kExitUsage = 2,    ///< bad arguments
    kExitRefused = 3,  ///< an input was refused (bad signature, untrusted key)
};

/// Set by a subcommand's callback: what to run once parsing succeeded.
using Runner = std::function<int()>;

/// Prints "sotto: <message>" on stderr and returns `code`.
int fail(int code, const std::string& message);

/// A file named on the command line that does not exist is a usage error in every command:
/// prints "COMMAND: PATH: no such file" and returns kExitUsage. Returns 0 when `path` exists.
int require_existing(const char* command, const std::string& path);

/// The health authority's signing key (PEM), with the store key's rule: owner-only permissions.
/// Prints one line and returns kExitUsage on a problem, else 0 with `out` set.
int read_signing_key(const char* command, const std::string& path,
                     std::optional<keyfile::ExportSigner>& out);

/// Largest key, certificate or CSV text file the CLI reads with `read_text_file`.
inline constexpr std::uint64_t kMaxTextFileBytes = 1 << 20;

/// The whole file as text, or nullopt when it cannot be read, is not a regular file (a FIFO or
/// device is refused without blocking on it) or is larger than `max_bytes`.
std::optional<std::string> read_text_file(const std::filesystem::path& p,
                                          std::uint64_t max_bytes = kMaxTextFileBytes);

/// Opens a regular file for reading without blocking on it (O_NONBLOCK until its type is known).
/// nullptr with `why` set when it cannot be opened, is not a regular file, or is larger than
/// `max_bytes`.
std::FILE* open_regular_file(const std::filesystem::path& p, std::uint64_t max_bytes,
                             std::string& why);

/// `s` with every byte outside printable ASCII replaced by '?': for text that comes from a file
/// (key ids, regions) and reaches a terminal or JSON.
std::string printable(std::string_view s);

/// "2021-03-04T12:00:00Z", or "?" outside the representable range.
std::string utc_time(std::int64_t unix_seconds);

/// Fills `trust` from PEM files: bound to `key_id`/`key_version` when given (both or neither),
/// otherwise trusted under any key id. Prints one line and returns kExitUsage on a problem, else 0.
int load_trust_store(const std::vector<std::string>& pubkeys, const std::string& key_id,
                     const std::string& key_version, const char* command,
                     keyfile::TrustStore& trust);

void add_derive_command(CLI::App& app, Runner& run);
/// `sotto match`: key files against the store.
void add_match_command(CLI::App& app, Runner& run);
void add_export_command(CLI::App& app, Runner& run);
/// `sotto ingest` and `sotto store stats|verify|rekey|erase`.
void add_store_commands(CLI::App& app, Runner& run);
/// `sotto status`: asks a running sottod (docs/daemon.md).
void add_status_command(CLI::App& app, Runner& run);
/// `sotto keys list|publish`: the device's own keys.
void add_keys_commands(CLI::App& app, Runner& run);
/// `sotto demo`: the simulated story (demo/demo.hpp).
void add_demo_command(CLI::App& app, Runner& run);
/// `sotto fetch`: download key files (sotto::fetch) and verify them.
void add_fetch_command(CLI::App& app, Runner& run);

}  // namespace sotto::cli
