/* Structs that grow (sotto.h, "Structs can grow"): a caller compiled against an older, smaller
 * layout gets exactly its bytes, a newer caller's extra bytes stay untouched, a struct_size below
 * the first layout is refused, and arrays honour element_size as their stride. The old layouts
 * are declared here as an app built against the older header would have them. */
#include <stdio.h>
#include <string.h>

#include "c_abi_test.h"

/* sotto_tracer_status as first published (before discarded, radio_attached, round_open,
 * clock_suspect were appended). */
typedef struct old_tracer_status {
    uint32_t struct_size;
    uint32_t reserved;
    uint64_t heard, malformed, dropped_overflow, pending, stored, rejected, flushes, flush_failures,
        own_keys_created, rotations, files_imported, files_refused, files_skipped, checks,
        deduplicated, radio_errors;
} old_tracer_status;
SOTTO_STATIC_ASSERT(sizeof(old_tracer_status) == 136, "first layout of sotto_tracer_status");

/* sotto_store_stats as first published (before key_publications). */
typedef struct old_store_stats {
    uint32_t struct_size;
    uint32_t reserved;
    uint64_t sightings, rpis, days, own_keys, exposure_records, processed_files;
} old_store_stats;

static int64_t g_clock_ms;
static int64_t fixed_clock(void* user_data) { return *(const int64_t*)user_data; }

static int all_equal(const uint8_t* p, size_t n, uint8_t v) {
    size_t i;
    for (i = 0; i < n; ++i)
        if (p[i] != v) return 0;
    return 1;
}

/* The options' init writes no byte past the caller's struct: an app built against the first
 * layout of sotto_updater_options (8 bytes) keeps the bytes after it; the library takes the
 * defaults for the rest (sotto_updater_create accepts the 8 bytes). */
static void test_options_init_sizes(void) {
    struct {
        uint32_t struct_size;
        uint32_t connect_timeout_ms;
        uint8_t guard[40];
    } old_updater;
    sotto_updater_options now;
    struct {
        sotto_tracer_options o;
        uint8_t guard[16];
    } tracer;
    memset(&old_updater, 0xAB, sizeof old_updater);
    CHECK_STATUS(SOTTO_OK,
                 sotto_updater_options_init_sized((sotto_updater_options*)(void*)&old_updater, 8));
    CHECK(old_updater.struct_size == 8 && old_updater.connect_timeout_ms == 10000);
    CHECK(all_equal(old_updater.guard, sizeof old_updater.guard, 0xAB));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_updater_options_init_sized((sotto_updater_options*)(void*)&old_updater, 7));
    CHECK(all_equal(old_updater.guard, sizeof old_updater.guard, 0xAB) &&
          old_updater.struct_size == 8);
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_updater_options_init_sized(NULL, 8));
    /* The header's init passes this header's sizeof. */
    memset(&now, 0, sizeof now);
    CHECK_STATUS(SOTTO_OK, sotto_updater_options_init(&now));
    CHECK(now.struct_size == sizeof now && now.max_spool_bytes == 256u * 1024 * 1024);
    /* A newer app's larger struct: only the library's bytes are written, the rest untouched. */
    memset(&tracer, 0xCD, sizeof tracer);
    CHECK_STATUS(SOTTO_OK, sotto_tracer_options_init_sized(&tracer.o, sizeof tracer));
    CHECK(tracer.o.struct_size == sizeof tracer.o && tracer.o.retention_days == 14);
    CHECK(all_equal(tracer.guard, sizeof tracer.guard, 0xCD));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_tracer_options_init_sized(&tracer.o, 39));
}

static void test_status_layouts(sotto_tracer* t) {
    sotto_tracer_status now = {.struct_size = sizeof(sotto_tracer_status)};
    struct {
        old_tracer_status s;
        uint8_t guard[32];
    } old;
    struct {
        sotto_tracer_status s;
        uint8_t later[24];
    } newer;
    struct {
        old_store_stats s;
        uint8_t guard[16];
    } old_stats;

    CHECK_STATUS(SOTTO_OK, sotto_tracer_get_status(&now, t));
    CHECK(now.struct_size == sizeof now);
    CHECK(now.heard == 3 && now.malformed == 1 && now.pending == 0 && now.discarded == 2);

    /* The older caller: 136 bytes written, its guard untouched, the values right. */
    memset(&old, 0xCD, sizeof old);
    old.s.struct_size = (uint32_t)sizeof old.s;
    CHECK_STATUS(SOTTO_OK, sotto_tracer_get_status((sotto_tracer_status*)(void*)&old.s, t));
    CHECK(old.s.struct_size == 136);
    CHECK(all_equal(old.guard, sizeof old.guard, 0xCD));
    CHECK(old.s.heard == now.heard && old.s.malformed == now.malformed &&
          old.s.pending == now.pending && old.s.stored == now.stored &&
          old.s.flushes == now.flushes && old.s.own_keys_created == now.own_keys_created &&
          old.s.rotations == now.rotations && old.s.radio_errors == now.radio_errors &&
          old.s.deduplicated == now.deduplicated && old.s.checks == now.checks);

    /* Below the first layout: refused, nothing written (not even struct_size). */
    memset(&old, 0xCD, sizeof old);
    old.s.struct_size = 135;
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_tracer_get_status((sotto_tracer_status*)(void*)&old.s, t));
    CHECK(old.s.struct_size == 135 && old.s.heard == 0xCDCDCDCDCDCDCDCDull);
    old.s.struct_size = 0;
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_tracer_get_status((sotto_tracer_status*)(void*)&old.s, t));

    /* A newer caller: the library's sizeof is filled and reported, the rest is left alone. */
    memset(&newer, 0xCD, sizeof newer);
    newer.s.struct_size = (uint32_t)sizeof newer;
    CHECK_STATUS(SOTTO_OK, sotto_tracer_get_status(&newer.s, t));
    CHECK(newer.s.struct_size == sizeof(sotto_tracer_status));
    CHECK(newer.s.discarded == 2 && newer.s.heard == 3 && newer.s.reserved2[0] == 0);
    CHECK(all_equal(newer.later, sizeof newer.later, 0xCD));

    /* The store stats' first layout, likewise. */
    memset(&old_stats, 0xCD, sizeof old_stats);
    old_stats.s.struct_size = (uint32_t)sizeof old_stats.s;
    CHECK_STATUS(SOTTO_OK,
                 sotto_tracer_get_store_stats((sotto_store_stats*)(void*)&old_stats.s, t));
    CHECK(old_stats.s.struct_size == 56 && old_stats.s.sightings == 1 && old_stats.s.rpis == 1);
    CHECK(all_equal(old_stats.guard, sizeof old_stats.guard, 0xCD));
    old_stats.s.struct_size = 48;
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_tracer_get_store_stats((sotto_store_stats*)(void*)&old_stats.s, t));
}

