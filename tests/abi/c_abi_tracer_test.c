/* C ABI: the Tracer on a real SQLCipher store in TEMP_DIR, driven by a host clock callback. The
 * key file is the fuzz corpus's signed.zip; its first key (tek(1), valid 2021-02-22 UTC) is the
 * one "heard" here, so the check must find it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c_abi_test.h"

static int64_t g_now_ms;
static int64_t host_clock(void* user_data) { return *(const int64_t*)user_data; }

static int g_log_messages;
static int g_log_leaks;
static char g_secret_hex[33];
static void host_log(void* user_data, int32_t level, const char* message, size_t len) {
    (void)user_data;
    ++g_log_messages;
    if (level >= SOTTO_LOG_INFO && len >= 32) {
        size_t i;
        for (i = 0; i + 32 <= len; ++i) {
            if (memcmp(message + i, g_secret_hex, 32) == 0) ++g_log_leaks;
        }
    }
}

static const char kSeedPem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEulSQvF1to8ojTUMV3/Zk9sQxw+z6\n"
    "Ced8ZWKL3e/xXGFqE2GvcZG9wn5Mgd3eV5VFTKTIdLX5zALvZv1lgjuvfA==\n"
    "-----END PUBLIC KEY-----\n";

static const uint32_t kDay = 2689920; /* 2021-02-22T00:00Z, the day of the seed file's first key */

static void seed_tek(uint8_t tek[16], int i) {
    int j;
    for (j = 0; j < 16; ++j) tek[j] = (uint8_t)((i * 37 + j * 11) & 0xFF);
}

/* Removes a store and its side files from an earlier run. */
static void remove_store(const char* path) {
    static const char* const suffixes[] = {"", ".kdf", "-wal", "-shm", "-journal"};
    char p[4300];
    size_t i;
    for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; ++i) {
        snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
        remove(p);
    }
}

static void test_null_handles(void) {
    sotto_advertisement adv = {.struct_size = sizeof(sotto_advertisement)};
    sotto_import_result res = {.struct_size = sizeof(sotto_import_result)};
    sotto_check* check = NULL;
    sotto_key_list* keys = NULL;
    sotto_tracer_status st = {.struct_size = sizeof(sotto_tracer_status)};
    sotto_store_stats stats = {.struct_size = sizeof(sotto_store_stats)};
    sotto_tracer* t = NULL;
    size_t needed;
    const uint8_t b[20] = {0};
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_tracer_current_advertisement(&adv, NULL));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_tracer_on_advertisement(NULL, b, 20, -60, 0));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_tracer_flush(NULL));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_tracer_tick(NULL, NULL));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_tracer_import_keyfile(&res, NULL, b, 20, 0));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_tracer_import_keyfile_pair(&res, NULL, b, 20, NULL, 0, 0));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_tracer_import_keyfile_path(&res, NULL, "x", 0));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_tracer_check(&check, NULL));
    CHECK_STATUS(
        SOTTO_ERR_INVALID_ARGUMENT,
        sotto_tracer_release_own_keys(&keys, NULL, SOTTO_USER_CONFIRMED_UPLOAD_OF_OWN_KEYS));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_tracer_erase_all(NULL));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_tracer_get_status(&st, NULL));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_tracer_get_store_stats(&stats, NULL));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_check_get_summary(NULL, NULL));
    CHECK_STATUS(
        SOTTO_ERR_INVALID_ARGUMENT,
        sotto_check_get_files(NULL, 0, (uint32_t)sizeof(sotto_import_result), &needed, NULL));
    CHECK_STATUS(
        SOTTO_ERR_INVALID_ARGUMENT,
        sotto_check_get_windows(NULL, 0, (uint32_t)sizeof(sotto_exposure_window), &needed, NULL));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_check_get_scan_instances(NULL, 0, (uint32_t)sizeof(sotto_scan_instance),
                                                &needed, NULL, 0));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_check_get_daily_summaries(NULL, 0, (uint32_t)sizeof(sotto_daily_summary),
                                                 &needed, NULL));
    CHECK_STATUS(
        SOTTO_ERR_INVALID_ARGUMENT,
        sotto_check_get_risk_days(NULL, 0, (uint32_t)sizeof(sotto_risk_day), &needed, NULL));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_key_list_get(NULL, 0, (uint32_t)sizeof(sotto_diagnosis_key), &needed, NULL));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_tracer_options_init(NULL));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_tracer_open(&t, NULL, b, 32, NULL, NULL, NULL, NULL));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_tracer_open(NULL, "x", b, 32, NULL, NULL, NULL, NULL));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_tracer_open_passphrase(&t, "x", NULL, 3, NULL, NULL, NULL, NULL));
    CHECK(t == NULL);
    sotto_tracer_destroy(NULL);
    sotto_check_destroy(NULL);
    sotto_key_list_destroy(NULL);
}

