/* Work done while the build runs: see ahead.h.
 *
 * One thread, SCHED_IDLE and in the idle I/O class, so that it runs only
 * when a CPU (and the disk) would otherwise be idle: a configure script
 * leaves one of two CPUs idle for seconds, and the recorder's own process
 * does nothing but wait. An unprivileged thread cannot leave SCHED_IDLE
 * again (RLIMIT_NICE is 0 by default), so the thread never holds anything
 * the end of the recording needs: it stops at the next read when told, and
 * what it has not done is done after the build by the ordinary path.
 *
 * A kept hash is only as good as the identity that guards it: the file is
 * fstat'ed before and after it is read (any change in between discards
 * it), and a file whose ctime is recent is not kept at all (see
 * AHEAD_SETTLE_NS), so a later write always changes the ctime it is
 * compared with. The same rule as git's index, with the racy case refused
 * up front instead of re-checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cordon/classify.h>
#include <cordon/hash.h>
#include <cordon/trace.h>
#include <cordon/util.h>

#include "ahead.h"

#define POLL_NS (50 * 1000000L) /* how often an idle thread looks at the log */
#define READ_CHUNK (1 << 20)

/* ioprio_set(2) has no libc wrapper. */
#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_CLASS_IDLE 3
#define IOPRIO_CLASS_SHIFT 13

/* What a kept hash is guarded by. */
struct identity {
    uint64_t dev, ino, size;
    int64_t mtime_ns, ctime_ns;
};

struct entry {
    struct identity id;
    struct cordon_hash hash;
};

struct ahead {
    struct ahead_options opts; /* its strings borrowed */
    size_t worktree_len;       /* without trailing slashes */
    pthread_t thread;
    bool running;
    int stop; /* atomic: set by ahead_stop, under `lock` */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int logfd;
    unsigned char *buf;
    size_t len, cap;
    void *hashbuf;            /* CORDON_HASH_BUFSIZE, allocated once: a fresh one per
                               * file would be mapped and faulted in each time */
    bool log_broken;          /* bytes that are not records: stop following */
    struct cordon_map *files; /* path -> struct entry *, or &tried */
    struct entry **entries;
    size_t n_entries, cap_entries;
    struct cordon_owners *owners;
    /* atomic: read by ahead_stats while the thread runs */
    uint64_t considered, hashed_files;
};

/* The value of a path that was looked at and is not kept. */
static struct entry tried;

static int64_t ns_of(const struct timespec *ts) {
    return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static bool stopping(const struct ahead *a) {
    return __atomic_load_n(&a->stop, __ATOMIC_RELAXED) != 0;
}

static struct identity identity_of(const struct stat *st) {
    return (struct identity){.dev = (uint64_t)st->st_dev,
                             .ino = (uint64_t)st->st_ino,
                             .size = (uint64_t)st->st_size,
                             .mtime_ns = ns_of(&st->st_mtim),
                             .ctime_ns = ns_of(&st->st_ctim)};
}

static bool same_identity(const struct identity *x, const struct identity *y) {
    return x->dev == y->dev && x->ino == y->ino && x->size == y->size &&
           x->mtime_ns == y->mtime_ns && x->ctime_ns == y->ctime_ns;
}

static bool skipped(const struct ahead *a, const char *path) {
    if (path[0] != '/' || cordon_path_is_virtual(path))
        return true;
    /* The work tree "/" holds every path. */
    if (a->worktree_len == 1 ||
        (a->worktree_len && strncmp(path, a->opts.worktree, a->worktree_len) == 0 &&
         (path[a->worktree_len] == '/' || path[a->worktree_len] == '\0')))
        return true;
    for (size_t i = 0; i < a->opts.n_ignore; i++)
        if (a->opts.ignore[i] && strcmp(path, a->opts.ignore[i]) == 0)
            return true;
    return false;
}

static int keep(struct ahead *a, const char *path, const struct identity *id,
                const struct cordon_hash *h) {
    struct entry *e = malloc(sizeof *e);
    if (!e || cordon_grow((void **)&a->entries, &a->cap_entries, a->n_entries + 1,
                          sizeof *a->entries) < 0) {
        free(e);
        return -ENOMEM;
    }
    *e = (struct entry){.id = *id, .hash = *h};
    a->entries[a->n_entries++] = e;
    return cordon_map_put(a->files, path, e);
}

/* Hash the regular file at `path` (not followed) and keep it if it held
 * still and is old enough. */
static void hash_one(struct ahead *a, const char *path) {
    if (cordon_map_put(a->files, path, &tried) < 0)
        return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME_COARSE, &now);
    struct stat before, after;
    /* O_NONBLOCK: a FIFO put in the file's place cannot hang the thread;
     * the type is checked on the open descriptor before any read. */
    _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0 || fstat(fd, &before) < 0 || !S_ISREG(before.st_mode))
        return;
    if (ns_of(&before.st_ctim) >= ns_of(&now) - a->opts.settle_ns)
        return;
    struct cordon_hash h;
    uint64_t size = 0;
    if (cordon_hash_fd_until(fd, a->hashbuf, CORDON_HASH_BUFSIZE, &h, &size, &a->stop) < 0)
        return;
    if (fstat(fd, &after) < 0)
        return;
    struct identity id = identity_of(&before), now_id = identity_of(&after);
    if (!same_identity(&id, &now_id) || size != id.size)
        return;
    if (keep(a, path, &id, &h) == 0)
        __atomic_add_fetch(&a->hashed_files, 1, __ATOMIC_RELEASE);
}

