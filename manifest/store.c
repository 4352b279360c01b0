/* The content-addressed store and work-tree snapshots. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cordon/error.h>
#include <cordon/store.h>
#include <cordon/util.h>

int cordon_store_default(char *out, size_t size) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    /* XDG base directories: a relative XDG_CACHE_HOME is invalid and ignored. */
    if (xdg && xdg[0] == '/')
        n = snprintf(out, size, "%s/cordon/store", xdg);
    else if (home && home[0] == '/')
        n = snprintf(out, size, "%s/.cache/cordon/store", home);
    else
        return -ENOENT;
    if (n < 0 || (size_t)n >= size)
        return -ENAMETOOLONG;
    return 0;
}

int cordon_store_path(const char *store, const struct cordon_hash *h, char *out, size_t size) {
    char hex[CORDON_HASH_HEX_LEN + 1];
    cordon_hash_to_hex(h, hex);
    int n = snprintf(out, size, "%s/%.2s/%s", store, hex, hex + 2);
    if (n < 0 || (size_t)n >= size)
        return -ENAMETOOLONG;
    return 0;
}

bool cordon_store_has(const char *store, const struct cordon_hash *h) {
    char p[PATH_MAX];
    struct stat st;
    return cordon_store_path(store, h, p, sizeof p) == 0 && lstat(p, &st) == 0 &&
           S_ISREG(st.st_mode);
}

