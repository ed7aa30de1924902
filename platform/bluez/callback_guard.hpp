#pragma once
// Marks the threads that are inside a scan or event callback, so that a radio method called from
// a callback fails at once (kFailedPrecondition) instead of deadlocking on the radio's lock.

namespace sotto::platform::bluez {

inline thread_local bool t_in_callback = false;

struct InCallback {
    InCallback() noexcept { t_in_callback = true; }
    ~InCallback() { t_in_callback = false; }
    InCallback(const InCallback&) = delete;
    InCallback& operator=(const InCallback&) = delete;
};

}  // namespace sotto::platform::bluez
