#include "dbus_call.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace sotto::platform::bluez {
namespace {

struct Pending {
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
    std::optional<sdbus::MethodReply> reply;
    std::string error_name;
};

// Extra wait beyond the D-Bus timeout, so that sd-bus's own timeout reply normally wins.
constexpr std::chrono::milliseconds kGrace{300};

}  // namespace

Result<sdbus::MethodReply> call_and_wait(sdbus::IProxy& proxy, const sdbus::MethodCall& call,
                                         CallKind kind, std::chrono::milliseconds timeout,
                                         EventLoop& loop) noexcept {
    std::string ignored;
    return call_and_wait(proxy, call, kind, timeout, loop, ignored);
}

Result<sdbus::MethodReply> call_and_wait(sdbus::IProxy& proxy, const sdbus::MethodCall& call,
                                         CallKind kind, std::chrono::milliseconds timeout,
                                         EventLoop& loop, std::string& error_name) noexcept {
    error_name.clear();
    if (loop.lost()) return make_error(ErrorCode::kBleUnavailable, "bluez: D-Bus connection lost");
    try {
        auto pending = std::make_shared<Pending>();
        auto handler = [pending](sdbus::MethodReply& reply, const sdbus::Error* error) {
            try {
                std::lock_guard lock(pending->mutex);
                if (error != nullptr) {
                    pending->error_name = error->getName();
                } else {
                    pending->reply = reply;
                }
                pending->done = true;
            } catch (...) {
                // Out of memory while copying: leave `done` false; the caller times out.
                return;
            }
            pending->done_cv.notify_all();
        };
        auto async = proxy.callMethod(call, std::move(handler), to_usec(timeout));
        loop.wake();
        std::unique_lock lock(pending->mutex);
        if (!pending->done_cv.wait_for(lock, timeout + kGrace, [&] { return pending->done; })) {
            lock.unlock();
            try {
                async.cancel();
            } catch (...) {
            }
            return make_error(ErrorCode::kBleTimeout, "bluez: bluetoothd did not answer in time");
        }
        if (!pending->error_name.empty()) {
            error_name = pending->error_name;
            return map_dbus_error(pending->error_name, kind);
        }
        if (!pending->reply) return make_error(ErrorCode::kInternal, "bluez: empty D-Bus reply");
        return std::move(*pending->reply);
    } catch (const sdbus::Error& e) {
        try {
            error_name = e.getName();
            return map_dbus_error(error_name, kind);
        } catch (...) {
            return make_error(ErrorCode::kBleUnavailable, "bluez: D-Bus call failed");
        }
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "bluez: out of memory");
    } catch (...) {
        return make_error(ErrorCode::kInternal, "bluez: unexpected exception");
    }
}

}  // namespace sotto::platform::bluez
