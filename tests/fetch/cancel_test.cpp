// Cancelling a download round from another thread, whatever the server does: no timeout option
// is shortened, so only the stop request can end these rounds within the bound.
#include <catch2/catch.hpp>

#include <chrono>
#include <stop_token>
#include <thread>

#include <sotto/fetch/downloader.hpp>

#include "fetch/fetch_test_support.hpp"
#include "hostile_server.hpp"

using namespace sotto;
using namespace sotto::fetch;
using namespace sotto::test::fetch;
using sotto::test::HostileServer;

namespace {

struct Cancelled {
    Result<FetchReport> report;
    double after_stop_s = 0;  // from request_stop() to fetch_round returning
};

// Starts a round against `url` with default options, requests a stop after `delay`, and
// measures how long the round takes to return after that.
Cancelled cancel_after(const std::string& url, const std::filesystem::path& work,
                       std::chrono::milliseconds delay) {
    auto d = make_downloader(url, work);  // default timeouts: 10 s connect, 120 s total
    std::stop_source stop;
    std::chrono::steady_clock::time_point stopped_at;
    std::thread canceller([&] {
        std::this_thread::sleep_for(delay);
        stopped_at = std::chrono::steady_clock::now();
        stop.request_stop();
    });
    auto r = d.fetch_round({}, stop.get_token());
    const auto done = std::chrono::steady_clock::now();
    canceller.join();
    return {std::move(r), std::chrono::duration<double>(done - stopped_at).count()};
}

}  // namespace

TEST_CASE("A round against a server that never answers is cancelled within 1 s",
          "[fetch][cancel]") {
    HostileServer server(HostileServer::Mode::kSilent);
    test::TempDir tmp;
    auto c = cancel_after(server.url(), tmp / "work", std::chrono::milliseconds(700));
    REQUIRE(c.report);
    CHECK(c.report->cancelled);
    CHECK(c.report->index_status == IndexStatus::kFailed);
    CHECK(c.report->index_error.code == ErrorCode::kCancelled);
    CHECK(server.requests() == 1);
    CHECK(c.after_stop_s < 1.0);
}

TEST_CASE("Headers dripped one byte a second are cancelled within 1 s", "[fetch][cancel]") {
    HostileServer server(HostileServer::Mode::kDripHeaders);
    test::TempDir tmp;
    auto c = cancel_after(server.url(), tmp / "work", std::chrono::milliseconds(2500));
    REQUIRE(c.report);
    CHECK(c.report->cancelled);
    CHECK(c.report->index_error.code == ErrorCode::kCancelled);
    CHECK(c.after_stop_s < 1.0);
}

TEST_CASE("A redirect to a target that never answers is cancelled within 1 s", "[fetch][cancel]") {
    HostileServer server(HostileServer::Mode::kRedirectHang);
    test::TempDir tmp;
    auto c = cancel_after(server.url(), tmp / "work", std::chrono::milliseconds(700));
    REQUIRE(c.report);
    CHECK(c.report->cancelled);
    CHECK(c.report->index_error.code == ErrorCode::kCancelled);
    CHECK(server.requests() == 2);  // the index, then the redirect's target
    CHECK(c.after_stop_s < 1.0);
}

TEST_CASE("An index of 10,000 entries that all answer 404 is cancelled within 1 s",
          "[fetch][cancel]") {
    HostileServer server(HostileServer::Mode::kMany404, 10'000);
    test::TempDir tmp;
    auto c = cancel_after(server.url(), tmp / "work", std::chrono::milliseconds(300));
    REQUIRE(c.report);
    CHECK(c.report->cancelled);
    CHECK(c.report->index_status == IndexStatus::kNew);
    REQUIRE(c.report->files.size() == 10'000);
    CHECK(c.report->files.back().error.code == ErrorCode::kCancelled);
    // Some were requested (and failed with HTTP 404) before the stop, not all of them.
    CHECK(c.report->count(FileStatus::kFailed) == 10'000);
    CHECK(server.requests() < 10'001);
    CHECK(c.after_stop_s < 1.0);
}

TEST_CASE("A file that never answers is cancelled and the next round starts afresh",
          "[fetch][cancel]") {
    HostileServer server(HostileServer::Mode::kIndexThenHang, 3);
    test::TempDir tmp;
    auto c = cancel_after(server.url(), tmp / "work", std::chrono::milliseconds(500));
    REQUIRE(c.report);
    CHECK(c.report->cancelled);
    REQUIRE(c.report->files.size() == 3);
    for (const auto& f : c.report->files) CHECK(f.error.code == ErrorCode::kCancelled);
    CHECK(server.requests() == 2);  // the index and the first file; nothing after the stop
    CHECK(c.after_stop_s < 1.0);
}

TEST_CASE("A stop requested before the round starts sends no request", "[fetch][cancel]") {
    HostileServer server(HostileServer::Mode::kSilent);
    test::TempDir tmp;
    auto d = make_downloader(server.url(), tmp / "work");
    std::stop_source stop;
    stop.request_stop();
    auto r = d.fetch_round({}, stop.get_token());
    REQUIRE(r);
    CHECK(r->cancelled);
    CHECK(r->index_error.code == ErrorCode::kCancelled);
    CHECK(server.connections() == 0);
}

TEST_CASE("A round that is not cancelled is unaffected by an unused stop token",
          "[fetch][cancel]") {
    Bucket b;
    b.publish_listed({{kA, 0xa0}, {kB, 0xb0}});
    KeyServer server(b.root);
    auto d = b.downloader(server);
    std::stop_source stop;
    auto r = d.fetch_round({}, stop.get_token());
    REQUIRE(r);
    CHECK_FALSE(r->cancelled);
    CHECK(r->count(FileStatus::kNew) == 2);
}

TEST_CASE("The progress callback sees every phase and the files' positions", "[fetch][cancel]") {
    // Negative neighbour of the stop token: the callback alone cancels a stalled server too.
    HostileServer server(HostileServer::Mode::kSilent);
    test::TempDir tmp;
    auto d = make_downloader(server.url(), tmp / "work");
    const auto t0 = std::chrono::steady_clock::now();
    std::size_t calls = 0;
    auto r = d.fetch_round([&](const FetchProgress& p) {
        ++calls;
        CHECK(p.index);
        CHECK(p.path == "index.txt");
        CHECK(p.now == 0);
        return seconds_since(t0) < 0.5;
    });
    REQUIRE(r);
    CHECK(r->cancelled);
    CHECK(calls > 0);
    CHECK(seconds_since(t0) < 1.5);
}
