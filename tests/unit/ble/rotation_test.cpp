// RotationScheduler: bounds, randomness, day rollover, address and RPI together, clock jumps,
// late hosts, and every payload decoding back to its ENIN and metadata.
#include <algorithm>
#include <set>

#include <sotto/ble/rotation.hpp>
#include <sotto/core/payload.hpp>
#include <sotto/core/rolling_id.hpp>

#include "ble_test_util.hpp"
#include "support.hpp"

using namespace sotto;
using namespace sotto::test;

namespace {

ble::RotationScheduler make(core::Rng& rng, ble::TekSource src = {}, ble::RotationConfig cfg = {},
                            core::IntervalNumber last_used = 0) {
    auto s = ble::RotationScheduler::create(cfg, rng, std::move(src), last_used);
    REQUIRE(s.has_value());
    return std::move(*s);
}

core::IntervalNumber enin_of(std::int64_t ms) {
    return static_cast<core::IntervalNumber>(ms / 600'000);
}

// Follows the scheduler from `from` to `to`, calling exactly when told; returns the broadcasts.
std::vector<ble::Broadcast> follow(ble::RotationScheduler& s, std::int64_t from, std::int64_t to) {
    std::vector<ble::Broadcast> out;
    for (std::int64_t t = from; t < to;) {
        auto b = s.at(t);
        REQUIRE(b.has_value());
        REQUIRE(b->changed);
        out.push_back(*b);
        REQUIRE(b->next_change_ms > t);
        t = b->next_change_ms;
    }
    return out;
}

}  // namespace

TEST_CASE("Broadcasts last 10 to 20 minutes with random lengths", "[ble][rotation]") {
    core::DeterministicRng rng(1);
    auto s = make(rng);
    const auto all = follow(s, kMidnightMs + 60 * kMinute, kMidnightMs + 22 * 60 * kMinute);
    REQUIRE(all.size() > 60);
    std::set<std::int64_t> lengths;
    double sum = 0;
    for (std::size_t i = 0; i + 1 < all.size(); ++i) {
        const std::int64_t len = all[i].next_change_ms - all[i].started_ms;
        CHECK(len >= 10 * kMinute);
        CHECK(len <= 20 * kMinute);
        lengths.insert(len);
        sum += static_cast<double>(len);
    }
    CHECK(lengths.size() > all.size() / 2);  // not constant
    const double mean_min = sum / static_cast<double>(all.size() - 1) / kMinute;
    CHECK(mean_min > 13.5);
    CHECK(mean_min < 16.5);
    // Another seed gives other lengths.
    core::DeterministicRng rng2(2);
    auto s2 = make(rng2);
    auto b2 = s2.at(kMidnightMs + 60 * kMinute);
    REQUIRE(b2.has_value());
    CHECK(b2->next_change_ms != all[0].next_change_ms);
}

TEST_CASE("Between changes the broadcast stays exactly the same", "[ble][rotation]") {
    core::DeterministicRng rng(3);
    auto s = make(rng);
    const std::int64_t t0 = kMidnightMs + 5 * 60 * kMinute;
    auto first = s.at(t0);
    REQUIRE(first.has_value());
    CHECK(first->active);
    CHECK(first->changed);
    for (std::int64_t t = t0 + 1; t < first->next_change_ms; t += 37'000) {
        auto again = s.at(t);
        REQUIRE(again.has_value());
        CHECK_FALSE(again->changed);
        CHECK(again->advertisement == first->advertisement);
        CHECK(again->generation == first->generation);
    }
    // One millisecond before the deadline: the same; at the deadline: a new one.
    CHECK_FALSE(s.at(first->next_change_ms - 1)->changed);
    auto next = s.at(first->next_change_ms);
    REQUIRE(next.has_value());
    CHECK(next->changed);
    CHECK(next->generation == first->generation + 1);
}

TEST_CASE("The address and the RPI change together and the address is non-resolvable",
          "[ble][rotation]") {
    core::DeterministicRng rng(4);
    auto s = make(rng);
    const auto all = follow(s, kMidnightMs + 60 * kMinute, kMidnightMs + 12 * 60 * kMinute);
    std::set<std::array<std::uint8_t, 6>> addresses;
    std::set<core::ServiceData> payloads;
    for (std::size_t i = 0; i < all.size(); ++i) {
        const auto& a = all[i].advertisement;
        CHECK(a.address.is_non_resolvable_private());
        CHECK(a.address.bytes != std::array<std::uint8_t, 6>{});
        addresses.insert(a.address.bytes);
        payloads.insert(a.service_data);
        if (i > 0) {
            CHECK(a.address != all[i - 1].advertisement.address);
            CHECK(a.service_data != all[i - 1].advertisement.service_data);
        }
    }
    // Never reused: as many addresses and payloads as broadcasts.
    CHECK(addresses.size() == all.size());
    CHECK(payloads.size() == all.size());
}

TEST_CASE(
    "Every broadcast decodes with its TEK to the ENIN it started in and the configured metadata",
    "[ble][rotation]") {
    core::DeterministicRng rng(5);
    RecordingTekSource tek;
    ble::RotationConfig cfg;
    cfg.metadata = {1, -27, core::CalibrationConfidence::kMedium};
    auto s = make(rng, tek.source(), cfg);
    const auto all = follow(s, kMidnightMs + 3 * 60 * kMinute, kMidnightMs + 9 * 60 * kMinute);
    REQUIRE(all.size() > 10);
    for (const auto& b : all) {
        CHECK(b.enin == enin_of(b.started_ms));
        CHECK(b.advertisement.tx_power_dbm == -27);
        const core::ExposureKey* key = tek.key_for(b.enin);
        REQUIRE(key != nullptr);
        auto beacon = core::decode_service_data(b.advertisement.service_data);
        REQUIRE(beacon.has_value());
        auto rpi = core::derive_rpi(core::derive_rpik(key->tek), b.enin);
        REQUIRE(rpi.has_value());
        CHECK(*rpi == beacon->rpi);
        auto md = core::decrypt_aem(core::derive_aemk(key->tek), beacon->rpi, beacon->aem);
        REQUIRE(md.has_value());
        CHECK(core::validate_metadata(*md).has_value());
        auto m = core::decode_metadata(*md);
        REQUIRE(m.has_value());
        CHECK(*m == cfg.metadata);
        // Negative neighbours: the neighbouring ENIN and another TEK give other RPIs.
        CHECK(*core::derive_rpi(core::derive_rpik(key->tek), b.enin + 1) != beacon->rpi);
        core::DeterministicRng other_rng(77);
        const auto other = core::generate_tek(other_rng, b.enin);
        CHECK(*core::derive_rpi(core::derive_rpik(other.tek), b.enin) != beacon->rpi);
        auto wrong = core::decrypt_aem(core::derive_aemk(other.tek), beacon->rpi, beacon->aem);
        REQUIRE(wrong.has_value());
        CHECK(*wrong != *md);
    }
    CHECK(tek.asked->size() == 1);  // one TEK for the whole day
}

TEST_CASE("A new TEK starts at 00:00 UTC and nothing of yesterday's is broadcast after midnight",
          "[ble][rotation]") {
    core::DeterministicRng rng(6);
    RecordingTekSource tek;
    auto s = make(rng, tek.source());
    const std::int64_t midnight = kMidnightMs + 86'400'000;
    const auto all = follow(s, midnight - 95 * kMinute, midnight + 60 * kMinute);
    const auto at_midnight = std::find_if(all.begin(), all.end(),
                                          [&](const auto& b) { return b.started_ms == midnight; });
    REQUIRE(at_midnight != all.end());
    for (auto it = all.begin(); it != at_midnight; ++it) {
        CHECK(it->next_change_ms <= midnight);
        CHECK(it->next_change_ms - it->started_ms >= 10 * kMinute);  // the last ones fit
        CHECK(it->next_change_ms - it->started_ms <= 20 * kMinute);
    }
    REQUIRE(tek.keys->size() == 2);
    CHECK((*tek.asked)[1] == enin_of(midnight));
    const auto& today = (*tek.keys)[1];
    const auto& yesterday = (*tek.keys)[0];
    CHECK(today.rolling_start == enin_of(midnight));
    auto beacon = core::decode_service_data(at_midnight->advertisement.service_data);
    REQUIRE(beacon.has_value());
    CHECK(*core::derive_rpi(core::derive_rpik(today.tek), at_midnight->enin) == beacon->rpi);
    // Negative neighbour: yesterday's key does not produce it.
    CHECK(*core::derive_rpi(core::derive_rpik(yesterday.tek), at_midnight->enin) != beacon->rpi);
}

TEST_CASE("A TEK source answering with a key of another day is refused and nothing is broadcast",
          "[ble][rotation]") {
    core::DeterministicRng rng(7);
    const std::int64_t t = kMidnightMs + 2 * 60 * kMinute;
    SECTION("a key of yesterday") {
        auto s = make(rng, [](core::IntervalNumber enin) -> Result<core::ExposureKey> {
            core::DeterministicRng r(1);
            return core::generate_tek(r, enin - 144);
        });
        auto b = s.at(t);
        REQUIRE_FALSE(b.has_value());
        CHECK(b.error().code == ErrorCode::kFailedPrecondition);
    }
    SECTION("a key valid now but started yesterday") {
        auto s = make(rng, [](core::IntervalNumber enin) -> Result<core::ExposureKey> {
            core::DeterministicRng r(1);
            auto k = core::generate_tek(r, enin);
            k.rolling_start = enin - 50;
            return k;
        });
        auto b = s.at(t);
        REQUIRE_FALSE(b.has_value());
        CHECK(b.error().code == ErrorCode::kFailedPrecondition);
    }
    SECTION("a failing source: its error, then a retry that works") {
        int calls = 0;
        auto s = make(rng, [&calls](core::IntervalNumber enin) -> Result<core::ExposureKey> {
            if (++calls == 1) return make_error(ErrorCode::kStorageIo, "test: store down");
            core::DeterministicRng r(1);
            return core::generate_tek(r, enin);
        });
        auto b = s.at(t);
        REQUIRE_FALSE(b.has_value());
        CHECK(b.error().code == ErrorCode::kStorageIo);
        auto again = s.at(t + 1000);
        REQUIRE(again.has_value());
        CHECK(again->active);
        CHECK(again->started_ms == t + 1000);
    }
}

TEST_CASE("A TEK kept by the host is resumed after a restart", "[ble][rotation]") {
    core::DeterministicRng key_rng(8);
    const std::int64_t t = kMidnightMs + 7 * 60 * kMinute;
    const auto stored = core::generate_tek(key_rng, enin_of(t));
    core::DeterministicRng rng(9);
    auto s = make(
        rng, [&](core::IntervalNumber) -> Result<core::ExposureKey> { return stored.clone(); });
    auto b = s.at(t);
    REQUIRE(b.has_value());
    auto beacon = core::decode_service_data(b->advertisement.service_data);
    CHECK(*core::derive_rpi(core::derive_rpik(stored.tek), b->enin) == beacon->rpi);
}

TEST_CASE("A late host call starts a fresh broadcast at the time of the call", "[ble][rotation]") {
    core::DeterministicRng rng(10);
    auto s = make(rng);
    const std::int64_t t0 = kMidnightMs + 4 * 60 * kMinute;
    auto first = s.at(t0);
    REQUIRE(first.has_value());
    const std::int64_t late = first->next_change_ms + 7 * kMinute;
    auto next = s.at(late);
    REQUIRE(next.has_value());
    CHECK(next->changed);
    CHECK(next->started_ms == late);
    CHECK(next->enin == enin_of(late));
    CHECK(next->next_change_ms - late >= 10 * kMinute);
    CHECK(next->next_change_ms - late <= 20 * kMinute);
    // The stale broadcast is never answered again, even for a time inside its old span.
    CHECK(s.at(late + 1)->advertisement == next->advertisement);
}

TEST_CASE("When the clock jumps back no RPI is used for a second interval", "[ble][rotation]") {
    core::DeterministicRng rng(11);
    auto s = make(rng);
    const std::int64_t t0 = kMidnightMs + 10 * 60 * kMinute;
    auto all = follow(s, t0, t0 + 2 * 60 * kMinute);
    const std::int64_t before_jump = all.back().next_change_ms - 4 * kMinute;
    auto cur = s.at(before_jump);
    REQUIRE(cur.has_value());
    REQUIRE_FALSE(cur->changed);
    const core::IntervalNumber last_used = s.last_used_enin();

    // Back by one hour: the current broadcast ends at once, and nothing is broadcast until the
    // clock reaches a fresh interval.
    const std::int64_t jumped = before_jump - 60 * kMinute;
    auto idle = s.at(jumped);
    REQUIRE(idle.has_value());
    CHECK_FALSE(idle->active);
    CHECK(idle->changed);
    CHECK(idle->next_change_ms == core::interval_start_seconds(last_used + 1) * 1000);
    auto still_idle = s.at(idle->next_change_ms - 1);
    CHECK_FALSE(still_idle->active);
    CHECK_FALSE(still_idle->changed);
    auto fresh = s.at(idle->next_change_ms);
    REQUIRE(fresh.has_value());
    CHECK(fresh->active);
    CHECK(fresh->changed);
    CHECK(fresh->enin == last_used + 1);
    CHECK(fresh->advertisement.address != cur->advertisement.address);

    all.push_back(*fresh);
    std::set<core::IntervalNumber> enins;
    std::set<core::ServiceData> payloads;
    for (const auto& b : all) {
        CHECK(enins.insert(b.enin).second);
        CHECK(payloads.insert(b.advertisement.service_data).second);
    }
}

TEST_CASE("A small jump back into a fresh interval rotates at once", "[ble][rotation]") {
    core::DeterministicRng rng(14);
    auto s = make(rng);
    const std::int64_t t0 = kMidnightMs + 6 * 60 * kMinute + 5 * kMinute;  // 06:05, ENIN e
    auto first = s.at(t0);
    REQUIRE(first.has_value());
    REQUIRE(first->next_change_ms >= t0 + 10 * kMinute);
    CHECK_FALSE(s.at(t0 + 10 * kMinute)->changed);  // 06:15, still the same broadcast
    auto after = s.at(t0 + 10 * kMinute - 2'000);   // the clock steps back 2 s: still ENIN e + 1
    REQUIRE(after.has_value());
    CHECK(after->changed);
    CHECK(after->active);
    CHECK(after->enin == first->enin + 1);
    CHECK(after->started_ms == t0 + 10 * kMinute - 2'000);
    CHECK(after->advertisement.address != first->advertisement.address);
    CHECK(after->advertisement.service_data != first->advertisement.service_data);
}

TEST_CASE("A scheduler resumed with the last used ENIN never derives for it again",
          "[ble][rotation]") {
    core::DeterministicRng rng(12);
    const std::int64_t t = kMidnightMs + 8 * 60 * kMinute;
    auto s = make(rng, {}, {}, enin_of(t));
    auto b = s.at(t);
    REQUIRE(b.has_value());
    CHECK_FALSE(b->active);
    CHECK(b->next_change_ms == (static_cast<std::int64_t>(enin_of(t)) + 1) * 600'000);
    CHECK(b->changed);  // tells the host to stop advertising, once
    CHECK_FALSE(s.at(t + 1'000)->changed);
    // Negative neighbour: without the resume value it broadcasts at once.
    core::DeterministicRng rng2(12);
    auto fresh = make(rng2);
    CHECK(fresh.at(t)->active);
}

TEST_CASE("Rotation settings out of range are refused", "[ble][rotation]") {
    core::DeterministicRng rng(13);
    auto bad = [&](ble::RotationConfig c) {
        auto s = ble::RotationScheduler::create(c, rng);
        REQUIRE_FALSE(s.has_value());
        CHECK(s.error().code == ErrorCode::kInvalidArgument);
    };
    ble::RotationConfig c;
    c.min_rotation_ms = 9 * kMinute;
    bad(c);
    c = {};
    c.max_rotation_ms = 9 * kMinute + 10 * kMinute - 20 * kMinute;
    bad(c);
    c = {};
    c.max_rotation_ms = 61 * kMinute;
    bad(c);
    c = {};
    c.metadata.tx_power_dbm = 21;
    bad(c);
    c = {};
    c.metadata.minor_version = 2;
    bad(c);
    CHECK(ble::RotationScheduler::create({}, rng).has_value());
    // A time outside the ENIN range.
    auto s = ble::RotationScheduler::create({}, rng);
    auto neg = s->at(-1);
    REQUIRE_FALSE(neg.has_value());
    CHECK(neg.error().code == ErrorCode::kOutOfRange);
}
