// HTTP(S) transport over one reused libcurl easy handle (keep-alive between files). Redirects
// are followed by hand so every target passes check_url before any connection.

#include <algorithm>
#include <cctype>
#include <cstring>
#include <new>
#include <stop_token>
#include <string>
#include <string_view>

#include <sotto/fetch/url_policy.hpp>
#include <sotto/version.hpp>

#include "fetch/curl.hpp"
#include "fetch/transport.hpp"

namespace sotto::fetch::detail {
namespace {

constexpr std::size_t kMaxHeaderBytes = 64 * 1024;
constexpr std::size_t kMaxValidatorBytes = 256;
// Longest wait in curl_multi_poll: a bound on the reaction time even if a wakeup were lost.
constexpr int kPollMs = 200;

// State shared with the libcurl callbacks of one request.
struct Transfer {
    CURL* handle = nullptr;
    const BodySink* sink = nullptr;
    const TransferProgress* progress = nullptr;
    const std::stop_token* stop = nullptr;
    std::uint64_t max_bytes = 0;
    std::uint64_t received = 0;  // body bytes of this response (any status)
    std::size_t header_bytes = 0;
    bool status_known = false;
    bool deliver = false;  // status 200: body goes to the sink
    bool too_large = false;
    bool sink_failed = false;
    bool cancelled = false;
    std::string etag;
    std::string last_modified;
};

bool iequals_prefix(std::string_view line, std::string_view name) {
    if (line.size() < name.size()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
    }
    return true;
}

// A validator is echoed back in a request header: keep it only if it is short printable ASCII.
std::string clean_validator(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() &&
           (v.back() == ' ' || v.back() == '\t' || v.back() == '\r' || v.back() == '\n')) {
        v.remove_suffix(1);
    }
    if (v.empty() || v.size() > kMaxValidatorBytes) return {};
    for (char c : v) {
        if (c < 0x20 || c > 0x7e) return {};
    }
    return std::string(v);
}

size_t on_header(char* data, size_t size, size_t n, void* user) noexcept {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t len = size * n;
    t->header_bytes += len;
    if (t->header_bytes > kMaxHeaderBytes) {
        t->too_large = true;
        return 0;
    }
    try {
        const std::string_view line(data, len);
        if (line.starts_with("HTTP/")) {  // a new response (after 1xx or a redirect)
            t->etag.clear();
            t->last_modified.clear();
        } else if (iequals_prefix(line, "etag:")) {
            t->etag = clean_validator(line.substr(5));
        } else if (iequals_prefix(line, "last-modified:")) {
            t->last_modified = clean_validator(line.substr(14));
        }
    } catch (...) {
        return 0;
    }
    return len;
}

size_t on_body(char* data, size_t size, size_t n, void* user) noexcept {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t len = size * n;
    if (!t->status_known) {
        long status = 0;
        curl_easy_getinfo(t->handle, CURLINFO_RESPONSE_CODE, &status);
        t->deliver = status == 200;
        t->status_known = true;
    }
    // The cap applies to every body, delivered or not, as soon as it is exceeded.
    if (len > t->max_bytes - std::min(t->received, t->max_bytes) || t->received > t->max_bytes) {
        t->too_large = true;
        return 0;
    }
    t->received += len;
    if (!t->deliver) return len;
    try {
        if (!(*t->sink)(
                std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data), len))) {
            t->sink_failed = true;
            return 0;
        }
    } catch (...) {
        t->sink_failed = true;
        return 0;
    }
    return len;
}

// Called by libcurl in every phase (connect, TLS, headers, redirects, error bodies, the body):
// the caller may cancel at any time. Byte counts are reported for a 200 body only (0, 0 before).
int on_progress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) noexcept {
    auto* t = static_cast<Transfer*>(user);
    if (t->stop->stop_requested()) {
        t->cancelled = true;
        return 1;
    }
    if (!*t->progress) return 0;
    try {
        const bool body = t->deliver;
        if (!(*t->progress)(
                body ? static_cast<std::uint64_t>(std::max<curl_off_t>(now, 0)) : 0,
                body ? static_cast<std::uint64_t>(std::max<curl_off_t>(total, 0)) : 0)) {
            t->cancelled = true;
            return 1;
        }
    } catch (...) {
        t->cancelled = true;
        return 1;
    }
    return 0;
}

