/* Shared helpers of the C ABI test program (compiled as C11, -Wall -Wextra -Werror -pedantic). */
#ifndef SOTTO_TESTS_C_ABI_TEST_H_
#define SOTTO_TESTS_C_ABI_TEST_H_

#include <stddef.h>
#include <stdint.h>

#include <sotto/sotto.h>

extern int c_abi_failures;

/* Records a failure (with its line) unless `cond` holds. */
#define CHECK(cond)                                  \
    do {                                             \
        if (!(cond)) {                               \
            c_abi_report(__FILE__, __LINE__, #cond); \
        }                                            \
    } while (0)

/* Checks that `call` returns `expected` (and, for errors, that a message was left behind). */
#define CHECK_STATUS(expected, call)                                                       \
    do {                                                                                   \
        sotto_status check_status_got_ = (call);                                           \
        if (check_status_got_ != (expected)) {                                             \
            c_abi_report_status(__FILE__, __LINE__, #call, (expected), check_status_got_); \
        }                                                                                  \
    } while (0)

void c_abi_report(const char* file, int line, const char* what);
void c_abi_report_status(const char* file, int line, const char* call, sotto_status expected,
                         sotto_status got);
/* Reads a whole file into a malloc'ed buffer (NULL on failure). */
uint8_t* c_abi_read_file(const char* path, size_t* len);
/* Lowercase hex of `len` bytes into `out` (2 * len + 1 chars). */
void c_abi_hex(char* out, const uint8_t* bytes, size_t len);

void test_protocol(void);
void test_keyfiles(const char* corpus_dir, const char* gaen_data_dir);
void test_tracer(const char* corpus_dir, const char* tmp_dir);
void test_threads(const char* corpus_dir, const char* tmp_dir);
void test_erase_restart(const char* tmp_dir);
void test_updater(const char* corpus_dir, const char* tmp_dir);
void test_growth(const char* tmp_dir);

#endif
