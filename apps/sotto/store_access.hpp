#pragma once
// Opening the encrypted store from the command line: --store, --key-file / --passphrase-file,
// --now, --retention-days, --confirm-clock. Shared by `sotto ingest`, `sotto store ...` and
// `sotto match`.

#include <cstdint>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include <sotto/clock.hpp>
#include <sotto/error.hpp>
#include <sotto/store/encounter_store.hpp>
#include <sotto/tracer.hpp>

namespace sotto::cli {

/// Options shared by every command that opens the store.
struct StoreOptions {
    std::string store;
    std::string key_file;
    std::string passphrase_file;
    std::optional<std::int64_t> now;
    std::uint32_t retention_days = store::kDefaultRetentionDays;
    /// --confirm-clock (commands that run retention): the operator vouches for the time.
    bool confirm_clock = false;
};

void add_store_options(CLI::App* cmd, StoreOptions& o);

/// Adds --confirm-clock to a command that runs retention.
void add_clock_confirmation(CLI::App* cmd, StoreOptions& o);

/// For a command that runs retention: refuses (exit 2) a --now more than kMaxClockJumpSeconds
/// ahead of the system clock unless --confirm-clock (seconds typed as milliseconds would
/// otherwise be a valid time tens of thousands of years ahead). Returns an exit code.
int check_retention_clock(const StoreOptions& o, std::int64_t now);

/// Prints the store error and returns kExitFailure.
int store_error(const Error& e);

/// Validates --now and --retention-days and sets `now` (the system clock when --now is absent).
/// Returns an exit code (0 on success).
int resolve_clock(const StoreOptions& o, std::int64_t& now);

/// Reads the credential (refusing group/other-readable files) and opens the store. Returns an
/// exit code; `out` is set on 0.
int open_store(const StoreOptions& o, bool create, std::optional<store::EncounterStore>& out,
               bool read_only = false);

/// Reads the credential and opens a Tracer on the store with `clock` (the --now clock). Returns an
/// exit code; `out` is set on 0.
int open_tracer(const StoreOptions& o, bool create, const Clock& clock, TracerOptions options,
                std::optional<Tracer>& out);

/// The credential named by the two flags (exactly one must be given). Returns an exit code.
int read_credential(const std::string& key_file, const std::string& passphrase_file,
                    const char* key_flag, const char* pass_flag,
                    std::optional<store::Credential>& out);

}  // namespace sotto::cli
