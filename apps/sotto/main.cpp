// sotto: command-line tool over the sotto library.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <exception>
#include <fstream>
#include <limits>
#include <sstream>
#include <string_view>

#include <fmt/core.h>

#include <sotto/host/files.hpp>
#include <sotto/version.hpp>

#include "commands.hpp"

namespace sotto::cli {
int fail(int code, const std::string& message) {
    fmt::print(stderr, "sotto: {}\n", message);
    return code;
}

std::FILE* open_regular_file(const std::filesystem::path& p, std::uint64_t max_bytes,
                             std::string& why) {
    const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        why = "cannot open it";
        return nullptr;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        why = "not a regular file";
        return nullptr;
    }
    if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
        ::close(fd);
        why = fmt::format("larger than {} bytes", max_bytes);
        return nullptr;
    }
    const int flags = ::fcntl(fd, F_GETFL);
    std::FILE* f =
        flags >= 0 && ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0 ? ::fdopen(fd, "rb") : nullptr;
    if (f == nullptr) {
        ::close(fd);
        why = "cannot open it";
    }
    return f;
}

std::optional<std::string> read_text_file(const std::filesystem::path& p, std::uint64_t max_bytes) {
    std::string why;
    std::FILE* f = open_regular_file(p, max_bytes, why);
    if (f == nullptr) return std::nullopt;
    std::string out;
    char buf[4096];
    while (true) {
        const std::size_t n = std::fread(buf, 1, sizeof buf, f);
        out.append(buf, n);
        if (out.size() > max_bytes) break;  // the file grew after fstat
        if (n < sizeof buf) break;
    }
    const bool bad = std::ferror(f) != 0 || out.size() > max_bytes;
    std::fclose(f);
    if (bad) return std::nullopt;
    return out;
}

int require_existing(const char* command, const std::string& path) {
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::symlink_status(path, ec)) &&
        std::filesystem::exists(path, ec))
        return 0;
    return fail(kExitUsage, fmt::format("{}: {}: no such file", command, printable(path)));
}

int read_signing_key(const char* command, const std::string& path,
                     std::optional<keyfile::ExportSigner>& out) {
    if (int rc = require_existing(command, path); rc != 0) return rc;
    auto signer = host::read_signing_key_file(path);
    if (signer) {
        out.emplace(std::move(*signer));
        return 0;
    }
    switch (signer.error().code) {
        case ErrorCode::kFailedPrecondition:
            return fail(kExitUsage,
                        fmt::format("{}: --signing-key is accessible by group or others; chmod "
                                    "600 it",
                                    command));
        case ErrorCode::kStorageIo:
            return fail(kExitUsage, fmt::format("{}: cannot read --signing-key", command));
        default:
            return fail(kExitUsage,
                        fmt::format("{}: --signing-key: {}", command, signer.error().what));
    }
}

std::string printable(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c < 0x20 || c > 0x7e) c = '?';
    return out;
}

std::string utc_time(std::int64_t t) {
    if (t < 0 || t > static_cast<std::int64_t>(std::numeric_limits<std::int32_t>::max()) * 100)
        return "?";
    const auto tt = static_cast<std::time_t>(t);
    std::tm tm{};
    if (gmtime_r(&tt, &tm) == nullptr) return "?";
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

int load_trust_store(const std::vector<std::string>& pubkeys, const std::string& key_id,
                     const std::string& key_version, const char* command,
                     keyfile::TrustStore& trust) {
    if (key_id.empty() != key_version.empty())
        return fail(kExitUsage,
                    fmt::format("{}: give --key-id and --key-version together", command));
    if (!key_id.empty() && pubkeys.empty())
        return fail(kExitUsage, fmt::format("{}: --key-id needs --pubkey", command));
    std::vector<std::filesystem::path> paths(pubkeys.begin(), pubkeys.end());
    std::size_t bad = 0;
    if (auto r = host::add_pem_files(trust, paths, key_id, key_version, &bad); !r) {
        if (r.error().code == ErrorCode::kInvalidArgument &&
            r.error().what == std::string_view("file: not a regular file"))
            return fail(kExitUsage,
                        fmt::format("{}: --pubkey {}: not a regular file", command, pubkeys[bad]));
        if (r.error().code == ErrorCode::kStorageIo)
            return fail(kExitUsage,
                        fmt::format("{}: cannot read --pubkey {}", command, pubkeys[bad]));
        if (r.error().code == ErrorCode::kInvalidArgument &&
            r.error().what == std::string_view("file: larger than allowed"))
            return fail(kExitUsage,
                        fmt::format("{}: --pubkey {}: larger than 64 KiB", command, pubkeys[bad]));
        return fail(kExitUsage, fmt::format("{}: --pubkey {}: not an EC P-256 public key", command,
                                            pubkeys[bad]));
    }
    return 0;
}
namespace {

std::string subcommand_names(CLI::App& group) {
    std::string names;
    for (const CLI::App* sub : group.get_subcommands([](CLI::App*) { return true; })) {
        if (!names.empty()) names += ", ";
        names += sub->get_name();
    }
    return names;
}

CLI::App* find_subcommand(CLI::App& group, std::string_view word) {
    for (CLI::App* sub : group.get_subcommands([](CLI::App*) { return true; }))
        if (sub->check_name(std::string(word))) return sub;
    return nullptr;
}

}  // namespace

// Walks the command words of argv down the tree of groups before CLI11 sees them: an unknown
// word, or a group given no command, gets one line naming the commands it could have been.
// Stops at the first option (CLI11 then decides, --help included). Returns an exit code, or -1.
int check_command_words(CLI::App& app, int argc, char** argv) {
    CLI::App* group = &app;
    std::string path;
    for (int i = 1; i < argc; ++i) {
        const std::string_view word = argv[i];
        if (word.starts_with('-')) return -1;
        if (group->get_subcommands([](CLI::App*) { return true; }).empty()) return -1;
        CLI::App* next = find_subcommand(*group, word);
        if (next == nullptr)
            return fail(kExitUsage, fmt::format("{}unknown command '{}' (commands: {})", path,
                                                printable(word), subcommand_names(*group)));
        path += next->get_name() + ": ";
        group = next;
    }
    if (group->get_subcommands([](CLI::App*) { return true; }).empty()) return -1;
    return fail(kExitUsage,
                fmt::format("{}give a command: {} (see --help)",
                            group == &app ? std::string() : path, subcommand_names(*group)));
}

}  // namespace sotto::cli

int main(int argc, char** argv) {
    using namespace sotto::cli;
    CLI::App app{"sotto: privacy-preserving exposure notification (GAEN v1.2) tool"};
    app.require_subcommand(1);
    Runner run;
    add_derive_command(app, run);
    add_match_command(app, run);
    add_export_command(app, run);
    add_store_commands(app, run);
    add_status_command(app, run);
    add_keys_commands(app, run);
    add_demo_command(app, run);
    add_fetch_command(app, run);
    app.set_version_flag("--version", std::string("sotto ") + sotto::version_string(),
                         "Print the version and exit");

    if (int rc = check_command_words(app, argc, argv); rc >= 0) return rc;
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        // One line, exit code 2, whatever CLI11 would have chosen.
        return fail(kExitUsage, e.what());
    }
    if (!run) return fail(kExitUsage, "no command given (see --help)");
    try {
        return run();
    } catch (const std::exception& e) {
        return fail(kExitFailure, e.what());
    }
}
