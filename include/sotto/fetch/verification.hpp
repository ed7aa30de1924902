#pragma once
/// \file
/// The device side of a verification server (google/exposure-notifications-verification-server,
/// device API), which turns the code a health authority gave the user into a certificate the key
/// server accepts:
///
/// 1. `verify_code`: `POST <server>/api/verify`, header `X-API-Key`, body `{"code": CODE}` ->
///    `{"token", "testtype", "symptomDate"}` or `{"error", "errorCode"}` ("code_invalid",
///    "code_expired", "code_not_found", ...).
/// 2. `request_certificate`: `POST <server>/api/certificate`, body `{"token", "ekeyhmac"}` ->
///    `{"certificate"}` or `{"error", "errorCode"}` ("token_invalid", "token_expired",
///    "hmac_invalid", ...). `ekeyhmac` is `exposure_key_hmac` of the keys about to be published.
///
/// `fetch::upload_keys` runs both when `UploadOptions::verification_server` is set; these calls
/// are the steps, for callers (and tests) that need them apart. Same transport rules as the
/// upload: `https://`, plain `http://` only to loopback, no redirect, bounded time and answer.
/// The API key, the token and the certificate never reach an error message.
///
/// **Threading.** No state: call from any thread. Never throws.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <sotto/fetch/key_upload.hpp>
#include <sotto/result.hpp>

namespace sotto::fetch {

struct VerificationOptions {
    /// Base URL, e.g. "https://encv.example.org"; a trailing '/' is dropped.
    std::string server;
    std::string api_key;  ///< the app's device API key (`X-API-Key`); printable ASCII
    std::string ca_file;  ///< PEM CAs instead of the system's; empty: the system's
    std::uint32_t connect_timeout_ms = 10'000;
    std::uint32_t total_timeout_ms = 30'000;  ///< this one call (1 ms .. 10 min)
};

/// One answer of the verification server.
struct VerificationAnswer {
    long http_status = 0;
    bool ok = false;           ///< 200 and the expected field present
    std::string value;         ///< the token (verify) or the certificate (certificate); secret
    std::string test_type;     ///< verify: "confirmed", "likely", "negative"; may be empty
    std::string symptom_date;  ///< verify: "YYYY-MM-DD"; may be empty
    std::string error_code;    ///< `errorCode` when refused: printable ASCII, at most 64 bytes
    std::string message;       ///< `error` when refused: printable ASCII, at most 256 bytes
};

/// The verification protocol's HMAC of `keys` under `hmac_key`, base64 (standard alphabet,
/// padded): the keys sorted by their base64 TEK, each written as
/// `<base64 key>.<rollingStartNumber>.<rollingPeriod>.<transmissionRisk>`, joined by ',',
/// HMAC-SHA256. Errors: kInvalidArgument (no key, or an empty hmac key), kCryptoFailure.
Result<std::string> exposure_key_hmac(std::span<const UploadKey> keys,
                                      std::span<const std::uint8_t> hmac_key);

/// Step 1. A refusal is an answer (`ok` false, `error_code`); errors are failed exchanges:
/// kNetworkRefused (URL, redirect), kNetworkTimeout, kNetworkIo (also: a 200 without a usable
/// token), kNetworkTooLarge, kInvalidArgument (empty or non-printable code or API key).
Result<VerificationAnswer> verify_code(std::string_view code, const VerificationOptions& options);

/// Step 2. Errors as `verify_code`.
Result<VerificationAnswer> request_certificate(std::string_view token, std::string_view ekeyhmac,
                                               const VerificationOptions& options);

}  // namespace sotto::fetch
