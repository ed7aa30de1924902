// SPDX-License-Identifier: Apache-2.0
package org.sotto;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Run by ctest under {@code java -Xcheck:jni} (java.xcheck_jni): calls every kind of native in a
 * loop, a million calls by default, with a log sink installed at DEBUG so that upcalls happen
 * too, on two threads. The test fails on any "WARNING" the checker prints (a JNI call made
 * without checking for an exception, or with one pending, wrong types, a local-reference
 * overflow where the JVM reports it) and on a non-zero exit. With "leaky" it calls a test
 * library that breaks the rules on purpose (the neighbour: the checker must warn).
 */
public final class JniStress {
    static native void breakJniRules(int leakedLocalRefs);

    static void mayThrow() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("leaky")) {
            System.load(System.getProperty("sotto.test.leaky"));
            breakJniRules(100);
            System.out.println("broke the JNI rules");
            return;
        }
        final long calls = args.length > 0 ? Long.parseLong(args[0]) : 1_000_000;
        AtomicLong logged = new AtomicLong();
        Sotto.setLogSink((level, message) -> logged.incrementAndGet(), LogLevel.DEBUG);
        Path dir = Files.createTempDirectory("sotto-jni-stress");
        TestSupport.TestClock clock = new TestSupport.TestClock((TestSupport.DAY + 72) * TestSupport.INTERVAL_MS);
        long done;
        try (Tracer t = Tracer.open(dir.resolve("s.db").toString(), TestSupport.storeKey(1),
                TestSupport.options(clock).flushCount(512))) {
            Thread other = new Thread(() -> loop(t, clock, calls / 4, 7));
            other.start();
            done = loop(t, clock, calls - calls / 4, 3);
            other.join();
            done += calls / 4;
            if (t.status().heard() == 0) throw new AssertionError("nothing heard");
            // The key updater: rounds over a directory with progress upcalls, and cancels.
            Path bucket = Files.createDirectories(dir.resolve("bucket"));
            Files.write(bucket.resolve("a.zip"), new byte[] {'P', 'K', 3, 4});
            AtomicLong progress = new AtomicLong();
            try (KeyUpdater u = KeyUpdater.create(t, bucket.toFile(), dir.resolve("state").toFile(), null)) {
                for (int i = 0; i < 200; i++) {
                    Files.write(bucket.resolve("a.zip"), new byte[] {'P', 'K', 3, 4, (byte) i});
                    u.run(p -> progress.incrementAndGet());
                    if (i % 50 == 0) u.cancel(); // the next round stops at its start
                }
            }
            if (progress.get() == 0) throw new AssertionError("no progress reported");
        }
        // After close: every kind of call throws, a few thousand times.
        Tracer closed = Tracer.open(dir.resolve("c.db").toString(), TestSupport.storeKey(2), TestSupport.options(clock));
        closed.close();
        for (int i = 0; i < 5000; i++) {
            try {
                closed.onAdvertisement(new byte[20], -60, clock.nowMillis());
                throw new AssertionError("a closed tracer accepted a call");
            } catch (SottoException e) {
                if (e.code() != Status.FAILED_PRECONDITION) throw e;
            }
        }
        Sotto.clearLogSink();
        System.out.println("calls " + done + ", log messages " + logged.get());
    }

    /**
     * `n` calls of every kind; returns n. Mostly cheap ones (heard advertisements folded into
     * one observation per RPI and second, refused ones, status, derivations, exceptions), and
     * every 10,000 calls the ones that write to the store (flush, tick, import, check, release),
     * so that a million calls stay in seconds; what matters is that every path runs many times.
     */
    private static long loop(Tracer t, TestSupport.TestClock clock, long n, int seed) {
        byte[] sd = new byte[20];
        sd[2] = (byte) seed;
        byte[] bad = new byte[19];
        byte[] tek = new byte[16];
        HeardBatch batch = new HeardBatch(8);
        byte[] notAZip = new byte[64];
        for (long i = 0; i < n; i++) {
            long now = clock.nowMillis();
            int k = (int) (i % 1000);
            if (k < 600) {
                sd[0] = (byte) (i & 7);
                if (!t.onAdvertisement(sd, -60 - (k % 30), now)) throw new AssertionError("refused");
            } else if (k < 700) {
                if (t.onAdvertisement(bad, -60, now)) throw new AssertionError("accepted 19 bytes");
            } else if (k < 710) {
                batch.clear();
                for (int j = 0; j < 8; j++) batch.add(sd, -50 - j, now);
                batch.add(bad, -50, now);
                t.onAdvertisements(batch);
            } else if (k < 900) {
                t.status();
                t.storeStats();
            } else if (k < 950) {
                Gaen.deriveRpis(tek, TestSupport.DAY, 1 + k % 144);
            } else if (k < 980) {
                t.currentAdvertisement();
            } else if (k < 990) {
                try {
                    t.releaseOwnKeys(null); // refused by the C library: an exception each time
                    throw new AssertionError("released without consent");
                } catch (SottoException e) {
                    if (e.code() != Status.FAILED_PRECONDITION) throw e;
                }
            } else if (i % 10_000 == 990) {
                t.importKeyFile(notAZip); // refused file: a result, logged at INFO
                try {
                    t.uploadOwnKeys(null, new Upload.Options("http://127.0.0.1:9/v1/publish", "ha", "code"));
                    throw new AssertionError("uploaded without consent");
                } catch (SottoException e) {
                    if (e.code() != Status.FAILED_PRECONDITION) throw e;
                }
                t.check();
                t.tick();
                t.flush();
                clock.advance(1000);
            } else {
                t.onAdvertisement(new byte[0], -60, now);
            }
        }
        return n;
    }
}
