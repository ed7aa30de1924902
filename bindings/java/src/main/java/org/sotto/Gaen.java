// SPDX-License-Identifier: Apache-2.0
package org.sotto;

/** Pure protocol functions of the C ABI (no store, no clock). */
public final class Gaen {
    static {
        Native.load();
    }

    private Gaen() {}

    /**
     * The RPIs of {@code tek} (16 bytes) for {@code count} (1..144) intervals from
     * {@code firstInterval}: 16 bytes each, concatenated ({@code sotto_derive_rpis}).
     */
    public static byte[] deriveRpis(byte[] tek, long firstInterval, int count) {
        if (firstInterval < 0 || firstInterval > 0xFFFFFFFFL) {
            throw SottoException.of(Status.INVALID_ARGUMENT, "firstInterval: out of the uint32 range");
        }
        return Native.deriveRpis(tek, (int) firstInterval, count);
    }
}
