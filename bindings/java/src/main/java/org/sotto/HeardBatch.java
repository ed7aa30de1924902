// SPDX-License-Identifier: Apache-2.0
package org.sotto;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Heard advertisements for one {@link Tracer#onAdvertisements} call (e.g. one
 * {@code onBatchScanResults}): packed as {@code sotto_heard_advertisement} structs, so the batch
 * crosses into sotto as one copy. Reusable ({@link #clear()}); not thread-safe.
 */
public final class HeardBatch {
    /** Longest advertisement a batch holds: full legacy advertising data. */
    public static final int MAX_BYTES = 31;

    private byte[] packed;
    private ByteBuffer view;
    private int size;

    public HeardBatch() {
        this(64);
    }

    public HeardBatch(int initialCapacity) {
        packed = new byte[Math.max(1, initialCapacity) * Layout.HEARD];
        view = Layout.wrap(packed);
    }

    /**
     * Adds one: {@code data} is the 20-byte service data of UUID 0xFD6F or the full advertising
     * data (at most 31 bytes, else IllegalArgumentException); sotto skips and counts malformed
     * ones and ones with an RSSI (-127..20) or time out of range.
     */
    public HeardBatch add(byte[] data, int rssiDbm, long timeMillis) {
        return add(data, 0, data.length, rssiDbm, timeMillis);
    }

    /** As {@link #add(byte[], int, long)}, for {@code len} bytes of {@code data} from {@code offset}. */
    public HeardBatch add(byte[] data, int offset, int len, int rssiDbm, long timeMillis) {
        if (len < 0 || len > MAX_BYTES) {
            throw new IllegalArgumentException("at most " + MAX_BYTES + " bytes per advertisement");
        }
        if (offset < 0 || offset > data.length - len) throw new IndexOutOfBoundsException("offset/len");
        int at = size * Layout.HEARD;
        if (at + Layout.HEARD > packed.length) {
            packed = Arrays.copyOf(packed, packed.length * 2);
            view = Layout.wrap(packed);
        }
        view.putLong(at, timeMillis);
        view.putInt(at + 8, rssiDbm);
        packed[at + 12] = (byte) len;
        System.arraycopy(data, offset, packed, at + 13, len);
        Arrays.fill(packed, at + 13 + len, at + Layout.HEARD, (byte) 0);
        size++;
        return this;
    }

    public int size() {
        return size;
    }

    public void clear() {
        size = 0;
    }

    byte[] packed() {
        return packed;
    }
}
