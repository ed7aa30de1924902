// One JSON POST through libcurl with the upload rules (see json_post.hpp).

#include "fetch/json_post.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <string>

#include <sodium.h>

#include <nlohmann/json.hpp>

#include <sotto/fetch/key_upload.hpp>
#include <sotto/fetch/url_policy.hpp>
#include <sotto/secret.hpp>
#include <sotto/version.hpp>

#include "fetch/curl.hpp"

namespace sotto::fetch::detail {
namespace {

struct Exchange {
    std::string answer;
    bool too_large = false;
};

size_t on_answer(char* data, size_t size, size_t n, void* user) noexcept {
    auto* x = static_cast<Exchange*>(user);
    const std::size_t len = size * n;
    if (len > kMaxUploadResponseBytes - std::min(x->answer.size(), kMaxUploadResponseBytes)) {
        x->too_large = true;
        return 0;
    }
    try {
        x->answer.append(data, len);
    } catch (...) {
        return 0;
    }
    return len;
}

enum Msg {
    kTooLarge,
    kTimedOut,
    kNoMemory,
    kProtocol,
    kResolve,
    kConnect,
    kTls,
    kFailed,
    kNoCurl,
    kNoTransfer,
    kRedirect,
    kMsgCount
};
#define SOTTO_POST_MESSAGES(p)                                                               \
    {                                                                                        \
        p ": answer exceeds the size cap", p ": timed out", p ": out of memory",             \
            p ": protocol not allowed", p ": cannot resolve the host", p ": cannot connect", \
            p ": TLS handshake or certificate check failed", p ": the exchange failed",      \
            p ": libcurl failed to initialize", p ": cannot create a transfer",              \
            p ": the server redirected (a POST is never re-sent)"                            \
    }
// Error::what must be a static string: one table per step.
constexpr const char* kMessages[3][kMsgCount] = {SOTTO_POST_MESSAGES("upload"),
                                                 SOTTO_POST_MESSAGES("verify"),
                                                 SOTTO_POST_MESSAGES("certificate")};
#undef SOTTO_POST_MESSAGES

Error map_error(CURLcode rc, const Exchange& x, Step step) {
    const auto* m = kMessages[static_cast<int>(step)];
    if (x.too_large) return {ErrorCode::kNetworkTooLarge, m[kTooLarge]};
    switch (rc) {
        case CURLE_OPERATION_TIMEDOUT:
            return {ErrorCode::kNetworkTimeout, m[kTimedOut]};
        case CURLE_OUT_OF_MEMORY:
            return {ErrorCode::kOutOfMemory, m[kNoMemory]};
        case CURLE_UNSUPPORTED_PROTOCOL:
            return {ErrorCode::kNetworkRefused, m[kProtocol]};
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
            return {ErrorCode::kNetworkIo, m[kResolve]};
        case CURLE_COULDNT_CONNECT:
            return {ErrorCode::kNetworkIo, m[kConnect]};
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
            return {ErrorCode::kNetworkIo, m[kTls]};
        default:
            return {ErrorCode::kNetworkIo, m[kFailed]};
    }
}

// Frees a header list after wiping every string in it (one of them may carry an API key).
struct WipedSlist {
    curl_slist* list = nullptr;
    ~WipedSlist() {
        for (curl_slist* p = list; p != nullptr; p = p->next)
            if (p->data != nullptr) sotto::detail::secure_wipe(p->data, std::strlen(p->data));
        curl_slist_free_all(list);
    }
    bool add(const char* s) {
        curl_slist* more = curl_slist_append(list, s);
        if (more == nullptr) return false;
        list = more;
        return true;
    }
};

}  // namespace

Result<PostAnswer> post_json(const std::string& url, const std::string& body,
                             const std::string& secret_header, const std::string& ca_file,
                             std::uint32_t connect_ms, std::uint32_t total_ms, Step step) {
    const auto* m = kMessages[static_cast<int>(step)];
    try {
        if (auto allowed = check_url(url); !allowed) return allowed.error();
        if (total_ms == 0) return make_error(ErrorCode::kNetworkTimeout, m[kTimedOut]);
        if (!curl_ready()) return make_error(ErrorCode::kInternal, m[kNoCurl]);
        CurlEasy easy(curl_easy_init());
        if (!easy) return make_error(ErrorCode::kOutOfMemory, m[kNoTransfer]);
        CURL* h = easy.get();
        const std::string agent = std::string("sotto/") + version_string();
        Exchange x;
        CURLcode rc = CURLE_OK;
        auto set = [&](CURLoption o, auto v) {
            if (rc == CURLE_OK) rc = curl_easy_setopt(h, o, v);
        };
        // "Expect:" turns off libcurl's "Expect: 100-continue" for bodies over 1 KiB.
        WipedSlist headers;
        if (!headers.add("Content-Type: application/json") ||
            !headers.add("Accept: application/json") || !headers.add("Expect:") ||
            (!secret_header.empty() && !headers.add(secret_header.c_str())))
            return make_error(ErrorCode::kOutOfMemory, m[kNoMemory]);
        set(CURLOPT_URL, url.c_str());
        set(CURLOPT_PROTOCOLS_STR, "http,https");
        set(CURLOPT_FOLLOWLOCATION, 0L);
        set(CURLOPT_NOSIGNAL, 1L);
        set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min(connect_ms, total_ms)));
        set(CURLOPT_TIMEOUT_MS, static_cast<long>(total_ms));
        set(CURLOPT_USERAGENT, agent.c_str());
        set(CURLOPT_NOPROXY, "localhost,127.0.0.0/8,::1");
        set(CURLOPT_SSL_VERIFYPEER, 1L);
        set(CURLOPT_SSL_VERIFYHOST, 2L);
        if (!ca_file.empty()) {
            set(CURLOPT_CAINFO, ca_file.c_str());
            set(CURLOPT_CAPATH, static_cast<const char*>(nullptr));
        }
        set(CURLOPT_HTTPHEADER, headers.list);
        set(CURLOPT_POSTFIELDS, body.c_str());
        set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
        set(CURLOPT_WRITEFUNCTION, &on_answer);
        set(CURLOPT_WRITEDATA, static_cast<void*>(&x));
        if (rc == CURLE_OK) rc = curl_easy_perform(h);
        if (rc != CURLE_OK) {
            sotto::detail::secure_wipe(x.answer.data(), x.answer.size());
            return map_error(rc, x, step);
        }
        PostAnswer a;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a.http_status);
        if (a.http_status >= 300 && a.http_status < 400) {
            sotto::detail::secure_wipe(x.answer.data(), x.answer.size());
            return make_error(ErrorCode::kNetworkRefused, m[kRedirect]);
        }
        a.body = std::move(x.answer);
        return a;
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, m[kNoMemory]);
    }
}

std::string base64(const std::uint8_t* data, std::size_t n) {
    std::string out(sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), data, n, sodium_base64_VARIANT_ORIGINAL);
    out.pop_back();  // the terminating NUL
    return out;
}

bool printable_ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

void append_json_string(std::string& out, std::string_view s) {
    out.push_back('"');
    for (char c : s) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    out.push_back('"');
}

std::string clean_string_field(const nlohmann::json& j, const char* name, std::size_t cap) {
    if (!j.is_object() || !j.contains(name) || !j[name].is_string()) return {};
    std::string s = j[name].get<std::string>();
    if (s.size() > cap) s.resize(cap);
    for (char& c : s)
        if (c < 0x20 || c > 0x7e) c = '?';
    return s;
}

}  // namespace sotto::fetch::detail
