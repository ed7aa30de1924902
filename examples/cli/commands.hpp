#pragma once
// The `sotto` tool: one file per command group, registered on a CLI11 app.

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

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

void add_derive_command(CLI::App& app, Runner& run);
void add_export_command(CLI::App& app, Runner& run);
/// `sotto ingest` and `sotto store stats|verify|rekey|erase`.
void add_store_commands(CLI::App& app, Runner& run);

}  // namespace sotto::cli
