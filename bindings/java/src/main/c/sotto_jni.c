/* SPDX-License-Identifier: Apache-2.0 */
/* libsotto_jni: loading, exceptions, copies, the clock snapshot, the log sink, versions. */
#include "sotto_jni.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static JavaVM* g_vm;
static jclass g_exception_class; /* org.sotto.SottoException */
static jmethodID g_exception_ctor;
static jclass g_sotto_class; /* org.sotto.Sotto (the log dispatcher) */
static jmethodID g_dispatch_log;

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM* vm, void* reserved) {
    (void)reserved;
    JNIEnv* env = NULL;
    if ((*vm)->GetEnv(vm, (void**)&env, JNI_VERSION_1_6) != JNI_OK) return JNI_ERR;
    g_vm = vm;
    jclass c = (*env)->FindClass(env, "org/sotto/SottoException");
    if (c == NULL) return JNI_ERR;
    g_exception_class = (jclass)(*env)->NewGlobalRef(env, c);
    (*env)->DeleteLocalRef(env, c);
    if (g_exception_class == NULL) return JNI_ERR;
    g_exception_ctor = (*env)->GetMethodID(env, g_exception_class, "<init>",
                                           "(ILjava/lang/String;Ljava/lang/String;)V");
    if (g_exception_ctor == NULL) return JNI_ERR;
    c = (*env)->FindClass(env, "org/sotto/Sotto");
    if (c == NULL) return JNI_ERR;
    g_sotto_class = (jclass)(*env)->NewGlobalRef(env, c);
    (*env)->DeleteLocalRef(env, c);
    if (g_sotto_class == NULL) return JNI_ERR;
    g_dispatch_log =
        (*env)->GetStaticMethodID(env, g_sotto_class, "dispatchLog", "(Lorg/sotto/LogSink;I[B)V");
    if (g_dispatch_log == NULL) return JNI_ERR;
    return JNI_VERSION_1_6;
}

void sj_throw(JNIEnv* env, sotto_status status, const char* message) {
    if ((*env)->ExceptionCheck(env)) return; /* keep the first */
    jstring name = (*env)->NewStringUTF(env, sotto_status_name(status));
    if (name == NULL) return;
    jstring msg = (*env)->NewStringUTF(env, message != NULL ? message : "");
    if (msg == NULL) {
        (*env)->DeleteLocalRef(env, name);
        return;
    }
    jobject e =
        (*env)->NewObject(env, g_exception_class, g_exception_ctor, (jint)status, name, msg);
    (*env)->DeleteLocalRef(env, name);
    (*env)->DeleteLocalRef(env, msg);
    if (e == NULL) return;
    (*env)->Throw(env, (jthrowable)e);
    (*env)->DeleteLocalRef(env, e);
}

void sj_throw_status(JNIEnv* env, sotto_status status) {
    /* sotto's messages are static English text (never user data), so ASCII. */
    sj_throw(env, status, sotto_last_error_message());
}

jbyteArray sj_new_bytes(JNIEnv* env, const void* data, size_t len) {
    if (len > (size_t)INT32_MAX) {
        sj_throw(env, SOTTO_ERR_OUT_OF_MEMORY, "result too large for a Java array");
        return NULL;
    }
    jbyteArray a = (*env)->NewByteArray(env, (jsize)len);
    if (a == NULL) return NULL; /* OutOfMemoryError pending */
    if (len > 0) {
        (*env)->SetByteArrayRegion(env, a, 0, (jsize)len, (const jbyte*)data);
        if ((*env)->ExceptionCheck(env)) {
            (*env)->DeleteLocalRef(env, a);
            return NULL;
        }
    }
    return a;
}

void sj_wipe(void* p, size_t len) {
    volatile unsigned char* v = (volatile unsigned char*)p;
    while (len-- > 0) *v++ = 0;
}

uint8_t* sj_copy_in(JNIEnv* env, jbyteArray array, uint8_t* stack, size_t stack_cap,
                    size_t* out_len, int* heap) {
    *heap = 0;
    *out_len = 0;
    if (array == NULL) {
        sj_throw(env, SOTTO_ERR_INVALID_ARGUMENT, "a byte array argument is null");
        return NULL;
    }
    const jsize n = (*env)->GetArrayLength(env, array);
    uint8_t* copy = stack;
    if ((size_t)n > stack_cap || stack == NULL) {
        copy = (uint8_t*)malloc(n > 0 ? (size_t)n : 1);
        if (copy == NULL) {
            sj_throw(env, SOTTO_ERR_OUT_OF_MEMORY, "no memory for a copy of the argument");
            return NULL;
        }
        *heap = 1;
    }
    if (n > 0) {
        (*env)->GetByteArrayRegion(env, array, 0, n, (jbyte*)copy);
        if ((*env)->ExceptionCheck(env)) {
            if (*heap) free(copy);
            *heap = 0;
            return NULL;
        }
    }
    *out_len = (size_t)n;
    return copy;
}