/* A path the build read, executed or loaded: hash it, and the file at the
 * end of its symlink chain, under the names the collector will ask for. */
static void follow(struct ahead *a, const char *path) {
    char cur[PATH_MAX], next[PATH_MAX];
    snprintf(cur, sizeof cur, "%s", path);
    for (int depth = 0; depth < 40 && !stopping(a); depth++) {
        if (skipped(a, cur) || cordon_map_get(a->files, cur))
            return;
        struct stat st;
        if (lstat(cur, &st) < 0)
            return;
        if (!S_ISLNK(st.st_mode)) {
            if (S_ISREG(st.st_mode))
                hash_one(a, cur);
            else
                (void)cordon_map_put(a->files, cur, &tried);
            return;
        }
        (void)cordon_map_put(a->files, cur, &tried);
        if (!cordon_path_link_next(cur, next) || strcmp(next, cur) == 0)
            return;
        memcpy(cur, next, sizeof cur);
    }
}

static void consider(struct ahead *a, const char *path) {
    follow(a, path);
    /* Counted when done with, so that a count says the work is over. */
    __atomic_add_fetch(&a->considered, 1, __ATOMIC_RELEASE);
}

static void on_record(struct ahead *a, const struct cordon_trace_rec *r, const char *s1,
                      const char *s2) {
    if (r->err)
        return;
    switch (r->kind) {
    case CORDON_TRACE_OPEN:
        if ((r->arg & O_ACCMODE) == O_RDONLY && S_ISREG(r->mode) && s1)
            consider(a, s1);
        break;
    case CORDON_TRACE_EXEC:
    case CORDON_TRACE_LA_OPEN:
        if (s1)
            consider(a, s1);
        break;
    case CORDON_TRACE_DLOPEN:
        if (s2)
            consider(a, s2);
        break;
    default:
        break;
    }
}

/* Read what the log has gained and act on every whole record in it.
 * false when there was nothing new. */
