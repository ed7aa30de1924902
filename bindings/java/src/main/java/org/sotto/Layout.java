// SPDX-License-Identifier: Apache-2.0
package org.sotto;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The C structs of sotto.h as the JNI glue hands them over (byte arrays in native byte order),
 * decoded at the offsets the header's static asserts fix. {@link #verify} compares the sizes
 * with those of the header libsotto_jni was compiled with, so a layout change fails loudly when
 * the library loads instead of decoding garbage.
 */
final class Layout {
    static final int ADVERTISEMENT = 80;
    static final int HEARD = 48;
    static final int DIAGNOSIS_KEY = 40;
    static final int KEYFILE_INFO = 128;
    static final int IMPORT_RESULT = 152;
    static final int CHECK_SUMMARY = 176;
    static final int EXPOSURE_WINDOW = 24;
    static final int SCAN_INSTANCE = 12;
    static final int DAILY_SUMMARY = 32;
    static final int RISK_DAY = 32;
    static final int TRACER_STATUS = 152;
    static final int STORE_STATS = 64;
    static final int TRACER_OPTIONS = 40;
    static final int TICK_REPORT = 12;
    static final int UPDATE_SUMMARY = 112;
    static final int UPDATE_FILE = 72;

    /** In the order of Native.structSizes (jni: sotto_jni.c). */
    private static final int[] SIZES = {ADVERTISEMENT, HEARD, DIAGNOSIS_KEY, KEYFILE_INFO,
        IMPORT_RESULT, CHECK_SUMMARY, EXPOSURE_WINDOW, SCAN_INSTANCE, DAILY_SUMMARY, RISK_DAY,
        TRACER_STATUS, STORE_STATS, TRACER_OPTIONS, TICK_REPORT, UPDATE_SUMMARY, UPDATE_FILE};

    private Layout() {}

    static void verify(int[] native_) {
        if (!Arrays.equals(SIZES, native_)) {
            throw new UnsatisfiedLinkError("org.sotto.Layout does not match libsotto_jni's sotto.h: "
                    + Arrays.toString(SIZES) + " != " + Arrays.toString(native_));
        }
    }

    static ByteBuffer wrap(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.nativeOrder());
    }

    /**
     * An output struct as {@link #wrap}, after checking that the library filled all of it: a
     * libsotto.so.1 older than this binding fills only the fields it knows and says how many
     * bytes in {@code struct_size} (sotto.h, "Structs can grow"); the zeros after them are not
     * values, so the call fails instead of reporting them.
     */
    static ByteBuffer filled(byte[] raw, int size, String struct) {
        ByteBuffer b = wrap(raw);
        long got = Integer.toUnsignedLong(b.getInt(0));
        if (got < size) {
            throw new UnsatisfiedLinkError("libsotto is older than org.sotto: it filled " + got
                    + " of the " + size + " bytes of " + struct);
        }
        return b;
    }

    static byte[] bytes(ByteBuffer b, int offset, int len) {
        return Arrays.copyOfRange(b.array(), offset, offset + len); // heap buffers from wrap()
    }

    static Advertisement advertisement(byte[] raw) {
        ByteBuffer b = wrap(raw);
        int advLen = Byte.toUnsignedInt(b.get(67));
        return new Advertisement(bytes(b, 16, 20), bytes(b, 36, Math.min(advLen, 31)), bytes(b, 68, 6),
                b.get(74) != 0, Integer.toUnsignedLong(b.getInt(4)), b.getLong(8));
    }

    static KeyFileInfo keyFileInfo(ByteBuffer b, int at) {
        byte[] region = bytes(b, at + 112, 16);
        int n = 0;
        while (n < region.length && region[n] != 0) n++;
        return new KeyFileInfo(b.getLong(at + 8), b.getLong(at + 16), b.getLong(at + 24),
                b.getLong(at + 32), b.getLong(at + 40), b.getLong(at + 48), b.getLong(at + 56),
                b.getLong(at + 64), bytes(b, at + 72, 32), b.getInt(at + 4), b.get(at + 104) != 0,
                new String(region, 0, n, StandardCharsets.UTF_8));
    }

    static ImportResult importResult(ByteBuffer b, int at) {
        int error = b.getInt(at + 4);
        return new ImportResult(b.get(at + 8) != 0, b.get(at + 9) != 0, b.get(at + 10) != 0,
                b.get(at + 11) != 0, error, error == Status.OK ? null : Native.statusName(error),
                b.getLong(at + 16), keyFileInfo(b, at + 24));
    }

    static List<ImportResult> importResults(byte[] raw) {
        ByteBuffer b = wrap(raw);
        List<ImportResult> out = new ArrayList<>();
        for (int at = 0; at + IMPORT_RESULT <= raw.length; at += IMPORT_RESULT) out.add(importResult(b, at));
        return out;
    }

    static List<DiagnosisKey> diagnosisKeys(byte[] raw) {
        ByteBuffer b = wrap(raw);
        List<DiagnosisKey> out = new ArrayList<>();
        for (int at = 0; at + DIAGNOSIS_KEY <= raw.length; at += DIAGNOSIS_KEY) {
            out.add(new DiagnosisKey(bytes(b, at, 16), Integer.toUnsignedLong(b.getInt(at + 16)),
                    b.getInt(at + 20), b.getInt(at + 24), b.getInt(at + 28),
                    b.get(at + 36) != 0 ? Integer.valueOf(b.getInt(at + 32)) : null));
        }
        return out;
    }

    static TracerStatus tracerStatus(byte[] raw) {
        ByteBuffer b = filled(raw, TRACER_STATUS, "sotto_tracer_status");
        long[] v = new long[17];
        for (int i = 0; i < v.length; i++) v[i] = b.getLong(8 + 8 * i);
        return new TracerStatus(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10],
                v[11], v[12], v[13], v[14], v[15], v[16], b.get(144) != 0, b.get(145) != 0,
                b.get(146) != 0);
    }

    static TickReport tickReport(byte[] raw) {
        ByteBuffer b = wrap(raw);
        return new TickReport(b.getInt(4), b.get(8) != 0, b.get(9) != 0);
    }

    static StoreStats storeStats(byte[] raw) {
        ByteBuffer b = filled(raw, STORE_STATS, "sotto_store_stats");
        return new StoreStats(b.getLong(8), b.getLong(16), b.getLong(24), b.getLong(32), b.getLong(40),
                b.getLong(48), b.getLong(56));
    }
}
