// SPDX-License-Identifier: Apache-2.0
package org.sotto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sotto.TestSupport.DAY;
import static org.sotto.TestSupport.INTERVAL_MS;
import static org.sotto.TestSupport.activeAdvertisement;
import static org.sotto.TestSupport.options;
import static org.sotto.TestSupport.storeKey;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** One tracer at a time: the calls of the Python tests, the clock callback, and close(). */
class TracerTest {
    @TempDir
    Path dir;

    private final TestSupport.TestClock clock = new TestSupport.TestClock((DAY + 72) * INTERVAL_MS);

    private Tracer open() {
        return Tracer.open(dir.resolve("s.db").toString(), storeKey(1), options(clock));
    }

    @Test
    void theAdvertisementDecodesAndTodaysKeyIsResumedAfterAReopen() {
        Advertisement first;
        try (Tracer t = open()) {
            first = activeAdvertisement(t, clock);
            assertEquals(clock.nowMillis() / INTERVAL_MS, first.interval());
            assertTrue(first.validUntilMillis() > clock.nowMillis());
            assertEquals(31, first.advertisingData().length); // the default form, with Flags
            assertArrayEquals(first.serviceData(), Arrays.copyOfRange(first.advertisingData(), 11, 31));
            assertEquals(6, first.address().length);
        }
        clock.advance(3_600_000);
        try (Tracer t = Tracer.open(dir.resolve("s.db").toString(), storeKey(1),
                options(clock).advertisingForm(Tracer.ADV_WITHOUT_FLAGS))) {
            Advertisement second = activeAdvertisement(t, clock);
            assertEquals(28, second.advertisingData().length);
            assertFalse(Arrays.equals(first.serviceData(), second.serviceData()));
            List<DiagnosisKey> keys = t.releaseOwnKeys(Consent.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS);
            assertEquals(1, keys.size(), "today's key was resumed, not replaced");
            byte[] tek = keys.get(0).tek();
            assertArrayEquals(Arrays.copyOf(first.serviceData(), 16), Gaen.deriveRpis(tek, first.interval(), 1));
            assertArrayEquals(Arrays.copyOf(second.serviceData(), 16), Gaen.deriveRpis(tek, second.interval(), 1));
            assertFalse(keys.get(0).toString().contains(Arrays.toString(tek)));
        }
    }

    @Test
    void batchesAcceptTheGoodAndCountTheBad() {
        try (Tracer t = Tracer.open(dir.resolve("s.db").toString(), storeKey(1), options(clock).flushCount(2))) {
            long at = (DAY + 10) * INTERVAL_MS;
            byte[] sd = new byte[20];
            Arrays.fill(sd, (byte) 0x42);
            HeardBatch batch = new HeardBatch(1) // grows
                    .add(sd, -60, at)
                    .add(Arrays.copyOf(sd, 19), -60, at) // malformed
                    .add(sd, 99, at) // RSSI out of range
                    .add(sd, -61, at + 1000);
            assertEquals(4, batch.size());
            assertEquals(2, t.onAdvertisements(batch));
            TracerStatus s = t.status();
            assertEquals(2, s.heard());
            assertEquals(1, s.malformed());
            assertEquals(2, s.stored());
            batch.clear();
            assertEquals(0, t.onAdvertisements(batch));
            assertThrows(IllegalArgumentException.class, () -> new HeardBatch().add(new byte[32], -60, at));
            assertThrows(IndexOutOfBoundsException.class, () -> new HeardBatch().add(sd, 10, 20, -60, at));

            // One at a time: refused ones return false and are counted, never thrown.
            assertTrue(t.onAdvertisement(sd, -60, at + 2000));
            assertFalse(t.onAdvertisement(new byte[21], -60, at));
            assertFalse(t.onAdvertisement(sd, 21, at));
            assertEquals(3, t.status().heard());
            assertEquals(2, t.status().malformed());
            assertEquals(Status.INVALID_ARGUMENT,
                    assertThrows(SottoException.class, () -> t.onAdvertisement(null, -60, at)).code());
        }
    }

