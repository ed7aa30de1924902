/* C ABI: one tracer fed by two threads while a third imports and checks (POSIX threads). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c_abi_test.h"

enum { kPerFeeder = 5000 };
static const uint32_t kDay = 2689920;
static int64_t g_now_ms = ((int64_t)2689920 + 2 * 144 + 72) * 600000;
static int64_t clock_fn(void* user_data) {
    (void)user_data;
    return g_now_ms;
}

typedef struct {
    sotto_tracer* tracer;
    int seed;
    int failures;
} feeder_args;

static void* feed(void* p) {
    feeder_args* a = p;
    int i;
    for (i = 0; i < kPerFeeder; ++i) {
        uint8_t sd[20];
        int j;
        for (j = 0; j < 20; ++j) sd[j] = (uint8_t)(a->seed * 131 + i * 7 + j * 13 + (i >> 8));
        if (sotto_tracer_on_advertisement(a->tracer, sd, sizeof sd, -70,
                                          ((int64_t)kDay + 60) * 600000 + i * 100) != SOTTO_OK) {
            ++a->failures;
        }
    }
    return NULL;
}

typedef struct {
    sotto_tracer* tracer;
    const uint8_t* zip;
    size_t zip_len;
    int failures;
} checker_args;

static void* import_and_check(void* p) {
    checker_args* a = p;
    int round;
    for (round = 0; round < 3; ++round) {
        sotto_import_result res = {.struct_size = sizeof(sotto_import_result)};
        sotto_check* check = NULL;
        if (sotto_tracer_import_keyfile(&res, a->tracer, a->zip, a->zip_len,
                                        SOTTO_IMPORT_REMATCH) != SOTTO_OK ||
            !res.matched) {
            ++a->failures;
        }
        if (sotto_tracer_check(&check, a->tracer) != SOTTO_OK) ++a->failures;
        sotto_check_destroy(check);
    }
    return NULL;
}

void test_threads(const char* corpus_dir, const char* tmp_dir) {
    static const char pem[] =
        "-----BEGIN PUBLIC KEY-----\n"
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEulSQvF1to8ojTUMV3/Zk9sQxw+z6\n"
        "Ced8ZWKL3e/xXGFqE2GvcZG9wn5Mgd3eV5VFTKTIdLX5zALvZv1lgjuvfA==\n"
        "-----END PUBLIC KEY-----\n";
    char path[4200], zip_path[4200];
    uint8_t key[32];
    sotto_trust_store* trust = NULL;
    sotto_tracer* t = NULL;
    sotto_tracer_status st = {.struct_size = sizeof(sotto_tracer_status)};
    sotto_store_stats stats = {.struct_size = sizeof(sotto_store_stats)};
    pthread_t f1, f2, c;
    feeder_args a1, a2;
    checker_args ca;
    size_t zip_len = 0;
    uint8_t* zip;

    snprintf(path, sizeof path, "%.4000s/threads.db", tmp_dir);
    snprintf(zip_path, sizeof zip_path, "%.4000s/signed.zip", corpus_dir);
    {
        static const char* const suffixes[] = {"", ".kdf", "-wal", "-shm", "-journal"};
        char p[4300];
        size_t i;
        for (i = 0; i < 5; ++i) {
            snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
            remove(p);
        }
    }
    zip = c_abi_read_file(zip_path, &zip_len);
    CHECK(zip != NULL);
    if (zip == NULL) return;
    memset(key, 0x99, sizeof key);
    CHECK_STATUS(SOTTO_OK, sotto_trust_store_create(&trust));
    CHECK_STATUS(SOTTO_OK,
                 sotto_trust_store_add(trust, "fuzz", "v1", (const uint8_t*)pem, strlen(pem), 1));
    CHECK_STATUS(SOTTO_OK,
                 sotto_tracer_open(&t, path, key, sizeof key, trust, clock_fn, NULL, NULL));
    sotto_trust_store_destroy(trust);
    if (t == NULL) {
        free(zip);
        return;
    }
    a1.tracer = a2.tracer = t;
    a1.seed = 1;
    a2.seed = 2;
    a1.failures = a2.failures = 0;
    ca.tracer = t;
    ca.zip = zip;
    ca.zip_len = zip_len;
    ca.failures = 0;
    CHECK(pthread_create(&f1, NULL, feed, &a1) == 0);
    CHECK(pthread_create(&f2, NULL, feed, &a2) == 0);
    CHECK(pthread_create(&c, NULL, import_and_check, &ca) == 0);
    pthread_join(f1, NULL);
    pthread_join(f2, NULL);
    pthread_join(c, NULL);
    CHECK(a1.failures == 0 && a2.failures == 0 && ca.failures == 0);
    CHECK_STATUS(SOTTO_OK, sotto_tracer_flush(t));
    CHECK_STATUS(SOTTO_OK, sotto_tracer_get_status(&st, t));
    CHECK(st.heard == 2 * kPerFeeder && st.stored == 2 * kPerFeeder && st.pending == 0 &&
          st.checks == 3);
    CHECK_STATUS(SOTTO_OK, sotto_tracer_get_store_stats(&stats, t));
    CHECK(stats.rpis > 0);
    sotto_tracer_destroy(t);
    free(zip);
}
