// The daemon's journald-style log lines.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "journal_log.hpp"

using namespace sotto::sottod;

TEST_CASE("Log lines carry the sd-daemon priority prefix", "[sottod][log]") {
    CHECK(format_journal_line(LogLevel::kInfo, "started") == "<6>started\n");
    CHECK(format_journal_line(LogLevel::kError, "store: wrong key") == "<3>store: wrong key\n");
    CHECK(format_journal_line(LogLevel::kDebug, "") == "<7>\n");
    CHECK(format_journal_line(static_cast<LogLevel>(42), "x") == "<3>x\n");
}

TEST_CASE("A message cannot forge a second journal line", "[sottod][log]") {
    CHECK(format_journal_line(LogLevel::kInfo, "a\n<0>forged\r\x1b[31m") ==
          "<6>a <0>forged  [31m\n");
    const std::string big(5000, 'x');
    const auto line = format_journal_line(LogLevel::kInfo, big);
    CHECK(line.size() == 3 + kMaxLogMessageBytes + 3 + 1);
    CHECK(line.ends_with("...\n"));
}

TEST_CASE("The sink filters by level and writes whole lines from many threads", "[sottod][log]") {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    {
        JournalSink sink(p[1], LogLevel::kInfo, std::chrono::milliseconds(0));  // no rate limit
        CHECK(sink.enabled(LogLevel::kError));
        CHECK_FALSE(sink.enabled(LogLevel::kDebug));
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&sink] {
                for (int i = 0; i < 50; ++i)
                    sink.write(LogLevel::kNotice, "a message of some length");
            });
        }
        sink.write(LogLevel::kDebug, "dropped");
        for (auto& t : threads) t.join();
    }
    ::close(p[1]);
    std::string all;
    char buf[4096];
    ssize_t got;
    while ((got = ::read(p[0], buf, sizeof buf)) > 0)
        all.append(buf, static_cast<std::size_t>(got));
    ::close(p[0]);
    std::size_t lines = 0, pos = 0;
    while (pos < all.size()) {
        const auto nl = all.find('\n', pos);
        REQUIRE(nl != std::string::npos);
        CHECK(all.substr(pos, nl - pos) == "<5>a message of some length");
        pos = nl + 1;
        ++lines;
    }
    CHECK(lines == 200);
}

namespace {
std::int64_t g_fake_ms = 0;
std::int64_t fake_now() { return g_fake_ms; }

std::string drain(int fd) {
    std::string all;
    char buf[4096];
    ssize_t got;
    while ((got = ::read(fd, buf, sizeof buf)) > 0) all.append(buf, static_cast<std::size_t>(got));
    return all;
}
}  // namespace

TEST_CASE("A repeated warning is one line, then a count", "[sottod][log]") {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0);
    g_fake_ms = 1'000'000;
    JournalSink sink(p[1], LogLevel::kInfo, std::chrono::seconds(30), &fake_now);
    // A full disk: the same warning ten times a second for 30 s, and one other line.
    for (int i = 0; i < 300; ++i) {
        sink.write(LogLevel::kWarning, "store: cannot write (disk full)");
        if (i == 5) sink.write(LogLevel::kInfo, "keys: round done");
        g_fake_ms += 99;
    }
    CHECK(drain(p[0]) == "<4>store: cannot write (disk full)\n<6>keys: round done\n");
    // Nothing more is due before the window ends; after it, one line with the count.
    sink.flush_repeats();
    CHECK(drain(p[0]).empty());
    g_fake_ms += 1000;
    sink.flush_repeats();
    CHECK(drain(p[0]) ==
          "<4>repeated 299 times in the last 30 s: store: cannot write (disk full)\n");
    // The window starts again: the next one is written, a different level is another message.
    sink.write(LogLevel::kWarning, "store: cannot write (disk full)");
    sink.write(LogLevel::kError, "store: cannot write (disk full)");
    sink.write(LogLevel::kWarning, "store: cannot write (disk full)");
    CHECK(drain(p[0]) ==
          "<4>store: cannot write (disk full)\n<3>store: cannot write (disk full)\n");
    // At exit every pending count is written.
    sink.flush_repeats(true);
    CHECK(drain(p[0]) == "<4>repeated 1 time in the last 1 s: store: cannot write (disk full)\n");
    ::close(p[0]);
    ::close(p[1]);
}
