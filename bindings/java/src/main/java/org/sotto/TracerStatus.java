// SPDX-License-Identifier: Apache-2.0
package org.sotto;

/**
 * Counters since the tracer was opened ({@code sotto_tracer_status}; no identifiers).
 *
 * @param heard           accepted (decoded) advertisements
 * @param malformed       refused by the decoder
 * @param droppedOverflow valid, dropped: too many pending while the store failed
 * @param pending         not yet in the store
 * @param stored          observations the store accepted
 * @param rejected        refused by the store (time, RSSI)
 * @param deduplicated    of {@code heard}, folded into an observation of the same second
 * @param radioErrors     failed calls to an attached radio (C++ hosts only)
 */
public record TracerStatus(long heard, long malformed, long droppedOverflow, long pending,
        long stored, long rejected, long flushes, long flushFailures, long ownKeysCreated,
        long rotations, long filesImported, long filesRefused, long filesSkipped, long checks,
        long deduplicated, long radioErrors) {}
