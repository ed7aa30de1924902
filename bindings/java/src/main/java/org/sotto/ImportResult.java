// SPDX-License-Identifier: Apache-2.0
package org.sotto;

/**
 * What happened to one imported key file ({@code sotto_import_result}). A refused file is not an
 * exception: {@code error} says why.
 *
 * @param read             parsed completely
 * @param verified         the signature verified with a key of the trust store
 * @param matched          its keys take part in the current check round
 * @param alreadyProcessed skipped: recorded by an earlier check (import without REMATCH)
 * @param error            {@link Status#OK}, or why the file was refused
 * @param errorName        null, or the name of {@code error} ("SOTTO_ERR_AUTHENTICATION_FAILED")
 * @param matchedRpis      RPIs of its keys found among the round's sightings (filled in by the
 *                         check; 0 in the result of an import)
 * @param info             meaningful when {@code read}
 */
public record ImportResult(boolean read, boolean verified, boolean matched,
        boolean alreadyProcessed, int error, String errorName, long matchedRpis, KeyFileInfo info) {}
