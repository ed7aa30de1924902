/* SPDX-License-Identifier: Apache-2.0 */
/* libsotto_jni: key-file imports, the exposure check and the release of own keys. */
#include <stdlib.h>
#include <string.h>

#include "sotto_jni.h"

static jbyteArray import_result(JNIEnv* env, sotto_status st, const sotto_import_result* r) {
    if (st != SOTTO_OK) {
        sj_throw_status(env, st);
        return NULL;
    }
    return sj_new_bytes(env, r, sizeof *r);
}

JNIEXPORT jbyteArray JNICALL Java_org_sotto_Native_importKeyFile(JNIEnv* env, jclass cls,
                                                                 jlong handle, jlong now_ms,
                                                                 jbyteArray zip, jint flags) {
    (void)cls;
    sj_tracer* t = sj_tracer_of(env, handle);
    if (t == NULL) return NULL;
    size_t len = 0;
    int heap = 0;
    uint8_t* bytes = sj_copy_in(env, zip, NULL, 0, &len, &heap); /* copied: never pinned */
    if (bytes == NULL) return NULL;
    sotto_import_result r = {.struct_size = sizeof(sotto_import_result)};
    sj_clock_begin(t, now_ms);
    sotto_status st = sotto_tracer_import_keyfile(&r, t->tracer, bytes, len, (uint32_t)flags);
    sj_clock_end();
    free(bytes);
    return import_result(env, st, &r);
}

JNIEXPORT jbyteArray JNICALL Java_org_sotto_Native_importKeyFilePair(JNIEnv* env, jclass cls,
                                                                     jlong handle, jlong now_ms,
                                                                     jbyteArray bin, jbyteArray sig,
                                                                     jint flags) {
    (void)cls;
    sj_tracer* t = sj_tracer_of(env, handle);
    if (t == NULL) return NULL;
    size_t blen = 0, slen = 0;
    int bheap = 0, sheap = 0;
    uint8_t* b = sj_copy_in(env, bin, NULL, 0, &blen, &bheap);
    if (b == NULL) return NULL;
    uint8_t* s = sj_copy_in(env, sig, NULL, 0, &slen, &sheap);
    if (s == NULL) {
        free(b);
        return NULL;
    }
    sotto_import_result r = {.struct_size = sizeof(sotto_import_result)};
    sj_clock_begin(t, now_ms);
    sotto_status st =
        sotto_tracer_import_keyfile_pair(&r, t->tracer, b, blen, s, slen, (uint32_t)flags);
    sj_clock_end();
    free(b);
    free(s);
    return import_result(env, st, &r);
}

JNIEXPORT jbyteArray JNICALL Java_org_sotto_Native_importKeyFilePath(JNIEnv* env, jclass cls,
                                                                     jlong handle, jlong now_ms,
                                                                     jbyteArray path_utf8,
                                                                     jint flags) {
    (void)cls;
    sj_tracer* t = sj_tracer_of(env, handle);
    if (t == NULL) return NULL;
    char* path = sj_cstring(env, path_utf8);
    if (path == NULL) return NULL;
    sotto_import_result r = {.struct_size = sizeof(sotto_import_result)};
    sj_clock_begin(t, now_ms);
    sotto_status st = sotto_tracer_import_keyfile_path(&r, t->tracer, path, (uint32_t)flags);
    sj_clock_end();
    free(path);
    return import_result(env, st, &r);
}

/* ---- The check ------------------------------------------------------------------------- */

JNIEXPORT jlong JNICALL Java_org_sotto_Native_check(JNIEnv* env, jclass cls, jlong handle,
                                                    jlong now_ms) {
    (void)cls;
    sj_tracer* t = sj_tracer_of(env, handle);
    if (t == NULL) return 0;
    sotto_check* check = NULL;
    sj_clock_begin(t, now_ms);
    sotto_status st = sotto_tracer_check(&check, t->tracer);
    sj_clock_end();
    if (st != SOTTO_OK) {
        sj_throw_status(env, st);
        return 0;
    }
    return (jlong)(intptr_t)check;
}

JNIEXPORT void JNICALL Java_org_sotto_Native_checkDestroy(JNIEnv* env, jclass cls, jlong check) {
    (void)env;
    (void)cls;
    sotto_check_destroy((sotto_check*)(intptr_t)check);
}

JNIEXPORT jbyteArray JNICALL Java_org_sotto_Native_checkSummary(JNIEnv* env, jclass cls,
                                                                jlong check) {
    (void)cls;
    sotto_check_summary s = {.struct_size = sizeof(sotto_check_summary)};
    sotto_status st = sotto_check_get_summary(&s, (const sotto_check*)(intptr_t)check);
    if (st != SOTTO_OK) {
        sj_throw_status(env, st);
        return NULL;
    }
    return sj_new_bytes(env, &s, sizeof s);
}

/* Kinds of Native.checkArray (org.sotto.Native.CHECK_*). */
enum { CHECK_FILES = 0, CHECK_WINDOWS = 1, CHECK_SCANS = 2, CHECK_DAILY = 3, CHECK_RISK_DAYS = 4 };

