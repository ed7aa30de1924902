#include <sotto/sotto.h>
#include <sotto/bytes.hpp>
#include <sotto/core/keys.hpp>
#include <sotto/core/rolling_id.hpp>
#include <sotto/fetch/index.hpp>
#include <sotto/keyfile/trust_store.hpp>
#include <sotto/match/engine.hpp>
#include <sotto/tracer.hpp>
#include <sotto/version.hpp>

#include <cstring>

int main() {
    using namespace sotto::core;
    auto tek = TemporaryExposureKey::from_hex("75c734c6dd1a782de7a965da5eb93125");
    if (!tek) return 1;
    auto rpi = derive_rpi(derive_rpik(*tek), 2642976);
    auto engine = sotto::match::MatchEngine::create({}, {});
    sotto::keyfile::TrustStore trust;
    if (trust.add_pem_any_id("not a key")) return 3;               // refused, and linked
    if (sotto::fetch::is_valid_export_path("../x.zip")) return 6;  // sotto::fetch links
    // The facade links (a missing store directory is refused), and the C ABI is the same release.
    sotto::ManualClock clock(0);
    auto tracer =
        sotto::Tracer::open("/nonexistent-dir/x.db", sotto::store::Credential::raw_key({}), clock);
    if (tracer) return 4;
    if (std::strcmp(sotto_version(), sotto::version_string()) != 0) return 5;
    return rpi && engine && sotto::to_hex(rpi->bytes) == "8be6cd371c5c891604bfbe49df845096" ? 0 : 2;
}
