// See store_access.hpp.
#include "store_access.hpp"

#include <chrono>
#include <filesystem>

#include <fmt/core.h>

#include <sotto/core/interval.hpp>
#include <sotto/host/files.hpp>

#include "commands.hpp"

namespace sotto::cli {

using store::Credential;
using store::EncounterStore;

void add_store_options(CLI::App* cmd, StoreOptions& o) {
    cmd->add_option("--store", o.store, "Path of the store database")->required();
    auto* k = cmd->add_option("--key-file", o.key_file,
                              "File with the raw 256-bit key: 64 hex characters (mode 600)");
    auto* p = cmd->add_option("--passphrase-file", o.passphrase_file,
                              "File whose content (minus one trailing newline) is the passphrase "
                              "(mode 600)");
    k->excludes(p);
    cmd->add_option("--now", o.now,
                    "Unix seconds used as the current time for retention and validity checks "
                    "(default: the system clock); not a confirmation of that time");
    cmd->add_option("--retention-days", o.retention_days, "Days of data to keep (1..3650)")
        ->capture_default_str();
}

void add_clock_confirmation(CLI::App* cmd, StoreOptions& o) {
    cmd->add_flag("--confirm-clock", o.confirm_clock,
                  "Vouch for the time (--now, or the system clock): retention then runs even when "
                  "it is more than 3 days from the last time the store trusted");
}

namespace {

std::int64_t system_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The CLI's message for a host-file error: the static text says what failed, `what` names the file.
int file_error(const Error& e, const char* what) {
    switch (e.code) {
        case ErrorCode::kStorageIo:
            return fail(kExitUsage, fmt::format("cannot open or read the {}", what));
        case ErrorCode::kFailedPrecondition:
            return fail(kExitUsage,
                        fmt::format("the {} is accessible by group or others; chmod 600 it", what));
        case ErrorCode::kOutOfMemory:
            return fail(kExitFailure, e.what);
        default:
            return fail(kExitUsage, fmt::format("the {}: {}", what, e.what));
    }
}

int read_key_file(const std::string& path, std::optional<Credential>& out) {
    auto key = host::read_key_file(path);
    if (!key) return file_error(key.error(), "key file");
    out = Credential::raw_key(std::move(*key));
    return 0;
}

int read_passphrase_file(const std::string& path, std::optional<Credential>& out) {
    auto p = host::read_passphrase_file(path);
    if (!p) return file_error(p.error(), "passphrase file");
    out = Credential::passphrase(std::move(*p), store::KdfParams::interactive());
    return 0;
}

}  // namespace

// The credential named by --key-file / --passphrase-file (exactly one).
int read_credential(const std::string& key_file, const std::string& passphrase_file,
                    const char* key_flag, const char* pass_flag, std::optional<Credential>& out) {
    if (key_file.empty() == passphrase_file.empty())
        return fail(kExitUsage, fmt::format("give exactly one of {} and {}", key_flag, pass_flag));
    return key_file.empty() ? read_passphrase_file(passphrase_file, out)
                            : read_key_file(key_file, out);
}

int store_error(const Error& e) {
    return fail(kExitFailure, fmt::format("{} ({})", e.what, error_code_name(e.code)));
}

// Validates --now and --retention-days; fills `now`.
int resolve_clock(const StoreOptions& o, std::int64_t& now) {
    now = o.now ? *o.now : system_now();
    if (!core::interval_number(now))
        return fail(kExitUsage, "--now is outside the supported time range");
    if (o.retention_days < 1 || o.retention_days > 3650)
        return fail(kExitUsage, "--retention-days must be 1..3650");
    return 0;
}

int check_retention_clock(const StoreOptions& o, std::int64_t now) {
    if (!o.now || o.confirm_clock || now - system_now() <= store::kMaxClockJumpSeconds) return 0;
    return fail(kExitUsage,
                "--now is more than 3 days ahead of the system clock (milliseconds instead of "
                "seconds?); nothing was changed. Add --confirm-clock if that time is right");
}

// Reads the credential and opens the store. Returns an exit code; `out` is set on 0.
int open_store(const StoreOptions& o, bool create, std::optional<EncounterStore>& out,
               bool read_only) {
    if (!create)
        if (int rc = require_existing("store", o.store); rc != 0) return rc;
    std::optional<Credential> cred;
    if (int rc =
            read_credential(o.key_file, o.passphrase_file, "--key-file", "--passphrase-file", cred);
        rc != 0)
        return rc;
    store::OpenOptions opts;
    opts.create_if_missing = create;
    opts.read_only = read_only;
    opts.retention_days = o.retention_days;
    auto s = EncounterStore::open(o.store, std::move(*cred), opts);
    if (!s) {
        if (!create && s.error().code == ErrorCode::kStorageIo && !std::filesystem::exists(o.store))
            return require_existing("store", o.store);  // removed since the check above
        return store_error(s.error());
    }
    out.emplace(std::move(*s));
    return 0;
}

int open_tracer(const StoreOptions& o, bool create, const Clock& clock, TracerOptions options,
                std::optional<Tracer>& out) {
    if (!create)
        if (int rc = require_existing("store", o.store); rc != 0) return rc;
    std::optional<Credential> cred;
    if (int rc =
            read_credential(o.key_file, o.passphrase_file, "--key-file", "--passphrase-file", cred);
        rc != 0)
        return rc;
    options.store.create_if_missing = create;
    options.store.retention_days = o.retention_days;
    auto t = Tracer::open(o.store, std::move(*cred), clock, std::move(options));
    if (!t) {
        if (!create && t.error().code == ErrorCode::kStorageIo && !std::filesystem::exists(o.store))
            return require_existing("store", o.store);  // removed since the check above
        return store_error(t.error());
    }
    out.emplace(std::move(*t));
    return 0;
}

}  // namespace sotto::cli