static sotto_status get_array(int kind, void* out, size_t capacity, size_t* needed,
                              const sotto_check* check, size_t window) {
    switch (kind) {
        case CHECK_FILES:
            return sotto_check_get_files((sotto_import_result*)out, capacity,
                                         (uint32_t)sizeof(sotto_import_result), needed, check);
        case CHECK_WINDOWS:
            return sotto_check_get_windows((sotto_exposure_window*)out, capacity,
                                           (uint32_t)sizeof(sotto_exposure_window), needed, check);
        case CHECK_SCANS:
            return sotto_check_get_scan_instances((sotto_scan_instance*)out, capacity,
                                                  (uint32_t)sizeof(sotto_scan_instance), needed,
                                                  check, window);
        case CHECK_DAILY:
            return sotto_check_get_daily_summaries((sotto_daily_summary*)out, capacity,
                                                   (uint32_t)sizeof(sotto_daily_summary), needed,
                                                   check);
        default:
            return sotto_check_get_risk_days((sotto_risk_day*)out, capacity,
                                             (uint32_t)sizeof(sotto_risk_day), needed, check);
    }
}

static size_t element_size(int kind) {
    switch (kind) {
        case CHECK_FILES:
            return sizeof(sotto_import_result);
        case CHECK_WINDOWS:
            return sizeof(sotto_exposure_window);
        case CHECK_SCANS:
            return sizeof(sotto_scan_instance);
        case CHECK_DAILY:
            return sizeof(sotto_daily_summary);
        default:
            return sizeof(sotto_risk_day);
    }
}

/* One array of the report as packed structs (size, allocate, fill: the buffer convention). */
JNIEXPORT jbyteArray JNICALL Java_org_sotto_Native_checkArray(JNIEnv* env, jclass cls, jlong handle,
                                                              jint kind, jint window) {
    (void)cls;
    const sotto_check* check = (const sotto_check*)(intptr_t)handle;
    if (kind < CHECK_FILES || kind > CHECK_RISK_DAYS || window < 0) {
        sj_throw(env, SOTTO_ERR_INVALID_ARGUMENT, "checkArray: unknown kind");
        return NULL;
    }
    size_t needed = 0;
    sotto_status st = get_array(kind, NULL, 0, &needed, check, (size_t)window);
    if (needed == 0) {
        if (st != SOTTO_OK) {
            sj_throw_status(env, st);
            return NULL;
        }
        return sj_new_bytes(env, NULL, 0);
    }
    const size_t size = element_size(kind);
    if (needed > (size_t)INT32_MAX / size) {
        sj_throw(env, SOTTO_ERR_OUT_OF_MEMORY, "report array too large for Java");
        return NULL;
    }
    void* buf = calloc(needed, size);
    if (buf == NULL) {
        sj_throw(env, SOTTO_ERR_OUT_OF_MEMORY, "no memory for the report");
        return NULL;
    }
    st = get_array(kind, buf, needed, &needed, check, (size_t)window);
    jbyteArray a = NULL;
    if (st != SOTTO_OK) {
        sj_throw_status(env, st);
    } else {
        a = sj_new_bytes(env, buf, needed * size);
    }
    free(buf);
    return a;
}

/* ---- Own keys ---------------------------------------------------------------------------- */

JNIEXPORT jbyteArray JNICALL Java_org_sotto_Native_releaseOwnKeys(JNIEnv* env, jclass cls,
                                                                  jlong handle, jlong now_ms,
                                                                  jint consent) {
    (void)cls;
    sj_tracer* t = sj_tracer_of(env, handle);
    if (t == NULL) return NULL;
    sotto_key_list* list = NULL;
    sj_clock_begin(t, now_ms);
    sotto_status st = sotto_tracer_release_own_keys(&list, t->tracer, (uint32_t)consent);
    sj_clock_end();
    if (st != SOTTO_OK) {
        sj_throw_status(env, st);
        return NULL;
    }
    size_t needed = 0;
    st = sotto_key_list_get(NULL, 0, (uint32_t)sizeof(sotto_diagnosis_key), &needed, list);
    jbyteArray a = NULL;
    if (needed == 0) {
        sotto_key_list_destroy(list);
        if (st != SOTTO_OK) {
            sj_throw_status(env, st);
            return NULL;
        }
        return sj_new_bytes(env, NULL, 0);
    }
    sotto_diagnosis_key* keys = (sotto_diagnosis_key*)calloc(needed, sizeof *keys);
    if (keys == NULL) {
        sotto_key_list_destroy(list);
        sj_throw(env, SOTTO_ERR_OUT_OF_MEMORY, "no memory for the keys");
        return NULL;
    }
    st = sotto_key_list_get(keys, needed, (uint32_t)sizeof(sotto_diagnosis_key), &needed, list);
    sotto_key_list_destroy(list); /* wipes its copy */
    if (st != SOTTO_OK) {
        sj_throw_status(env, st);
    } else {
        a = sj_new_bytes(env, keys, needed * sizeof *keys);
    }
    sj_wipe(keys, needed * sizeof *keys);
    free(keys);
    return a;
}
