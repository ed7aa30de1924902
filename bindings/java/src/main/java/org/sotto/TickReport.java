// SPDX-License-Identifier: Apache-2.0
package org.sotto;

/**
 * What one {@link Tracer#tick()} did ({@code sotto_tick_report}).
 *
 * @param retention {@link #RETENTION_NOT_DUE}, {@link #RETENTION_RAN} or
 *                  {@link #RETENTION_PAUSED_CLOCK_SUSPECT}
 * @param flushed   pending heard advertisements were written to the store
 * @param rotated   a new advertisement (RPI, AEM, address) started
 */
public record TickReport(int retention, boolean flushed, boolean rotated) {
    /** Retention already ran today. */
    public static final int RETENTION_NOT_DUE = 0;
    /** Retention ran as of the clock's now. */
    public static final int RETENTION_RAN = 1;
    /**
     * Refused because the clock is suspect: nothing deleted, retried at the next tick. When the
     * OS keeps network time, confirm it with {@link Tracer#applyRetention(boolean) applyRetention(true)}.
     */
    public static final int RETENTION_PAUSED_CLOCK_SUSPECT = 2;
}
