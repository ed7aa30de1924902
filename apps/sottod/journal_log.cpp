#include "journal_log.hpp"

#include <unistd.h>

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

void JournalSink::write(LogLevel level, std::string_view message) noexcept {
    if (!enabled(level)) return;
    try {
        const std::string line = format_journal_line(level, message);
        std::lock_guard<std::mutex> lock(mutex_);
        std::size_t done = 0;
        while (done < line.size()) {
            const ssize_t put = ::write(fd_, line.data() + done, line.size() - done);
            if (put < 0 && errno == EINTR) continue;
            if (put <= 0) return;
            done += static_cast<std::size_t>(put);
        }
    } catch (...) {
        // Out of memory while logging: drop the line.
    }
}

}  // namespace sotto::sottod
