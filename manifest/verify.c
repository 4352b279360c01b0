/* Verify this host (or a root directory) against a manifest.
 *
 * Three passes so that the expensive part runs on every core and the
 * output stays in path order: (1) lstat each input and decide whether it
 * is unchanged by metadata alone (size, mtime and inode equal, as git's
 * index does), (2) hash the files that need it with cordon_hash_many, (3)
 * print the differences in canonical order.
 *
 * With a root, paths are resolved inside it with openat2(RESOLVE_IN_ROOT),
 * so an absolute symlink in the root cannot lead outside it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cordon/error.h>
#include <cordon/hash.h>
#include <cordon/manifest.h>
#include <cordon/util.h>
#include <cordon/verify.h>

static const char *const change_names[CORDON_CHANGE_MAX] = {
    [CORDON_CHANGE_CONTENT] = "content", [CORDON_CHANGE_TYPE] = "type",
    [CORDON_CHANGE_MISSING] = "missing", [CORDON_CHANGE_APPEARED] = "appeared",
    [CORDON_CHANGE_TARGET] = "target",   [CORDON_CHANGE_LISTING] = "listing",
    [CORDON_CHANGE_MODE] = "mode",       [CORDON_CHANGE_ENV] = "env",
};

const char *cordon_change_name(enum cordon_change c) {
    if ((int)c < 0 || c >= CORDON_CHANGE_MAX)
        return NULL;
    return change_names[c];
}

/* Where one input stands after pass 1. */
enum state {
    ST_SAME,
    ST_CHANGED, /* `change` says how */
    ST_HASH,    /* a job in pass 2 decides */
    ST_ERROR,   /* could not look: `error` */
};

struct check {
    enum state state;
    enum cordon_change change;
    int error;
    size_t job; /* ST_HASH: index into jobs */
    enum cordon_ftype now_type;
    uint32_t now_mode;
    char *now_target; /* TARGET: the link's text now */
    bool size_only;   /* CONTENT of a file whose bytes the build did not need */
    uint64_t now_size;
};

struct ctx {
    int rootfd; /* -1: the host's "/" */
    const char *root;
};

