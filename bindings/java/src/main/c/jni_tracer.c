/* SPDX-License-Identifier: Apache-2.0 */
/* libsotto_jni: org.sotto.Tracer's natives over sotto_tracer_* (and the trust store it takes).
 * Structs cross as byte[] in the C layout (native byte order); org.sotto.Layout decodes them. */
#include <stdlib.h>
#include <string.h>

#include "sotto_jni.h"

/* `call` (a sotto function of `t`) between the clock snapshot's begin and end, into `st`. */
static inline sotto_status sj_end(sotto_status st) {
    sj_clock_end();
    return st;
}
#define SJ_CALL(t, now, call) (sj_clock_begin((t), (now)), sj_end(call))

/* ---- Trust store ----------------------------------------------------------------------- */

JNIEXPORT jlong JNICALL Java_org_sotto_Native_trustCreate(JNIEnv* env, jclass cls) {
    (void)cls;
    sotto_trust_store* trust = NULL;
    sotto_status st = sotto_trust_store_create(&trust);
    if (st != SOTTO_OK) {
        sj_throw_status(env, st);
        return 0;
    }
    return (jlong)(intptr_t)trust;
}

JNIEXPORT void JNICALL Java_org_sotto_Native_trustDestroy(JNIEnv* env, jclass cls, jlong trust) {
    (void)env;
    (void)cls;
    sotto_trust_store_destroy((sotto_trust_store*)(intptr_t)trust);
}

JNIEXPORT void JNICALL Java_org_sotto_Native_trustAdd(JNIEnv* env, jclass cls, jlong trust,
                                                      jbyteArray key_id, jbyteArray key_version,
                                                      jbyteArray key, jboolean is_pem) {
    (void)cls;
    char* id = NULL;
    char* version = NULL;
    if (key_id != NULL && (id = sj_cstring(env, key_id)) == NULL) return;
    if (key_version != NULL && (version = sj_cstring(env, key_version)) == NULL) {
        free(id);
        return;
    }
    size_t len = 0;
    int heap = 0;
    uint8_t* k = sj_copy_in(env, key, NULL, 0, &len, &heap);
    if (k != NULL) {
        sotto_status st = sotto_trust_store_add((sotto_trust_store*)(intptr_t)trust, id, version, k,
                                                len, is_pem ? 1 : 0);
        sj_free_copy(k, len, heap);
        if (st != SOTTO_OK) sj_throw_status(env, st);
    }
    free(id);
    free(version);
}

/* ---- Options --------------------------------------------------------------------------- */

JNIEXPORT jbyteArray JNICALL Java_org_sotto_Native_optionsDefaults(JNIEnv* env, jclass cls) {
    (void)cls;
    sotto_tracer_options o;
    sotto_status st = sotto_tracer_options_init(&o);
    if (st != SOTTO_OK) {
        sj_throw_status(env, st);
        return NULL;
    }
    return sj_new_bytes(env, &o, sizeof o);
}

/* ---- Open and close -------------------------------------------------------------------- */

JNIEXPORT jlong JNICALL Java_org_sotto_Native_open(JNIEnv* env, jclass cls, jbyteArray path_utf8,
                                                   jbyteArray secret, jboolean passphrase,
                                                   jlong trust, jboolean has_clock, jlong now_ms,
                                                   jbyteArray options) {
    (void)cls;
    sotto_tracer_options o;
    size_t olen = 0;
    int oheap = 0;
    uint8_t* obytes = sj_copy_in(env, options, (uint8_t*)&o, sizeof o, &olen, &oheap);
    if (obytes == NULL) return 0;
    if (oheap || olen != sizeof o) {
        sj_free_copy(obytes, olen, oheap);
        sj_throw(env, SOTTO_ERR_INVALID_ARGUMENT, "options: wrong size for this library");
        return 0;
    }
    char* path = sj_cstring(env, path_utf8);
    if (path == NULL) return 0;
    uint8_t stack[64];
    size_t slen = 0;
    int sheap = 0;
    uint8_t* s = sj_copy_in(env, secret, stack, sizeof stack, &slen, &sheap);
    if (s == NULL) {
        free(path);
        return 0;
    }
    sj_tracer* t = (sj_tracer*)calloc(1, sizeof *t);
    if (t == NULL) {
        sj_free_copy(s, slen, sheap);
        free(path);
        sj_throw(env, SOTTO_ERR_OUT_OF_MEMORY, "no memory for the tracer");
        return 0;
    }
    t->has_clock = has_clock ? 1 : 0;
    atomic_init(&t->last_now_ms, now_ms);
    sotto_clock_fn clock = t->has_clock ? sj_clock : NULL;
    const sotto_trust_store* ts = (const sotto_trust_store*)(intptr_t)trust;
    sotto_status st;
    sj_clock_begin(t, now_ms);
    if (passphrase) {
        st = sotto_tracer_open_passphrase(&t->tracer, path, s, slen, ts, clock, t, &o);
    } else {
        st = sotto_tracer_open(&t->tracer, path, s, slen, ts, clock, t, &o);
    }
    sj_clock_end();
    sj_free_copy(s, slen, sheap);
    free(path);
    if (st != SOTTO_OK) {
        free(t);
        sj_throw_status(env, st);
        return 0;
    }
    return (jlong)(intptr_t)t;
}

