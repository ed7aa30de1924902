// SPDX-License-Identifier: Apache-2.0
package org.sotto;

/**
 * A failed sotto call: the stable status code of the C ABI ({@link Status}), its name
 * ({@code "SOTTO_ERR_STORAGE_WRONG_KEY"}) and sotto's static English message, which never holds
 * a key, RPI or other identifier. Using a {@link Tracer} after {@link Tracer#close()} throws one
 * with {@link Status#FAILED_PRECONDITION} (the C ABI's "not valid in the object's current
 * state"), never crashes.
 */
public class SottoException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int code;
    private final String codeName;

    /** Called by libsotto_jni. */
    SottoException(int code, String codeName, String message) {
        super(codeName + ": " + message);
        this.code = code;
        this.codeName = codeName;
    }

    SottoException(int code, String message, Throwable cause) {
        this(code, Native.statusName(code), message);
        initCause(cause);
    }

    static SottoException of(int code, String message) {
        return new SottoException(code, Native.statusName(code), message);
    }

    /** The status code, one of {@link Status}'s constants (grouped by hundreds, never renumbered). */
    public int code() {
        return code;
    }

    /** The code's name in the C ABI, e.g. {@code "SOTTO_ERR_STORAGE_WRONG_KEY"}. */
    public String codeName() {
        return codeName;
    }
}
