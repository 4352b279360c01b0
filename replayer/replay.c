/* Replay: a root for the archive, the recorded command run inside it, its
 * outputs compared with the recorded ones, and with --record what the root
 * lacked.
 *
 * The cache. An archive is unpacked once into
 *   CACHE/<xxh3 of the archive>/            the pristine root
 * (cordon_unpack renames it into place only when complete; a marker,
 * .cordon/unpacked, written after that, says it is ours and whole), and each
 * replay runs in a fresh working root beside it,
 *   CACHE/<key>.run/
 * made of hard links to the pristine files (cheap; no copy-on-write here),
 * except the files the build may write, which are copied: everything under
 * the recorded work tree and cwd, and every recorded output. A build that
 * writes a file in place (O_TRUNC, O_WRONLY, chmod, utime) through a link
 * would change the pristine copy: after the run, every linked file's size,
 * mode and mtime are checked against what they were, and a changed one
 * removes the pristine root from the cache (the next replay unpacks again)
 * with a warning naming the file. The last working root stays for
 * inspection until the next replay of the same archive; a lock file
 * (CACHE/<key>.lock, flock) keeps two replays of one archive apart.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cordon/error.h>
#include <cordon/hash.h>
#include <cordon/manifest.h>
#include <cordon/pack.h>
#include <cordon/record.h>
#include <cordon/replay.h>
#include <cordon/util.h>

#define MARKER ".cordon/unpacked"
#define MANIFEST ".cordon/manifest.json"
#define HOOK_INSIDE "/.cordon/lib/libcordon-hook.so"
#define LOG_INSIDE "/.cordon/replay.log"

static void warnf(const struct cordon_replay_options *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void warnf(const struct cordon_replay_options *o, const char *fmt, ...) {
    if (!o->warn)
        return;
    char buf[PATH_MAX + 512];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    o->warn(o->warn_ctx, buf);
}

/* `a` then `b` into `out`; false if it does not fit. */
static bool cat2(char *out, size_t size, const char *a, const char *b) {
    int n = snprintf(out, size, "%s%s", a, b);
    return n >= 0 && (size_t)n < size;
}

/* ---- the cache ---------------------------------------------------------- */

static int cache_dir(const struct cordon_replay_options *o, char *out, size_t size,
                     struct cordon_error *err) {
    int n;
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (o->cache)
        n = snprintf(out, size, "%s", o->cache);
    else if (xdg && xdg[0] == '/')
        n = snprintf(out, size, "%s/cordon/roots", xdg);
    else if (home && home[0] == '/')
        n = snprintf(out, size, "%s/.cache/cordon/roots", home);
    else
        return cordon_error_set(err, ENOENT, NULL, 0, 0,
                                "no cache directory: set XDG_CACHE_HOME or HOME, or use --into");
    if (n < 0 || (size_t)n >= size)
        return cordon_error_set(err, ENAMETOOLONG, NULL, 0, 0, "the cache path is too long");
    int r = cordon_mkdir_p(out, 0755);
    if (r < 0)
        return cordon_error_set(err, -r, out, 0, 0, "cannot create the cache '%s'", out);
    return 0;
}

/* What a working root needs to know while it is linked from the pristine. */
struct linker {
    const char *src; /* pristine root */
    const char *dst; /* working root */
    const struct cordon_manifest *m;
    /* Linked files and their state when linked, to see in-place writes. */
    struct linked {
        char *rel;
        off_t size;
        mode_t mode;
        struct timespec mtime;
    } * linked;
    size_t n_linked, cap_linked;
    int error;
    char error_path[PATH_MAX];
};

static struct linker *the_linker; /* nftw has no context argument */

/* Whether the build may write `abs` (a path inside the root): copy it. */
static bool must_copy(const struct cordon_manifest *m, const char *abs) {
    if (!m)
        return false;
    if (m->worktree && strcmp(m->worktree, "/") != 0 && cordon_path_under(abs, m->worktree))
        return true;
    if (m->command.cwd && strcmp(m->command.cwd, "/") != 0 &&
        cordon_path_under(abs, m->command.cwd))
        return true;
    return cordon_manifest_find_output(m, abs) != NULL;
}

