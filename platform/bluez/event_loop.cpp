#include "event_loop.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

namespace sotto::platform::bluez {

namespace {
// Upper bound of one poll: the connection's own timeouts (pending replies) can change when
// another thread sends a call, so the loop re-reads them at least this often.
constexpr int kMaxPollMs = 100;
}  // namespace

EventLoop::EventLoop(sdbus::IConnection& connection, std::function<void()> on_lost)
    : connection_(connection), on_lost_(std::move(on_lost)) {}

EventLoop::~EventLoop() {
    stop();
    if (wake_fd_ >= 0) ::close(wake_fd_);
}

Result<void> EventLoop::start() noexcept {
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) return make_error(ErrorCode::kInternal, "bluez: eventfd failed");
    try {
        {
            std::lock_guard lock(posted_mutex_);
            accepting_ = true;
        }
        thread_ = std::thread([this] { run(); });
    } catch (...) {
        std::lock_guard lock(posted_mutex_);
        accepting_ = false;
        return make_error(ErrorCode::kInternal, "bluez: cannot start the D-Bus thread");
    }
    return ok();
}

void EventLoop::wake() noexcept {
    if (wake_fd_ < 0) return;
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wake_fd_, &one, sizeof one);
}

bool EventLoop::post(std::function<void()> fn) noexcept {
    try {
        std::lock_guard lock(posted_mutex_);
        if (!accepting_) return false;
        posted_.push_back(std::move(fn));
    } catch (...) {
        return false;
    }
    wake();
    return true;
}

void EventLoop::run_posted() noexcept {
    std::deque<std::function<void()>> batch;
    {
        std::lock_guard lock(posted_mutex_);
        batch.swap(posted_);
    }
    for (auto& fn : batch) {
        try {
            fn();
        } catch (...) {
        }
    }
}

void EventLoop::stop() noexcept {
    {
        std::lock_guard lock(posted_mutex_);
        accepting_ = false;
        posted_.clear();
    }
    stopping_.store(true);
    wake();
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void EventLoop::run() noexcept {
    while (!stopping_.load()) {
        try {
            while (!stopping_.load() && connection_.processPendingRequest()) {
            }
            if (stopping_.load()) break;
            run_posted();
            const auto poll_data = connection_.getEventLoopPollData();
            int timeout = poll_data.getPollTimeout();
            timeout = timeout < 0 ? kMaxPollMs : std::min(timeout, kMaxPollMs);
            pollfd fds[2] = {{poll_data.fd, poll_data.events, 0}, {wake_fd_, POLLIN, 0}};
            const int r = ::poll(fds, 2, timeout);
            if (r > 0 && (fds[1].revents & POLLIN) != 0) {
                std::uint64_t drained = 0;
                [[maybe_unused]] const auto n = ::read(wake_fd_, &drained, sizeof drained);
            }
        } catch (...) {
            // The connection is gone (or sd-bus failed for good): report once and end. Work
            // posted from now on is refused, so its poster runs it itself.
            {
                std::lock_guard lock(posted_mutex_);
                accepting_ = false;
            }
            run_posted();
            lost_.store(true);
            try {
                if (on_lost_) on_lost_();
            } catch (...) {
            }
            return;
        }
    }
}

}  // namespace sotto::platform::bluez
