/* Content hashes: XXH3-128 through libxxhash's streaming API, one file at a
 * time or many on a pool of threads. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

#include <cordon/hash.h>
#include <cordon/manifest.h>
#include <cordon/util.h>

static void from_xxh(XXH128_hash_t h, struct cordon_hash *ret) {
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, h);
    memcpy(ret->bytes, c.digest, sizeof ret->bytes);
}

void cordon_hash_buffer(const void *data, size_t len, struct cordon_hash *ret) {
    XXH3_state_t st;
    XXH3_INITSTATE(&st);
    (void)XXH3_128bits_reset(&st);
    (void)XXH3_128bits_update(&st, data, len);
    from_xxh(XXH3_128bits_digest(&st), ret);
}

/* Hash `fd` to EOF with the caller's buffer; `stop` (may be NULL) is
 * polled before each read. */
static int hash_fd_with(int fd, void *buf, size_t bufsize, struct cordon_hash *ret,
                        uint64_t *ret_size, const int *stop) {
    XXH3_state_t st;
    XXH3_INITSTATE(&st);
    (void)XXH3_128bits_reset(&st);
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    uint64_t total = 0;
    for (;;) {
        if (stop && __atomic_load_n(stop, __ATOMIC_RELAXED))
            return -ECANCELED;
        ssize_t n = read(fd, buf, bufsize);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        (void)XXH3_128bits_update(&st, buf, (size_t)n);
        total += (uint64_t)n;
    }
    from_xxh(XXH3_128bits_digest(&st), ret);
    if (ret_size)
        *ret_size = total;
    return 0;
}

int cordon_hash_fd(int fd, struct cordon_hash *ret, uint64_t *ret_size) {
    _cleanup_free_ void *buf = malloc(CORDON_HASH_BUFSIZE);
    if (!buf)
        return -ENOMEM;
    return hash_fd_with(fd, buf, CORDON_HASH_BUFSIZE, ret, ret_size, NULL);
}

int cordon_hash_fd_until(int fd, void *buf, size_t bufsize, struct cordon_hash *ret,
                         uint64_t *ret_size, const int *stop) {
    return hash_fd_with(fd, buf, bufsize, ret, ret_size, stop);
}

/* Open a regular file for hashing. O_NONBLOCK so that a FIFO in its place
 * cannot hang us; it has no effect on regular files. */
static int open_regular(int dirfd, const char *path, struct stat *st) {
    int fd = openat(path[0] == '/' ? AT_FDCWD : dirfd, path,
                    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return -errno;
    if (fstat(fd, st) < 0) {
        int r = -errno;
        close(fd);
        return r;
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        return S_ISDIR(st->st_mode) ? -EISDIR : -EINVAL;
    }
    return fd;
}

int cordon_hash_file(int dirfd, const char *path, struct cordon_hash *ret, uint64_t *ret_size) {
    struct stat st;
    _cleanup_close_ int fd = open_regular(dirfd, path, &st);
    if (fd < 0)
        return fd;
    return cordon_hash_fd(fd, ret, ret_size);
}

char *cordon_hash_to_hex(const struct cordon_hash *h, char out[CORDON_HASH_HEX_LEN + 1]) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof h->bytes; i++) {
        out[2 * i] = digits[h->bytes[i] >> 4];
        out[2 * i + 1] = digits[h->bytes[i] & 0xf];
    }
    out[CORDON_HASH_HEX_LEN] = '\0';
    return out;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int cordon_hash_from_hex(const char *hex, struct cordon_hash *ret) {
    struct cordon_hash h;
    if (!hex)
        return -EINVAL;
    for (size_t i = 0; i < sizeof h.bytes; i++) {
        int hi = hexval(hex[2 * i]);
        if (hi < 0)
            return -EINVAL;
        int lo = hexval(hex[2 * i + 1]);
        if (lo < 0)
            return -EINVAL;
        h.bytes[i] = (unsigned char)(hi << 4 | lo);
    }
    if (hex[CORDON_HASH_HEX_LEN] != '\0')
        return -EINVAL;
    *ret = h;
    return 0;
}

