// SPDX-License-Identifier: Apache-2.0
package org.sotto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sotto.TestSupport.DAY;
import static org.sotto.TestSupport.INTERVAL_MS;
import static org.sotto.TestSupport.activeAdvertisement;
import static org.sotto.TestSupport.options;
import static org.sotto.TestSupport.storeKey;
import static org.sotto.TestSupport.zip;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** KeyUpdater through JNI: a directory bucket, a server that never answers, cancel, close. */
class KeyUpdaterTest {
    @TempDir
    Path dir;

    private final TestSupport.TestClock clock = new TestSupport.TestClock((DAY + 72) * INTERVAL_MS);
    private TestSupport.Authority health;
    private ServerSocket silent;
    private final List<Socket> held = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        health = new TestSupport.Authority("262", "v1");
    }

    @AfterEach
    void tearDown() throws IOException {
        if (silent != null) silent.close();
        for (Socket s : held) s.close();
    }

    /** Bob heard Alice; her signed keys are in a bucket directory beside a file that is no zip. */
    private Tracer bobWithBucket(Path bucket) throws Exception {
        Tracer.Options o = options(clock).trust(health.trust());
        Tracer bob = Tracer.open(dir.resolve("bob.db").toString(), storeKey(2), o);
        try (Tracer alice = Tracer.open(dir.resolve("alice.db").toString(), storeKey(1), o)) {
            activeAdvertisement(alice, clock);
            for (int i = 0; i < 20; i++) {
                Advertisement a = alice.currentAdvertisement();
                if (a.active()) bob.onAdvertisement(a.serviceData(), -55, clock.nowMillis());
                clock.advance(60_000);
            }
            List<DiagnosisKey> keys = alice.releaseOwnKeys(Consent.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS);
            long end = clock.nowMillis() / 1000;
            byte[] bin = health.exportBin(keys, end - 86_400, end);
            Files.createDirectories(bucket);
            Files.write(bucket.resolve("a.zip"), zip(bin, health.exportSig(bin)));
            Files.write(bucket.resolve("b.zip"), "PK\u0003\u0004 not a zip".getBytes());
        }
        clock.advance(3_600_000);
        return bob;
    }

    private static Map<String, KeyUpdater.FileResult> byPath(KeyUpdater.Round r) {
        return r.files().stream().collect(Collectors.toMap(KeyUpdater.FileResult::path, Function.identity()));
    }

    @Test
    void aRoundChecksTheSignedFileOnceAndRemembersTheRefusedOne() throws Exception {
        Path bucket = dir.resolve("bucket");
        try (Tracer bob = bobWithBucket(bucket);
                KeyUpdater u = KeyUpdater.create(bob, bucket.toFile(), dir.resolve("state").toFile(), null)) {
            List<KeyUpdater.Progress> seen = new ArrayList<>();
            KeyUpdater.Round r = u.run(seen::add);
            assertEquals(KeyUpdater.INDEX_NEW, r.indexStatus());
            assertFalse(r.cancelled());
            Map<String, KeyUpdater.FileResult> files = byPath(r);
            assertEquals(KeyUpdater.CHECKED, files.get("a.zip").outcome());
            assertTrue(files.get("a.zip").keys() > 0);
            assertNull(files.get("a.zip").reasonName());
            assertEquals(KeyUpdater.REFUSED, files.get("b.zip").outcome());
            assertEquals("SOTTO_ERR_KEYFILE_MALFORMED", files.get("b.zip").reasonName());
            assertNotNull(r.check());
            assertTrue(r.check().validMatches() > 0, "Bob's exposure to Alice is found by the round");
            assertTrue(r.check().recorded());
            for (int i = 1; i < seen.size(); i++) {
                assertTrue(seen.get(i - 1).phase() <= seen.get(i).phase(), seen.toString()); // in order
            }
            assertEquals(KeyUpdater.PHASE_CHECK, seen.get(seen.size() - 1).phase());

            KeyUpdater.Round again = u.run();
            assertEquals(KeyUpdater.UNCHANGED, byPath(again).get("a.zip").outcome());
            assertEquals(KeyUpdater.STILL_REFUSED, byPath(again).get("b.zip").outcome());
            assertNull(again.check(), "nothing new: no check");
        }
    }

    @Test
    void aListenerThatThrowsCancelsTheRoundAndTheNextRoundDoesTheWork() throws Exception {
        Path bucket = dir.resolve("bucket");
        try (Tracer bob = bobWithBucket(bucket);
                KeyUpdater u = KeyUpdater.create(bob, bucket.toFile(), dir.resolve("state").toFile(), null)) {
            SottoException e = assertThrows(SottoException.class, () -> u.run(p -> {
                throw new IllegalStateException("app is stopping");
            }));
            assertEquals(Status.CANCELLED, e.code());
            assertTrue(e.getCause() instanceof IllegalStateException);
            KeyUpdater.Round r = u.run(p -> {
                // Only cancel() may be called from here; the tracer refuses.
                assertEquals(Status.FAILED_PRECONDITION, assertThrows(SottoException.class, bob::status).code());
            });
            assertEquals(KeyUpdater.CHECKED, byPath(r).get("a.zip").outcome());
        }
    }

    /** Accepts connections and never answers. */
    private String silentServer() throws IOException {
        silent = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> {
            try {
                while (true) held.add(silent.accept());
            } catch (IOException closed) {
                // the test is over
            }
        });
        t.setDaemon(true);
        t.start();
        return "http://127.0.0.1:" + silent.getLocalPort();
    }

    @Test
    void aServerThatNeverAnswersIsCancelledFromAnotherThread() throws Exception {
        String url = silentServer();
        try (Tracer t = Tracer.open(dir.resolve("s.db").toString(), storeKey(1), options(clock));
                KeyUpdater u = KeyUpdater.create(t, url, dir.resolve("state").toFile(), null)) { // default timeouts
            AtomicReference<KeyUpdater.Round> result = new AtomicReference<>();
            Thread worker = new Thread(() -> result.set(u.run()));
            worker.start();
            while (held.isEmpty()) Thread.sleep(10); // the index request is waiting for an answer
            // Meanwhile the tracer refuses imports of its own, and a second round.
            assertEquals(Status.FAILED_PRECONDITION,
                    assertThrows(SottoException.class, () -> t.importKeyFile(new byte[1])).code());
            assertEquals(Status.FAILED_PRECONDITION, assertThrows(SottoException.class, u::run).code());
            long cancelled = System.nanoTime();
            u.cancel();
            worker.join(30_000);
            assertFalse(worker.isAlive());
            double seconds = (System.nanoTime() - cancelled) / 1e9;
            KeyUpdater.Round r = result.get();
            assertTrue(r.cancelled());
            assertEquals(KeyUpdater.INDEX_FAILED, r.indexStatus());
            assertEquals(Status.CANCELLED, r.indexError());
            assertTrue(seconds < 5, "cancel took " + seconds + " s"); // 1 s when the machine is idle
            assertNull(r.check());
        }
    }

    @Test
    void closingTheTracerCancelsARunningRoundAndClosesItsUpdaters() throws Exception {
        String url = silentServer();
        Tracer t = Tracer.open(dir.resolve("s.db").toString(), storeKey(1), options(clock));
        KeyUpdater u = KeyUpdater.create(t, url, dir.resolve("state").toFile(), null);
        AtomicReference<Object> result = new AtomicReference<>();
        Thread worker = new Thread(() -> {
            try {
                result.set(u.run());
            } catch (SottoException e) {
                result.set(e);
            }
        });
        worker.start();
        while (held.isEmpty()) Thread.sleep(10);
        t.close(); // cancels the round, waits for it, closes the updater, then the store
        worker.join(30_000);
        assertFalse(worker.isAlive());
        assertTrue(result.get() instanceof KeyUpdater.Round && ((KeyUpdater.Round) result.get()).cancelled(),
                String.valueOf(result.get()));
        assertEquals(Status.FAILED_PRECONDITION, assertThrows(SottoException.class, u::run).code());
        u.cancel(); // after close: nothing
        u.close();
        assertEquals(Status.FAILED_PRECONDITION, assertThrows(SottoException.class,
                () -> KeyUpdater.create(t, url, dir.resolve("state2").toFile(), null)).code());
    }

    @Test
    void badArgumentsAreRefused() {
        try (Tracer t = Tracer.open(dir.resolve("s.db").toString(), storeKey(1), options(clock))) {
            assertEquals(Status.NETWORK_REFUSED, assertThrows(SottoException.class,
                    () -> KeyUpdater.create(t, "http://192.0.2.1/keys", dir.resolve("st").toFile(), null)).code());
            assertEquals(Status.INVALID_ARGUMENT, assertThrows(SottoException.class,
                    () -> KeyUpdater.create(t, dir.resolve("missing").toString(), dir.resolve("st").toFile(), null))
                    .code());
            assertEquals(Status.INVALID_ARGUMENT, assertThrows(SottoException.class,
                    () -> new KeyUpdater.Options().maxFileBytes(-1)).code());
        }
    }
}
