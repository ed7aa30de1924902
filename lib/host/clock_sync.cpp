// The kernel's "clock synchronized" flag, read with ntp_adjtime(modes = 0).
#include <sys/timex.h>

#include <sotto/host/clock_sync.hpp>

namespace sotto::host {

bool clock_synchronized(int rc, int status) noexcept {
    if (rc < 0 || rc == TIME_ERROR) return false;
    return (status & STA_UNSYNC) == 0;
}

bool kernel_clock_synchronized() noexcept {
    struct timex tx {};
    tx.modes = 0;  // read only
    const int rc = ::ntp_adjtime(&tx);
    return clock_synchronized(rc, tx.status);
}

}  // namespace sotto::host
