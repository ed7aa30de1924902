/* C ABI: intervals, RPIs, beacons, metadata and the payload codec, against the EN Crypto Spec
 * v1.2 test vectors (TestVectors.java: TEK 75c734c6..., first ENIN 2642976, metadata 40080000). */
#include <string.h>

#include "c_abi_test.h"

static const uint8_t kTek[16] = {0x75, 0xc7, 0x34, 0xc6, 0xdd, 0x1a, 0x78, 0x2d,
                                 0xe7, 0xa9, 0x65, 0xda, 0x5e, 0xb9, 0x31, 0x25};
static const uint32_t kEnin = 2642976;

static void test_interval_number(void) {
    uint32_t enin = 0;
    CHECK_STATUS(SOTTO_OK, sotto_interval_number(&enin, 1585785600));
    CHECK(enin == kEnin);
    CHECK_STATUS(SOTTO_OK, sotto_interval_number(&enin, 1585785600 + 599));
    CHECK(enin == kEnin);
    enin = 7;
    CHECK_STATUS(SOTTO_ERR_OUT_OF_RANGE, sotto_interval_number(&enin, -1));
    CHECK(enin == 7);
    CHECK(strlen(sotto_last_error_message()) > 0);
    CHECK_STATUS(SOTTO_ERR_OUT_OF_RANGE, sotto_interval_number(&enin, (int64_t)600 * 4294967296LL));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_interval_number(NULL, 0));
}

static void test_derive_rpis(void) {
    uint8_t rpis[16 * 144];
    char hex[33];
    uint8_t short_tek[15];
    CHECK_STATUS(SOTTO_OK, sotto_derive_rpis(rpis, sizeof rpis, kTek, sizeof kTek, kEnin, 144));
    c_abi_hex(hex, rpis, 16);
    CHECK(strcmp(hex, "8be6cd371c5c891604bfbe49df845096") == 0);
    c_abi_hex(hex, rpis + 16, 16);
    CHECK(strcmp(hex, "3c9a1de5dd6b02afa7fded7b570b3e56") == 0);
    /* One interval later, one RPI: the second of the day. */
    CHECK_STATUS(SOTTO_OK, sotto_derive_rpis(rpis, 16, kTek, sizeof kTek, kEnin + 1, 1));
    c_abi_hex(hex, rpis, 16);
    CHECK(strcmp(hex, "3c9a1de5dd6b02afa7fded7b570b3e56") == 0);

    /* A different TEK (one bit flipped) gives a different RPI. */
    memcpy(short_tek, kTek, sizeof short_tek);
    {
        uint8_t flipped[16];
        memcpy(flipped, kTek, 16);
        flipped[0] ^= 1;
        CHECK_STATUS(SOTTO_OK, sotto_derive_rpis(rpis, 16, flipped, 16, kEnin, 1));
        c_abi_hex(hex, rpis, 16);
        CHECK(strcmp(hex, "8be6cd371c5c891604bfbe49df845096") != 0);
    }
    CHECK_STATUS(SOTTO_ERR_OUT_OF_RANGE, sotto_derive_rpis(rpis, 16 * 2 - 1, kTek, 16, kEnin, 2));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_derive_rpis(rpis, sizeof rpis, kTek, 16, kEnin, 0));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_derive_rpis(rpis, sizeof rpis, kTek, 16, kEnin, 145));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_derive_rpis(rpis, sizeof rpis, short_tek, 15, kEnin, 1));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_derive_rpis(rpis, sizeof rpis, NULL, 16, kEnin, 1));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_derive_rpis(NULL, 0, kTek, 16, kEnin, 1));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_derive_rpis(rpis, sizeof rpis, kTek, 16, 0xFFFFFFF0u, 144));
}

