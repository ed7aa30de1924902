/* SPDX-License-Identifier: Apache-2.0 */
/* libsotto_jni: org.sotto.KeyUpdater's natives over sotto_updater_*. */
#include <stdlib.h>
#include <string.h>

#include "sotto_jni.h"

static jclass g_updater_class; /* org.sotto.KeyUpdater (the progress dispatcher) */
static jmethodID g_dispatch_progress;

/* Looked up on first use (JNI_OnLoad stays independent of the updater). */
static int progress_method(JNIEnv* env) {
    if (g_dispatch_progress != NULL) return 1;
    jclass c = (*env)->FindClass(env, "org/sotto/KeyUpdater");
    if (c == NULL) return 0;
    jclass global = (jclass)(*env)->NewGlobalRef(env, c);
    (*env)->DeleteLocalRef(env, c);
    if (global == NULL) return 0;
    jmethodID m =
        (*env)->GetStaticMethodID(env, global, "dispatchProgress", "(Ljava/lang/Object;IJJJJ)V");
    if (m == NULL) {
        (*env)->DeleteGlobalRef(env, global);
        return 0;
    }
    g_updater_class = global; /* a race stores the same class twice: harmless, one ref kept */
    g_dispatch_progress = m;
    return 1;
}

typedef struct progress_ctx {
    JNIEnv* env;
    jobject listener; /* a local reference of the run's frame */
} progress_ctx;

/* Runs on the thread of sotto_updater_run, which is the Java thread inside Native.updaterRun. */
static void progress_trampoline(void* user_data, const sotto_update_progress* p) {
    progress_ctx* ctx = (progress_ctx*)user_data;
    JNIEnv* env = ctx->env;
    if ((*env)->ExceptionCheck(env)) return;
    (*env)->CallStaticVoidMethod(env, g_updater_class, g_dispatch_progress, ctx->listener,
                                 (jint)p->phase, (jlong)p->files_done, (jlong)p->files_total,
                                 (jlong)p->bytes_done, (jlong)p->bytes_total);
    /* dispatchProgress catches what the listener throws (and cancels); only an allocation
     * failure can be pending here. */
    if ((*env)->ExceptionCheck(env)) (*env)->ExceptionClear(env);
}

JNIEXPORT jbyteArray JNICALL Java_org_sotto_Native_updaterOptionsDefaults(JNIEnv* env, jclass cls) {
    (void)cls;
    sotto_updater_options o;
    sotto_status st = sotto_updater_options_init(&o);
    if (st != SOTTO_OK) {
        sj_throw_status(env, st);
        return NULL;
    }
    return sj_new_bytes(env, &o, sizeof o);
}

JNIEXPORT jlong JNICALL Java_org_sotto_Native_updaterCreate(JNIEnv* env, jclass cls, jlong tracer,
                                                            jbyteArray source_utf8,
                                                            jbyteArray state_dir_utf8,
                                                            jbyteArray options) {
    (void)cls;
    sj_tracer* t = sj_tracer_of(env, tracer);
    if (t == NULL) return 0;
    sotto_updater_options o;
    size_t olen = 0;
    int oheap = 0;
    uint8_t* obytes = sj_copy_in(env, options, (uint8_t*)&o, sizeof o, &olen, &oheap);
    if (obytes == NULL) return 0;
    if (oheap || olen != sizeof o) {
        sj_free_copy(obytes, olen, oheap);
        sj_throw(env, SOTTO_ERR_INVALID_ARGUMENT, "updater options: wrong size for this library");
        return 0;
    }
    char* source = sj_cstring(env, source_utf8);
    if (source == NULL) return 0;
    char* state = sj_cstring(env, state_dir_utf8);
    if (state == NULL) {
        free(source);
        return 0;
    }
    sotto_updater* u = NULL;
    sotto_status st = sotto_updater_create(&u, t->tracer, source, state, &o);
    free(source);
    free(state);
    if (st != SOTTO_OK) {
        sj_throw_status(env, st);
        return 0;
    }
    return (jlong)(intptr_t)u;
}