static void test_open_errors(const char* tmp) {
    char path[4200];
    uint8_t key[32], wrong[32];
    sotto_tracer* t = NULL;
    sotto_tracer_options o;
    memset(key, 0x42, sizeof key);
    memset(wrong, 0x43, sizeof wrong);
    CHECK_STATUS(SOTTO_OK, sotto_tracer_options_init(&o));
    CHECK(o.struct_size == sizeof o && o.retention_days == 14 && o.create_if_missing == 1);
    snprintf(path, sizeof path, "%.4000s/raw.db", tmp);
    remove_store(path);
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_tracer_open(&t, path, key, 31, NULL, NULL, NULL, &o));
    o.advertising_form = 9;
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_tracer_open(&t, path, key, 32, NULL, NULL, NULL, &o));
    CHECK_STATUS(SOTTO_OK, sotto_tracer_options_init(&o));
    o.struct_size = 8;
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_tracer_open(&t, path, key, 32, NULL, NULL, NULL, &o));
    CHECK(t == NULL);
    CHECK_STATUS(SOTTO_OK, sotto_tracer_open(&t, path, key, 32, NULL, NULL, NULL, NULL));
    sotto_tracer_destroy(t);
    t = NULL;
    CHECK_STATUS(SOTTO_ERR_STORAGE_WRONG_KEY,
                 sotto_tracer_open(&t, path, wrong, 32, NULL, NULL, NULL, NULL));
    CHECK(t == NULL);

    /* A passphrase store (cheapest KDF), reopened with the right and a wrong passphrase. */
    snprintf(path, sizeof path, "%.4000s/pass.db", tmp);
    remove_store(path);
    CHECK_STATUS(SOTTO_OK, sotto_tracer_options_init(&o));
    o.kdf_cost = SOTTO_KDF_MINIMUM;
    CHECK_STATUS(SOTTO_OK, sotto_tracer_open_passphrase(&t, path, (const uint8_t*)"correct horse",
                                                        13, NULL, NULL, NULL, &o));
    sotto_tracer_destroy(t);
    t = NULL;
    CHECK_STATUS(SOTTO_OK, sotto_tracer_open_passphrase(&t, path, (const uint8_t*)"correct horse",
                                                        13, NULL, NULL, NULL, &o));
    sotto_tracer_destroy(t);
    t = NULL;
    CHECK_STATUS(SOTTO_ERR_STORAGE_WRONG_KEY,
                 sotto_tracer_open_passphrase(&t, path, (const uint8_t*)"correct hors3", 13, NULL,
                                              NULL, NULL, &o));
    CHECK_STATUS(
        SOTTO_ERR_INVALID_ARGUMENT,
        sotto_tracer_open_passphrase(&t, path, (const uint8_t*)"", 0, NULL, NULL, NULL, &o));
    /* Not a store. */
    snprintf(path, sizeof path, "%.4000s/not-a-store.db", tmp);
    {
        FILE* f = fopen(path, "wb");
        CHECK(f != NULL);
        if (f != NULL) {
            fputs("this is not a database, just some text that is long enough to be a header...",
                  f);
            fclose(f);
        }
    }
    CHECK(sotto_tracer_open(&t, path, key, 32, NULL, NULL, NULL, NULL) != SOTTO_OK);
    CHECK(t == NULL);
}

