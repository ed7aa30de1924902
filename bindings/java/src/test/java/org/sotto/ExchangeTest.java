// SPDX-License-Identifier: Apache-2.0
package org.sotto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sotto.TestSupport.DAY;
import static org.sotto.TestSupport.INTERVAL_MS;
import static org.sotto.TestSupport.activeAdvertisement;
import static org.sotto.TestSupport.options;
import static org.sotto.TestSupport.storeKey;
import static org.sotto.TestSupport.zip;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The flow of the Python tests through the Java API: two tracers exchange advertisements, one
 * publishes its keys through consent and a signed export, the other checks and finds the
 * exposure; a third that never met them finds nothing; forged files are refused; erase; a wrong
 * key.
 */
class ExchangeTest {
    @TempDir
    Path dir;

    private final TestSupport.TestClock clock = new TestSupport.TestClock((DAY + 72) * INTERVAL_MS);
    private TestSupport.Authority health;

    /** What Bob heard from Alice: the RPI and its interval. */
    private record Heard(byte[] rpi, long interval) {}

    @BeforeEach
    void authority() throws Exception {
        health = new TestSupport.Authority("262", "v1");
    }

    private Tracer open(String name, int key) {
        return Tracer.open(dir.resolve(name).toString(), storeKey(key), options(clock).trust(health.trust()));
    }

    /** Alice and Bob on a tram for 30 minutes: each hears the other every 30 s. */
    private List<Heard> meet(Tracer alice, Tracer bob) {
        activeAdvertisement(alice, clock);
        activeAdvertisement(bob, clock);
        List<Heard> heard = new ArrayList<>();
        for (int s = 0; s < 60; s++) {
            Advertisement a = alice.currentAdvertisement();
            Advertisement b = bob.currentAdvertisement();
            if (a.active()) {
                assertEquals(20, a.serviceData().length);
                assertTrue(bob.onAdvertisement(a.serviceData(), -55, clock.nowMillis()));
                heard.add(new Heard(Arrays.copyOf(a.serviceData(), 16), a.interval()));
            }
            if (b.active()) assertTrue(alice.onAdvertisement(b.advertisingData(), -60, clock.nowMillis()));
            clock.advance(30_000);
        }
        return heard;
    }

    private static boolean derivedFromOneOf(Heard h, List<DiagnosisKey> keys) {
        for (DiagnosisKey k : keys) {
            if (k.coversInterval(h.interval) && Arrays.equals(Gaen.deriveRpis(k.tek(), h.interval, 1), h.rpi)) {
                return true;
            }
        }
        return false;
    }