/* Arrays: element i at i * element_size, min(element_size, sizeof) bytes each. */
static void test_array_stride(sotto_tracer* t) {
    enum { kStride = sizeof(sotto_diagnosis_key) + 8 };
    sotto_key_list* list = NULL;
    uint8_t buf[4 * kStride];
    sotto_diagnosis_key plain[4];
    size_t needed = 99, i;
    CHECK_STATUS(SOTTO_OK,
                 sotto_tracer_release_own_keys(&list, t, SOTTO_USER_CONFIRMED_UPLOAD_OF_OWN_KEYS));
    if (list == NULL) return;
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_key_list_get(plain, 4, 39, &needed, list));
    CHECK(needed == 99);
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_key_list_get(plain, 4, 1u << 20, &needed, list));
    CHECK_STATUS(SOTTO_OK, sotto_key_list_get(plain, 4, (uint32_t)sizeof plain[0], &needed, list));
    CHECK(needed >= 1 && needed <= 4);
    memset(buf, 0xCD, sizeof buf);
    CHECK_STATUS(SOTTO_OK,
                 sotto_key_list_get((sotto_diagnosis_key*)(void*)buf, 4, kStride, &needed, list));
    for (i = 0; i < needed; ++i) {
        sotto_diagnosis_key k;
        memcpy(&k, buf + i * kStride, sizeof k);
        CHECK(memcmp(&k, &plain[i], sizeof k) == 0);
        CHECK(all_equal(buf + i * kStride + sizeof k, kStride - sizeof k, 0xCD));
    }
    CHECK(all_equal(buf + needed * kStride, (4 - needed) * kStride, 0xCD));
    sotto_key_list_destroy(list);
}

void test_growth(const char* tmp_dir) {
    char path[4200];
    uint8_t key[32], heard[20];
    const uint8_t junk[5] = {1, 2, 3, 4, 5};
    sotto_tracer* t = NULL;
    sotto_tracer_options o;
    sotto_advertisement adv = {.struct_size = 79};
    struct {
        sotto_tracer_options o;
        uint8_t later[8];
    } newer_options;

    memset(key, 0x61, sizeof key);
    snprintf(path, sizeof path, "%.4000s/growth.db", tmp_dir);
    remove(path);
    g_clock_ms = (int64_t)2689920 * 600000 + 3600000;
    CHECK_STATUS(SOTTO_OK, sotto_tracer_options_init(&o));
    /* Input structs: a newer caller's larger options are refused (their fields would be
     * ignored silently). */
    memset(&newer_options, 0, sizeof newer_options);
    newer_options.o = o;
    newer_options.o.struct_size = (uint32_t)sizeof newer_options;
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_tracer_open(&t, path, key, 32, NULL, fixed_clock,
                                                               &g_clock_ms, &newer_options.o));
    CHECK(t == NULL);
    CHECK_STATUS(SOTTO_OK,
                 sotto_tracer_open(&t, path, key, 32, NULL, fixed_clock, &g_clock_ms, &o));
    if (t == NULL) return;

    /* Output with a struct_size below the first layout: refused before anything is done. */
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_tracer_current_advertisement(&adv, t));
    CHECK(adv.interval == 0 && adv.struct_size == 79);

    /* Two heard and pending, one malformed; the erase drops the two pending ones (discarded);
     * one heard after the erase is stored. */
    memset(heard, 0x4a, sizeof heard);
    CHECK_STATUS(SOTTO_OK, sotto_tracer_on_advertisement(t, heard, 20, -60, g_clock_ms - 5000));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                 sotto_tracer_on_advertisement(t, junk, sizeof junk, -60, g_clock_ms));
    memset(heard, 0x4b, sizeof heard);
    CHECK_STATUS(SOTTO_OK, sotto_tracer_on_advertisement(t, heard, 20, -61, g_clock_ms - 4000));
    CHECK_STATUS(SOTTO_OK, sotto_tracer_erase_all(t));
    g_clock_ms += 700000; /* the next interval: a new TEK */
    memset(heard, 0x4c, sizeof heard);
    CHECK_STATUS(SOTTO_OK, sotto_tracer_on_advertisement(t, heard, 20, -62, g_clock_ms - 1000));
    CHECK_STATUS(SOTTO_OK, sotto_tracer_flush(t));
    adv.struct_size = sizeof adv;
    CHECK_STATUS(SOTTO_OK, sotto_tracer_current_advertisement(&adv, t));
    CHECK(adv.struct_size == sizeof adv && adv.valid_until_ms > g_clock_ms);
    test_status_layouts(t);
    test_array_stride(t);
    test_options_init_sizes();
    sotto_tracer_destroy(t);
    remove(path);
}
