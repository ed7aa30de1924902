#pragma once
// The D-Bus event loop of one radio: a thread that polls the connection and dispatches incoming
// messages (signals, BlueZ reading our advertisement, replies to our calls).
//
// Why not IConnection::enterEventLoopAsync(): in sdbus-c++ 1.2.0 its thread lets the exception of
// a lost connection escape (sd_bus_process fails with "Connection reset by peer" when the bus
// daemon goes away), which calls std::terminate. This loop catches it, reports the loss once and
// ends, so the radio keeps running and its destructor does not hang.

#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "dbus.hpp"

namespace sotto::platform::bluez {

class EventLoop {
public:
    /// `on_lost` runs once, on the loop thread, when the connection breaks.
    EventLoop(sdbus::IConnection& connection, std::function<void()> on_lost);
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    /// Starts the thread. kInternal if it cannot (no eventfd, no thread).
    Result<void> start() noexcept;
    /// Makes the loop re-read the connection's timeouts (call after sending a message).
    void wake() noexcept;
    /// Runs `fn` on the loop thread, after the messages already queued. False (and `fn` dropped)
    /// when the loop is not running (not started, stopped, or the connection is lost).
    bool post(std::function<void()> fn) noexcept;
    /// Ends the loop and joins its thread. Idempotent. Must not be called on the loop thread.
    void stop() noexcept;
    /// True once the connection broke.
    bool lost() const noexcept { return lost_.load(); }

private:
    void run() noexcept;
    void run_posted() noexcept;

    sdbus::IConnection& connection_;
    std::function<void()> on_lost_;
    int wake_fd_ = -1;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> lost_{false};
    std::mutex posted_mutex_;
    std::deque<std::function<void()>> posted_;
    bool accepting_ = false;  // under posted_mutex_
    std::thread thread_;
};

}  // namespace sotto::platform::bluez
