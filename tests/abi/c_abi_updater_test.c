/* C ABI: the key updater against a directory source (the corpus' signed zip) and against a real
 * TCP server on 127.0.0.1 that accepts and never answers, cancelled from another thread. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "c_abi_test.h"

static int64_t g_now_ms = ((int64_t)2689920 + 2 * 144 + 72) * 600000;
static int64_t clock_fn(void* user_data) {
    (void)user_data;
    return g_now_ms;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void remove_store(const char* path) {
    static const char* const suffixes[] = {"", ".kdf", "-wal", "-shm", "-journal"};
    char p[4300];
    size_t i;
    for (i = 0; i < 5; ++i) {
        snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
        remove(p);
    }
}

static void remove_tree(const char* dir) {
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
}

/* A server that accepts connections, reads what comes, and never answers. */
typedef struct {
    int listen_fd;
    int port;
    volatile int stop;
    int accepted;
} silent_server;

static void* serve_silently(void* p) {
    silent_server* s = p;
    int fds[16];
    int n = 0, i;
    while (!s->stop) {
        struct pollfd pfd;
        pfd.fd = s->listen_fd;
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (poll(&pfd, 1, 50) > 0 && n < 16) {
            int fd = accept(s->listen_fd, NULL, NULL);
            if (fd >= 0) {
                fds[n++] = fd;
                ++s->accepted;
            }
        }
        for (i = 0; i < n; ++i) { /* drain what the client sent; answer nothing */
            char buf[4096];
            struct pollfd c;
            c.fd = fds[i];
            c.events = POLLIN;
            c.revents = 0;
            if (poll(&c, 1, 0) > 0 && recv(fds[i], buf, sizeof buf, 0) <= 0) c.fd = -1;
        }
    }
    for (i = 0; i < n; ++i) close(fds[i]);
    return NULL;
}

static int start_silent(silent_server* s) {
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    memset(s, 0, sizeof *s);
    s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (s->listen_fd < 0) return 0;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s->listen_fd, (struct sockaddr*)&addr, sizeof addr) != 0 ||
        listen(s->listen_fd, 8) != 0 ||
        getsockname(s->listen_fd, (struct sockaddr*)&addr, &len) != 0)
        return 0;
    s->port = ntohs(addr.sin_port);
    return 1;
}

typedef struct {
    sotto_updater* updater;
    double delay_s;
    double cancelled_at;
} canceller_args;

static void* cancel_later(void* p) {
    canceller_args* a = p;
    struct timespec d;
    d.tv_sec = (time_t)a->delay_s;
    d.tv_nsec = (long)((a->delay_s - (double)d.tv_sec) * 1e9);
    nanosleep(&d, NULL);
    a->cancelled_at = now_s();
    sotto_updater_cancel(a->updater);
    return NULL;
}

static int g_progress_calls;
static uint32_t g_last_phase;
static void on_progress(void* user_data, const sotto_update_progress* p) {
    (void)user_data;
    CHECK(p->struct_size == sizeof(sotto_update_progress));
    CHECK(p->bytes_done <= p->bytes_total);
    CHECK(p->phase >= g_last_phase);
    g_last_phase = p->phase;
    ++g_progress_calls;
}

