/* sotto_updater.h: the key updater part of the C ABI. Include <sotto/sotto.h>, which includes
 * this file; it is kept apart only so that each file can be read on its own. */
#ifndef SOTTO_SOTTO_UPDATER_H_
#define SOTTO_SOTTO_UPDATER_H_

#include <sotto/sotto.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * The key updater: download -> verify -> import -> check -> mark, one round per call
 * ------------------------------------------------------------------------------------------- */

/** Downloads the new key files of a source (export-bucket layout over https, or a directory),
 *  verifies them fail-closed with the tracer's trust store, checks them through the tracer and
 *  remembers per file what happened (docs/mobile.md). `sotto_updater_run` and the getters from
 *  one thread at a time; `sotto_updater_cancel` from any thread, at any time. The tracer must
 *  outlive the updater; do not import into it from another thread while a round runs. */
typedef struct sotto_updater sotto_updater;

/** Options of `sotto_updater_create`. Fill with `sotto_updater_options_init`. INPUT struct
 *  (first layout: 8 bytes; see the struct conventions in sotto.h). */
typedef struct sotto_updater_options {
    uint32_t struct_size;        /**< sizeof(sotto_updater_options), set by _init */
    uint32_t connect_timeout_ms; /**< TCP + TLS handshake (default 10000) */
    uint32_t total_timeout_ms;   /**< whole transfer of one file (default 120000) */
    uint32_t max_redirects;      /**< redirects followed per request (default 5) */
    uint64_t max_file_bytes;     /**< largest key file (default 32 MiB) */
    uint64_t max_spool_bytes;    /**< most bytes downloaded and not yet checked (default 256 MiB) */
} sotto_updater_options;
SOTTO_STATIC_ASSERT(sizeof(sotto_updater_options) == 32, "sotto_updater_options layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_updater_options, max_file_bytes) == 16,
                    "sotto_updater_options layout");

/** The defaults in the first min(size, sizeof) bytes of `*out` (`size`: the caller's sizeof),
 *  `struct_size` set to that count; `size` below 8: SOTTO_ERR_INVALID_ARGUMENT, nothing written.
 *  Call it through `sotto_updater_options_init`. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_updater_options_init_sized(sotto_updater_options* out,
                                                                        size_t size);
/** `sotto_updater_options_init_sized` with this header's sizeof (a newer library writes no byte
 *  past the caller's struct). */
static inline SOTTO_NODISCARD sotto_status sotto_updater_options_init(sotto_updater_options* out) {
    return sotto_updater_options_init_sized(out, sizeof *out);
}

/** What a round did with one listed file (C++ `sotto::UpdateOutcome`). */
enum {
    SOTTO_UPDATE_CHECKED = 0,       /**< verified, checked, marked used */
    SOTTO_UPDATE_UNCHANGED = 1,     /**< used before: nothing to do */
    SOTTO_UPDATE_REFUSED = 2,       /**< refused for its content; not offered until it changes */
    SOTTO_UPDATE_STILL_REFUSED = 3, /**< refused earlier, unchanged since: not downloaded again */
    SOTTO_UPDATE_FAILED = 4,        /**< not downloaded (`reason`); retried next round */
    SOTTO_UPDATE_POSTPONED = 5      /**< downloaded, not checked (`reason`); checked next round */
};
/** The index request (C++ `sotto::fetch::IndexStatus`). */
enum { SOTTO_INDEX_NEW = 0, SOTTO_INDEX_UNCHANGED = 1, SOTTO_INDEX_FAILED = 2 };
/** Where a round is (C++ `sotto::UpdatePhase`). */
enum {
    SOTTO_UPDATE_PHASE_INDEX = 0,
    SOTTO_UPDATE_PHASE_DOWNLOAD = 1,
    SOTTO_UPDATE_PHASE_IMPORT = 2,
    SOTTO_UPDATE_PHASE_CHECK = 3
};

/** Progress of a round, passed to the callback. The library's own struct, read-only for the
 *  callback: `struct_size` is set by the library (read a field only when `struct_size` covers
 *  it). Files and bytes as C++ `sotto::UpdateProgress`. */
typedef struct sotto_update_progress {
    uint32_t struct_size;
    uint32_t phase; /**< SOTTO_UPDATE_PHASE_* */
    uint64_t files_done;
    uint64_t files_total;
    uint64_t bytes_done;
    uint64_t bytes_total;
} sotto_update_progress;
SOTTO_STATIC_ASSERT(sizeof(sotto_update_progress) == 40, "sotto_update_progress layout");

/** Called on the thread running the round, often; must not call sotto except
 *  `sotto_updater_cancel`. */
typedef void (*sotto_update_progress_fn)(void* user_data, const sotto_update_progress* progress);

/** The last round. OUTPUT struct (the struct conventions in sotto.h); first layout: 104 bytes
 *  (up to `reserved`). */