static int64_t mtime_ns(const struct stat *st) {
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* Same file, same bytes as far as its metadata can tell. */
static bool same_identity(const struct stat *a, const struct stat *b) {
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Copy all of `in` (from offset 0) to `out`: copy_file_range, which shares
 * extents (reflinks) where the file system can, else read/write. */
static int copy_fd(int in, int out) {
    loff_t off_in = 0;
    bool fallback = false;
    for (;;) {
        ssize_t n = copy_file_range(in, &off_in, out, NULL, 1 << 30, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            /* Across file systems before 5.3, or file systems without it. */
            if (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP) {
                fallback = true;
                break;
            }
            return -errno;
        }
        if (n == 0)
            return 0;
    }
    if (!fallback)
        return 0;
    char buf[65536];
    if (lseek(in, off_in, SEEK_SET) < 0)
        return -errno;
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return 0;
        for (ssize_t w = 0; w < n;) {
            ssize_t k = write(out, buf + w, (size_t)(n - w));
            if (k < 0) {
                if (errno == EINTR)
                    continue;
                return -errno;
            }
            w += k;
        }
    }
}

static unsigned long tmp_counter;

/* Give the finished copy its name `dst`: a link, never a rename, so that a
 * present entry is never replaced and two writers racing on the same
 * content both succeed. The fan-out directory is made on first need. */
static int publish(int fd, const char *tmp, const char *dst) {
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    for (int attempt = 0; attempt < 2; attempt++) {
        int r = tmp[0] ? link(tmp, dst) : linkat(AT_FDCWD, proc, AT_FDCWD, dst, AT_SYMLINK_FOLLOW);
        if (r == 0 || errno == EEXIST)
            return 0;
        if (errno != ENOENT || attempt)
            return -errno;
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", dst);
        *strrchr(dir, '/') = '\0';
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
            return -errno;
    }
    return -ENOENT;
}

/* Add the file open on `fd` (whose fstat is `st`) to the store. `path`
 * is for messages. On success *ret_hash is the hash of the bytes stored
 * and *ret_st the identity they belong to. */
static int store_add_fd(const char *store, int fd, const char *path, const struct stat *st,
                        struct cordon_hash *ret_hash, struct stat *ret_st,
                        struct cordon_error *err) {
    struct cordon_hash h;
    int r = cordon_hash_fd(fd, &h, NULL);
    if (r < 0)
        return cordon_error_set(err, -r, path, 0, 0, "cannot read '%s'", path);
    struct stat now = *st;
    if (cordon_store_has(store, &h)) {
        *ret_hash = h;
        if (ret_st)
            *ret_st = now;
        return 0;
    }

    /* An unnamed file (O_TMPFILE) in the store, linked in once whole: no
     * name to clean up after a crash, one directory operation fewer. */
    char tmp[PATH_MAX] = "", dst[PATH_MAX];
    _cleanup_close_ int out = open(store, O_TMPFILE | O_RDWR | O_CLOEXEC, 0444);
    if (out < 0 && errno == ENOENT) {
        /* The store itself may not exist yet. */
        if ((r = cordon_mkdir_p(store, 0755)) < 0)
            return cordon_error_set(err, -r, store, 0, 0, "cannot create the store '%s'", store);
        out = open(store, O_TMPFILE | O_RDWR | O_CLOEXEC, 0444);
    }
    if (out < 0) {
        /* File systems without O_TMPFILE: a named temporary. */
        unsigned long k = __atomic_fetch_add(&tmp_counter, 1, __ATOMIC_RELAXED);
        if (snprintf(tmp, sizeof tmp, "%s/.tmp-%d-%lu", store, (int)getpid(), k) >= (int)sizeof tmp)
            return cordon_error_set(err, ENAMETOOLONG, store, 0, 0, "store path too long '%s'",
                                    store);
        out = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
        if (out < 0)
            return cordon_error_set(err, errno, tmp, 0, 0, "cannot create '%s'", tmp);
    }
    if ((r = copy_fd(fd, out)) < 0) {
        if (tmp[0])
            (void)unlink(tmp);
        return cordon_error_set(err, -r, path, 0, 0, "cannot copy '%s' into the store", path);
    }
    /* If the file changed between the hash and the copy, the copy is what
     * we hold: name it by its own hash. */
    if (fstat(fd, &now) < 0 || !same_identity(st, &now)) {
        r = lseek(out, 0, SEEK_SET) < 0 ? -errno : cordon_hash_fd(out, &h, NULL);
        if (r < 0) {
            if (tmp[0])
                (void)unlink(tmp);
            return cordon_error_set(err, -r, store, 0, 0, "cannot read back a copy of '%s'", path);
        }
    }
    if ((r = cordon_store_path(store, &h, dst, sizeof dst)) < 0) {
        if (tmp[0])
            (void)unlink(tmp);
        return cordon_error_set(err, -r, store, 0, 0, "store path too long '%s'", store);
    }
    r = publish(out, tmp, dst);
    if (tmp[0])
        (void)unlink(tmp);
    if (r < 0)
        return cordon_error_set(err, -r, dst, 0, 0, "cannot add '%s' to the store", path);
    *ret_hash = h;
    if (ret_st)
        *ret_st = now;
    return 0;
}

int cordon_store_add_file(const char *store, const char *path, struct cordon_hash *ret_hash,
                          struct cordon_error *err) {
    _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return cordon_error_set(err, errno, path, 0, 0, "cannot open '%s'", path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return cordon_error_set(err, errno, path, 0, 0, "cannot stat '%s'", path);
    if (!S_ISREG(st.st_mode))
        return cordon_error_set(err, EINVAL, path, 0, 0, "'%s' is not a regular file", path);
    return store_add_fd(store, fd, path, &st, ret_hash, NULL, err);
}

/* ---- snapshots ---------------------------------------------------------- */

struct cordon_snapshot {
    struct cordon_snapshot_entry *entries; /* sorted by path */
    size_t n, cap;
};

struct cordon_snapshot *cordon_snapshot_free(struct cordon_snapshot *s) {
    if (!s)
        return NULL;
    for (size_t i = 0; i < s->n; i++)
        free((char *)s->entries[i].path);
    free(s->entries);
    free(s);
    return NULL;
}

size_t cordon_snapshot_count(const struct cordon_snapshot *s) {
    return s ? s->n : 0;
}

const struct cordon_snapshot_entry *cordon_snapshot_find(const struct cordon_snapshot *s,
                                                         const char *path) {
    if (!s)
        return NULL;
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(path, s->entries[mid].path);
        if (!c)
            return &s->entries[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static int entry_cmp(const void *a, const void *b) {
    return strcmp(((const struct cordon_snapshot_entry *)a)->path,
                  ((const struct cordon_snapshot_entry *)b)->path);
}

/* nftw has no user argument: the walk's state lives here, one walk at a
 * time per thread. */
static __thread struct walk {
    struct cordon_snapshot *s;
    const char *store;
    unsigned long long limit, total;
    bool truncated;
    int error;
} * walk_state;

static int walk_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)ftw;
    struct walk *w = walk_state;
    if (flag == FTW_D && cordon_path_under(path, w->store) && strcmp(path, w->store) == 0)
        return FTW_SKIP_SUBTREE; /* the store inside the tree it snapshots */
    if (flag != FTW_F || !S_ISREG(st->st_mode))
        return FTW_CONTINUE;
    if (w->limit && w->total + (unsigned long long)st->st_size > w->limit) {
        w->truncated = true;
        return FTW_CONTINUE;
    }
    if (cordon_grow((void **)&w->s->entries, &w->s->cap, w->s->n + 1, sizeof *w->s->entries) < 0)
        goto enomem;
    char *p = strdup(path);
    if (!p)
        goto enomem;
    w->total += (unsigned long long)st->st_size;
    w->s->entries[w->s->n++] = (struct cordon_snapshot_entry){
        .path = p,
        .size = (uint64_t)st->st_size,
        .ino = (uint64_t)st->st_ino,
        .mtime_ns = mtime_ns(st),
        .mode = st->st_mode & 07777,
    };
    return FTW_CONTINUE;
enomem:
    w->error = -ENOMEM;
    return FTW_STOP;
}

struct snap_pool {
    struct cordon_snapshot *s;
    const char *store;
    struct cordon_progress *progress;
    size_t next;
    bool *skip;           /* entries that vanished or could not be read */
    const bool *reused;   /* entries whose hash the previous snapshot's index gave */
    int error;            /* the first hard failure */
    pthread_mutex_t lock; /* guards `error` and `err` */
    struct cordon_error *err;
};

static void *snap_worker(void *arg) {
    struct snap_pool *p = arg;
    for (;;) {
        size_t i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED);
        if (i >= p->s->n || __atomic_load_n(&p->error, __ATOMIC_RELAXED))
            break;
        struct cordon_snapshot_entry *e = &p->s->entries[i];
        if (p->reused[i])
            continue;
        int fd = open(e->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
            /* Gone, replaced or unreadable since the walk: not part of the
             * tree as far as the snapshot can tell. */
            p->skip[i] = true;
            if (fd >= 0)
                close(fd);
            continue;
        }
        struct cordon_error e1;
        /* Zeroed for the analyzer, which cannot see into cordon_error_set
         * and so does not know that its -code is negative. */
        struct stat got = {0};
        int r = store_add_fd(p->store, fd, e->path, &st, &e->hash, &got, &e1);
        close(fd);
        if (r < 0) {
            pthread_mutex_lock(&p->lock);
            if (!p->error) {
                p->error = r;
                if (p->err)
                    *p->err = e1;
            }
            pthread_mutex_unlock(&p->lock);
            break;
        }
        e->size = (uint64_t)got.st_size;
        e->ino = (uint64_t)got.st_ino;
        e->mtime_ns = mtime_ns(&got);
        e->mode = got.st_mode & 07777;
        cordon_progress_step(p->progress, e->size);
    }
    return NULL;
}

/* ---- the per-tree index ----------------------------------------------
 * Like git's index: the last snapshot of a work tree, kept in the store as
 * index/<XXH3 of the tree's path>, lets the next one take the hash of every
 * file whose size, inode, mtime and mode are unchanged from the walk's own
 * stat, with no open, read or copy: its bytes are in the store already. A
 * file whose mtime is not older than the previous snapshot's start (less a
 * second for coarse timestamps) may have changed within one timestamp tick
 * of being hashed ("racily clean" in git), so it is hashed again. */

static int index_path(const char *store, const char *root, char *out, size_t size) {
    struct cordon_hash h;
    char hex[CORDON_HASH_HEX_LEN + 1];
    cordon_hash_buffer(root, strlen(root), &h);
    if (snprintf(out, size, "%s/index/%s", store, cordon_hash_to_hex(&h, hex)) >= (int)size)
        return -ENAMETOOLONG;
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s/index", store) >= (int)sizeof dir)
        return -ENAMETOOLONG;
    return cordon_mkdir_p(dir, 0755);
}

static int load_entries(const char *path, struct cordon_snapshot **ret, int64_t *ret_start_ns,
                        struct cordon_error *err);
static int save_entries(const struct cordon_snapshot *s, const char *path, int64_t start_ns,
                        struct cordon_error *err);

static void reuse_index(struct cordon_snapshot *s, const char *index, bool *reused,
                        struct cordon_progress *progress) {
    struct cordon_snapshot *prev = NULL;
    int64_t start = -1;
    struct cordon_error e;
    if (load_entries(index, &prev, &start, &e) < 0)
        return; /* none yet, or unreadable: hash everything */
    if (start < 0) {
        cordon_snapshot_free(prev);
        return;
    }
    int64_t racy = start - 1000000000;
    for (size_t i = 0; i < s->n; i++) {
        struct cordon_snapshot_entry *cur = &s->entries[i];
        const struct cordon_snapshot_entry *old = cordon_snapshot_find(prev, cur->path);
        if (!old || old->size != cur->size || old->ino != cur->ino ||
            old->mtime_ns != cur->mtime_ns || old->mode != cur->mode || cur->mtime_ns >= racy)
            continue;
        cur->hash = old->hash;
        reused[i] = true;
        cordon_progress_step(progress, cur->size);
    }
    cordon_snapshot_free(prev);
}

int cordon_snapshot_take(const char *store, const char *dir, unsigned long long limit_bytes,
                         struct cordon_progress *progress, struct cordon_snapshot **ret,
                         struct cordon_error *err) {
    char root[PATH_MAX], cwd[PATH_MAX], storeabs[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return cordon_error_set(err, errno, NULL, 0, 0, "cannot get the current directory");
    if (cordon_path_join(cwd, dir, root, sizeof root) < 0 ||
        cordon_path_join(cwd, store, storeabs, sizeof storeabs) < 0)
        return cordon_error_set(err, ENAMETOOLONG, dir, 0, 0, "path too long '%s'", dir);
    struct stat st;
    if (stat(root, &st) < 0)
        return cordon_error_set(err, errno, root, 0, 0, "cannot snapshot '%s'", root);
    if (!S_ISDIR(st.st_mode))
        return cordon_error_set(err, ENOTDIR, root, 0, 0, "cannot snapshot '%s'", root);

    struct cordon_snapshot *s = calloc(1, sizeof *s);
    if (!s)
        return cordon_error_set(err, ENOMEM, root, 0, 0, "out of memory");
    int64_t start_ns = cordon_now_ns();
    struct walk w = {.s = s, .store = storeabs, .limit = limit_bytes};
    walk_state = &w;
    /* FTW_PHYS: symlinks are not followed; FTW_MOUNT: other file systems
     * mounted inside the tree are not entered. */
    int r = nftw(root, walk_one, 64, FTW_PHYS | FTW_MOUNT | FTW_ACTIONRETVAL);
    walk_state = NULL;
    if (w.error < 0 || r < 0) {
        int e = w.error < 0 ? -w.error : errno;
        cordon_snapshot_free(s);
        return cordon_error_set(err, e, root, 0, 0, "cannot walk '%s'", root);
    }
    if (s->n)
        qsort(s->entries, s->n, sizeof *s->entries, entry_cmp);
    if (progress) {
        progress->total = w.total;
    }

    bool *skip = calloc(s->n + 1, sizeof *skip), *reused = calloc(s->n + 1, sizeof *reused);
    if (!skip || !reused) {
        free(skip);
        free(reused);
        cordon_snapshot_free(s);
        return cordon_error_set(err, ENOMEM, root, 0, 0, "out of memory");
    }
    char index[PATH_MAX];
    bool have_index = index_path(storeabs, root, index, sizeof index) == 0;
    if (have_index)
        reuse_index(s, index, reused, progress);
    struct snap_pool p = {.s = s,
                          .store = storeabs,
                          .progress = progress,
                          .skip = skip,
                          .reused = reused,
                          .err = err};
    pthread_mutex_init(&p.lock, NULL);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = ncpu > 0 ? (unsigned)(ncpu > 16 ? 16 : ncpu) : 1;
    pthread_t tids[16];
    unsigned started = 0;
    for (unsigned i = 1; i < threads && i < s->n; i++)
        if (pthread_create(&tids[started], NULL, snap_worker, &p) == 0)
            started++;
    snap_worker(&p);
    for (unsigned i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    pthread_mutex_destroy(&p.lock);
    free(reused);
    if (p.error) {
        free(skip);
        cordon_snapshot_free(s);
        return p.error;
    }
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (skip[i])
            free((char *)s->entries[i].path);
        else
            s->entries[n++] = s->entries[i];
    }
    s->n = n;
    free(skip);
    /* The next snapshot of this tree starts from this one. A failure to
     * save costs that one time, nothing else. */
    if (have_index && !w.truncated)
        (void)save_entries(s, index, start_ns, NULL);
    *ret = s;
    if (w.truncated)
        return cordon_error_set(err, EFBIG, root, 0, 0,
                                "'%s' holds more than %llu bytes of files; the snapshot is partial",
                                root, limit_bytes);
    return 0;
}

/* ---- the text index ------------------------------------------------------
 * One line per entry: "HASH SIZE INO MTIME MODE PATH\n", MODE in octal, PATH
 * with backslash and newline escaped as "\\" and "\n". */

/* With start_ns >= 0, a first line "#cordon-index 1 START_NS" says when the
 * snapshot began (see reuse_index). */
static int save_entries(const struct cordon_snapshot *s, const char *path, int64_t start_ns,
                        struct cordon_error *err) {
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp)
        return cordon_error_set(err, ENAMETOOLONG, path, 0, 0, "path too long '%s'", path);
    FILE *f = fopen(tmp, "we");
    if (!f)
        return cordon_error_set(err, errno, tmp, 0, 0, "cannot create '%s'", tmp);
    if (start_ns >= 0)
        fprintf(f, "#cordon-index 1 %" PRId64 "\n", start_ns);
    for (size_t i = 0; s && i < s->n; i++) {
        const struct cordon_snapshot_entry *e = &s->entries[i];
        char hex[CORDON_HASH_HEX_LEN + 1];
        fprintf(f, "%s %" PRIu64 " %" PRIu64 " %" PRId64 " %o ", cordon_hash_to_hex(&e->hash, hex),
                e->size, e->ino, e->mtime_ns, (unsigned)e->mode);
        for (const char *c = e->path; *c; c++) {
            if (*c == '\\')
                fputs("\\\\", f);
            else if (*c == '\n')
                fputs("\\n", f);
            else
                fputc(*c, f);
        }
        fputc('\n', f);
    }
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad || rename(tmp, path) < 0) {
        int e = errno ? errno : EIO;
        (void)unlink(tmp);
        return cordon_error_set(err, e, path, 0, 0, "cannot write '%s'", path);
    }
    return 0;
}

