/* SPDX-License-Identifier: Apache-2.0 */
#ifndef SOTTO_SOTTO_H_
#define SOTTO_SOTTO_H_
/**
 * \file
 * The sotto C ABI (C11): everything a mobile app, a binding (Swift, Kotlin/JNI, Python) or a C
 * program needs, over one shared library (`libsotto.so.1`, pkg-config `sotto`, CMake `sotto::c`).
 *
 * Conventions (every function follows them; see docs/mobile.md):
 * - Fallible functions return `sotto_status` (0 = SOTTO_OK, otherwise the number of the matching
 *   `sotto::ErrorCode`; codes are grouped by hundreds and never renumbered). They never throw,
 *   never abort on bad input, and never write a key, RPI or identifier into a message.
 * - Outputs come first, inputs after. Byte inputs are `(const uint8_t* ptr, size_t len)` pairs;
 *   `ptr` may be NULL only when `len` is 0. A NULL handle or a NULL output pointer gives
 *   SOTTO_ERR_INVALID_ARGUMENT. On failure outputs are left untouched unless a function says
 *   otherwise.
 * - Variable-size results go into caller-provided buffers. Such functions take `capacity` (in
 *   elements) and `size_t* out_needed`: they always store the needed count in `*out_needed`;
 *   when the buffer is NULL or too small they write nothing else and return
 *   SOTTO_ERR_OUT_OF_RANGE (so: call once with NULL/0 to size, allocate, call again). A NULL
 *   buffer is enough when the needed count is 0.
 * - Handles are opaque, typed, created by `*_create`/`*_open`/`*_read` and released by
 *   `*_destroy`; `*_destroy(NULL)` does nothing. A handle must not be used after its destroy.
 * - Times are Unix time: milliseconds for clocks and heard advertisements, seconds for dates.
 * - Thread-safety is stated per handle type. Functions without a handle are thread-safe.
 */

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define SOTTO_API __attribute__((visibility("default")))
#define SOTTO_NODISCARD __attribute__((warn_unused_result))
#else
#define SOTTO_API
#define SOTTO_NODISCARD
#endif

