// SPDX-License-Identifier: Apache-2.0
package org.sotto;

import java.io.File;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;
import java.util.function.LongFunction;

/**
 * The device side of contact tracing over one encrypted store ({@code sotto_tracer}): own keys
 * and the advertisement to broadcast, heard advertisements, key-file imports and the exposure
 * check, the release of own keys with the user's consent, and "forget me".
 *
 * <p><b>Threads.</b> Every method may be called from any thread, concurrently (a scan callback
 * feeding while a worker imports and checks). {@link #close()} waits for calls running on other
 * threads; calls that start after it began throw a {@link SottoException} with
 * {@link Status#FAILED_PRECONDITION}, as does every method after close. A tracer that becomes
 * unreachable without close() is closed by a cleaner, but close it: the store stays locked and
 * pending advertisements unwritten until then.
 *
 * <p><b>Errors.</b> Failures throw {@link SottoException} with the C ABI's code; a refused key
 * file is a result ({@link ImportResult#error()}), not an exception.
 */
public final class Tracer implements AutoCloseable {
    /** Import flag: match a file even if it does not verify (never recorded). Opt-out. */
    public static final int IMPORT_PARSE_ONLY = 1;
    /** Import flag: match a file an earlier recorded check already processed. */
    public static final int IMPORT_REMATCH = 2;
    /** Advertising-data forms (Options#advertisingForm): 31 bytes with Flags (iOS). */
    public static final int ADV_WITH_FLAGS = 0;
    /** 28 bytes without the Flags AD structure (Android). */
    public static final int ADV_WITHOUT_FLAGS = 1;
    /** Argon2id cost of passphrase stores: 64 MiB, about 0.1 s on a phone core (default). */
    public static final int KDF_INTERACTIVE = 0;
    public static final int KDF_MODERATE = 1;
    /** No protection against guessing: tests only. */
    public static final int KDF_MINIMUM = 2;

    private static final Cleaner CLEANER = Cleaner.create();

    private final CallGate gate;
    private final Clock clock;
    private final Cleaner.Cleanable cleanable;
    /** The gates of this tracer's open KeyUpdaters (closed before the tracer). */
    private final Set<CallGate> updaters = ConcurrentHashMap.newKeySet();
    private final AtomicInteger roundsRunning = new AtomicInteger();

    /**
     * How a tracer is opened: the defaults of {@code sotto_tracer_options_init}, then what is set
     * here. Values the library refuses make {@code open} throw {@link Status#INVALID_ARGUMENT}.
     */
    public static final class Options {
        private final ByteBuffer raw = Layout.wrap(Native.optionsDefaults());
        private TrustStore trust;
        private Clock clock;

        /** Keys key files are verified with (copied at open). None: every signed file is refused. */
        public Options trust(TrustStore trust) {
            this.trust = trust;
            return this;
        }

        /** The host's clock (default: the system clock; see {@link Clock}). */
        public Options clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /** Days of sightings and own keys kept (1..3650; default 14). */
        public Options retentionDays(int days) {
            raw.putInt(4, unsigned(days, "retentionDays"));
            return this;
        }

        /** Heard advertisements per store transaction. */
        public Options flushCount(int count) {
            raw.putInt(8, unsigned(count, "flushCount"));
            return this;
        }

        /** {@link #ADV_WITH_FLAGS} or {@link #ADV_WITHOUT_FLAGS}. */
        public Options advertisingForm(int form) {
            raw.putInt(12, unsigned(form, "advertisingForm"));
            return this;
        }

        /** {@link Tracer#tick()} writes pending advertisements older than this. */
        public Options flushIntervalMillis(long ms) {
            raw.putLong(16, ms);
            return this;
        }

        /** Upper bound of the database size in bytes (0: none). */
        public Options maxStoreBytes(long bytes) {
            if (bytes < 0) throw invalid("maxStoreBytes");
            raw.putLong(24, bytes);
            return this;
        }

        /** Calibrated TX power announced in the own AEM (default -8). */
        public Options txPowerDbm(int dbm) {
            if (dbm < Byte.MIN_VALUE || dbm > Byte.MAX_VALUE) throw invalid("txPowerDbm");
            raw.put(32, (byte) dbm);
            return this;
        }

        /** 0..3, announced with metadata v1.1. */
        public Options calibrationConfidence(int confidence) {
            raw.put(33, octet(confidence, "calibrationConfidence"));
            return this;
        }

