/* C ABI: trust stores and key files. The seed corpus of keyfile_fuzz is signed with the test-only
 * key tests/fuzz/keyfile_seed_key.pem as ("fuzz", "v1"); its three keys are described in
 * tests/fuzz/make_keyfile_seeds.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c_abi_test.h"

/* The public half of tests/fuzz/keyfile_seed_key.pem. */
static const char kSeedPem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEulSQvF1to8ojTUMV3/Zk9sQxw+z6\n"
    "Ced8ZWKL3e/xXGFqE2GvcZG9wn5Mgd3eV5VFTKTIdLX5zALvZv1lgjuvfA==\n"
    "-----END PUBLIC KEY-----\n";
static const uint8_t kSeedDer[] = {
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0xba, 0x54, 0x90, 0xbc, 0x5d,
    0x6d, 0xa3, 0xca, 0x23, 0x4d, 0x43, 0x15, 0xdf, 0xf6, 0x64, 0xf6, 0xc4, 0x31, 0xc3, 0xec, 0xfa,
    0x09, 0xe7, 0x7c, 0x65, 0x62, 0x8b, 0xdd, 0xef, 0xf1, 0x5c, 0x61, 0x6a, 0x13, 0x61, 0xaf, 0x71,
    0x91, 0xbd, 0xc2, 0x7e, 0x4c, 0x81, 0xdd, 0xde, 0x57, 0x95, 0x45, 0x4c, 0xa4, 0xc8, 0x74, 0xb5,
    0xf9, 0xcc, 0x02, 0xef, 0x66, 0xfd, 0x65, 0x82, 0x3b, 0xaf, 0x7c};
/* A different valid P-256 key: the CWA production key (262, v1). */
static const char kOtherPem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEc7DEstcUIRcyk35OYDJ95/hTg3UV\n"
    "hsaDXKT0zK7NhHPXoyzipEnOp3GyNXDVpaPi3cAfQmxeuFMZAIX2+6A5Xg==\n"
    "-----END PUBLIC KEY-----\n";

static const uint8_t* pem(const char* s) { return (const uint8_t*)s; }

static uint8_t* read_in(const char* dir, const char* name, size_t* len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return c_abi_read_file(path, len);
}

static sotto_trust_store* trust_with(const char* id, const char* version, const char* key_pem) {
    sotto_trust_store* t = NULL;
    CHECK_STATUS(SOTTO_OK, sotto_trust_store_create(&t));
    if (t != NULL && key_pem != NULL) {
        CHECK_STATUS(SOTTO_OK,
                     sotto_trust_store_add(t, id, version, pem(key_pem), strlen(key_pem), 1));
    }
    return t;
}

static void test_trust_store(void) {
    sotto_trust_store* t = NULL;
    size_t n = 99;
    CHECK_STATUS(SOTTO_OK, sotto_trust_store_create(&t));
    CHECK_STATUS(SOTTO_OK, sotto_trust_store_size(&n, t));
    CHECK(n == 0);
    CHECK_STATUS(SOTTO_OK,
                 sotto_trust_store_add(t, "fuzz", "v1", pem(kSeedPem), strlen(kSeedPem), 1));
    CHECK_STATUS(SOTTO_OK, sotto_trust_store_add(t, NULL, NULL, kSeedDer, sizeof kSeedDer, 0));
    CHECK_STATUS(SOTTO_OK,
                 sotto_trust_store_add(t, "262", NULL, pem(kOtherPem), strlen(kOtherPem), 1));
    CHECK_STATUS(SOTTO_OK, sotto_trust_store_size(&n, t));
    CHECK(n == 3);
    /* Not a key, a truncated DER, DER passed as PEM, an empty id: refused, nothing added. */
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_trust_store_add(t, NULL, NULL, pem("not a key"), 9, 1));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_trust_store_add(t, "a", "v1", kSeedDer, sizeof kSeedDer - 1, 0));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_trust_store_add(t, "a", "v1", kSeedDer, sizeof kSeedDer, 1));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_trust_store_add(t, "", "v1", pem(kSeedPem), strlen(kSeedPem), 1));
    CHECK_STATUS(SOTTO_OK, sotto_trust_store_size(&n, t));
    CHECK(n == 3);
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_trust_store_add(NULL, NULL, NULL, kSeedDer, sizeof kSeedDer, 0));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_trust_store_add(t, NULL, NULL, NULL, 10, 0));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_trust_store_size(NULL, t));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_trust_store_size(&n, NULL));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_trust_store_create(NULL));
    sotto_trust_store_destroy(t);
    sotto_trust_store_destroy(NULL);
}

