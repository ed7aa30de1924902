/* The C ABI from C: every function, its success path and its error paths.
 *
 * Usage: c_abi_test CORPUS_DIR GAEN_DATA_DIR TEMP_DIR
 *   CORPUS_DIR     tests/fuzz/corpus/keyfile (signed with tests/fuzz/keyfile_seed_key.pem)
 *   GAEN_DATA_DIR  the real GAEN data (the real-file checks are skipped when it is missing)
 *   TEMP_DIR       a scratch directory for stores
 * Exit status: 0 when every check passed, 1 otherwise. */
#include "c_abi_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int c_abi_failures = 0;

void c_abi_report(const char* file, int line, const char* what) {
    fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
    ++c_abi_failures;
}

void c_abi_report_status(const char* file, int line, const char* call, sotto_status expected,
                         sotto_status got) {
    fprintf(stderr, "%s:%d: %s returned %s (%s), expected %s\n", file, line, call,
            sotto_status_name(got), sotto_last_error_message(), sotto_status_name(expected));
    ++c_abi_failures;
}

uint8_t* c_abi_read_file(const char* path, size_t* len) {
    FILE* f = fopen(path, "rb");
    uint8_t* buf = NULL;
    long size = 0;
    if (f == NULL) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)size + 1);
        if (buf != NULL && fread(buf, 1, (size_t)size, f) != (size_t)size) {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    if (buf != NULL) *len = (size_t)size;
    return buf;
}

void c_abi_hex(char* out, const uint8_t* bytes, size_t len) {
    static const char digits[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < len; ++i) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * len] = '\0';
}

static void test_versions_and_names(void) {
    static const sotto_status all[] = {SOTTO_OK,
                                       SOTTO_ERR_INVALID_ARGUMENT,
                                       SOTTO_ERR_FAILED_PRECONDITION,
                                       SOTTO_ERR_OUT_OF_RANGE,
                                       SOTTO_ERR_CLOCK_SUSPECT,
                                       SOTTO_ERR_CRYPTO_FAILURE,
                                       SOTTO_ERR_AUTHENTICATION_FAILED,
                                       SOTTO_ERR_UNTRUSTED_KEY,
                                       SOTTO_ERR_UNSIGNED,
                                       SOTTO_ERR_STORAGE_IO,
                                       SOTTO_ERR_STORAGE_CORRUPT,
                                       SOTTO_ERR_STORAGE_WRONG_KEY,
                                       SOTTO_ERR_STORAGE_NOT_A_STORE,
                                       SOTTO_ERR_STORAGE_NEWER_SCHEMA,
                                       SOTTO_ERR_STORAGE_READ_ONLY,
                                       SOTTO_ERR_STORAGE_FULL,
                                       SOTTO_ERR_STORAGE_BUSY,
                                       SOTTO_ERR_STORAGE_NOT_ENCRYPTED,
                                       SOTTO_ERR_BLE_UNAVAILABLE,
                                       SOTTO_ERR_BLE_PERMISSION_DENIED,
                                       SOTTO_ERR_BLE_BUSY,
                                       SOTTO_ERR_BLE_REFUSED,
                                       SOTTO_ERR_BLE_TIMEOUT,
                                       SOTTO_ERR_KEYFILE_MALFORMED,
                                       SOTTO_ERR_KEYFILE_TOO_LARGE,
                                       SOTTO_ERR_KEYFILE_IO,
                                       SOTTO_ERR_OUT_OF_MEMORY,
                                       SOTTO_ERR_NETWORK_IO,
                                       SOTTO_ERR_NETWORK_TIMEOUT,
                                       SOTTO_ERR_NETWORK_TOO_LARGE,
                                       SOTTO_ERR_NETWORK_HTTP,
                                       SOTTO_ERR_NETWORK_REFUSED,
                                       SOTTO_ERR_INTERNAL};
    size_t i, j;
    CHECK(strcmp(sotto_version(), SOTTO_EXPECTED_VERSION) == 0);
    CHECK(sotto_abi_version() == SOTTO_ABI_VERSION);
    CHECK(strcmp(sotto_status_name(SOTTO_OK), "SOTTO_OK") == 0);
    CHECK(strcmp(sotto_status_name(SOTTO_ERR_STORAGE_WRONG_KEY), "SOTTO_ERR_STORAGE_WRONG_KEY") ==
          0);
    CHECK(strcmp(sotto_status_name(SOTTO_ERR_NETWORK_REFUSED), "SOTTO_ERR_NETWORK_REFUSED") == 0);
    /* Every code has its own name; numbers that are no code have none. */
    for (i = 0; i < sizeof all / sizeof all[0]; ++i) {
        CHECK(strcmp(sotto_status_name(all[i]), "SOTTO_ERR_UNKNOWN") != 0);
        for (j = 0; j < i; ++j)
            CHECK(strcmp(sotto_status_name(all[i]), sotto_status_name(all[j])) != 0);
    }
    CHECK(strcmp(sotto_status_name(1), "SOTTO_ERR_UNKNOWN") == 0);
    CHECK(strcmp(sotto_status_name(-1), "SOTTO_ERR_UNKNOWN") == 0);
    CHECK(strcmp(sotto_status_name(599), "SOTTO_ERR_UNKNOWN") == 0);

    CHECK(sotto_tek_bytes() == SOTTO_TEK_BYTES);
    CHECK(sotto_rpi_bytes() == SOTTO_RPI_BYTES);
    CHECK(sotto_aem_bytes() == SOTTO_AEM_BYTES);
    CHECK(sotto_service_data_bytes() == SOTTO_SERVICE_DATA_BYTES);
    CHECK(sotto_advertising_data_max_bytes() == SOTTO_ADVERTISING_DATA_MAX_BYTES);
    CHECK(sotto_store_key_bytes() == SOTTO_STORE_KEY_BYTES);
    CHECK(sotto_intervals_per_day() == SOTTO_INTERVALS_PER_DAY);
}

int main(int argc, char** argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: c_abi_test CORPUS_DIR GAEN_DATA_DIR TEMP_DIR\n");
        return 2;
    }
    test_versions_and_names();
    test_protocol();
    test_keyfiles(argv[1], argv[2]);
    test_tracer(argv[1], argv[3]);
    test_threads(argv[1], argv[3]);
    test_erase_restart(argv[3]);
    test_updater(argv[1], argv[3]);
    test_growth(argv[3]);
    if (c_abi_failures != 0) {
        fprintf(stderr, "%d check(s) failed\n", c_abi_failures);
        return 1;
    }
    printf("all C ABI checks passed\n");
    return 0;
}
