// SPDX-License-Identifier: Apache-2.0
package org.sotto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sotto.TestSupport.DAY;
import static org.sotto.TestSupport.INTERVAL_MS;
import static org.sotto.TestSupport.options;
import static org.sotto.TestSupport.storeKey;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The library surface: codes and names, versions, protocol vectors, the trust store, interop. */
class ApiTest {
    @TempDir
    Path dir;

    /** The fuzz corpus' signing key (tests/fuzz/keyfile_seed_key.pem), as ("fuzz", "v1"). */
    static final String SEED_PEM = "-----BEGIN PUBLIC KEY-----\n"
            + "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEulSQvF1to8ojTUMV3/Zk9sQxw+z6\n"
            + "Ced8ZWKL3e/xXGFqE2GvcZG9wn5Mgd3eV5VFTKTIdLX5zALvZv1lgjuvfA==\n"
            + "-----END PUBLIC KEY-----\n";

    /** A library older than the binding fills only the first layout (struct_size 136 of
     *  sotto_tracer_status, 56 of sotto_store_stats): its zeros are refused, not reported. */
    @Test
    void fieldsAnOlderLibraryDidNotFillAreRefusedNotZero() {
        byte[] status = new byte[Layout.TRACER_STATUS];
        Layout.wrap(status).putInt(0, 136).putLong(8, 7);
        assertThrows(UnsatisfiedLinkError.class, () -> Layout.tracerStatus(status));
        Layout.wrap(status).putInt(0, Layout.TRACER_STATUS);
        assertEquals(7, Layout.tracerStatus(status).heard());
        byte[] stats = new byte[Layout.STORE_STATS];
        Layout.wrap(stats).putInt(0, 56);
        assertThrows(UnsatisfiedLinkError.class, () -> Layout.storeStats(stats));
        Layout.wrap(stats).putInt(0, Layout.STORE_STATS);
        assertEquals(0, Layout.storeStats(stats).keyPublications());
        byte[] summary = new byte[Layout.UPDATE_SUMMARY];
        Layout.wrap(summary).putInt(0, 104);
        assertThrows(UnsatisfiedLinkError.class,
                () -> Layout.filled(summary, Layout.UPDATE_SUMMARY, "sotto_update_summary"));
    }

    @Test
    void everyStatusConstantHasTheLibrarysCodeName() throws Exception {
        int n = 0;
        for (Field f : Status.class.getFields()) {
            if (!Modifier.isStatic(f.getModifiers()) || f.getType() != int.class) continue;
            int code = f.getInt(null);
            String expected = code == 0 ? "SOTTO_OK" : "SOTTO_ERR_" + f.getName();
            assertEquals(expected, Status.name(code), f.getName());
            n++;
        }
        assertEquals(34, n);
        assertEquals("SOTTO_ERR_UNKNOWN", Status.name(12345));
    }

    @Test
    void versions() {
        assertTrue(Sotto.version().matches("\\d+\\.\\d+\\.\\d+"), Sotto.version());
        assertEquals(1, Sotto.abiVersion());
    }

    @Test
    void rpisMatchTheOfficialVector() {
        byte[] tek = HexFormat.of().parseHex("75c734c6dd1a782de7a965da5eb93125");
        byte[] rpis = Gaen.deriveRpis(tek, 2642976, 144);
        assertEquals(144 * 16, rpis.length);
        assertArrayEquals(HexFormat.of().parseHex("8be6cd371c5c891604bfbe49df845096"), Arrays.copyOf(rpis, 16));
        assertArrayEquals(Arrays.copyOfRange(rpis, 16, 32), Gaen.deriveRpis(tek, 2642977, 1));
        assertEquals(Status.INVALID_ARGUMENT, assertThrows(SottoException.class,
                () -> Gaen.deriveRpis(Arrays.copyOf(tek, 15), 2642976, 1)).code());
        assertEquals(Status.INVALID_ARGUMENT,
                assertThrows(SottoException.class, () -> Gaen.deriveRpis(tek, 2642976, 0)).code());
        assertEquals(Status.INVALID_ARGUMENT,
                assertThrows(SottoException.class, () -> Gaen.deriveRpis(tek, 2642976, 145)).code());
        assertEquals(Status.INVALID_ARGUMENT,
                assertThrows(SottoException.class, () -> Gaen.deriveRpis(tek, -1, 1)).code());
        assertEquals(Status.INVALID_ARGUMENT,
                assertThrows(SottoException.class, () -> Gaen.deriveRpis(null, 1, 1)).code());
    }

