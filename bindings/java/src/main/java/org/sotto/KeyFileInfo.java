// SPDX-License-Identifier: Apache-2.0
package org.sotto;

/**
 * What a key file says besides its keys ({@code sotto_keyfile_info}). Timestamps are Unix
 * seconds, 0 when absent.
 *
 * @param signatureStatus 0 verified, 1 unsigned, 2 untrusted key, 3 bad, 4 malformed
 *                        ({@code SOTTO_SIGNATURE_*})
 * @param region          from the file, at most 15 bytes, not validated
 */
public record KeyFileInfo(long startTimestamp, long endTimestamp, long keysValid,
        long revisedKeysValid, long keysRevoked, long keysDelivered, long keysInvalid,
        long exportBinBytes, byte[] exportBinSha256, int signatureStatus, boolean verified,
        String region) {
    public static final int SIGNATURE_VERIFIED = 0;
    public static final int SIGNATURE_UNSIGNED = 1;
    public static final int SIGNATURE_UNTRUSTED_KEY = 2;
    public static final int SIGNATURE_BAD = 3;
    public static final int SIGNATURE_MALFORMED = 4;
}