/* No snapshot: a clock read while closing gets the latest one (close must not fail because the
 * app's clock does). */
JNIEXPORT void JNICALL Java_org_sotto_Native_destroy(JNIEnv* env, jclass cls, jlong handle) {
    (void)env;
    (void)cls;
    sj_tracer* t = (sj_tracer*)(intptr_t)handle;
    if (t == NULL) return;
    sotto_tracer_destroy(t->tracer); /* writes pending advertisements */
    free(t);
}

/* ---- Broadcasting and hearing ---------------------------------------------------------- */

JNIEXPORT jbyteArray JNICALL Java_org_sotto_Native_currentAdvertisement(JNIEnv* env, jclass cls,
                                                                        jlong handle,
                                                                        jlong now_ms) {
    (void)cls;
    sj_tracer* t = sj_tracer_of(env, handle);
    if (t == NULL) return NULL;
    sotto_advertisement adv = {.struct_size = sizeof(sotto_advertisement)};
    const sotto_status st = SJ_CALL(t, now_ms, sotto_tracer_current_advertisement(&adv, t->tracer));
    if (st != SOTTO_OK) {
        sj_throw_status(env, st);
        return NULL;
    }
    return sj_new_bytes(env, &adv, sizeof adv);
}

/* true: accepted; false: refused as not GAEN or out of range (counted by sotto). */
JNIEXPORT jboolean JNICALL Java_org_sotto_Native_onAdvertisement(JNIEnv* env, jclass cls,
                                                                 jlong handle, jlong now_ms,
                                                                 jbyteArray data, jint rssi_dbm,
                                                                 jlong time_ms) {
    (void)cls;
    sj_tracer* t = sj_tracer_of(env, handle);
    if (t == NULL) return JNI_FALSE;
    uint8_t stack[64];
    size_t len = 0;
    int heap = 0;
    uint8_t* bytes = sj_copy_in(env, data, stack, sizeof stack, &len, &heap);
    if (bytes == NULL) return JNI_FALSE;
    const sotto_status st =
        SJ_CALL(t, now_ms, sotto_tracer_on_advertisement(t->tracer, bytes, len, rssi_dbm, time_ms));
    if (heap) free(bytes);
    if (st == SOTTO_OK) return JNI_TRUE;
    if (st == SOTTO_ERR_INVALID_ARGUMENT || st == SOTTO_ERR_OUT_OF_RANGE) return JNI_FALSE;
    sj_throw_status(env, st);
    return JNI_FALSE;
}

/* `packed`: `count` sotto_heard_advertisement structs as org.sotto.HeardBatch lays them out. */
JNIEXPORT jint JNICALL Java_org_sotto_Native_onAdvertisements(JNIEnv* env, jclass cls, jlong handle,
                                                              jlong now_ms, jbyteArray packed,
                                                              jint count) {
    (void)cls;
    sj_tracer* t = sj_tracer_of(env, handle);
    if (t == NULL) return 0;
    if (count < 0 || packed == NULL ||
        (*env)->GetArrayLength(env, packed) <
            (jlong)count * (jlong)sizeof(sotto_heard_advertisement)) {
        sj_throw(env, SOTTO_ERR_INVALID_ARGUMENT, "batch: count does not match the buffer");
        return 0;
    }
    const size_t bytes = (size_t)count * sizeof(sotto_heard_advertisement);
    /* A stack copy for batches up to 256 (12 KiB), else the heap. Never pinned: sotto may write
     * to the store during this call. */
    sotto_heard_advertisement stack[256];
    sotto_heard_advertisement* heard = stack;
    if ((size_t)count > sizeof stack / sizeof stack[0]) {
        heard = (sotto_heard_advertisement*)malloc(bytes);
        if (heard == NULL) {
            sj_throw(env, SOTTO_ERR_OUT_OF_MEMORY, "no memory for a copy of the batch");
            return 0;
        }
    }
    if (count > 0) {
        (*env)->GetByteArrayRegion(env, packed, 0, (jsize)bytes, (jbyte*)heard);
        if ((*env)->ExceptionCheck(env)) {
            if (heard != stack) free(heard);
            return 0;
        }
    }
    size_t accepted = 0;
    const sotto_status st = SJ_CALL(
        t, now_ms, sotto_tracer_on_advertisements(t->tracer, heard, (size_t)count, &accepted));
    if (heard != stack) free(heard);
    if (st != SOTTO_OK) {
        sj_throw_status(env, st);
        return 0;
    }
    return (jint)accepted;
}

