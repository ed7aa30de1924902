// Deterministic randomness, positions and path loss of the simulated air.
#include <algorithm>
#include <cmath>

#include "air_core.hpp"

namespace sotto::platform::simulated {

std::uint64_t mix64(std::uint64_t x) noexcept {  // splitmix64 finalizer
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

std::uint64_t packet_hash(std::uint64_t seed, NodeId tx, NodeId rx, std::uint64_t session,
                          std::uint64_t k) noexcept {
    std::uint64_t h = mix64(seed);
    h = mix64(h ^ (static_cast<std::uint64_t>(tx) << 32 | rx));
    h = mix64(h ^ session);
    return mix64(h ^ k);
}

double unit_double(std::uint64_t h) noexcept { return static_cast<double>(h >> 11) * 0x1.0p-53; }

double standard_normal(std::uint64_t h) noexcept {                          // Box-Muller
    const double u1 = 1.0 - unit_double(mix64(h ^ 0x5851F42D4C957F2Dull));  // (0, 1]
    const double u2 = unit_double(mix64(h ^ 0x14057B7EF767814Full));
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

Point position_at(const Node& n, std::int64_t time_ms) noexcept {
    const auto& p = n.path;
    if (p.empty()) return n.pos;
    if (time_ms <= p.front().time_ms) return p.front().at;
    if (time_ms >= p.back().time_ms) return p.back().at;
    std::size_t i = n.path_hint;  // the segment [i, i + 1] holding time_ms
    if (i + 1 >= p.size() || p[i].time_ms > time_ms || p[i + 1].time_ms <= time_ms) {
        if (i + 2 < p.size() && p[i + 1].time_ms <= time_ms && p[i + 2].time_ms > time_ms) {
            ++i;
        } else {
            auto it =
                std::upper_bound(p.begin(), p.end(), time_ms,
                                 [](std::int64_t t, const Waypoint& w) { return t < w.time_ms; });
            i = static_cast<std::size_t>(it - p.begin()) - 1;
        }
        n.path_hint = i;
    }
    const Waypoint& b = p[i + 1];
    const Waypoint& a = p[i];
    const double f =
        static_cast<double>(time_ms - a.time_ms) / static_cast<double>(b.time_ms - a.time_ms);
    return {a.at.x_m + f * (b.at.x_m - a.at.x_m), a.at.y_m + f * (b.at.y_m - a.at.y_m)};
}

double distance_m(Point a, Point b) noexcept { return std::hypot(a.x_m - b.x_m, a.y_m - b.y_m); }

namespace {
double cross(Point o, Point a, Point b) noexcept {
    return (a.x_m - o.x_m) * (b.y_m - o.y_m) - (a.y_m - o.y_m) * (b.x_m - o.x_m);
}
bool segments_cross(Point p1, Point p2, Point q1, Point q2) noexcept {
    const double d1 = cross(q1, q2, p1), d2 = cross(q1, q2, p2);
    const double d3 = cross(p1, p2, q1), d4 = cross(p1, p2, q2);
    return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
}
}  // namespace

double wall_loss_db(const std::vector<Wall>& walls, Point a, Point b) noexcept {
    double loss = 0;
    for (const Wall& w : walls)
        if (segments_cross(a, b, w.a, w.b)) loss += w.attenuation_db;
    return loss;
}

}  // namespace sotto::platform::simulated
