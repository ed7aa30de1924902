#include "story.hpp"

#include <cmath>

namespace sotto::demo {

namespace {
using platform::simulated::Point;
using platform::simulated::Waypoint;

constexpr Point kAliceHome{0, 0}, kBobHome{350, -150}, kCarolHome{1700, 800}, kDaveHome{5000, 5000};
constexpr Point kTramStart{400, 0}, kTramEnd{1400, 0};
constexpr Point kAliceDesk{1500, 100}, kBobDesk{1508, 100};
constexpr Point kCafeTable{1600, 300}, kCafeCounter{1604, 303};

std::int64_t at(int day, int hour, int minute = 0) {
    return kMonday + day * kDaySeconds + hour * kHour + minute * kMinute;
}

Point offset(Point p, double dx, double dy) { return {p.x_m + dx, p.y_m + dy}; }

void stay(std::vector<Stay>& s, std::int64_t from, std::int64_t to, const char* place, Point p,
          Point end) {
    s.push_back({from, to, place, p, end});
}
void stay(std::vector<Stay>& s, std::int64_t from, std::int64_t to, const char* place, Point p) {
    stay(s, from, to, place, p, p);
}
}  // namespace

std::vector<Waypoint> Person::path() const {
    std::vector<Waypoint> w;
    for (const auto& s : stays) {
        w.push_back({s.from * 1000, s.at});
        w.push_back({s.to * 1000 - 1, s.at_end});
    }
    return w;
}

const char* Person::place_at(std::int64_t t) const {
    for (const auto& s : stays)
        if (t >= s.from && t < s.to) return s.place;
    return "walking";
}

std::vector<Person> people() {
    std::vector<Person> out;
    {
        Person p{"Alice", {}};
        auto& s = p.stays;
        stay(s, at(0, 0), at(0, 7, 55), "home", kAliceHome);
        for (int d = 0; d < 2;
             ++d) {  // Monday and Tuesday: tram, office, cafe (Tuesday), office, home
            if (d > 0) stay(s, at(d - 1, 17, 40), at(d, 7, 55), "home", kAliceHome);
            stay(s, at(d, 8), at(d, 8, 30), "tram", kTramStart, kTramEnd);
            stay(s, at(d, 8, 35), at(d, 12), "office", kAliceDesk);
            if (d == 1) {
                stay(s, at(d, 12, 5), at(d, 12, 10), "cafe", kCafeTable);
                stay(s, at(d, 12, 15), at(d, 17), "office", kAliceDesk);
            } else {
                stay(s, at(d, 12, 5), at(d, 17), "office", kAliceDesk);
            }
            stay(s, at(d, 17, 5), at(d, 17, 35), "tram", kTramEnd, kTramStart);
        }
        stay(s, at(1, 17, 40), at(3, 0), "home", kAliceHome);  // Wednesday: at home, feeling ill
        out.push_back(std::move(p));
    }
    {
        Person p{"Bob", {}};
        auto& s = p.stays;
        stay(s, at(0, 0), at(0, 7, 55), "home", kBobHome);
        for (int d = 0; d < 3; ++d) {
            if (d > 0) stay(s, at(d - 1, 17, 40), at(d, 7, 55), "home", kBobHome);
            stay(s, at(d, 8), at(d, 8, 30), "tram", offset(kTramStart, 0, 1),
                 offset(kTramEnd, 0, 1));
            stay(s, at(d, 8, 35), at(d, 17), "office", kBobDesk);
            stay(s, at(d, 17, 5), at(d, 17, 35), "tram", offset(kTramEnd, 0, 1),
                 offset(kTramStart, 0, 1));
        }
        stay(s, at(2, 17, 40), at(3, 0), "home", kBobHome);
        out.push_back(std::move(p));
    }
    {
        Person p{"Carol", {}};
        auto& s = p.stays;
        stay(s, at(0, 0), at(0, 7, 30), "home", kCarolHome);
        for (int d = 0; d < 3; ++d) {
            if (d > 0) stay(s, at(d - 1, 16, 5), at(d, 7, 30), "home", kCarolHome);
            stay(s, at(d, 7, 35), at(d, 16), "cafe", kCafeCounter);
        }
        stay(s, at(2, 16, 5), at(3, 0), "home", kCarolHome);
        out.push_back(std::move(p));
    }
    {
        Person p{"Dave", {}};
        stay(p.stays, at(0, 0), at(3, 0), "home", kDaveHome);
        out.push_back(std::move(p));
    }
    return out;
}

Point relay_listen_point() { return offset(kAliceDesk, 0.5, 0.5); }
Point relay_emit_point() { return offset(kDaveHome, 1.0, 0); }

std::vector<Contact> contacts(const std::vector<Person>& people,
                              const platform::simulated::Air& air,
                              const std::vector<platform::simulated::NodeId>& ids) {
    std::vector<Contact> out;
    for (std::size_t a = 0; a < people.size(); ++a)
        for (std::size_t b = a + 1; b < people.size(); ++b) {
            bool open = false;
            Contact c{a, b, 0, 0, 1e9, 0};
            for (std::int64_t t = kMonday; t <= kMonday + kDays * kDaySeconds; t += kMinute) {
                auto pa = air.position(ids[a], t * 1000), pb = air.position(ids[b], t * 1000);
                const double d =
                    (pa && pb) ? std::hypot(pa->x_m - pb->x_m, pa->y_m - pb->y_m) : 1e9;
                const int band = d <= 2 ? 0 : d <= 5 ? 1 : 2;  // one contact per distance band
                if (d <= kContactMetres) {
                    if (open && band != c.band) {
                        out.push_back(c);
                        open = false;
                    }
                    if (!open) {
                        open = true;
                        c = Contact{a, b, t, t, d, band};
                    }
                    c.to = t + kMinute;
                    c.closest_m = std::min(c.closest_m, d);
                } else if (open) {
                    open = false;
                    out.push_back(c);
                }
            }
            if (open) out.push_back(c);
        }
    return out;
}

}  // namespace sotto::demo
