// Links sotto::core alone: the EN Crypto Spec v1.2 test vector.
#include <sotto/bytes.hpp>
#include <sotto/core/keys.hpp>
#include <sotto/core/rolling_id.hpp>

int main() {
    using namespace sotto::core;
    auto tek = TemporaryExposureKey::from_hex("75c734c6dd1a782de7a965da5eb93125");
    if (!tek) return 1;
    auto rpi = derive_rpi(derive_rpik(*tek), 2642976);
    return rpi && sotto::to_hex(rpi->bytes) == "8be6cd371c5c891604bfbe49df845096" ? 0 : 2;
}
