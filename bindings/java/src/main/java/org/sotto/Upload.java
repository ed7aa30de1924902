// SPDX-License-Identifier: Apache-2.0
package org.sotto;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/** Where and how {@link Tracer#uploadOwnKeys} sends the keys, and what the key server answered. */
public final class Upload {
    private Upload() {}

    /** {@code sotto_upload_options}: the key server's publish endpoint and the verification. */
    public static final class Options {
        String url;
        String healthAuthorityId;
        String verificationPayload;
        String revisionToken;
        File caFile;
        int timeoutMillis;
        int transmissionRisk;
        long symptomOnsetInterval;

        /**
         * @param url                 the publish endpoint, https:// (http:// to a loopback address only)
         * @param healthAuthorityId   assigned by the key server's operator
         * @param verificationPayload the verification certificate (or code) of the positive test
         */
        public Options(String url, String healthAuthorityId, String verificationPayload) {
            this.url = Objects.requireNonNull(url, "url");
            this.healthAuthorityId = Objects.requireNonNull(healthAuthorityId, "healthAuthorityId");
            this.verificationPayload = Objects.requireNonNull(verificationPayload, "verificationPayload");
        }

        /** From an earlier publish of this device ({@link Answer#revisionToken()}). */
        public Options revisionToken(String token) {
            this.revisionToken = token;
            return this;
        }

        /** PEM CAs instead of the system's. */
        public Options caFile(File pem) {
            this.caFile = pem;
            return this;
        }

        /** The whole exchange (0: 30 s; at most 600 s). */
        public Options timeoutMillis(int ms) {
            this.timeoutMillis = ms;
            return this;
        }

        /** 0..8 for every key (0: unknown). */
        public Options transmissionRisk(int risk) {
            this.transmissionRisk = risk;
            return this;
        }

        /** ENIntervalNumber of the day symptoms began (0: not sent). */
        public Options symptomOnsetInterval(long interval) {
            this.symptomOnsetInterval = interval;
            return this;
        }
    }

    /**
     * The key server's answer ({@code sotto_upload_result}). A refusal is an answer:
     * {@code accepted} false, {@code httpStatus} and {@code code} say why.
     */
    public record Answer(int httpStatus, boolean accepted, int keysSent, int bodyBytes, long insertedExposures,
            String code, String message, String revisionToken) {}

    static final int ANSWER_SIZE = 2392;

    static Answer answer(byte[] raw) {
        ByteBuffer b = Layout.wrap(raw);
        return new Answer(b.getInt(0), b.getInt(4) != 0, b.getInt(8), b.getInt(12), b.getLong(16),
                cString(raw, 24, 64), cString(raw, 88, 256), cString(raw, 344, 2048));
    }

    private static String cString(byte[] raw, int at, int len) {
        int n = 0;
        while (n < len && raw[at + n] != 0) n++;
        return new String(raw, at, n, StandardCharsets.UTF_8);
    }

    static byte[] utf8(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }
}
