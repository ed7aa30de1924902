// URL policy: https anywhere, plain http only to loopback. Parsed by libcurl so the host checked
// is the host contacted.

#include <sotto/fetch/url_policy.hpp>

#include <cstring>
#include <mutex>
#include <string>
#include <string_view>

#include "fetch/curl.hpp"

namespace sotto::fetch {
namespace detail {

bool curl_ready() noexcept {
    static std::once_flag once;
    static CURLcode rc = CURLE_FAILED_INIT;
    std::call_once(once, [] { rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
    return rc == CURLE_OK;
}

CurlUrl parse_url(const char* url) noexcept {
    if (!curl_ready()) return nullptr;
    CurlUrl u(curl_url());
    if (!u) return nullptr;
    // No guessing of a scheme: "example.com/x" is not a URL here.
    if (curl_url_set(u.get(), CURLUPART_URL, url, 0) != CURLUE_OK) return nullptr;
    return u;
}

CurlString url_part(CURLU* u, CURLUPart part) noexcept {
    char* s = nullptr;
    if (curl_url_get(u, part, &s, 0) != CURLUE_OK) return nullptr;
    return CurlString(s);
}

}  // namespace detail

namespace {

// Four decimal numbers 0..255 with the first 127. "127.1", octal and hex forms are refused:
// they are loopback to some resolvers and not to others.
bool is_loopback_v4(std::string_view h) noexcept {
    int parts = 0;
    std::size_t i = 0;
    while (true) {
        std::size_t digits = 0;
        unsigned value = 0;
        while (i < h.size() && h[i] >= '0' && h[i] <= '9' && digits < 4) {
            value = value * 10 + static_cast<unsigned>(h[i] - '0');
            ++i;
            ++digits;
        }
        if (digits == 0 || digits > 3 || value > 255) return false;
        if (digits > 1 && h[i - digits] == '0') return false;  // no leading zeros (octal)
        if (parts == 0 && value != 127) return false;
        ++parts;
        if (parts == 4) return i == h.size();
        if (i >= h.size() || h[i] != '.') return false;
        ++i;
    }
}

}  // namespace

namespace detail {

namespace {
bool scheme_is(const std::string& url, std::string_view scheme) {
    auto u = parse_url(url.c_str());
    if (!u) return false;
    auto s = url_part(u.get(), CURLUPART_SCHEME);
    return s && std::string_view(s.get()) == scheme;
}
}  // namespace

Result<void> check_redirect(const std::string& origin, const std::string& target) {
    if (auto allowed = check_url(target); !allowed) return allowed;
    try {
        if (!scheme_is(target, "https") && !scheme_is(origin, "http")) {
            return make_error(ErrorCode::kNetworkRefused, "url: redirect from https to plain http");
        }
        return ok();
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "url: out of memory");
    }
}

}  // namespace detail

Result<void> check_url(std::string_view url) {
    if (url.empty() || url.size() > 2048 || url.find('\0') != std::string_view::npos) {
        return make_error(ErrorCode::kInvalidArgument, "url: empty, too long or not text");
    }
    try {
        const std::string copy(url);
        auto u = detail::parse_url(copy.c_str());
        if (!u) return make_error(ErrorCode::kInvalidArgument, "url: not a valid URL");
        auto scheme = detail::url_part(u.get(), CURLUPART_SCHEME);
        auto host = detail::url_part(u.get(), CURLUPART_HOST);
        if (!scheme || !host || *host.get() == '\0') {
            return make_error(ErrorCode::kNetworkRefused, "url: no scheme or host");
        }
        if (detail::url_part(u.get(), CURLUPART_USER) ||
            detail::url_part(u.get(), CURLUPART_PASSWORD)) {
            return make_error(ErrorCode::kNetworkRefused,
                              "url: credentials in the URL are not allowed");
        }
        const std::string_view s(scheme.get());
        const std::string_view h(host.get());
        if (s == "https") return ok();
        if (s != "http")
            return make_error(ErrorCode::kNetworkRefused, "url: only https (or http to loopback)");
        if (h == "localhost" || h == "[::1]" || is_loopback_v4(h)) return ok();
        return make_error(ErrorCode::kNetworkRefused, "url: plain http only to a loopback address");
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "url: out of memory");
    }
}

}  // namespace sotto::fetch
