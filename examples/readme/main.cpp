// The README's example, built and run by ctest so that it stays true.
#include <sotto/core/keys.hpp>
#include <sotto/core/payload.hpp>
#include <sotto/core/rolling_id.hpp>

using namespace sotto::core;

int main() {
    auto rng = SystemRng::create();  // libsodium randombytes
    if (!rng) return 1;
    const IntervalNumber now = *interval_number(1795392000);  // ENIN of a Unix time
    ExposureKey key = generate_tek(*rng, now);  // today's TEK, rolling start at midnight
    Metadata md{.minor_version = 1,
                .tx_power_dbm = -12,
                .calibration_confidence = CalibrationConfidence::kMedium};
    auto beacon = make_beacon(key, now, md);  // RPI + AEM for this interval
    if (!beacon) return 1;
    AdvertisingData adv = encode_advertising_data(*beacon, AdvertisingForm::kWithFlags);
    // ... the radio sends adv.view() (31 bytes); a receiver gets it back:
    auto heard = decode_advertising_data(adv.view());  // strict: refuses anything else
    if (!heard) return 2;                              // heard.error().what says why
    auto plain = decrypt_aem(derive_aemk(key.tek), heard->rpi, heard->aem);
    return plain && decode_metadata(*plain)->tx_power_dbm == -12 ? 0 : 3;
}
