// A device (a real store, a Tracer, a manual clock) and a health authority with one positive key
// (TRL 6, confirmed test, DSOS 2) and a signing key the device trusts: the common ground of the
// Tracer tests that attack matching with real signed key files.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

#include <catch2/catch.hpp>

#include <sotto/clock.hpp>
#include <sotto/core/keys.hpp>
#include <sotto/core/rng.hpp>
#include <sotto/core/rolling_id.hpp>
#include <sotto/tracer.hpp>

#include "integration/keyfile/keyfile_test_support.hpp"
#include "support.hpp"

namespace sotto::test {

struct AuthorityScene {
    static constexpr core::Metadata kGenuineMetadata{1, -5, core::CalibrationConfidence::kHigh};

    TempDir dir;
    ManualClock clock;
    std::optional<Tracer> tracer;
    core::DeterministicRng rng;
    core::DiagnosisKey key;
    keyfile::TestKeyPair authority = keyfile::generate_p256();
    sotto::keyfile::TrustStore trust;

    /// The key is drawn from `seed` and valid all of `day` (its first interval).
    AuthorityScene(std::uint64_t seed, core::IntervalNumber day)
        : rng(seed), key{core::generate_tek(rng, day), 6, core::ReportType::kConfirmedTest, 2} {
        REQUIRE(trust.add_pem("999", "v1", authority.public_pem));
    }

    /// The device's Tracer at `now` (opened once; its clock then moves to `now`).
    Tracer& at(std::int64_t now) {
        clock.set_ms(now * 1000);
        if (!tracer) {
            store::StoreKey k;
            k.expose_secret_mut()[0] = 7;
            TracerOptions o;
            o.trust = trust;
            auto t = Tracer::open(dir / "enc.db", store::Credential::raw_key(std::move(k)), clock,
                                  std::move(o));
            REQUIRE(t);
            tracer.emplace(std::move(*t));
        }
        return *tracer;
    }

    /// The key's beacon for interval `j`, with `md` as its metadata.
    core::Beacon beacon(core::IntervalNumber j, const core::Metadata& md = kGenuineMetadata) const {
        auto b = core::make_beacon(key.exposure_key, j, md);
        REQUIRE(b);
        return *b;
    }
};

}  // namespace sotto::test
