#pragma once
/// \file
/// Whether the operating system vouches for the wall clock: for hosts that confirm a suspect
/// clock to retention (`TracerOptions::clock_confirmed`, `store::RetentionOptions`). Linux only.
///
/// The kernel's answer is what systemd's `timedatectl` shows as "System clock synchronized":
/// `ntp_adjtime` (adjtimex) with `modes = 0` (reads, changes nothing, needs no privilege);
/// synchronized when it does not return TIME_ERROR and STA_UNSYNC is clear in `status`. An
/// NTP daemon (systemd-timesyncd, chrony, ntpd) clears STA_UNSYNC once it has set the clock.
///
/// Thread-safety: no state; call from any thread. Cost: one system call.

namespace sotto::host {

/// The rule, on the values `ntp_adjtime` returned (`rc`) and left in `timex::status`
/// (`status`): true when `rc` is not TIME_ERROR (5) and STA_UNSYNC (0x0040) is clear. A failed
/// call (`rc` -1) is not synchronized.
bool clock_synchronized(int rc, int status) noexcept;

/// Asks the kernel now (`ntp_adjtime` with `modes = 0`). False when the call fails.
bool kernel_clock_synchronized() noexcept;

}  // namespace sotto::host