        /** 0 (v1.0, default) or 1 (v1.1). */
        public Options metadataMinorVersion(int version) {
            raw.put(34, octet(version, "metadataMinorVersion"));
            return this;
        }

        /** Create the store when the file does not exist (default true). */
        public Options createIfMissing(boolean create) {
            raw.put(35, (byte) (create ? 1 : 0));
            return this;
        }

        /** Passphrase stores: {@link #KDF_INTERACTIVE} (default), MODERATE or MINIMUM. */
        public Options kdfCost(int cost) {
            raw.put(36, octet(cost, "kdfCost"));
            return this;
        }

        public int retentionDays() {
            return raw.getInt(4);
        }

        public int flushCount() {
            return raw.getInt(8);
        }

        public long flushIntervalMillis() {
            return raw.getLong(16);
        }

        public int txPowerDbm() {
            return raw.get(32);
        }

        private static int unsigned(int v, String what) {
            if (v < 0) throw invalid(what);
            return v;
        }

        private static byte octet(int v, String what) {
            if (v < 0 || v > 255) throw invalid(what);
            return (byte) v;
        }

        private static SottoException invalid(String what) {
            return SottoException.of(Status.INVALID_ARGUMENT, "options: " + what + " is out of range");
        }
    }

    private static final class Resource implements Runnable {
        final CallGate gate;
        final Set<CallGate> updaters;

        Resource(CallGate gate, Set<CallGate> updaters) {
            this.gate = gate;
            this.updaters = updaters;
        }

        @Override
        public void run() {
            for (CallGate u : updaters) KeyUpdater.cancel(u); // running rounds return quickly
            long h = gate.close();
            for (CallGate u : updaters) KeyUpdater.destroy(u); // before the tracer they use
            updaters.clear();
            if (h != 0) {
                Native.destroy(h);
                gate.destroyed();
            }
        }
    }

    private Tracer(long handle, Clock clock) {
        this.gate = new CallGate(handle);
        this.clock = clock;
        this.cleanable = CLEANER.register(this, new Resource(gate, updaters));
    }

    /**
     * Opens (or creates) the store at {@code path} (beside it {@code path + ".kdf"}) with a raw
     * 32-byte key, e.g. one unwrapped with an Android Keystore key. The key is copied; wipe your
     * array afterwards. Errors: {@link Status#STORAGE_WRONG_KEY}, STORAGE_NOT_A_STORE,
     * STORAGE_CORRUPT, STORAGE_IO, STORAGE_READ_ONLY, STORAGE_NEWER_SCHEMA, INVALID_ARGUMENT
     * (key length, options), OUT_OF_MEMORY.
     */
    public static Tracer open(String path, byte[] key, Options options) {
        return openWith(path, key, false, options);
    }

    public static Tracer open(File path, byte[] key, Options options) {
        return openWith(path.getPath(), key, false, options);
    }

    /** As {@link #open}, with a passphrase (1..1024 bytes, e.g. UTF-8) stretched with Argon2id. */
    public static Tracer openWithPassphrase(String path, byte[] passphrase, Options options) {
        return openWith(path, passphrase, true, options);
    }

    public static Tracer openWithPassphrase(File path, byte[] passphrase, Options options) {
        return openWith(path.getPath(), passphrase, true, options);
    }

    private static Tracer openWith(String path, byte[] secret, boolean passphrase, Options options) {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(secret, passphrase ? "passphrase" : "key");
        Options o = options != null ? options : new Options();
        long now = snapshot(o.clock);
        long trust = o.trust != null ? o.trust.toNative() : 0;
        try {
            byte[] opts = o.raw.array().clone();
            long h = Native.open(path.getBytes(StandardCharsets.UTF_8), secret, passphrase, trust,
                    o.clock != null, now, opts);
            return new Tracer(h, o.clock);
        } finally {
            if (trust != 0) Native.trustDestroy(trust);
        }
    }

    private static long snapshot(Clock clock) {
        if (clock == null) return 0;
        try {
            return clock.nowMillis();
        } catch (Exception e) {
            throw new SottoException(Status.CLOCK_SUSPECT,
                    "the app's clock threw (" + e.getClass().getName() + "); nothing was done", e);
        }
    }

    private long now() {
        return snapshot(clock);
    }

    long clockSnapshot() {
        return now();
    }

