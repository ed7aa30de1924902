// SPDX-License-Identifier: Apache-2.0
package org.sotto;

/**
 * Counts of stored rows ({@code sotto_store_stats}); {@code sightings} are (RPI, interval) rows,
 * {@code keyPublications} the publication times of matched diagnosis keys remembered.
 */
public record StoreStats(long sightings, long rpis, long days, long ownKeys, long exposureRecords,
        long processedFiles, long keyPublications) {}