    @Test
    void alicePublishesWithConsentBobFindsTheExposureCarolDoesNot() throws Exception {
        try (Tracer alice = open("alice.db", 1); Tracer bob = open("bob.db", 2); Tracer carol = open("carol.db", 3)) {
            List<Heard> heard = meet(alice, bob);
            assertEquals(60, heard.size());
            assertTrue(heard.stream().map(h -> Arrays.toString(h.rpi)).distinct().count() >= 2,
                    "the RPI rotates within 30 minutes");
            Random noise = new Random(3);
            for (int i = 0; i < 60; i++) {
                byte[] other = new byte[20];
                noise.nextBytes(other);
                assertTrue(carol.onAdvertisement(other, -55, clock.nowMillis() - i * 30_000L));
            }
            bob.flush();
            assertEquals(60, bob.status().heard());
            assertTrue(bob.storeStats().sightings() >= 2);

            // Without consent nothing is released, and nothing changes.
            long ownKeys = alice.storeStats().ownKeys();
            SottoException refused = assertThrows(SottoException.class, () -> alice.releaseOwnKeys(null));
            assertEquals(Status.FAILED_PRECONDITION, refused.code());
            assertEquals("SOTTO_ERR_FAILED_PRECONDITION", refused.codeName());
            assertEquals(ownKeys, alice.storeStats().ownKeys());
            assertTrue(alice.currentAdvertisement().active(), "still broadcasting: nothing was rolled");

            List<DiagnosisKey> keys = alice.releaseOwnKeys(Consent.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS);
            assertFalse(keys.isEmpty());
            for (Heard h : heard) assertTrue(derivedFromOneOf(h, keys), "every RPI Bob heard is Alice's");
            Advertisement after = alice.currentAdvertisement();
            assertTrue(!after.active() || heard.stream().noneMatch(h -> Arrays.equals(h.rpi,
                    Arrays.copyOf(after.serviceData(), 16))), "a released key is never broadcast again");

            long end = clock.nowMillis() / 1000;
            byte[] bin = health.exportBin(keys, end - 86_400, end);
            byte[] zip = zip(bin, health.exportSig(bin));
            int released = keys.size();
            keys.forEach(DiagnosisKey::destroy);
            assertThrows(IllegalStateException.class, () -> keys.get(0).tek());

            clock.advance(3_600_000);
            ImportResult r = bob.importKeyFile(zip);
            assertTrue(r.read() && r.verified() && r.matched());
            assertEquals(Status.OK, r.error());
            assertNull(r.errorName());
            assertEquals("DE", r.info().region());
            assertEquals(released, r.info().keysDelivered());
            assertEquals(KeyFileInfo.SIGNATURE_VERIFIED, r.info().signatureStatus());
            CheckResult res = bob.check();
            assertTrue(res.validMatches() > 0);
            assertEquals(0, res.suspectMatches());
            assertTrue(res.recorded());
            assertEquals(1, res.files().size());
            assertTrue(res.files().get(0).matchedRpis() >= 2);
            assertTrue(res.counters().keys() > 0);
            assertTrue(res.counters().rpisMatched() >= res.validMatches());
            assertEquals(0, res.counters().keysInvalid());
            assertFalse(res.windows().isEmpty());
            for (CheckResult.ExposureWindow w : res.windows()) {
                assertEquals(DAY * 600, w.dateUnix());
                assertFalse(w.scanInstances().isEmpty());
                // Alice announces -8 dBm (the default); Bob heard her at -55 dBm.
                for (CheckResult.ScanInstance s : w.scanInstances()) assertEquals(47, s.minAttenuationDb());
            }
            assertEquals(DAY * 600, res.dailySummaries().get(0).dateUnix());
            assertTrue(res.totalRiskLevel() == CheckResult.RISK_LOW || res.totalRiskLevel() == CheckResult.RISK_HIGH);

            // Carol imports the same verified file and finds nothing.
            ImportResult rc = carol.importKeyFile(zip);
            assertTrue(rc.verified() && rc.matched());
            CheckResult none = carol.check();
            assertEquals(0, none.validMatches());
            assertTrue(none.windows().isEmpty());
            assertTrue(none.dailySummaries().isEmpty());

            // A file already recorded is skipped by the next check's import, unless rematched.
            ImportResult again = bob.importKeyFile(zip);
            assertTrue(again.alreadyProcessed());
            assertFalse(again.matched());
            assertTrue(bob.importKeyFile(zip, Tracer.IMPORT_REMATCH).matched());
            assertTrue(bob.check().validMatches() > 0);

            // "Forget me": Bob's sightings and records are gone; the same file now matches nothing.
            bob.eraseAll();
            StoreStats st = bob.storeStats();
            assertEquals(0, st.sightings());
            assertEquals(0, st.exposureRecords());
            assertEquals(0, st.processedFiles());
            assertTrue(bob.importKeyFile(zip, Tracer.IMPORT_REMATCH).matched());
            assertEquals(0, bob.check().validMatches());
        }
    }

