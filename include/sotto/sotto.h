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
 * - Structs can grow (like `cbSize` in Win32 or `age` in curl), and `struct_size` is always a
 *   `uint32_t` and always the first member. OUTPUT structs (ones the library fills): the caller
 *   sets `struct_size` to sizeof the struct it was compiled with; the library writes the first
 *   min(struct_size, sizeof) bytes of its own layout and sets `struct_size` to that count (so a
 *   newer caller on an older library sees which fields were filled; bytes beyond it are not
 *   touched). A `struct_size` below the struct's first layout (stated per struct) gives
 *   SOTTO_ERR_INVALID_ARGUMENT and writes nothing. Fields are only ever appended. INPUT structs
 *   with a `struct_size` (options): the library reads the fields `struct_size` covers and takes
 *   defaults for the rest; below the first layout, above the library's sizeof or ending
 *   inside a field: SOTTO_ERR_INVALID_ARGUMENT. Their `*_options_init` (inline) passes the caller's
 * sizeof to
 *   `*_options_init_sized`, which writes no more than that. Arrays the library fills take `uint32_t
 * element_size` (sizeof the element type the caller was compiled with; at least the first layout,
 * at most 4096): element `i` starts at byte `i * element_size` and gets min(element_size, sizeof)
 * bytes (a `struct_size` member in it is set to that count). Not growable: sotto_beacon and
 *   sotto_metadata (the GAEN wire format fixes them for good; inputs and outputs), and the input
 *   array sotto_heard_advertisement (a new layout would come with a new function). A struct
 *   embedded in another (sotto_import_result.info) keeps its first layout there: what it gains
 *   later reaches the outer struct as appended fields.
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
    SOTTO_ERR_CANCELLED = 104,           /**< cancelled by the caller (sotto_updater_cancel) */
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

#define SOTTO_TEK_BYTES 16                  /**< Temporary Exposure Key */
#define SOTTO_RPI_BYTES 16                  /**< Rolling Proximity Identifier */
#define SOTTO_AEM_BYTES 4                   /**< Associated Encrypted Metadata */
#define SOTTO_SERVICE_DATA_BYTES 20         /**< RPI || AEM under UUID 0xFD6F */
#define SOTTO_ADVERTISING_DATA_MAX_BYTES 31 /**< legacy advertising data */
#define SOTTO_STORE_KEY_BYTES 32            /**< raw store key */
#define SOTTO_SHA256_BYTES 32
#define SOTTO_INTERVALS_PER_DAY 144 /**< 10-minute ENIntervalNumbers per TEK */

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
SOTTO_API SOTTO_NODISCARD sotto_status sotto_advertising_data_encode(
    uint8_t* out, size_t out_capacity, size_t* out_len, const sotto_beacon* beacon, uint32_t form);

/** Strictly decodes what a scanner heard: exactly 20 bytes of service data (RPI || AEM), or full
 *  advertising data of either form. SOTTO_ERR_INVALID_ARGUMENT for anything else (wrong UUID,
 *  truncated or extra structures, trailing bytes); never reads past `len`. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_payload_decode(sotto_beacon* out, const uint8_t* bytes,
                                                            size_t len);

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
 *  may be NULL for ""). SOTTO_ERR_INVALID_ARGUMENT when the bytes are not exactly an EC P-256 key.
 */
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

/** A diagnosis key as published (TEK with its validity and what the health authority says).
 *  Returned in arrays (`element_size`; first layout: 40 bytes). */
typedef struct sotto_diagnosis_key {
    uint8_t tek[SOTTO_TEK_BYTES];
    uint32_t rolling_start;          /**< ENIntervalNumber of the first valid interval */
    uint32_t rolling_period;         /**< 1..144 intervals */
    int32_t transmission_risk_level; /**< 0..8 */
    int32_t report_type;             /**< 0 unknown .. 5 revoked (GAEN ReportType) */
    int32_t days_since_onset;        /**< -14..14, meaningful when has_days_since_onset */
    uint8_t has_days_since_onset;    /**< 0 or 1 */
    uint8_t reserved[3];
} sotto_diagnosis_key;
SOTTO_STATIC_ASSERT(sizeof(sotto_diagnosis_key) == 40, "sotto_diagnosis_key layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_diagnosis_key, rolling_start) == 16,
                    "sotto_diagnosis_key layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_diagnosis_key, days_since_onset) == 32,
                    "sotto_diagnosis_key layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_diagnosis_key, has_days_since_onset) == 36,
                    "sotto_diagnosis_key layout");

/** What a key file says besides its keys. Timestamps are Unix seconds, 0 when absent. OUTPUT
 *  struct (first layout: 128 bytes). */