static void check_seed_keys(const sotto_keyfile* kf) {
    sotto_diagnosis_key keys[3];
    sotto_keyfile_info info = {.struct_size = sizeof(sotto_keyfile_info)};
    size_t needed = 0, j;
    CHECK_STATUS(SOTTO_OK, sotto_keyfile_get_info(&info, kf));
    CHECK(info.verified == 1 && info.signature_status == SOTTO_SIGNATURE_VERIFIED);
    CHECK(info.keys_valid == 3 && info.keys_delivered == 3 && info.keys_invalid == 0);
    CHECK(info.export_bin_bytes > 16);
    /* Size query, short buffer, then the keys. */
    CHECK_STATUS(
        SOTTO_ERR_OUT_OF_RANGE,
        sotto_keyfile_get_keys(NULL, 0, (uint32_t)sizeof(sotto_diagnosis_key), &needed, kf));
    CHECK(needed == 3);
    needed = 0;
    memset(keys, 0x77, sizeof keys);
    CHECK_STATUS(
        SOTTO_ERR_OUT_OF_RANGE,
        sotto_keyfile_get_keys(keys, 2, (uint32_t)sizeof(sotto_diagnosis_key), &needed, kf));
    CHECK(needed == 3 && keys[0].rolling_start == 0x77777777u);
    CHECK_STATUS(SOTTO_OK, sotto_keyfile_get_keys(keys, 3, (uint32_t)sizeof(sotto_diagnosis_key),
                                                  &needed, kf));
    for (j = 0; j < 16; ++j) {
        CHECK(keys[0].tek[j] == (uint8_t)((1 * 37 + j * 11) & 0xFF));
        CHECK(keys[2].tek[j] == (uint8_t)((3 * 37 + j * 11) & 0xFF));
    }
    CHECK(keys[0].rolling_start == 2689920 && keys[0].rolling_period == 144);
    CHECK(keys[0].transmission_risk_level == 1 && keys[0].report_type == 4);
    CHECK(keys[0].has_days_since_onset == 1 && keys[0].days_since_onset == 1);
    CHECK(keys[1].rolling_start == 2649980 && keys[1].rolling_period == 1);
    CHECK(keys[1].transmission_risk_level == 8 && keys[1].has_days_since_onset == 0);
    CHECK(keys[2].rolling_period == 144 && keys[2].report_type == 2 &&
          keys[2].days_since_onset == -14);
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_keyfile_get_keys(keys, 3, (uint32_t)sizeof(sotto_diagnosis_key), NULL, kf));
    CHECK_STATUS(
        SOTTO_ERR_INVALID_ARGUMENT,
        sotto_keyfile_get_keys(keys, 3, (uint32_t)sizeof(sotto_diagnosis_key), &needed, NULL));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_keyfile_get_info(NULL, kf));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_keyfile_get_info(&info, NULL));
}

