// SPDX-License-Identifier: Apache-2.0
package org.sotto;

/**
 * What to broadcast now ({@code sotto_advertisement}).
 *
 * @param serviceData     RPI || AEM, 20 bytes, the service data of UUID 0xFD6F
 * @param advertisingData the full legacy advertising data (31 or 28 bytes, as the options say)
 * @param address         a random non-resolvable address, most significant byte first (6 bytes)
 * @param active          false: broadcast nothing until {@code validUntilMillis} (a pause after
 *                        opening or a release of own keys; the other fields are then empty)
 * @param interval        the ENIntervalNumber the RPI was derived for
 * @param validUntilMillis ask again at this Unix time (ms) at the latest
 */
public record Advertisement(byte[] serviceData, byte[] advertisingData, byte[] address,
        boolean active, long interval, long validUntilMillis) {}
