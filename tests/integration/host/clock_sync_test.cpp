// The kernel's "clock synchronized" answer: the rule on ntp_adjtime's values, and the live call.
#include <sys/timex.h>

#include <catch2/catch.hpp>

#include <sotto/host/clock_sync.hpp>

using sotto::host::clock_synchronized;

TEST_CASE("A clock is synchronized only when the kernel says so", "[host][clock]") {
    // What timedatectl calls "System clock synchronized: yes": an ordinary state, STA_UNSYNC clear.
    CHECK(clock_synchronized(TIME_OK, STA_PLL));
    CHECK(clock_synchronized(TIME_INS, 0));  // a leap second pending is still synchronized
    CHECK(clock_synchronized(TIME_WAIT, STA_NANO));
    // Each negative neighbour: the flag set, the error state, a failed call.
    CHECK_FALSE(clock_synchronized(TIME_OK, STA_UNSYNC));
    CHECK_FALSE(clock_synchronized(TIME_OK, STA_PLL | STA_UNSYNC));
    CHECK_FALSE(clock_synchronized(TIME_ERROR, 0));
    CHECK_FALSE(clock_synchronized(-1, 0));
}

TEST_CASE("The live answer is the kernel's own", "[host][clock]") {
    struct timex tx {};
    const int rc = ::ntp_adjtime(&tx);
    REQUIRE(rc != -1);  // modes = 0 needs no privilege
    const bool expected = rc != TIME_ERROR && (tx.status & STA_UNSYNC) == 0;
    CAPTURE(rc, tx.status);
    CHECK(sotto::host::kernel_clock_synchronized() == expected);
}
