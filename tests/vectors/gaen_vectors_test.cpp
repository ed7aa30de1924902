// Exposure Notification Cryptography Specification v1.2 test vectors.
// Source: google/exposure-notifications-internals TestVectors.java (as in ../shared/gaen-data).
#include <vector>

#include <catch2/catch.hpp>

#include <sotto/bytes.hpp>
#include <sotto/core/keys.hpp>
#include <sotto/core/rng.hpp>
#include <sotto/core/rolling_id.hpp>

#include "core/hkdf.hpp"
#include "core/matcher_kernel.hpp"
#include "support.hpp"

using namespace sotto::core;
using sotto::to_hex;

namespace {

// Literal copies so that a clone without ../shared still checks the spec.
constexpr const char* kTek = "75c734c6dd1a782de7a965da5eb93125";
constexpr const char* kRpik = "185ad91db69ec7dd048960f1f3ba6175";
constexpr const char* kAemk = "d57c46af7a1d83965b9bed8bd152936a";
constexpr IntervalNumber kStart = 2642976;
const MetadataBytes kMetadata = {0x40, 0x08, 0x00, 0x00};

struct Row {
    IntervalNumber enin;
    const char* rpi;
    const char* aem;
};
constexpr Row kRows[] = {
    {2642976, "8be6cd371c5c891604bfbe49df845096", "72033874"},
    {2642977, "3c9a1de5dd6b02afa7fded7b570b3e56", "c29211b1"},
    {2642978, "243ffe9a3b08bded3094bac8630bb8ad", "6adfad03"},
    {2642983, "9888ca7e6738ec4bc6e420b20f878b3a", "9f84a9a6"},
    {2643119, "f431b62ecf443102ce4ed0407de54bd4", "1215e57e"},
};

TemporaryExposureKey tek_of(const std::string& h) {
    auto k = TemporaryExposureKey::from_hex(h);
    REQUIRE(k);
    return std::move(*k);
}

std::string rpi_hex(const TemporaryExposureKey& tek, IntervalNumber enin) {
    auto d = RpiDeriver::create();
    REQUIRE(d);
    RollingProximityId rpi;
    REQUIRE(d->derive(tek, enin, std::span(&rpi, 1)));
    return to_hex(rpi.bytes);
}

std::string aem_hex(const TemporaryExposureKey& tek, const std::string& rpi,
                    const MetadataBytes& md) {
    RollingProximityId r;
    REQUIRE(sotto::from_hex_into(rpi, r.bytes));
    auto aem = encrypt_aem(derive_aemk(tek), r, md);
    REQUIRE(aem);
    return to_hex(aem->bytes);
}

}  // namespace

TEST_CASE("TEK derives the spec's RPIK and AEMK", "[core][vectors]") {
    const auto tek = tek_of(kTek);
    CHECK(to_hex(derive_rpik(tek).expose_secret()) == kRpik);
    CHECK(to_hex(derive_aemk(tek).expose_secret()) == kAemk);
    // Negative neighbour: one bit off in the TEK changes both.
    auto other = tek.clone();
    other.expose_secret_mut()[15] ^= 0x01;
    CHECK(to_hex(derive_rpik(other).expose_secret()) != kRpik);
    CHECK(to_hex(derive_aemk(other).expose_secret()) != kAemk);
}

TEST_CASE("PaddedData is EN-RPI, six zeros, ENIN little-endian", "[core][vectors]") {
    CHECK(to_hex(padded_data(2642976)) == "454e2d52504900000000000020542800");
    CHECK(to_hex(padded_data(2643119)) == "454e2d525049000000000000af542800");
}

TEST_CASE("Literal spec vectors: RPI and AEM", "[core][vectors]") {
    const auto tek = tek_of(kTek);
    for (const Row& row : kRows) {
        CAPTURE(row.enin);
        CHECK(rpi_hex(tek, row.enin) == row.rpi);
        CHECK(aem_hex(tek, row.rpi, kMetadata) == row.aem);
        // Negative neighbours: the next interval gives another RPI; other metadata another AEM.
        CHECK(rpi_hex(tek, row.enin + 1) != row.rpi);
        CHECK(aem_hex(tek, row.rpi, {0x40, 0x09, 0, 0}) != row.aem);
    }
}

TEST_CASE("AEM decrypts back to the metadata, and only under the right key", "[core][vectors]") {
    const auto tek = tek_of(kTek);
    RollingProximityId rpi;
    AssociatedEncryptedMetadata aem;
    REQUIRE(sotto::from_hex_into(kRows[0].rpi, rpi.bytes));
    REQUIRE(sotto::from_hex_into(kRows[0].aem, aem.bytes));
    auto md = decrypt_aem(derive_aemk(tek), rpi, aem);
    REQUIRE(md);
    CHECK(*md == kMetadata);
    CHECK(validate_metadata(*md));

    auto wrong = tek.clone();
    wrong.expose_secret_mut()[0] ^= 0x80;
    auto md2 = decrypt_aem(derive_aemk(wrong), rpi, aem);
    REQUIRE(md2);
    CHECK(*md2 != kMetadata);
    // AES-CTR is malleable: a flipped AEM bit flips the same metadata bit.
    aem.bytes[1] ^= 0x04;
    auto md3 = decrypt_aem(derive_aemk(tek), rpi, aem);
    REQUIRE(md3);
    CHECK((*md3)[1] == (0x08 ^ 0x04));
}