static long sys_openat2(int dirfd, const char *path, int flags) {
    struct open_how how = {.flags = (uint64_t)flags,
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    return syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

/* Open `path` (absolute, as recorded) with `flags`: in the root if there
 * is one, O_NOFOLLOW always. -errno on failure. */
static int open_input(const struct ctx *c, const char *path, int flags) {
    flags |= O_NOFOLLOW | O_CLOEXEC;
    if (c->rootfd < 0) {
        int fd = open(path, flags);
        return fd < 0 ? -errno : fd;
    }
    const char *rel = path[1] ? path + 1 : ".";
    long fd = sys_openat2(c->rootfd, rel, flags);
    return fd < 0 ? -errno : (int)fd;
}

static int lstat_input(const struct ctx *c, const char *path, struct stat *st) {
    if (c->rootfd < 0)
        return lstat(path, st) < 0 ? -errno : 0;
    int fd = open_input(c, path, O_PATH);
    if (fd < 0)
        return fd;
    int r = fstat(fd, st) < 0 ? -errno : 0;
    close(fd);
    return r;
}

/* The target of the link `path` (new), or NULL with *error set to -errno.
 * The string itself says whether it worked: the analyzer cannot tell that
 * a -errno is negative, and would follow a "success" without a target. */
static char *readlink_input(const struct ctx *c, const char *path, int *error) {
    char buf[PATH_MAX];
    ssize_t n;
    if (c->rootfd < 0) {
        n = readlink(path, buf, sizeof buf);
    } else {
        int fd = open_input(c, path, O_PATH);
        if (fd < 0) {
            *error = fd;
            return NULL;
        }
        n = readlinkat(fd, "", buf, sizeof buf);
        int e = errno;
        close(fd);
        errno = e;
    }
    if (n < 0) {
        *error = -errno;
        return NULL;
    }
    if ((size_t)n >= sizeof buf) {
        *error = -ENAMETOOLONG;
        return NULL;
    }
    buf[n] = '\0';
    char *s = strdup(buf);
    if (!s)
        *error = -ENOMEM;
    return s;
}

static int listing_input(const struct ctx *c, const char *path, struct cordon_hash *ret) {
    int fd = open_input(c, path, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return fd;
    int r = cordon_listing_hash_fd(fd, ret);
    close(fd);
    return r;
}

static int64_t mtime_ns(const struct stat *st) {
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* Pass 1 for one input. */
static void check_input(const struct ctx *c, const struct cordon_input *in, bool rehash,
                        struct check *k) {
    /* /proc, /sys and /dev describe the running system and the process that
     * looks, not the build's inputs: a listed /proc/self/fd differs for
     * every reader. */
    if (cordon_path_is_virtual(in->path)) {
        k->state = ST_SAME;
        return;
    }
    struct stat st;
    int r = lstat_input(c, in->path, &st);
    if (r < 0) {
        if (r == -ENOENT || r == -ENOTDIR || r == -ELOOP) {
            if (in->type != CORDON_FT_MISSING)
                *k = (struct check){.state = ST_CHANGED, .change = CORDON_CHANGE_MISSING};
            return;
        }
        *k = (struct check){.state = ST_ERROR, .error = r};
        return;
    }
    k->now_type = cordon_ftype_from_mode(st.st_mode);
    k->now_mode = st.st_mode & 07777;
    if (in->type == CORDON_FT_MISSING) {
        *k = (struct check){
            .state = ST_CHANGED, .change = CORDON_CHANGE_APPEARED, .now_type = k->now_type};
        return;
    }
    if (k->now_type != in->type) {
        k->state = ST_CHANGED;
        k->change = CORDON_CHANGE_TYPE;
        return;
    }
    switch (in->type) {
    case CORDON_FT_FILE:
        if (!cordon_use_needs_content(in->uses)) {
            /* The build saw only metadata, so only metadata can matter; a
             * packed root holds such files as sparse stand-ins. */
            if ((uint64_t)st.st_size != in->size) {
                k->state = ST_CHANGED;
                k->change = CORDON_CHANGE_CONTENT;
                k->size_only = true;
                k->now_size = (uint64_t)st.st_size;
                return;
            }
            break;
        }
        if (in->has_hash) {
            if (!rehash && (uint64_t)st.st_size == in->size && mtime_ns(&st) == in->mtime_ns &&
                (uint64_t)st.st_ino == in->ino)
                break;
            if ((uint64_t)st.st_size != in->size) {
                /* A different size is a different content: no need to read it. */
                k->state = ST_CHANGED;
                k->change = CORDON_CHANGE_CONTENT;
                return;
            }
            k->state = ST_HASH;
            return;
        }
        break;
    case CORDON_FT_SYMLINK:
        if (in->target) {
            char *now = readlink_input(c, in->path, &r);
            if (!now) {
                *k = (struct check){.state = ST_ERROR, .error = r};
                return;
            }
            if (strcmp(now, in->target) != 0) {
                k->state = ST_CHANGED;
                k->change = CORDON_CHANGE_TARGET;
                k->now_target = now;
                return;
            }
            free(now);
        }
        return; /* a link's own mode means nothing on Linux */
    case CORDON_FT_DIR:
        if (in->has_listing) {
            struct cordon_hash h;
            r = listing_input(c, in->path, &h);
            if (r < 0) {
                *k = (struct check){.state = ST_ERROR, .error = r};
                return;
            }
            if (!cordon_hash_equal(&h, &in->listing)) {
                k->state = ST_CHANGED;
                k->change = CORDON_CHANGE_LISTING;
                return;
            }
        }
        break;
    case CORDON_FT_MISSING:
    case CORDON_FT_OTHER:
    case CORDON_FT_MAX:
    case CORDON_FT_INVALID:
    default:
        break;
    }
    if (k->now_mode != (in->mode & 07777)) {
        k->state = ST_CHANGED;
        k->change = CORDON_CHANGE_MODE;
        return;
    }
    k->state = ST_SAME;
}

/* Pass 2 with a root: hash in the root, one file at a time. */
static void hash_in_root(const struct ctx *c, const struct cordon_input *in,
                         struct cordon_hash_job *j) {
    int fd = open_input(c, in->path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        j->error = fd;
        return;
    }
    j->error = cordon_hash_fd(fd, &j->hash, &j->size);
    close(fd);
}

static void print_input_change(FILE *out, const struct cordon_input *in, const struct check *k) {
    const char *name = cordon_change_name(k->change);
    switch (k->change) {
    case CORDON_CHANGE_TYPE:
        fprintf(out, "%-8s %s: %s -> %s\n", name, in->path, cordon_ftype_name(in->type),
                cordon_ftype_name(k->now_type));
        break;
    case CORDON_CHANGE_APPEARED:
        fprintf(out, "%-8s %s (%s)\n", name, in->path, cordon_ftype_name(k->now_type));
        break;
    case CORDON_CHANGE_TARGET:
        fprintf(out, "%-8s %s: '%s' -> '%s'\n", name, in->path, in->target, k->now_target);
        break;
    case CORDON_CHANGE_MODE:
        fprintf(out, "%-8s %s: %04o -> %04o\n", name, in->path, (unsigned)in->mode & 07777,
                (unsigned)k->now_mode);
        break;
    case CORDON_CHANGE_CONTENT:
        if (k->size_only) {
            fprintf(out, "%-8s %s: size %llu -> %llu (metadata only: not read by the build)\n",
                    name, in->path, (unsigned long long)in->size, (unsigned long long)k->now_size);
            break;
        }
        fprintf(out, "%-8s %s\n", name, in->path);
        break;
    case CORDON_CHANGE_MISSING:
    case CORDON_CHANGE_LISTING:
    case CORDON_CHANGE_ENV:
    case CORDON_CHANGE_MAX:
    default:
        fprintf(out, "%-8s %s\n", name, in->path);
        break;
    }
}

static int verify_env(const struct cordon_manifest *m, FILE *out) {
    int n = 0;
    for (size_t i = 0; i < m->n_env_reads; i++) {
        const struct cordon_env_read *e = &m->env_reads[i];
        if (e->redacted)
            continue; /* the recorded value is not known, so cannot be compared */
        const char *now = getenv(e->name);
        if ((!now && !e->value) || (now && e->value && strcmp(now, e->value) == 0))
            continue;
        fprintf(out, "%-8s %s: ", "env", e->name);
        if (e->value)
            fprintf(out, "'%s'", e->value);
        else
            fputs("(unset)", out);
        fputs(" -> ", out);
        if (now)
            fprintf(out, "'%s'\n", now);
        else
            fputs("(unset)\n", out);
        n++;
    }
    return n;
}

/* Pass 1 on every core: for 100,000 inputs it is 100,000 lstat calls, and
 * the inode cache answers them as fast as there are CPUs to ask. Inputs are
 * taken in blocks, so that neighbours (one directory) stay on one thread. */
struct pass1 {
    const struct ctx *c;
    const struct cordon_manifest *m;
    bool rehash;
    struct check *checks;
    struct cordon_progress *prog;
    size_t next; /* the next block's first index, taken atomically */
};

#define PASS1_BLOCK 256

static void *pass1_worker(void *arg) {
    struct pass1 *p = arg;
    for (;;) {
        size_t i = __atomic_fetch_add(&p->next, PASS1_BLOCK, __ATOMIC_RELAXED);
        if (i >= p->m->n_inputs)
            break;
        size_t end = i + PASS1_BLOCK < p->m->n_inputs ? i + PASS1_BLOCK : p->m->n_inputs;
        for (size_t k = i; k < end; k++)
            check_input(p->c, &p->m->inputs[k], p->rehash, &p->checks[k]);
        cordon_progress_step(p->prog, end - i);
    }
    return NULL;
}

static void run_pass1(struct pass1 *p) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t threads = cpus > 0 ? (size_t)cpus : 1;
    if (threads > 16)
        threads = 16;
    size_t blocks = (p->m->n_inputs + PASS1_BLOCK - 1) / PASS1_BLOCK;
    if (threads > blocks)
        threads = blocks ? blocks : 1;
    pthread_t tids[16];
    size_t started = 0;
    /* The calling thread is a worker too; failing to start more is slower,
     * not wrong. */
    for (size_t i = 1; i < threads; i++) {
        if (pthread_create(&tids[started], NULL, pass1_worker, p) != 0)
            break;
        started++;
    }
    pass1_worker(p);
    for (size_t i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
}

int cordon_verify(const struct cordon_manifest *m, const struct cordon_verify_options *opts,
                  FILE *out, struct cordon_error *err) {
    struct cordon_verify_options none = {0};
    if (!opts)
        opts = &none;
    struct ctx c = {.rootfd = -1, .root = opts->root};
    if (opts->root && strcmp(opts->root, "/") != 0) {
        c.rootfd = open(opts->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c.rootfd < 0)
            return cordon_error_set(err, errno, opts->root, 0, 0, "cannot open '%s'", opts->root);
        /* openat2 arrived in Linux 5.6; without it a root cannot be
         * checked safely. */
        long probe = sys_openat2(c.rootfd, ".", O_PATH | O_CLOEXEC);
        if (probe < 0) {
            int e = errno;
            close(c.rootfd);
            return cordon_error_set(err, e, opts->root, 0, 0,
                                    "cannot resolve paths inside '%s' (openat2)", opts->root);
        }
        close((int)probe);
    }

    struct check *checks = calloc(m->n_inputs + 1, sizeof *checks);
    if (!checks) {
        if (c.rootfd >= 0)
            close(c.rootfd);
        return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    }
    struct cordon_progress prog;
    cordon_progress_init(&prog, "verifying", m->n_inputs, opts->quiet);
    struct pass1 p1 = {.c = &c, .m = m, .rehash = opts->rehash, .checks = checks, .prog = &prog};
    run_pass1(&p1);
    cordon_progress_done(&prog);
    size_t n_jobs = 0;
    for (size_t i = 0; i < m->n_inputs; i++)
        if (checks[i].state == ST_HASH)
            checks[i].job = n_jobs++;

    struct cordon_hash_job *jobs = calloc(n_jobs + 1, sizeof *jobs);
    if (!jobs) {
        free(checks);
        if (c.rootfd >= 0)
            close(c.rootfd);
        return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    }
    uint64_t bytes = 0;
    for (size_t i = 0; i < m->n_inputs; i++)
        if (checks[i].state == ST_HASH) {
            jobs[checks[i].job].path = m->inputs[i].path;
            bytes += m->inputs[i].size;
        }
    cordon_progress_init(&prog, "hashing", bytes, opts->quiet);
    if (c.rootfd < 0) {
        (void)cordon_hash_many(jobs, n_jobs, 0, &prog);
    } else {
        for (size_t i = 0; i < m->n_inputs; i++)
            if (checks[i].state == ST_HASH) {
                hash_in_root(&c, &m->inputs[i], &jobs[checks[i].job]);
                cordon_progress_step(&prog, m->inputs[i].size);
            }
    }
    cordon_progress_done(&prog);

    int differences = 0, changed_inputs = 0;
    for (size_t i = 0; i < m->n_inputs; i++) {
        const struct cordon_input *in = &m->inputs[i];
        struct check *k = &checks[i];
        if (k->state == ST_HASH) {
            struct cordon_hash_job *j = &jobs[k->job];
            if (j->error == -ENOENT) {
                k->state = ST_CHANGED;
                k->change = CORDON_CHANGE_MISSING;
            } else if (j->error < 0) {
                k->state = ST_ERROR;
                k->error = j->error;
            } else if (!cordon_hash_equal(&j->hash, &in->hash)) {
                k->state = ST_CHANGED;
                k->change = CORDON_CHANGE_CONTENT;
            } else if (k->now_mode != (in->mode & 07777)) {
                k->state = ST_CHANGED;
                k->change = CORDON_CHANGE_MODE;
            } else {
                k->state = ST_SAME;
            }
        }
        if (k->state == ST_CHANGED) {
            print_input_change(out, in, k);
            changed_inputs++;
        } else if (k->state == ST_ERROR) {
            fprintf(out, "%-8s %s: %s\n", "error", in->path, strerror(-k->error));
            changed_inputs++;
        }
        free(k->now_target);
    }
    differences = changed_inputs;
    int env = verify_env(m, out);
    differences += env;
    if (differences)
        fprintf(out, "%d difference%s: %d of %zu inputs, %d of %zu variables\n", differences,
                differences == 1 ? "" : "s", changed_inputs, m->n_inputs, env, m->n_env_reads);
    else
        fprintf(out, "no differences: %zu inputs, %zu variables checked\n", m->n_inputs,
                m->n_env_reads);
    free(jobs);
    free(checks);
    if (c.rootfd >= 0)
        close(c.rootfd);
    return differences;
}
