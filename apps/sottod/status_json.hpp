#pragma once
// The JSON object sottod serves on its status socket (docs/daemon.md lists every field).
// Counters and dates only: no key, RPI, address, path or URL.

#include <cstdint>
#include <string>

#include <sotto/ble/radio.hpp>
#include <sotto/tracer/results.hpp>

#include "key_checker.hpp"

namespace sotto::sottod {

struct StatusInputs {
    const char* radio = "";
    std::int64_t now_unix = 0;
    std::int64_t started_unix = 0;
    bool keys_configured = false;
    TracerStatus tracer;
    ble::RadioStatus radio_status;
    std::uint64_t scan_windows = 0;
    KeySummary keys;
};

/// One line of JSON (no newline).
std::string status_json(const StatusInputs& in);

}  // namespace sotto::sottod
