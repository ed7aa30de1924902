#include "timeline_svg.hpp"

#include <string>
#include <string_view>

#include <fmt/core.h>

namespace sotto::demo {

namespace {
constexpr int kFirstHour = 6, kLastHour = 20;  // shown hours of each day
constexpr double kPxPerHour = 36, kLeft = 90, kTop = 70, kRow = 70, kBar = 22;
constexpr double kDayWidth = (kLastHour - kFirstHour) * kPxPerHour, kGap = 20;

/// x of time `t`, or a negative value when `t` is outside the shown hours.
double x_of(std::int64_t t) {
    const std::int64_t rel = t - kMonday;
    if (rel < 0 || rel >= kDays * kDaySeconds) return -1;
    const auto day = rel / kDaySeconds;
    const double hour = static_cast<double>(rel % kDaySeconds) / 3600.0;
    if (hour < kFirstHour || hour > kLastHour) return -1;
    return kLeft + static_cast<double>(day) * (kDayWidth + kGap) + (hour - kFirstHour) * kPxPerHour;
}

/// Clips [from, to) to one shown day and returns the x range (false when nothing is visible).
bool span_x(std::int64_t from, std::int64_t to, double& x0, double& x1) {
    const std::int64_t day0 = kMonday + (from - kMonday) / kDaySeconds * kDaySeconds;
    const std::int64_t lo = std::max(from, day0 + kFirstHour * kHour),
                       hi = std::min(to, day0 + kLastHour * kHour);
    if (hi <= lo) return false;
    x0 = x_of(lo);
    x1 = x_of(hi - 1);
    return x0 >= 0 && x1 >= x0;
}

/// One legend entry: a 16 x 12 swatch at (x, y) drawn with `style` (SVG attributes), labelled.
void legend_swatch(std::string& s, double x, double y, std::string_view style,
                   std::string_view label) {
    s += fmt::format(
        "<rect x=\"{:.0f}\" y=\"{:.0f}\" width=\"16\" height=\"12\" {}/><text x=\"{:.0f}\" "
        "y=\"{:.0f}\">{}</text>\n",
        x, y, style, x + 20, y + 10, label);
}

const char* colour(const char* place) {
    const std::string p = place;
    if (p == "home") return "#cfe3c8";
    if (p == "tram") return "#f3d27a";
    if (p == "office") return "#b9cde8";
    if (p == "cafe") return "#e9b9d2";
    return "#eeeeee";
}

double row_y(std::size_t person) { return kTop + static_cast<double>(person) * kRow; }
}  // namespace

std::string timeline_svg(const Timeline& t) {
    const double width = kLeft + kDays * (kDayWidth + kGap) + 20;
    const double height = kTop + static_cast<double>(t.people.size()) * kRow + 120;
    std::string s = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" "
        "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" "
        "fill=\"white\"/>\n"
        "<text x=\"{}\" y=\"22\" font-size=\"16\" font-weight=\"bold\">sotto demo: who met whom "
        "(simulated "
        "air, Mon 16 - Wed 18 Nov 2026, UTC)</text>\n",
        width, height, kLeft);
    const char* days[] = {"Mon 16 Nov", "Tue 17 Nov", "Wed 18 Nov"};
    for (int d = 0; d < kDays; ++d) {
        const double x0 = kLeft + d * (kDayWidth + kGap);
        s += fmt::format("<text x=\"{:.1f}\" y=\"45\" font-weight=\"bold\">{}</text>\n", x0,
                         days[d]);
        for (int h = kFirstHour; h <= (d + 1 == kDays ? kLastHour : kLastHour - 2); h += 2) {
            const double x = x0 + (h - kFirstHour) * kPxPerHour;
            s += fmt::format(
                "<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"52\" y2=\"{1:.0f}\" stroke=\"#ddd\"/>"
                "<text x=\"{0:.1f}\" y=\"62\" font-size=\"10\" "
                "text-anchor=\"middle\">{2:02}:00</text>\n",
                x, kTop + static_cast<double>(t.people.size()) * kRow - kRow + kBar + 8, h);
        }
    }
    // Rows: where each person is.
    for (std::size_t i = 0; i < t.people.size(); ++i) {
        const double y = row_y(i);
        s += fmt::format("<text x=\"8\" y=\"{:.1f}\" font-weight=\"bold\">{}{}</text>\n", y + 15,
                         t.people[i].name, i == t.positive ? " (+)" : "");
        for (const auto& st : t.people[i].stays) {
            for (std::int64_t day = st.from; day < st.to;
                 day = (day - kMonday) / kDaySeconds * kDaySeconds + kMonday + kDaySeconds) {
                const std::int64_t end = std::min(
                    st.to, (day - kMonday) / kDaySeconds * kDaySeconds + kMonday + kDaySeconds);
                double x0 = 0, x1 = 0;
                if (span_x(day, end, x0, x1))
                    s += fmt::format(
                        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{}\" "
                        "fill=\"{}\"><title>{} at {}</title></rect>\n",
                        x0, y, std::max(1.0, x1 - x0), kBar, colour(st.place), t.people[i].name,
                        st.place);
            }
        }
    }
    // Contacts: a link between the two rows, darker when closer.
    for (const auto& c : t.contacts) {
        double x0 = 0, x1 = 0;
        if (!span_x(c.from, c.to, x0, x1)) continue;
        const double opacity = c.closest_m <= 2 ? 0.9 : c.closest_m <= 5 ? 0.55 : 0.3;
        const double ya = row_y(c.a) + kBar, yb = row_y(c.b);
        s += fmt::format(
            "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"#444\" "
            "fill-opacity=\"{}\"><title>{} and {}: {} min, closest {:.1f} m</title></rect>\n",
            x0, ya, std::max(2.0, x1 - x0), yb - ya, opacity, t.people[c.a].name,
            t.people[c.b].name, (c.to - c.from) / 60, c.closest_m);
    }
    // The relay's recording at Alice's desk.
    {
        double x0 = 0, x1 = 0;
        for (std::int64_t day = t.relay_capture_from; day < t.relay_capture_to; day += kDaySeconds)
            if (span_x(day, day + t.relay_capture_hours * kHour, x0, x1))
                s += fmt::format(
                    "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"4\" "
                    "fill=\"#c00\"><title>relay records here</title></rect>\n",
                    x0, row_y(t.positive) - 6, x1 - x0);
    }
    // What the phones found when they checked.
    for (const auto& f : t.findings) {
        double x0 = 0, x1 = 0;
        if (!span_x(f.from, std::max(f.to, f.from + 60), x0, x1)) continue;
        const double y = row_y(f.person);
        if (f.suspect) {
            const double xm = (x0 + x1) / 2;
            s += fmt::format(
                "<path d=\"M{0:.1f},{1:.1f} l8,8 m-8,0 l8,-8\" transform=\"translate(-4,0)\" "
                "stroke=\"#c00\" "
                "stroke-width=\"2.5\"><title>relayed beacon of the positive key: suspect, not "
                "counted</title></path>\n",
                xm, y + kBar + 4);
        } else {
            s += fmt::format(
                "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{}\" fill=\"none\" "
                "stroke=\"#d40\" "
                "stroke-width=\"3\"><title>exposure found: typical attenuation {} "
                "dB</title></rect>\n",
                x0, y - 2, std::max(4.0, x1 - x0), kBar + 4, f.typical_attenuation_db);
        }
    }
    // Legend.
    const double ly = kTop + static_cast<double>(t.people.size()) * kRow + 20;
    double lx = kLeft;
    for (const char* place : {"home", "tram", "office", "cafe"}) {
        legend_swatch(s, lx, ly, fmt::format("fill=\"{}\"", colour(place)), place);
        lx += 80;
    }
    legend_swatch(s, lx, ly, "fill=\"#444\" fill-opacity=\"0.9\"",
                  "met within 10 m (darker = closer)");
    lx += 250;
    legend_swatch(s, lx, ly, "fill=\"none\" stroke=\"#d40\" stroke-width=\"3\"",
                  "exposure found by the check");
    lx += 210;
    s += fmt::format(
        "<path d=\"M{0:.0f},{1:.0f} l10,10 m-10,0 l10,-10\" stroke=\"#c00\" stroke-width=\"2.5\"/>"
        "<text x=\"{2:.0f}\" y=\"{3:.0f}\">relayed fake (suspect, not counted)</text>\n",
        lx + 3, ly + 1, lx + 20, ly + 10);
    s += fmt::format(
        "<text x=\"{:.0f}\" y=\"{:.0f}\" fill=\"#555\">(+) {} tested positive on Thu 19 Nov and "
        "published a signed key file. Red bar: where the relay records; it replays 3 h later at "
        "Dave's.</text>\n",
        kLeft, ly + 40, t.people[t.positive].name);
    s += "</svg>\n";
    return s;
}

}  // namespace sotto::demo
