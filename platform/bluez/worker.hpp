#pragma once
// The radio's control thread: runs tasks one at a time, in order (optionally after a delay). All
// calls into bluetoothd and all changes of the backend's state happen here, which serializes the
// public methods with the reactions to BlueZ's signals.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include <sotto/result.hpp>

namespace sotto::platform::bluez {

class Worker {
public:
    Worker() = default;
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    Result<void> start() noexcept;
    /// Queues `task` to run after `delay`. False once stopped (the task is dropped).
    bool post(std::function<void()> task,
              std::chrono::milliseconds delay = std::chrono::milliseconds{0}) noexcept;
    /// Runs `task` on the worker and waits for its result. kFailedPrecondition when stopped.
    Result<void> run(std::function<Result<void>()> task) noexcept;
    /// Finishes the running task, drops the queued ones and joins. Idempotent.
    void stop() noexcept;
    bool on_worker_thread() const noexcept {
        return std::this_thread::get_id() == thread_.get_id();
    }

private:
    struct Item {
        std::chrono::steady_clock::time_point due;
        std::function<void()> task;
    };
    void loop() noexcept;

    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<Item> queue_;  // sorted by `due`, FIFO among equal times
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace sotto::platform::bluez
