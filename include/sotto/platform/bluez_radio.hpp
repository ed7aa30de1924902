#pragma once
/// \file
/// The Linux backend of `ble::Radio`: BlueZ (bluetoothd >= 5.50) over the D-Bus system bus.
///
/// Advertises by exporting one `org.bluez.LEAdvertisement1` object (Type `broadcast`,
/// ServiceUUIDs `["fd6f"]`, ServiceData `{"fd6f": RPI || AEM}`) and registering it with
/// `LEAdvertisingManager1`; rotates by unregistering and registering again, which makes the kernel
/// pick a fresh non-resolvable private address (with bluetoothd's default `Privacy = off`).
/// Scans with `Adapter1.SetDiscoveryFilter({UUIDs: [fd6f], Transport: le, DuplicateData: true})`
/// and `StartDiscovery`, and turns every `ServiceData` entry of a `Device1` signal into a
/// `ble::HeardAdvertisement`. Never writes `Discoverable` or `Pairable`. See docs/linux.md for the
/// D-Bus policy, the bluetoothd settings and the hardware checklist.
///
/// Threading, in addition to the contract of `ble::Radio`:
/// * Scan and event callbacks run on the radio's D-Bus event-loop thread (event callbacks only
///   move to the radio's control thread once the bus connection itself is lost).
/// * A radio method called from inside one of its callbacks returns kFailedPrecondition at once
///   instead of deadlocking (`set_event_callback`, which returns nothing, then does nothing).
/// * Every method returns within a bounded time: each D-Bus call is limited by `call_timeout`
///   (kBleTimeout), and a call waits for at most the calls queued before it.
///
/// Recovery: the wish to advertise and to scan is kept until `stop_*`. When the adapter appears,
/// is powered on, or bluetoothd comes back (a new owner of `org.bluez`), the backend registers the
/// advertisement and restarts discovery on its own and reports it through the event callback.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <sotto/ble/radio.hpp>
#include <sotto/clock.hpp>
#include <sotto/result.hpp>

namespace sotto::platform::bluez {

/// Longest service-data value accepted from BlueZ, in bytes (what one AD structure of an extended
/// advertisement can hold after its UUID). Longer values are dropped and counted.
inline constexpr std::size_t kMaxServiceDataBytes = 252;
/// Most `ServiceData` entries read from one signal; the rest are dropped and counted.
inline constexpr std::size_t kMaxServiceDataEntries = 16;

/// Options of `create`.
struct BluezOptions {
    /// The adapter's object name under /org/bluez ("hci0"): 1-32 characters of [A-Za-z0-9_].
    std::string adapter = "hci0";
    /// Longest wait for one reply of bluetoothd (10 ms - 120 s). A call that takes longer fails
    /// with kBleTimeout.
    std::chrono::milliseconds call_timeout{5000};
    /// Delay before re-registering an advertisement that bluetoothd released (0 - 60 s).
    std::chrono::milliseconds release_backoff{500};
};

/// Counters and flags of the BlueZ backend, beyond `ble::RadioStatus`.
struct BluezStatus {
    /// D-Bus `Device1` signals that carried `ServiceData` but were malformed as a whole (wrong
    /// variant types, missing or mistyped RSSI, no usable address) and were dropped.
    std::uint64_t malformed_signals = 0;
    /// Single `ServiceData` entries dropped: key not a 16-bit-capable UUID, value not `ay`,
    /// longer than `kMaxServiceDataBytes`, or beyond `kMaxServiceDataEntries` in one signal.
    std::uint64_t dropped_entries = 0;
    /// True when the adapter reported `Discoverable = true` (someone else made it discoverable:
    /// the broadcast may then become connectable and use the public address, see docs/linux.md).
    /// The backend never changes it; it only reports it.
    bool adapter_discoverable = false;
    /// Successful `RegisterAdvertisement` calls (start, rotations and recoveries).
    std::uint64_t registrations = 0;
    /// Times bluetoothd left the bus and came back.
    std::uint64_t service_restarts = 0;
};

/// The BlueZ radio: a `ble::Radio` with a backend-specific status.
class BluezRadio : public ble::Radio {
public:
    /// A snapshot of the backend counters. Thread-safe, never blocks on D-Bus.
    virtual BluezStatus bluez_status() const = 0;
};

/// Connects to the system bus (`DBUS_SYSTEM_BUS_ADDRESS` is honoured), exports the advertisement
/// object and subscribes to BlueZ's signals. Succeeds even when no adapter or no bluetoothd is
/// there yet (`status().adapter_present` is then false and the `start_*` calls keep the wish).
///
/// `clock` stamps every heard advertisement (`time_ms`) and must outlive the radio.
/// Errors: kInvalidArgument (options out of range), kBleUnavailable (no system bus),
/// kBlePermissionDenied (the bus policy forbids it), kOutOfMemory, kInternal.
Result<std::unique_ptr<BluezRadio>> create(const Clock& clock, const BluezOptions& options = {});

}  // namespace sotto::platform::bluez
