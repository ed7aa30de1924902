// SPDX-License-Identifier: Apache-2.0
package org.sotto;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps a native handle alive while calls use it. Each call {@link #enter}s (one CAS) and
 * {@link #exit}s; {@link #close} makes every later {@code enter} throw, waits until the calls
 * already inside have returned, and tells exactly one closer to destroy the handle. So a close
 * racing with calls on other threads either waits for them or makes them fail cleanly with a
 * {@link SottoException}; the handle is never used after it was destroyed.
 *
 * It also refuses calls from inside sotto's log sink on the same thread (sotto forbids them,
 * and a close there would wait for itself).
 */
final class CallGate {
    private static final long CLOSED = 1L << 62;
    private static final AtomicInteger CALLBACKS_RUNNING = new AtomicInteger();
    private static final ThreadLocal<int[]> CALLBACK_DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    private final AtomicLong state = new AtomicLong(); // CLOSED bit | calls inside
    private final long handle;
    private boolean destroyed; // guarded by this

    CallGate(long handle) {
        this.handle = handle;
    }

    static void enterCallback() {
        CALLBACKS_RUNNING.incrementAndGet();
        CALLBACK_DEPTH.get()[0]++;
    }

    static void exitCallback() {
        CALLBACK_DEPTH.get()[0]--;
        CALLBACKS_RUNNING.decrementAndGet();
    }

    static void refuseInCallback() {
        if (CALLBACKS_RUNNING.get() != 0 && CALLBACK_DEPTH.get()[0] != 0) {
            throw SottoException.of(Status.FAILED_PRECONDITION, "sotto called from its log sink or progress listener");
        }
    }

    /** The handle, counted as in use until {@link #exit}; throws once closing has begun. */
    long enter() {
        refuseInCallback();
        for (;;) {
            long s = state.get();
            if ((s & CLOSED) != 0) throw SottoException.of(Status.FAILED_PRECONDITION, "the tracer is closed");
            if (state.compareAndSet(s, s + 1)) return handle;
        }
    }

    /** As {@link #enter}, also from inside a callback (for calls sotto allows there: cancel). */
    long enterFromCallback() {
        for (;;) {
            long s = state.get();
            if ((s & CLOSED) != 0) throw SottoException.of(Status.FAILED_PRECONDITION, "closed");
            if (state.compareAndSet(s, s + 1)) return handle;
        }
    }

    void exit() {
        if (state.decrementAndGet() == CLOSED) {
            synchronized (this) {
                notifyAll();
            }
        }
    }

    boolean isClosed() {
        return (state.get() & CLOSED) != 0;
    }

    /**
     * Closes the gate and waits until no call is inside. Returns the handle to destroy to
     * exactly one caller (0 to the others, which wait until it was destroyed: then close() has
     * the same effect whichever thread called it). Call {@link #destroyed()} after destroying.
     */
    long close() {
        refuseInCallback();
        boolean mine = false;
        for (;;) {
            long s = state.get();
            if ((s & CLOSED) != 0) break;
            if (state.compareAndSet(s, s | CLOSED)) {
                mine = true;
                break;
            }
        }
        boolean interrupted = false;
        synchronized (this) {
            while (state.get() != CLOSED || (!mine && !destroyed)) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    interrupted = true; // closing must finish; the flag is restored below
                }
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        return mine ? handle : 0;
    }

    synchronized void destroyed() {
        destroyed = true;
        notifyAll();
    }
}
