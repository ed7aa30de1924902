#include <algorithm>
#include <bit>
#include <string>

#include <catch2/catch.hpp>

#include <sotto/core/matcher.hpp>

#include "core/matcher_filter.hpp"
#include "support.hpp"

using namespace sotto::core;

namespace {

constexpr IntervalNumber kDay = 2690496;  // a UTC midnight (144 * 18684)
const Metadata kMeta{1, 1, CalibrationConfidence::kHigh};

DiagnosisKey make_key(std::uint64_t seed, IntervalNumber start = kDay, std::uint32_t period = 144) {
    DeterministicRng rng(seed);
    DiagnosisKey k;
    rng.fill(k.exposure_key.tek.expose_secret_mut());
    k.exposure_key.rolling_start = start;
    k.exposure_key.rolling_period = period;
    k.report_type = ReportType::kConfirmedTest;
    k.transmission_risk_level = 5;
    return k;
}

// What a receiver stores after hearing `key`'s beacon for `rpi_interval` at receiver interval
// `heard` (a few packets one second apart).
Sighting heard(const DiagnosisKey& key, IntervalNumber rpi_interval, IntervalNumber heard_at,
               std::int64_t offset = 60, const Metadata& md = kMeta) {
    ExposureKey any_period{key.exposure_key.tek.clone(), key.exposure_key.rolling_start, 144};
    auto b = make_beacon(any_period, rpi_interval, md);
    REQUIRE(b);
    Observation o{interval_start_seconds(heard_at) + offset, -60, *b};
    Sighting s = make_sighting(o);
    for (int i = 1; i < 4; ++i) {
        o.time += 1;
        add_observation(s, o);
    }
    return s;
}

Sighting noise(std::uint64_t seed, IntervalNumber at) {
    DeterministicRng rng(seed);
    Observation o;
    o.time = interval_start_seconds(at) + 5;
    o.rssi = -80;
    rng.fill(o.beacon.rpi.bytes);
    rng.fill(o.beacon.aem.bytes);
    return make_sighting(o);
}

using KeyRefs = std::vector<std::reference_wrapper<const DiagnosisKey>>;

std::vector<MatchedSighting> run(const SightingIndex& index, const KeyRefs& keys,
                                 MatchOptions options = {}, MatchCounters* counters = nullptr) {
    auto m = KeyMatcher::create(index, options);
    REQUIRE(m);
    std::vector<MatchedSighting> out;
    for (std::uint32_t i = 0; i < keys.size(); ++i) REQUIRE(m->match(keys[i].get(), i, out));
    if (counters != nullptr) *counters = m->counters();
    return out;
}

std::vector<MatchedSighting> run_all(const SightingIndex& index,
                                     const std::vector<DiagnosisKey>& keys,
                                     MatchOptions options = {}) {
    return run(index, KeyRefs(keys.begin(), keys.end()), options);
}

std::vector<Sighting> with_noise(std::vector<Sighting> s, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
        s.push_back(noise(1000 + i, kDay + static_cast<IntervalNumber>(i % 300)));
    return s;
}

}  // namespace

TEST_CASE("Heard beacons of a diagnosis key match, with their metadata", "[core][matcher]") {
    const auto key = make_key(1);
    const auto other = make_key(2);
    auto index = SightingIndex::build(
        with_noise({heard(key, kDay + 60, kDay + 60), heard(key, kDay + 61, kDay + 62)}, 500), 7);
    for (bool prefilter : {true, false}) {
        CAPTURE(prefilter);
        MatchCounters c;
        auto hits = run(index, {other, key}, {.prefilter = prefilter}, &c);
        REQUIRE(hits.size() == 2);
        for (const auto& h : hits) {
            CHECK(h.key_index == 1);
            CHECK(h.status == MatchStatus::kValid);
            CHECK(std::string(h.reason) == "");
            CHECK(h.metadata == encode_metadata(kMeta));
        }
        CHECK(hits[0].rpi_interval == kDay + 60);
        CHECK(hits[1].rpi_interval == kDay + 61);
        CHECK(index.sightings()[hits[1].sighting_index].interval == kDay + 62);
        CHECK(c.rpis_matched == 2);
        if (!prefilter) CHECK(c.rpis_derived == 2 * 144);
    }
}

TEST_CASE("Keys whose RPIs were not heard produce nothing", "[core][matcher]") {
    auto index = SightingIndex::build(with_noise({}, 2000), 3);
    std::vector<DiagnosisKey> keys;
    for (int i = 0; i < 200; ++i) keys.push_back(make_key(100 + static_cast<std::uint64_t>(i)));
    CHECK(run_all(index, keys, {.prefilter = false}).empty());
    CHECK(run_all(index, keys).empty());
}