    @Test
    void aClockAMonthAheadDeletesNothingUntilTheHostConfirmsIt() {
        clock.set((DAY + 48) * INTERVAL_MS);
        try (Tracer t = open()) {
            assertEquals(TickReport.RETENTION_RAN, t.tick().retention());
            assertEquals(TickReport.RETENTION_NOT_DUE, t.tick().retention());
            byte[] sd = new byte[20];
            Arrays.fill(sd, (byte) 0x3C);
            assertTrue(t.onAdvertisement(sd, -60, clock.nowMillis()));
            t.flush();
            clock.advance(30L * 86_400_000);
            assertFalse(t.status().clockSuspect());
            TickReport paused = t.tick(); // not an exception: the rest of the work was done
            assertEquals(TickReport.RETENTION_PAUSED_CLOCK_SUSPECT, paused.retention());
            assertTrue(t.status().clockSuspect());
            assertEquals(TickReport.RETENTION_PAUSED_CLOCK_SUSPECT, t.tick().retention(), "retried each tick");
            assertEquals(Status.CLOCK_SUSPECT,
                    assertThrows(SottoException.class, () -> t.applyRetention(false)).code());
            assertEquals(1, t.storeStats().sightings());
            t.applyRetention(true);
            assertEquals(0, t.storeStats().sightings());
            assertTrue(t.tick().retention() != TickReport.RETENTION_PAUSED_CLOCK_SUSPECT);
            assertFalse(t.status().clockSuspect());
        }
    }

    @Test
    void aBatchHeardBeforeForgetMeAndDeliveredAfterItIsNotStored() {
        try (Tracer t = open()) {
            long heardAt = clock.nowMillis();
            clock.advance(5_000);
            t.eraseAll();
            clock.advance(1_000);
            byte[] before = new byte[20];
            Arrays.fill(before, (byte) 0x11);
            byte[] after = new byte[20];
            Arrays.fill(after, (byte) 0x22);
            t.onAdvertisements(new HeardBatch().add(before, -60, heardAt).add(after, -60, clock.nowMillis()));
            t.flush();
            assertEquals(1, t.status().stored());
            assertEquals(1, t.status().discarded(), "the one stamped before the erase");
            assertFalse(t.status().radioAttached());
            assertEquals(1, t.storeStats().sightings());
            assertEquals(0, t.storeStats().keyPublications());
        }
    }

    @Test
    void aClockThatThrowsGivesAClearErrorAndNothingIsDone() {
        AtomicBoolean broken = new AtomicBoolean();
        Clock flaky = () -> {
            if (broken.get()) throw new IllegalStateException("NTP lost");
            return clock.nowMillis();
        };
        try (Tracer t = Tracer.open(dir.resolve("s.db").toString(), storeKey(1), new Tracer.Options().clock(flaky))) {
            byte[] sd = new byte[20];
            assertTrue(t.onAdvertisement(sd, -60, clock.nowMillis()));
            broken.set(true);
            SottoException e = assertThrows(SottoException.class, () -> t.onAdvertisement(sd, -60, clock.nowMillis()));
            assertEquals(Status.CLOCK_SUSPECT, e.code());
            assertEquals("SOTTO_ERR_CLOCK_SUSPECT", e.codeName());
            assertTrue(e.getCause() instanceof IllegalStateException);
            assertTrue(e.getMessage().contains("clock"), e.getMessage());
            for (Executable call : List.<Executable>of(t::currentAdvertisement, t::tick, t::flush, t::eraseAll,
                    t::check, () -> t.releaseOwnKeys(Consent.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS),
                    () -> t.importKeyFile(new byte[10]), () -> t.onAdvertisements(new HeardBatch()))) {
                assertEquals(Status.CLOCK_SUSPECT, assertThrows(SottoException.class, call).code());
            }
            assertEquals(1, t.status().heard(), "nothing was done while the clock threw");
            assertEquals(0, t.status().checks());
            broken.set(false);
            assertTrue(t.onAdvertisement(sd, -60, clock.nowMillis() + 1000));
            assertEquals(2, t.status().heard());
        }
        broken.set(true);
        SottoException e = assertThrows(SottoException.class,
                () -> Tracer.open(dir.resolve("t.db").toString(), storeKey(1), new Tracer.Options().clock(flaky)));
        assertEquals(Status.CLOCK_SUSPECT, e.code());
    }

