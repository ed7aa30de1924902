#pragma once
// The one door to libcurl: the only file in sotto that includes <curl/curl.h>. Public headers
// never do. RAII over the easy handle, the URL handle and header lists.

#include <curl/curl.h>

#include <memory>
#include <string>

#include <sotto/result.hpp>

namespace sotto::fetch::detail {

struct CurlEasyDeleter {
    void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
struct CurlMultiDeleter {
    void operator()(CURLM* m) const noexcept { curl_multi_cleanup(m); }
};
struct CurlUrlDeleter {
    void operator()(CURLU* u) const noexcept { curl_url_cleanup(u); }
};
struct CurlSlistDeleter {
    void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
struct CurlStringDeleter {
    void operator()(char* s) const noexcept { curl_free(s); }
};

using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlMulti = std::unique_ptr<CURLM, CurlMultiDeleter>;
using CurlUrl = std::unique_ptr<CURLU, CurlUrlDeleter>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;
using CurlString = std::unique_ptr<char, CurlStringDeleter>;

/// curl_global_init, once per process (thread-safe). False when it failed.
bool curl_ready() noexcept;

/// Parses `url` with libcurl's URL parser (the one that will connect). Null on failure.
CurlUrl parse_url(const char* url) noexcept;

/// One part of a parsed URL (CURLUPART_SCHEME, CURLUPART_HOST, ...); null when absent.
CurlString url_part(CURLU* u, CURLUPart part) noexcept;

/// Whether a transfer that started at `origin` may follow a redirect to `target`: `target` must
/// pass `check_url`, and plain http is allowed only when the origin itself was plain http (to a
/// loopback host). An https source can never be bounced to plain http, not even to loopback.
Result<void> check_redirect(const std::string& origin, const std::string& target);

}  // namespace sotto::fetch::detail
