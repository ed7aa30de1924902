// SPDX-License-Identifier: Apache-2.0
package org.sotto;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * Keeps a tracer's exposure check up to date ({@code sotto_updater}): each {@link #run} round
 * downloads the new key files of a source (the export-bucket layout over https, or a directory),
 * verifies them fail-closed with the tracer's trust store, imports and checks them, and remembers
 * per file what happened, so a file is never checked twice and a refused one is not downloaded
 * again until it changes (or the trusted keys do).
 *
 * <p><b>Threads.</b> One {@code run} at a time (a second one throws
 * {@link Status#FAILED_PRECONDITION}); while it runs, the tracer's own imports and checks throw
 * FAILED_PRECONDITION. {@link #cancel()} is safe from any thread at any time, also from the
 * progress listener, and makes the running round return within a fraction of a second whatever
 * the server does (its result says {@code cancelled}); with no round running, the next one stops
 * at its start. {@link #close()} cancels a running round and waits for it. Closing the tracer
 * closes its updaters first.
 */
public final class KeyUpdater implements AutoCloseable {
    /** What a round did with one listed file ({@code SOTTO_UPDATE_*}). */
    public static final int CHECKED = 0;
    public static final int UNCHANGED = 1;
    public static final int REFUSED = 2;
    public static final int STILL_REFUSED = 3;
    public static final int FAILED = 4;
    public static final int POSTPONED = 5;
    /** The index request ({@code SOTTO_INDEX_*}). */
    public static final int INDEX_NEW = 0;
    public static final int INDEX_UNCHANGED = 1;
    public static final int INDEX_FAILED = 2;
    /** Where a round is ({@code SOTTO_UPDATE_PHASE_*}). */
    public static final int PHASE_INDEX = 0;
    public static final int PHASE_DOWNLOAD = 1;
    public static final int PHASE_IMPORT = 2;
    public static final int PHASE_CHECK = 3;

    static final int OPTIONS_SIZE = 32;
    static final int SUMMARY_SIZE = 104;
    static final int FILE_SIZE = 72;

    /** Options of {@link #create}: the library's defaults, then what is set here. */
    public static final class Options {
        private final ByteBuffer raw = Layout.wrap(Native.updaterOptionsDefaults());

        public Options connectTimeoutMillis(int ms) {
            raw.putInt(4, nonNegative(ms));
            return this;
        }

        public Options totalTimeoutMillis(int ms) {
            raw.putInt(8, nonNegative(ms));
            return this;
        }

        public Options maxRedirects(int n) {
            raw.putInt(12, nonNegative(n));
            return this;
        }

        public Options maxFileBytes(long bytes) {
            raw.putLong(16, nonNegative(bytes));
            return this;
        }

        public Options maxSpoolBytes(long bytes) {
            raw.putLong(24, nonNegative(bytes));
            return this;
        }

        private static <T extends Number> T nonNegative(T v) {
            if (v.longValue() < 0) {
                throw SottoException.of(Status.INVALID_ARGUMENT, "updater options: a value is negative");
            }
            return v;
        }
    }

    /** Progress of a round, as the library reports it ({@code sotto_update_progress}). */
    public record Progress(int phase, long filesDone, long filesTotal, long bytesDone, long bytesTotal) {}

    /** Receives progress on the thread running the round; may call {@link #cancel()} only. */
    @FunctionalInterface
    public interface ProgressListener {
        void onProgress(Progress progress);
    }

    /** One listed file of a round ({@code sotto_update_file}). */
    public record FileResult(String path, int outcome, int reason, String reasonName, int httpStatus,
            byte[] sha256, long bytes, long keys, boolean downloaded) {}

    /**
     * A round ({@code sotto_update_summary}, its files and its check).
     *
     * @param check the round's check, or null when no check ran (nothing new)
     */
    public record Round(int indexStatus, int indexError, int indexHttpStatus, long checked,
            long unchanged, long refused, long stillRefused, long failed, long postponed,
            long refusalsForgotten, long requests, long bytesDownloaded, boolean cancelled,
            boolean stateWasDamaged, long indexLinesRefused, List<FileResult> files,
            CheckResult check) {}

    private final Tracer tracer;
    private final CallGate gate;
    private final Object runLock = new Object();
    private boolean running; // guarded by runLock

    private KeyUpdater(Tracer tracer, long handle) {
        this.tracer = tracer;
        this.gate = new CallGate(handle);
    }

    /**
     * An updater of {@code tracer} for {@code source} ("https://host/bucket",
     * "http://127.0.0.1:port/..." or a directory path) keeping its state in {@code stateDir}
     * (created, mode 0700; one per source). Errors: INVALID_ARGUMENT, NETWORK_REFUSED (plain http
     * to a host other than loopback), STORAGE_IO (the state directory).
     */
    public static KeyUpdater create(Tracer tracer, String source, File stateDir, Options options) {
        Objects.requireNonNull(tracer, "tracer");
        byte[] src = Objects.requireNonNull(source, "source").getBytes(StandardCharsets.UTF_8);
        byte[] state = stateDir.getPath().getBytes(StandardCharsets.UTF_8);
        byte[] opts = (options != null ? options : new Options()).raw.array().clone();
        return tracer.addUpdater(h -> new KeyUpdater(tracer, Native.updaterCreate(h, src, state, opts)));
    }

    CallGate gate() {
        return gate;
    }

    /** As {@link #create}, for a directory of key files. */
    public static KeyUpdater create(Tracer tracer, File directory, File stateDir, Options options) {
        return create(tracer, directory.getPath(), stateDir, options);
    }

    /**
     * One round (blocking: call it on a worker thread). Per-file problems are in the result, not
     * exceptions; a cancelled round returns normally with {@code cancelled} set, nothing of it
     * checked or recorded. Throws for failures of the round as a whole (storage, memory), and
     * {@link Status#CANCELLED} with the cause when the listener threw (the round was cancelled).
     */
    public Round run(ProgressListener listener) {
        synchronized (runLock) {
            if (running) throw SottoException.of(Status.FAILED_PRECONDITION, "a round is already running");
            running = true;
        }
        try {
            long now = tracer.clockSnapshot();
            long h = gate.enter();
            try {
                Listener l = listener != null ? new Listener(listener, h) : null;
                tracer.runRound(t -> Native.updaterRun(h, t, now, l));
                if (l != null && l.failure != null) {
                    throw new SottoException(Status.CANCELLED, "the progress listener threw; the round was cancelled",
                            l.failure);
                }
                return readRound(h);
            } finally {
                gate.exit();
            }
        } finally {
            synchronized (runLock) {
                running = false;
            }
        }
    }

    public Round run() {
        return run(null);
    }

    /** Stops the running round (or the next one at its start). Any thread; after close, nothing. */
    public void cancel() {
        cancel(gate);
    }

    /** Cancels a running round, waits for it to return, frees the updater. Idempotent. */
    @Override
    public void close() {
        cancel(gate);
        destroy(gate);
        tracer.removeUpdater(gate);
    }

    static void cancel(CallGate g) {
        long h;
        try {
            h = g.enterFromCallback();
        } catch (SottoException closed) {
            return;
        }
        try {
            Native.updaterCancel(h);
        } finally {
            g.exit();
        }
    }

    /** Waits for calls inside, then frees the updater (once). */
    static void destroy(CallGate g) {
        long h = g.close();
        if (h != 0) {
            Native.updaterDestroy(h);
            g.destroyed();
        }
    }

    private static Round readRound(long h) {
        ByteBuffer s = Layout.filled(Native.updaterSummary(h), Layout.UPDATE_SUMMARY,
                "sotto_update_summary");
        long n = s.getLong(16);
        List<FileResult> files = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ByteBuffer f = Layout.wrap(Native.updaterFile(h, i));
            int reason = f.getInt(8);
            files.add(new FileResult(new String(Native.updaterFilePath(h, i), StandardCharsets.UTF_8), f.getInt(4),
                    reason, reason == Status.OK ? null : Native.statusName(reason), f.getInt(12),
                    Layout.bytes(f, 16, 32), f.getLong(48), f.getLong(56), f.get(64) != 0));
        }
        long c = Native.updaterTakeCheck(h);
        CheckResult check = null;
        if (c != 0) {
            try {
                check = Tracer.readCheck(c);
            } finally {
                Native.checkDestroy(c);
            }
        }
        return new Round(s.getInt(4), s.getInt(8), s.getInt(12), s.getLong(24), s.getLong(32), s.getLong(40),
                s.getLong(48), s.getLong(56), s.getLong(64), s.getLong(72), s.getLong(80), s.getLong(88),
                s.get(96) != 0, s.get(98) != 0, s.getLong(104), Collections.unmodifiableList(files),
                check);
    }

    /** The listener of one run, and what it threw. */
    private static final class Listener {
        final ProgressListener listener;
        final long handle;
        Throwable failure;

        Listener(ProgressListener listener, long handle) {
            this.listener = listener;
            this.handle = handle;
        }
    }

    /** Called by libsotto_jni's progress trampoline, on the thread running the round. */
    static void dispatchProgress(Object listener, int phase, long filesDone, long filesTotal, long bytesDone,
            long bytesTotal) {
        Listener l = (Listener) listener;
        if (l.failure != null) return;
        CallGate.enterCallback();
        try {
            l.listener.onProgress(new Progress(phase, filesDone, filesTotal, bytesDone, bytesTotal));
        } catch (Throwable e) {
            l.failure = e;
            Native.updaterCancel(l.handle); // inside the run: the handle is alive
        } finally {
            CallGate.exitCallback();
        }
    }
}