TEST_CASE("make_beacon gives the spec beacon and refuses intervals outside the key",
          "[core][vectors]") {
    ExposureKey key{tek_of(kTek), kStart, 144};
    auto b = make_beacon(key, 2642977, {0, 8, CalibrationConfidence::kLowest});
    REQUIRE(b);
    CHECK(to_hex(b->rpi.bytes) == kRows[1].rpi);
    CHECK(to_hex(b->aem.bytes) == kRows[1].aem);
    CHECK(make_beacon(key, kStart - 1, {}).error().code == sotto::ErrorCode::kOutOfRange);
    CHECK(make_beacon(key, kStart + 144, {}).error().code == sotto::ErrorCode::kOutOfRange);
}

TEST_CASE("All 144 official vectors (CSV in ../shared/gaen-data)", "[core][vectors][data]") {
    const auto rows = sotto::test::parse_csv(
        sotto::test::read_text(sotto::test::gaen_data("crypto/gaen_test_vectors_v1.2.csv")));
    REQUIRE(rows.size() == 145);  // header + 144
    REQUIRE(rows[0][0] == "enin");
    const auto tek = tek_of(kTek);
    auto d = RpiDeriver::create();
    REQUIRE(d);
    std::vector<RollingProximityId> batch(144);
    REQUIRE(d->derive(tek, kStart, batch));
    // The same through derive_at in reverse order, to check the interval bookkeeping.
    std::vector<IntervalNumber> reversed(144);
    for (std::size_t i = 0; i < 144; ++i)
        reversed[i] = kStart + 143 - static_cast<IntervalNumber>(i);
    std::vector<RollingProximityId> batch2(144);
    REQUIRE(d->derive_at(tek, reversed, batch2));
    const auto aemk = derive_aemk(tek);
    for (std::size_t i = 0; i < 144; ++i) {
        const auto& r = rows[i + 1];
        CAPTURE(r[0]);
        CHECK(std::stoul(r[0]) == kStart + i);
        CHECK(to_hex(padded_data(kStart + static_cast<IntervalNumber>(i))) == r[1]);
        CHECK(to_hex(batch[i].bytes) == r[2]);
        CHECK(to_hex(batch2[143 - i].bytes) == r[2]);
        auto aem = d->crypt_aem(aemk, batch[i], kMetadata);
        REQUIRE(aem);
        CHECK(to_hex(aem->bytes) == r[3]);
    }
    // Negative neighbour: the batch shifted by one interval matches no row at the same index.
    REQUIRE(d->derive(tek, kStart + 1, batch));
    for (std::size_t i = 0; i < 144; ++i) CHECK(to_hex(batch[i].bytes) != rows[i + 1][2]);
}

TEST_CASE("Real-phone vectors (extra_vectors.csv)", "[core][vectors][data]") {
    const auto rows = sotto::test::parse_csv(
        sotto::test::read_text(sotto::test::gaen_data("crypto/extra_vectors.csv")));
    REQUIRE(rows.size() >= 5);
    REQUIRE(rows[0][1] == "tek");
    for (std::size_t i = 1; i < rows.size(); ++i) {
        const auto& r = rows[i];
        CAPTURE(r[0], r[4]);
        const auto tek = tek_of(r[1]);
        CHECK(to_hex(derive_rpik(tek).expose_secret()) == r[2]);
        CHECK(to_hex(derive_aemk(tek).expose_secret()) == r[3]);
        const auto enin = static_cast<IntervalNumber>(std::stoul(r[4]));
        CHECK(to_hex(padded_data(enin)) == r[5]);
        CHECK(rpi_hex(tek, enin) == r[6]);
        MetadataBytes md{};
        REQUIRE(sotto::from_hex_into(r[8], md));
        CHECK(aem_hex(tek, r[6], md) == r[7]);
        auto decoded = decode_metadata(md);
        REQUIRE(decoded);
        CHECK(decoded->tx_power_dbm == std::stoi(r[9]));
        // Negative neighbour: the wrong TEK.
        auto wrong = tek.clone();
        wrong.expose_secret_mut()[7] ^= 0x10;
        CHECK(rpi_hex(wrong, enin) != r[6]);
    }
}