    /** Makes an updater with the tracer's handle and registers it; under the tracer's gate. */
    KeyUpdater addUpdater(LongFunction<KeyUpdater> make) {
        long h = gate.enter();
        try {
            KeyUpdater u = make.apply(h);
            updaters.add(u.gate());
            return u;
        } finally {
            gate.exit();
        }
    }

    void removeUpdater(CallGate g) {
        updaters.remove(g);
    }

    /** Runs an updater round with the tracer's handle; the tracer's imports wait meanwhile. */
    void runRound(LongConsumer round) {
        long h = gate.enter();
        roundsRunning.incrementAndGet();
        try {
            round.accept(h);
        } finally {
            roundsRunning.decrementAndGet();
            gate.exit();
        }
    }

    private void refuseDuringRound() {
        if (roundsRunning.get() != 0) {
            throw SottoException.of(Status.FAILED_PRECONDITION, "a KeyUpdater round is running on this tracer");
        }
    }

    /**
     * What to broadcast now; rolls the TEK at the UTC day boundary and RPI and address together
     * every 10-20 minutes. Ask again when {@link Advertisement#validUntilMillis()} passes; stop
     * advertising while it is not {@link Advertisement#active()}.
     */
    public Advertisement currentAdvertisement() {
        long now = now();
        long h = gate.enter();
        try {
            return Layout.advertisement(Native.currentAdvertisement(h, now));
        } finally {
            gate.exit();
        }
    }

    /**
     * One heard advertisement: the 20-byte service data of UUID 0xFD6F or the full advertising
     * data, the RSSI (-127..20) and the Unix time of reception (ms). Buffered, written in batches.
     * Returns false when sotto refused it (not GAEN, or RSSI or time out of range: counted in
     * {@link TracerStatus}); throws only when a batch write to the store failed (it stays
     * pending).
     */
    public boolean onAdvertisement(byte[] data, int rssiDbm, long timeMillis) {
        long now = now();
        long h = gate.enter();
        try {
            return Native.onAdvertisement(h, now, data, rssiDbm, timeMillis);
        } finally {
            gate.exit();
        }
    }

    /**
     * A batch in one call; malformed ones and ones out of range are skipped and counted. Returns
     * how many were accepted; throws only when a batch write to the store failed.
     */
    public int onAdvertisements(HeardBatch batch) {
        long now = now();
        long h = gate.enter();
        try {
            return Native.onAdvertisements(h, now, batch.packed(), batch.size());
        } finally {
            gate.exit();
        }
    }

    /** Writes pending heard advertisements now (one transaction). */
    public void flush() {
        long now = now();
        long h = gate.enter();
        try {
            Native.flush(h, now);
        } finally {
            gate.exit();
        }
    }

    /**
     * Periodic work (at least once a minute): retention once a day, writes pending
     * advertisements when due, rolls the TEK. A suspect clock is not an exception: retention is
     * paused ({@link TickReport#RETENTION_PAUSED_CLOCK_SUSPECT}, nothing deleted, retried at the
     * next tick; see {@link #applyRetention}). Throws only when something failed (storage, a clock
     * out of range); the rest of the work is still done.
     */
    public TickReport tick() {
        long now = now();
        long h = gate.enter();
        try {
            return Layout.tickReport(Native.tick(h, now));
        } finally {
            gate.exit();
        }
    }

    /**
     * Deletes what is older than the retention window. Without {@code clockConfirmed}, a clock
     * more than 3 days from the time the store last trusted throws
     * {@link Status#CLOCK_SUSPECT} and deletes nothing; pass true when the OS vouches for its
     * clock (network time).
     */
    public void applyRetention(boolean clockConfirmed) {
        long now = now();
        long h = gate.enter();
        try {
            Native.applyRetention(h, now, clockConfirmed ? 1 : 0);
        } finally {
            gate.exit();
        }
    }

    /**
     * Imports an export.zip held in memory into the current check round, verified fail-closed
     * against the trust store (flags: {@link #IMPORT_PARSE_ONLY}, {@link #IMPORT_REMATCH}).
     */
    public ImportResult importKeyFile(byte[] zip, int flags) {
        refuseDuringRound();
        long now = now();
        long h = gate.enter();
        try {
            return Layout.importResult(Layout.wrap(Native.importKeyFile(h, now, zip, flags)), 0);
        } finally {
            gate.exit();
        }
    }