static void test_flow(const char* corpus_dir, const char* tmp) {
    char path[4200], zip_path[4200];
    uint8_t key[32], tek[16], rpis[16 * 144];
    sotto_trust_store* trust = NULL;
    sotto_tracer* t = NULL;
    sotto_advertisement adv = {.struct_size = sizeof(sotto_advertisement)};
    sotto_advertisement adv2 = {.struct_size = sizeof(sotto_advertisement)};
    sotto_beacon beacon;
    sotto_import_result res = {.struct_size = sizeof(sotto_import_result)};
    sotto_check* check = NULL;
    sotto_check_summary sum = {.struct_size = sizeof(sotto_check_summary)};
    sotto_tracer_status st = {.struct_size = sizeof(sotto_tracer_status)};
    sotto_store_stats stats = {.struct_size = sizeof(sotto_store_stats)};
    sotto_key_list* keys = NULL;
    sotto_diagnosis_key released[32];
    sotto_exposure_window windows[8];
    sotto_scan_instance scans[64];
    sotto_daily_summary days[8];
    sotto_risk_day risk[8];
    const sotto_metadata meta = {0, 8, 0, 0};
    size_t zip_len = 0, needed = 0, i;
    uint8_t* zip;
    int64_t s;

    memset(key, 0x17, sizeof key);
    snprintf(path, sizeof path, "%.4000s/flow.db", tmp);
    remove_store(path);
    snprintf(zip_path, sizeof zip_path, "%.4000s/signed.zip", corpus_dir);
    zip = c_abi_read_file(zip_path, &zip_len);
    CHECK(zip != NULL);
    if (zip == NULL) return;
    CHECK_STATUS(SOTTO_OK, sotto_trust_store_create(&trust));
    CHECK_STATUS(SOTTO_OK, sotto_trust_store_add(trust, "fuzz", "v1", (const uint8_t*)kSeedPem,
                                                 strlen(kSeedPem), 1));

    g_now_ms = ((int64_t)kDay + 144 * 2 + 72) * 600000; /* 2021-02-24 12:00 UTC */
    CHECK_STATUS(SOTTO_OK,
                 sotto_tracer_open(&t, path, key, 32, trust, host_clock, &g_now_ms, NULL));
    sotto_trust_store_destroy(trust); /* the tracer holds its own copy */
    if (t == NULL) {
        free(zip);
        return;
    }

    /* Own advertisement: from the host clock's interval, decodable, stable until valid_until_ms,
     * then a new RPI. Right after opening the tracer may pause until the next interval. */
    CHECK_STATUS(SOTTO_OK, sotto_tracer_current_advertisement(&adv, t));
    CHECK(adv.valid_until_ms > g_now_ms && adv.valid_until_ms <= g_now_ms + 20 * 60000 + 600000);
    if (!adv.active) {
        g_now_ms = adv.valid_until_ms;
        CHECK_STATUS(SOTTO_OK, sotto_tracer_current_advertisement(&adv, t));
    }
    CHECK(adv.active == 1);
    CHECK(adv.interval == (uint32_t)(g_now_ms / 600000));
    CHECK(adv.valid_until_ms >= g_now_ms + 10 * 60000 - 600000 &&
          adv.valid_until_ms <= g_now_ms + 20 * 60000);
    CHECK(adv.advertising_data_len == 31);
    CHECK_STATUS(SOTTO_OK,
                 sotto_payload_decode(&beacon, adv.advertising_data, adv.advertising_data_len));
    CHECK(memcmp(beacon.rpi, adv.service_data, 16) == 0);
    g_now_ms += 1000;
    CHECK_STATUS(SOTTO_OK, sotto_tracer_current_advertisement(&adv2, t));
    CHECK(adv2.active == 1 && memcmp(adv.service_data, adv2.service_data, 20) == 0);
    g_now_ms = adv.valid_until_ms;
    CHECK_STATUS(SOTTO_OK, sotto_tracer_current_advertisement(&adv2, t));
    CHECK(adv2.active == 1 && memcmp(adv.service_data, adv2.service_data, 16) != 0 &&
          adv2.interval > adv.interval);
    CHECK(memcmp(adv.address, adv2.address, 6) != 0);

    /* Hear tek(1) on 2021-02-22 10:00-10:20, one advertisement per minute, in both forms. */
    seed_tek(tek, 1);
    c_abi_hex(g_secret_hex, tek, 16);
    CHECK_STATUS(SOTTO_OK, sotto_set_log_sink(host_log, NULL, SOTTO_LOG_DEBUG));
    for (s = 0; s < 20 * 60; s += 60) {
        const uint32_t enin = kDay + 60 + (uint32_t)(s / 600);
        uint8_t bytes[31];
        size_t len = 0;
        CHECK_STATUS(SOTTO_OK, sotto_beacon_make(&beacon, tek, 16, enin, &meta));
        CHECK_STATUS(SOTTO_OK, sotto_advertising_data_encode(
                                   bytes, sizeof bytes, &len, &beacon,
                                   (s / 60) % 2 ? SOTTO_ADV_WITH_FLAGS : SOTTO_ADV_WITHOUT_FLAGS));
        CHECK_STATUS(SOTTO_OK, sotto_tracer_on_advertisement(
                                   t, bytes, len, -55, ((int64_t)kDay + 60) * 600000 + s * 1000));
    }
    /* Hostile and broken input: refused and counted, nothing stored. */
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_tracer_on_advertisement(t, adv.service_data, 19, -55, g_now_ms));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_tracer_on_advertisement(t, NULL, 0, -55, g_now_ms));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_tracer_on_advertisement(t, NULL, 20, -55, g_now_ms));
    CHECK_STATUS(SOTTO_ERR_OUT_OF_RANGE,
                 sotto_tracer_on_advertisement(t, adv.service_data, 20, 90, g_now_ms));
    CHECK_STATUS(SOTTO_OK, sotto_tracer_tick(NULL, t));
    CHECK_STATUS(SOTTO_OK, sotto_tracer_flush(t));
    CHECK_STATUS(SOTTO_OK, sotto_tracer_get_status(&st, t));
    CHECK(st.heard == 20 && st.malformed == 2 && st.pending == 0 && st.stored == 20 &&
          st.deduplicated == 0);
    CHECK_STATUS(SOTTO_OK, sotto_tracer_get_store_stats(&stats, t));
    CHECK(stats.rpis == 2 && stats.own_keys >= 1);

    /* A batch: one good, one truncated, one with an impossible RSSI, one with len past the buffer.
     */
    {
        sotto_heard_advertisement batch[4];
        size_t accepted = 99;
        memset(batch, 0, sizeof batch);
        for (i = 0; i < 4; ++i) {
            memcpy(batch[i].bytes, adv.service_data, 20);
            batch[i].bytes[0] ^= 0x5a;
            batch[i].len = 20;
            batch[i].rssi_dbm = -70;
            batch[i].time_ms = ((int64_t)kDay + 100) * 600000;
        }
        batch[1].len = 19;
        batch[2].rssi_dbm = 90;
        batch[3].len = 200;
        CHECK_STATUS(SOTTO_OK, sotto_tracer_on_advertisements(t, batch, 4, &accepted));
        CHECK(accepted == 1);
        CHECK_STATUS(SOTTO_OK, sotto_tracer_on_advertisements(t, NULL, 0, &accepted));
        CHECK(accepted == 0);
        CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                     sotto_tracer_on_advertisements(t, NULL, 1, &accepted));
        CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                     sotto_tracer_on_advertisements(NULL, batch, 1, &accepted));
        CHECK_STATUS(SOTTO_OK, sotto_tracer_get_status(&st, t));
        CHECK(st.heard == 21 && st.malformed == 4);
        /* The same beacon three times within one second: folded (at most the strongest and the
         * weakest packet of a second are kept). */
        CHECK_STATUS(SOTTO_OK, sotto_tracer_on_advertisement(t, batch[0].bytes, 20, -71,
                                                             batch[0].time_ms + 300));
        CHECK_STATUS(SOTTO_OK, sotto_tracer_on_advertisement(t, batch[0].bytes, 20, -72,
                                                             batch[0].time_ms + 600));
        CHECK_STATUS(SOTTO_OK, sotto_tracer_get_status(&st, t));
        CHECK(st.heard == 23 && st.deduplicated >= 1);
    }

    /* A tampered file and an unsigned import change nothing; the signed file matches. */
    {
        /* signed.pair: [2-byte LE length n][export.bin: n bytes][export.sig]; flip a key byte. */
        char pair_path[4200];
        size_t pair_len = 0, bin_len;
        uint8_t* pair;
        snprintf(pair_path, sizeof pair_path, "%.4000s/signed.pair", corpus_dir);
        pair = c_abi_read_file(pair_path, &pair_len);
        CHECK(pair != NULL);
        if (pair != NULL) {
            bin_len = (size_t)pair[0] | ((size_t)pair[1] << 8);
            pair[2 + bin_len - 20] ^= 0x01;
            CHECK_STATUS(SOTTO_OK, sotto_tracer_import_keyfile_pair(&res, t, pair + 2, bin_len,
                                                                    pair + 2 + bin_len,
                                                                    pair_len - 2 - bin_len, 0));
            CHECK(res.matched == 0 && res.error == SOTTO_ERR_AUTHENTICATION_FAILED);
            free(pair);
        }
    }
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_tracer_import_keyfile(&res, t, zip, zip_len, 64));
    CHECK_STATUS(SOTTO_OK, sotto_tracer_import_keyfile_pair(&res, t, zip, 10, NULL, 0, 0));
    CHECK(res.matched == 0 && res.error != SOTTO_OK);
    CHECK_STATUS(SOTTO_OK, sotto_tracer_import_keyfile(&res, t, zip, zip_len, 0));
    CHECK(res.read == 1 && res.verified == 1 && res.matched == 1 && res.error == SOTTO_OK);
    CHECK(res.info.keys_delivered == 3);

    CHECK_STATUS(SOTTO_OK, sotto_tracer_check(&check, t));
    CHECK_STATUS(SOTTO_OK, sotto_check_get_summary(&sum, check));
    CHECK(sum.files == 3 && sum.valid_matches > 0 && sum.suspect_matches == 0 && sum.recorded == 1);
    CHECK(sum.windows == 1 && sum.daily_summaries == 1 && sum.sightings >= 2);
    CHECK(sum.computed_at == g_now_ms / 1000);
    /* The round's counters (C++ CheckReport's keys, matcher and report). */
    CHECK(sum.struct_size == sizeof sum && sum.keys > 0 && sum.keys_checked > 0);
    CHECK(sum.rpis_derived >= sum.rpis_matched && sum.rpis_matched >= sum.valid_matches);
    CHECK(sum.encounters == 1 && sum.disputed_matches == 0 && sum.keys_invalid == 0);
    CHECK_STATUS(
        SOTTO_ERR_OUT_OF_RANGE,
        sotto_check_get_files(NULL, 0, (uint32_t)sizeof(sotto_import_result), &needed, check));
    CHECK(needed == 3);
    {
        sotto_import_result files[3];
        CHECK_STATUS(
            SOTTO_OK,
            sotto_check_get_files(files, 3, (uint32_t)sizeof(sotto_import_result), &needed, check));
        CHECK(files[0].matched == 0 && files[0].error == SOTTO_ERR_AUTHENTICATION_FAILED);
        CHECK(files[1].matched == 0 && files[1].error == SOTTO_ERR_UNSIGNED);
        CHECK(files[2].matched == 1 && files[2].info.verified == 1 && files[2].matched_rpis == 2);
    }
    CHECK_STATUS(SOTTO_OK,
                 sotto_check_get_windows(windows, 8, (uint32_t)sizeof(sotto_exposure_window),
                                         &needed, check));
    CHECK(needed == 1 && windows[0].date_unix == (int64_t)kDay * 600 &&
          windows[0].report_type == 4);
    CHECK(windows[0].scan_instance_count == 20);
    CHECK_STATUS(SOTTO_ERR_OUT_OF_RANGE,
                 sotto_check_get_scan_instances(scans, 1, (uint32_t)sizeof(sotto_scan_instance),
                                                &needed, check, 0));
    CHECK(needed == 20);
    CHECK_STATUS(SOTTO_OK,
                 sotto_check_get_scan_instances(scans, 64, (uint32_t)sizeof(sotto_scan_instance),
                                                &needed, check, 0));
    /* Attenuation = TX power 8 − RSSI −55 = 63 dB. */
    for (i = 0; i < needed; ++i)
        CHECK(scans[i].min_attenuation_db == 63 && scans[i].typical_attenuation_db == 63);
    CHECK_STATUS(SOTTO_ERR_OUT_OF_RANGE,
                 sotto_check_get_scan_instances(scans, 64, (uint32_t)sizeof(sotto_scan_instance),
                                                &needed, check, 1));
    CHECK(needed == 0);
    CHECK_STATUS(SOTTO_OK, sotto_check_get_daily_summaries(
                               days, 8, (uint32_t)sizeof(sotto_daily_summary), &needed, check));
    CHECK(needed == 1 && days[0].date_unix == (int64_t)kDay * 600 &&
          days[0].weighted_duration_sum > 0.0);
    CHECK_STATUS(SOTTO_OK, sotto_check_get_risk_days(risk, 8, (uint32_t)sizeof(sotto_risk_day),
                                                     &needed, check));
    CHECK(needed <= 1);
    sotto_check_destroy(check);
    check = NULL;

    /* The same file again is skipped as already processed; REMATCH matches it again. */
    CHECK_STATUS(SOTTO_OK, sotto_tracer_import_keyfile(&res, t, zip, zip_len, 0));
    CHECK(res.already_processed == 1 && res.matched == 0);
    CHECK_STATUS(SOTTO_OK,
                 sotto_tracer_import_keyfile_path(&res, t, zip_path, SOTTO_IMPORT_REMATCH));
    CHECK(res.matched == 1);
    CHECK_STATUS(SOTTO_OK, sotto_tracer_get_status(&st, t));
    CHECK(st.round_open == 1 && st.struct_size == sizeof st);
    CHECK_STATUS(SOTTO_OK, sotto_tracer_check(&check, t));
    CHECK_STATUS(SOTTO_OK, sotto_tracer_get_status(&st, t));
    CHECK(st.round_open == 0 && st.radio_attached == 0);
    CHECK_STATUS(SOTTO_OK, sotto_check_get_summary(&sum, check));
    CHECK(sum.windows == 1);
    sotto_check_destroy(check);
    check = NULL;

    /* Uploading own keys: refused before anything is released or sent without consent, with a
     * plain-http URL to a remote host, with struct_size unset, or without a handle (the upload
     * itself runs against a local key server in the Python and CLI tests). */
    {
        sotto_upload_options uo;
        sotto_upload_result up;
        memset(&uo, 0, sizeof uo);
        memset(&up, 0, sizeof up);
        uo.struct_size = sizeof uo;
        up.struct_size = sizeof up;
        uo.url = "https://127.0.0.1:9/v1/publish";
        uo.health_authority_id = "com.example.ha";
        uo.verification_payload = "12345678";
        CHECK_STATUS(SOTTO_ERR_FAILED_PRECONDITION, sotto_upload_own_keys(&up, t, &uo, 1));
        CHECK_STATUS(
            SOTTO_ERR_INVALID_ARGUMENT,
            sotto_upload_own_keys(&up, NULL, &uo, SOTTO_USER_CONFIRMED_UPLOAD_OF_OWN_KEYS));
        /* A plain-http remote verification server, or one without an API key. */
        uo.verification_server = "http://192.0.2.1";
        uo.api_key = "k";
        CHECK_STATUS(SOTTO_ERR_NETWORK_REFUSED,
                     sotto_upload_own_keys(&up, t, &uo, SOTTO_USER_CONFIRMED_UPLOAD_OF_OWN_KEYS));
        uo.verification_server = "https://127.0.0.1:9";
        uo.api_key = NULL;
        CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                     sotto_upload_own_keys(&up, t, &uo, SOTTO_USER_CONFIRMED_UPLOAD_OF_OWN_KEYS));
        uo.verification_server = NULL;
        uo.url = "http://example.com/v1/publish";
        CHECK_STATUS(SOTTO_ERR_NETWORK_REFUSED,
                     sotto_upload_own_keys(&up, t, &uo, SOTTO_USER_CONFIRMED_UPLOAD_OF_OWN_KEYS));
        /* The first layout reads as the older caller's (remote plain http refused as above);
         * a size ending inside a field is refused before anything else. */
        uo.struct_size = (uint32_t)offsetof(sotto_upload_options, verification_server);
        CHECK_STATUS(SOTTO_ERR_NETWORK_REFUSED,
                     sotto_upload_own_keys(&up, t, &uo, SOTTO_USER_CONFIRMED_UPLOAD_OF_OWN_KEYS));
        uo.struct_size = (uint32_t)offsetof(sotto_upload_options, verification_server) + 4;
        CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                     sotto_upload_own_keys(&up, t, &uo, SOTTO_USER_CONFIRMED_UPLOAD_OF_OWN_KEYS));
        uo.struct_size = 0;
        CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                     sotto_upload_own_keys(&up, t, &uo, SOTTO_USER_CONFIRMED_UPLOAD_OF_OWN_KEYS));
        CHECK(up.http_status == 0 && up.keys_sent == 0);
    }

    /* Own keys: nothing without consent; with it, the TEK that made the advertisement. */
    CHECK_STATUS(SOTTO_ERR_FAILED_PRECONDITION, sotto_tracer_release_own_keys(&keys, t, 1));
    CHECK(keys == NULL);
    CHECK_STATUS(SOTTO_OK,
                 sotto_tracer_release_own_keys(&keys, t, SOTTO_USER_CONFIRMED_UPLOAD_OF_OWN_KEYS));
    CHECK_STATUS(SOTTO_ERR_OUT_OF_RANGE,
                 sotto_key_list_get(NULL, 0, (uint32_t)sizeof(sotto_diagnosis_key), &needed, keys));
    CHECK(needed >= 1 && needed <= 32);
    CHECK_STATUS(SOTTO_OK, sotto_key_list_get(released, 32, (uint32_t)sizeof(sotto_diagnosis_key),
                                              &needed, keys));
    {
        int found = 0;
        for (i = 0; i < needed; ++i) {
            if (released[i].rolling_start <= adv2.interval &&
                adv2.interval < released[i].rolling_start + released[i].rolling_period) {
                CHECK_STATUS(SOTTO_OK,
                             sotto_derive_rpis(rpis, 16, released[i].tek, 16, adv2.interval, 1));
                found += memcmp(rpis, adv2.service_data, 16) == 0;
            }
        }
        CHECK(found == 1);
    }
    sotto_key_list_destroy(keys);
    /* The released key is never broadcast again. */
    CHECK_STATUS(SOTTO_OK, sotto_tracer_current_advertisement(&adv, t));
    CHECK(!adv.active || memcmp(adv.service_data, adv2.service_data, 16) != 0);

    /* Forget me: everything gone, the store still usable. */
    CHECK_STATUS(SOTTO_OK, sotto_tracer_erase_all(t));
    CHECK_STATUS(SOTTO_OK, sotto_tracer_get_store_stats(&stats, t));
    CHECK(stats.sightings == 0 && stats.own_keys == 0 && stats.exposure_records == 0 &&
          stats.processed_files == 0);
    g_now_ms += 3600 * 1000;
    CHECK_STATUS(SOTTO_OK, sotto_tracer_current_advertisement(&adv, t));
    if (!adv.active) {
        g_now_ms = adv.valid_until_ms;
        CHECK_STATUS(SOTTO_OK, sotto_tracer_current_advertisement(&adv, t));
    }
    CHECK(adv.active == 1 && memcmp(adv.service_data, adv2.service_data, 16) != 0);
    CHECK_STATUS(SOTTO_OK, sotto_tracer_get_store_stats(&stats, t));
    CHECK(stats.own_keys == 1);

    CHECK_STATUS(SOTTO_OK, sotto_set_log_sink(NULL, NULL, SOTTO_LOG_INFO));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_set_log_sink(host_log, NULL, 4));
    CHECK(g_log_messages > 0);
    CHECK(g_log_leaks == 0);
    sotto_tracer_destroy(t);
    free(zip);
}