TEST_CASE("The prefilter skips keys with no sighting in reach", "[core][matcher]") {
    const auto key = make_key(1);
    auto index = SightingIndex::build({noise(9, kDay + 143 + 6 + 1)}, 1);  // just out of reach
    MatchCounters c;
    CHECK(run(index, {key}, {}, &c).empty());
    CHECK(c.keys_skipped == 1);
    CHECK(c.rpis_derived == 0);
    auto index2 =
        SightingIndex::build({noise(9, kDay + 143 + 6)}, 1);  // the last interval in reach
    CHECK(run(index2, {key}, {}, &c).empty());
    CHECK(c.keys_checked == 1);
    CHECK(c.rpis_derived == 1);
}

TEST_CASE("Sightings far from their RPI's interval are suspect", "[core][matcher]") {
    const auto key = make_key(1);
    const IntervalNumber j = kDay + 70;
    for (std::uint32_t tol : {6u, 12u}) {
        CAPTURE(tol);
        auto index = SightingIndex::build(
            {heard(key, j, j + tol), heard(key, j + 1, j + 1 + tol + 1),
             heard(key, j + 2, j + 2 - tol), heard(key, j + 3, j + 3 - tol - 1)},
            5);
        auto hits = run(index, {key}, {.tolerance_intervals = tol, .prefilter = false});
        REQUIRE(hits.size() == 4);
        std::sort(hits.begin(), hits.end(),
                  [](auto& a, auto& b) { return a.rpi_interval < b.rpi_interval; });
        CHECK(hits[0].status == MatchStatus::kValid);
        CHECK(hits[1].status == MatchStatus::kSuspect);
        CHECK(std::string(hits[1].reason) == "heard too far from the RPI's interval");
        CHECK(hits[2].status == MatchStatus::kValid);
        CHECK(hits[3].status == MatchStatus::kSuspect);
    }
}

TEST_CASE("A beacon replayed hours later is suspect, the genuine sighting stays valid",
          "[core][matcher]") {
    const auto key = make_key(1);
    const IntervalNumber j = kDay + 50;
    auto index = SightingIndex::build({heard(key, j, j), heard(key, j, j + 30)}, 5);  // +5 h
    for (bool prefilter : {true, false}) {
        auto hits = run(index, {key}, {.prefilter = prefilter});
        REQUIRE(hits.size() == 2);
        CHECK(hits[0].status == MatchStatus::kValid);
        CHECK(hits[1].status == MatchStatus::kSuspect);
        CHECK(std::string(hits[1].reason) == "heard too far from the RPI's interval");
    }
    // Alone, a far replay is found by full derivation only.
    auto alone = SightingIndex::build({heard(key, j, j + 30)}, 5);
    auto full = run(alone, {key}, {.prefilter = false});
    REQUIRE(full.size() == 1);
    CHECK(full[0].status == MatchStatus::kSuspect);
    CHECK(run(alone, {key}).empty());
}

TEST_CASE("An RPI heard again 20 minutes after its first sighting is a replay", "[core][matcher]") {
    const auto key = make_key(1);
    const IntervalNumber j = kDay + 80;
    // First heard at j (+60 s); again in the interval j+2 at +0 s: 19 minutes later: fine.
    auto ok_index = SightingIndex::build({heard(key, j, j), heard(key, j, j + 2, 0)}, 1);
    for (const auto& h : run(ok_index, {key})) CHECK(h.status == MatchStatus::kValid);
    // Again at j+3 (29 minutes later), within the tolerance but past the replay window.
    auto index = SightingIndex::build({heard(key, j, j), heard(key, j, j + 3)}, 1);
    auto hits = run(index, {key});
    REQUIRE(hits.size() == 2);
    CHECK(hits[0].status == MatchStatus::kValid);
    CHECK(hits[1].status == MatchStatus::kSuspect);
    CHECK(std::string(hits[1].reason) == "heard again too long after its first sighting");
}

