#include "journal_log.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace sotto::sottod {

std::string format_journal_line(LogLevel level, std::string_view message) {
    int n = static_cast<int>(level);
    if (n < 0 || n > 7) n = static_cast<int>(LogLevel::kError);
    std::string out = "<";
    out.push_back(static_cast<char>('0' + n));
    out.push_back('>');
    const bool cut = message.size() > kMaxLogMessageBytes;
    if (cut) message = message.substr(0, kMaxLogMessageBytes);
    for (char c : message) {
        const auto u = static_cast<unsigned char>(c);
        out.push_back(u < 0x20 || u == 0x7f ? ' ' : c);
    }
    if (cut) out += "...";
    out.push_back('\n');
    return out;
}

std::int64_t JournalSink::now_ms() const noexcept {
    if (now_ != nullptr) return now_();
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

void JournalSink::write_line(const std::string& line) noexcept {
    std::size_t done = 0;
    while (done < line.size()) {
        const ssize_t put = ::write(fd_, line.data() + done, line.size() - done);
        if (put < 0 && errno == EINTR) continue;
        if (put <= 0) return;
        done += static_cast<std::size_t>(put);
    }
}

void JournalSink::emit_due(std::int64_t now, bool all) noexcept {
    for (auto it = seen_.begin(); it != seen_.end();) {
        if (!all && now - it->second.first_ms < window_ms_) {
            ++it;
            continue;
        }
        if (it->second.repeats > 0) {
            try {
                const auto level = static_cast<LogLevel>(it->first.front() - '0');
                const std::string text =
                    "repeated " + std::to_string(it->second.repeats) +
                    (it->second.repeats == 1 ? " time" : " times") + " in the last " +
                    std::to_string(std::max<std::int64_t>((now - it->second.first_ms) / 1000, 1)) +
                    " s: " + it->first.substr(1);
                write_line(format_journal_line(level, text));
            } catch (...) {
                // Out of memory: the count is lost, the entry still goes.
            }
        }
        it = seen_.erase(it);
    }
}

void JournalSink::flush_repeats(bool all) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    if (seen_.empty()) return;
    emit_due(now_ms(), all);
}

void JournalSink::write(LogLevel level, std::string_view message) noexcept {
    if (!enabled(level)) return;
    try {
        const std::string line = format_journal_line(level, message);
        std::string key(1, line[1]);  // the priority digit
        key.append(message.substr(0, kMaxLogMessageBytes));
        std::lock_guard<std::mutex> lock(mutex_);
        const std::int64_t now = now_ms();
        if (!seen_.empty()) emit_due(now, seen_.size() >= kMaxTrackedMessages);
        if (window_ms_ > 0) {
            if (auto it = seen_.find(key); it != seen_.end()) {
                ++it->second.repeats;
                return;
            }
            seen_.emplace(std::move(key), Seen{now, 0});
        }
        write_line(line);
    } catch (...) {
        // Out of memory while logging: drop the line.
    }
}

}  // namespace sotto::sottod