int cordon_snapshot_save(const struct cordon_snapshot *s, const char *path,
                         struct cordon_error *err) {
    return save_entries(s, path, -1, err);
}

static int load_entries(const char *path, struct cordon_snapshot **ret, int64_t *ret_start_ns,
                        struct cordon_error *err) {
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (!f)
        return cordon_error_set(err, errno, path, 0, 0, "cannot open '%s'", path);
    struct cordon_snapshot *s = calloc(1, sizeof *s);
    if (!s)
        return cordon_error_set(err, ENOMEM, path, 0, 0, "out of memory");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, r = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (lineno == 1 && strncmp(line, "#cordon-index 1 ", 16) == 0) {
            if (ret_start_ns)
                *ret_start_ns = strtoll(line + 16, NULL, 10);
            continue;
        }
        char hex[CORDON_HASH_HEX_LEN + 1];
        uint64_t size, ino;
        int64_t mt;
        unsigned mode;
        int off = -1;
        struct cordon_snapshot_entry e = {0};
        if (sscanf(line, "%32s %" SCNu64 " %" SCNu64 " %" SCNd64 " %o %n", hex, &size, &ino, &mt,
                   &mode, &off) != 5 ||
            off < 0 || line[off] != '/' || cordon_hash_from_hex(hex, &e.hash) < 0 || mode > 07777) {
            r = cordon_error_set(err, EINVAL, path, lineno, 0,
                                 "expected 'HASH SIZE INO MTIME MODE PATH'");
            break;
        }
        char *p = malloc((size_t)len + 1), *o = p;
        if (!p) {
            r = cordon_error_set(err, ENOMEM, path, lineno, 0, "out of memory");
            break;
        }
        for (const char *c = line + off; *c; c++) {
            if (*c == '\\' && (c[1] == '\\' || c[1] == 'n'))
                *o++ = *++c == 'n' ? '\n' : '\\';
            else
                *o++ = *c;
        }
        *o = '\0';
        e.path = p;
        e.size = size;
        e.ino = ino;
        e.mtime_ns = mt;
        e.mode = mode;
        if (cordon_grow((void **)&s->entries, &s->cap, s->n + 1, sizeof *s->entries) < 0) {
            free(p);
            r = cordon_error_set(err, ENOMEM, path, lineno, 0, "out of memory");
            break;
        }
        s->entries[s->n++] = e;
    }
    free(line);
    if (r == 0 && ferror(f))
        r = cordon_error_set(err, EIO, path, 0, 0, "cannot read '%s'", path);
    if (r < 0) {
        cordon_snapshot_free(s);
        return r;
    }
    if (s->n)
        qsort(s->entries, s->n, sizeof *s->entries, entry_cmp);
    *ret = s;
    return 0;
}

int cordon_snapshot_load(const char *path, struct cordon_snapshot **ret, struct cordon_error *err) {
    return load_entries(path, ret, NULL, err);
}
