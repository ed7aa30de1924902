// SPDX-License-Identifier: Apache-2.0
package org.sotto;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The public keys (ECDSA P-256) key files may be signed with, for {@link Tracer.Options#trust}.
 * Each key is checked by sotto when added; a tracer copies the store when it opens, so changes
 * afterwards do not affect it. Thread-safe.
 */
public final class TrustStore {
    private record Entry(byte[] keyId, byte[] keyVersion, byte[] key, boolean pem) {}

    private final List<Entry> entries = new ArrayList<>();

    static {
        Native.load();
    }

    /**
     * Adds a PEM public key ({@code -----BEGIN PUBLIC KEY-----}). With {@code keyId} null it is
     * tried for signatures of any name; otherwise only for signatures naming exactly
     * ({@code keyId}, {@code keyVersion}) ({@code keyVersion} null: ""). Throws
     * {@link Status#INVALID_ARGUMENT} unless it is exactly an EC P-256 key.
     */
    public TrustStore addPem(String pem, String keyId, String keyVersion) {
        return add(Objects.requireNonNull(pem, "pem").getBytes(StandardCharsets.US_ASCII), true, keyId, keyVersion);
    }

    /** As {@link #addPem}, for a DER SubjectPublicKeyInfo ({@code PublicKey.getEncoded()}). */
    public TrustStore addDer(byte[] subjectPublicKeyInfo, String keyId, String keyVersion) {
        return add(Objects.requireNonNull(subjectPublicKeyInfo, "subjectPublicKeyInfo").clone(), false, keyId,
                keyVersion);
    }

    /** Number of keys. */
    public synchronized int size() {
        return entries.size();
    }

    private synchronized TrustStore add(byte[] key, boolean pem, String keyId, String keyVersion) {
        Entry e = new Entry(utf8(keyId), utf8(keyVersion), key, pem);
        long probe = Native.trustCreate(); // refuse a bad key now, not when a tracer opens
        try {
            Native.trustAdd(probe, e.keyId, e.keyVersion, e.key, e.pem);
        } finally {
            Native.trustDestroy(probe);
        }
        entries.add(e);
        return this;
    }

    private static byte[] utf8(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    /** A new native store with every key; the caller destroys it (Native.trustDestroy). */
    synchronized long toNative() {
        long h = Native.trustCreate();
        try {
            for (Entry e : entries) Native.trustAdd(h, e.keyId, e.keyVersion, e.key, e.pem);
        } catch (RuntimeException | Error x) {
            Native.trustDestroy(h);
            throw x;
        }
        return h;
    }
}
