// sotto-demo: what one device broadcasts over a day.
#include <cstdio>

#include <fmt/core.h>

#include <sotto/bytes.hpp>
#include <sotto/core/keys.hpp>
#include <sotto/core/payload.hpp>
#include <sotto/core/rolling_id.hpp>

int main() {
    using namespace sotto::core;
    DeterministicRng rng(2026);
    const std::int64_t t0 = 1795392000;  // 2026-11-23T00:00:00Z
    const IntervalNumber now = *interval_number(t0);
    const ExposureKey tek = generate_tek(rng, now);
    const Metadata md{1, -12, CalibrationConfidence::kMedium};
    fmt::print("Device A, TEK for day {} (rolling start {}, period {}), metadata {}\n",
               day_number(now), tek.rolling_start, tek.rolling_period,
               sotto::to_hex(encode_metadata(md)));
    for (IntervalNumber i = tek.rolling_start; i < tek.rolling_end(); i += 12) {
        auto b = make_beacon(tek, i, md);
        if (!b) return 1;
        const auto adv = encode_advertising_data(*b, AdvertisingForm::kWithFlags);
        fmt::print("  {:02}:{:02} UTC  ENIN {}  adv {}\n", (i % 144) / 6, (i % 6) * 10, i,
                   sotto::to_hex(adv.view()));
    }
    return 0;
}