typedef struct sotto_update_summary {
    uint32_t struct_size;      /**< set by the caller */
    uint32_t index_status;     /**< SOTTO_INDEX_* */
    sotto_status index_error;  /**< for SOTTO_INDEX_FAILED (SOTTO_ERR_CANCELLED when cancelled) */
    int32_t index_http_status; /**< 0: none or a directory source */
    uint64_t files;            /**< entries in the index (see sotto_updater_get_file) */
    uint64_t checked;          /**< files per outcome: SOTTO_UPDATE_CHECKED */
    uint64_t unchanged;
    uint64_t refused;
    uint64_t still_refused;
    uint64_t failed;
    uint64_t postponed;
    uint64_t refusals_forgotten; /**< the trusted keys changed: refused files are checked again */
    uint64_t requests;           /**< HTTP requests (redirects included) */
    uint64_t bytes_downloaded;
    uint8_t cancelled;         /**< sotto_updater_cancel stopped the round */
    uint8_t check_ran;         /**< a check ran (sotto_updater_take_check) */
    uint8_t state_was_damaged; /**< the download state was unreadable and rebuilt */
    uint8_t reserved[5];
    /* Added after the first layout: */
    uint64_t index_lines_refused; /**< malformed or hostile index lines (skipped) */
} sotto_update_summary;
SOTTO_STATIC_ASSERT(sizeof(sotto_update_summary) == 112, "sotto_update_summary layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_update_summary, files) == 16, "sotto_update_summary layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_update_summary, cancelled) == 96, "sotto_update_summary layout");

/** One listed file of the last round. OUTPUT struct (the struct conventions in sotto.h);
 *  first layout: 72 bytes. */
typedef struct sotto_update_file {
    uint32_t struct_size; /**< set by the caller */
    uint32_t outcome;     /**< SOTTO_UPDATE_* */
    sotto_status reason;  /**< for REFUSED, FAILED, POSTPONED; SOTTO_OK otherwise */
    int32_t http_status;  /**< last HTTP status seen for it (0: none) */
    uint8_t sha256[32];   /**< of the zip, when known (else zeros) */
    uint64_t bytes;       /**< size of the zip, when known */
    uint64_t keys;        /**< keys checked, for SOTTO_UPDATE_CHECKED */
    uint8_t downloaded;   /**< downloaded in this round */
    uint8_t reserved[7];
} sotto_update_file;
SOTTO_STATIC_ASSERT(sizeof(sotto_update_file) == 72, "sotto_update_file layout");
SOTTO_STATIC_ASSERT(offsetof(sotto_update_file, bytes) == 48, "sotto_update_file layout");

/** An updater for `source` (UTF-8: `https://host/bucket`, `http://127.0.0.1:port/...`, or a
 *  directory path) that keeps its state in `state_dir` (created, mode 0700; one per source).
 *  `options` NULL: the defaults. When the tracer's trust store differs from the one the stored
 *  refusals were made with, they are forgotten (the first round reports it). Errors:
 *  SOTTO_ERR_INVALID_ARGUMENT (NULL, options), SOTTO_ERR_NETWORK_REFUSED (plain http to a
 *  non-loopback host), SOTTO_ERR_STORAGE_IO (state directory), SOTTO_ERR_OUT_OF_MEMORY. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_updater_create(sotto_updater** out,
                                                            sotto_tracer* tracer,
                                                            const char* source,
                                                            const char* state_dir,
                                                            const sotto_updater_options* options);

/** One round: downloads what is new, verifies, imports and checks it, marks each file used or
 *  refused. `progress` may be NULL. Per-file problems are in the summary and the files, not an
 *  error; a cancelled round returns SOTTO_OK with `cancelled` set (nothing of it was checked or
 *  recorded). Errors (the round as a whole): storage errors of the state, spool or store,
 *  SOTTO_ERR_OUT_OF_MEMORY. The previous round's results are replaced. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_updater_run(sotto_updater* updater,
                                                         sotto_update_progress_fn progress,
                                                         void* user_data);

/** Stops the running round within a fraction of a second, whatever the key server does (no
 *  timeout needed); with no round running, the next round stops at its start. Safe from any
 *  thread, concurrently with `sotto_updater_run`. NULL: no-op. */
SOTTO_API void sotto_updater_cancel(sotto_updater* updater);

/** The last round's summary. SOTTO_ERR_FAILED_PRECONDITION before a round completed;
 *  SOTTO_ERR_INVALID_ARGUMENT for NULL or a `struct_size` below this first layout's 104. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_updater_get_summary(sotto_update_summary* out,
                                                                 const sotto_updater* updater);
/** File `index` (index order) of the last round. SOTTO_ERR_OUT_OF_RANGE past the last;
 *  SOTTO_ERR_INVALID_ARGUMENT for NULL or a `struct_size` below this first layout's 72. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_updater_get_file(sotto_update_file* out,
                                                              const sotto_updater* updater,
                                                              size_t index);
/** The path of file `index` as listed (NUL-terminated; `*out_needed` counts the NUL). Buffer
 *  convention at the top (capacity in bytes). */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_updater_get_file_path(char* out, size_t capacity,
                                                                   size_t* out_needed,
                                                                   const sotto_updater* updater,
                                                                   size_t index);
/** Hands over the last round's check (`*out` NULL when no check ran); a second call gives NULL.
 *  Read it with sotto_check_get_*; free it with sotto_check_destroy. */
SOTTO_API SOTTO_NODISCARD sotto_status sotto_updater_take_check(sotto_check** out,
                                                                sotto_updater* updater);
/** Frees the updater (must not overlap a run: cancel it and wait for the run to return). NULL:
 *  no-op. */
SOTTO_API void sotto_updater_destroy(sotto_updater* updater);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SOTTO_SOTTO_UPDATER_H_ */
