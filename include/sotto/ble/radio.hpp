#pragma once
/// \file
/// The BLE radio interface: what sotto needs from a Bluetooth LE adapter, and nothing more.
///
/// Implemented by `platform/simulated` (a deterministic in-memory air), by `platform/bluez`
/// (BlueZ over D-Bus) and, on phones, by the host app, whose operating system owns the radio (the
/// host feeds heard advertisements to the Tracer or the C ABI instead of implementing this).
///
/// A radio only moves bytes. Choosing the payload and when to rotate it (lib/ble's
/// `RotationScheduler`), duty-cycling the scanner (`ScanDutyCycle`) and decoding what is heard
/// (`BeaconFeed`) are shared logic above it, so every backend behaves the same.
///
/// NOTE for implementers
/// * Thread-safety: every method may be called from any thread, and calls may overlap; the
///   backend serializes them.
/// * Callbacks (`ScanCallback`, `EventCallback`) run on a thread the backend owns (BlueZ: its
///   D-Bus event-loop thread; simulated: the thread that advances the air). They must return
///   quickly and must not call this radio's methods (the backend may hold its lock). They may
///   call anything else, for example `BeaconFeed::on_heard` or `Tracer::on_advertisement`.
/// * After `stop_scanning()` (or the destructor) returns, no scan callback is running and none
///   will start; the same holds for the event callback after `set_event_callback({})` or the
///   destructor. So a callback may capture objects that outlive only the scanning.
/// * `HeardAdvertisement::service_data` points into the backend's buffer and is valid only for
///   the duration of the callback. Pass every service-data entry that was heard, whatever its
///   UUID or length: deciding what is GAEN is `BeaconFeed`'s job, so that malformed data is
///   counted in one place.
/// * Timing: `time_ms` is the backend's clock (an injected `sotto::Clock`) when the packet was
///   received or, for BlueZ, when the D-Bus signal arrived (BlueZ gives no receive timestamp).
/// * Errors map to the `kBle*` codes: kBleUnavailable (no adapter, powered off, no Bluetooth
///   service), kBlePermissionDenied, kBleBusy (no free advertising slot), kBleRefused (the
///   adapter rejected the advertisement), kBleTimeout (the service did not answer),
///   kFailedPrecondition (call order: `rotate` while not advertising), kInvalidArgument.
/// * A backend never makes the adapter discoverable or connectable, and advertises as a
///   non-connectable broadcaster with a random non-resolvable address that changes with every
///   `start_advertising` and `rotate`.

#include <array>
#include <cstdint>
#include <functional>
#include <span>

#include <sotto/core/payload.hpp>
#include <sotto/result.hpp>

namespace sotto::ble {

/// A 48-bit Bluetooth device address, most significant byte first (as printed, "AA:BB:..").
struct Address {
    std::array<std::uint8_t, 6> bytes{};

    /// True for a non-resolvable private address (the two top bits are 00).
    bool is_non_resolvable_private() const noexcept { return (bytes[0] & 0xC0) == 0x00; }
    friend bool operator==(const Address&, const Address&) = default;
};

/// What to broadcast.
struct Advertisement {
    /// The GAEN service data under UUID 0xFD6F: RPI (16 bytes) then AEM (4 bytes).
    std::array<std::uint8_t, core::kServiceDataBytes> service_data{};
    /// The random non-resolvable address to send from. Backends that cannot choose it (BlueZ:
    /// the kernel picks a fresh one at every registration) ignore it, but still change the
    /// address whenever the payload changes.
    Address address;
    /// The TX power the metadata announces, in dBm (informational; GAEN radios send at a fixed
    /// power and say which in the AEM).
    std::int8_t tx_power_dbm = 0;

    friend bool operator==(const Advertisement&, const Advertisement&) = default;
};

/// One advertisement (one service-data entry of one packet) heard by the scanner.
struct HeardAdvertisement {
    std::span<const std::uint8_t> service_data;  ///< valid only during the callback
    std::uint16_t service_uuid = 0;              ///< 16-bit UUID it was filed under (0xFD6F)
    std::int16_t rssi_dbm = 0;                   ///< as measured, uncalibrated
    std::int64_t time_ms = 0;                    ///< receiver clock, Unix milliseconds
    Address address;                             ///< the advertiser's address as heard
};

/// Called for every advertisement heard while scanning (see the note above for its thread).
using ScanCallback = std::function<void(const HeardAdvertisement&)>;

/// Something that happened to the radio outside of a call.
enum class RadioEventKind : std::uint8_t {
    kAdapterAvailable = 0,    ///< an adapter appeared or was powered on; wanted state restored
    kAdapterUnavailable = 1,  ///< the adapter vanished or was powered off (error says which)
    kAdvertisingFailed = 2,   ///< the adapter refused or dropped the advertisement
    kScanningFailed = 3,      ///< discovery could not be (re)started
    kServiceRestarted = 4,    ///< the Bluetooth service restarted; everything was re-registered
};

/// A radio event. `error` is set for the failure kinds and carries a static message.
struct RadioEvent {
    RadioEventKind kind = RadioEventKind::kAdapterAvailable;
    Error error{ErrorCode::kInternal, ""};
};

using EventCallback = std::function<void(const RadioEvent&)>;

/// What a radio is doing now.
struct RadioStatus {
    bool adapter_present = false;            ///< an adapter exists and is powered
    bool advertising = false;                ///< wanted and currently registered
    bool scanning = false;                   ///< wanted and currently running
    std::uint64_t advertisements_heard = 0;  ///< delivered to the scan callback
    std::uint64_t rotations = 0;             ///< successful `rotate` calls
};

/// A BLE adapter as sotto uses it. See the note for implementers at the top of this file.
class Radio {
public:
    virtual ~Radio() = default;

    /// Starts broadcasting `adv` (replacing whatever was broadcast). Returns once the adapter
    /// accepted it, or with the error it gave. If the adapter is missing, kBleUnavailable is
    /// returned and the wish is kept: the backend starts advertising when an adapter appears.
    virtual Result<void> start_advertising(const Advertisement& adv) = 0;

    /// Replaces payload and address together (an RPI rotation): the old payload is never sent
    /// from the new address, nor the new payload from the old one.
    /// kFailedPrecondition when not advertising.
    virtual Result<void> rotate(const Advertisement& adv) = 0;

    /// Stops broadcasting. Idempotent.
    virtual Result<void> stop_advertising() = 0;

    /// Starts scanning and calls `on_heard` for every advertisement heard. Replaces an earlier
    /// callback. As with advertising, a missing adapter gives kBleUnavailable and the wish is kept.
    virtual Result<void> start_scanning(ScanCallback on_heard) = 0;

    /// Stops scanning; once it returns, the scan callback is not running and will not run again.
    /// Idempotent.
    virtual Result<void> stop_scanning() = 0;

    /// Installs (or, with an empty function, removes) the event callback.
    virtual void set_event_callback(EventCallback on_event) = 0;

    /// A snapshot of the radio's state.
    virtual RadioStatus status() const = 0;
};

}  // namespace sotto::ble
