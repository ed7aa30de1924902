#include "checks.hpp"

#include <cstring>

#include <sotto/core/keys.hpp>
#include <sotto/core/payload.hpp>
#include <sotto/core/portable_crypto.hpp>
#include <sotto/core/rolling_id.hpp>

namespace sotto::test::portable {

namespace sp = sotto::portable;
using namespace sotto::core;

int check_kats(const Kat* cases, std::size_t n) noexcept {
    int failures = 0;
    static std::uint8_t out[256];
    for (std::size_t i = 0; i < n; ++i) {
        const Kat& c = cases[i];
        if (c.out_len > sizeof out) {
            ++failures;
            continue;
        }
        std::memset(out, 0xa5, sizeof out);
        const std::span<const std::uint8_t> key(c.key, c.key_len), in(c.in, c.in_len),
            aux(c.aux, c.aux_len);
        bool ran = true;
        switch (c.kind) {
            case Kat::kAesEcb: {
                if (c.key_len != 16 || c.in_len % 16 != 0 || c.out_len != c.in_len) {
                    ran = false;
                    break;
                }
                const sp::Aes128 aes(std::span<const std::uint8_t, 16>(c.key, 16));
                aes.encrypt_blocks(c.in, out, c.in_len / 16);
                break;
            }
            case Kat::kAesCtr: {
                if (c.key_len != 16 || c.aux_len != 16 || c.out_len != c.in_len) {
                    ran = false;
                    break;
                }
                const sp::Aes128 aes(std::span<const std::uint8_t, 16>(c.key, 16));
                aes.ctr(std::span<const std::uint8_t, 16>(c.aux, 16), c.in, out, c.in_len);
                break;
            }
            case Kat::kSha256:
                ran = c.out_len == 32;
                if (ran) sp::sha256(in, std::span<std::uint8_t, 32>(out, 32));
                break;
            case Kat::kHmac:
                ran = c.out_len == 32;
                if (ran) sp::hmac_sha256(key, in, std::span<std::uint8_t, 32>(out, 32));
                break;
            case Kat::kHkdf:
                ran = sp::hkdf_sha256(key, in, aux, std::span<std::uint8_t>(out, c.out_len));
                break;
            default:
                ran = false;
        }
        // An empty expected output may be a null pointer: memcmp must not see it.
        if (!ran || (c.out_len != 0 && std::memcmp(out, c.expected, c.out_len) != 0)) ++failures;
    }
    return failures;
}

namespace {

bool same(const void* a, const void* b, std::size_t n) { return std::memcmp(a, b, n) == 0; }

}  // namespace

int check_gaen(const GaenVectors& v) noexcept {
    int failures = 0;
    auto expect = [&failures](bool ok) {
        if (!ok) ++failures;
    };
    if (v.n == 0 || v.n > kTekRollingPeriod) return 1;
    const auto tek = TemporaryExposureKey::from(std::span<const std::uint8_t, 16>(v.tek, 16));
    const auto rpik = derive_rpik(tek);
    const auto aemk = derive_aemk(tek);
    expect(same(rpik.expose_secret().data(), v.rpik, 16));
    expect(same(aemk.expose_secret().data(), v.aemk, 16));

    // The day's RPIs in one call (the token's daily batch).
    static RollingProximityId rpis[kTekRollingPeriod];
    expect(static_cast<bool>(derive_rpis(tek, v.rows[0].enin, std::span(rpis, v.n))));
    MetadataBytes md;
    std::memcpy(md.data(), v.metadata, 4);
    auto decoded = decode_metadata(md);
    expect(static_cast<bool>(decoded));
    ExposureKey key{tek.clone(), day_start_interval(v.rows[0].enin), kTekRollingPeriod};
    for (std::size_t i = 0; i < v.n; ++i) {
        const GaenRow& row = v.rows[i];
        expect(row.enin == v.rows[0].enin + i);
        expect(same(rpis[i].bytes.data(), row.rpi, 16));
        auto one = derive_rpi(rpik, row.enin);
        expect(one && same(one->bytes.data(), row.rpi, 16));
        auto aem = encrypt_aem(aemk, rpis[i], md);
        expect(aem && same(aem->bytes.data(), row.aem, 4));
        if (decoded) {
            auto beacon = make_beacon(key, row.enin, *decoded);
            expect(beacon && same(beacon->rpi.bytes.data(), row.rpi, 16) &&
                   same(beacon->aem.bytes.data(), row.aem, 4));
            if (beacon) {  // the 20-byte payload, over the air and back
                const ServiceData sd = encode_service_data(*beacon);
                expect(same(sd.data(), row.rpi, 16) && same(sd.data() + 16, row.aem, 4));
                const AdvertisingData adv =
                    encode_advertising_data(*beacon, AdvertisingForm::kWithFlags);
                auto heard = decode_advertising_data(adv.view());
                expect(heard && *heard == *beacon);
                auto plain = heard ? decrypt_aem(aemk, heard->rpi, heard->aem)
                                   : Result<MetadataBytes>(make_error(ErrorCode::kInternal, "x"));
                expect(plain && *plain == md);
            }
        }
    }
    // Negative neighbours: one TEK bit off changes the RPI; one AEM bit off changes the metadata.
    auto other = tek.clone();
    other.expose_secret_mut()[0] ^= 0x80;
    RollingProximityId wrong;
    expect(static_cast<bool>(derive_rpis(other, v.rows[0].enin, std::span(&wrong, 1))));
    expect(!same(wrong.bytes.data(), v.rows[0].rpi, 16));
    AssociatedEncryptedMetadata bad;
    std::memcpy(bad.bytes.data(), v.rows[0].aem, 4);
    bad.bytes[1] ^= 0x01;
    auto plain = decrypt_aem(aemk, rpis[0], bad);
    expect(plain && !(*plain == md));
    // Outside the key's day, no beacon.
    if (decoded) expect(!make_beacon(key, key.rolling_start + kTekRollingPeriod, *decoded));
    return failures;
}

}  // namespace sotto::test::portable