typedef struct sotto_keyfile_info {
    uint32_t struct_size;     /**< set by the caller (see the conventions at the top) */
    int32_t signature_status; /**< SOTTO_SIGNATURE_* */
    uint64_t start_timestamp;
    uint64_t end_timestamp;
    uint64_t keys_valid;         /**< valid keys in the main list (revoked included) */
    uint64_t revised_keys_valid; /**< valid keys in the revised list */
    uint64_t keys_revoked;       /**< valid keys reported REVOKED (not delivered) */
    uint64_t keys_delivered;     /**< keys held by the handle */
    uint64_t keys_invalid;       /**< keys that broke a validation rule (skipped) */
    uint64_t export_bin_bytes;
    uint8_t export_bin_sha256[SOTTO_SHA256_BYTES]; /**< identifies the file's content */
    uint8_t verified;                              /**< 1 only for SOTTO_SIGNATURE_VERIFIED */
    uint8_t reserved[7];
    char region[16]; /**< from the file, NUL-terminated, truncated to 15 bytes, not validated */
} sotto_keyfile_info;
SOTTO_STATIC_ASSERT(sizeof(sotto_keyfile_info) == 128, "sotto_keyfile_info layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_keyfile_info, start_timestamp) == 8,
                    "sotto_keyfile_info layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_keyfile_info, export_bin_sha256) == 72,
                    "sotto_keyfile_info layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_keyfile_info, verified) == 104, "sotto_keyfile_info layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_keyfile_info, region) == 112, "sotto_keyfile_info layout");

/** A key file read into memory: its keys and its info. Immutable; thread-safe. */
typedef struct sotto_keyfile sotto_keyfile;

/** Reads an export.zip held in memory (limits: export.bin at most 32 MiB uncompressed, zip bombs
 *  refused), verifying it against `trust` as `verify_mode` says (`trust` NULL: an empty trust
 *  store, so nothing verifies). Errors:
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

/** The file's info; `out->struct_size` set by the caller (at least 128). */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_keyfile_get_info(sotto_keyfile_info* out,
                                                              const sotto_keyfile* keyfile);

/** Copies the file's keys (in file order) into `out` (capacity in keys, `element_size` at least
 *  40); see the buffer and array conventions at the top. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_keyfile_get_keys(sotto_diagnosis_key* out,
                                                              size_t capacity,
                                                              uint32_t element_size,
                                                              size_t* out_needed,
                                                              const sotto_keyfile* keyfile);

/* ---------------------------------------------------------------------------------------------
 * Logging
 * ------------------------------------------------------------------------------------------- */

enum { SOTTO_LOG_DEBUG = 0, SOTTO_LOG_INFO = 1, SOTTO_LOG_WARNING = 2, SOTTO_LOG_ERROR = 3 };

/** Receives sotto's log messages. `message` is not NUL-terminated (use `message_len`) and is valid
 *  only during the call. At SOTTO_LOG_INFO and above it holds static text and counts only: never
 *  a key, RPI, AEM, address or file hash. Called on the thread that logs (any thread calling into
 *  sotto), possibly from several at once; must be thread-safe, return quickly and not call sotto.
 */
typedef void (*sotto_log_fn)(void* user_data, int32_t level, const char* message,
                             size_t message_len);

/** Installs `sink` for messages at `min_level` and above (NULL removes it: the default, nothing
 *  is logged). Process-wide. `user_data` must stay valid until calls running at the time of a
 *  later replacement have returned. SOTTO_ERR_INVALID_ARGUMENT for a level outside 0..3. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_set_log_sink(sotto_log_fn sink, void* user_data,
                                                          int32_t min_level);

/* ---------------------------------------------------------------------------------------------
 * The Tracer: the whole device-side flow over one encrypted store
 * ------------------------------------------------------------------------------------------- */

/** The host's clock: Unix time in milliseconds. Called on the thread that calls into the tracer
 *  (possibly several at once); must be thread-safe and must not call sotto. */
typedef int64_t (*sotto_clock_fn)(void* user_data);

