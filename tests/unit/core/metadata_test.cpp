#include <catch2/catch.hpp>

#include <sotto/core/metadata.hpp>

#include "support.hpp"

using namespace sotto::core;

TEST_CASE("Metadata v1.0 and v1.1 encode to the bytes seen in the field", "[core][metadata]") {
    // Official vectors: v1.0, +8 dBm.
    CHECK(encode_metadata({0, 8, CalibrationConfidence::kLowest}) ==
          MetadataBytes{0x40, 0x08, 0, 0});
    // v1.0 has no confidence bits: they stay zero even if set.
    CHECK(encode_metadata({0, 8, CalibrationConfidence::kHigh}) == MetadataBytes{0x40, 0x08, 0, 0});
    // Real iPhone (CWA, Feb 2021): v1.1, confidence 3, +1 dBm.
    CHECK(encode_metadata({1, 1, CalibrationConfidence::kHigh}) == MetadataBytes{0x5c, 0x01, 0, 0});
    // Real Android: -14 dBm.
    CHECK(encode_metadata({0, -14, CalibrationConfidence::kLowest}) ==
          MetadataBytes{0x40, 0xf2, 0, 0});
}

TEST_CASE("Metadata decodes version, TX power and confidence", "[core][metadata]") {
    auto m = decode_metadata({0x5c, 0x01, 0, 0});
    REQUIRE(m);
    CHECK(m->minor_version == 1);
    CHECK(m->tx_power_dbm == 1);
    CHECK(m->calibration_confidence == CalibrationConfidence::kHigh);

    auto a = decode_metadata({0x40, 0xe8, 0, 0});
    REQUIRE(a);
    CHECK(a->minor_version == 0);
    CHECK(a->tx_power_dbm == -24);
    CHECK(a->calibration_confidence == CalibrationConfidence::kLowest);

    // Unknown minor versions are read, as receivers should.
    CHECK(decode_metadata({0x70, 0x00, 0, 0}).has_value());
    // Major version other than 1 is refused.
    CHECK_FALSE(decode_metadata({0x80, 0x00, 0, 0}));
    CHECK_FALSE(decode_metadata({0x00, 0x00, 0, 0}));
}

TEST_CASE("validate_metadata accepts genuine forms only", "[core][metadata]") {
    CHECK(validate_metadata({0x40, 0x08, 0, 0}));
    CHECK(validate_metadata({0x5c, 0x01, 0, 0}));
    CHECK(validate_metadata({0x50, 0xec, 0, 0}));  // v1.1, lowest confidence, -20 dBm
    CHECK(validate_metadata({0x40, 20, 0, 0}));
    CHECK(validate_metadata({0x40, static_cast<std::uint8_t>(-100), 0, 0}));

    CHECK_FALSE(validate_metadata({0x41, 0x08, 0, 0}));  // reserved bits set
    CHECK_FALSE(validate_metadata({0x44, 0x08, 0, 0}));  // v1.0 with confidence bits
    CHECK_FALSE(validate_metadata({0x51, 0x08, 0, 0}));
    CHECK_FALSE(validate_metadata({0x60, 0x08, 0, 0}));  // unknown minor version
    CHECK_FALSE(validate_metadata({0xc0, 0x08, 0, 0}));  // major version 3
    CHECK_FALSE(validate_metadata({0x40, 0x08, 1, 0}));  // reserved byte
    CHECK_FALSE(validate_metadata({0x40, 0x08, 0, 0x80}));
    CHECK_FALSE(validate_metadata({0x40, 21, 0, 0}));  // above +20 dBm
    CHECK_FALSE(validate_metadata({0x40, static_cast<std::uint8_t>(-101), 0, 0}));
}

TEST_CASE("Metadata round-trips through encode and decode", "[core][metadata]") {
    for (int minor = 0; minor <= 1; ++minor)
        for (int conf = 0; conf <= 3; ++conf)
            for (int tx = -128; tx <= 127; ++tx) {
                Metadata m{static_cast<std::uint8_t>(minor), static_cast<std::int8_t>(tx),
                           minor == 0 ? CalibrationConfidence::kLowest
                                      : static_cast<CalibrationConfidence>(conf)};
                auto d = decode_metadata(encode_metadata(m));
                REQUIRE(d);
                CHECK(*d == m);
            }
}
