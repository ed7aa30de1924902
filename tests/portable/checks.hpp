#pragma once
// Checks of the portable backend that run both on the host (tests/unit/portable) and on the token
// under QEMU (platform/mcu): no Catch2, no heap, no I/O. Each returns the number of failures.

#include <cstddef>
#include <cstdint>

namespace sotto::test::portable {

/// One known answer: the inputs and OpenSSL's output for them.
struct Kat {
    enum Kind : std::uint8_t { kAesEcb, kAesCtr, kSha256, kHmac, kHkdf } kind;
    const std::uint8_t* key;  ///< AES key (16), HMAC key, HKDF IKM; unused for SHA-256
    std::uint16_t key_len;
    const std::uint8_t* in;  ///< plaintext, message; HKDF salt
    std::uint16_t in_len;
    const std::uint8_t* aux;  ///< CTR IV (16); HKDF info
    std::uint16_t aux_len;
    const std::uint8_t* expected;  ///< OpenSSL's output
    std::uint16_t out_len;
};

/// Runs each case through sotto::portable and compares with `expected`. The longest output a
/// case may have is 256 bytes (longer ones count as failures).
int check_kats(const Kat* cases, std::size_t n) noexcept;

/// The EN Crypto Spec test vectors: one TEK, its RPIK/AEMK, metadata and 144 (ENIN, RPI, AEM).
struct GaenRow {
    std::uint32_t enin;
    std::uint8_t rpi[16];
    std::uint8_t aem[4];
};
struct GaenVectors {
    std::uint8_t tek[16];
    std::uint8_t rpik[16];
    std::uint8_t aemk[16];
    std::uint8_t metadata[4];
    const GaenRow* rows;
    std::size_t n;
};

/// Checks lib/core's key derivation, RPIs (the batch and the one-off calls), AEMs, beacons and the
/// BLE payload against the vectors, plus negative neighbours (a flipped TEK bit, a flipped AEM
/// bit). Returns the number of failed checks.
int check_gaen(const GaenVectors& v) noexcept;

}  // namespace sotto::test::portable
