// SPDX-License-Identifier: Apache-2.0
package org.sotto;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Shared by the tests: a settable clock, store keys, and a health authority that signs exports. */
final class TestSupport {
    /** 2021-02-22 UTC as an ENIntervalNumber (the day of the seed corpus' first key). */
    static final long DAY = 2689920;
    static final long INTERVAL_MS = 600_000;

    private TestSupport() {}

    /** A clock the test moves by hand. */
    static final class TestClock implements Clock {
        final AtomicLong ms;

        TestClock(long ms) {
            this.ms = new AtomicLong(ms);
        }

        @Override
        public long nowMillis() {
            return ms.get();
        }

        long advance(long by) {
            return ms.addAndGet(by);
        }

        void set(long to) {
            ms.set(to);
        }
    }

    static byte[] storeKey(int seed) {
        byte[] k = new byte[32];
        for (int i = 0; i < k.length; i++) k[i] = (byte) (seed * 31 + i);
        return k;
    }

    static Tracer.Options options(Clock clock) {
        return new Tracer.Options().clock(clock);
    }

    /** The advertisement, waiting out a pause (after opening or a release of own keys). */
    static Advertisement activeAdvertisement(Tracer t, TestClock clock) {
        Advertisement a = t.currentAdvertisement();
        if (!a.active()) {
            clock.set(a.validUntilMillis());
            a = t.currentAdvertisement();
        }
        if (!a.active()) throw new AssertionError("no advertisement after the pause");
        return a;
    }

    /** A health authority: an EC P-256 key pair and the export.zip writer (GAEN v1.2 format). */
    static final class Authority {
        final KeyPair keys;
        final String keyId;
        final String keyVersion;

        Authority(String keyId, String keyVersion) throws Exception {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            this.keys = g.generateKeyPair();
            this.keyId = keyId;
            this.keyVersion = keyVersion;
        }

        TrustStore trust() {
            return new TrustStore().addDer(keys.getPublic().getEncoded(), keyId, keyVersion);
        }

        /** export.bin: the 16-byte header and a TemporaryExposureKeyExport. */
        byte[] exportBin(List<DiagnosisKey> keys, long startSeconds, long endSeconds) {
            Proto p = new Proto();
            p.fixed64(1, startSeconds).fixed64(2, endSeconds).string(3, "DE").varint(4, 1).varint(5, 1);
            p.message(6, signatureInfo());
            for (DiagnosisKey k : keys) {
                Proto key = new Proto().bytes(1, k.tek()).varint(2, 6)
                        .varint(3, k.rollingStartInterval()).varint(4, k.rollingPeriod())
                        .varint(5, 1 /* CONFIRMED_TEST */)
                        .varint(6, 4 /* zig-zag: 2 days since onset, high infectiousness in sotto's
                                        CWA mapping */);
                p.message(7, key);
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes("EK Export v1    ".getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(p.toBytes());
            return out.toByteArray();
        }

        /** export.sig: a TEKSignatureList with one ECDSA-SHA256 signature over export.bin. */
        byte[] exportSig(byte[] exportBin) throws Exception {
            return exportSig(exportBin, keys.getPrivate());
        }

        byte[] exportSig(byte[] exportBin, PrivateKey signer) throws Exception {
            Signature s = Signature.getInstance("SHA256withECDSA");
            s.initSign(signer);
            s.update(exportBin);
            Proto sig = new Proto().message(1, signatureInfo()).varint(2, 1).varint(3, 1).bytes(4, s.sign());
            return new Proto().message(1, sig).toBytes();
        }

        private Proto signatureInfo() {
            return new Proto().string(3, keyVersion).string(4, keyId).string(5, "1.2.840.10045.4.3.2");
        }
    }

    static byte[] zip(byte[] bin, byte[] sig) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(out)) {
            z.putNextEntry(new ZipEntry("export.bin"));
            z.write(bin);
            z.closeEntry();
            z.putNextEntry(new ZipEntry("export.sig"));
            z.write(sig);
            z.closeEntry();
        }
        return out.toByteArray();
    }

    static Path corpus() {
        return Path.of(System.getProperty("sotto.test.corpus", "tests/fuzz/corpus/keyfile"));
    }

    static byte[] read(Path p) throws IOException {
        return Files.readAllBytes(p);
    }

    /** A minimal protobuf writer: what export.bin and export.sig need. */
    static final class Proto {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        private void raw(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }

        Proto varint(int field, long v) {
            raw((long) field << 3);
            raw(v);
            return this;
        }

        Proto fixed64(int field, long v) {
            raw(((long) field << 3) | 1);
            for (int i = 0; i < 8; i++) out.write((int) (v >>> (8 * i)) & 0xFF);
            return this;
        }

        Proto bytes(int field, byte[] b) {
            raw(((long) field << 3) | 2);
            raw(b.length);
            out.writeBytes(b);
            return this;
        }

        Proto string(int field, String s) {
            return bytes(field, s.getBytes(StandardCharsets.UTF_8));
        }

        Proto message(int field, Proto m) {
            return bytes(field, m.toBytes());
        }

        byte[] toBytes() {
            return out.toByteArray();
        }
    }
}