    @Test
    void theTrustStoreTakesExactlyP256Keys() throws Exception {
        TrustStore trust = new TrustStore().addPem(SEED_PEM, "fuzz", "v1").addPem(SEED_PEM, null, null);
        assertEquals(2, trust.size());
        assertEquals(Status.INVALID_ARGUMENT, assertThrows(SottoException.class,
                () -> trust.addPem(SEED_PEM.replace('u', 'v'), "x", "v1")).code());
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp384r1"));
        byte[] p384 = g.generateKeyPair().getPublic().getEncoded();
        assertEquals(Status.INVALID_ARGUMENT,
                assertThrows(SottoException.class, () -> trust.addDer(p384, "x", "v1")).code());
        assertEquals(Status.INVALID_ARGUMENT, assertThrows(SottoException.class,
                () -> trust.addPem(SEED_PEM, "a\0b", "v1")).code());
        assertEquals(2, trust.size(), "refused keys are not added");
    }

    /** Files written by sotto's C++ export writer (the fuzz seed corpus) verify through Java. */
    @Test
    void theSeedCorpusVerifiesWithItsKeyAndATamperedPairIsRefused() throws Exception {
        Path corpus = TestSupport.corpus();
        TestSupport.TestClock clock = new TestSupport.TestClock((DAY + 2 * 144 + 72) * INTERVAL_MS);
        TrustStore trust = new TrustStore().addPem(SEED_PEM, "fuzz", "v1");
        try (Tracer t = Tracer.open(dir.resolve("s.db").toString(), storeKey(1), options(clock).trust(trust))) {
            byte[] pair = TestSupport.read(corpus.resolve("signed.pair"));
            int binLen = (pair[0] & 0xFF) | (pair[1] & 0xFF) << 8;
            byte[] bin = Arrays.copyOfRange(pair, 2, 2 + binLen);
            byte[] sig = Arrays.copyOfRange(pair, 2 + binLen, pair.length);
            byte[] bad = bin.clone();
            bad[bad.length - 20] ^= 1;
            ImportResult refused = t.importKeyFilePair(bad, sig, 0);
            assertFalse(refused.matched());
            assertEquals("SOTTO_ERR_AUTHENTICATION_FAILED", refused.errorName());
            ImportResult ok = t.importKeyFile(TestSupport.read(corpus.resolve("signed.zip")));
            assertTrue(ok.verified() && ok.matched());
            assertEquals(32, ok.info().exportBinSha256().length);
            ImportResult parseOnly = t.importKeyFilePair(bad, sig, Tracer.IMPORT_PARSE_ONLY);
            assertTrue(parseOnly.matched(), "parse-only: matched although not verified");
            assertFalse(parseOnly.verified());
            assertEquals(KeyFileInfo.SIGNATURE_BAD, parseOnly.info().signatureStatus());
            assertTrue(t.status().roundOpen());
            CheckResult res = t.check();
            assertFalse(t.status().roundOpen());
            assertFalse(res.recorded(), "a round with an unverified file is not recorded");
            assertEquals(3, res.files().size());
        }
    }

    @Test
    void consentHasOneValueAndKeysHideTheirBytes() {
        assertEquals("USER_CONFIRMED_UPLOAD_OF_OWN_KEYS", Consent.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS.toString());
        assertEquals(0x55504C44, Consent.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS.value);
        assertEquals(0, Consent.class.getConstructors().length, "no other consent can be made");
        DiagnosisKey k = new DiagnosisKey(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, 100, 144,
                0, 0, null);
        assertTrue(k.coversInterval(100) && k.coversInterval(243));
        assertFalse(k.coversInterval(99) || k.coversInterval(244));
        byte[] copy = k.tek();
        copy[0] = 9;
        assertEquals(1, k.tek()[0], "tek() hands out a copy");
        k.destroy();
        assertTrue(k.isDestroyed());
        assertThrows(IllegalStateException.class, k::tek);
    }
}
