#include "duty_radio.hpp"

namespace sotto::sottod {

Result<void> DutyCycledRadio::start_scanning(ble::ScanCallback on_heard) {
    std::lock_guard<std::mutex> lock(mutex_);
    callback_ = std::move(on_heard);
    wanted_ = true;
    return {};  // the next update() opens the first window
}

Result<void> DutyCycledRadio::stop_scanning() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        wanted_ = false;
        on_ = false;
    }
    return inner_->stop_scanning();
}

Result<void> DutyCycledRadio::update(std::int64_t now_ms) noexcept {
    ble::ScanCallback start_with;
    bool stop = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        const bool should = wanted_ && duty_.at(now_ms).scanning;
        if (should == on_) return {};
        if (should) {
            try {
                start_with = callback_;
            } catch (const std::bad_alloc&) {
                return Error{ErrorCode::kOutOfMemory, "scan: out of memory"};
            }
            ++windows_;
        } else {
            stop = true;
        }
        on_ = should;
    }
    Result<void> r = stop ? inner_->stop_scanning() : inner_->start_scanning(std::move(start_with));
    if (!r && r.error().code != ErrorCode::kBleUnavailable) {
        std::lock_guard<std::mutex> lock(mutex_);
        on_ = !on_;  // try again at the next update
    }
    return r;
}

std::uint64_t DutyCycledRadio::windows() const noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    return windows_;
}

}  // namespace sotto::sottod