JNIEXPORT void JNICALL Java_org_sotto_Native_updaterRun(JNIEnv* env, jclass cls, jlong updater,
                                                        jlong tracer, jlong now_ms,
                                                        jobject listener) {
    (void)cls;
    sj_tracer* t = sj_tracer_of(env, tracer);
    if (t == NULL) return;
    if (listener != NULL && !progress_method(env)) return; /* exception pending */
    progress_ctx ctx = {env, listener};
    sj_clock_begin(t, now_ms);
    sotto_status st = sotto_updater_run((sotto_updater*)(intptr_t)updater,
                                        listener != NULL ? progress_trampoline : NULL, &ctx);
    sj_clock_end();
    if (st != SOTTO_OK) sj_throw_status(env, st);
}

JNIEXPORT void JNICALL Java_org_sotto_Native_updaterCancel(JNIEnv* env, jclass cls, jlong updater) {
    (void)env;
    (void)cls;
    sotto_updater_cancel((sotto_updater*)(intptr_t)updater);
}

JNIEXPORT void JNICALL Java_org_sotto_Native_updaterDestroy(JNIEnv* env, jclass cls,
                                                            jlong updater) {
    (void)env;
    (void)cls;
    sotto_updater_destroy((sotto_updater*)(intptr_t)updater);
}

JNIEXPORT jbyteArray JNICALL Java_org_sotto_Native_updaterSummary(JNIEnv* env, jclass cls,
                                                                  jlong updater) {
    (void)cls;
    sotto_update_summary s = {.struct_size = sizeof(sotto_update_summary)};
    s.struct_size = (uint32_t)sizeof s;
    sotto_status st = sotto_updater_get_summary(&s, (const sotto_updater*)(intptr_t)updater);
    if (st != SOTTO_OK) {
        sj_throw_status(env, st);
        return NULL;
    }
    return sj_new_bytes(env, &s, sizeof s);
}

JNIEXPORT jbyteArray JNICALL Java_org_sotto_Native_updaterFile(JNIEnv* env, jclass cls,
                                                               jlong updater, jint index) {
    (void)cls;
    sotto_update_file f = {.struct_size = sizeof(sotto_update_file)};
    f.struct_size = (uint32_t)sizeof f;
    sotto_status st =
        sotto_updater_get_file(&f, (const sotto_updater*)(intptr_t)updater, (size_t)index);
    if (st != SOTTO_OK) {
        sj_throw_status(env, st);
        return NULL;
    }
    return sj_new_bytes(env, &f, sizeof f);
}

JNIEXPORT jbyteArray JNICALL Java_org_sotto_Native_updaterFilePath(JNIEnv* env, jclass cls,
                                                                   jlong updater, jint index) {
    (void)cls;
    const sotto_updater* u = (const sotto_updater*)(intptr_t)updater;
    size_t needed = 0;
    sotto_status st = sotto_updater_get_file_path(NULL, 0, &needed, u, (size_t)index);
    if (needed == 0) {
        sj_throw_status(env, st != SOTTO_OK ? st : SOTTO_ERR_INTERNAL);
        return NULL;
    }
    char* buf = (char*)malloc(needed);
    if (buf == NULL) {
        sj_throw(env, SOTTO_ERR_OUT_OF_MEMORY, "no memory for a path");
        return NULL;
    }
    st = sotto_updater_get_file_path(buf, needed, &needed, u, (size_t)index);
    jbyteArray a = NULL;
    if (st != SOTTO_OK) {
        sj_throw_status(env, st);
    } else {
        a = sj_new_bytes(env, buf, strlen(buf)); /* without the NUL */
    }
    free(buf);
    return a;
}

JNIEXPORT jlong JNICALL Java_org_sotto_Native_updaterTakeCheck(JNIEnv* env, jclass cls,
                                                               jlong updater) {
    (void)cls;
    sotto_check* check = NULL;
    sotto_status st = sotto_updater_take_check(&check, (sotto_updater*)(intptr_t)updater);
    if (st != SOTTO_OK) {
        sj_throw_status(env, st);
        return 0;
    }
    return (jlong)(intptr_t)check;
}
