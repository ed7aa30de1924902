// Retention through the Tracer: the daily run of tick(), the host's confirmation of a suspect
// clock, the second time source (the clock's elapsed time) within one process, and the
// `clock_suspect` state (logged when it changes, never per tick).
#include <sotto/log.hpp>

#include "tracer/tracer_impl.hpp"

namespace sotto {

namespace {

// How much further the wall clock may move than the elapsed time between two retention runs
// before it is suspect. Both clocks count the same oscillator, and NTP slews the wall clock by
// at most 500 ppm (about 43 s a day), so honest drift stays far below this; the hour leaves room
// for a person or NTP stepping a clock that was minutes off, and a clock pushed ahead by less
// gains at most an hour per run (retention runs once per UTC day), never days.
constexpr std::int64_t kWallAheadSlackMs = 3'600'000;

}  // namespace

bool Tracer::Impl::wall_ran_ahead() {
    const auto elapsed = clock.elapsed_ms();
    if (!elapsed) return false;
    const std::int64_t wall = clock.now_ms();
    std::lock_guard lock(base_mu);
    if (!clock_base) return false;
    return (wall - clock_base->wall_ms) - (*elapsed - clock_base->elapsed_ms) > kWallAheadSlackMs;
}

void Tracer::Impl::record_clock_base() {
    const auto elapsed = clock.elapsed_ms();
    const std::int64_t wall = clock.now_ms();
    std::lock_guard lock(base_mu);
    if (elapsed) {
        clock_base = ClockBase{wall, *elapsed};
    } else {
        clock_base.reset();
    }
}

Result<store::RetentionReport> Tracer::Impl::run_retention(std::int64_t now,
                                                           store::RetentionOptions o) {
    if (!o.clock_confirmed && wall_ran_ahead())
        return make_error(ErrorCode::kClockSuspect,
                          "tracer: the wall clock moved more than an hour further than the time "
                          "elapsed since the last retention run; nothing deleted");
    auto r = store.apply_retention(now, o);
    if (r) record_clock_base();
    return r;
}

Result<store::RetentionReport> Tracer::Impl::note_retention(Result<store::RetentionReport> r) {
    if (r) {
        if (clock_suspect.exchange(false))
            write_log(LogLevel::kInfo, "tracer: retention runs again: the clock is trusted");
    } else if (r.error().code == ErrorCode::kClockSuspect) {
        if (!clock_suspect.exchange(true))
            write_log(LogLevel::kWarning,
                      "tracer: retention paused: the clock is more than 3 days from the last "
                      "time the store trusted, or ran ahead of the time elapsed since the last "
                      "run; nothing is deleted until it is corrected or confirmed");
    }
    return r;
}

Result<store::RetentionReport> Tracer::Impl::retention(std::int64_t now,
                                                       store::RetentionOptions o) {
    return note_retention(run_retention(now, o));
}

Result<store::RetentionReport> Tracer::Impl::daily_retention(std::int64_t now) {
    auto r = run_retention(now, {});
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