    @Test
    void forgedUnsignedAndUntrustedFilesAreRefusedAndMatchNothing() throws Exception {
        try (Tracer alice = open("alice.db", 1); Tracer bob = open("bob.db", 2)) {
            meet(alice, bob);
            List<DiagnosisKey> keys = alice.releaseOwnKeys(Consent.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS);
            long end = clock.nowMillis() / 1000;
            byte[] bin = health.exportBin(keys, end - 86_400, end);
            byte[] sig = health.exportSig(bin);

            byte[] forged = bin.clone();
            forged[forged.length - 20] ^= 1; // inside a key: the signature no longer covers it
            ImportResult r = bob.importKeyFile(zip(forged, sig));
            assertFalse(r.matched());
            assertFalse(r.verified());
            assertEquals(Status.AUTHENTICATION_FAILED, r.error());
            assertEquals("SOTTO_ERR_AUTHENTICATION_FAILED", r.errorName());

            TestSupport.Authority impostor = new TestSupport.Authority("262", "v1");
            ImportResult wrongSigner = bob.importKeyFile(zip(bin, impostor.exportSig(bin)));
            assertFalse(wrongSigner.matched());
            assertEquals(Status.AUTHENTICATION_FAILED, wrongSigner.error());

            TestSupport.Authority unknown = new TestSupport.Authority("999", "v1");
            byte[] unknownBin = unknown.exportBin(keys, end - 86_400, end);
            ImportResult untrusted = bob.importKeyFile(zip(unknownBin, unknown.exportSig(unknownBin)));
            assertFalse(untrusted.matched());
            assertEquals(Status.UNTRUSTED_KEY, untrusted.error());

            ImportResult unsigned = bob.importKeyFilePair(bin, new byte[0], 0);
            assertFalse(unsigned.matched());
            assertEquals(Status.UNSIGNED, unsigned.error());

            ImportResult garbage = bob.importKeyFile(new byte[] {'P', 'K', 3, 4, 0, 0});
            assertFalse(garbage.read());
            assertEquals(Status.KEYFILE_MALFORMED, garbage.error());

            CheckResult res = bob.check();
            assertEquals(0, res.validMatches(), "no refused file takes part in the check");
            assertFalse(res.recorded());

            // The genuine pair, from bytes and from a path, does match.
            assertTrue(bob.importKeyFilePair(bin, sig, 0).matched());
            assertTrue(bob.check().validMatches() > 0);
            Path file = dir.resolve("export.zip");
            Files.write(file, zip(bin, sig));
            ImportResult fromPath = bob.importKeyFile(file.toFile(), Tracer.IMPORT_REMATCH);
            assertTrue(fromPath.matched() && fromPath.verified());
            ImportResult missing = bob.importKeyFile(dir.resolve("missing.zip").toFile());
            assertFalse(missing.matched());
            assertEquals(Status.KEYFILE_IO, missing.error());
            assertTrue(bob.check().validMatches() > 0);
        }
    }

    @Test
    void aWrongKeyOrPassphraseOpensNothingAndTheRightOneFindsEverything() throws Exception {
        String path = dir.resolve("bob.db").toString();
        try (Tracer alice = open("alice.db", 1); Tracer bob = open("bob.db", 2)) {
            meet(alice, bob);
        }
        SottoException wrong = assertThrows(SottoException.class,
                () -> Tracer.open(path, storeKey(9), options(clock)));
        assertEquals(Status.STORAGE_WRONG_KEY, wrong.code());
        assertEquals("SOTTO_ERR_STORAGE_WRONG_KEY", wrong.codeName());
        SottoException shortKey = assertThrows(SottoException.class,
                () -> Tracer.open(path, new byte[31], options(clock)));
        assertEquals(Status.INVALID_ARGUMENT, shortKey.code());
        try (Tracer bob = Tracer.open(path, storeKey(2), options(clock))) {
            assertTrue(bob.storeStats().sightings() >= 2, "what was heard survived the reopen");
        }

        String pp = dir.resolve("p.db").toString();
        Tracer.Options cheap = options(clock).kdfCost(Tracer.KDF_MINIMUM);
        try (Tracer t = Tracer.openWithPassphrase(pp, "hunter2".getBytes(), cheap)) {
            t.onAdvertisement(new byte[20], -60, clock.nowMillis());
        }
        assertEquals(Status.STORAGE_WRONG_KEY, assertThrows(SottoException.class,
                () -> Tracer.openWithPassphrase(pp, "hunter3".getBytes(), cheap)).code());
        assertEquals(Status.INVALID_ARGUMENT, assertThrows(SottoException.class,
                () -> Tracer.openWithPassphrase(dir.resolve("e.db").toString(), new byte[0], cheap)).code());
        try (Tracer t = Tracer.openWithPassphrase(pp, "hunter2".getBytes(), cheap)) {
            assertEquals(1, t.storeStats().sightings());
        }

        Path notAStore = dir.resolve("notes.txt");
        Files.write(notAStore, new byte[8192]);
        assertEquals(Status.STORAGE_NOT_A_STORE, assertThrows(SottoException.class,
                () -> Tracer.open(notAStore.toString(), storeKey(1), options(clock))).code());
        assertEquals(Status.INVALID_ARGUMENT, assertThrows(SottoException.class,
                () -> Tracer.open(dir + "/a\0b", storeKey(1), options(clock))).code());
        Tracer.Options mustExist = options(clock).createIfMissing(false);
        SottoException absent = assertThrows(SottoException.class,
                () -> Tracer.open(dir.resolve("absent.db").toString(), storeKey(1), mustExist));
        assertTrue(absent.code() >= 300 && absent.code() < 400, absent.getMessage());
    }
}
