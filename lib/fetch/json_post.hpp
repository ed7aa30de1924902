#pragma once
// One JSON POST with the upload rules: the URL passes check_url, redirects are not followed
// (a 3xx is kNetworkRefused), the answer is capped at kMaxUploadResponseBytes and the whole
// exchange at `total_ms`. Shared by the key server publish and the verification server calls.

#include <cstdint>
#include <string>

#include <sotto/result.hpp>

namespace sotto::fetch::detail {

/// Which call: prefixes the error messages ("upload: ...", "verify: ...", "certificate: ...").
enum class Step { kUpload = 0, kVerify = 1, kCertificate = 2 };

struct PostAnswer {
    long http_status = 0;
    std::string body;  ///< the answer's bytes (at most kMaxUploadResponseBytes)
};

/// POSTs `body` (Content-Type: application/json) to `url`. `secret_header` ("Name: value", may be
/// empty) is sent as one more header and wiped from every copy afterwards; it never reaches an
/// error message. Errors: as
/// fetch::upload_keys (kNetworkRefused, kNetworkTimeout, kNetworkIo, kNetworkTooLarge,
/// kOutOfMemory, kInternal).
Result<PostAnswer> post_json(const std::string& url, const std::string& body,
                             const std::string& secret_header, const std::string& ca_file,
                             std::uint32_t connect_ms, std::uint32_t total_ms, Step step);

}  // namespace sotto::fetch::detail
