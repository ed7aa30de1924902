#pragma once
// Logging for the daemon: lines on stderr with the syslog priority prefix that systemd-journald
// understands ("<6>started", sd-daemon(3)). Self-contained until the library's log interface
// lands; the daemon installs `JournalSink::write` as its log function.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace sotto::sottod {

/// syslog priorities, as sd-daemon(3) numbers them.
enum class LogLevel : int {
    kEmergency = 0,
    kAlert = 1,
    kCritical = 2,
    kError = 3,
    kWarning = 4,
    kNotice = 5,
    kInfo = 6,
    kDebug = 7,
};

/// Longest message kept (bytes, before the prefix); longer ones are cut and end in "...".
inline constexpr std::size_t kMaxLogMessageBytes = 2048;

/// "<N>message\n". Control characters (newlines included) become spaces, so one call is one
/// journal entry and a message cannot forge a second line with its own priority. Pure.
std::string format_journal_line(LogLevel level, std::string_view message);

/// Writes formatted lines to a file descriptor (stderr by default), one write(2) per line so
/// lines from several threads never interleave. Messages less important than `max_level` are
/// dropped. Thread-safe; never throws; write errors are ignored (logging must not stop the
/// daemon). The caller passes only static text and numbers: never keys, identifiers or URLs.
///
/// Repeats are rate-limited: a message (same level, same text) is written once; the same
/// message again within `repeat_window` of that line is only counted, and once the window is
/// over one line says "repeated N times in the last W s: <message>" (at the message's level).
/// The count is written by the next `write` or `flush_repeats` after the window; at most
/// kMaxTrackedMessages distinct messages are tracked (beyond that all counts are flushed early).
class JournalSink {
public:
    /// Milliseconds of a monotonic clock (tests pass their own).
    using NowMs = std::int64_t (*)();
    static constexpr std::size_t kMaxTrackedMessages = 256;

    explicit JournalSink(int fd = 2, LogLevel max_level = LogLevel::kInfo,
                         std::chrono::milliseconds repeat_window = std::chrono::seconds(30),
                         NowMs now = nullptr) noexcept
        : fd_(fd), max_level_(max_level), window_ms_(repeat_window.count()), now_(now) {}
    void write(LogLevel level, std::string_view message) noexcept;
    /// Writes the counts of repeats whose window is over (`all`: every pending count, e.g. at
    /// exit). Cheap when nothing repeats; the daemon calls it from its main loop.
    void flush_repeats(bool all = false) noexcept;
    bool enabled(LogLevel level) const noexcept {
        return static_cast<int>(level) <= static_cast<int>(max_level_);
    }

private:
    struct Seen {
        std::int64_t first_ms = 0;
        std::uint64_t repeats = 0;
    };
    std::int64_t now_ms() const noexcept;
    void write_line(const std::string& line) noexcept;   // mutex_ held
    void emit_due(std::int64_t now, bool all) noexcept;  // mutex_ held

    int fd_;
    LogLevel max_level_;
    std::int64_t window_ms_;
    NowMs now_;
    std::mutex mutex_;
    std::map<std::string, Seen> seen_;  // key: level digit + message
};

}  // namespace sotto::sottod