static void test_seed_files(const char* dir) {
    size_t zip_len = 0, pair_len = 0, unsigned_len = 0;
    uint8_t* zip = read_in(dir, "signed.zip", &zip_len);
    uint8_t* pair = read_in(dir, "signed.pair", &pair_len);
    uint8_t* unsigned_zip = read_in(dir, "unsigned.zip", &unsigned_len);
    sotto_trust_store* bound = trust_with("fuzz", "v1", kSeedPem);
    sotto_trust_store* wrong_key = trust_with("fuzz", "v1", kOtherPem);
    sotto_trust_store* other_name = trust_with("262", "v1", kSeedPem);
    sotto_keyfile* kf = NULL;
    sotto_keyfile_info info = {.struct_size = sizeof(sotto_keyfile_info)};
    char path[4096];
    CHECK(zip != NULL && pair != NULL && unsigned_zip != NULL);
    if (zip == NULL || pair == NULL || unsigned_zip == NULL) return;

    CHECK_STATUS(SOTTO_OK, sotto_keyfile_read(&kf, zip, zip_len, bound, SOTTO_VERIFY_REQUIRE));
    if (kf != NULL) check_seed_keys(kf);
    sotto_keyfile_destroy(kf);
    kf = NULL;
    sotto_keyfile_destroy(NULL);

    /* Signed by a key the store does not hold under that name, or a different key under it. */
    CHECK_STATUS(SOTTO_ERR_AUTHENTICATION_FAILED,
                 sotto_keyfile_read(&kf, zip, zip_len, wrong_key, SOTTO_VERIFY_REQUIRE));
    CHECK_STATUS(SOTTO_ERR_UNTRUSTED_KEY,
                 sotto_keyfile_read(&kf, zip, zip_len, other_name, SOTTO_VERIFY_REQUIRE));
    CHECK_STATUS(SOTTO_ERR_UNTRUSTED_KEY,
                 sotto_keyfile_read(&kf, zip, zip_len, NULL, SOTTO_VERIFY_REQUIRE));
    CHECK_STATUS(SOTTO_ERR_UNSIGNED,
                 sotto_keyfile_read(&kf, unsigned_zip, unsigned_len, bound, SOTTO_VERIFY_REQUIRE));
    CHECK(kf == NULL);
    /* Parse-only: a handle that says what the signature check found. */
    CHECK_STATUS(SOTTO_OK, sotto_keyfile_read(&kf, unsigned_zip, unsigned_len, bound,
                                              SOTTO_VERIFY_PARSE_ONLY));
    CHECK_STATUS(SOTTO_OK, sotto_keyfile_get_info(&info, kf));
    CHECK(info.verified == 0 && info.signature_status == SOTTO_SIGNATURE_UNSIGNED &&
          info.keys_delivered == 3);
    sotto_keyfile_destroy(kf);
    kf = NULL;
    CHECK_STATUS(SOTTO_OK,
                 sotto_keyfile_read(&kf, zip, zip_len, wrong_key, SOTTO_VERIFY_PARSE_ONLY));
    CHECK_STATUS(SOTTO_OK, sotto_keyfile_get_info(&info, kf));
    CHECK(info.verified == 0 && info.signature_status == SOTTO_SIGNATURE_BAD);
    sotto_keyfile_destroy(kf);
    kf = NULL;

    /* The loose pair ([2-byte LE length][export.bin][export.sig]); a flipped key byte fails. */
    {
        const size_t bin_len = (size_t)pair[0] | ((size_t)pair[1] << 8);
        uint8_t* bin = pair + 2;
        CHECK(bin_len + 2 < pair_len);
        CHECK_STATUS(SOTTO_OK,
                     sotto_keyfile_read_pair(&kf, bin, bin_len, bin + bin_len,
                                             pair_len - 2 - bin_len, bound, SOTTO_VERIFY_REQUIRE));
        if (kf != NULL) check_seed_keys(kf);
        sotto_keyfile_destroy(kf);
        kf = NULL;
        bin[bin_len - 20] ^= 0x01;
        CHECK_STATUS(SOTTO_ERR_AUTHENTICATION_FAILED,
                     sotto_keyfile_read_pair(&kf, bin, bin_len, bin + bin_len,
                                             pair_len - 2 - bin_len, bound, SOTTO_VERIFY_REQUIRE));
        bin[bin_len - 20] ^= 0x01;
        CHECK_STATUS(SOTTO_ERR_UNSIGNED, sotto_keyfile_read_pair(&kf, bin, bin_len, NULL, 0, bound,
                                                                 SOTTO_VERIFY_REQUIRE));
        CHECK_STATUS(SOTTO_ERR_KEYFILE_MALFORMED,
                     sotto_keyfile_read_pair(&kf, bin, bin_len - 7, NULL, 0, bound,
                                             SOTTO_VERIFY_PARSE_ONLY));
        CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                     sotto_keyfile_read_pair(&kf, NULL, 5, NULL, 0, bound, SOTTO_VERIFY_REQUIRE));
        CHECK_STATUS(
            SOTTO_ERR_INVALID_ARGUMENT,
            sotto_keyfile_read_pair(&kf, bin, bin_len, NULL, 5, bound, SOTTO_VERIFY_REQUIRE));
        CHECK_STATUS(
            SOTTO_ERR_INVALID_ARGUMENT,
            sotto_keyfile_read_pair(NULL, bin, bin_len, NULL, 0, bound, SOTTO_VERIFY_REQUIRE));
    }

    /* Bad bytes: a truncated zip, garbage, nothing. */
    CHECK_STATUS(SOTTO_ERR_KEYFILE_MALFORMED,
                 sotto_keyfile_read(&kf, zip, zip_len / 2, bound, SOTTO_VERIFY_PARSE_ONLY));
    CHECK_STATUS(SOTTO_ERR_KEYFILE_MALFORMED,
                 sotto_keyfile_read(&kf, (const uint8_t*)"PK\3\4garbage", 11, bound,
                                    SOTTO_VERIFY_PARSE_ONLY));
    CHECK_STATUS(SOTTO_ERR_KEYFILE_MALFORMED,
                 sotto_keyfile_read(&kf, NULL, 0, bound, SOTTO_VERIFY_PARSE_ONLY));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_keyfile_read(&kf, NULL, 3, bound, SOTTO_VERIFY_REQUIRE));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_keyfile_read(&kf, zip, zip_len, bound, 7));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_keyfile_read(NULL, zip, zip_len, bound, SOTTO_VERIFY_REQUIRE));
    CHECK(kf == NULL);

    /* From a path. */
    snprintf(path, sizeof path, "%s/signed.zip", dir);
    CHECK_STATUS(SOTTO_OK, sotto_keyfile_read_path(&kf, path, bound, SOTTO_VERIFY_REQUIRE));
    if (kf != NULL) check_seed_keys(kf);
    sotto_keyfile_destroy(kf);
    kf = NULL;
    snprintf(path, sizeof path, "%s/no-such-file.zip", dir);
    CHECK_STATUS(SOTTO_ERR_KEYFILE_IO,
                 sotto_keyfile_read_path(&kf, path, bound, SOTTO_VERIFY_REQUIRE));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_keyfile_read_path(&kf, NULL, bound, SOTTO_VERIFY_REQUIRE));
    CHECK(kf == NULL);

    sotto_trust_store_destroy(bound);
    sotto_trust_store_destroy(wrong_key);
    sotto_trust_store_destroy(other_name);
    free(zip);
    free(pair);
    free(unsigned_zip);
}

