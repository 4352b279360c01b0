/* Writes to the file system: unlink, rmdir, mkdir, rename, link, symlink,
 * truncate, chmod, the utime family. Never de-duplicated: the collector
 * needs their order against the reads. */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <utime.h>

#include "hook.h"

/* Most of these are int f(args) with one path: check, call, record,
 * return. `args` names the checked path and dirfd as `p_` and `d_`: the
 * host path the policy resolved (or the caller's own when none is loaded). */
#define WRITE1(name, params, args, kind, dirfd, path, arg, enf)                                    \
    HOOK_EXPORT int name params {                                                                  \
        __typeof__(&name) real = REAL(name);                                                       \
        if (!real)                                                                                 \
            return errno = ENOSYS, -1;                                                             \
        struct hook_resolved res_;                                                                 \
        int d_ = (dirfd);                                                                          \
        const char *p_ = (path);                                                                   \
        int e_ = hook_check(&d_, &p_, (enf), &res_);                                               \
        if (e_) {                                                                                  \
            hook_path_event(kind, dirfd, path, e_, (uint32_t)(arg), NULL, false);                  \
            return errno = e_, -1;                                                                 \
        }                                                                                          \
        int r = real args;                                                                         \
        int err = errno;                                                                           \
        hook_path_event(kind, dirfd, path, r < 0 ? err : 0, (uint32_t)(arg), NULL, false);         \
        errno = err;                                                                               \
        return r;                                                                                  \
    }

/* A link's source must be visible; one under ro gets EXDEV, which is what a
 * read-only bind mount gives (a new name for it would be writable). */
static int link_source(int *dirfd, const char **path, int nofollow, struct hook_resolved *r) {
    int e = hook_check(dirfd, path, HOOK_ENF_LOOK | (nofollow ? HOOK_ENF_NOFOLLOW : 0), r);
    if (!e && hook_enforcing() && r->access != HOOK_ACC_RW)
        e = r->access == HOOK_ACC_DENY ? EACCES : EXDEV;
    return e;
}

/* Two paths (rename, link): `enf1` for the first (-1: a link's source). */
#define WRITE2(name, params, args, kind, dirfd1, p1, dirfd2, p2, arg, enf1, nofollow1, enf2)       \
    HOOK_EXPORT int name params {                                                                  \
        __typeof__(&name) real = REAL(name);                                                       \
        if (!real)                                                                                 \
            return errno = ENOSYS, -1;                                                             \
        struct hook_resolved r1_, r2_;                                                             \
        int d1_ = (dirfd1), d2_ = (dirfd2);                                                        \
        const char *p1_ = (p1), *p2_ = (p2);                                                       \
        int e_ = (enf1) < 0 ? link_source(&d1_, &p1_, (nofollow1), &r1_)                           \
                            : hook_check(&d1_, &p1_, (enf1), &r1_);                                \
        if (!e_)                                                                                   \
            e_ = hook_check(&d2_, &p2_, (enf2), &r2_);                                             \
        if (e_) {                                                                                  \
            hook_path2_event(kind, dirfd1, p1, dirfd2, p2, e_, (uint32_t)(arg));                   \
            return errno = e_, -1;                                                                 \
        }                                                                                          \
        int r = real args;                                                                         \
        int err = errno;                                                                           \
        hook_path2_event(kind, dirfd1, p1, dirfd2, p2, r < 0 ? err : 0, (uint32_t)(arg));          \
        errno = err;                                                                               \
        return r;                                                                                  \
    }

WRITE1(unlink, (const char *p), (p_), CORDON_TRACE_UNLINK, AT_FDCWD, p, 0,
       HOOK_ENF_WRITE | HOOK_ENF_NOFOLLOW)
WRITE1(unlinkat, (int fd, const char *p, int fl), (d_, p_, fl),
       (fl & AT_REMOVEDIR) ? CORDON_TRACE_RMDIR : CORDON_TRACE_UNLINK, fd, p, 0,
       HOOK_ENF_WRITE | HOOK_ENF_NOFOLLOW)
