#pragma once
// The demo's timeline as a standalone SVG (opens in any browser): one row per person over the
// three days (06:00-20:00 of each day), coloured by place; every contact within a few metres as a
// link between the two rows (darker = closer); the exposures each phone found after the check as
// outlined bars; beacons the relay replayed (suspect, not counted) as red crosses.

#include <cstdint>
#include <string>
#include <vector>

#include "story.hpp"

namespace sotto::demo {

/// Something one phone found when it checked (valid: an exposure; else a relayed fake).
struct Finding {
    std::size_t person = 0;
    std::int64_t from = 0, to = 0;
    bool suspect = false;
    int typical_attenuation_db = 0;
};

struct Timeline {
    std::vector<Person> people;
    std::vector<Contact> contacts;
    std::vector<Finding> findings;
    std::size_t positive = 0;  ///< who tested positive
    /// The relay records from `relay_capture_from` for `relay_capture_hours` on each day until
    /// `relay_capture_to` (Unix s).
    std::int64_t relay_capture_from = 0, relay_capture_to = 0;
    int relay_capture_hours = 0;
};

/// The SVG document.
std::string timeline_svg(const Timeline& t);

}  // namespace sotto::demo
