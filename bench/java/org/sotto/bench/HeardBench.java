// SPDX-License-Identifier: Apache-2.0
package org.sotto.bench;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.Stream;
import org.sotto.HeardBatch;
import org.sotto.Tracer;

/**
 * Heard advertisements per second through the Java binding (JNI), one by one and in batches, on
 * the workload of {@code sotto-bench capi --only ingest} (random 20-byte service data over the
 * last 13 days, 07:00-22:00, in time order, a fixed host clock), so the numbers compare with the
 * C ABI's: run both with the same --heard and --batch.
 *
 * <pre>java -Djava.library.path=build/bindings/java -cp build/bindings/java/sotto.jar:build/bindings/java/sotto-java-bench.jar \
 *     org.sotto.bench.HeardBench [heard=1000000] [batch=1000]</pre>
 */
public final class HeardBench {
    private static final long TODAY = 2690496 + 144 * 30; // as bench_capi.cpp
    private static final long NOW_MS = (TODAY + 120) * 600_000;

    private record Heard(byte[] bytes, long timeMs, int rssi) {}

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int batchSize = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        Heard[] heard = makeHeard(n);
        Path dir = Files.createTempDirectory("sotto-bench-java");
        try {
            // Warm-up: JIT the Java side (not measured).
            run(dir.resolve("warm.db"), Arrays.copyOf(heard, Math.min(n, 100_000)), 1);
            run(dir.resolve("warm2.db"), Arrays.copyOf(heard, Math.min(n, 100_000)), batchSize);
            double single = run(dir.resolve("single.db"), heard, 1);
            double batched = run(dir.resolve("batch.db"), heard, batchSize);
            System.out.printf("ingest: %d heard advertisements, JNI one by one %.3f s, batches of %d %.3f s%n",
                    n, single, batchSize, batched);
            System.out.printf("jni_heard_per_second=%.0f%n", n / single);
            System.out.printf("jni_batch%d_heard_per_second=%.0f%n", batchSize, n / batched);
            System.out.printf("jni_batch%d_us_per_batch=%.1f%n", batchSize, batched * 1e6 / ((n + batchSize - 1) / batchSize));
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }

    /** Seconds to feed everything and flush, as bench_capi.cpp measures. */
    private static double run(Path db, Heard[] heard, int batchSize) {
        byte[] key = new byte[32];
        key[0] = 7;
        try (Tracer t = Tracer.open(db.toString(), key, new Tracer.Options().clock(() -> NOW_MS))) {
            long t0 = System.nanoTime();
            if (batchSize == 1) {
                for (Heard h : heard) {
                    if (!t.onAdvertisement(h.bytes, h.rssi, h.timeMs)) throw new IllegalStateException("refused");
                }
            } else {
                HeardBatch batch = new HeardBatch(batchSize);
                for (int i = 0; i < heard.length; i += batchSize) {
                    batch.clear();
                    int end = Math.min(heard.length, i + batchSize);
                    for (int j = i; j < end; j++) batch.add(heard[j].bytes, heard[j].rssi, heard[j].timeMs);
                    if (t.onAdvertisements(batch) != end - i) throw new IllegalStateException("refused");
                }
            }
            t.flush();
            double s = (System.nanoTime() - t0) / 1e9;
            if (t.status().stored() != heard.length) throw new IllegalStateException("not everything was stored");
            return s;
        }
    }

    private static Heard[] makeHeard(int n) {
        Random rng = new Random(77);
        Heard[] out = new Heard[n];
        byte[] r = new byte[24];
        for (int i = 0; i < n; i++) {
            rng.nextBytes(r);
            long j = TODAY - 144 * (1 + Byte.toUnsignedInt(r[20]) % 13) + 42 + Byte.toUnsignedInt(r[21]) % 90;
            out[i] = new Heard(Arrays.copyOf(r, 20), j * 600_000 + Byte.toUnsignedInt(r[22]) * 2000L,
                    -50 - Byte.toUnsignedInt(r[23]) % 40);
        }
        Arrays.sort(out, Comparator.comparingLong(Heard::timeMs));
        return out;
    }
}
