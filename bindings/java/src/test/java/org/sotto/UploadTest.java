// SPDX-License-Identifier: Apache-2.0
package org.sotto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sotto.TestSupport.DAY;
import static org.sotto.TestSupport.INTERVAL_MS;
import static org.sotto.TestSupport.activeAdvertisement;
import static org.sotto.TestSupport.options;
import static org.sotto.TestSupport.storeKey;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tracer.uploadOwnKeys against the key server's publish endpoint on 127.0.0.1
 * (tests/fetch/publish_server.py in a child process, answering as the Exposure Notifications
 * Server does).
 */
class UploadTest {
    private static final String CODE = "12345678";

    @TempDir
    Path dir;

    private final TestSupport.TestClock clock = new TestSupport.TestClock((DAY + 72) * INTERVAL_MS);
    private final List<Process> servers = new ArrayList<>();

    @AfterEach
    void stop() {
        servers.forEach(Process::destroyForcibly);
    }

    /** Starts the server; returns its publish URL. */
    private String server(Path log, String mode) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", System.getProperty("sotto.test.publish_server"),
                log.toString(), CODE));
        if (mode != null) cmd.add(mode);
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        servers.add(p);
        String port = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
        return "http://127.0.0.1:" + Integer.parseInt(port.trim()) + "/v1/publish";
    }

    @Test
    void theKeysReachTheServerOnlyWithConsentAndARefusalIsAnAnswer() throws Exception {
        Path log = dir.resolve("publish.log");
        String url = server(log, null);
        try (Tracer t = Tracer.open(dir.resolve("s.db").toString(), storeKey(1), options(clock))) {
            Advertisement adv = activeAdvertisement(t, clock);

            SottoException refused = assertThrows(SottoException.class,
                    () -> t.uploadOwnKeys(null, new Upload.Options(url, "com.example.ha", CODE)));
            assertEquals(Status.FAILED_PRECONDITION, refused.code());
            assertFalse(Files.exists(log), "nothing was sent without consent");
            assertEquals(Status.NETWORK_REFUSED, assertThrows(SottoException.class,
                    () -> t.uploadOwnKeys(Consent.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS,
                            new Upload.Options("http://example.com/v1/publish", "com.example.ha", CODE))).code());
            assertEquals(Status.INVALID_ARGUMENT, assertThrows(SottoException.class,
                    () -> t.uploadOwnKeys(Consent.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS,
                            new Upload.Options(url, "com.example.ha", CODE).transmissionRisk(9))).code());
            assertFalse(Files.exists(log));

            Upload.Answer bad = t.uploadOwnKeys(Consent.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS,
                    new Upload.Options(url, "com.example.ha", "00000000"));
            assertFalse(bad.accepted());
            assertEquals(400, bad.httpStatus());
            assertEquals("health_authority_verification_certificate_invalid", bad.code());

            Upload.Answer ok = t.uploadOwnKeys(Consent.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS,
                    new Upload.Options(url, "com.example.ha", CODE).transmissionRisk(3));
            assertTrue(ok.accepted());
            assertEquals(200, ok.httpStatus());
            assertTrue(ok.keysSent() >= 1);
            assertTrue(ok.revisionToken().length() > 20);
            // The key that made the advertisement is in the last request the server logged.
            List<String> lines = Files.readAllLines(log);
            String body = lines.get(lines.size() - 1);
            boolean found = false;
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"key\"\\s*:\\s*\"([^\"]+)\"").matcher(body);
            while (m.find()) {
                byte[] tek = Base64.getDecoder().decode(m.group(1));
                byte[] rpi = Gaen.deriveRpis(tek, adv.interval(), 1);
                found |= java.util.Arrays.equals(rpi, java.util.Arrays.copyOf(adv.serviceData(), 16));
            }
            assertTrue(found, "the uploaded keys include the one that was broadcast");
            assertTrue(body.contains("\"transmissionRisk\": 3") || body.contains("\"transmissionRisk\":3"), body);
        }
    }

    @Test
    void aServerThatHangsIsGivenUpAfterTheTimeout() throws Exception {
        String url = server(dir.resolve("hang.log"), "hang");
        try (Tracer t = Tracer.open(dir.resolve("s.db").toString(), storeKey(1), options(clock))) {
            activeAdvertisement(t, clock);
            SottoException e = assertThrows(SottoException.class, () -> t.uploadOwnKeys(
                    Consent.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS,
                    new Upload.Options(url, "com.example.ha", CODE).timeoutMillis(500)));
            assertEquals(Status.NETWORK_TIMEOUT, e.code());
        }
    }
}
