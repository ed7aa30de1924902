// SPDX-License-Identifier: Apache-2.0
package org.sotto;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/** The library: versions and the process-wide log sink. */
public final class Sotto {
    static {
        Native.load();
    }

    private Sotto() {}

    /** The library version, "MAJOR.MINOR.PATCH". */
    public static String version() {
        return Native.version();
    }

    /** The C ABI version of the loaded libsotto (equal to the one libsotto_jni was built for). */
    public static int abiVersion() {
        return Native.abiVersion();
    }

    /**
     * Installs {@code sink} for messages at {@code minLevel} and above, replacing the previous
     * one ({@code sotto_set_log_sink}). Process-wide; nothing is logged until a sink is set.
     */
    public static void setLogSink(LogSink sink, LogLevel minLevel) {
        Native.setLogSink(Objects.requireNonNull(sink, "sink"), minLevel.ordinal());
    }

    /** Removes the log sink (the default: nothing is logged). */
    public static void clearLogSink() {
        Native.setLogSink(null, 0);
    }

    /** Called by libsotto_jni's log trampoline. */
    static void dispatchLog(LogSink sink, int level, byte[] message) {
        try {
            CallGate.enterCallback();
            try {
                sink.log(LogLevel.of(level), new String(message, StandardCharsets.UTF_8));
            } finally {
                CallGate.exitCallback();
            }
        } catch (Throwable ignored) { // a sink's failure never reaches sotto
        }
    }
}
