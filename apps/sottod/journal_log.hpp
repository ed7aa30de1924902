#pragma once
// Logging for the daemon: lines on stderr with the syslog priority prefix that systemd-journald
// understands ("<6>started", sd-daemon(3)). Self-contained until the library's log interface
// lands; the daemon installs `JournalSink::write` as its log function.

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
class JournalSink {
public:
    explicit JournalSink(int fd = 2, LogLevel max_level = LogLevel::kInfo) noexcept
        : fd_(fd), max_level_(max_level) {}
    void write(LogLevel level, std::string_view message) noexcept;
    bool enabled(LogLevel level) const noexcept {
        return static_cast<int>(level) <= static_cast<int>(max_level_);
    }

private:
    int fd_;
    LogLevel max_level_;
    std::mutex mutex_;
};

}  // namespace sotto::sottod