WRITE1(rmdir, (const char *p), (p_), CORDON_TRACE_RMDIR, AT_FDCWD, p, 0,
       HOOK_ENF_WRITE | HOOK_ENF_NOFOLLOW)
WRITE1(mkdir, (const char *p, mode_t m), (p_, m), CORDON_TRACE_MKDIR, AT_FDCWD, p, m,
       HOOK_ENF_CREATE | HOOK_ENF_NOFOLLOW)
WRITE1(mkdirat, (int fd, const char *p, mode_t m), (d_, p_, m), CORDON_TRACE_MKDIR, fd, p, m,
       HOOK_ENF_CREATE | HOOK_ENF_NOFOLLOW)
WRITE1(truncate, (const char *p, off_t len), (p_, len), CORDON_TRACE_TRUNCATE, AT_FDCWD, p, 0,
       HOOK_ENF_WRITE | HOOK_ENF_DATA)
WRITE1(truncate64, (const char *p, off64_t len), (p_, len), CORDON_TRACE_TRUNCATE, AT_FDCWD, p, 0,
       HOOK_ENF_WRITE | HOOK_ENF_DATA)
WRITE1(chmod, (const char *p, mode_t m), (p_, m), CORDON_TRACE_CHMOD, AT_FDCWD, p, m,
       HOOK_ENF_WRITE)
WRITE1(fchmodat, (int fd, const char *p, mode_t m, int fl), (d_, p_, m, fl), CORDON_TRACE_CHMOD, fd,
       p, m, HOOK_ENF_WRITE | (fl & AT_SYMLINK_NOFOLLOW ? HOOK_ENF_NOFOLLOW : 0))
WRITE1(utime, (const char *p, const struct utimbuf *t), (p_, t), CORDON_TRACE_UTIME, AT_FDCWD, p, 0,
       HOOK_ENF_WRITE)
WRITE1(utimes, (const char *p, const struct timeval t[2]), (p_, t), CORDON_TRACE_UTIME, AT_FDCWD, p,
       0, HOOK_ENF_WRITE)
WRITE1(lutimes, (const char *p, const struct timeval t[2]), (p_, t), CORDON_TRACE_UTIME, AT_FDCWD,
       p, 1, HOOK_ENF_WRITE | HOOK_ENF_NOFOLLOW)

WRITE2(rename, (const char *a, const char *b), (p1_, p2_), CORDON_TRACE_RENAME, AT_FDCWD, a,
       AT_FDCWD, b, 0, HOOK_ENF_WRITE | HOOK_ENF_NOFOLLOW, 1, HOOK_ENF_WRITE | HOOK_ENF_NOFOLLOW)
WRITE2(renameat, (int fa, const char *a, int fb, const char *b), (d1_, p1_, d2_, p2_),
       CORDON_TRACE_RENAME, fa, a, fb, b, 0, HOOK_ENF_WRITE | HOOK_ENF_NOFOLLOW, 1,
       HOOK_ENF_WRITE | HOOK_ENF_NOFOLLOW)
WRITE2(renameat2, (int fa, const char *a, int fb, const char *b, unsigned fl),
       (d1_, p1_, d2_, p2_, fl), CORDON_TRACE_RENAME, fa, a, fb, b, fl,
       HOOK_ENF_WRITE | HOOK_ENF_NOFOLLOW, 1, HOOK_ENF_WRITE | HOOK_ENF_NOFOLLOW)
WRITE2(link, (const char *a, const char *b), (p1_, p2_), CORDON_TRACE_LINK, AT_FDCWD, a, AT_FDCWD,
       b, 0, -1, 1, HOOK_ENF_CREATE | HOOK_ENF_NOFOLLOW)
WRITE2(linkat, (int fa, const char *a, int fb, const char *b, int fl), (d1_, p1_, d2_, p2_, fl),
       CORDON_TRACE_LINK, fa, a, fb, b, fl, -1, !(fl & AT_SYMLINK_FOLLOW),
       HOOK_ENF_CREATE | HOOK_ENF_NOFOLLOW)

/* futimesat(fd, NULL, t) and utimensat(fd, NULL, t, 0) change the file
 * open as fd. */
