#pragma once
// The daemon itself: opens the store, starts the radio, runs until SIGTERM/SIGINT. See
// docs/daemon.md for what it does when.

#include "config.hpp"

namespace sotto::sottod {

/// Runs sottod with `config` until SIGTERM or SIGINT; returns the process exit code
/// (0 after a clean stop, 1 when it could not start or the store failed, 2 for a bad
/// configuration file such as an unreadable --pubkey). Never throws.
int run_daemon(const Config& config) noexcept;

}  // namespace sotto::sottod
