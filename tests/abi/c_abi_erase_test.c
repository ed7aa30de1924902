/* C ABI: the erase mark survives a restart. A tracer reopened on an erased store (a real
 * SQLCipher file in TEMP_DIR, a host clock callback) drops a late batch stamped before the erase
 * and stores what was stamped after it. */
#include <stdio.h>
#include <string.h>

#include "c_abi_test.h"

static int64_t erase_clock(void* user_data) { return *(const int64_t*)user_data; }

void test_erase_restart(const char* tmp) {
    static const char* const suffixes[] = {"", ".kdf", "-wal", "-shm", "-journal"};
    char path[4200], p[4300];
    uint8_t key[32], before[20], after[20];
    int64_t now_ms = (int64_t)1614556800 * 1000 + 3600 * 1000; /* 2021-03-01 01:00 UTC */
    int64_t erased_at;
    size_t i;
    sotto_tracer* t = NULL;
    sotto_tracer_status st = {.struct_size = sizeof(sotto_tracer_status)};
    sotto_store_stats stats = {.struct_size = sizeof(sotto_store_stats)};

    memset(key, 0x41, sizeof key);
    memset(before, 0x51, sizeof before);
    memset(after, 0x52, sizeof after);
    snprintf(path, sizeof path, "%.4000s/erase_mark.db", tmp);
    for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; ++i) {
        snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
        remove(p);
    }
    CHECK_STATUS(SOTTO_OK, sotto_tracer_open(&t, path, key, 32, NULL, erase_clock, &now_ms, NULL));
    if (t == NULL) return;
    erased_at = now_ms;
    CHECK_STATUS(SOTTO_OK, sotto_tracer_erase_all(t));
    sotto_tracer_destroy(t);
    t = NULL;

    now_ms += 60 * 1000; /* the app restarts a minute later; Android delivers its batch late */
    CHECK_STATUS(SOTTO_OK, sotto_tracer_open(&t, path, key, 32, NULL, erase_clock, &now_ms, NULL));
    if (t == NULL) return;
    CHECK_STATUS(SOTTO_OK, sotto_tracer_on_advertisement(t, before, 20, -60, erased_at - 5000));
    CHECK_STATUS(SOTTO_OK, sotto_tracer_on_advertisement(t, after, 20, -60, erased_at + 1));
    CHECK_STATUS(SOTTO_OK, sotto_tracer_flush(t));
    /* The one stamped before the erase is dropped before decoding (not heard, not stored). */
    CHECK_STATUS(SOTTO_OK, sotto_tracer_get_status(&st, t));
    CHECK(st.heard == 1 && st.stored == 1 && st.pending == 0);
    CHECK_STATUS(SOTTO_OK, sotto_tracer_get_store_stats(&stats, t));
    CHECK(stats.sightings == 1);
    sotto_tracer_destroy(t);
}
