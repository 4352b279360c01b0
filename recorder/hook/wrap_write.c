/* Writes to the file system: unlink, rmdir, mkdir, rename, link, symlink,
 * truncate, chmod, the utime family. Never de-duplicated: the collector
 * needs their order against the reads. */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <utime.h>

#include "hook.h"

/* Most of these are int f(args) with one path: call, record, return. */
#define WRITE1(name, params, args, kind, dirfd, path, arg)                                         \
    HOOK_EXPORT int name params {                                                                  \
        __typeof__(&name) real = REAL(name);                                                       \
        if (!real)                                                                                 \
            return errno = ENOSYS, -1;                                                             \
        int r = real args;                                                                         \
        int err = errno;                                                                           \
        hook_path_event(kind, dirfd, path, r < 0 ? err : 0, (uint32_t)(arg), NULL, false);         \
        errno = err;                                                                               \
        return r;                                                                                  \
    }

#define WRITE2(name, params, args, kind, dirfd1, p1, dirfd2, p2, arg)                              \
    HOOK_EXPORT int name params {                                                                  \
        __typeof__(&name) real = REAL(name);                                                       \
        if (!real)                                                                                 \
            return errno = ENOSYS, -1;                                                             \
        int r = real args;                                                                         \
        int err = errno;                                                                           \
        hook_path2_event(kind, dirfd1, p1, dirfd2, p2, r < 0 ? err : 0, (uint32_t)(arg));          \
        errno = err;                                                                               \
        return r;                                                                                  \
    }

WRITE1(unlink, (const char *p), (p), CORDON_TRACE_UNLINK, AT_FDCWD, p, 0)
WRITE1(unlinkat, (int fd, const char *p, int fl), (fd, p, fl),
       (fl & AT_REMOVEDIR) ? CORDON_TRACE_RMDIR : CORDON_TRACE_UNLINK, fd, p, 0)
WRITE1(rmdir, (const char *p), (p), CORDON_TRACE_RMDIR, AT_FDCWD, p, 0)
WRITE1(mkdir, (const char *p, mode_t m), (p, m), CORDON_TRACE_MKDIR, AT_FDCWD, p, m)
WRITE1(mkdirat, (int fd, const char *p, mode_t m), (fd, p, m), CORDON_TRACE_MKDIR, fd, p, m)
WRITE1(truncate, (const char *p, off_t len), (p, len), CORDON_TRACE_TRUNCATE, AT_FDCWD, p, 0)
WRITE1(truncate64, (const char *p, off64_t len), (p, len), CORDON_TRACE_TRUNCATE, AT_FDCWD, p, 0)
WRITE1(chmod, (const char *p, mode_t m), (p, m), CORDON_TRACE_CHMOD, AT_FDCWD, p, m)
WRITE1(fchmodat, (int fd, const char *p, mode_t m, int fl), (fd, p, m, fl), CORDON_TRACE_CHMOD, fd,
       p, m)
WRITE1(utime, (const char *p, const struct utimbuf *t), (p, t), CORDON_TRACE_UTIME, AT_FDCWD, p, 0)
WRITE1(utimes, (const char *p, const struct timeval t[2]), (p, t), CORDON_TRACE_UTIME, AT_FDCWD, p,
       0)
WRITE1(lutimes, (const char *p, const struct timeval t[2]), (p, t), CORDON_TRACE_UTIME, AT_FDCWD, p,
       1)

WRITE2(rename, (const char *a, const char *b), (a, b), CORDON_TRACE_RENAME, AT_FDCWD, a, AT_FDCWD,
       b, 0)
WRITE2(renameat, (int fa, const char *a, int fb, const char *b), (fa, a, fb, b),
       CORDON_TRACE_RENAME, fa, a, fb, b, 0)
WRITE2(renameat2, (int fa, const char *a, int fb, const char *b, unsigned fl), (fa, a, fb, b, fl),
       CORDON_TRACE_RENAME, fa, a, fb, b, fl)
WRITE2(link, (const char *a, const char *b), (a, b), CORDON_TRACE_LINK, AT_FDCWD, a, AT_FDCWD, b, 0)
WRITE2(linkat, (int fa, const char *a, int fb, const char *b, int fl), (fa, a, fb, b, fl),
       CORDON_TRACE_LINK, fa, a, fb, b, fl)

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
    int r = real(dirfd, path, t, flags);
    int err = errno;
    utime_event(dirfd, path, r, err, flags & AT_SYMLINK_NOFOLLOW);
    errno = err;
    return r;
}

HOOK_EXPORT int futimesat(int dirfd, const char *path, const struct timeval t[2]) {
    __typeof__(&futimesat) real = REAL(futimesat);
    if (!real)
        return errno = ENOSYS, -1;
    int r = real(dirfd, path, t);
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
    int r = real(text, path);
    int err = errno;
    symlink_event(text, AT_FDCWD, path, r, err);
    errno = err;
    return r;
}

HOOK_EXPORT int symlinkat(const char *text, int dirfd, const char *path) {
    __typeof__(&symlinkat) real = REAL(symlinkat);
    if (!real)
        return errno = ENOSYS, -1;
    int r = real(text, dirfd, path);
    int err = errno;
    symlink_event(text, dirfd, path, r, err);
    errno = err;
    return r;
}
