/* SPDX-License-Identifier: Apache-2.0 */
/* libsotto_jni: Tracer.uploadOwnKeys over sotto_upload_own_keys. */
#include <stdlib.h>
#include <string.h>

#include "sotto_jni.h"

/* The answer as org.sotto.Tracer decodes it: fixed-width fields, without sotto_upload_result's
 * struct_size and padding. */
typedef struct sj_upload_answer {
    int32_t http_status;
    int32_t accepted;
    int32_t keys_sent;
    int32_t body_bytes;
    int64_t inserted_exposures;
    char code[64];
    char message[256];
    char revision_token[2048];
} sj_upload_answer;
_Static_assert(sizeof(sj_upload_answer) == 2392, "sj_upload_answer layout (Tracer.UPLOAD_ANSWER)");

/* Copies each non-null byte[] of `in` to a NUL-terminated C string in `out` (NULL stays NULL);
 * 0 with an exception pending on failure (what was copied is freed). */
static int cstrings(JNIEnv* env, jbyteArray* in, char** out, int n) {
    for (int i = 0; i < n; ++i) {
        out[i] = NULL;
        if (in[i] == NULL) continue;
        out[i] = sj_cstring(env, in[i]);
        if (out[i] == NULL) {
            for (int j = 0; j < i; ++j) free(out[j]);
            return 0;
        }
    }
    return 1;
}

JNIEXPORT jbyteArray JNICALL Java_org_sotto_Native_uploadOwnKeys(
    JNIEnv* env, jclass cls, jlong handle, jlong now_ms, jbyteArray url,
    jbyteArray health_authority, jbyteArray verification, jbyteArray revision, jbyteArray ca_file,
    jint timeout_ms, jint transmission_risk, jint symptom_onset_interval, jint consent) {
    (void)cls;
    sj_tracer* t = sj_tracer_of(env, handle);
    if (t == NULL) return NULL;
    jbyteArray in[5] = {url, health_authority, verification, revision, ca_file};
    char* s[5];
    if (!cstrings(env, in, s, 5)) return NULL;
    sotto_upload_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.url = s[0];
    o.health_authority_id = s[1];
    o.verification_payload = s[2];
    o.revision_token = s[3];
    o.ca_file = s[4];
    o.timeout_ms = (uint32_t)timeout_ms;
    o.transmission_risk = transmission_risk;
    o.symptom_onset_interval = (uint32_t)symptom_onset_interval;
    sotto_upload_result* r = (sotto_upload_result*)calloc(1, sizeof *r);
    jbyteArray a = NULL;
    if (r == NULL) {
        sj_throw(env, SOTTO_ERR_OUT_OF_MEMORY, "no memory for the answer");
    } else {
        r->struct_size = sizeof *r;
        sj_clock_begin(t, now_ms);
        sotto_status st = sotto_upload_own_keys(r, t->tracer, &o, (uint32_t)consent);
        sj_clock_end();
        if (st != SOTTO_OK) {
            sj_throw_status(env, st);
        } else {
            sj_upload_answer w;
            memset(&w, 0, sizeof w);
            w.http_status = r->http_status;
            w.accepted = r->accepted;
            w.keys_sent = (int32_t)r->keys_sent;
            w.body_bytes = (int32_t)r->body_bytes;
            w.inserted_exposures = r->inserted_exposures;
            memcpy(w.code, r->code, sizeof w.code);
            memcpy(w.message, r->message, sizeof w.message);
            memcpy(w.revision_token, r->revision_token, sizeof w.revision_token);
            w.code[sizeof w.code - 1] = w.message[sizeof w.message - 1] = '\0';
            w.revision_token[sizeof w.revision_token - 1] = '\0';
            a = sj_new_bytes(env, &w, sizeof w);
        }
        free(r);
    }
    if (s[2] != NULL) sj_wipe(s[2], strlen(s[2])); /* the verification certificate */
    for (int i = 0; i < 5; ++i) free(s[i]);
    return a;
}