void sj_free_copy(uint8_t* copy, size_t len, int heap) {
    if (copy == NULL) return;
    sj_wipe(copy, len);
    if (heap) free(copy);
}

char* sj_cstring(JNIEnv* env, jbyteArray utf8) {
    size_t len = 0;
    int heap = 0;
    uint8_t* copy = sj_copy_in(env, utf8, NULL, 0, &len, &heap);
    if (copy == NULL) return NULL;
    char* s = (char*)realloc(copy, len + 1);
    if (s == NULL) {
        free(copy);
        sj_throw(env, SOTTO_ERR_OUT_OF_MEMORY, "no memory for a string argument");
        return NULL;
    }
    s[len] = '\0';
    if (memchr(s, '\0', len) != NULL) {
        free(s);
        sj_throw(env, SOTTO_ERR_INVALID_ARGUMENT, "a string argument contains a NUL character");
        return NULL;
    }
    return s;
}

sj_tracer* sj_tracer_of(JNIEnv* env, jlong handle) {
    sj_tracer* t = (sj_tracer*)(intptr_t)handle;
    if (t == NULL) sj_throw(env, SOTTO_ERR_FAILED_PRECONDITION, "the tracer is closed");
    return t;
}

/* ---- The clock snapshot ---------------------------------------------------------------------
 * org.sotto.Tracer calls the app's Clock in Java before each call (so an exception it throws
 * reaches the app before sotto did anything) and passes the value down; sotto's clock callback
 * returns it. Every read during one call sees the same instant. A read on a thread that is not
 * in a call (none today) gets the latest snapshot of that tracer. */

static _Thread_local const sj_tracer* tl_clock_owner;
static _Thread_local int64_t tl_clock_now;

int64_t sj_clock(void* user_data) {
    const sj_tracer* t = (const sj_tracer*)user_data;
    if (tl_clock_owner == t) return tl_clock_now;
    return atomic_load_explicit(&t->last_now_ms, memory_order_relaxed);
}

void sj_clock_begin(const sj_tracer* t, int64_t now_ms) {
    if (!t->has_clock) return;
    tl_clock_owner = t;
    tl_clock_now = now_ms;
    atomic_store_explicit(&((sj_tracer*)t)->last_now_ms, now_ms, memory_order_relaxed);
}

void sj_clock_end(void) { tl_clock_owner = NULL; }

/* ---- The log sink ---------------------------------------------------------------------------
 * One process-wide sink (sotto's is process-wide too). sotto gets a C trampoline with no
 * user_data; the trampoline reads the current Java sink under a mutex and calls
 * org.sotto.Sotto.dispatchLog(sink, level, message bytes): only what the C ABI passes. A thread
 * sotto logs from that the JVM does not know is attached as a daemon and detached when it
 * exits. */

static pthread_mutex_t g_sink_mu = PTHREAD_MUTEX_INITIALIZER;
static jobject g_sink; /* global ref to the org.sotto.LogSink, or NULL */
static pthread_key_t g_detach_key;
static pthread_once_t g_detach_once = PTHREAD_ONCE_INIT;

static void detach_thread(void* unused) {
    (void)unused;
    if (g_vm != NULL) (*g_vm)->DetachCurrentThread(g_vm);
}
static void make_detach_key(void) { (void)pthread_key_create(&g_detach_key, detach_thread); }

static JNIEnv* env_for_this_thread(void) {
    JNIEnv* env = NULL;
    jint r = (*g_vm)->GetEnv(g_vm, (void**)&env, JNI_VERSION_1_6);
    if (r == JNI_OK) return env;
    if (r != JNI_EDETACHED) return NULL;
    (void)pthread_once(&g_detach_once, make_detach_key);
    if ((*g_vm)->AttachCurrentThreadAsDaemon(g_vm, (void**)&env, NULL) != JNI_OK) return NULL;
    (void)pthread_setspecific(g_detach_key, (void*)1); /* detach at thread exit */
    return env;
}

static void log_trampoline(void* user_data, int32_t level, const char* message, size_t len) {
    (void)user_data;
    JNIEnv* env = env_for_this_thread();
    if (env == NULL || (*env)->ExceptionCheck(env)) return;
    jobject sink = NULL;
    pthread_mutex_lock(&g_sink_mu);
    if (g_sink != NULL) sink = (*env)->NewLocalRef(env, g_sink);
    pthread_mutex_unlock(&g_sink_mu);
    if (sink == NULL) return;
    if (len > 4096) len = 4096; /* sotto's messages are short; bound what reaches the app */
    jbyteArray bytes = sj_new_bytes(env, message, len);
    if (bytes != NULL) {
        (*env)->CallStaticVoidMethod(env, g_sotto_class, g_dispatch_log, sink, (jint)level, bytes);
        (*env)->DeleteLocalRef(env, bytes);
    }
    /* dispatchLog catches what the sink throws; this clears only an allocation failure. */
    if ((*env)->ExceptionCheck(env)) (*env)->ExceptionClear(env);
    (*env)->DeleteLocalRef(env, sink);
}