    public ImportResult importKeyFile(byte[] zip) {
        return importKeyFile(zip, 0);
    }

    /** As {@link #importKeyFile(byte[], int)}, for export.bin and export.sig (empty: unsigned). */
    public ImportResult importKeyFilePair(byte[] exportBin, byte[] exportSig, int flags) {
        refuseDuringRound();
        long now = now();
        long h = gate.enter();
        try {
            return Layout.importResult(
                    Layout.wrap(Native.importKeyFilePair(h, now, exportBin, exportSig, flags)), 0);
        } finally {
            gate.exit();
        }
    }

    /** As {@link #importKeyFile(byte[], int)}, from a path (zip, loose export.bin, directory). */
    public ImportResult importKeyFile(File path, int flags) {
        refuseDuringRound();
        byte[] p = path.getPath().getBytes(StandardCharsets.UTF_8);
        long now = now();
        long h = gate.enter();
        try {
            return Layout.importResult(Layout.wrap(Native.importKeyFilePath(h, now, p, flags)), 0);
        } finally {
            gate.exit();
        }
    }

    public ImportResult importKeyFile(File path) {
        return importKeyFile(path, 0);
    }

    /**
     * Closes the current round (every file imported since the last check) and returns the report:
     * exposure windows, daily summaries, the CWA risk. Recorded when every matched file verified
     * and one was new. With no file imported: an empty report.
     */
    public CheckResult check() {
        refuseDuringRound();
        long now = now();
        long h = gate.enter();
        long c = 0;
        try {
            c = Native.check(h, now);
            return readCheck(c);
        } finally {
            if (c != 0) Native.checkDestroy(c);
            gate.exit();
        }
    }

    static CheckResult readCheck(long c) {
        ByteBuffer s = Layout.wrap(Native.checkSummary(c));
        List<ImportResult> files = Layout.importResults(Native.checkArray(c, Native.CHECK_FILES, 0));
        ByteBuffer w = Layout.wrap(Native.checkArray(c, Native.CHECK_WINDOWS, 0));
        List<CheckResult.ExposureWindow> windows = new ArrayList<>();
        for (int i = 0, at = 0; at + Layout.EXPOSURE_WINDOW <= w.capacity(); i++, at += Layout.EXPOSURE_WINDOW) {
            ByteBuffer si = Layout.wrap(Native.checkArray(c, Native.CHECK_SCANS, i));
            List<CheckResult.ScanInstance> scans = new ArrayList<>();
            for (int a = 0; a + Layout.SCAN_INSTANCE <= si.capacity(); a += Layout.SCAN_INSTANCE) {
                scans.add(new CheckResult.ScanInstance(si.getInt(a), si.getInt(a + 4), si.getInt(a + 8)));
            }
            windows.add(new CheckResult.ExposureWindow(w.getLong(at), w.getInt(at + 8), w.getInt(at + 12),
                    w.getInt(at + 16), Collections.unmodifiableList(scans)));
        }
        ByteBuffer d = Layout.wrap(Native.checkArray(c, Native.CHECK_DAILY, 0));
        List<CheckResult.DailySummary> days = new ArrayList<>();
        for (int at = 0; at + Layout.DAILY_SUMMARY <= d.capacity(); at += Layout.DAILY_SUMMARY) {
            days.add(new CheckResult.DailySummary(d.getLong(at), d.getDouble(at + 8), d.getDouble(at + 16),
                    d.getDouble(at + 24)));
        }
        ByteBuffer r = Layout.wrap(Native.checkArray(c, Native.CHECK_RISK_DAYS, 0));
        List<CheckResult.RiskDay> risk = new ArrayList<>();
        for (int at = 0; at + Layout.RISK_DAY <= r.capacity(); at += Layout.RISK_DAY) {
            risk.add(new CheckResult.RiskDay(r.getLong(at), r.getDouble(at + 8), r.getInt(at + 16),
                    r.getInt(at + 20), r.getInt(at + 24)));
        }
        return new CheckResult(s.getLong(8), s.getLong(24), s.getLong(32), s.getLong(40), s.getLong(72),
                s.getLong(80), s.getInt(4), s.get(88) != 0, Collections.unmodifiableList(files),
                Collections.unmodifiableList(windows), Collections.unmodifiableList(days),
                Collections.unmodifiableList(risk),
                new CheckResult.Counters(s.getLong(96), s.getLong(104), s.getLong(112), s.getLong(120),
                        s.getLong(128), s.getLong(136), s.getLong(144), s.getLong(152), s.getLong(160),
                        s.getLong(168)));
    }

