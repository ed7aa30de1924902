// SPDX-License-Identifier: Apache-2.0
package org.sotto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sotto.TestSupport.DAY;
import static org.sotto.TestSupport.INTERVAL_MS;
import static org.sotto.TestSupport.options;
import static org.sotto.TestSupport.storeKey;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** close() racing with calls on other threads, and calls from inside sotto's callbacks. */
class ConcurrencyTest {
    @TempDir
    Path dir;

    private final TestSupport.TestClock clock = new TestSupport.TestClock((DAY + 72) * INTERVAL_MS);

    @AfterEach
    void noSink() {
        Sotto.clearLogSink();
    }

    private Tracer open() {
        return Tracer.open(dir.resolve("s.db").toString(), storeKey(1), options(clock).flushCount(64));
    }

    /** A unique RPI per (thread, n): every accepted advertisement becomes its own sighting. */
    private static byte[] serviceData(int thread, long n) {
        byte[] sd = new byte[20];
        sd[0] = (byte) thread;
        for (int i = 0; i < 8; i++) sd[1 + i] = (byte) (n >>> (8 * i));
        return sd;
    }

    @Test
    void closeWhileFourThreadsFeedLosesNothingTheyWereToldWasAccepted() throws Exception {
        Tracer t = open();
        AtomicLong accepted = new AtomicLong();
        AtomicReference<Throwable> unexpected = new AtomicReference<>();
        CountDownLatch running = new CountDownLatch(4);
        List<Thread> feeders = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            final int id = i;
            Thread th = new Thread(() -> {
                running.countDown();
                try {
                    for (long n = 0;; n++) {
                        if (id == 3 && n % 16 == 0) t.status();
                        if (id == 2 && n % 32 == 0) t.currentAdvertisement();
                        if (t.onAdvertisement(serviceData(id, n), -60, clock.nowMillis())) accepted.incrementAndGet();
                    }
                } catch (SottoException e) {
                    if (e.code() != Status.FAILED_PRECONDITION) unexpected.set(e);
                } catch (Throwable e) {
                    unexpected.set(e);
                }
            });
            th.start();
            feeders.add(th);
        }
        running.await();
        while (accepted.get() < 2000) Thread.onSpinWait();
        t.close(); // the feeders' calls inside finish; the ones after fail cleanly
        for (Thread th : feeders) {
            th.join(60_000);
            assertFalse(th.isAlive());
        }
        assertNull(unexpected.get());
        try (Tracer again = open()) {
            assertEquals(accepted.get(), again.storeStats().sightings(),
                    "every accepted advertisement was written when the tracer closed");
        }
    }

    @Test
    void closeWaitsForACallInsideSottoAndNewCallsFailMeanwhile() throws Exception {
        Tracer t = open();
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread importer = Thread.currentThread();
        // Holds the import inside sotto (its log call) until released.
        Sotto.setLogSink((level, message) -> {
            if (message.equals("tracer: key file refused") && Thread.currentThread() != importer) {
                inside.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }, LogLevel.INFO);
        AtomicReference<ImportResult> result = new AtomicReference<>();
        Thread worker = new Thread(() -> result.set(t.importKeyFile(new byte[] {1, 2, 3})));
        worker.setDaemon(true);
        Thread closer = new Thread(t::close);
        closer.setDaemon(true);
        try {
            worker.start();
            assertTrue(inside.await(60, TimeUnit.SECONDS));
            closer.start();
            while (!t.isClosed()) Thread.onSpinWait();
            SottoException late = org.junit.jupiter.api.Assertions.assertThrows(SottoException.class, t::status);
            assertEquals(Status.FAILED_PRECONDITION, late.code());
            closer.join(300);
            assertTrue(closer.isAlive(), "close() waits while a call is inside sotto");
        } finally {
            release.countDown();
        }
        worker.join(60_000);
        closer.join(60_000);
        assertFalse(closer.isAlive());
        assertEquals(Status.KEYFILE_MALFORMED, result.get().error(), "the call inside finished normally");
    }

    @Test
    void twoThreadsClosingAtOnceBothReturnOnceTheStoreIsClosed() throws Exception {
        for (int round = 0; round < 20; round++) {
            Tracer t = open();
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> closers = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                Thread c = new Thread(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    t.close();
                });
                c.start();
                closers.add(c);
            }
            go.countDown();
            for (Thread c : closers) c.join(60_000);
            assertTrue(t.isClosed());
            try (Tracer again = open()) { // the store was released by the one close that ran
                assertEquals(0, again.status().heard());
            }
        }
    }

    @Test
    void theLogSinkCannotCallTheTracerOrCloseIt() {
        Tracer t = open();
        try {
            AtomicReference<Throwable> fromSink = new AtomicReference<>();
            Sotto.setLogSink((level, message) -> {
                if (!message.equals("tracer: key file refused")) return;
                try {
                    t.close();
                } catch (Throwable e) {
                    fromSink.compareAndSet(null, e);
                }
                try {
                    t.status();
                } catch (Throwable e) {
                    fromSink.compareAndSet(null, e);
                }
            }, LogLevel.INFO);
            t.importKeyFile(new byte[] {1});
            assertTrue(fromSink.get() instanceof SottoException);
            assertEquals(Status.FAILED_PRECONDITION, ((SottoException) fromSink.get()).code());
            assertTrue(fromSink.get().getMessage().contains("log sink"));
            Sotto.clearLogSink();
            assertFalse(t.isClosed(), "the refused close did nothing");
            assertEquals(0, t.status().heard());
        } finally {
            t.close();
        }
    }

    @Test
    void anUnclosedTracerIsClosedByTheCleanerWhenUnreachable() throws Exception {
        Tracer t = open();
        assertTrue(t.onAdvertisement(serviceData(1, 1), -60, clock.nowMillis()));
        t = null; // never closed
        for (int i = 0; i < 200; i++) {
            System.gc();
            Thread.sleep(10);
            try (Tracer again = open()) {
                if (again.storeStats().sightings() == 1) return; // written by the cleaner's close
            } catch (SottoException e) {
                if (e.code() != Status.STORAGE_BUSY) throw e;
            }
        }
        throw new AssertionError("the cleaner never closed the tracer");
    }
}