JNIEXPORT void JNICALL Java_org_sotto_Native_setLogSink(JNIEnv* env, jclass cls, jobject sink,
                                                        jint min_level) {
    (void)cls;
    jobject global = NULL;
    if (sink != NULL) {
        global = (*env)->NewGlobalRef(env, sink);
        if (global == NULL) {
            sj_throw(env, SOTTO_ERR_OUT_OF_MEMORY, "no memory for the log sink");
            return;
        }
    }
    pthread_mutex_lock(&g_sink_mu);
    sotto_status st = sotto_set_log_sink(global != NULL ? log_trampoline : NULL, NULL, min_level);
    jobject old = NULL;
    if (st == SOTTO_OK) {
        old = g_sink;
        g_sink = global;
    }
    pthread_mutex_unlock(&g_sink_mu);
    if (st != SOTTO_OK) {
        if (global != NULL) (*env)->DeleteGlobalRef(env, global);
        sj_throw_status(env, st);
        return;
    }
    /* A call running the old sink holds its own local reference. */
    if (old != NULL) (*env)->DeleteGlobalRef(env, old);
}

/* ---- Versions, names, layouts ----------------------------------------------------------- */

JNIEXPORT jstring JNICALL Java_org_sotto_Native_version(JNIEnv* env, jclass cls) {
    (void)cls;
    return (*env)->NewStringUTF(env, sotto_version());
}

JNIEXPORT jint JNICALL Java_org_sotto_Native_abiVersion(JNIEnv* env, jclass cls) {
    (void)env;
    (void)cls;
    return (jint)sotto_abi_version();
}

JNIEXPORT jint JNICALL Java_org_sotto_Native_headerAbiVersion(JNIEnv* env, jclass cls) {
    (void)env;
    (void)cls;
    return SOTTO_ABI_VERSION;
}

JNIEXPORT jstring JNICALL Java_org_sotto_Native_statusName(JNIEnv* env, jclass cls, jint status) {
    (void)cls;
    return (*env)->NewStringUTF(env, sotto_status_name(status));
}

/* The sizes of the structs the Java side decodes, in the order of org.sotto.Layout.SIZES: the
 * Java offsets are checked against the header this library was compiled with when it loads. */
JNIEXPORT jintArray JNICALL Java_org_sotto_Native_structSizes(JNIEnv* env, jclass cls) {
    (void)cls;
    const jint sizes[] = {
        (jint)sizeof(sotto_advertisement),   (jint)sizeof(sotto_heard_advertisement),
        (jint)sizeof(sotto_diagnosis_key),   (jint)sizeof(sotto_keyfile_info),
        (jint)sizeof(sotto_import_result),   (jint)sizeof(sotto_check_summary),
        (jint)sizeof(sotto_exposure_window), (jint)sizeof(sotto_scan_instance),
        (jint)sizeof(sotto_daily_summary),   (jint)sizeof(sotto_risk_day),
        (jint)sizeof(sotto_tracer_status),   (jint)sizeof(sotto_store_stats),
        (jint)sizeof(sotto_tracer_options),  (jint)sizeof(sotto_tick_report),
        (jint)sizeof(sotto_update_summary),  (jint)sizeof(sotto_update_file),
    };
    const jsize n = (jsize)(sizeof sizes / sizeof sizes[0]);
    jintArray a = (*env)->NewIntArray(env, n);
    if (a == NULL) return NULL;
    (*env)->SetIntArrayRegion(env, a, 0, n, sizes);
    if ((*env)->ExceptionCheck(env)) {
        (*env)->DeleteLocalRef(env, a);
        return NULL;
    }
    return a;
}

/* ---- Protocol ------------------------------------------------------------------------------ */

JNIEXPORT jbyteArray JNICALL Java_org_sotto_Native_deriveRpis(JNIEnv* env, jclass cls,
                                                              jbyteArray tek, jint first,
                                                              jint count) {
    (void)cls;
    uint8_t stack[SOTTO_TEK_BYTES];
    size_t len = 0;
    int heap = 0;
    uint8_t* k = sj_copy_in(env, tek, stack, sizeof stack, &len, &heap);
    if (k == NULL) return NULL;
    if (count < 1 || count > SOTTO_INTERVALS_PER_DAY) {
        sj_free_copy(k, len, heap);
        sj_throw(env, SOTTO_ERR_INVALID_ARGUMENT, "count: expected 1..144");
        return NULL;
    }
    uint8_t out[SOTTO_RPI_BYTES * SOTTO_INTERVALS_PER_DAY];
    const size_t need = (size_t)count * SOTTO_RPI_BYTES;
    sotto_status st = sotto_derive_rpis(out, need, k, len, (uint32_t)first, (uint32_t)count);
    sj_free_copy(k, len, heap);
    if (st != SOTTO_OK) {
        sj_throw_status(env, st);
        return NULL;
    }
    return sj_new_bytes(env, out, need);
}