static bool drain(struct ahead *a) {
    bool any = false;
    while (!stopping(a) && !a->log_broken) {
        if (a->cap - a->len < READ_CHUNK) {
            size_t want = a->len + READ_CHUNK;
            if (cordon_grow((void **)&a->buf, &a->cap, want, 1) < 0)
                return any;
        }
        ssize_t n = read(a->logfd, a->buf + a->len, a->cap - a->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return any;
        any = true;
        a->len += (size_t)n;
        size_t off = 0;
        while (off < a->len && !stopping(a)) {
            const struct cordon_trace_rec *r;
            const char *s1, *s2;
            long k = cordon_trace_decode(a->buf + off, a->len - off, &r, &s1, &s2);
            if (k == 0)
                break; /* the rest of it is still being written */
            if (k < 0) {
                /* Not records: the collector will say so. Nothing here
                 * is needed, so stop following. */
                a->log_broken = true;
                return any;
            }
            on_record(a, r, s1, s2);
            off += (size_t)k;
        }
        /* Whole records are multiples of 8 long: the head of the partial
         * one stays 8-aligned at the buffer's start. */
        memmove(a->buf, a->buf + off, a->len - off);
        a->len -= off;
    }
    return any;
}

static void *run(void *arg) {
    struct ahead *a = arg;
    if (!a->opts.no_idle) {
        struct sched_param sp = {0};
        (void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
        (void)syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0,
                      IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT);
    }
    if (!a->opts.no_owners) {
        struct cordon_owners *o = cordon_owners_new_host();
        if (o && a->opts.owners_index)
            (void)cordon_owners_set_index_dir(o, a->opts.owners_index);
        if (o && cordon_owners_load(o, &a->stop) == 0)
            a->owners = o;
        else
            cordon_owners_free(o);
    }
    while (!stopping(a)) {
        if (drain(a))
            continue;
        /* Nothing new: look again in a while, or at once when told to stop
         * (the recorder waits for this thread before it collects). */
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += POLL_NS;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&a->lock);
        while (!stopping(a) && pthread_cond_timedwait(&a->wake, &a->lock, &until) != ETIMEDOUT)
            ;
        pthread_mutex_unlock(&a->lock);
    }
    return NULL;
}

struct ahead *ahead_start(const struct ahead_options *opts) {
    struct ahead *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->opts = *opts;
    a->logfd = -1;
    pthread_mutex_init(&a->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->wake, &ca);
    pthread_condattr_destroy(&ca);
    a->files = cordon_map_new(4096);
    a->hashbuf = malloc(CORDON_HASH_BUFSIZE);
    if (!a->files || !a->hashbuf)
        goto fail;
    if (opts->worktree) {
        a->worktree_len = strlen(opts->worktree);
        while (a->worktree_len > 1 && opts->worktree[a->worktree_len - 1] == '/')
            a->worktree_len--;
    }
    a->logfd = open(opts->log, O_RDONLY | O_CLOEXEC);
    if (a->logfd < 0)
        goto fail;
    if (cordon_thread_start(&a->thread, run, a) != 0)
        goto fail;
    a->running = true;
    return a;
fail:
    ahead_free(a);
    return NULL;
}

void ahead_stop(struct ahead *a) {
    if (!a || !a->running)
        return;
    pthread_mutex_lock(&a->lock);
    __atomic_store_n(&a->stop, 1, __ATOMIC_RELAXED);
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->lock);
    pthread_join(a->thread, NULL);
    a->running = false;
}

bool ahead_lookup(const struct ahead *a, const char *path, const struct stat *st,
                  struct cordon_hash *ret) {
    if (!a || a->running)
        return false;
    const struct entry *e = cordon_map_get(a->files, path);
    if (!e || e == &tried || !S_ISREG(st->st_mode))
        return false;
    struct identity now = identity_of(st);
    if (!same_identity(&e->id, &now))
        return false;
    *ret = e->hash;
    return true;
}

struct cordon_owners *ahead_take_owners(struct ahead *a) {
    if (!a || a->running)
        return NULL;
    return TAKE_PTR(a->owners);
}

void ahead_stats(const struct ahead *a, struct ahead_stats *ret) {
    *ret = (struct ahead_stats){0};
    if (!a)
        return;
    ret->considered = __atomic_load_n(&a->considered, __ATOMIC_ACQUIRE);
    ret->hashed_files = __atomic_load_n(&a->hashed_files, __ATOMIC_ACQUIRE);
}

void ahead_free(struct ahead *a) {
    if (!a)
        return;
    ahead_stop(a);
    if (a->logfd >= 0)
        close(a->logfd);
    for (size_t i = 0; i < a->n_entries; i++)
        free(a->entries[i]);
    free(a->entries);
    cordon_map_free(a->files);
    cordon_owners_free(a->owners);
    free(a->buf);
    free(a->hashbuf);
    pthread_cond_destroy(&a->wake);
    pthread_mutex_destroy(&a->lock);
    free(a);
}