static int copy_file(const char *from, const char *to, const struct stat *st) {
    int in = open(from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return -errno;
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0) {
        int e = -errno;
        (void)close(in);
        return e;
    }
    char buf[1 << 16];
    ssize_t n;
    int r = 0;
    while ((n = read(in, buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            break;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                r = -errno;
                break;
            }
            off += w;
        }
        if (r < 0)
            break;
    }
    if (!r && fchmod(out, st->st_mode & 07777) < 0)
        r = -errno;
    struct timespec times[2] = {st->st_atim, st->st_mtim};
    if (!r && futimens(out, times) < 0)
        r = -errno;
    (void)close(in);
    if (close(out) < 0 && !r)
        r = -errno;
    return r;
}

static int link_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)ftw;
    struct linker *l = the_linker;
    const char *rel = path + strlen(l->src); /* "" or "/..." */
    char dst[PATH_MAX];
    if ((size_t)snprintf(dst, sizeof dst, "%s%s", l->dst, rel) >= sizeof dst) {
        l->error = -ENAMETOOLONG;
        goto fail;
    }
    if (flag == FTW_D) {
        /* Writable while it is filled; the real mode comes after. */
        if (mkdir(dst, 0700) < 0 && !(errno == EEXIST && !*rel)) {
            l->error = -errno;
            goto fail;
        }
        return 0;
    }
    if (flag == FTW_SL) {
        char target[PATH_MAX];
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n < 0) {
            l->error = -errno;
            goto fail;
        }
        target[n] = '\0';
        if (symlink(target, dst) < 0) {
            l->error = -errno;
            goto fail;
        }
        return 0;
    }
    if (flag != FTW_F) {
        l->error = flag == FTW_DNR ? -EACCES : -EIO;
        goto fail;
    }
    if (!S_ISREG(st->st_mode))
        return 0; /* unpack makes none; nothing else belongs in a root */
    const char *abs = *rel ? rel : "/";
    if (must_copy(l->m, abs) || link(path, dst) < 0) {
        int r = copy_file(path, dst, st);
        if (r < 0) {
            l->error = r;
            goto fail;
        }
        return 0;
    }
    if (cordon_grow((void **)&l->linked, &l->cap_linked, l->n_linked + 1, sizeof *l->linked) < 0 ||
        !(l->linked[l->n_linked].rel = strdup(rel))) {
        l->error = -ENOMEM;
        goto fail;
    }
    l->linked[l->n_linked].size = st->st_size;
    l->linked[l->n_linked].mode = st->st_mode;
    l->linked[l->n_linked].mtime = st->st_mtim;
    l->n_linked++;
    return 0;
fail:
    snprintf(l->error_path, sizeof l->error_path, "%s", dst);
    return 1;
}

static int chmod_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)ftw;
    struct linker *l = the_linker;
    if (flag != FTW_D && flag != FTW_DP)
        return 0;
    char dst[PATH_MAX];
    if ((size_t)snprintf(dst, sizeof dst, "%s%s", l->dst, path + strlen(l->src)) >= sizeof dst)
        return 0;
    (void)chmod(dst, st->st_mode & 07777);
    return 0;
}

static void linker_release(struct linker *l) {
    for (size_t i = 0; i < l->n_linked; i++)
        free(l->linked[i].rel);
    free(l->linked);
    l->linked = NULL;
    l->n_linked = l->cap_linked = 0;
}

static int writable_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)ftw;
    if (flag == FTW_D && (st->st_mode & 0700) != 0700)
        (void)chmod(path, (st->st_mode & 07777) | 0700);
    return 0;
}

/* rm -rf that also empties read-only directories (a root has some). */
static int remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (S_ISDIR(st.st_mode))
        (void)nftw(path, writable_one, 64, FTW_PHYS | FTW_MOUNT);
    return cordon_rm_rf(path);
}

