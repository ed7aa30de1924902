#pragma once
/// \file
/// The logging hook: sotto writes nothing anywhere unless the host installs a sink.
///
/// Rules for what is logged (enforced by `tests/unit/tracer/log_privacy_test.cpp`):
/// * No TEK, RPI, AEM, Bluetooth address, store key, passphrase or key-file hash ever reaches a
///   sink at `kInfo` or above. Messages at those levels carry static text and counts only.
/// * `kDebug` may carry more detail for developers, but still never key material (TEKs, RPIKs,
///   AEMKs, store keys or passphrases).
///
/// Threading: `set_log_sink` and `write_log` may be called from any thread at any time. The sink
/// is called on the thread that logs (any sotto thread, e.g. a radio callback or a caller of
/// `Tracer::check`), possibly from several threads at once, so it must be thread-safe. It must
/// not call back into sotto and should return quickly. After `set_log_sink` returns, the old
/// sink is not called again by calls that start later; a call already running may still finish
/// with the old sink, so keep its `user_data` valid until every sotto call that was running has
/// returned.
///
/// `lib/core` never logs (it stays pure); the Tracer and the programs do.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sotto {

/// Severity, in increasing order. The numbers are stable (the C ABI mirrors them).
enum class LogLevel : std::int32_t {
    kDebug = 0,
    kInfo = 1,
    kWarning = 2,
    kError = 3,
};

/// A log sink: a plain function pointer and the host's pointer, so the C ABI can pass it through
/// unchanged. `message` is valid only during the call and is not NUL-terminated (use the size).
using LogSinkFn = void (*)(void* user_data, LogLevel level, const char* message,
                           std::size_t message_size) noexcept;

/// Installs `sink` (or, with nullptr, removes it: the default, nothing logged). Messages below
/// `min_level` are not formatted and not delivered.
void set_log_sink(LogSinkFn sink, void* user_data, LogLevel min_level = LogLevel::kInfo) noexcept;

/// True when a sink is installed and would receive `level`: lets callers skip building a message.
bool log_enabled(LogLevel level) noexcept;

/// Delivers `message` to the sink when `log_enabled(level)`. Never throws, never allocates.
void write_log(LogLevel level, std::string_view message) noexcept;

/// `message` followed by " " and the decimal `count` (e.g. "tracer: flushed observations 512").
/// For counters only: never pass anything derived from an identifier. No allocation.
void write_log_count(LogLevel level, std::string_view message, std::uint64_t count) noexcept;

}  // namespace sotto