TEST_CASE("Tampered AEMs are suspect and disagreeing AEMs are disputed", "[core][matcher]") {
    const auto key = make_key(1);
    const IntervalNumber j = kDay + 90;
    SECTION("a flipped reserved bit") {
        Sighting s = heard(key, j, j);
        s.aem.bytes[3] ^= 0x01;  // AES-CTR: flips the reserved metadata byte
        auto hits = run(SightingIndex::build({s}, 1), {key});
        REQUIRE(hits.size() == 1);
        CHECK(hits[0].status == MatchStatus::kSuspect);
        CHECK(std::string(hits[0].reason) == "metadata not well-formed");
    }
    SECTION("a TX power pushed out of range") {
        Sighting s = heard(key, j, j);
        s.aem.bytes[1] ^= 0x80;  // +1 dBm -> -127 dBm
        auto hits = run(SightingIndex::build({s}, 1), {key});
        REQUIRE(hits.size() == 1);
        CHECK(hits[0].status == MatchStatus::kSuspect);
    }
    SECTION("two well-formed AEMs for one RPI: both stay valid, each with its metadata, disputed") {
        Sighting a = heard(key, j, j);
        const Metadata other{1, 5, CalibrationConfidence::kHigh};
        Sighting b = heard(key, j, j + 1, 60, other);  // still well-formed
        auto hits = run(SightingIndex::build({b, a}, 1), {key});
        REQUIRE(hits.size() == 2);
        CHECK(hits[0].status == MatchStatus::kValid);
        CHECK(hits[0].metadata == encode_metadata(kMeta));
        CHECK(hits[1].status == MatchStatus::kValid);
        CHECK(hits[1].metadata == encode_metadata(other));
        CHECK(hits[0].metadata_disputed);
        CHECK(hits[1].metadata_disputed);
        // The same order of hearing the other way round: still both valid.
        Sighting c = heard(key, j, j, 0, other);
        Sighting d = heard(key, j, j + 1);
        auto swapped = run(SightingIndex::build({c, d}, 1), {key});
        REQUIRE(swapped.size() == 2);
        CHECK(swapped[0].status == MatchStatus::kValid);
        CHECK(swapped[1].status == MatchStatus::kValid);
    }
    SECTION("one AEM only: not disputed") {
        auto hits = run(SightingIndex::build({heard(key, j, j), heard(key, j, j + 1)}, 1), {key});
        REQUIRE(hits.size() == 2);
        CHECK_FALSE(hits[0].metadata_disputed);
        CHECK_FALSE(hits[1].metadata_disputed);
    }
    SECTION("a forged copy far away does not take the genuine sighting down") {
        Sighting genuine = heard(key, j, j);
        Sighting forged = heard(key, j, j + 540);  // 90 hours later...
        forged.aem.bytes[3] ^= 0x01;               // ...with a tampered AEM
        for (bool prefilter : {true, false}) {
            auto hits =
                run(SightingIndex::build({forged, genuine}, 1), {key}, {.prefilter = prefilter});
            REQUIRE_FALSE(hits.empty());
            CHECK(hits[0].status == MatchStatus::kValid);
            CHECK(hits[0].metadata == encode_metadata(kMeta));
            if (!prefilter) {
                REQUIRE(hits.size() == 2);
                CHECK(hits[1].status == MatchStatus::kSuspect);
            }
        }
    }
    SECTION("a row that knows of AEMs it did not keep is disputed, not suspect") {
        Sighting a = heard(key, j, j);
        a.aem_conflict = true;
        auto hits = run(SightingIndex::build({a}, 1), {key});
        REQUIRE(hits.size() == 1);
        CHECK(hits[0].status == MatchStatus::kValid);
        CHECK(hits[0].metadata_disputed);
    }
}

TEST_CASE("RPIs past a short key's period are suspect", "[core][matcher]") {
    const auto key = make_key(1, kDay + 10, 100);  // valid for [kDay+10, kDay+110)
    auto index = SightingIndex::build(
        {heard(key, kDay + 109, kDay + 109), heard(key, kDay + 110, kDay + 110)}, 1);
    auto hits = run(index, {key});
    REQUIRE(hits.size() == 2);
    CHECK(hits[0].status == MatchStatus::kValid);
    CHECK(hits[1].status == MatchStatus::kSuspect);
    CHECK(std::string(hits[1].reason) == "RPI of an interval outside the key's validity");
}

