// sotto: command-line tool over the sotto library.
#include <cstdio>
#include <exception>

#include <fmt/core.h>

#include "commands.hpp"

namespace sotto::cli {
int fail(int code, const std::string& message) {
    fmt::print(stderr, "sotto: {}\n", message);
    return code;
}
}  // namespace sotto::cli

int main(int argc, char** argv) {
    using namespace sotto::cli;
    CLI::App app{"sotto: privacy-preserving exposure notification (GAEN v1.2) tool"};
    app.require_subcommand(1);
    Runner run;
    add_derive_command(app, run);
    add_export_command(app, run);
    add_store_commands(app, run);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
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