TEST_CASE("derive_rpi with the spec RPIK gives the spec RPI", "[core][vectors]") {
    // Literal RPIK path: derive_rpi with the spec RPIK.
    auto rpik = RollingProximityIdKey::from_hex(kRpik);
    REQUIRE(rpik);
    auto rpi = derive_rpi(*rpik, 2642978);
    REQUIRE(rpi);
    CHECK(to_hex(rpi->bytes) == kRows[2].rpi);
}

TEST_CASE("Paired RPIK derivation equals single derivation", "[core][vectors]") {
    const auto spec = tek_of(kTek);
    DeterministicRng rng(12);
    for (int i = 0; i < 500; ++i) {
        TemporaryExposureKey a, b;
        rng.fill(a.expose_secret_mut());
        rng.fill(b.expose_secret_mut());
        if (i == 0) a = spec.clone();
        RollingProximityIdKey ra, rb;
        derive_rpik_pair(a, b, ra, rb);
        REQUIRE(ra == derive_rpik(a));
        REQUIRE(rb == derive_rpik(b));
        REQUIRE_FALSE(ra == rb);
        if (i == 0) CHECK(to_hex(ra.expose_secret()) == kRpik);
    }
}

TEST_CASE("derive_range gives the spec RPIs of any sub-range of a key's day", "[core][vectors]") {
    const auto tek = tek_of(kTek);
    const auto rpik = derive_rpik(tek);
    auto d = RpiDeriver::create();
    REQUIRE(d);
    std::vector<RollingProximityId> all(144), part(40);
    REQUIRE(d->derive(tek, kStart, all));
    for (std::size_t offset : {0u, 1u, 100u, 104u}) {
        REQUIRE(d->derive_range(rpik, kStart, offset, part));
        for (std::size_t i = 0; i < part.size(); ++i) CHECK(part[i] == all[offset + i]);
    }
    CHECK(to_hex(all[143].bytes) == "f431b62ecf443102ce4ed0407de54bd4");
    // Negative neighbours: past the day, or past uint32.
    CHECK_FALSE(d->derive_range(rpik, kStart, 105, part));
    CHECK_FALSE(d->derive_range(rpik, 4294967295u - 10, 0, part));
}

TEST_CASE("The matcher's four-key HKDF and RPI kernel give all 144 official vectors",
          "[core][vectors][data]") {
    const auto rows = sotto::test::parse_csv(
        sotto::test::read_text(sotto::test::gaen_data("crypto/gaen_test_vectors_v1.2.csv")));
    REQUIRE(rows.size() == 145);
    const auto tek = tek_of(kTek);
    DeterministicRng rng(1442);
    TemporaryExposureKey other[3];
    for (auto& o : other) rng.fill(o.expose_secret_mut());
    // The spec TEK in lane 1, random keys around it.
    const std::uint8_t* lanes[4] = {other[0].expose_secret().data(), tek.expose_secret().data(),
                                    other[1].expose_secret().data(),
                                    other[2].expose_secret().data()};
    std::uint8_t rpik[4][16];
    sotto::core::detail::gaen_hkdf16_x4(lanes, sotto::core::detail::kInfoRpik, rpik);
    CHECK(to_hex(std::span<const std::uint8_t>(rpik[1], 16)) == kRpik);
    CHECK(to_hex(std::span<const std::uint8_t>(rpik[0], 16)) != kRpik);
    const auto kernel = sotto::core::detail::rpi_kernel();
    if (kernel == nullptr) {
        WARN("no RPI kernel on this CPU: the matcher derives through RpiDeriver (tested above)");
        return;
    }
    std::vector<std::uint8_t> blocks(144 * 16);
    for (std::size_t i = 0; i < 144; ++i) {
        const auto p = padded_data(kStart + static_cast<IntervalNumber>(i));
        std::copy(p.begin(), p.end(), blocks.begin() + static_cast<std::ptrdiff_t>(16 * i));
    }
    std::vector<std::uint64_t> filter(64);
    std::uint16_t candidates[144];
    sotto::core::detail::RpiRoundKeys round_keys[4];
    sotto::core::detail::expand_rpi_keys_x4(rpik, round_keys);
    for (std::size_t offset : {0u, 1u, 15u, 100u}) {
        std::vector<RollingProximityId> rpis(144 - offset);
        CHECK(kernel(round_keys[1], blocks.data() + 16 * offset, rpis.size(), rpis.data(),
                     filter.data(), 58, candidates, 0) == 0);  // an empty filter passes nothing
        for (std::size_t i = 0; i < rpis.size(); ++i) {
            CAPTURE(offset, i);
            REQUIRE(to_hex(rpis[i].bytes) == rows[offset + i + 1][2]);
        }
    }
    // Negative neighbour: another lane's RPIK gives none of the vectors.
    std::vector<RollingProximityId> wrong(144);
    kernel(round_keys[2], blocks.data(), 144, wrong.data(), filter.data(), 58, candidates, 0);
    for (std::size_t i = 0; i < 144; ++i) CHECK(to_hex(wrong[i].bytes) != rows[i + 1][2]);
}
