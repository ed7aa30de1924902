#pragma once
// The JSON object sottod serves on its status socket (docs/daemon.md lists every field).
// Counters and dates only: no key, RPI, address, path or URL.

#include <cstdint>
#include <optional>
#include <string>

#include <sotto/ble/radio.hpp>
#include <sotto/tracer/results.hpp>

#include "key_checker.hpp"

namespace sotto::sottod {

/// What the BlueZ backend dropped, by reason, and its registrations (`platform::bluez`).
struct BluezCounters {
    std::uint64_t malformed_signals = 0;  ///< whole Device1 signals: no RSSI, bad types, no address
    std::uint64_t dropped_entries = 0;    ///< single service-data entries: bad UUID, type, size
    std::uint64_t registrations = 0;
    std::uint64_t service_restarts = 0;
    bool adapter_discoverable = false;
};

struct StatusInputs {
    const char* radio = "";
    std::int64_t now_unix = 0;
    std::int64_t started_unix = 0;
    bool keys_configured = false;
    /// Key updates were configured but are off (e.g. the fetch directory is read-only): why.
    std::string keys_off_reason;
    /// Set with the BlueZ radio.
    std::optional<BluezCounters> bluez;
    TracerStatus tracer;
    ble::RadioStatus radio_status;
    std::uint64_t scan_windows = 0;
    KeySummary keys;
};

/// One line of JSON (no newline).
std::string status_json(const StatusInputs& in);

}  // namespace sotto::sottod