Error map_curl_error(CURLcode rc, const Transfer& t) {
    if (t.too_large)
        return {ErrorCode::kNetworkTooLarge, "download: response exceeds the size cap"};
    if (t.sink_failed) return {ErrorCode::kStorageIo, "download: cannot write the spool file"};
    if (t.cancelled) return {ErrorCode::kCancelled, "download: cancelled"};
    switch (rc) {
        case CURLE_OPERATION_TIMEDOUT:
            return {ErrorCode::kNetworkTimeout, "download: timed out"};
        case CURLE_FILESIZE_EXCEEDED:
            return {ErrorCode::kNetworkTooLarge, "download: response exceeds the size cap"};
        case CURLE_OUT_OF_MEMORY:
            return {ErrorCode::kOutOfMemory, "download: out of memory"};
        case CURLE_UNSUPPORTED_PROTOCOL:
            return {ErrorCode::kNetworkRefused, "download: protocol not allowed"};
        case CURLE_PARTIAL_FILE:
            return {ErrorCode::kNetworkIo, "download: body shorter than announced (truncated)"};
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
            return {ErrorCode::kNetworkIo, "download: cannot resolve the host"};
        case CURLE_COULDNT_CONNECT:
            return {ErrorCode::kNetworkIo, "download: cannot connect"};
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
            return {ErrorCode::kNetworkIo, "download: TLS handshake or certificate check failed"};
        case CURLE_GOT_NOTHING:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
            return {ErrorCode::kNetworkIo, "download: connection broke off"};
        default:
            return {ErrorCode::kNetworkIo, "download: transfer failed"};
    }
}

class HttpTransport final : public Transport {
public:
    HttpTransport(std::string root, const DownloadOptions& options)
        : root_(std::move(root)), options_(options) {
        while (!root_.empty() && root_.back() == '/') root_.pop_back();
    }

