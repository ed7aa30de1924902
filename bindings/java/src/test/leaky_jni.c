/* SPDX-License-Identifier: Apache-2.0 */
/* Test-only JNI library with the mistakes -Xcheck:jni exists to catch, for the neighbour of the
 * java.xcheck_jni test: it shows that the check, run as that test runs it, prints a WARNING for
 * glue that breaks the JNI rules. Never installed.
 * (HotSpot 17's check does not report local-reference overflows; the leak below is there for
 * JVMs that do.) */
#include <jni.h>

JNIEXPORT void JNICALL Java_org_sotto_JniStress_breakJniRules(JNIEnv* env, jclass cls, jint n) {
    jmethodID m = (*env)->GetStaticMethodID(env, cls, "mayThrow", "()V");
    if (m == NULL) return;
    (*env)->CallStaticVoidMethod(env, cls, m);
    /* Wrong: a JNI call after a call that may throw, without ExceptionCheck. */
    (void)(*env)->GetVersion(env);
    for (jint i = 0; i < n; ++i) (void)(*env)->NewStringUTF(env, "leak"); /* never deleted */
}
