#pragma once
// One JSON POST with the upload rules: the URL passes check_url, redirects are not followed
// (a 3xx is kNetworkRefused), the answer is capped at kMaxUploadResponseBytes and the whole
// exchange at `total_ms`. Shared by the key server publish and the verification server calls.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

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

/// Standard base64 (RFC 4648, with padding) of `n` bytes.
std::string base64(const std::uint8_t* data, std::size_t n);

/// True when every byte of `s` is printable ASCII (0x20-0x7e).
bool printable_ascii(std::string_view s);

/// Appends `s` as a JSON string; `s` is printable ASCII (checked by the caller), so only '"'
/// and '\' need escaping.
void append_json_string(std::string& out, std::string_view s);

/// The string field `name` of an answer, cut to `cap` bytes with every byte that is not
/// printable ASCII replaced by '?' (safe to log or show); "" when absent or not a string.
std::string clean_string_field(const nlohmann::json& j, const char* name, std::size_t cap);

}  // namespace sotto::fetch::detail