TEST_CASE("Prefiltered and full matching agree on valid exposures", "[core][matcher]") {
    std::vector<DiagnosisKey> keys;
    std::vector<Sighting> sightings;
    for (int i = 0; i < 50; ++i) {
        keys.push_back(make_key(500 + static_cast<std::uint64_t>(i),
                                kDay + 144 * static_cast<IntervalNumber>(i % 3)));
        if (i % 5 == 0) {
            const IntervalNumber j =
                keys.back().exposure_key.rolling_start + static_cast<IntervalNumber>(i % 144);
            sightings.push_back(heard(keys.back(), j, j + static_cast<IntervalNumber>(i % 4)));
        }
    }
    auto index = SightingIndex::build(with_noise(sightings, 3000), 11);
    auto valid = [](std::vector<MatchedSighting> v) {
        std::erase_if(v, [](auto& m) { return m.status != MatchStatus::kValid; });
        return v.size();
    };
    const auto a = run_all(index, keys, {.prefilter = true});
    const auto b = run_all(index, keys, {.prefilter = false});
    CHECK(valid(a) == 10);
    CHECK(valid(b) == 10);
}

TEST_CASE("A batch skips and counts keys with an impossible rolling period", "[core][matcher]") {
    const auto good = make_key(1);
    auto index = SightingIndex::build({heard(good, kDay + 5, kDay + 5)}, 1);
    auto m = KeyMatcher::create(index, {});
    REQUIRE(m);
    std::vector<DiagnosisKey> keys;
    keys.push_back(make_key(2, kDay, 0));
    keys.push_back(good.clone());
    keys.push_back(make_key(3, kDay, 145));
    std::vector<MatchedSighting> out;
    REQUIRE(m->match_batch(keys, 10, out));
    REQUIRE(out.size() == 1);
    CHECK(out[0].key_index == 11);
    CHECK(m->counters().keys_invalid == 2);
    CHECK(m->counters().keys_checked == 1);
}

TEST_CASE("Matcher options out of range are refused", "[core][matcher]") {
    auto index = SightingIndex::build({}, 1);
    CHECK(KeyMatcher::create(index, {.tolerance_intervals = 144}).has_value());
    CHECK(KeyMatcher::create(index, {.tolerance_intervals = 145}).error().code ==
          sotto::ErrorCode::kInvalidArgument);
    CHECK_FALSE(KeyMatcher::create(
        index, {.tolerance_intervals = 6, .prefilter = true, .replay_window_seconds = -1}));
}

TEST_CASE("Keys with an impossible rolling period are refused", "[core][matcher]") {
    auto index = SightingIndex::build({}, 1);
    auto m = KeyMatcher::create(index, {});
    REQUIRE(m);
    std::vector<MatchedSighting> out;
    CHECK(m->match(make_key(1, kDay, 0), 0, out).error().code ==
          sotto::ErrorCode::kInvalidArgument);
    CHECK(m->match(make_key(1, kDay, 145), 0, out).error().code ==
          sotto::ErrorCode::kInvalidArgument);
    CHECK(m->match(make_key(1, kDay, 144), 0, out));
}

TEST_CASE("A key at the end of the interval range is matched without overflow", "[core][matcher]") {
    const IntervalNumber last_day = 4294967295u - 100;
    const auto key = make_key(3, last_day, 144);
    auto index = SightingIndex::build({noise(1, last_day + 50)}, 1);
    MatchCounters c;
    CHECK(run(index, {key}, {.prefilter = false}, &c).empty());
    CHECK(c.rpis_derived == 101);
}

TEST_CASE("SightingIndex finds every stored RPI and nothing else", "[core][matcher]") {
    std::vector<Sighting> s;
    for (int i = 0; i < 5000; ++i)
        s.push_back(
            noise(static_cast<std::uint64_t>(i), kDay + static_cast<IntervalNumber>(i % 100)));
    s.push_back(s[17]);  // a second row for one RPI
    s.back().interval += 1;
    auto index = SightingIndex::build(s, 99);
    CHECK(index.rpi_count() == 5000);
    for (int i = 0; i < 5000; ++i)
        REQUIRE(index.find(s[static_cast<std::size_t>(i)].rpi).size() == (i == 17 ? 2u : 1u));
    for (int i = 0; i < 5000; ++i)
        CHECK(index.find(noise(100000 + static_cast<std::uint64_t>(i), kDay).rpi).empty());
    CHECK(index.any_sighting_in(kDay, kDay));
    CHECK(index.any_sighting_in(kDay + 99, kDay + 200));
    CHECK_FALSE(index.any_sighting_in(kDay + 100, kDay + 200));
}

