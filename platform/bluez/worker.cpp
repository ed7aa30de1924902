#include "worker.hpp"

#include <algorithm>
#include <future>
#include <memory>

namespace sotto::platform::bluez {

Worker::~Worker() { stop(); }

Result<void> Worker::start() noexcept {
    try {
        thread_ = std::thread([this] { loop(); });
        return ok();
    } catch (...) {
        return make_error(ErrorCode::kInternal, "bluez: cannot start the control thread");
    }
}

bool Worker::post(std::function<void()> task, std::chrono::milliseconds delay) noexcept {
    try {
        std::lock_guard lock(mutex_);
        if (stopping_) return false;
        Item item{std::chrono::steady_clock::now() + delay, std::move(task)};
        auto pos = std::upper_bound(queue_.begin(), queue_.end(), item.due,
                                    [](auto due, const Item& i) { return due < i.due; });
        queue_.insert(pos, std::move(item));
    } catch (...) {
        return false;
    }
    cv_.notify_one();
    return true;
}

Result<void> Worker::run(std::function<Result<void>()> task) noexcept {
    try {
        auto promise = std::make_shared<std::promise<Result<void>>>();
        auto future = promise->get_future();
        const bool queued = post([promise, task = std::move(task)] {
            try {
                promise->set_value(task());
            } catch (...) {
                promise->set_value(make_error(ErrorCode::kInternal, "bluez: task failed"));
            }
        });
        if (!queued) return make_error(ErrorCode::kFailedPrecondition, "bluez: radio is closing");
        return future.get();
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "bluez: out of memory");
    } catch (...) {
        // broken_promise: the radio closed before the task ran.
        return make_error(ErrorCode::kFailedPrecondition, "bluez: radio is closing");
    }
}

void Worker::stop() noexcept {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable() && !on_worker_thread()) thread_.join();
    std::lock_guard lock(mutex_);
    queue_.clear();
}

void Worker::loop() noexcept {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        if (queue_.empty()) {
            cv_.wait(lock);
            continue;
        }
        const auto due = queue_.front().due;
        if (std::chrono::steady_clock::now() < due) {
            cv_.wait_until(lock, due);
            continue;
        }
        auto task = std::move(queue_.front().task);
        queue_.pop_front();
        lock.unlock();
        try {
            task();
        } catch (...) {
        }
        task = nullptr;
        lock.lock();
    }
}

}  // namespace sotto::platform::bluez
