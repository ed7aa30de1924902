#pragma once
/// \file
/// Handing one's own keys to a key server: one POST in the Exposure Notifications Server
/// *publish* format (google/exposure-notifications-server, `pkg/api/v1` `Publish`).
///
/// The body is one JSON object:
///
///     {"temporaryExposureKeys":[{"key":"<base64 TEK>","rollingStartNumber":N,
///       "rollingPeriod":N,"transmissionRisk":N},...],
///      "healthAuthorityID":"...","verificationPayload":"...","hmacKey":"<base64>",
///      ["symptomOnsetInterval":N,] "revisionToken":"...","padding":"<base64>"}
///
/// **Nothing else about the user** is sent: no device or app identifier, no cookie, no header
/// beyond `Host`, `User-Agent: sotto/<version>`, `Accept`, `Content-Type` and `Content-Length`.
/// `hmacKey` is 32 fresh random bytes per call, and `padding` random bytes of random length, so
/// that the body's size (up to `kMaxUploadKeys` keys) does not tell how many keys were sent.
///
/// **Where to.** `https://` to any host; plain `http://` only to a loopback address (`check_url`).
/// Redirects are not followed (a 3xx is an error: a POST carrying keys is never re-sent
/// elsewhere). The answer is read up to `kMaxUploadResponseBytes`.
///
/// **With a verification server** (`UploadOptions::verification_server` set): the code is first
/// exchanged as the google/exposure-notifications-verification-server device API does
/// (`POST <server>/api/verify` with `X-API-Key` -> token; `POST <server>/api/certificate` with the
/// token and the HMAC of the keys under a fresh 32-byte key -> certificate, see
/// `<sotto/fetch/verification.hpp>`), then the publish carries that certificate as
/// `verificationPayload` and the same key as `hmacKey`. Without one, `verification_payload` is
/// sent as is (a server that checks certificates refuses a bare code). The API key, the token and
/// the certificate never reach an error message or a log.
///
/// The caller obtains the keys with `Tracer::release_own_keys(user_confirmed_upload_of_own_keys())`
/// (the consent lives there); the C ABI's `sotto_upload_own_keys` does both.
///
/// **Threading.** No state: call from any thread; each call blocks for at most
/// `UploadOptions::total_timeout_ms` (plus name resolution). Never throws. As with the
/// downloader, a program that uploads sets SIGPIPE to SIG_IGN.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <sotto/core/keys.hpp>
#include <sotto/result.hpp>

namespace sotto::fetch {

/// Most keys one publish carries (the reference server's default `MAX_KEYS_ON_PUBLISH` is 20;
/// GAEN devices hold at most 14 days plus today's cut key).
inline constexpr std::size_t kMaxUploadKeys = 30;
/// Largest answer read from the key server.
inline constexpr std::size_t kMaxUploadResponseBytes = 64 * 1024;
/// Longest `verificationPayload` / `healthAuthorityID` / `revisionToken` accepted.
inline constexpr std::size_t kMaxUploadFieldBytes = 8 * 1024;

/// One key to publish.
struct UploadKey {
    core::ExposureKey key;
    /// 0..8; 0 means "unknown" (the server then derives it from the verification certificate).
    std::int32_t transmission_risk = 0;
};

struct UploadOptions {
    /// The publish endpoint, e.g. "https://exposure.example.org/v1/publish".
    std::string url;
    /// Assigned by the key server's operator, e.g. "com.example.healthauthority".
    std::string health_authority_id;
    /// The verification code the health authority handed the user (exchanged for a certificate
    /// when `verification_server` is set; sent as is otherwise).
    std::string verification_payload;
    /// Interval number of the symptom onset day; 0: not sent.
    std::uint32_t symptom_onset_interval = 0;
    /// From an earlier successful publish of the same device; empty for the first one.
    std::string revision_token;
    /// PEM CA certificates to trust instead of the system store (pinning); empty: the system's.
    std::string ca_file;
    std::uint32_t connect_timeout_ms = 10'000;
    std::uint32_t total_timeout_ms = 30'000;  ///< the whole exchange, all steps (1 ms .. 10 min)
    /// The verification server's base URL, e.g. "https://encv.example.org" (`/api/verify` and
    /// `/api/certificate` are appended); same URL rules as `url`. Empty: no verification step.
    std::string verification_server;
    /// The app's API key for the verification server (`X-API-Key`); required with it.
    std::string api_key;
};

/// What the key server answered (a complete HTTP exchange).
struct UploadReply {
    /// The step that answered last: "verify", "certificate" (the verification server refused:
    /// `http_status`, `code` = its `errorCode` such as "code_invalid", "code_expired",
    /// "token_expired", `message` = its `error`) or "publish" (the key server answered).
    std::string stage = "publish";
    long http_status = 0;
    /// 200 and no `code` other than "partial_failure": the keys (or some) were taken.
    bool accepted = false;
    /// `code` of the answer ("health_authority_verification_certificate_invalid",
    /// "unknown_health_authority_id", "bad_request", "partial_failure", ...): printable ASCII,
    /// at most 64 bytes; empty when absent.
    std::string code;
    /// `error` of the answer: printable ASCII, at most 256 bytes; empty when absent.
    std::string message;
    /// `revisionToken` (keep it for a later publish of the same device); empty when absent.
    std::string revision_token;
    std::int64_t inserted_exposures = 0;
    std::size_t keys_sent = 0;
    std::size_t body_bytes = 0;  ///< size of the request body sent (padding included)
};

/// The request body for `keys` (exposed for tests; `upload_keys` sends exactly this).
/// Errors: kInvalidArgument (no key, more than kMaxUploadKeys, a key out of range, a field too
/// long or not printable ASCII), kCryptoFailure, kOutOfMemory.
Result<std::string> build_publish_body(std::span<const UploadKey> keys,
                                       const UploadOptions& options);

/// The publish body with a given `verification_payload` (the certificate) and `hmac_key` (raw
/// bytes, base64-encoded into `hmacKey`): what the verified flow sends. Errors as above.
Result<std::string> build_publish_body(std::span<const UploadKey> keys,
                                       const UploadOptions& options,
                                       std::span<const std::uint8_t> hmac_key);

/// The publish step alone: `keys` with `options.verification_payload` (a certificate) and
/// `hmac_key` (the key its HMAC was computed under) to `options.url`; no verification step
/// whatever `verification_server` says. Errors and answer as `upload_keys`.
Result<UploadReply> publish_keys(std::span<const UploadKey> keys, const UploadOptions& options,
                                 std::span<const std::uint8_t> hmac_key);

/// Sends `keys` to `options.url` and reads the answer. An answer that is not 200 is still an
/// `UploadReply` (with the server's `code` and `error`); only a failed exchange is an error:
/// kNetworkRefused (URL not allowed, a redirect), kInvalidArgument (see `build_publish_body`,
/// or a timeout out of range), kNetworkTimeout, kNetworkIo (connection, TLS), kNetworkTooLarge
/// (answer over the cap), kOutOfMemory. The body (keys included) is wiped after the call.
/// With `verification_server`, a refusal by the verification server is an `UploadReply` with
/// `stage` "verify" or "certificate" and `accepted` false (nothing reached the key server).
Result<UploadReply> upload_keys(std::span<const UploadKey> keys, const UploadOptions& options);

}  // namespace sotto::fetch