TEST_CASE("The filter's patterns and scalar pass", "[core][matcher]") {
    namespace d = sotto::core::detail;
    for (std::size_t t = 0; t < 2; ++t)
        for (std::uint64_t p : d::kFilterPatterns[t])
            REQUIRE(std::popcount(p) ==
                    (t == 0 ? d::kFilterBitsLow : d::kFilterBits - d::kFilterBitsLow));
    // The second byte picks the second pattern: 65,536 combinations, not 256.
    CHECK(d::filter_bits(0x0100) != d::filter_bits(0x0000));
    CHECK(d::filter_bits(0x0001) != d::filter_bits(0x0000));
    CHECK(d::filter_bits(0xff00'0000'0000'0000ULL) == d::filter_bits(0));  // word bits: not used
    DeterministicRng rng(77);
    for (unsigned words_log2 : {1u, 6u, 12u}) {
        std::vector<std::uint64_t> filter(std::size_t{1} << words_log2);
        const unsigned shift = 64 - words_log2;
        for (int round = 0; round < 50; ++round) {
            // Dense filters, so that many RPIs pass and the order of the output is exercised.
            rng.fill(std::span(reinterpret_cast<std::uint8_t*>(filter.data()), filter.size() * 8));
            for (auto& w : filter) w |= round % 2 == 0 ? w << 1 : 0;
            std::vector<RollingProximityId> rpis(1 + static_cast<std::size_t>(round) * 575 / 49);
            for (auto& r : rpis) rng.fill(r.bytes);
            std::vector<std::uint16_t> got(rpis.size());
            const std::size_t n = d::filter_candidates_scalar(filter.data(), shift, rpis.data(),
                                                              rpis.size(), got.data());
            std::size_t c = 0;  // the definition, RPI by RPI
            for (std::size_t i = 0; i < rpis.size(); ++i) {
                const std::uint64_t w = d::load64(rpis[i].bytes.data());
                const std::uint64_t bits = d::filter_bits(w);
                if ((filter[w >> shift] & bits) != bits) continue;
                REQUIRE(c < n);
                CHECK(got[c++] == i);
            }
            CHECK(c == n);
        }
    }
}

TEST_CASE("The filter stays small and passes few absent RPIs", "[core][matcher]") {
    namespace d = sotto::core::detail;
    CHECK(d::filter_words(0) == 64);
    CHECK(d::filter_words(20000) == 8192);              // 64 KB
    CHECK(d::filter_words(100000) == 32768);            // 256 KB: fits a 512 KB L2
    CHECK(d::filter_words(100000000) == 1u << 20);      // the cap, 8 MB
    for (std::size_t n : {20000u, 100000u, 131072u}) {  // 2.4, 3.05 and 4 RPIs per word
        const std::size_t words = d::filter_words(n);
        const auto shift = static_cast<unsigned>(64 - std::countr_zero(words));
        std::vector<std::uint64_t> filter(words);
        DeterministicRng rng(n);
        std::vector<std::uint64_t> stored(n);
        rng.fill(std::span(reinterpret_cast<std::uint8_t*>(stored.data()), n * 8));
        for (std::uint64_t w : stored) filter[w >> shift] |= d::filter_bits(w);
        for (std::uint64_t w : stored) REQUIRE(d::filter_passes(filter.data(), shift, w));
        std::vector<std::uint64_t> absent(200000);
        rng.fill(std::span(reinterpret_cast<std::uint8_t*>(absent.data()), absent.size() * 8));
        std::size_t passed = 0;
        for (std::uint64_t w : absent) passed += d::filter_passes(filter.data(), shift, w);
        const double rate = static_cast<double>(passed) / static_cast<double>(absent.size());
        CAPTURE(n, words, rate);
        CHECK(rate > 0.0);
        CHECK(rate < (n <= 100000 ? 0.004 : 0.008));
    }
}

TEST_CASE("The table compares whole RPIs behind its fingerprints", "[core][matcher]") {
    // Stored RPIs and probes that agree with them on the first 12 bytes (same filter word, same
    // bits, same table fingerprint) or on all but byte 8 (the fingerprint): none may be found.
    std::vector<Sighting> s;
    for (int i = 0; i < 3000; ++i) s.push_back(noise(static_cast<std::uint64_t>(i), kDay));
    auto index = SightingIndex::build(s, 11);
    for (int i = 0; i < 3000; ++i) {
        const RollingProximityId& stored = s[static_cast<std::size_t>(i)].rpi;
        REQUIRE(index.find(stored).size() == 1);
        for (std::size_t byte : {8u, 12u, 15u}) {
            RollingProximityId near = stored;
            near.bytes[byte] ^= 0x01;
            CAPTURE(i, byte);
            REQUIRE(index.find(near).empty());
        }
    }
}
