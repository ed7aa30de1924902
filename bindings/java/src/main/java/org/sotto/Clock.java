// SPDX-License-Identifier: Apache-2.0
package org.sotto;

/**
 * The host's clock for a {@link Tracer} ({@code sotto_clock_fn}): Unix time in milliseconds.
 * Called once at the start of each tracer call that uses the time, on the calling thread, before
 * sotto runs; sotto sees that one instant for the whole call. If it throws, the call throws a
 * {@link SottoException} with {@link Status#CLOCK_SUSPECT} (the exception as its cause) and
 * sotto did nothing. Without a clock the tracer uses the system clock, which alone also brings
 * the boot-time clock that lets sotto refuse a wall clock pushed ahead in small steps: pass one
 * only when the app needs its own time (tests, replays).
 */
@FunctionalInterface
public interface Clock {
    long nowMillis();
}
