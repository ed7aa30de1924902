// See ingest_line.hpp.
#include "ingest_line.hpp"

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <span>

#include <sotto/bytes.hpp>
#include <sotto/core/payload.hpp>

namespace sotto::cli {
namespace {

template <class T>
bool parse_int(std::string_view s, T& out) {
    if (s.empty()) return false;
    const char* b = s.data();
    if (*b == '+') {
        ++b;  // from_chars takes no '+'
        if (b != s.data() + s.size() && *b == '-') return false;
    }
    const auto [p, ec] = std::from_chars(b, s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

// Parses `unix_seconds,rssi_dbm,hex`; on failure returns a static reason.
const char* parse_ingest_line(std::string_view line, core::Observation& o) noexcept {
    std::string_view fields[3];
    std::size_t n = 0;
    while (true) {
        const std::size_t c = line.find(',');
        if (n == 3) return "expected 3 fields: unix_seconds,rssi_dbm,service_data_hex";
        fields[n++] = trim(line.substr(0, c));
        if (c == std::string_view::npos) break;
        line.remove_prefix(c + 1);
    }
    if (n != 3) return "expected 3 fields: unix_seconds,rssi_dbm,service_data_hex";
    if (!parse_int(fields[0], o.time)) return "time is not an integer";
    int rssi = 0;
    if (!parse_int(fields[1], rssi)) return "RSSI is not an integer";
    if (rssi < core::kMinRssiDbm || rssi > core::kMaxRssiDbm)
        return "observation: RSSI out of range";
    o.rssi = static_cast<std::int8_t>(rssi);
    const std::string_view hex = fields[2];
    if (hex.size() > 2 * 31) return "payload longer than 31 bytes";
    std::array<std::uint8_t, 31> bytes{};
    if (hex.size() % 2 != 0 || !from_hex_into(hex, std::span(bytes.data(), hex.size() / 2)))
        return "payload is not hex";
    auto beacon = core::decode_beacon(std::span<const std::uint8_t>(bytes.data(), hex.size() / 2));
    if (!beacon) return beacon.error().what;
    o.beacon = *beacon;
    return nullptr;
}

LineReader::Status LineReader::next(std::string& line) {
    line.clear();
    while (true) {
        const int c = std::getc(in_);
        if (c == EOF) {
            if (std::ferror(in_)) return Status::kError;
            return line.empty() ? Status::kEnd : Status::kLine;
        }
        if (c == '\n') return Status::kLine;
        if (line.size() == kMaxIngestLineBytes) return Status::kTooLong;
        line.push_back(static_cast<char>(c));
    }
}

}  // namespace sotto::cli