/** Options of `sotto_tracer_open*`. Fill with `sotto_tracer_options_init`, then change fields. */
typedef struct sotto_tracer_options {
    uint32_t struct_size;      /**< sizeof(sotto_tracer_options), set by _init */
    uint32_t retention_days;   /**< days of sightings and own keys kept (1..3650; default 14) */
    uint32_t flush_count;      /**< heard advertisements per store transaction (default 16384) */
    uint32_t advertising_form; /**< SOTTO_ADV_* form (default SOTTO_ADV_WITH_FLAGS) */
    int64_t flush_interval_ms; /**< tick writes pending ones older than this (default 30000) */
    uint64_t max_store_bytes;  /**< upper bound of the database size (0: none; default 0) */
    int8_t tx_power_dbm;       /**< announced in the own AEM (default -8) */
    uint8_t calibration_confidence; /**< 0..3, announced with metadata v1.1 (default 0) */
    uint8_t metadata_minor_version; /**< 0 (v1.0) or 1 (v1.1) (default 0) */
    uint8_t create_if_missing; /**< 1: create the store when the file does not exist (default 1) */
    uint8_t kdf_cost; /**< passphrase stores: SOTTO_KDF_* (default SOTTO_KDF_INTERACTIVE) */
    uint8_t reserved[3];
} sotto_tracer_options;
SOTTO_STATIC_ASSERT(sizeof(sotto_tracer_options) == 40, "sotto_tracer_options layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_tracer_options, flush_interval_ms) == 16,
                    "sotto_tracer_options layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_tracer_options, tx_power_dbm) == 32,
                    "sotto_tracer_options layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_tracer_options, kdf_cost) == 36, "sotto_tracer_options layout");

/** Argon2id cost for passphrase stores. */
enum {
    SOTTO_KDF_INTERACTIVE = 0, /**< 64 MiB, about 0.1 s on a phone core (default) */
    SOTTO_KDF_MODERATE = 1,    /**< 256 MiB */
    SOTTO_KDF_MINIMUM = 2      /**< no protection against guessing: tests only */
};

/** The defaults: the "(default X)" of each field, in the first min(size, sizeof) bytes of
 *  `*out` (`size`: sizeof the struct the caller was compiled with); `struct_size` is set to that
 *  count. `size` below the first layout (40 bytes): SOTTO_ERR_INVALID_ARGUMENT, nothing written.
 *  INPUT struct. Call it through `sotto_tracer_options_init`. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_tracer_options_init_sized(sotto_tracer_options* out,
                                                                       size_t size);
/** `sotto_tracer_options_init_sized` with this header's sizeof: a newer library, whose struct has
 *  grown, writes no byte past the caller's. */
static inline SOTTO_NODISCARD sotto_status sotto_tracer_options_init(sotto_tracer_options* out) {
    return sotto_tracer_options_init_sized(out, sizeof *out);
}

/** Owns the store, the device's own TEKs, pending heard advertisements and the open check round.
 *  Every function may be called from any thread, concurrently (feeding from two threads while a
 *  third imports and checks is supported); `sotto_tracer_destroy` must not overlap other calls. */
typedef struct sotto_tracer sotto_tracer;

/** Opens (or creates) the store at `path` (UTF-8; beside it `PATH.kdf`) with a raw 32-byte key
 *  (e.g. from the Android Keystore or the iOS Keychain). `trust` (may be NULL: every signed file
 *  is then refused) is copied. `clock` NULL: the system clock. `options` NULL: the defaults.
 *  Errors: SOTTO_ERR_STORAGE_WRONG_KEY, _NOT_A_STORE, _CORRUPT, _IO, _READ_ONLY, _NEWER_SCHEMA,
 *  SOTTO_ERR_INVALID_ARGUMENT (key length, options), SOTTO_ERR_OUT_OF_MEMORY. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_tracer_open(sotto_tracer** out, const char* path,
                                                         const uint8_t* key, size_t key_len,
                                                         const sotto_trust_store* trust,
                                                         sotto_clock_fn clock,
                                                         void* clock_user_data,
                                                         const sotto_tracer_options* options);

/** As `sotto_tracer_open`, with a passphrase (1..1024 bytes) stretched with Argon2id. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_tracer_open_passphrase(
    sotto_tracer** out, const char* path, const uint8_t* passphrase, size_t passphrase_len,
    const sotto_trust_store* trust, sotto_clock_fn clock, void* clock_user_data,
    const sotto_tracer_options* options);

/** Writes pending heard advertisements, closes the store, frees the handle. */
SOTTO_API void sotto_tracer_destroy(sotto_tracer* tracer);

/** What to broadcast now. OUTPUT struct (first layout: 80 bytes). */
typedef struct sotto_advertisement {
    uint32_t struct_size;   /**< set by the caller */
    uint32_t interval;      /**< ENIntervalNumber the RPI was derived for */
    int64_t valid_until_ms; /**< ask again at this Unix time at the latest (10-20 min, midnight) */
    uint8_t service_data[SOTTO_SERVICE_DATA_BYTES];             /**< RPI || AEM, UUID 0xFD6F */
    uint8_t advertising_data[SOTTO_ADVERTISING_DATA_MAX_BYTES]; /**< full legacy form */
    uint8_t advertising_data_len;                               /**< 31 or 28 */
    uint8_t address[6]; /**< random non-resolvable address, most significant byte first */
    uint8_t active;     /**< 0: broadcast nothing until valid_until_ms (other fields empty) */
    uint8_t reserved[5];
} sotto_advertisement;
SOTTO_STATIC_ASSERT(sizeof(sotto_advertisement) == 80, "sotto_advertisement layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_advertisement, service_data) == 16,
                    "sotto_advertisement layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_advertisement, advertising_data_len) == 67,
                    "sotto_advertisement layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_advertisement, active) == 74, "sotto_advertisement layout");

/** The current advertisement; rolls the TEK at the UTC day boundary (stored before use) and
 *  RPI and address together every 10-20 minutes (random) and at UTC midnight; an RPI is never
 *  used for a second interval, so right after opening (or a release of own keys) `active` may be
 *  0 until the next interval. Hosts whose OS owns the radio call it when `valid_until_ms` passes,
 *  stop advertising when `active` is 0, and otherwise hand `service_data` to the OS advertiser.
 * Errors: storage errors (nothing to broadcast from an unstored key), SOTTO_ERR_OUT_OF_RANGE (clock
 * before 1970 or too late). */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_tracer_current_advertisement(sotto_advertisement* out,
                                                                          sotto_tracer* tracer);

/** One heard advertisement: `bytes` is the 20-byte service data of UUID 0xFD6F or the full
 *  advertising data; `rssi_dbm` -127..20; `time_ms` Unix ms of reception. Buffered in memory and
 *  written in batches (no store transaction per call). SOTTO_ERR_INVALID_ARGUMENT (counted as
 *  malformed) for bytes that are not GAEN; SOTTO_ERR_OUT_OF_RANGE for RSSI or time; storage
 *  errors only when this call wrote a batch and failed (the batch stays pending). */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_tracer_on_advertisement(sotto_tracer* tracer,
                                                                     const uint8_t* bytes,
                                                                     size_t len, int32_t rssi_dbm,
                                                                     int64_t time_ms);

/** One heard advertisement for `sotto_tracer_on_advertisements`. */
typedef struct sotto_heard_advertisement {
    int64_t time_ms;  /**< Unix ms of reception */
    int32_t rssi_dbm; /**< -127..20 */
    uint8_t len;      /**< bytes used in `bytes`: 20 (service data) or 28/31 (advertising data) */
    uint8_t bytes[SOTTO_ADVERTISING_DATA_MAX_BYTES];
} sotto_heard_advertisement;
SOTTO_STATIC_ASSERT(sizeof(sotto_heard_advertisement) == 48, "sotto_heard_advertisement layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_heard_advertisement, len) == 12,
                    "sotto_heard_advertisement layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_heard_advertisement, bytes) == 13,
                    "sotto_heard_advertisement layout");

/** Many heard advertisements in one call (e.g. Android's onBatchScanResults: one JNI crossing per
 *  batch). Each is handled as by `sotto_tracer_on_advertisement`; malformed ones and ones with an
 *  RSSI, time or `len` out of range are skipped and counted, not errors. `*out_accepted` (may be
 *  NULL) receives how many were accepted. Fails only when a batch write to the store failed
 *  (the accepted ones stay pending) or on NULL. */
SOTTO_API SOTTO_NODISCARD sotto_status
sotto_tracer_on_advertisements(sotto_tracer* tracer, const sotto_heard_advertisement* heard,
                               size_t count, size_t* out_accepted);

/** Writes pending heard advertisements now (one transaction). */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_tracer_flush(sotto_tracer* tracer);

/** What the daily retention did during one tick (sotto_tick_report.retention). */
enum {
    SOTTO_RETENTION_NOT_DUE = 0, /**< already ran today */
    SOTTO_RETENTION_RAN = 1,     /**< ran as of the clock's now */
    /** refused because the clock is suspect: nothing deleted, retried at the next tick */
    SOTTO_RETENTION_PAUSED_CLOCK_SUSPECT = 2
};

/** What one successful `sotto_tracer_tick` did. OUTPUT struct (first layout: 12 bytes). */
typedef struct sotto_tick_report {
    uint32_t struct_size; /**< set by the caller to sizeof(sotto_tick_report) */
    int32_t retention;    /**< SOTTO_RETENTION_* */
    uint8_t flushed;      /**< pending heard advertisements were written to the store */
    uint8_t rotated;      /**< a new advertisement (RPI, AEM, address) started */
    uint8_t reserved[2];
} sotto_tick_report;
SOTTO_STATIC_ASSERT(sizeof(sotto_tick_report) == 12, "sotto_tick_report layout");

/** Periodic work (call at least once a minute): applies retention once a day (first, before
 *  anything is written), writes pending advertisements when due, rolls the TEK. `out` may be
 *  NULL. A suspect clock is not an error: retention is paused (`out->retention` is
 *  SOTTO_RETENTION_PAUSED_CLOCK_SUSPECT, nothing deleted)
 *  when the clock is more than 3 days from the time the store last trusted, or (with the
 *  system clock on Linux/Android) ran more than an hour ahead of the time elapsed since the last
 *  run; see `sotto_tracer_apply_retention` to confirm the clock. Fails only when something
 *  failed (storage, clock out of range); the rest of the work is still done. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_tracer_tick(sotto_tick_report* out,
                                                         sotto_tracer* tracer);

/** Flags of `sotto_tracer_apply_retention`. */
enum {
    /** The host vouches for its clock (the OS set it from the network, or the user did). */
    SOTTO_RETENTION_CLOCK_CONFIRMED = 1
};

/** Deletes what is older than the retention window as of the host clock's now (what
 *  `sotto_tracer_tick` does once a UTC day). SOTTO_ERR_CLOCK_SUSPECT, deleting nothing, when the
 *  clock is suspect as in `sotto_tracer_tick` (more than 3 days from the store's clock anchor,
 *  the time it last trusted; own keys and heard advertisements written under the clock never
 *  count) and `flags` lacks SOTTO_RETENTION_CLOCK_CONFIRMED. With the flag the anchor is set to
 *  the clock's now, so a confirmation also repairs an anchor a wrong clock set. A host that sees
 * SOTTO_RETENTION_PAUSED_CLOCK_SUSPECT from `sotto_tracer_tick` after the device was off for days,
 * and whose OS keeps network time, calls this with the flag. SOTTO_ERR_INVALID_ARGUMENT for NULL or
 * unknown flags; storage errors. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_tracer_apply_retention(sotto_tracer* tracer,
                                                                    uint32_t flags);

/** Flags of the key-file imports. */
enum {
    SOTTO_IMPORT_PARSE_ONLY = 1, /**< match even if not verified (never recorded); opt-out */
    SOTTO_IMPORT_REMATCH = 2     /**< match a file an earlier recorded check already processed */
};

/** What happened to one imported key file. OUTPUT struct (first layout: 152 bytes), also
 *  returned in arrays (`element_size`). */
typedef struct sotto_import_result {
    uint32_t struct_size;      /**< set by the caller */
    sotto_status error;        /**< why it was refused (SOTTO_OK when matched or skipped) */
    uint8_t read;              /**< parsed completely */
    uint8_t verified;          /**< signature verified with a key of the trust store */
    uint8_t matched;           /**< its keys take part in the current check round */
    uint8_t already_processed; /**< skipped: recorded by an earlier check (no REMATCH) */
    uint8_t reserved[4];
    uint64_t matched_rpis;   /**< RPIs of its keys found among the round's sightings; filled in
                                  by the check (0 in the result of an import) */
    sotto_keyfile_info info; /**< meaningful when `read`; its first layout (info.struct_size 128)
                                  whatever the caller set */
} sotto_import_result;
SOTTO_STATIC_ASSERT(sizeof(sotto_import_result) == 152, "sotto_import_result layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_import_result, read) == 8, "sotto_import_result layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_import_result, matched_rpis) == 16,
                    "sotto_import_result layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_import_result, info) == 24, "sotto_import_result layout");

/** Imports an export.zip held in memory into the current check round, verified fail-closed
 *  against the tracer's trust store; its keys are streamed into the matcher (memory stays
 *  bounded). A refused file (malformed, unsigned, untrusted, bad signature) is not an error of
 *  the call: SOTTO_OK is returned and `out->error` says why (`out` may be NULL; else set its
 *  `struct_size`, checked before anything is imported). The call fails
 *  only for storage/engine failures, SOTTO_ERR_OUT_OF_MEMORY or bad arguments. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_tracer_import_keyfile(sotto_import_result* out,
                                                                   sotto_tracer* tracer,
                                                                   const uint8_t* zip,
                                                                   size_t zip_len, uint32_t flags);
/** As `sotto_tracer_import_keyfile`, for export.bin and export.sig (`sig_len` 0: unsigned). */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_tracer_import_keyfile_pair(
    sotto_import_result* out, sotto_tracer* tracer, const uint8_t* bin, size_t bin_len,
    const uint8_t* sig, size_t sig_len, uint32_t flags);
/** As `sotto_tracer_import_keyfile`, from a path (zip, loose export.bin, or directory). */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_tracer_import_keyfile_path(sotto_import_result* out,
                                                                        sotto_tracer* tracer,
                                                                        const char* path,
                                                                        uint32_t flags);

/** The result of one exposure check. Immutable; thread-safe; independent of the tracer. */
typedef struct sotto_check sotto_check;

/** Closes the current round (every file imported since the last check) and builds the report at
 *  the clock's now: exposure windows, daily summaries, CWA risk; records it when every matched
 *  file verified and one was new. With no file imported: an empty report. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_tracer_check(sotto_check** out, sotto_tracer* tracer);
SOTTO_API void sotto_check_destroy(sotto_check* check);

enum { SOTTO_RISK_NONE = 0, SOTTO_RISK_LOW = 1, SOTTO_RISK_HIGH = 2 };

/** The check's numbers (C++ `sotto::CheckReport`, flattened). OUTPUT struct (first layout: 176
 *  bytes). */
typedef struct sotto_check_summary {
    uint32_t struct_size;     /**< set by the caller */
    int32_t total_risk_level; /**< SOTTO_RISK_*: none / low / high (docs/risk.md) */
    int64_t computed_at;      /**< Unix seconds */
    uint64_t files;           /**< files in the round (see sotto_check_get_files) */
    uint64_t sightings;       /**< sightings the round matched against */
    uint64_t valid_matches;
    uint64_t suspect_matches; /**< RPI matches whose metadata did not check out */
    uint64_t windows;         /**< exposure windows */
    uint64_t daily_summaries;
    uint64_t risk_days;                 /**< days with an evaluated window */
    int64_t most_recent_low_risk_date;  /**< UTC midnight, Unix seconds; 0 when none */
    int64_t most_recent_high_risk_date; /**< UTC midnight, Unix seconds; 0 when none */
    uint8_t recorded;                   /**< results were written to the store */
    uint8_t reserved[7];
    uint64_t disputed_matches; /**< valid matches whose RPI was heard with more than one AEM */
    uint64_t encounters;       /**< contacts: windows of one (key, metadata) group, summed */
    uint64_t keys;             /**< keys received from the matched files */
    uint64_t keys_revoked;     /**< of those, report type REVOKED: not matched */
    uint64_t keys_checked;     /**< keys whose RPIs the matcher derived */
    uint64_t keys_skipped;     /**< keys with no sighting in reach */
    uint64_t keys_invalid;     /**< rolling period outside 1..144 */
    uint64_t rpis_derived;
    uint64_t rpis_matched;         /**< derived RPIs found among the sightings */
    uint64_t matcher_keys_revoked; /**< REVOKED keys the matcher itself skipped */
} sotto_check_summary;
SOTTO_STATIC_ASSERT(sizeof(sotto_check_summary) == 176, "sotto_check_summary layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_check_summary, computed_at) == 8, "sotto_check_summary layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_check_summary, recorded) == 88, "sotto_check_summary layout");

/** GAEN ExposureWindow (its ScanInstances through sotto_check_get_scan_instances). Array element
 *  (first layout: 24 bytes). */
typedef struct sotto_exposure_window {
    int64_t date_unix;              /**< UTC midnight of the first scan */
    int32_t report_type;            /**< GAEN ReportType */
    int32_t infectiousness;         /**< 0 none, 1 standard, 2 high */
    int32_t calibration_confidence; /**< 0..3 */
    uint32_t scan_instance_count;
} sotto_exposure_window;
SOTTO_STATIC_ASSERT(sizeof(sotto_exposure_window) == 24, "sotto_exposure_window layout");

/** Array element (first layout: 12 bytes). */
typedef struct sotto_scan_instance {
    int32_t typical_attenuation_db;
    int32_t min_attenuation_db;
    int32_t seconds_since_last_scan;
} sotto_scan_instance;
SOTTO_STATIC_ASSERT(sizeof(sotto_scan_instance) == 12, "sotto_scan_instance layout");

/** GAEN DailySummary over all report types. Array element (first layout: 32 bytes). */
typedef struct sotto_daily_summary {
    int64_t date_unix;
    double maximum_score;
    double score_sum;
    double weighted_duration_sum;
} sotto_daily_summary;
SOTTO_STATIC_ASSERT(sizeof(sotto_daily_summary) == 32, "sotto_daily_summary layout");

/** One day of the CWA risk evaluation (newest first). Array element (first layout: 32 bytes). */
typedef struct sotto_risk_day {
    int64_t date_unix;
    double normalized_time;
    int32_t risk_level; /**< SOTTO_RISK_* */
    int32_t minimum_distinct_encounters_with_low_risk;
    int32_t minimum_distinct_encounters_with_high_risk;
    int32_t reserved;
} sotto_risk_day;
SOTTO_STATIC_ASSERT(sizeof(sotto_risk_day) == 32, "sotto_risk_day layout");

SOTTO_API SOTTO_NODISCARD sotto_status sotto_check_get_summary(sotto_check_summary* out,
                                                               const sotto_check* check);
/* Arrays of the report; buffer and array conventions at the top (capacity in elements,
 * `element_size` the sizeof of the caller's element type). */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_check_get_files(sotto_import_result* out,
                                                             size_t capacity, uint32_t element_size,
                                                             size_t* out_needed,
                                                             const sotto_check* check);
SOTTO_API SOTTO_NODISCARD sotto_status sotto_check_get_windows(sotto_exposure_window* out,
                                                               size_t capacity,
                                                               uint32_t element_size,
                                                               size_t* out_needed,
                                                               const sotto_check* check);
/** The scan instances of window `window_index`. Past the last window: SOTTO_ERR_OUT_OF_RANGE with
 *  `*out_needed` 0. */
SOTTO_API SOTTO_NODISCARD sotto_status
sotto_check_get_scan_instances(sotto_scan_instance* out, size_t capacity, uint32_t element_size,
                               size_t* out_needed, const sotto_check* check, size_t window_index);
SOTTO_API SOTTO_NODISCARD sotto_status sotto_check_get_daily_summaries(sotto_daily_summary* out,
                                                                       size_t capacity,
                                                                       uint32_t element_size,
                                                                       size_t* out_needed,
                                                                       const sotto_check* check);
SOTTO_API SOTTO_NODISCARD sotto_status sotto_check_get_risk_days(sotto_risk_day* out,
                                                                 size_t capacity,
                                                                 uint32_t element_size,
                                                                 size_t* out_needed,
                                                                 const sotto_check* check);

/** The consent value of `sotto_tracer_release_own_keys`: pass it only from the code path where
 *  the user confirmed, in the app's UI, that their keys may be uploaded. Greppable on purpose. */
#define SOTTO_USER_CONFIRMED_UPLOAD_OF_OWN_KEYS 0x55504C44u

/** A list of the device's own keys released for upload. Immutable; thread-safe. */
typedef struct sotto_key_list sotto_key_list;

/** Releases the own TEKs of the retention window for upload (oldest first) and marks them
 *  published. Today's key is rolled first: its period ends with the current interval, nothing is
 *  broadcast for the rest of that interval (`active` 0), and a new TEK is used from the next
 *  interval on, so a released key is never broadcast again. `consent` must be
 *  SOTTO_USER_CONFIRMED_UPLOAD_OF_OWN_KEYS, else SOTTO_ERR_FAILED_PRECONDITION and nothing
 *  happens. Keys carry TEK and validity; the other fields are 0. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_tracer_release_own_keys(sotto_key_list** out,
                                                                     sotto_tracer* tracer,
                                                                     uint32_t consent);
/** The released keys; buffer and array conventions at the top. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_key_list_get(sotto_diagnosis_key* out, size_t capacity,
                                                          uint32_t element_size, size_t* out_needed,
                                                          const sotto_key_list* list);
/** Wipes the key bytes and frees the list (copies in the caller's buffers are the caller's to
 *  wipe). */
SOTTO_API void sotto_key_list_destroy(sotto_key_list* list);

/** Where and how `sotto_upload_own_keys` sends the keys. INPUT struct: the caller sets
 *  `struct_size` to sizeof(sotto_upload_options); a smaller one from an older header (at least
 *  the first layout, up to `reserved`) is accepted and the fields beyond it take their
 *  defaults. Strings are NUL-terminated, printable ASCII. */
typedef struct sotto_upload_options {
    uint32_t struct_size;
    uint32_t timeout_ms; /**< the whole exchange; 0: 30000; at most 600000 */
    /** The key server's publish endpoint, e.g. "https://exposure.example.org/v1/publish".
     *  https://, or http:// to a loopback address only. */
    const char* url;
    const char* health_authority_id;  /**< assigned by the key server's operator */
    const char* verification_payload; /**< the verification certificate (or code) */
    const char* revision_token;       /**< from an earlier publish; NULL or "" for the first */
    const char* ca_file;              /**< PEM CAs instead of the system's; NULL: system */
    int32_t transmission_risk;        /**< 0..8 for every key; 0 "unknown" */
    uint32_t symptom_onset_interval;  /**< ENIN of the onset day; 0: not sent */
    /* Added after the first layout (an older caller's smaller struct_size leaves them NULL): */
    /** The verification server's base URL (https://, or http:// to loopback); NULL or "": the
     *  code is sent as the payload as is. With it, `verification_payload` is the code, exchanged
     *  at <server>/api/verify and /api/certificate for a certificate over the keys' HMAC. */
    const char* verification_server;
    const char* api_key; /**< the app's API key for the verification server (X-API-Key) */
} sotto_upload_options;
SOTTO_STATIC_ASSERT(offsetof(sotto_upload_options, url) == 8, "sotto_upload_options layout");

/** What the key server answered. OUTPUT struct (first layout: 2400 bytes, up to
 *  `revision_token`). Strings are NUL-terminated printable ASCII, cut to fit. */
typedef struct sotto_upload_result {
    uint32_t struct_size; /**< set by the caller */
    int32_t http_status;  /**< 200 when taken; 400 with `code` for a refused payload */
    uint8_t accepted;     /**< 1: the keys (or some: `code` "partial_failure") were taken */
    uint8_t reserved[3];
    uint32_t keys_sent;
    uint32_t body_bytes; /**< size of the request body (padding included) */
    uint32_t reserved2;
    int64_t inserted_exposures;
    char code[64];             /**< the answer's `code`, e.g.
                                    "health_authority_verification_certificate_invalid" */
    char message[256];         /**< the answer's `error` */
    char revision_token[2048]; /**< keep it for a later publish of the same device */
    /** Added later: which server answered last: "verify" or "certificate" (the verification
     *  server refused: `code` is its errorCode, e.g. "code_invalid", "code_expired"), or
     *  "publish" (the key server). */
    char stage[16];
} sotto_upload_result;
SOTTO_STATIC_ASSERT(sizeof(sotto_upload_result) == 2416, "sotto_upload_result layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_upload_result, stage) == 2400, "sotto_upload_result layout");

/** Releases the device's own keys (as `sotto_tracer_release_own_keys`: `consent` must be
 *  SOTTO_USER_CONFIRMED_UPLOAD_OF_OWN_KEYS, else SOTTO_ERR_FAILED_PRECONDITION and nothing
 *  happens) and sends them to a key server in the Exposure Notifications Server publish format
 *  (JSON: temporaryExposureKeys, healthAuthorityID, verificationPayload, hmacKey, padding; random
 *  padding so the size does not tell how many keys; nothing else about the user). Blocks for at
 *  most `timeout_ms`. A complete exchange returns SOTTO_OK with the answer in `out` (check
 *  `accepted`): a refusal by the server is not an error of the call. Errors:
 *  SOTTO_ERR_NETWORK_REFUSED (URL not allowed, a redirect), SOTTO_ERR_NETWORK_TIMEOUT,
 *  SOTTO_ERR_NETWORK_IO, SOTTO_ERR_NETWORK_TOO_LARGE, SOTTO_ERR_INVALID_ARGUMENT (options, no
 *  own key), store errors. The keys stay marked published whatever the server said (a retry
 *  sends them again). */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_upload_own_keys(sotto_upload_result* out,
                                                             sotto_tracer* tracer,
                                                             const sotto_upload_options* options,
                                                             uint32_t consent);

/** "Forget me": deletes every sighting, own key, exposure record and processed-file entry
 *  (pending heard advertisements are erased with them) and drops the open round. Advertisements
 *  stamped at or before the erase and handed over later (a batch delivered late) are dropped
 *  too, by this tracer and by one opened later on the same store (the erase's time is stored
 *  with it). The store stays open and usable; advertising resumes with
 *  a new TEK from the next interval on. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_tracer_erase_all(sotto_tracer* tracer);

/** Counters since the tracer was opened (no identifiers), C++ `sotto::TracerStatus`. OUTPUT
 *  struct; first layout: 136 bytes (up to `radio_errors`). */
typedef struct sotto_tracer_status {
    uint32_t struct_size; /**< set by the caller */
    uint32_t reserved;
    uint64_t heard;            /**< accepted (decoded) advertisements */
    uint64_t malformed;        /**< refused by the decoder */
    uint64_t dropped_overflow; /**< valid, dropped: too many pending while the store failed */
    uint64_t pending;          /**< not yet in the store */
    uint64_t stored;           /**< observations the store accepted */
    uint64_t rejected;         /**< refused by the store (time, RSSI) */
    uint64_t flushes;
    uint64_t flush_failures;
    uint64_t own_keys_created;
    uint64_t rotations;
    uint64_t files_imported;
    uint64_t files_refused;
    uint64_t files_skipped;
    uint64_t checks;
    uint64_t deduplicated; /**< of `heard`, folded into an observation of the same second */
    uint64_t radio_errors; /**< failed calls to an attached radio (C++ hosts only) */
    /* Added after the first layout: */
    /** Observations dropped unwritten by sotto_tracer_erase_all: pending at the erase, or stamped
     *  at or before it and handed over later. */
    uint64_t discarded;
    uint8_t radio_attached; /**< a radio is attached (C++ hosts only; 0 for C callers) */
    uint8_t round_open;     /**< files were imported since the last check */
    /** The last retention attempt was refused because the clock is suspect (see
     *  sotto_tracer_tick); cleared by the next successful run. */
    uint8_t clock_suspect;
    uint8_t reserved2[5];
} sotto_tracer_status;
SOTTO_STATIC_ASSERT(sizeof(sotto_tracer_status) == 152, "sotto_tracer_status layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_tracer_status, heard) == 8, "sotto_tracer_status layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_tracer_status, discarded) == 136, "sotto_tracer_status layout");

SOTTO_API SOTTO_NODISCARD sotto_status sotto_tracer_get_status(sotto_tracer_status* out,
                                                               const sotto_tracer* tracer);

/** Counts of stored rows. OUTPUT struct; first layout: 56 bytes (up to `processed_files`). */
typedef struct sotto_store_stats {
    uint32_t struct_size; /**< set by the caller */
    uint32_t reserved;
    uint64_t sightings; /**< (RPI, interval) rows */
    uint64_t rpis;
    uint64_t days;
    uint64_t own_keys;
    uint64_t exposure_records;
    uint64_t processed_files;
    /* Added after the first layout: */
    uint64_t key_publications; /**< publication times of matched diagnosis keys remembered */
} sotto_store_stats;
SOTTO_STATIC_ASSERT(sizeof(sotto_store_stats) == 64, "sotto_store_stats layout");

SOTTO_API SOTTO_NODISCARD sotto_status sotto_tracer_get_store_stats(sotto_store_stats* out,
                                                                    const sotto_tracer* tracer);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SOTTO_SOTTO_H_ */

#include <sotto/sotto_updater.h> /* the key updater (after SOTTO_SOTTO_H_ is complete) */
