#pragma once
// The demo's people and places: who is where, when, over three simulated days (Mon 16 - Wed 18
// Nov 2026, UTC), as waypoint paths for the simulated air, and the ground truth of who came
// within a few metres of whom (for the timeline).

#include <cstdint>
#include <string>
#include <vector>

#include <sotto/platform/simulated/air.hpp>

namespace sotto::demo {

inline constexpr std::int64_t kMonday = 1795219200;  // Mon 2026-11-16 00:00:00 UTC
inline constexpr std::int64_t kHour = 3600, kMinute = 60, kDaySeconds = 86400;
inline constexpr int kDays = 3;

/// Where someone is during [from, to) (Unix s), and what to call it.
struct Stay {
    std::int64_t from = 0, to = 0;
    const char* place = "";             ///< "home", "tram", "office", "cafe"
    platform::simulated::Point at;      ///< position at `from`
    platform::simulated::Point at_end;  ///< position at `to` (differs on the tram)
};

struct Person {
    std::string name;
    std::vector<Stay> stays;  ///< in time order, covering the three days
    /// The path for `Air::set_path` (travel between stays is a straight walk of 5 minutes).
    std::vector<platform::simulated::Waypoint> path() const;
    /// Where the person is at `t` per the path (for the timeline).
    const char* place_at(std::int64_t t) const;
};

/// Alice, Bob, Carol and Dave.
std::vector<Person> people();

/// Where the relay listens (next to Alice's desk) and where it replays (at Dave's door).
platform::simulated::Point relay_listen_point();
platform::simulated::Point relay_emit_point();
inline constexpr std::int64_t kRelayDelayMs = 3 * 3600 * 1000;

/// A stretch of time two people spent within `kContactMetres` of each other, in one distance band.
struct Contact {
    std::size_t a = 0, b = 0;  ///< indices into people()
    std::int64_t from = 0, to = 0;
    double closest_m = 0;
    int band = 0;  ///< 0: within 2 m, 1: within 5 m, 2: within 10 m
};
inline constexpr double kContactMetres = 10.0;

/// Ground truth from the paths, sampled every minute.
std::vector<Contact> contacts(const std::vector<Person>& people,
                              const platform::simulated::Air& air,
                              const std::vector<platform::simulated::NodeId>& ids);

}  // namespace sotto::demo
