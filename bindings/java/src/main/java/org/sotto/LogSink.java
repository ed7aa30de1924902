// SPDX-License-Identifier: Apache-2.0
package org.sotto;

/**
 * Receives sotto's log messages ({@code sotto_log_fn}): the level and the message, nothing else.
 * At {@link LogLevel#INFO} and above a message holds static text and counts only, never a key,
 * RPI, AEM, address or file hash. Called on the thread that logs (any thread inside a sotto
 * call, possibly several at once): it must be thread-safe, return quickly, and not call sotto.
 * What it throws is dropped.
 */
@FunctionalInterface
public interface LogSink {
    void log(LogLevel level, String message);
}