static int make_working_root(struct linker *l, struct cordon_error *err) {
    int r = remove_tree(l->dst);
    if (r < 0)
        return cordon_error_set(err, -r, l->dst, 0, 0, "cannot remove the old working root '%s'",
                                l->dst);
    the_linker = l;
    r = nftw(l->src, link_one, 64, FTW_PHYS | FTW_MOUNT);
    if (r == 0)
        r = nftw(l->src, chmod_one, 64, FTW_PHYS | FTW_MOUNT);
    the_linker = NULL;
    if (r < 0)
        return cordon_error_set(err, errno, l->src, 0, 0, "cannot walk the cached root '%s'",
                                l->src);
    if (l->error)
        return cordon_error_set(err, -l->error, l->error_path, 0, 0,
                                "cannot make the working root at '%s'", l->error_path);
    return 0;
}

/* A linked file whose size, mode or mtime changed was written through the
 * link: returns its path inside the root, or NULL. */
static const char *linked_written(const struct linker *l) {
    for (size_t i = 0; i < l->n_linked; i++) {
        char p[PATH_MAX];
        (void)snprintf(p, sizeof p, "%s%s", l->src, l->linked[i].rel);
        struct stat st;
        if (lstat(p, &st) < 0)
            return l->linked[i].rel;
        if (st.st_size != l->linked[i].size || st.st_mode != l->linked[i].mode ||
            st.st_mtim.tv_sec != l->linked[i].mtime.tv_sec ||
            st.st_mtim.tv_nsec != l->linked[i].mtime.tv_nsec)
            return l->linked[i].rel;
    }
    return NULL;
}

/* The directory for --into: absent, or empty (then removed for unpack,
 * which wants to create it). */
