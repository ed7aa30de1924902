#pragma once
// The line format of `sotto ingest` (CSV: unix_seconds,rssi_dbm,service_data_hex) and a line
// reader with a length cap. Kept apart from the command so that the fuzzer can reach the parser.

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

#include <sotto/core/sighting.hpp>

namespace sotto::cli {

/// Longest line `sotto ingest` reads (bytes, without the newline). A valid line is under 100.
inline constexpr std::size_t kMaxIngestLineBytes = 1024;

/// `s` without leading blanks and trailing blanks / carriage return.
std::string_view trim(std::string_view s) noexcept;

/// Parses one trimmed, non-comment line into `o`. Returns nullptr on success, else a static
/// reason. Never throws, never allocates; any input is allowed.
const char* parse_ingest_line(std::string_view line, core::Observation& o) noexcept;

/// Reads lines from a stream of bytes without ever holding more than kMaxIngestLineBytes + 1 of
/// them: a line longer than that is reported as such and not read further.
class LineReader {
public:
    explicit LineReader(std::FILE* in) noexcept : in_(in) {}

    enum class Status { kLine, kEnd, kTooLong, kError };
    /// The next line (without '\n') in `line`.
    Status next(std::string& line);

private:
    std::FILE* in_;
};

}  // namespace sotto::cli