#ifdef __cplusplus
#define SOTTO_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
extern "C" {
#else
#define SOTTO_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

/* ---------------------------------------------------------------------------------------------
 * Versions, status codes, sizes
 * ------------------------------------------------------------------------------------------- */

/** The C ABI version this header describes. Bumped on any incompatible change (the library's
 *  SONAME is `libsotto.so.<SOTTO_ABI_VERSION>`). */
#define SOTTO_ABI_VERSION 1

/** Status of a call: 0 or one of the SOTTO_ERR_* values below (equal to `sotto::ErrorCode`). */
typedef int32_t sotto_status;

enum {
    SOTTO_OK = 0,
    /* Caller bugs and bad input. */
    SOTTO_ERR_INVALID_ARGUMENT = 100,    /**< NULL handle/pointer, malformed bytes, bad option */
    SOTTO_ERR_FAILED_PRECONDITION = 101, /**< not valid in the object's current state */
    SOTTO_ERR_OUT_OF_RANGE = 102,        /**< a number or a buffer capacity is out of range */
    SOTTO_ERR_CLOCK_SUSPECT = 103,       /**< the clock is implausible; nothing was done */
    /* Cryptography. */
    SOTTO_ERR_CRYPTO_FAILURE = 200,
    SOTTO_ERR_AUTHENTICATION_FAILED = 201, /**< a signature or ciphertext did not verify */
    SOTTO_ERR_UNTRUSTED_KEY = 202,         /**< signed by a key not in the trust store */
    SOTTO_ERR_UNSIGNED = 203,              /**< no signature where one is required */
    /* The encrypted store. */
    SOTTO_ERR_STORAGE_IO = 300,
    SOTTO_ERR_STORAGE_CORRUPT = 301,
    SOTTO_ERR_STORAGE_WRONG_KEY = 302,
    SOTTO_ERR_STORAGE_NOT_A_STORE = 303,
    SOTTO_ERR_STORAGE_NEWER_SCHEMA = 304,
    SOTTO_ERR_STORAGE_READ_ONLY = 305,
    SOTTO_ERR_STORAGE_FULL = 306,
    SOTTO_ERR_STORAGE_BUSY = 307,
    SOTTO_ERR_STORAGE_NOT_ENCRYPTED = 308,
    /* BLE radio. */
    SOTTO_ERR_BLE_UNAVAILABLE = 400,
    SOTTO_ERR_BLE_PERMISSION_DENIED = 401,
    SOTTO_ERR_BLE_BUSY = 402,
    SOTTO_ERR_BLE_REFUSED = 403,
    SOTTO_ERR_BLE_TIMEOUT = 404,
    /* Diagnosis-key files. */
    SOTTO_ERR_KEYFILE_MALFORMED = 500,
    SOTTO_ERR_KEYFILE_TOO_LARGE = 501,
    SOTTO_ERR_KEYFILE_IO = 502,
    /* Resources. */
    SOTTO_ERR_OUT_OF_MEMORY = 600, /**< nothing already stored was lost */
    /* Network. */
    SOTTO_ERR_NETWORK_IO = 700,
    SOTTO_ERR_NETWORK_TIMEOUT = 701,
    SOTTO_ERR_NETWORK_TOO_LARGE = 702,
    SOTTO_ERR_NETWORK_HTTP = 703,
    SOTTO_ERR_NETWORK_REFUSED = 704,
    /* A bug in sotto. */
    SOTTO_ERR_INTERNAL = 900
};

/** The enumerator's name ("SOTTO_ERR_STORAGE_WRONG_KEY"), or "SOTTO_ERR_UNKNOWN". Never NULL. */
SOTTO_API const char* sotto_status_name(sotto_status status);

/** A static English description of the most recent failure on the calling thread ("" if none).
 *  Successful calls leave it unchanged. Never contains user data. Never NULL. */
SOTTO_API const char* sotto_last_error_message(void);

/** The library version, "MAJOR.MINOR.PATCH". */
SOTTO_API const char* sotto_version(void);
/** The C ABI version of the loaded library; compare with SOTTO_ABI_VERSION. */
SOTTO_API uint32_t sotto_abi_version(void);

#define SOTTO_TEK_BYTES 16              /**< Temporary Exposure Key */
#define SOTTO_RPI_BYTES 16              /**< Rolling Proximity Identifier */
#define SOTTO_AEM_BYTES 4               /**< Associated Encrypted Metadata */
#define SOTTO_SERVICE_DATA_BYTES 20     /**< RPI || AEM under UUID 0xFD6F */
#define SOTTO_ADVERTISING_DATA_MAX_BYTES 31 /**< legacy advertising data */
#define SOTTO_STORE_KEY_BYTES 32        /**< raw store key */
#define SOTTO_SHA256_BYTES 32
#define SOTTO_INTERVALS_PER_DAY 144     /**< 10-minute ENIntervalNumbers per TEK */

/* The same numbers as functions, for languages that cannot read macros (Swift, JNI). */
SOTTO_API size_t sotto_tek_bytes(void);
SOTTO_API size_t sotto_rpi_bytes(void);
SOTTO_API size_t sotto_aem_bytes(void);
SOTTO_API size_t sotto_service_data_bytes(void);
SOTTO_API size_t sotto_advertising_data_max_bytes(void);
SOTTO_API size_t sotto_store_key_bytes(void);
SOTTO_API size_t sotto_intervals_per_day(void);

/* ---------------------------------------------------------------------------------------------
 * Protocol functions (pure: no store, no clock)
 * ------------------------------------------------------------------------------------------- */

/** What a device broadcasts during one 10-minute interval. */
typedef struct sotto_beacon {
    uint8_t rpi[SOTTO_RPI_BYTES];
    uint8_t aem[SOTTO_AEM_BYTES];
} sotto_beacon;
SOTTO_STATIC_ASSERT(sizeof(sotto_beacon) == 20, "sotto_beacon layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_beacon, aem) == 16, "sotto_beacon layout");

/** The 4 metadata bytes, decoded. */
typedef struct sotto_metadata {
    uint8_t minor_version;          /**< 0 (v1.0) or 1 (v1.1); 0..3 decode */
    int8_t tx_power_dbm;            /**< calibrated TX power */
    uint8_t calibration_confidence; /**< 0 lowest .. 3 high (v1.1 only; 0 for v1.0) */
    uint8_t reserved;               /**< 0 */
} sotto_metadata;
SOTTO_STATIC_ASSERT(sizeof(sotto_metadata) == 4, "sotto_metadata layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_metadata, tx_power_dbm) == 1, "sotto_metadata layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_metadata, calibration_confidence) == 2, "sotto_metadata layout");

/** ENIntervalNumber of a Unix time in seconds (floor(t / 600)).
 *  SOTTO_ERR_OUT_OF_RANGE for negative times and times past the uint32 wire range. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_interval_number(uint32_t* out, int64_t unix_seconds);

/** RPIs of a TEK for `count` consecutive intervals starting at `first_interval` (EN Crypto Spec
 *  v1.2): `out_rpis[16*i .. 16*i+15]` is the RPI of `first_interval + i`. `out_capacity` is in
 *  bytes and must be at least 16 * count. Errors: SOTTO_ERR_INVALID_ARGUMENT (NULL, `tek_len` not
 *  16, `count` 0 or above 144, intervals past uint32), SOTTO_ERR_OUT_OF_RANGE (short buffer). */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_derive_rpis(uint8_t* out_rpis, size_t out_capacity,
                                                         const uint8_t* tek, size_t tek_len,
                                                         uint32_t first_interval, uint32_t count);

/** The beacon (RPI and AEM) a device holding `tek` broadcasts during `interval`, with `metadata`
 *  encrypted into the AEM. Errors: SOTTO_ERR_INVALID_ARGUMENT (NULL, `tek_len` not 16). */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_beacon_make(sotto_beacon* out, const uint8_t* tek,
                                                         size_t tek_len, uint32_t interval,
                                                         const sotto_metadata* metadata);

/** Decrypts and decodes the AEM of `beacon` with the TEK that made it. The AEM carries no MAC:
 *  a wrong TEK yields random bytes, refused only when they are not metadata version 1.
 *  SOTTO_ERR_INVALID_ARGUMENT for such bytes, when `tek_len` is not 16, or on NULL. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_beacon_open_metadata(sotto_metadata* out,
                                                                  const sotto_beacon* beacon,
                                                                  const uint8_t* tek,
                                                                  size_t tek_len);

/** Legacy advertising-data forms. */
enum {
    SOTTO_ADV_WITH_FLAGS = 0,   /**< 31 bytes, Flags AD first (iOS) */
    SOTTO_ADV_WITHOUT_FLAGS = 1 /**< 28 bytes (Android) */
};

/** Full legacy advertising data for `beacon` in the chosen form, into `out` (capacity in bytes,
 *  31 is always enough); `*out_len` receives the length. SOTTO_ERR_OUT_OF_RANGE when `out_capacity`
 *  is too small (`*out_len` then holds the needed length); SOTTO_ERR_INVALID_ARGUMENT for an
 *  unknown form or NULL. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_advertising_data_encode(uint8_t* out,
                                                                     size_t out_capacity,
                                                                     size_t* out_len,
                                                                     const sotto_beacon* beacon,
                                                                     uint32_t form);

/** Strictly decodes what a scanner heard: exactly 20 bytes of service data (RPI || AEM), or full
 *  advertising data of either form. SOTTO_ERR_INVALID_ARGUMENT for anything else (wrong UUID,
 *  truncated or extra structures, trailing bytes); never reads past `len`. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_payload_decode(sotto_beacon* out,
                                                            const uint8_t* bytes, size_t len);

/* ---------------------------------------------------------------------------------------------
 * Trust store and diagnosis-key files
 * ------------------------------------------------------------------------------------------- */

/** The public keys key files may be signed with (ECDSA P-256). Not thread-safe while being
 *  modified; once filled it may be used by several threads (and handles) at once. Handles that
 *  take a trust store copy it: it may be destroyed right after. */
typedef struct sotto_trust_store sotto_trust_store;

SOTTO_API SOTTO_NODISCARD sotto_status sotto_trust_store_create(sotto_trust_store** out);
SOTTO_API void sotto_trust_store_destroy(sotto_trust_store* trust);

/** Adds a public key, as PEM (`-----BEGIN PUBLIC KEY-----`) when `is_pem` is non-zero, else as DER
 *  SubjectPublicKeyInfo. With `key_id` NULL the key is tried for signatures of any name; otherwise
 *  only for signatures naming exactly (`key_id`, `key_version`) (NUL-terminated; `key_version`
 *  may be NULL for ""). SOTTO_ERR_INVALID_ARGUMENT when the bytes are not exactly an EC P-256 key. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_trust_store_add(sotto_trust_store* trust,
                                                             const char* key_id,
                                                             const char* key_version,
                                                             const uint8_t* key, size_t key_len,
                                                             int32_t is_pem);

/** Number of keys in the store. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_trust_store_size(size_t* out,
                                                              const sotto_trust_store* trust);

/** Signature verdicts (sotto_keyfile_info.signature_status). */
enum {
    SOTTO_SIGNATURE_VERIFIED = 0,
    SOTTO_SIGNATURE_UNSIGNED = 1,
    SOTTO_SIGNATURE_UNTRUSTED_KEY = 2,
    SOTTO_SIGNATURE_BAD = 3,
    SOTTO_SIGNATURE_MALFORMED = 4
};

/** How key files are verified. */
enum {
    SOTTO_VERIFY_REQUIRE = 0,   /**< fail unless a trusted signature verifies (fail-closed) */
    SOTTO_VERIFY_PARSE_ONLY = 1 /**< never refuse on signature grounds; report the verdict */
};

/** A diagnosis key as published (TEK with its validity and what the health authority says). */
typedef struct sotto_diagnosis_key {
    uint8_t tek[SOTTO_TEK_BYTES];
    uint32_t rolling_start;           /**< ENIntervalNumber of the first valid interval */
    uint32_t rolling_period;          /**< 1..144 intervals */
    int32_t transmission_risk_level;  /**< 0..8 */
    int32_t report_type;              /**< 0 unknown .. 5 revoked (GAEN ReportType) */
    int32_t days_since_onset;         /**< -14..14, meaningful when has_days_since_onset */
    uint8_t has_days_since_onset;     /**< 0 or 1 */
    uint8_t reserved[3];
} sotto_diagnosis_key;
SOTTO_STATIC_ASSERT(sizeof(sotto_diagnosis_key) == 40, "sotto_diagnosis_key layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_diagnosis_key, rolling_start) == 16, "sotto_diagnosis_key layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_diagnosis_key, days_since_onset) == 32, "sotto_diagnosis_key layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_diagnosis_key, has_days_since_onset) == 36, "sotto_diagnosis_key layout");

/** What a key file says besides its keys. Timestamps are Unix seconds, 0 when absent. */
typedef struct sotto_keyfile_info {
    uint64_t start_timestamp;
    uint64_t end_timestamp;
    uint64_t keys_valid;         /**< valid keys in the main list (revoked included) */
    uint64_t revised_keys_valid; /**< valid keys in the revised list */
    uint64_t keys_revoked;       /**< valid keys reported REVOKED (not delivered) */
    uint64_t keys_delivered;     /**< keys held by the handle */
    uint64_t keys_invalid;       /**< keys that broke a validation rule (skipped) */
    uint64_t export_bin_bytes;
    uint8_t export_bin_sha256[SOTTO_SHA256_BYTES]; /**< identifies the file's content */
    int32_t signature_status;    /**< SOTTO_SIGNATURE_* */
    uint8_t verified;            /**< 1 only for SOTTO_SIGNATURE_VERIFIED */
    uint8_t reserved[3];
    char region[16]; /**< from the file, NUL-terminated, truncated to 15 bytes, not validated */
} sotto_keyfile_info;
SOTTO_STATIC_ASSERT(sizeof(sotto_keyfile_info) == 120, "sotto_keyfile_info layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_keyfile_info, export_bin_sha256) == 64, "sotto_keyfile_info layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_keyfile_info, signature_status) == 96, "sotto_keyfile_info layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_keyfile_info, region) == 104, "sotto_keyfile_info layout");

/** A key file read into memory: its keys and its info. Immutable; thread-safe. */
typedef struct sotto_keyfile sotto_keyfile;

/** Reads an export.zip held in memory (limits: export.bin at most 32 MiB uncompressed, zip bombs
 *  refused), verifying it against `trust` as `verify_mode` says. Errors:
 *  SOTTO_ERR_KEYFILE_MALFORMED, SOTTO_ERR_KEYFILE_TOO_LARGE, SOTTO_ERR_UNSIGNED,
 *  SOTTO_ERR_UNTRUSTED_KEY, SOTTO_ERR_AUTHENTICATION_FAILED (only with SOTTO_VERIFY_REQUIRE),
 *  SOTTO_ERR_INVALID_ARGUMENT, SOTTO_ERR_OUT_OF_MEMORY. With SOTTO_VERIFY_REQUIRE a handle exists
 *  only for a verified file. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_keyfile_read(sotto_keyfile** out, const uint8_t* zip,
                                                          size_t zip_len,
                                                          const sotto_trust_store* trust,
                                                          uint32_t verify_mode);

/** As `sotto_keyfile_read`, for a loose export.bin and its export.sig (`sig_len` 0: unsigned). */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_keyfile_read_pair(sotto_keyfile** out,
                                                               const uint8_t* bin, size_t bin_len,
                                                               const uint8_t* sig, size_t sig_len,
                                                               const sotto_trust_store* trust,
                                                               uint32_t verify_mode);

/** As `sotto_keyfile_read`, from a path (UTF-8, NUL-terminated): an export.zip, a loose
 *  export.bin (with NAME.sig beside it) or a directory holding export.bin and export.sig.
 *  SOTTO_ERR_KEYFILE_IO when it cannot be opened or read. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_keyfile_read_path(sotto_keyfile** out,
                                                               const char* path,
                                                               const sotto_trust_store* trust,
                                                               uint32_t verify_mode);

SOTTO_API void sotto_keyfile_destroy(sotto_keyfile* keyfile);

SOTTO_API SOTTO_NODISCARD sotto_status sotto_keyfile_get_info(sotto_keyfile_info* out,
                                                              const sotto_keyfile* keyfile);

/** Copies the file's keys (in file order) into `out` (capacity in keys); see the buffer
 *  convention at the top. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_keyfile_get_keys(sotto_diagnosis_key* out,
                                                              size_t capacity, size_t* out_needed,
                                                              const sotto_keyfile* keyfile);

/* SOTTO_TRACER_API */

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* SOTTO_SOTTO_H_ */
