#pragma once
// Calls into bluetoothd: sent asynchronously and awaited on the calling thread (the radio's
// control thread), never on the event-loop thread. bluetoothd answers RegisterAdvertisement only
// after it has read our advertisement object back, which the loop thread serves meanwhile; a
// synchronous call from the loop thread would deadlock (docs: /work/shared/docs/bluez.md 2.5).

#include <chrono>

#include "dbus.hpp"
#include "event_loop.hpp"

namespace sotto::platform::bluez {

/// Sends `call` through `proxy` and waits for the reply, at most `timeout` (then kBleTimeout and
/// the call is cancelled). D-Bus errors are mapped with map_dbus_error(kind). kBleUnavailable at
/// once when the loop has lost the connection. Must not run on the loop thread.
Result<sdbus::MethodReply> call_and_wait(sdbus::IProxy& proxy, const sdbus::MethodCall& call,
                                         CallKind kind, std::chrono::milliseconds timeout,
                                         EventLoop& loop) noexcept;

/// As above, and the error name BlueZ gave (empty on success or for local failures) so callers
/// can tell "does not exist" apart.
Result<sdbus::MethodReply> call_and_wait(sdbus::IProxy& proxy, const sdbus::MethodCall& call,
                                         CallKind kind, std::chrono::milliseconds timeout,
                                         EventLoop& loop, std::string& error_name) noexcept;

}  // namespace sotto::platform::bluez
