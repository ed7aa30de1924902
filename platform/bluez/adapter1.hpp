#pragma once
// Proxy of org.bluez.Adapter1: the discovery calls. The backend never writes Discoverable or
// Pairable (nor any other adapter property): this class has no way to.

#include <chrono>
#include <memory>
#include <string>

#include "dbus.hpp"
#include "event_loop.hpp"

namespace sotto::platform::bluez {

class Adapter1 {
public:
    Adapter1(sdbus::IConnection& connection, const std::string& path, EventLoop& loop,
             std::chrono::milliseconds timeout);

    /// SetDiscoveryFilter({UUIDs: [fd6f], Transport: "le", DuplicateData: true}). DuplicateData
    /// is passed explicitly: BlueZ's code defaults it to false (docs say true, bluez#1113), and
    /// only true gives a signal for every report, repeats of identical bytes included.
    Result<void> set_discovery_filter() noexcept;
    /// StartDiscovery. "InProgress" (we already hold a session) counts as success.
    Result<void> start_discovery() noexcept;
    /// StopDiscovery. "no session" answers (NotAuthorized, NotReady, Failed) count as success.
    Result<void> stop_discovery() noexcept;

private:
    Result<void> call(const char* method, CallKind kind, std::string& error_name) noexcept;

    std::unique_ptr<sdbus::IProxy> proxy_;
    EventLoop& loop_;
    std::chrono::milliseconds timeout_;
};

}  // namespace sotto::platform::bluez
