// SPDX-License-Identifier: Apache-2.0
package org.sotto;

/**
 * Counters since the tracer was opened ({@code sotto_tracer_status}, C++ {@code
 * sotto::TracerStatus}; no identifiers).
 *
 * @param heard           accepted (decoded) advertisements
 * @param malformed       refused by the decoder
 * @param droppedOverflow valid, dropped: too many pending while the store failed
 * @param pending         not yet in the store
 * @param stored          observations the store accepted
 * @param rejected        refused by the store (time, RSSI)
 * @param deduplicated    of {@code heard}, folded into an observation of the same second
 * @param radioErrors     failed calls to an attached radio (C++ hosts only)
 * @param discarded       observations dropped unwritten by {@link Tracer#eraseAll()}: pending at
 *                        the erase, or stamped at or before it and handed over later
 * @param radioAttached   a radio is attached (C++ hosts only; false here)
 * @param roundOpen       key files were imported since the last check
 * @param clockSuspect    the last retention attempt was refused because the clock is suspect
 *                        (see {@link Tracer#tick()}); cleared by the next successful run
 */
public record TracerStatus(long heard, long malformed, long droppedOverflow, long pending,
        long stored, long rejected, long flushes, long flushFailures, long ownKeysCreated,
        long rotations, long filesImported, long filesRefused, long filesSkipped, long checks,
        long deduplicated, long radioErrors, long discarded, boolean radioAttached,
        boolean roundOpen, boolean clockSuspect) {}
