/* cordon: small helpers shared by every module except the hook.
 *
 * Cleanup attributes in the style of systemd's alloc-util.h, a growable
 * string with git strbuf's invariants, and a string-keyed hash map. The hook
 * library may not use any of this (it allocates).
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* ---- ownership helpers ------------------------------------------------- */

static inline void cordon_freep(void *p) {
    free(*(void **)p);
}
static inline void cordon_closep(const int *fd) {
    if (*fd >= 0)
        (void)close(*fd);
}
static inline void cordon_fclosep(FILE **f) {
    if (*f)
        (void)fclose(*f);
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(cordon_freep)
#define _cleanup_close_ _cleanup_(cordon_closep)
#define _cleanup_fclose_ _cleanup_(cordon_fclosep)

/* Hand ownership out of a cleanup variable. */
#define TAKE_PTR(p)                                                                                \
    __extension__({                                                                                \
        __typeof__(p) take_ptr_tmp_ = (p);                                                         \
        (p) = NULL;                                                                                \
        take_ptr_tmp_;                                                                             \
    })
#define TAKE_FD(fd)                                                                                \
    __extension__({                                                                                \
        int take_fd_tmp_ = (fd);                                                                   \
        (fd) = -1;                                                                                 \
        take_fd_tmp_;                                                                              \
    })

#define CORDON_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Grow `*items` (of `*cap` elements of `size` bytes) to hold at least `need`.
 * Overflow-checked. 0 or -ENOMEM; on failure nothing changes. */
int cordon_grow(void **items, size_t *cap, size_t need, size_t size);

/* strdup that returns NULL for NULL. */
char *cordon_strdup0(const char *s);

/* ---- strbuf: a growable string ------------------------------------------
 * Invariants: `buf` is never NULL and always NUL-terminated; `len` excludes
 * the NUL. A strbuf that failed to grow keeps its old content and sets
 * `failed`, so a sequence of appends can be checked once at the end. */
struct cordon_strbuf {
    char *buf;
    size_t len;
    size_t alloc;
    bool failed;
};
#define CORDON_STRBUF_INIT                                                                         \
    { .buf = (char *)cordon_strbuf_empty_, .len = 0, .alloc = 0 }
extern const char cordon_strbuf_empty_[1];

void cordon_strbuf_addn(struct cordon_strbuf *sb, const char *s, size_t n);
void cordon_strbuf_adds(struct cordon_strbuf *sb, const char *s);
void cordon_strbuf_addf(struct cordon_strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cordon_strbuf_reset(struct cordon_strbuf *sb);
/* Free the buffer and reinitialise. */
void cordon_strbuf_release(struct cordon_strbuf *sb);
/* Take the buffer (new; caller frees) and reinitialise; NULL if it failed. */
char *cordon_strbuf_detach(struct cordon_strbuf *sb);

/* ---- map: string -> pointer, open addressing ----------------------------
 * Keys are copied. Values are borrowed: the map never frees them. */
struct cordon_map;
struct cordon_map *cordon_map_new(size_t expected);
struct cordon_map *cordon_map_free(struct cordon_map *m);
/* The value for `key`, or NULL. */
void *cordon_map_get(const struct cordon_map *m, const char *key);
/* Insert or replace. 0 or -ENOMEM. */
int cordon_map_put(struct cordon_map *m, const char *key, void *value);
size_t cordon_map_size(const struct cordon_map *m);

/* ---- paths -------------------------------------------------------------- */

/* Lexically normalise an absolute path in place: collapse "//", drop ".",
 * resolve ".." against the preceding component (never above "/"), drop a
 * trailing "/". Returns the new length. */
size_t cordon_path_normalize(char *path);

/* Make `path` absolute against `base` (an absolute directory) and
 * normalise it into `out` (size `size`). -ENAMETOOLONG if it does not fit. */
int cordon_path_join(const char *base, const char *path, char *out, size_t size);

/* True if `path` is `dir` or below it (both normalised, absolute). */
bool cordon_path_under(const char *path, const char *dir);

/* True for paths under /proc, /sys and /dev: the kernel's views, which the
 * runners provide, pack leaves out, and verify and diff do not compare. */
bool cordon_path_is_virtual(const char *path);

/* Resolve absolute `path` on the host one component at a time, as the
 * kernel would, under `root` when it is not NULL or "" (every lstat and
 * readlink is made on ROOT/PATH). Every symlink met is passed to
 * `on_link(ctx, link, target)` (may be NULL), then resolution goes on at
 * its target. A component the host lacks ends the walk: the rest is taken
 * as written. `out` gets where the path lands, normalised. Returns 0, 1 if
 * the path leads into /proc, /sys or /dev (`out` unset), -ENAMETOOLONG,
 * -ELOOP (more than 40 links), -errno of an unreadable link (its path in
 * `out`), or on_link's negative return. Used by pack and export, which
 * both recreate the links on the way to every input. */
int cordon_path_walk(const char *root, const char *path, bool follow_last,
                     int (*on_link)(void *ctx, const char *link, const char *target), void *ctx,
                     char *out, size_t size);

/* One step along a symlink chain: where the link at absolute `link` points, with
 * the directory part resolved on this host (so "../lib" after a symlinked
 * directory lands where the kernel lands), into `out` (PATH_MAX bytes).
 * false when the link cannot be read or the result does not fit. The
 * recorder and the importers follow chains with it, so both list the same
 * links. */
bool cordon_path_link_next(const char *link, char *out);

/* The text of the symlink at `path`, malloc'd; NULL if it cannot be read. */
char *cordon_read_link(const char *path);

/* pthread_create for a helper thread of cordon's (the seccomp supervisor,
 * the recorder's work during the build): the thread blocks every signal, so
 * that a process-directed one (the SIGCHLD a runner waits for with
 * sigwaitinfo, a forwarded SIGTERM) reaches the thread that waits for it
 * and is never taken, and dropped, by this one. 0 or an errno. */
int cordon_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg);

/* Create `path` and its missing parents with `mode`. 0 or -errno. */
int cordon_mkdir_p(const char *path, unsigned mode);

/* Remove a tree (no symlinks followed). 0 or -errno; a missing path is 0. */
int cordon_rm_rf(const char *path);

/* ---- time --------------------------------------------------------------- */
int64_t cordon_now_ns(void);

/* ---- progress on a terminal ---------------------------------------------
 * One line on stderr, rewritten in place, only when stderr is a terminal and
 * `quiet` is false; at most ten updates a second. */
struct cordon_progress {
    const char *what;
    uint64_t total;
    uint64_t done;
    int64_t last_ns;
    bool enabled;
    bool drawn;
};
void cordon_progress_init(struct cordon_progress *p, const char *what, uint64_t total, bool quiet);
void cordon_progress_step(struct cordon_progress *p, uint64_t n);
void cordon_progress_done(struct cordon_progress *p);

/* ---- the dynamic loader under an LD_AUDIT module --------------------------
 * With an audit module the loader sets up static TLS before it loads the
 * program's libraries, which must then fit in a small surplus (about
 * 1.8 KiB): a library with a large initial-exec TLS block (rustc's driver
 * library, 23 KiB) fails with "cannot allocate memory in static TLS block".
 * The surplus is widened to CORDON_AUDIT_STATIC_TLS bytes, which threads
 * also reserve on their stacks (so it stays small enough for 64 KiB ones). */
#define CORDON_AUDIT_TUNABLE "glibc.rtld.optional_static_tls"
#define CORDON_AUDIT_STATIC_TLS 40960

/* The GLIBC_TUNABLES value for a process under an audit module, from the
 * `old` value (NULL: unset): malloc'd, or NULL when out of memory. An old
 * value that sets the tunable already is kept as it is. */
char *cordon_audit_tunables(const char *old);