/* ---- Periodic work, retention, erase --------------------------------------------------- */

JNIEXPORT void JNICALL Java_org_sotto_Native_flush(JNIEnv* env, jclass cls, jlong handle,
                                                   jlong now_ms) {
    (void)cls;
    sj_tracer* t = sj_tracer_of(env, handle);
    if (t == NULL) return;
    const sotto_status st = SJ_CALL(t, now_ms, sotto_tracer_flush(t->tracer));
    if (st != SOTTO_OK) sj_throw_status(env, st);
}

/* The tick report as a sotto_tick_report (struct_size set here, to this header's size). */
JNIEXPORT jbyteArray JNICALL Java_org_sotto_Native_tick(JNIEnv* env, jclass cls, jlong handle,
                                                        jlong now_ms) {
    (void)cls;
    sj_tracer* t = sj_tracer_of(env, handle);
    if (t == NULL) return NULL;
    sotto_tick_report r;
    memset(&r, 0, sizeof r);
    r.struct_size = (uint32_t)sizeof r;
    const sotto_status st = SJ_CALL(t, now_ms, sotto_tracer_tick(&r, t->tracer));
    if (st != SOTTO_OK) {
        sj_throw_status(env, st);
        return NULL;
    }
    return sj_new_bytes(env, &r, sizeof r);
}

JNIEXPORT void JNICALL Java_org_sotto_Native_applyRetention(JNIEnv* env, jclass cls, jlong handle,
                                                            jlong now_ms, jint flags) {
    (void)cls;
    sj_tracer* t = sj_tracer_of(env, handle);
    if (t == NULL) return;
    const sotto_status st =
        SJ_CALL(t, now_ms, sotto_tracer_apply_retention(t->tracer, (uint32_t)flags));
    if (st != SOTTO_OK) sj_throw_status(env, st);
}

JNIEXPORT void JNICALL Java_org_sotto_Native_eraseAll(JNIEnv* env, jclass cls, jlong handle,
                                                      jlong now_ms) {
    (void)cls;
    sj_tracer* t = sj_tracer_of(env, handle);
    if (t == NULL) return;
    const sotto_status st = SJ_CALL(t, now_ms, sotto_tracer_erase_all(t->tracer));
    if (st != SOTTO_OK) sj_throw_status(env, st);
}

/* ---- Status ------------------------------------------------------------------------------ */

JNIEXPORT jbyteArray JNICALL Java_org_sotto_Native_status(JNIEnv* env, jclass cls, jlong handle) {
    (void)cls;
    sj_tracer* t = sj_tracer_of(env, handle);
    if (t == NULL) return NULL;
    sotto_tracer_status s = {.struct_size = sizeof(sotto_tracer_status)};
    sotto_status st = sotto_tracer_get_status(&s, t->tracer);
    if (st != SOTTO_OK) {
        sj_throw_status(env, st);
        return NULL;
    }
    return sj_new_bytes(env, &s, sizeof s);
}

JNIEXPORT jbyteArray JNICALL Java_org_sotto_Native_storeStats(JNIEnv* env, jclass cls,
                                                              jlong handle) {
    (void)cls;
    sj_tracer* t = sj_tracer_of(env, handle);
    if (t == NULL) return NULL;
    sotto_store_stats s = {.struct_size = sizeof(sotto_store_stats)};
    sotto_status st = sotto_tracer_get_store_stats(&s, t->tracer);
    if (st != SOTTO_OK) {
        sj_throw_status(env, st);
        return NULL;
    }
    return sj_new_bytes(env, &s, sizeof s);
}
