#include <sotto/bytes.hpp>
#include <sotto/core/keys.hpp>
#include <sotto/core/rolling_id.hpp>
#include <sotto/fetch/index.hpp>
#include <sotto/keyfile/trust_store.hpp>
#include <sotto/match/engine.hpp>

int main() {
    using namespace sotto::core;
    auto tek = TemporaryExposureKey::from_hex("75c734c6dd1a782de7a965da5eb93125");
    if (!tek) return 1;
    auto rpi = derive_rpi(derive_rpik(*tek), 2642976);
    auto engine = sotto::match::MatchEngine::create({}, {});
    sotto::keyfile::TrustStore trust;
    if (trust.add_pem_any_id("not a key")) return 3;  // refused, and linked
    if (sotto::fetch::is_valid_export_path("../x.zip")) return 4;  // sotto::fetch links
    return rpi && engine && sotto::to_hex(rpi->bytes) == "8be6cd371c5c891604bfbe49df845096" ? 0 : 2;
}
