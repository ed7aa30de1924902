// SPDX-License-Identifier: Apache-2.0
package org.sotto;

/**
 * The natives of libsotto_jni (bindings/java/src/main/c), one per C ABI call. Handles are the C
 * pointers as longs; structs cross as byte arrays in the C layout (see {@link Layout}). Every
 * call that reaches a tracer takes {@code nowMs}, the snapshot of the app's clock (ignored when
 * the tracer uses the system clock).
 */
final class Native {
    static final int CHECK_FILES = 0;
    static final int CHECK_WINDOWS = 1;
    static final int CHECK_SCANS = 2;
    static final int CHECK_DAILY = 3;
    static final int CHECK_RISK_DAYS = 4;

    static {
        String path = System.getProperty("org.sotto.jni.library");
        if (path != null && !path.isEmpty()) {
            System.load(path);
        } else {
            System.loadLibrary("sotto_jni");
        }
        if (abiVersion() != headerAbiVersion()) {
            throw new UnsatisfiedLinkError("libsotto C ABI " + abiVersion()
                    + " loaded, libsotto_jni was built for " + headerAbiVersion());
        }
        Layout.verify(structSizes());
    }

    private Native() {}

    /** Loads the library (the class initializer does the work). */
    static void load() {}

    static native String version();
    static native int abiVersion();
    static native int headerAbiVersion();
    static native String statusName(int status);
    static native int[] structSizes();
    static native void setLogSink(LogSink sink, int minLevel);
    static native byte[] deriveRpis(byte[] tek, int firstInterval, int count);

    static native long trustCreate();
    static native void trustAdd(long trust, byte[] keyId, byte[] keyVersion, byte[] key, boolean pem);
    static native void trustDestroy(long trust);

    static native byte[] optionsDefaults();
    static native long open(byte[] pathUtf8, byte[] secret, boolean passphrase, long trust,
            boolean hasClock, long nowMs, byte[] options);
    static native void destroy(long tracer);

    static native byte[] currentAdvertisement(long tracer, long nowMs);
    static native boolean onAdvertisement(long tracer, long nowMs, byte[] data, int rssiDbm, long timeMs);
    static native int onAdvertisements(long tracer, long nowMs, byte[] packed, int count);
    static native void flush(long tracer, long nowMs);
    static native byte[] tick(long tracer, long nowMs);
    static native void applyRetention(long tracer, long nowMs, int flags);
    static native void eraseAll(long tracer, long nowMs);
    static native byte[] status(long tracer);
    static native byte[] storeStats(long tracer);

    static native byte[] importKeyFile(long tracer, long nowMs, byte[] zip, int flags);
    static native byte[] importKeyFilePair(long tracer, long nowMs, byte[] bin, byte[] sig, int flags);
    static native byte[] importKeyFilePath(long tracer, long nowMs, byte[] pathUtf8, int flags);

    static native long check(long tracer, long nowMs);
    static native byte[] checkSummary(long check);
    static native byte[] checkArray(long check, int kind, int windowIndex);
    static native void checkDestroy(long check);

    static native byte[] releaseOwnKeys(long tracer, long nowMs, int consent);

    static native byte[] uploadOwnKeys(long tracer, long nowMs, byte[] url, byte[] healthAuthorityId,
            byte[] verificationPayload, byte[] revisionToken, byte[] caFile, int timeoutMs, int transmissionRisk,
            int symptomOnsetInterval, int consent);

    static native byte[] updaterOptionsDefaults();
    static native long updaterCreate(long tracer, byte[] sourceUtf8, byte[] stateDirUtf8, byte[] options);
    static native void updaterRun(long updater, long tracer, long nowMs, Object listener);
    static native void updaterCancel(long updater);
    static native byte[] updaterSummary(long updater);
    static native byte[] updaterFile(long updater, int index);
    static native byte[] updaterFilePath(long updater, int index);
    static native long updaterTakeCheck(long updater);
    static native void updaterDestroy(long updater);
}
