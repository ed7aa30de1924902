// The daemon's journald-style log lines.
#include <fcntl.h>
#include <unistd.h>

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
        JournalSink sink(p[1], LogLevel::kInfo);
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
