// Retention through the Tracer: the daily run of tick(), the host's confirmation of a suspect
// clock, and the `clock_suspect` state (logged when it changes, never per tick).
#include <sotto/log.hpp>

#include "tracer/tracer_impl.hpp"

namespace sotto {

Result<store::RetentionReport> Tracer::Impl::note_retention(Result<store::RetentionReport> r) {
    if (r) {
        if (clock_suspect.exchange(false))
            write_log(LogLevel::kInfo, "tracer: retention runs again: the clock is trusted");
    } else if (r.error().code == ErrorCode::kClockSuspect) {
        if (!clock_suspect.exchange(true))
            write_log(LogLevel::kWarning,
                      "tracer: retention paused: the clock is more than 3 days past the last "
                      "time the store trusted; nothing is deleted until it is corrected or "
                      "confirmed");
    }
    return r;
}

Result<store::RetentionReport> Tracer::Impl::retention(std::int64_t now,
                                                       store::RetentionOptions o) {
    return note_retention(store.apply_retention(now, o));
}

Result<store::RetentionReport> Tracer::Impl::daily_retention(std::int64_t now) {
    auto r = store.apply_retention(now, {});
    if (r || r.error().code != ErrorCode::kClockSuspect || !options.clock_confirmed)
        return note_retention(std::move(r));
    bool confirmed = false;
    try {
        confirmed = options.clock_confirmed();
    } catch (...) {
        confirmed = false;  // a host callback that throws vouches for nothing
    }
    if (!confirmed) return note_retention(std::move(r));
    write_log(LogLevel::kInfo, "tracer: the host confirmed the clock for retention");
    return retention(now, {.clock_confirmed = true});
}

}  // namespace sotto
