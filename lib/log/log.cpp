#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <mutex>
#include <shared_mutex>

#include <sotto/log.hpp>

namespace sotto {
namespace {

// The sink is read on every log call and changed rarely: a reader-writer lock keeps calls
// concurrent and guarantees that a call starting after `set_log_sink` returned sees the new sink.
struct SinkState {
    std::shared_mutex mu;
    LogSinkFn fn = nullptr;
    void* user = nullptr;
    std::atomic<int> min_level{static_cast<int>(LogLevel::kError) + 1};  // nothing enabled
};

SinkState& state() noexcept {
    static SinkState s;
    return s;
}

}  // namespace

void set_log_sink(LogSinkFn sink, void* user_data, LogLevel min_level) noexcept {
    auto& s = state();
    std::unique_lock lock(s.mu);
    s.fn = sink;
    s.user = user_data;
    s.min_level.store(sink ? static_cast<int>(min_level) : static_cast<int>(LogLevel::kError) + 1,
                      std::memory_order_release);
}

bool log_enabled(LogLevel level) noexcept {
    return static_cast<int>(level) >= state().min_level.load(std::memory_order_acquire);
}

void write_log(LogLevel level, std::string_view message) noexcept {
    if (!log_enabled(level)) return;
    auto& s = state();
    std::shared_lock lock(s.mu);
    if (s.fn != nullptr && static_cast<int>(level) >= s.min_level.load(std::memory_order_relaxed))
        s.fn(s.user, level, message.data(), message.size());
}

void write_log_count(LogLevel level, std::string_view message, std::uint64_t count) noexcept {
    if (!log_enabled(level)) return;
    std::array<char, 256> buf{};
    const std::size_t n = std::min(message.size(), buf.size() - 22);
    std::memcpy(buf.data(), message.data(), n);
    std::size_t pos = n;
    buf[pos++] = ' ';
    char digits[20];
    std::size_t d = 0;
    do {
        digits[d++] = static_cast<char>('0' + count % 10);
        count /= 10;
    } while (count != 0);
    while (d > 0) buf[pos++] = digits[--d];
    write_log(level, std::string_view(buf.data(), pos));
}

}  // namespace sotto