    /**
     * Releases the own TEKs of the retention window for upload (oldest first) and marks them
     * published. Today's key is rolled first, so a released key is never broadcast again.
     * {@code consent} must be {@link Consent#USER_CONFIRMED_UPLOAD_OF_OWN_KEYS}; anything else
     * (null) throws {@link Status#FAILED_PRECONDITION} and nothing happens. Destroy the keys
     * once uploaded ({@link DiagnosisKey#destroy()}).
     */
    public List<DiagnosisKey> releaseOwnKeys(Consent consent) {
        int value = consent != null ? consent.value : 0;
        long now = now();
        long h = gate.enter();
        byte[] raw = null;
        try {
            raw = Native.releaseOwnKeys(h, now, value);
            return Collections.unmodifiableList(Layout.diagnosisKeys(raw));
        } finally {
            if (raw != null) Arrays.fill(raw, (byte) 0);
            gate.exit();
        }
    }

    /**
     * Releases the own keys as {@link #releaseOwnKeys} does (same consent rule: anything but
     * {@link Consent#USER_CONFIRMED_UPLOAD_OF_OWN_KEYS} throws {@link Status#FAILED_PRECONDITION}
     * and nothing is sent) and sends them to a key server in the Exposure Notifications Server
     * publish format, with random padding ({@code sotto_upload_own_keys}). Blocks for at most the
     * timeout. A refusal by the server is an {@link Upload.Answer}, not an exception. Errors:
     * NETWORK_REFUSED (URL not allowed, a redirect), NETWORK_TIMEOUT, NETWORK_IO,
     * NETWORK_TOO_LARGE, INVALID_ARGUMENT (options, no own key), store errors. The keys stay
     * marked published whatever the server said.
     */
    public Upload.Answer uploadOwnKeys(Consent consent, Upload.Options options) {
        Objects.requireNonNull(options, "options");
        if (options.transmissionRisk < 0 || options.transmissionRisk > 8 || options.timeoutMillis < 0
                || options.symptomOnsetInterval < 0 || options.symptomOnsetInterval > 0xFFFFFFFFL) {
            throw SottoException.of(Status.INVALID_ARGUMENT, "upload options: a value is out of range");
        }
        int value = consent != null ? consent.value : 0;
        long now = now();
        long h = gate.enter();
        try {
            return Upload.answer(Native.uploadOwnKeys(h, now, Upload.utf8(options.url),
                    Upload.utf8(options.healthAuthorityId), Upload.utf8(options.verificationPayload),
                    Upload.utf8(options.revisionToken), options.caFile != null ? Upload.utf8(options.caFile.getPath()) : null,
                    options.timeoutMillis, options.transmissionRisk, (int) options.symptomOnsetInterval, value));
        } finally {
            gate.exit();
        }
    }

    /**
     * "Forget me": deletes every sighting, own key, exposure record and processed-file entry,
     * and drops the open round; advertisements stamped before the erase and handed over later
     * are dropped too. The tracer stays open; advertising resumes with a new TEK.
     */
    public void eraseAll() {
        long now = now();
        long h = gate.enter();
        try {
            Native.eraseAll(h, now);
        } finally {
            gate.exit();
        }
    }

    /** Counters since the tracer was opened. */
    public TracerStatus status() {
        long h = gate.enter();
        try {
            return Layout.tracerStatus(Native.status(h));
        } finally {
            gate.exit();
        }
    }

    /** Counts of stored rows. */
    public StoreStats storeStats() {
        long h = gate.enter();
        try {
            return Layout.storeStats(Native.storeStats(h));
        } finally {
            gate.exit();
        }
    }

    /** True once {@link #close()} has begun. */
    public boolean isClosed() {
        return gate.isClosed();
    }

    /**
     * Writes pending advertisements and closes the store. Waits for calls running on other
     * threads; idempotent.
     */
    @Override
    public void close() {
        CallGate.refuseInCallback(); // before clean(), which runs only once
        for (CallGate u : updaters) KeyUpdater.cancel(u);
        cleanable.clean(); // runs Resource once; later calls wait in the gate like the first
        gate.close();
    }
}
