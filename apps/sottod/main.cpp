// sottod: the sotto exposure-notification daemon. See docs/daemon.md.
#include "config.hpp"
#include "daemon.hpp"

int main(int argc, char** argv) {
    auto parsed = sotto::sottod::parse_command_line(argc, argv);
    if (!parsed.config) return parsed.exit_code;
    return sotto::sottod::run_daemon(*parsed.config);
}