void test_updater(const char* corpus_dir, const char* tmp_dir) {
    static const char pem[] =
        "-----BEGIN PUBLIC KEY-----\n"
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEulSQvF1to8ojTUMV3/Zk9sQxw+z6\n"
        "Ced8ZWKL3e/xXGFqE2GvcZG9wn5Mgd3eV5VFTKTIdLX5zALvZv1lgjuvfA==\n"
        "-----END PUBLIC KEY-----\n";
    char path[4200], bucket[4200], state[4200], zip_path[4200], dest[4300], url[64];
    uint8_t key[32];
    sotto_trust_store* trust = NULL;
    sotto_tracer* t = NULL;
    sotto_updater* u = NULL;
    sotto_updater_options o;
    sotto_update_summary sum = {.struct_size = sizeof(sotto_update_summary)};
    sotto_update_file file = {.struct_size = sizeof(sotto_update_file)};
    sotto_check* check = NULL;
    char name[64];
    size_t needed = 0, zip_len = 0;
    uint8_t* zip;
    FILE* f;

    snprintf(path, sizeof path, "%.4000s/updater.db", tmp_dir);
    snprintf(bucket, sizeof bucket, "%.4000s/updater-bucket", tmp_dir);
    snprintf(state, sizeof state, "%.4000s/updater-state", tmp_dir);
    snprintf(zip_path, sizeof zip_path, "%.4000s/signed.zip", corpus_dir);
    remove_store(path);
    remove_tree(bucket);
    remove_tree(state);
    mkdir(bucket, 0700);
    zip = c_abi_read_file(zip_path, &zip_len);
    CHECK(zip != NULL);
    if (zip == NULL) return;
    snprintf(dest, sizeof dest, "%s/a.zip", bucket);
    f = fopen(dest, "wb");
    CHECK(f != NULL && fwrite(zip, 1, zip_len, f) == zip_len);
    if (f) fclose(f);
    free(zip);

    memset(key, 0x42, sizeof key);
    CHECK_STATUS(SOTTO_OK, sotto_trust_store_create(&trust));
    CHECK_STATUS(SOTTO_OK,
                 sotto_trust_store_add(trust, "fuzz", "v1", (const uint8_t*)pem, strlen(pem), 1));
    CHECK_STATUS(SOTTO_OK,
                 sotto_tracer_open(&t, path, key, sizeof key, trust, clock_fn, NULL, NULL));
    sotto_trust_store_destroy(trust);
    if (t == NULL) return;

    /* Arguments. */
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_updater_create(&u, NULL, bucket, state, NULL));
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_updater_create(&u, t, NULL, state, NULL));
    CHECK_STATUS(SOTTO_OK, sotto_updater_options_init(&o));
    CHECK(o.struct_size == sizeof o && o.total_timeout_ms == 120000 && o.max_redirects == 5);
    /* A struct_size that ends inside a field (20: half of max_file_bytes) is refused, not
     * read as the caller's half and the default's half; one on a field's end is accepted. */
    o.struct_size = 20;
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_updater_create(&u, t, bucket, state, &o));
    o.struct_size = 9;
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_updater_create(&u, t, bucket, state, &o));
    o.struct_size = 24;
    CHECK_STATUS(SOTTO_OK, sotto_updater_create(&u, t, bucket, state, &o));
    sotto_updater_destroy(u);
    u = NULL;
    o.struct_size = sizeof o;
    o.max_file_bytes = 0;
    CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_updater_create(&u, t, bucket, state, &o));
    CHECK_STATUS(SOTTO_ERR_NETWORK_REFUSED,
                 sotto_updater_create(&u, t, "http://192.0.2.1/keys", state, NULL));
    sotto_updater_cancel(NULL);
    sotto_updater_destroy(NULL);

    /* A directory source: the signed file is verified, checked and marked used. */
    CHECK_STATUS(SOTTO_OK, sotto_updater_create(&u, t, bucket, state, NULL));
    if (u == NULL) {
        sotto_tracer_destroy(t);
        return;
    }
    sum.struct_size = sizeof sum;
    CHECK_STATUS(SOTTO_ERR_FAILED_PRECONDITION, sotto_updater_get_summary(&sum, u));
    CHECK_STATUS(SOTTO_OK, sotto_updater_run(u, on_progress, NULL));
    CHECK(g_progress_calls > 0);
    CHECK(g_last_phase == SOTTO_UPDATE_PHASE_CHECK);
    memset(&sum, 0xAB, sizeof sum);
    sum.struct_size = sizeof sum;
    CHECK_STATUS(SOTTO_OK, sotto_updater_get_summary(&sum, u));
    CHECK(sum.struct_size == sizeof sum);
    CHECK(sum.index_status == SOTTO_INDEX_NEW);
    CHECK(sum.files == 1 && sum.checked == 1 && sum.failed == 0 && sum.refused == 0);
    CHECK(sum.cancelled == 0 && sum.check_ran == 1 && sum.reserved[0] == 0);
    file.struct_size = sizeof file;
    CHECK_STATUS(SOTTO_OK, sotto_updater_get_file(&file, u, 0));
    CHECK(file.outcome == SOTTO_UPDATE_CHECKED && file.reason == SOTTO_OK && file.downloaded == 1);
    CHECK(file.bytes > 0 && file.keys > 0);
    CHECK_STATUS(SOTTO_ERR_OUT_OF_RANGE, sotto_updater_get_file(&file, u, 1));
    CHECK_STATUS(SOTTO_ERR_OUT_OF_RANGE, sotto_updater_get_file_path(NULL, 0, &needed, u, 0));
    CHECK(needed == strlen("a.zip") + 1);
    CHECK_STATUS(SOTTO_OK, sotto_updater_get_file_path(name, sizeof name, &needed, u, 0));
    CHECK(strcmp(name, "a.zip") == 0);
    CHECK_STATUS(SOTTO_OK, sotto_updater_take_check(&check, u));
    CHECK(check != NULL);
    sotto_check_destroy(check);
    CHECK_STATUS(SOTTO_OK, sotto_updater_take_check(&check, u));
    CHECK(check == NULL);
    {
        /* A caller compiled against a later, larger struct: the library fills what it knows,
         * leaves the rest alone and says how much it filled in struct_size. */
        struct {
            sotto_update_summary s;
            uint8_t later_fields[16];
        } newer;
        /* A caller compiled against the first layout (before index_lines_refused): exactly its
         * 104 bytes are written; the guard bytes after them stay as they were. */
        struct {
            uint32_t struct_size, index_status;
            sotto_status index_error;
            int32_t index_http_status;
            uint64_t files, checked, unchanged, refused, still_refused, failed, postponed,
                refusals_forgotten, requests, bytes_downloaded;
            uint8_t cancelled, check_ran, state_was_damaged, reserved[5];
            uint8_t guard[24];
        } older;
        size_t i;
        memset(&older, 0xCD, sizeof older);
        older.struct_size = 104;
        CHECK_STATUS(SOTTO_OK, sotto_updater_get_summary((sotto_update_summary*)(void*)&older, u));
        CHECK(older.struct_size == 104 && older.index_status == SOTTO_INDEX_NEW);
        CHECK(older.files == 1 && older.checked == 1 && older.failed == 0 && older.cancelled == 0);
        CHECK(older.bytes_downloaded == sum.bytes_downloaded && older.requests == sum.requests);
        for (i = 0; i < sizeof older.guard; ++i) CHECK(older.guard[i] == 0xCD);
        older.struct_size = 103; /* below the first layout */
        older.files = 55;
        CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT,
                     sotto_updater_get_summary((sotto_update_summary*)(void*)&older, u));
        CHECK(older.files == 55 && older.struct_size == 103);
        memset(&newer, 0xCD, sizeof newer);
        newer.s.struct_size = (uint32_t)sizeof newer;
        CHECK_STATUS(SOTTO_OK, sotto_updater_get_summary(&newer.s, u));
        CHECK(newer.s.struct_size == sizeof newer.s && newer.s.index_status == SOTTO_INDEX_NEW);
        CHECK(newer.s.index_lines_refused == 0);
        CHECK(newer.s.checked == 1 && newer.s.reserved[4] == 0);
        for (i = 0; i < sizeof newer.later_fields; ++i) CHECK(newer.later_fields[i] == 0xCD);
        /* struct_size not set (or below the first layout): refused, nothing written. */
        newer.s.struct_size = 16;
        newer.s.checked = 77;
        CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_updater_get_summary(&newer.s, u));
        CHECK(newer.s.checked == 77);
        file.struct_size = 0;
        CHECK_STATUS(SOTTO_ERR_INVALID_ARGUMENT, sotto_updater_get_file(&file, u, 0));
    }
    /* The next round has nothing to do. */
    CHECK_STATUS(SOTTO_OK, sotto_updater_run(u, NULL, NULL));
    sum.struct_size = sizeof sum;
    CHECK_STATUS(SOTTO_OK, sotto_updater_get_summary(&sum, u));
    CHECK(sum.unchanged == 1 && sum.checked == 0 && sum.check_ran == 0);
    /* A cancel with no round running stops the next one at its start. */
    sotto_updater_cancel(u);
    CHECK_STATUS(SOTTO_OK, sotto_updater_run(u, NULL, NULL));
    CHECK_STATUS(SOTTO_OK, sotto_updater_get_summary(&sum, u));
    CHECK(sum.cancelled == 1 && sum.index_status == SOTTO_INDEX_FAILED &&
          sum.index_error == SOTTO_ERR_CANCELLED);
    sotto_updater_destroy(u);
    u = NULL;

    /* A server that never answers, default options (no timeout shortened): cancelled from another
     * thread, the round returns within 1 s. */
    {
        silent_server s;
        pthread_t server_thread, canceller;
        canceller_args ca;
        double returned;
        char state2[4300];
        CHECK(start_silent(&s));
        CHECK(pthread_create(&server_thread, NULL, serve_silently, &s) == 0);
        snprintf(url, sizeof url, "http://127.0.0.1:%d", s.port);
        snprintf(state2, sizeof state2, "%s-silent", state);
        remove_tree(state2);
        CHECK_STATUS(SOTTO_OK, sotto_updater_create(&u, t, url, state2, NULL));
        if (u != NULL) {
            ca.updater = u;
            ca.delay_s = 0.6;
            ca.cancelled_at = 0;
            CHECK(pthread_create(&canceller, NULL, cancel_later, &ca) == 0);
            CHECK_STATUS(SOTTO_OK, sotto_updater_run(u, NULL, NULL));
            returned = now_s();
            pthread_join(canceller, NULL);
            CHECK(returned - ca.cancelled_at < 1.0);
            CHECK(returned >= ca.cancelled_at);
            sum.struct_size = sizeof sum;
            CHECK_STATUS(SOTTO_OK, sotto_updater_get_summary(&sum, u));
            CHECK(sum.cancelled == 1);
            CHECK(sum.index_error == SOTTO_ERR_CANCELLED);
            CHECK(s.accepted == 1);
            sotto_updater_destroy(u);
        }
        s.stop = 1;
        pthread_join(server_thread, NULL);
        close(s.listen_fd);
        remove_tree(state2);
    }
    sotto_tracer_destroy(t);
    remove_tree(bucket);
    remove_tree(state);
    remove_store(path);
}