    @Test
    void afterCloseEveryMethodThrowsAndCloseIsIdempotent() {
        Tracer t = open();
        assertFalse(t.isClosed());
        t.close();
        assertTrue(t.isClosed());
        t.close();
        List<Executable> calls = new ArrayList<>(List.of(t::currentAdvertisement,
                () -> t.onAdvertisement(new byte[20], -60, clock.nowMillis()),
                () -> t.onAdvertisements(new HeardBatch().add(new byte[20], -60, clock.nowMillis())),
                t::flush, t::tick, () -> t.applyRetention(true), () -> t.importKeyFile(new byte[10]),
                () -> t.importKeyFile(new byte[10], Tracer.IMPORT_PARSE_ONLY),
                () -> t.importKeyFilePair(new byte[10], new byte[0], 0),
                () -> t.importKeyFile(dir.resolve("x.zip").toFile()), t::check,
                () -> t.releaseOwnKeys(Consent.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS), t::eraseAll, t::status,
                t::storeStats));
        for (Executable call : calls) {
            SottoException e = assertThrows(SottoException.class, call);
            assertEquals(Status.FAILED_PRECONDITION, e.code());
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
        // The store was closed cleanly: it opens again.
        try (Tracer again = open()) {
            assertEquals(0, again.status().heard());
        }
    }

    @Test
    void optionsAreCheckedAndDefaultsComeFromTheLibrary() {
        Tracer.Options o = new Tracer.Options();
        assertEquals(14, o.retentionDays());
        assertEquals(-8, o.txPowerDbm());
        assertTrue(o.flushCount() > 0);
        assertEquals(Status.INVALID_ARGUMENT, assertThrows(SottoException.class, () -> o.txPowerDbm(200)).code());
        assertEquals(Status.INVALID_ARGUMENT, assertThrows(SottoException.class, () -> o.retentionDays(-1)).code());
        assertEquals(Status.INVALID_ARGUMENT, assertThrows(SottoException.class, () -> o.kdfCost(256)).code());
        // Values in Java's range that the C library refuses: the open fails, nothing is created.
        for (Tracer.Options bad : List.of(options(clock).advertisingForm(7), options(clock).calibrationConfidence(4),
                options(clock).metadataMinorVersion(2), options(clock).kdfCost(9))) {
            assertEquals(Status.INVALID_ARGUMENT, assertThrows(SottoException.class,
                    () -> Tracer.open(dir.resolve("bad.db").toString(), storeKey(1), bad)).code());
        }
        assertFalse(dir.resolve("bad.db").toFile().exists());
        try (Tracer t = Tracer.open(dir.resolve("ok.db").toString(), storeKey(1),
                options(clock).txPowerDbm(-12).metadataMinorVersion(1).calibrationConfidence(3).retentionDays(21))) {
            assertTrue(activeAdvertisement(t, clock).active());
        }
    }

    @Test
    void theLogSinkGetsLevelAndStaticTextAndNoIdentifiers() {
        List<String> messages = new ArrayList<>();
        AtomicInteger warnings = new AtomicInteger();
        Sotto.setLogSink((level, message) -> {
            synchronized (messages) {
                messages.add(level + " " + message);
            }
            if (level == LogLevel.WARNING) warnings.incrementAndGet();
        }, LogLevel.INFO);
        try (Tracer t = open()) {
            Advertisement a = activeAdvertisement(t, clock);
            t.importKeyFile(new byte[] {1, 2, 3});
            synchronized (messages) {
                assertTrue(messages.contains("INFO tracer: store opened"), messages.toString());
                assertTrue(messages.contains("INFO tracer: key file refused"), messages.toString());
                for (String m : messages) {
                    assertFalse(m.toLowerCase().contains(hex(Arrays.copyOf(a.serviceData(), 4))), m);
                }
            }
            // A sink that throws is ignored: the call still works.
            Sotto.setLogSink((level, message) -> {
                throw new RuntimeException("sink failed");
            }, LogLevel.DEBUG);
            assertEquals(Status.KEYFILE_MALFORMED, t.importKeyFile(new byte[] {1}).error());
            Sotto.clearLogSink();
            int before = messages.size();
            t.importKeyFile(new byte[] {1});
            assertEquals(before, messages.size(), "nothing is logged without a sink");
        } finally {
            Sotto.clearLogSink();
        }
        assertThrows(NullPointerException.class, () -> Sotto.setLogSink(null, LogLevel.INFO));
        assertSame(LogLevel.ERROR, LogLevel.of(3));
        assertNotEquals(0, Sotto.version().length());
    }

    private static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) s.append(String.format("%02x", x));
        return s.toString();
    }
}
