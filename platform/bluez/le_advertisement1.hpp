#pragma once
// Our exported org.bluez.LEAdvertisement1 object. bluetoothd reads it (GetAll) on the loop
// thread during RegisterAdvertisement and calls Release() when it drops the advertisement.
//
// Properties: Type "broadcast" (non-connectable, no Flags), ServiceUUIDs ["fd6f"] (BlueZ's
// discovery filters match on the UUID list, so scanners with a UUID filter see us), ServiceData
// {"fd6f": <ay 20 bytes>}. No Includes (the AEM carries the TX power; "tx-power" would cost 3 of
// the 31 bytes), no Discoverable, no LocalName. MinInterval 200 / MaxInterval 270 (uint32, ms:
// the GAEN advertising interval); bluetoothd applies them only when it runs with Experimental
// and otherwise ignores them (its parser reads only the properties it knows), see
// docs/linux.md.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <sotto/core/payload.hpp>

#include "dbus.hpp"

namespace sotto::platform::bluez {

/// GAEN Bluetooth spec v1.2: advertise every 200-270 ms.
inline constexpr std::uint32_t kMinIntervalMs = 200;
inline constexpr std::uint32_t kMaxIntervalMs = 270;

class LEAdvertisement1 {
public:
    /// Exports the object at `path`. `on_release` runs on the loop thread and must only post work.
    LEAdvertisement1(sdbus::IConnection& connection, std::string path,
                     std::function<void()> on_release);
    ~LEAdvertisement1();
    LEAdvertisement1(const LEAdvertisement1&) = delete;
    LEAdvertisement1& operator=(const LEAdvertisement1&) = delete;

    /// The payload that GetAll returns from now on. Call only while unregistered, so that the
    /// adapter never mixes an old payload with a new address or the reverse.
    void set_payload(const core::ServiceData& payload);
    const std::string& path() const noexcept { return path_; }

private:
    std::string path_;
    std::function<void()> on_release_;
    mutable std::mutex mutex_;
    core::ServiceData payload_{};
    std::unique_ptr<sdbus::IObject> object_;
};

}  // namespace sotto::platform::bluez