    GetResponse get(const GetRequest& request, const BodySink& sink,
                    const TransferProgress& progress, std::stop_token stop) override {
        try {
            return get_impl(request, sink, progress, stop);
        } catch (const std::bad_alloc&) {
            GetResponse r;
            r.error = {ErrorCode::kOutOfMemory, "download: out of memory"};
            return r;
        } catch (...) {
            GetResponse r;
            r.error = {ErrorCode::kInternal, "download: unexpected exception"};
            return r;
        }
    }

private:
    GetResponse get_impl(const GetRequest& request, const BodySink& sink,
                         const TransferProgress& progress, const std::stop_token& stop) {
        GetResponse r;
        if (!curl_ready()) {
            r.error = {ErrorCode::kInternal, "download: libcurl failed to initialize"};
            return r;
        }
        if (!multi_) multi_.reset(curl_multi_init());
        if (!easy_) easy_.reset(curl_easy_init());
        if (!multi_ || !easy_) {
            r.error = {ErrorCode::kOutOfMemory, "download: cannot create a transfer"};
            return r;
        }
        const std::string origin = root_ + "/" + request.path;
        std::string url = origin;
        for (std::uint32_t hop = 0;; ++hop) {
            if (auto allowed = hop == 0 ? check_url(url) : check_redirect(origin, url); !allowed) {
                r.error = allowed.error();
                return r;
            }
            if (stop.stop_requested()) {
                r.cancelled = true;
                r.error = {ErrorCode::kCancelled, "download: cancelled"};
                return r;
            }
            Transfer t;
            t.handle = easy_.get();
            t.sink = &sink;
            t.progress = &progress;
            t.stop = &stop;
            t.max_bytes = request.max_bytes;
            CurlSlist headers;
            const CURLcode rc = perform(url, request, t, headers);
            ++r.requests;
            long status = 0;
            curl_easy_getinfo(easy_.get(), CURLINFO_RESPONSE_CODE, &status);
            r.status = status;
            if (rc != CURLE_OK) {
                r.cancelled = t.cancelled;
                r.error = map_curl_error(rc, t);
                return r;
            }
            if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
                char* next = nullptr;
                curl_easy_getinfo(easy_.get(), CURLINFO_REDIRECT_URL, &next);
                if (next == nullptr || hop >= options_.max_redirects) {
                    r.error = {ErrorCode::kNetworkHttp, "download: too many or invalid redirects"};
                    return r;
                }
                url = next;
                continue;
            }
            if (status == 304) {
                r.not_modified = true;
                return r;
            }
            if (status != 200) {
                r.error = {ErrorCode::kNetworkHttp,
                           "download: the server answered with an HTTP error"};
                return r;
            }
            r.etag = std::move(t.etag);
            r.last_modified = std::move(t.last_modified);
            r.body_bytes = t.received;
            return r;
        }
    }

    CURLcode perform(const std::string& url, const GetRequest& request, Transfer& t,
                     CurlSlist& headers) {
        CURL* h = easy_.get();
        curl_easy_reset(h);  // keeps the connection cache
        CURLcode rc = CURLE_OK;
        auto set = [&](CURLoption o, auto v) {
            if (rc == CURLE_OK) rc = curl_easy_setopt(h, o, v);
        };
        set(CURLOPT_URL, url.c_str());
        set(CURLOPT_PROTOCOLS_STR, "http,https");
        set(CURLOPT_FOLLOWLOCATION, 0L);
        set(CURLOPT_NOSIGNAL, 1L);
        set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
        set(CURLOPT_TIMEOUT_MS, static_cast<long>(options_.total_timeout_ms));
        set(CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(options_.low_speed_bytes_per_s));
        set(CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.low_speed_time_s));
        set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(request.max_bytes));
        set(CURLOPT_USERAGENT, kUserAgent.c_str());
        // Loopback mirrors are never reached through a proxy from the environment.
        set(CURLOPT_NOPROXY, "localhost,127.0.0.0/8,::1");
        set(CURLOPT_SSL_VERIFYPEER, 1L);
        set(CURLOPT_SSL_VERIFYHOST, 2L);
        if (!options_.ca_file.empty()) {
            set(CURLOPT_CAINFO, options_.ca_file.c_str());
            set(CURLOPT_CAPATH, static_cast<const char*>(nullptr));  // only this file
        }
        set(CURLOPT_HEADERFUNCTION, &on_header);
        set(CURLOPT_HEADERDATA, static_cast<void*>(&t));
        set(CURLOPT_WRITEFUNCTION, &on_body);
        set(CURLOPT_WRITEDATA, static_cast<void*>(&t));
        set(CURLOPT_XFERINFOFUNCTION, &on_progress);
        set(CURLOPT_XFERINFODATA, static_cast<void*>(&t));
        set(CURLOPT_NOPROGRESS, 0L);
        curl_slist* list = nullptr;
        auto add = [&](const std::string& line) {
            curl_slist* next = curl_slist_append(list, line.c_str());
            if (next == nullptr) {
                rc = CURLE_OUT_OF_MEMORY;
                return;
            }
            list = next;
        };
        if (!request.if_none_match.empty()) add("If-None-Match: " + request.if_none_match);
        if (!request.if_modified_since.empty())
            add("If-Modified-Since: " + request.if_modified_since);
        headers.reset(list);
        if (list != nullptr) set(CURLOPT_HTTPHEADER, list);
        if (rc != CURLE_OK) return rc;
        return run(t, *t.stop);
    }

    // Runs the configured transfer on the multi handle. A stop request wakes curl_multi_poll at
    // once (curl_multi_wakeup from the requesting thread), whatever phase the transfer is in;
    // the transfer is then aborted as cancelled.
    CURLcode run(Transfer& t, const std::stop_token& stop) {
        CURLM* m = multi_.get();
        if (curl_multi_add_handle(m, easy_.get()) != CURLM_OK) return CURLE_OUT_OF_MEMORY;
        struct Remove {
            CURLM* m;
            CURL* e;
            ~Remove() { curl_multi_remove_handle(m, e); }
        } remove{m, easy_.get()};
        std::stop_callback wake(stop, [m]() noexcept { curl_multi_wakeup(m); });
        int running = 1;
        while (running > 0) {
            if (stop.stop_requested()) {
                t.cancelled = true;
                return CURLE_ABORTED_BY_CALLBACK;
            }
            if (curl_multi_perform(m, &running) != CURLM_OK) return CURLE_OUT_OF_MEMORY;
            if (running == 0) break;
            if (curl_multi_poll(m, nullptr, 0, kPollMs, nullptr) != CURLM_OK)
                return CURLE_OUT_OF_MEMORY;
        }
        int queued = 0;
        while (CURLMsg* msg = curl_multi_info_read(m, &queued)) {
            if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy_.get())
                return msg->data.result;
        }
        return CURLE_RECV_ERROR;
    }

    const std::string kUserAgent = std::string("sotto/") + version_string();
    std::string root_;
    DownloadOptions options_;
    // The multi handle keeps the connection cache between transfers (keep-alive); declared
    // first so the easy handle is destroyed before it.
    CurlMulti multi_;
    CurlEasy easy_;
};

}  // namespace

std::unique_ptr<Transport> make_http_transport(std::string root, const DownloadOptions& options) {
    return std::make_unique<HttpTransport>(std::move(root), options);
}

}  // namespace sotto::fetch::detail