static int prepare_into(const char *into, struct cordon_error *err) {
    struct stat st;
    if (lstat(into, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return cordon_error_set(err, errno, into, 0, 0, "cannot use '%s'", into);
    }
    if (!S_ISDIR(st.st_mode))
        return cordon_error_set(err, ENOTDIR, into, 0, 0, "'%s' is not a directory", into);
    if (rmdir(into) < 0)
        return cordon_error_set(err, errno == EEXIST ? ENOTEMPTY : errno, into, 0, 0,
                                "'%s' must not exist or be empty", into);
    return 0;
}

static int write_marker(const char *root, struct cordon_error *err) {
    char p[PATH_MAX];
    (void)snprintf(p, sizeof p, "%s/" MARKER, root);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return cordon_error_set(err, errno, p, 0, 0, "cannot write '%s'", p);
    (void)close(fd);
    return 0;
}

/* ---- comparing outputs -------------------------------------------------- */

/* fakechroot's symlink() stores an absolute target with the root's host
 * path in front (so the host kernel can follow it), and its readlink()
 * takes it off again. Left as it is, an output symlink (a venv's
 * bin/python3 -> /usr/bin/python3) differs from the recording and points
 * out of the root for anyone else: the prefix is taken off for real. */
static void unprefix_symlinks(const struct cordon_manifest *m, const char *root) {
    int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return;
    size_t rlen = strlen(root);
    for (size_t i = 0; i < m->n_outputs; i++) {
        const struct cordon_output *o = &m->outputs[i];
        if (o->type != CORDON_FT_SYMLINK)
            continue;
        char dir[PATH_MAX];
        const char *slash = strrchr(o->path, '/');
        if (!slash || snprintf(dir, sizeof dir, "%.*s", (int)(slash - o->path), o->path) < 0)
            continue;
        /* The parent is resolved inside the root: the build may have made
         * it a symlink, and nothing here may act outside. */
        int dfd = cordon_root_open(rootfd, dir[0] ? dir : "/", O_PATH | O_DIRECTORY);
        if (dfd < 0)
            continue;
        char target[PATH_MAX];
        ssize_t n = readlinkat(dfd, slash + 1, target, sizeof target - 1);
        if (n > 0) {
            target[n] = '\0';
            if ((size_t)n > rlen && strncmp(target, root, rlen) == 0 && target[rlen] == '/' &&
                unlinkat(dfd, slash + 1, 0) == 0)
                (void)symlinkat(target + rlen, dfd, slash + 1);
        }
        (void)close(dfd);
    }
    (void)close(rootfd);
}

static int compare_outputs(const struct cordon_manifest *m, const char *root,
                           struct cordon_replay_result *ret, FILE *out, bool quiet,
                           struct cordon_error *err) {
    int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return cordon_error_set(err, errno, root, 0, 0, "cannot open the root '%s'", root);
    unsigned files = 0;
    for (size_t i = 0; i < m->n_outputs; i++) {
        const struct cordon_output *o = &m->outputs[i];
        const char *what = NULL;
        switch (o->type) {
        case CORDON_FT_FILE: {
            if (!o->has_hash)
                continue;
            files++;
            ret->outputs_checked++;
            int fd = cordon_root_open(rootfd, o->path, O_RDONLY | O_NOFOLLOW);
            if (fd < 0) {
                what = fd == -ENOENT ? "missing" : "differs";
                break;
            }
            struct cordon_hash h;
            int r = cordon_hash_fd(fd, &h, NULL);
            (void)close(fd);
            if (r < 0 || !cordon_hash_equal(&h, &o->hash))
                what = "differs";
            break;
        }
        case CORDON_FT_SYMLINK: {
            ret->outputs_checked++;
            int fd = cordon_root_open(rootfd, o->path, O_PATH | O_NOFOLLOW);
            if (fd < 0) {
                what = "missing";
                break;
            }
            char target[PATH_MAX];
            ssize_t n = readlinkat(fd, "", target, sizeof target - 1);
            (void)close(fd);
            if (n < 0)
                what = "differs";
            else {
                target[n] = '\0';
                if (!o->target || strcmp(target, o->target) != 0)
                    what = "differs";
            }
            break;
        }
        case CORDON_FT_DIR: {
            ret->outputs_checked++;
            int fd = cordon_root_open(rootfd, o->path, O_PATH | O_NOFOLLOW | O_DIRECTORY);
            if (fd < 0)
                what = fd == -ENOENT ? "missing" : "differs";
            else
                (void)close(fd);
            break;
        }
        case CORDON_FT_MISSING: {
            /* The build deleted it: it must be gone again. */
            ret->outputs_checked++;
            int fd = cordon_root_open(rootfd, o->path, O_PATH | O_NOFOLLOW);
            if (fd >= 0) {
                (void)close(fd);
                what = "present";
            }
            break;
        }
        case CORDON_FT_OTHER:
        case CORDON_FT_MAX:
        case CORDON_FT_INVALID:
        default:
            continue;
        }
        if (what) {
            ret->outputs_differ++;
            if (out)
                (void)fprintf(out, "%-8s %s\n", what, o->path);
        }
    }
    (void)close(rootfd);
    if (out && !quiet && !ret->outputs_differ)
        (void)fprintf(out, "outputs: identical (%u file%s)\n", files, files == 1 ? "" : "s");
    else if (out && ret->outputs_differ)
        (void)fprintf(out, "outputs: %u of %u differ\n", ret->outputs_differ, ret->outputs_checked);
    return 0;
}

/* ---- --record ----------------------------------------------------------- */

static int report_lacked(const struct cordon_manifest *orig, const char *root, int pid,
                         struct cordon_replay_result *ret, FILE *out, bool quiet,
                         struct cordon_error *err) {
    char log[PATH_MAX];
    (void)snprintf(log, sizeof log, "%s" LOG_INSIDE, root);
    struct cordon_collect_options co = {.log = log, .root_pid = pid, .quiet = true};
    struct cordon_manifest *m = NULL;
    int r = cordon_record_collect(&co, &m, err);
    if (r < 0)
        return r;
    size_t rl = strlen(root);
    for (size_t i = 0; i < m->n_inputs; i++) {
        const struct cordon_input *in = &m->inputs[i];
        if (in->type != CORDON_FT_MISSING)
            continue;
        /* Under fakechroot the hook sees host paths where the program or
         * the loader made them (relative paths, library searches). */
        const char *path = in->path;
        if (!strncmp(path, root, rl) && (path[rl] == '/' || !path[rl]))
            path = path[rl] ? path + rl : "/";
        const struct cordon_input *was = cordon_manifest_find_input(orig, path);
        if (!was || was->type == CORDON_FT_MISSING)
            continue;
        ret->lacked++;
        if (out)
            (void)fprintf(out, "lacked: %s\n", path);
    }
    if (out && !quiet && !ret->lacked)
        (void)fprintf(out, "lacked: nothing the recording had found\n");
    cordon_manifest_free(m);
    return 0;
}

/* The hook inside the root: the archive's, else this cordon's copied in. */
static int place_hook(const char *root, const char *hook, struct cordon_error *err) {
    char dst[PATH_MAX];
    (void)snprintf(dst, sizeof dst, "%s" HOOK_INSIDE, root);
    struct stat st;
    if (lstat(dst, &st) == 0 && S_ISREG(st.st_mode))
        return 0;
    if (!hook)
        return cordon_error_set(err, ENOENT, dst, 0, 0,
                                "--record needs the hook: '%s' is not in the root", HOOK_INSIDE);
    char dir[PATH_MAX];
    (void)snprintf(dir, sizeof dir, "%s/.cordon/lib", root);
    int r = cordon_mkdir_p(dir, 0755);
    if (r < 0)
        return cordon_error_set(err, -r, dir, 0, 0, "cannot create '%s'", dir);
    if (stat(hook, &st) < 0)
        return cordon_error_set(err, errno, hook, 0, 0, "cannot open the hook '%s'", hook);
    (void)unlink(dst);
    r = copy_file(hook, dst, &st);
    if (r < 0)
        return cordon_error_set(err, -r, dst, 0, 0, "cannot copy the hook to '%s'", dst);
    return 0;
}

/* ---- replay ------------------------------------------------------------- */

struct replay_state {
    struct cordon_manifest *m;
    char **argv;
    char **env;
    char **dropped;
    int lock_fd;
    struct linker linker;
    char pristine[PATH_MAX];
    char work[PATH_MAX];
};

static void state_release(struct replay_state *s) {
    cordon_manifest_free(s->m);
    cordon_strv_free(s->argv);
    cordon_strv_free(s->env);
    cordon_strv_free(s->dropped);
    if (s->lock_fd >= 0)
        (void)close(s->lock_fd);
    linker_release(&s->linker);
}

/* Unpack (or reuse) the archive's root; ret->root is where to run. */
static int get_root(const struct cordon_replay_options *o, struct replay_state *s,
                    struct cordon_replay_result *ret, struct cordon_error *err) {
    int r;
    if (o->root) {
        if (!realpath(o->root, ret->root))
            return cordon_error_set(err, errno, o->root, 0, 0, "cannot open the root '%s'",
                                    o->root);
        ret->reused = true;
        return 0;
    }
    if (!o->archive)
        return cordon_error_set(err, EINVAL, NULL, 0, 0, "no archive to replay");
    if (o->into) {
        if ((r = prepare_into(o->into, err)) < 0)
            return r;
        struct cordon_unpack_options uo = {
            .archive = o->archive, .dest = o->into, .quiet = o->quiet};
        if ((r = cordon_unpack(&uo, err)) < 0)
            return r;
        if (!realpath(o->into, ret->root))
            return cordon_error_set(err, errno, o->into, 0, 0, "cannot open '%s'", o->into);
        return write_marker(ret->root, err);
    }

    char cache[PATH_MAX], key[CORDON_HASH_HEX_LEN + 1];
    if ((r = cache_dir(o, cache, sizeof cache, err)) < 0)
        return r;
    if ((r = cordon_replay_cache_key(o->archive, key, err)) < 0)
        return r;
    char lock[PATH_MAX];
    if ((size_t)snprintf(s->pristine, sizeof s->pristine, "%s/%s", cache, key) >=
            sizeof s->pristine ||
        (size_t)snprintf(s->work, sizeof s->work, "%s/%s.run", cache, key) >= sizeof s->work ||
        (size_t)snprintf(lock, sizeof lock, "%s/%s.lock", cache, key) >= sizeof lock)
        return cordon_error_set(err, ENAMETOOLONG, cache, 0, 0, "the cache path is too long");
    s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (s->lock_fd < 0)
        return cordon_error_set(err, errno, lock, 0, 0, "cannot open '%s'", lock);
    while (flock(s->lock_fd, LOCK_EX) < 0)
        if (errno != EINTR)
            return cordon_error_set(err, errno, lock, 0, 0, "cannot lock '%s'", lock);

    char marker[PATH_MAX];
    struct stat st;
    if (cat2(marker, sizeof marker, s->pristine, "/" MARKER) && lstat(marker, &st) == 0 &&
        S_ISREG(st.st_mode)) {
        ret->reused = true;
    } else {
        /* Half there (a crash between unpack and marker): start again. */
        if ((r = remove_tree(s->pristine)) < 0)
            return cordon_error_set(err, -r, s->pristine, 0, 0, "cannot remove '%s'", s->pristine);
        struct cordon_unpack_options uo = {
            .archive = o->archive, .dest = s->pristine, .quiet = o->quiet};
        if ((r = cordon_unpack(&uo, err)) < 0)
            return r;
        if ((r = write_marker(s->pristine, err)) < 0)
            return r;
    }
    return 0;
}

/* Read the root's manifest (optional with opts->root). */
static int read_manifest(const struct cordon_replay_options *o, const char *root,
                         struct replay_state *s, struct cordon_error *err) {
    char p[PATH_MAX];
    (void)snprintf(p, sizeof p, "%s/" MANIFEST, root);
    if (o->root && access(p, F_OK) < 0 && errno == ENOENT)
        return 0;
    return cordon_manifest_read(p, &s->m, err);
}

int cordon_replay(const struct cordon_replay_options *opts, struct cordon_replay_result *ret,
                  FILE *out, struct cordon_error *err) {
    memset(ret, 0, sizeof *ret);
    cordon_error_clear(err);
    struct replay_state s = {.lock_fd = -1};
    int r;

    /* 1. the runner */
    enum cordon_backend backend = opts->backend;
    if (backend == CORDON_BACKEND_AUTO) {
        int u = cordon_userns_available();
        backend = u == 0 ? CORDON_BACKEND_NAMESPACE : CORDON_BACKEND_FAKECHROOT;
        ret->userns_error = -u;
    } else if (backend != CORDON_BACKEND_NAMESPACE && backend != CORDON_BACKEND_FAKECHROOT) {
        return cordon_error_set(err, EINVAL, NULL, 0, 0, "unknown backend");
    }
    ret->backend = backend;

    /* 2. the root; the manifest first from the pristine copy, which says
     * what the working copy must copy rather than link */
    if ((r = get_root(opts, &s, ret, err)) < 0)
        goto out;
    const char *mroot = s.pristine[0] ? s.pristine : ret->root;
    if ((r = read_manifest(opts, mroot, &s, err)) < 0)
        goto out;
    if (s.pristine[0]) {
        s.linker.src = s.pristine;
        s.linker.dst = s.work;
        s.linker.m = s.m;
        if ((r = make_working_root(&s.linker, err)) < 0)
            goto out;
        (void)snprintf(ret->root, sizeof ret->root, "%s", s.work);
    }

    /* 3. command, environment, cwd */
    if (!opts->argv && !s.m) {
        r = cordon_error_set(err, EINVAL, ret->root, 0, 0,
                             "the root '%s' has no manifest: give the command after --", ret->root);
        goto out;
    }
    s.argv = cordon_strv_copy(opts->argv ? opts->argv : s.m->command.argv);
    if (!s.argv || !s.argv[0]) {
        r = cordon_error_set(err, s.argv ? EINVAL : ENOMEM, NULL, 0, 0,
                             s.argv ? "the manifest records no command" : "out of memory");
        goto out;
    }
    if ((r = cordon_replay_env(s.m ? s.m->command.env : NULL, &s.env, &s.dropped)) < 0) {
        cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
        goto out;
    }
    for (char *const *e = opts->env; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq) {
            r = cordon_error_set(err, EINVAL, NULL, 0, 0, "'%s' is not NAME=VALUE", *e);
            goto out;
        }
        char name[256];
        (void)snprintf(name, sizeof name, "%.*s", (int)(eq - *e), *e);
        if ((r = cordon_env_set(&s.env, name, eq + 1)) < 0) {
            cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
            goto out;
        }
    }
    if (s.dropped && s.dropped[0]) {
        struct cordon_strbuf sb = CORDON_STRBUF_INIT;
        for (char **d = s.dropped; *d; d++) {
            if (d != s.dropped)
                cordon_strbuf_adds(&sb, ", ");
            cordon_strbuf_adds(&sb, *d);
        }
        warnf(opts, "not passing the redacted variable%s %s: %s value was not recorded",
              s.dropped[1] ? "s" : "", sb.buf, s.dropped[1] ? "their" : "its");
        cordon_strbuf_release(&sb);
    }
    const char *cwd = opts->cwd ? opts->cwd : s.m && s.m->command.cwd ? s.m->command.cwd : "/";

    if (backend == CORDON_BACKEND_FAKECHROOT) {
        char lib[PATH_MAX];
        bool host_lib = false;
        if (cordon_fakechroot_library(ret->root, lib, sizeof lib, &host_lib) == 0 && host_lib)
            warnf(opts, "the root carries no libfakechroot.so: using the host's '%s'", lib);
    }

    /* 4. run */
    char log[PATH_MAX];
    if (!cat2(log, sizeof log, ret->root, LOG_INSIDE)) {
        r = cordon_error_set(err, ENAMETOOLONG, ret->root, 0, 0, "the root's path is too long");
        goto out;
    }
    if (opts->record) {
        if ((r = place_hook(ret->root, opts->hook, err)) < 0)
            goto out;
        (void)unlink(log);
    }
    int pid = 0;
    struct cordon_run_spec spec = {
        .root = ret->root,
        .argv = s.argv,
        .envp = s.env,
        .cwd = cwd,
        .backend = backend,
        .hook = opts->record ? HOOK_INSIDE : NULL,
        .log = opts->record ? log : NULL,
        .ret_pid = &pid,
    };
    r = cordon_run_in_root(&spec, &ret->status, err);
    if (r == -ENOENT || r == -EACCES) {
        ret->exec_error = -r;
        goto out;
    }
    if (r < 0)
        goto out;

    /* 5. outputs */
    if (s.m && backend == CORDON_BACKEND_FAKECHROOT)
        unprefix_symlinks(s.m, ret->root);
    if (s.m && (r = compare_outputs(s.m, ret->root, ret, out, opts->quiet, err)) < 0)
        goto out;

    /* 6. --record: what the root lacked */
    if (opts->record && s.m) {
        struct stat st;
        if (stat(log, &st) < 0) {
            warnf(opts, "the replay left no log at '%s': nothing to report", log);
        } else if ((r = report_lacked(s.m, ret->root, pid, ret, out, opts->quiet, err)) < 0) {
            goto out;
        }
    }
    r = 0;
out:
    if (s.linker.n_linked) {
        const char *w = linked_written(&s.linker);
        if (w) {
            ret->cache_dirty = true;
            warnf(opts,
                  "the build changed '%s' in place, which the working root shares with the "
                  "cached root: removing the cached root '%s' (the next replay unpacks again)",
                  w, s.pristine);
            char marker[PATH_MAX];
            if (cat2(marker, sizeof marker, s.pristine, "/" MARKER))
                (void)unlink(marker);
            (void)remove_tree(s.pristine);
        }
    }
    state_release(&s);
    return r;
}
