// SPDX-License-Identifier: Apache-2.0
package org.sotto;

/**
 * The consent {@link Tracer#releaseOwnKeys} requires. There is exactly one value, made in exactly
 * one way, so that every place an app releases the user's keys can be found with
 * {@code grep -rn USER_CONFIRMED_UPLOAD_OF_OWN_KEYS}: use it only on the code path where the
 * user confirmed, in the app's UI, that their keys may be uploaded. It carries
 * {@code SOTTO_USER_CONFIRMED_UPLOAD_OF_OWN_KEYS} of sotto.h to the C library, which checks it.
 */
public final class Consent {
    /** The user confirmed the upload of their own keys. */
    public static final Consent USER_CONFIRMED_UPLOAD_OF_OWN_KEYS = new Consent(0x55504C44);

    final int value;

    private Consent(int value) {
        this.value = value;
    }

    @Override
    public String toString() {
        return "USER_CONFIRMED_UPLOAD_OF_OWN_KEYS";
    }
}