/* A clock a month ahead deletes nothing through tick or an unconfirmed retention call; the
 * host's confirmation deletes what is past the window, and a later confirmation of the true time
 * repairs the anchor. */
static void test_clock(const char* tmp) {
    char path[4200];
    uint8_t key[32], heard[20];
    sotto_tracer* t = NULL;
    sotto_store_stats stats = {.struct_size = sizeof(sotto_store_stats)};
    sotto_tracer_status st = {.struct_size = sizeof(sotto_tracer_status)};
    sotto_tick_report tick;

    memset(&tick, 0, sizeof tick);
    memset(key, 0x29, sizeof key);
    memset(heard, 0x3c, sizeof heard);
    snprintf(path, sizeof path, "%.4000s/clock.db", tmp);
    remove_store(path);
    g_now_ms = ((int64_t)kDay + 48) * 600000; /* 08:00 UTC */
    CHECK_STATUS(SOTTO_OK, sotto_tracer_open(&t, path, key, 32, NULL, host_clock, &g_now_ms, NULL));
    if (t == NULL) return;
    CHECK_STATUS(SOTTO_OK, sotto_tracer_tick(NULL, t));
    CHECK_STATUS(SOTTO_OK, sotto_tracer_on_advertisement(t, heard, 20, -60, g_now_ms));
    CHECK_STATUS(SOTTO_OK, sotto_tracer_flush(t));

    g_now_ms += (int64_t)30 * 86400000; /* a bad time sync */
    /* A suspect clock is not an error of the tick: its report says retention was paused. */
    tick.struct_size = sizeof tick;
    CHECK_STATUS(SOTTO_OK, sotto_tracer_get_status(&st, t));
    CHECK(st.clock_suspect == 0);
    CHECK_STATUS(SOTTO_OK, sotto_tracer_tick(&tick, t));
    CHECK(tick.retention == SOTTO_RETENTION_PAUSED_CLOCK_SUSPECT);
    CHECK_STATUS(SOTTO_OK, sotto_tracer_get_status(&st, t));
    CHECK(st.clock_suspect == 1);
    tick.retention = -1;
    CHECK_STATUS(SOTTO_OK, sotto_tracer_tick(&tick, t));
    CHECK(tick.retention == SOTTO_RETENTION_PAUSED_CLOCK_SUSPECT);
    /* struct_size not set: refused, nothing done. */
    tick.struct_size = 0;
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_tracer_tick(&tick, t));
    tick.struct_size = sizeof tick;
    CHECK_STATUS(SOTTO_ERR_CLOCK_SUSPECT, sotto_tracer_apply_retention(t, 0));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_tracer_apply_retention(t, 2));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_tracer_apply_retention(NULL, SOTTO_RETENTION_CLOCK_CONFIRMED));
    CHECK_STATUS(SOTTO_OK, sotto_tracer_get_store_stats(&stats, t));
    CHECK(stats.sightings == 1);

    CHECK_STATUS(SOTTO_OK, sotto_tracer_apply_retention(t, SOTTO_RETENTION_CLOCK_CONFIRMED));
    CHECK_STATUS(SOTTO_OK, sotto_tracer_get_store_stats(&stats, t));
    CHECK(stats.sightings == 0);
    CHECK_STATUS(SOTTO_OK, sotto_tracer_tick(&tick, t));
    CHECK(tick.retention == SOTTO_RETENTION_RAN);
    CHECK_STATUS(SOTTO_OK, sotto_tracer_get_status(&st, t));
    CHECK(st.clock_suspect == 0);
    CHECK_STATUS(SOTTO_OK, sotto_tracer_tick(&tick, t));
    CHECK(tick.retention == SOTTO_RETENTION_NOT_DUE);

    /* That confirmation was wrong: the clock goes back to the true time, a month before the
     * anchor. Suspect as well, until the host confirms the true time, which repairs the anchor. */
    g_now_ms -= (int64_t)30 * 86400000;
    CHECK_STATUS(SOTTO_OK, sotto_tracer_tick(&tick, t));
    CHECK(tick.retention == SOTTO_RETENTION_PAUSED_CLOCK_SUSPECT);
    CHECK_STATUS(SOTTO_ERR_CLOCK_SUSPECT, sotto_tracer_apply_retention(t, 0));
    CHECK_STATUS(SOTTO_OK, sotto_tracer_apply_retention(t, SOTTO_RETENTION_CLOCK_CONFIRMED));
    CHECK_STATUS(SOTTO_OK, sotto_tracer_apply_retention(t, 0));
    CHECK_STATUS(SOTTO_OK, sotto_tracer_tick(NULL, t));
    sotto_tracer_destroy(t);
    remove_store(path);
}

void test_tracer(const char* corpus_dir, const char* tmp_dir) {
    test_null_handles();
    test_open_errors(tmp_dir);
    test_flow(corpus_dir, tmp_dir);
    test_clock(tmp_dir);
}
