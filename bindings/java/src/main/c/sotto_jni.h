/* SPDX-License-Identifier: Apache-2.0 */
/* Shared helpers of the JNI glue (libsotto_jni): the C ABI (sotto/sotto.h) only, never the C++ API.
 *
 * Rules every entry point follows (checked by the -Xcheck:jni test):
 * - Java arrays are copied in and out with Get/SetByteArrayRegion; nothing is pinned while sotto
 *   runs (no GetPrimitiveArrayCritical, no Get<Type>ArrayElements).
 * - Every local reference an entry point creates beyond its return value is deleted before it
 *   returns, and no JNI function is called while an exception is pending.
 * - A failure is thrown as org.sotto.SottoException (code, name, sotto's static message). */
#ifndef SOTTO_JNI_H_
#define SOTTO_JNI_H_

#include <jni.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <sotto/sotto.h>

/* The handle behind org.sotto.Tracer: the C tracer and the clock snapshot of the current call. */
typedef struct sj_tracer {
    sotto_tracer* tracer;
    int has_clock;               /* 0: sotto's system clock */
    _Atomic int64_t last_now_ms; /* the latest snapshot, for a read on a thread without one */
} sj_tracer;

/* Throws org.sotto.SottoException for `status` with sotto_last_error_message(). */
void sj_throw_status(JNIEnv* env, sotto_status status);
/* Throws org.sotto.SottoException with a message of the glue's own (static text). */
void sj_throw(JNIEnv* env, sotto_status status, const char* message);

/* A new byte[] holding `len` bytes of `data`; NULL with an exception pending on failure. */
jbyteArray sj_new_bytes(JNIEnv* env, const void* data, size_t len);

/* Copies a Java byte[] into C memory: into `stack` when it fits in `stack_cap`, else into a new
 * malloc block. Returns the copy (`*out_len` its length; `*heap` set when it must be freed with
 * sj_free_copy) or NULL with an exception pending. A NULL array throws InvalidArgument. */
uint8_t* sj_copy_in(JNIEnv* env, jbyteArray array, uint8_t* stack, size_t stack_cap,
                    size_t* out_len, int* heap);
/* Wipes and frees a copy made by sj_copy_in. */
void sj_free_copy(uint8_t* copy, size_t len, int heap);

/* A NUL-terminated copy of UTF-8 bytes (malloc; free with free()), or NULL with an exception
 * pending (embedded NUL: SOTTO_ERR_INVALID_ARGUMENT). */
char* sj_cstring(JNIEnv* env, jbyteArray utf8);

/* Overwrites `len` bytes in a way the compiler keeps. */
void sj_wipe(void* p, size_t len);

/* The clock of sotto_tracer_open*: returns the snapshot the current entry point set for
 * `user_data` (the sj_tracer), taken in Java before the call. */
int64_t sj_clock(void* user_data);
/* Sets the snapshot for the calling thread before a call into sotto; sj_clock_end clears it. */
void sj_clock_begin(const sj_tracer* t, int64_t now_ms);
void sj_clock_end(void);

/* Converts a jlong handle back (NULL throws FailedPrecondition). */
sj_tracer* sj_tracer_of(JNIEnv* env, jlong handle);

#endif /* SOTTO_JNI_H_ */