static void utime_event(int dirfd, const char *path, int r, int err, int nofollow) {
    if (!hook_active())
        return;
    if (hook_isnull(path)) {
        char p[PATH_MAX];
        if (hook_fd_path(dirfd, p))
            hook_path_event(CORDON_TRACE_UTIME, AT_FDCWD, p, r < 0 ? err : 0, 0, NULL, false);
        return;
    }
    hook_path_event(CORDON_TRACE_UTIME, dirfd, path, r < 0 ? err : 0, nofollow ? 1 : 0, NULL,
                    false);
}

HOOK_EXPORT int utimensat(int dirfd, const char *path, const struct timespec t[2], int flags) {
    __typeof__(&utimensat) real = REAL(utimensat);
    if (!real)
        return errno = ENOSYS, -1;
    struct hook_resolved res;
    int d = dirfd;
    const char *p = path;
    int e = hook_isnull(path)
                ? 0
                : hook_check(&d, &p,
                             HOOK_ENF_WRITE | (flags & AT_SYMLINK_NOFOLLOW ? HOOK_ENF_NOFOLLOW : 0),
                             &res);
    if (e) {
        utime_event(dirfd, path, -1, e, flags & AT_SYMLINK_NOFOLLOW);
        return errno = e, -1;
    }
    int r = real(d, p, t, flags);
    int err = errno;
    utime_event(dirfd, path, r, err, flags & AT_SYMLINK_NOFOLLOW);
    errno = err;
    return r;
}

HOOK_EXPORT int futimesat(int dirfd, const char *path, const struct timeval t[2]) {
    __typeof__(&futimesat) real = REAL(futimesat);
    if (!real)
        return errno = ENOSYS, -1;
    struct hook_resolved res;
    int d = dirfd;
    const char *p = path;
    int e = hook_isnull(path) ? 0 : hook_check(&d, &p, HOOK_ENF_WRITE, &res);
    if (e) {
        utime_event(dirfd, path, -1, e, 0);
        return errno = e, -1;
    }
    int r = real(d, p, t);
    int err = errno;
    utime_event(dirfd, path, r, err, 0);
    errno = err;
    return r;
}

/* symlink: str1 is the link's text as given (not a path of ours to
 * resolve), str2 the new link. */
static void symlink_event(const char *text, int dirfd, const char *path, int r, int err) {
    if (!hook_active() || hook_isnull(text))
        return;
    struct hook_rec rec;
    char abs[PATH_MAX];
    hook_rec_init(&rec, CORDON_TRACE_SYMLINK, r < 0 ? err : 0, 0);
    size_t n = hook_abs(dirfd, path, abs);
    if (!n)
        return;
    hook_emit(&rec, text, strlen(text), abs, n);
}

HOOK_EXPORT int symlink(const char *text, const char *path) {
    __typeof__(&symlink) real = REAL(symlink);
    if (!real)
        return errno = ENOSYS, -1;
    struct hook_resolved res;
    int d = AT_FDCWD;
    const char *p = path;
    int e = hook_check(&d, &p, HOOK_ENF_CREATE | HOOK_ENF_NOFOLLOW, &res);
    if (e) {
        symlink_event(text, AT_FDCWD, path, -1, e);
        return errno = e, -1;
    }
    int r = real(text, p);
    int err = errno;
    symlink_event(text, AT_FDCWD, path, r, err);
    errno = err;
    return r;
}

HOOK_EXPORT int symlinkat(const char *text, int dirfd, const char *path) {
    __typeof__(&symlinkat) real = REAL(symlinkat);
    if (!real)
        return errno = ENOSYS, -1;
    struct hook_resolved res;
    int d = dirfd;
    const char *p = path;
    int e = hook_check(&d, &p, HOOK_ENF_CREATE | HOOK_ENF_NOFOLLOW, &res);
    if (e) {
        symlink_event(text, dirfd, path, -1, e);
        return errno = e, -1;
    }
    int r = real(text, d, p);
    int err = errno;
    symlink_event(text, dirfd, path, r, err);
    errno = err;
    return r;
}
