// SPDX-License-Identifier: Apache-2.0
package org.sotto;

/**
 * The status codes of the C ABI ({@code SOTTO_ERR_*} in sotto.h, equal to {@code sotto::ErrorCode}):
 * what {@link SottoException#code()} returns. Grouped by hundreds and never renumbered; the name of
 * each is {@code "SOTTO_ERR_" + } the constant's name ({@link #name(int)}).
 */
public final class Status {
    public static final int OK = 0;
    public static final int INVALID_ARGUMENT = 100;
    public static final int FAILED_PRECONDITION = 101;
    public static final int OUT_OF_RANGE = 102;
    public static final int CLOCK_SUSPECT = 103;
    /** Cancelled by the caller (KeyUpdater.cancel). */
    public static final int CANCELLED = 104;
    public static final int CRYPTO_FAILURE = 200;
    public static final int AUTHENTICATION_FAILED = 201;
    public static final int UNTRUSTED_KEY = 202;
    public static final int UNSIGNED = 203;
    public static final int STORAGE_IO = 300;
    public static final int STORAGE_CORRUPT = 301;
    public static final int STORAGE_WRONG_KEY = 302;
    public static final int STORAGE_NOT_A_STORE = 303;
    public static final int STORAGE_NEWER_SCHEMA = 304;
    public static final int STORAGE_READ_ONLY = 305;
    public static final int STORAGE_FULL = 306;
    public static final int STORAGE_BUSY = 307;
    public static final int STORAGE_NOT_ENCRYPTED = 308;
    public static final int BLE_UNAVAILABLE = 400;
    public static final int BLE_PERMISSION_DENIED = 401;
    public static final int BLE_BUSY = 402;
    public static final int BLE_REFUSED = 403;
    public static final int BLE_TIMEOUT = 404;
    public static final int KEYFILE_MALFORMED = 500;
    public static final int KEYFILE_TOO_LARGE = 501;
    public static final int KEYFILE_IO = 502;
    public static final int OUT_OF_MEMORY = 600;
    public static final int NETWORK_IO = 700;
    public static final int NETWORK_TIMEOUT = 701;
    public static final int NETWORK_TOO_LARGE = 702;
    public static final int NETWORK_HTTP = 703;
    public static final int NETWORK_REFUSED = 704;
    public static final int INTERNAL = 900;

    private Status() {}

    /** The C ABI's name of a code ({@code sotto_status_name}), "SOTTO_ERR_UNKNOWN" for others. */
    public static String name(int code) {
        return Native.statusName(code);
    }
}