bool cordon_hash_equal(const struct cordon_hash *a, const struct cordon_hash *b) {
    return memcmp(a->bytes, b->bytes, sizeof a->bytes) == 0;
}

/* ---- many files on many threads ----------------------------------------- */

struct pool {
    struct cordon_hash_job *jobs;
    size_t n;
    size_t next; /* the next job index to take, atomically */
    struct cordon_progress *progress;
};

static void hash_job(struct cordon_hash_job *j, void *buf) {
    /* Zeroed: the analyzer cannot tell that a failed call's -errno is
     * negative, so it would follow a "success" that set neither. */
    struct stat st = {0};
    int fd = open_regular(AT_FDCWD, j->path, &st);
    if (fd < 0) {
        j->error = fd;
        return;
    }
    uint64_t size = 0;
    int r = hash_fd_with(fd, buf, CORDON_HASH_BUFSIZE, &j->hash, &size, NULL);
    close(fd);
    if (r < 0) {
        j->error = r;
        return;
    }
    j->size = size;
    j->dev = (uint64_t)st.st_dev;
    j->ino = (uint64_t)st.st_ino;
    j->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    j->error = 0;
}

static void *worker(void *arg) {
    struct pool *p = arg;
    void *buf = malloc(CORDON_HASH_BUFSIZE);
    for (;;) {
        size_t i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED);
        if (i >= p->n)
            break;
        struct cordon_hash_job *j = &p->jobs[i];
        if (!buf) {
            j->error = -ENOMEM;
            continue;
        }
        hash_job(j, buf);
        /* Progress counts bytes; the stepper itself is atomic. */
        if (p->progress && !j->error)
            cordon_progress_step(p->progress, j->size);
    }
    free(buf);
    return NULL;
}

int cordon_hash_many(struct cordon_hash_job *jobs, size_t n, unsigned threads,
                     struct cordon_progress *progress) {
    if (threads == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        threads = c > 0 ? (unsigned)c : 1;
    }
    if (threads > n)
        threads = n ? (unsigned)n : 1;
    if (threads > 64)
        threads = 64;
    struct pool p = {.jobs = jobs, .n = n, .progress = progress};
    pthread_t tids[64];
    unsigned started = 0;
    /* The calling thread is one of the workers, so we start threads-1, and
     * a failure to start more is slower, not wrong: the call never fails. */
    for (unsigned i = 1; i < threads; i++) {
        if (pthread_create(&tids[started], NULL, worker, &p) != 0)
            break;
        started++;
    }
    worker(&p);
    for (unsigned i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    return 0;
}

/* ---- directory listings --------------------------------------------------- */

static int name_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cordon_listing_hash_names(char **names, size_t n, struct cordon_hash *ret) {
    if (n)
        qsort(names, n, sizeof *names, name_cmp);
    XXH3_state_t st;
    XXH3_INITSTATE(&st);
    (void)XXH3_128bits_reset(&st);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], ".") == 0 || strcmp(names[i], "..") == 0)
            continue;
        /* the name and its NUL */
        (void)XXH3_128bits_update(&st, names[i], strlen(names[i]) + 1);
    }
    from_xxh(XXH3_128bits_digest(&st), ret);
    return 0;
}

int cordon_listing_hash(const char *dir, struct cordon_hash *ret) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = cordon_listing_hash_fd(fd, ret);
    close(fd);
    return r;
}

int cordon_listing_hash_fd(int fd, struct cordon_hash *ret) {
    /* fdopendir takes the fd it is given: give it a copy. */
    int own = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (own < 0)
        return -errno;
    DIR *d = fdopendir(own);
    if (!d) {
        int e = errno;
        close(own);
        return -e;
    }
    rewinddir(d);
    char **names = NULL;
    size_t n = 0, cap = 0;
    int r = 0;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            r = errno ? -errno : 0;
            break;
        }
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (cordon_grow((void **)&names, &cap, n + 1, sizeof *names) < 0 ||
            !(names[n] = strdup(e->d_name))) {
            r = -ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (r == 0)
        r = cordon_listing_hash_names(names, n, ret);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return r;
}