/* The real German package of 2021-03-04, verified with the CWA production key. */
static void test_real_cwa_file(const char* data_dir) {
    char dir[4096], key_path[4200];
    size_t key_len = 0;
    uint8_t* key;
    sotto_trust_store* trust = NULL;
    sotto_keyfile* kf = NULL;
    sotto_keyfile_info info = {.struct_size = sizeof(sotto_keyfile_info)};
    snprintf(dir, sizeof dir, "%.4000s/cwa-real-2021-03-04", data_dir);
    snprintf(key_path, sizeof key_path, "%s/cwa_prod_public_key_262-v1.pem", dir);
    key = c_abi_read_file(key_path, &key_len);
    if (key == NULL) {
        printf("SKIP real CWA file: %s not found\n", key_path);
        return;
    }
    CHECK_STATUS(SOTTO_OK, sotto_trust_store_create(&trust));
    CHECK_STATUS(SOTTO_OK, sotto_trust_store_add(trust, "262", "v1", key, key_len, 1));
    CHECK_STATUS(SOTTO_OK, sotto_keyfile_read_path(&kf, dir, trust, SOTTO_VERIFY_REQUIRE));
    CHECK_STATUS(SOTTO_OK, sotto_keyfile_get_info(&info, kf));
    CHECK(info.verified == 1 && info.keys_delivered == 15521);
    CHECK(info.start_timestamp == 1614816000u && info.end_timestamp == 1614902400u);
    CHECK(strcmp(info.region, "DE") == 0);
    sotto_keyfile_destroy(kf);
    sotto_trust_store_destroy(trust);
    free(key);
}

void test_keyfiles(const char* corpus_dir, const char* gaen_data_dir) {
    test_trust_store();
    test_seed_files(corpus_dir);
    test_real_cwa_file(gaen_data_dir);
}
