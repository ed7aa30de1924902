// Fuzz target for `sotto ingest`'s CSV line parser and line reader (apps/sotto/ingest_line.cpp).
// Invariants: a parsed line gives an observation the store accepts the RSSI of, and a beacon
// whose re-encoded service data parses to the same observation; the reader never returns a line
// longer than its cap.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <sotto/bytes.hpp>
#include <sotto/core/payload.hpp>

#include "../../apps/sotto/ingest_line.hpp"

namespace {
void check(bool ok) {
    if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    // 1. The whole input as one line.
    sotto::core::Observation o;
    if (sotto::cli::parse_ingest_line(sotto::cli::trim(in), o) == nullptr) {
        check(o.rssi >= sotto::core::kMinRssiDbm && o.rssi <= sotto::core::kMaxRssiDbm);
        const std::string again = std::to_string(o.time) + "," + std::to_string(o.rssi) + "," +
                                  sotto::to_hex(o.beacon.rpi.bytes) +
                                  sotto::to_hex(o.beacon.aem.bytes);
        sotto::core::Observation p;
        check(sotto::cli::parse_ingest_line(again, p) == nullptr);
        check(p.time == o.time && p.rssi == o.rssi && p.beacon.rpi == o.beacon.rpi &&
              p.beacon.aem == o.beacon.aem);
    }
    // 2. The input as a stream of lines.
    if (size == 0) return 0;
    std::FILE* f = ::fmemopen(const_cast<std::uint8_t*>(data), size, "rb");
    if (f == nullptr) return 0;
    sotto::cli::LineReader reader(f);
    std::string line;
    while (true) {
        const auto st = reader.next(line);
        check(line.size() <= sotto::cli::kMaxIngestLineBytes);
        if (st != sotto::cli::LineReader::Status::kLine) break;
        sotto::core::Observation x;
        (void)sotto::cli::parse_ingest_line(sotto::cli::trim(line), x);
    }
    std::fclose(f);
    return 0;
}
