/* The C surface of ctest risk.five_surfaces (tests/risk/risk_surfaces.py): opens a store with the
 * C ABI, imports one key file, checks, and prints what sotto_check_summary says.
 *
 *   sotto_risk_c STORE KEY_FILE PUBKEY_PEM EXPORT_ZIP
 *
 * KEY_FILE holds the store key as 64 hex characters (the format of `sotto --key-file`). Prints
 * "risk=<word> level=<n> windows=<n> valid_matches=<n>", the word being the C ABI's own
 * (SOTTO_RISK_NONE/LOW/HIGH -> none/low/high, include/sotto/sotto.h and docs/risk.md). Exits 0, or
 * 1 with the failing call's status name. */
#include <sotto/sotto.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int fail(const char* what, sotto_status s) {
    fprintf(stderr, "sotto_risk_c: %s: %s (%s)\n", what, sotto_status_name(s),
            sotto_last_error_message());
    return 1;
}

static long read_file(const char* path, uint8_t* buf, size_t cap) {
    FILE* f = fopen(path, "rb");
    if (!f) return -1;
    size_t n = fread(buf, 1, cap, f);
    int bad = ferror(f) || !feof(f);
    fclose(f);
    return bad ? -1 : (long)n;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int main(int argc, char** argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: sotto_risk_c STORE KEY_FILE PUBKEY_PEM EXPORT_ZIP\n");
        return 2;
    }
    uint8_t hex[130];
    long n = read_file(argv[2], hex, sizeof hex);
    while (n > 0 && (hex[n - 1] == '\n' || hex[n - 1] == '\r')) --n;
    if (n != 64) {
        fprintf(stderr, "sotto_risk_c: %s: expected 64 hex characters\n", argv[2]);
        return 2;
    }
    uint8_t key[32];
    for (int i = 0; i < 32; ++i) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            fprintf(stderr, "sotto_risk_c: %s: not hex\n", argv[2]);
            return 2;
        }
        key[i] = (uint8_t)(hi << 4 | lo);
    }
    uint8_t pem[8192];
    long pem_len = read_file(argv[3], pem, sizeof pem);
    if (pem_len <= 0) {
        fprintf(stderr, "sotto_risk_c: cannot read %s\n", argv[3]);
        return 2;
    }

    sotto_trust_store* trust = NULL;
    sotto_status s = sotto_trust_store_create(&trust);
    if (s != SOTTO_OK) return fail("sotto_trust_store_create", s);
    s = sotto_trust_store_add(trust, NULL, NULL, pem, (size_t)pem_len, 1);
    if (s != SOTTO_OK) return fail("sotto_trust_store_add", s);
    sotto_tracer* t = NULL;
    s = sotto_tracer_open(&t, argv[1], key, sizeof key, trust, NULL, NULL, NULL);
    memset(key, 0, sizeof key);
    sotto_trust_store_destroy(trust);
    if (s != SOTTO_OK) return fail("sotto_tracer_open", s);
    s = sotto_tracer_import_keyfile_path(NULL, t, argv[4], 0);
    if (s != SOTTO_OK) return fail("sotto_tracer_import_keyfile_path", s);
    sotto_check* check = NULL;
    s = sotto_tracer_check(&check, t);
    if (s != SOTTO_OK) return fail("sotto_tracer_check", s);

    sotto_check_summary summary;
    memset(&summary, 0, sizeof summary);
    /* Headers whose output structs start with a caller-set `uint32_t struct_size` need it set;
     * in the older layout the first bytes are an output field the call overwrites. Either way: */
    const uint32_t size = (uint32_t)sizeof summary;
    memcpy(&summary, &size, sizeof size);
    s = sotto_check_get_summary(&summary, check);
    if (s != SOTTO_OK) return fail("sotto_check_get_summary", s);
    const char* word = summary.total_risk_level == SOTTO_RISK_NONE   ? "none"
                       : summary.total_risk_level == SOTTO_RISK_LOW  ? "low"
                       : summary.total_risk_level == SOTTO_RISK_HIGH ? "high"
                                                                     : "out-of-range";
    printf("risk=%s level=%d windows=%llu valid_matches=%llu\n", word,
           (int)summary.total_risk_level, (unsigned long long)summary.windows,
           (unsigned long long)summary.valid_matches);
    sotto_check_destroy(check);
    sotto_tracer_destroy(t);
    return 0;
}