static void test_beacons_and_payloads(void) {
    const sotto_metadata meta = {0, 8, 0, 0};
    sotto_metadata opened;
    sotto_beacon beacon, decoded;
    uint8_t adv[31];
    size_t adv_len = 0;
    char hex[41];
    uint8_t wrong_tek[16];

    CHECK_STATUS(SOTTO_OK, sotto_beacon_make(&beacon, kTek, sizeof kTek, kEnin, &meta));
    c_abi_hex(hex, beacon.rpi, 16);
    CHECK(strcmp(hex, "8be6cd371c5c891604bfbe49df845096") == 0);
    c_abi_hex(hex, beacon.aem, 4);
    CHECK(strcmp(hex, "72033874") == 0);
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_beacon_make(&beacon, kTek, 17, kEnin, &meta));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_beacon_make(&beacon, kTek, 16, kEnin, NULL));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_beacon_make(NULL, kTek, 16, kEnin, &meta));

    memset(&opened, 0x55, sizeof opened);
    CHECK_STATUS(SOTTO_OK, sotto_beacon_open_metadata(&opened, &beacon, kTek, sizeof kTek));
    CHECK(opened.minor_version == 0 && opened.tx_power_dbm == 8 &&
          opened.calibration_confidence == 0);
    CHECK(opened.reserved == 0);
    /* A wrong TEK decrypts to random bytes: refused when they are not metadata version 1 (about
     * 3 in 4 keys), and never the true metadata. */
    {
        int refused = 0, i;
        for (i = 0; i < 16; ++i) {
            sotto_status st;
            memcpy(wrong_tek, kTek, 16);
            wrong_tek[i] ^= 0x80;
            memset(&opened, 0, sizeof opened);
            st = sotto_beacon_open_metadata(&opened, &beacon, wrong_tek, 16);
            CHECK(st == SOTTO_OK || st == SOTTO_ERR_INVALID_ARGUMENT);
            if (st != SOTTO_OK)
                ++refused;
            else
                CHECK(opened.tx_power_dbm != 8 || opened.minor_version != 0);
        }
        CHECK(refused >= 8);
    }
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_beacon_open_metadata(&opened, &beacon, kTek, 0));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_beacon_open_metadata(&opened, NULL, kTek, 16));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_beacon_open_metadata(NULL, &beacon, kTek, 16));

    /* Advertising data: iOS form 31 bytes, Android form 28, both decode back. */
    CHECK_STATUS(SOTTO_OK, sotto_advertising_data_encode(adv, sizeof adv, &adv_len, &beacon,
                                                         SOTTO_ADV_WITH_FLAGS));
    CHECK(adv_len == 31 && adv[0] == 0x02 && adv[1] == 0x01 && adv[2] == 0x1a);
    memset(&decoded, 0, sizeof decoded);
    CHECK_STATUS(SOTTO_OK, sotto_payload_decode(&decoded, adv, adv_len));
    CHECK(memcmp(&decoded, &beacon, sizeof beacon) == 0);
    /* Tampered UUID and a trailing byte are refused; the output stays untouched. */
    adv[5] ^= 0xFF;
    memset(&decoded, 0xAB, sizeof decoded);
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_payload_decode(&decoded, adv, adv_len));
    CHECK(decoded.rpi[0] == 0xAB);
    adv[5] ^= 0xFF;
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_payload_decode(&decoded, adv, adv_len - 1));

    CHECK_STATUS(SOTTO_OK, sotto_advertising_data_encode(adv, sizeof adv, &adv_len, &beacon,
                                                         SOTTO_ADV_WITHOUT_FLAGS));
    CHECK(adv_len == 28);
    CHECK_STATUS(SOTTO_OK, sotto_payload_decode(&decoded, adv, adv_len));
    CHECK(memcmp(&decoded, &beacon, sizeof beacon) == 0);
    adv_len = 0;
    CHECK_STATUS(SOTTO_ERR_OUT_OF_RANGE, sotto_advertising_data_encode(adv, 27, &adv_len, &beacon,
                                                                       SOTTO_ADV_WITHOUT_FLAGS));
    CHECK(adv_len == 28); /* the needed length */
    CHECK_STATUS(SOTTO_ERR_OUT_OF_RANGE,
                 sotto_advertising_data_encode(NULL, 0, &adv_len, &beacon, SOTTO_ADV_WITH_FLAGS));
    CHECK(adv_len == 31);
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_advertising_data_encode(adv, sizeof adv, &adv_len, &beacon, 2));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_advertising_data_encode(adv, sizeof adv, NULL, &beacon, 0));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_advertising_data_encode(adv, sizeof adv, &adv_len, NULL, 0));

    /* 20 bytes of service data are RPI || AEM. */
    {
        uint8_t sd[20];
        memcpy(sd, beacon.rpi, 16);
        memcpy(sd + 16, beacon.aem, 4);
        CHECK_STATUS(SOTTO_OK, sotto_payload_decode(&decoded, sd, sizeof sd));
        CHECK(memcmp(&decoded, &beacon, sizeof beacon) == 0);
        CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_payload_decode(&decoded, sd, 19));
    }
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_payload_decode(&decoded, NULL, 0));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_payload_decode(&decoded, NULL, 20));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_payload_decode(NULL, adv, adv_len));
}

void test_protocol(void) {
    test_interval_number();
    test_derive_rpis();
    test_beacons_and_payloads();
}
