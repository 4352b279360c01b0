/* The stat family (stat, lstat, fstatat, the glibc < 2.33 __xstat forms
 * that old binaries still call, statx), access/faccessat/euidaccess,
 * readlink/readlinkat, realpath/canonicalize_file_name. STAT records (arg 1
 * when the last link was not followed) carry the stat fields the call
 * returned; READLINK carries the link's text. */
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "hook.h"

static int enosys(void) {
    errno = ENOSYS;
    return -1;
}

static void stat_event(int dirfd, const char *path, int r, int err, int nofollow,
                       const struct stat *sb) {
    hook_path_event(CORDON_TRACE_STAT, dirfd, path, r < 0 ? err : 0, nofollow ? 1 : 0,
                    r < 0 ? NULL : sb, true);
}

/* fstatat(fd, "", AT_EMPTY_PATH) is an fstat: no path to record. */
static bool fd_only(const char *path, int flags) {
    return (flags & AT_EMPTY_PATH) && !hook_isnull(path) && !path[0];
}

/* A look at a path (stat, readlink): hidden is ENOENT, denied is there. A
 * refusal is recorded as the failure the program saw. */
static int look(int *dirfd, const char **path, bool nofollow, struct hook_resolved *res) {
    int d0 = *dirfd;
    const char *p0 = *path;
    int e = hook_check(dirfd, path, HOOK_ENF_LOOK | (nofollow ? HOOK_ENF_NOFOLLOW : 0), res);
    if (e)
        stat_event(d0, p0, -1, e, nofollow, NULL);
    return e;
}

/* access(mode): F_OK only looks; R_OK/X_OK of a denied path is EACCES;
 * W_OK under ro is EROFS, as access(2) says on a read-only mount. */
static int access_flags(int mode) {
    int f = mode == F_OK ? HOOK_ENF_LOOK : 0;
    if (mode & W_OK)
        f |= HOOK_ENF_WRITE | HOOK_ENF_DATA;
    return f;
}

#define STAT_PATH(name, type, nofollow)                                                            \
    HOOK_EXPORT int name(const char *path, type *buf) {                                            \
        __typeof__(&name) real = REAL(name);                                                       \
        if (!real)                                                                                 \
            return enosys();                                                                       \
        struct hook_resolved res;                                                                  \
        int d = AT_FDCWD;                                                                          \
        const char *p = path;                                                                      \
        int e = look(&d, &p, nofollow, &res);                                                      \
        if (e)                                                                                     \
            return errno = e, -1;                                                                  \
        int r = real(p, buf);                                                                      \
        int err = errno;                                                                           \
        stat_event(AT_FDCWD, path, r, err, nofollow, (const struct stat *)buf);                    \
        errno = err;                                                                               \
        return r;                                                                                  \
    }
STAT_PATH(stat, struct stat, 0)
STAT_PATH(stat64, struct stat64, 0)
STAT_PATH(lstat, struct stat, 1)
STAT_PATH(lstat64, struct stat64, 1)

#define STAT_AT(name, type)                                                                        \
    HOOK_EXPORT int name(int dirfd, const char *path, type *buf, int flags) {                      \
        __typeof__(&name) real = REAL(name);                                                       \
        if (!real)                                                                                 \
            return enosys();                                                                       \
        struct hook_resolved res;                                                                  \
        int d = dirfd;                                                                             \
        const char *p = path;                                                                      \
        int e = fd_only(path, flags) ? 0 : look(&d, &p, flags & AT_SYMLINK_NOFOLLOW, &res);        \
        if (e)                                                                                     \
            return errno = e, -1;                                                                  \
        int r = real(d, p, buf, flags);                                                            \
        int err = errno;                                                                           \
        if (!fd_only(path, flags))                                                                 \
            stat_event(dirfd, path, r, err, flags &AT_SYMLINK_NOFOLLOW, (const struct stat *)buf); \
        errno = err;                                                                               \
        return r;                                                                                  \
    }
STAT_AT(fstatat, struct stat)
STAT_AT(fstatat64, struct stat64)

/* glibc < 2.33 compiled stat() into __xstat(_STAT_VER, ...). */
#define XSTAT(name, type, nofollow)                                                                \
    HOOK_EXPORT int name(int ver, const char *path, type *buf) {                                   \
        __typeof__(&name) real = REAL(name);                                                       \
        if (!real)                                                                                 \
            return enosys();                                                                       \
        struct hook_resolved res;                                                                  \
        int d = AT_FDCWD;                                                                          \
        const char *p = path;                                                                      \
        int e = look(&d, &p, nofollow, &res);                                                      \
        if (e)                                                                                     \
            return errno = e, -1;                                                                  \
        int r = real(ver, p, buf);                                                                 \
        int err = errno;                                                                           \
        stat_event(AT_FDCWD, path, r, err, nofollow, (const struct stat *)buf);                    \
        errno = err;                                                                               \
        return r;                                                                                  \
    }
XSTAT(__xstat, struct stat, 0)
XSTAT(__xstat64, struct stat64, 0)
XSTAT(__lxstat, struct stat, 1)
XSTAT(__lxstat64, struct stat64, 1)

#define FXSTATAT(name, type)                                                                       \
    HOOK_EXPORT int name(int ver, int dirfd, const char *path, type *buf, int flags) {             \
        __typeof__(&name) real = REAL(name);                                                       \
        if (!real)                                                                                 \
            return enosys();                                                                       \
        struct hook_resolved res;                                                                  \
        int d = dirfd;                                                                             \
        const char *p = path;                                                                      \
        int e = fd_only(path, flags) ? 0 : look(&d, &p, flags & AT_SYMLINK_NOFOLLOW, &res);        \
        if (e)                                                                                     \
            return errno = e, -1;                                                                  \
        int r = real(ver, d, p, buf, flags);                                                       \
        int err = errno;                                                                           \
        if (!fd_only(path, flags))                                                                 \
            stat_event(dirfd, path, r, err, flags &AT_SYMLINK_NOFOLLOW, (const struct stat *)buf); \
        errno = err;                                                                               \
        return r;                                                                                  \
    }
FXSTATAT(__fxstatat, struct stat)
FXSTATAT(__fxstatat64, struct stat64)

HOOK_EXPORT int statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *buf) {
    __typeof__(&statx) real = REAL(statx);
    if (!real)
        return enosys();
    struct hook_resolved res;
    int d = dirfd;
    const char *p = path;
    int e = fd_only(path, flags) ? 0 : look(&d, &p, flags & AT_SYMLINK_NOFOLLOW, &res);
    if (e)
        return errno = e, -1;
    int r = real(d, p, flags, mask, buf);
    int err = errno;
    if (!fd_only(path, flags)) {
        struct stat sb;
        memset(&sb, 0, sizeof sb);
        if (r == 0) {
            sb.st_mode = buf->stx_mode;
            sb.st_dev = makedev(buf->stx_dev_major, buf->stx_dev_minor);
            sb.st_ino = buf->stx_ino;
            sb.st_size = (off_t)buf->stx_size;
            sb.st_mtim.tv_sec = buf->stx_mtime.tv_sec;
            sb.st_mtim.tv_nsec = buf->stx_mtime.tv_nsec;
        }
        stat_event(dirfd, path, r, err, flags & AT_SYMLINK_NOFOLLOW, &sb);
    }
    errno = err;
    return r;
}

/* access probes: STAT records without stat fields. */
HOOK_EXPORT int access(const char *path, int mode) {
    __typeof__(&access) real = REAL(access);
    if (!real)
        return enosys();
    struct hook_resolved res;
    int d = AT_FDCWD;
    const char *p = path;
    int e = hook_check(&d, &p, access_flags(mode), &res);
    if (e) {
        stat_event(AT_FDCWD, path, -1, e, 0, NULL);
        return errno = e, -1;
    }
    int r = real(p, mode);
    int err = errno;
    stat_event(AT_FDCWD, path, r, err, 0, NULL);
    errno = err;
    return r;
}

HOOK_EXPORT int faccessat(int dirfd, const char *path, int mode, int flags) {
    __typeof__(&faccessat) real = REAL(faccessat);
    if (!real)
        return enosys();
    struct hook_resolved res;
    int d = dirfd;
    const char *p = path;
    int e =
        fd_only(path, flags)
            ? 0
            : hook_check(&d, &p,
                         access_flags(mode) | (flags & AT_SYMLINK_NOFOLLOW ? HOOK_ENF_NOFOLLOW : 0),
                         &res);
    if (e) {
        stat_event(dirfd, path, -1, e, flags & AT_SYMLINK_NOFOLLOW, NULL);
        return errno = e, -1;
    }
    int r = real(d, p, mode, flags);
    int err = errno;
    if (!fd_only(path, flags))
        stat_event(dirfd, path, r, err, flags & AT_SYMLINK_NOFOLLOW, NULL);
    errno = err;
    return r;
}

#define EUIDACCESS(name)                                                                           \
    HOOK_EXPORT int name(const char *path, int mode) {                                             \
        __typeof__(&name) real = REAL(name);                                                       \
        if (!real)                                                                                 \
            return enosys();                                                                       \
        struct hook_resolved res;                                                                  \
        int d = AT_FDCWD;                                                                          \
        const char *p = path;                                                                      \
        int e = hook_check(&d, &p, access_flags(mode), &res);                                      \
        if (e)                                                                                     \
            return errno = e, -1;                                                                  \
        int r = real(p, mode);                                                                     \
        int err = errno;                                                                           \
        stat_event(AT_FDCWD, path, r, err, 0, NULL);                                               \
        errno = err;                                                                               \
        return r;                                                                                  \
    }
EUIDACCESS(euidaccess)
EUIDACCESS(eaccess)

static void readlink_event(int dirfd, const char *path, const char *buf, ssize_t r, int err) {
    if (!hook_active())
        return;
    struct hook_rec rec;
    char abs[PATH_MAX];
    hook_rec_init(&rec, CORDON_TRACE_READLINK, r < 0 ? err : 0, 0);
    size_t n = hook_abs(dirfd, path, abs);
    if (!n || hook_seen(&rec, abs, n))
        return;
    hook_emit(&rec, abs, n, r < 0 ? NULL : buf, r < 0 ? 0 : (size_t)r);
}

HOOK_EXPORT ssize_t readlink(const char *path, char *buf, size_t size) {
    __typeof__(&readlink) real = REAL(readlink);
    if (!real)
        return enosys();
    struct hook_resolved res;
    int d = AT_FDCWD;
    const char *p = path;
    int e = hook_check(&d, &p, HOOK_ENF_LOOK | HOOK_ENF_NOFOLLOW, &res);
    if (e) {
        readlink_event(AT_FDCWD, path, NULL, -1, e);
        return errno = e, -1;
    }
    ssize_t r = real(p, buf, size);
    int err = errno;
    readlink_event(AT_FDCWD, path, buf, r, err);
    errno = err;
    return r;
}

HOOK_EXPORT ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t size) {
    __typeof__(&readlinkat) real = REAL(readlinkat);
    if (!real)
        return enosys();
    struct hook_resolved res;
    int d = dirfd;
    const char *p = path;
    /* readlinkat(fd, "") reads the link open as fd (O_PATH|O_NOFOLLOW) */
    int e = !hook_isnull(path) && !path[0]
                ? 0
                : hook_check(&d, &p, HOOK_ENF_LOOK | HOOK_ENF_NOFOLLOW, &res);
    if (e) {
        readlink_event(dirfd, path, NULL, -1, e);
        return errno = e, -1;
    }
    ssize_t r = real(d, p, buf, size);
    int err = errno;
    readlink_event(dirfd, path, buf, r, err);
    errno = err;
    return r;
}

/* realpath's own lstats and readlinks happen inside libc: record the
 * argument (found or not) and the path it resolved to. */
static void realpath_event(const char *path, const char *res, int err) {
    if (!hook_active() || hook_isnull(path))
        return;
    hook_path_event(CORDON_TRACE_STAT, AT_FDCWD, path, res ? 0 : err, 0, NULL, true);
    if (res && res[0] == '/')
        hook_path_event(CORDON_TRACE_STAT, AT_FDCWD, res, 0, 0, NULL, true);
}

/* realpath's lstats and readlinks are libc's own: the policy decides on the
 * whole path first (a hidden one is ENOENT), then libc resolves it. */
static int realpath_check(const char *path) {
    struct hook_resolved res;
    int d = AT_FDCWD;
    const char *p = path;
    if (hook_isnull(path))
        return 0;
    int e = hook_check(&d, &p, HOOK_ENF_LOOK, &res);
    if (e)
        realpath_event(path, NULL, e);
    return e;
}

HOOK_EXPORT char *realpath(const char *path, char *resolved) {
    __typeof__(&realpath) real = REAL(realpath);
    if (!real)
        return errno = ENOSYS, NULL;
    int e = realpath_check(path);
    if (e)
        return errno = e, NULL;
    char *r = real(path, resolved);
    int err = errno;
    realpath_event(path, r, err);
    errno = err;
    return r;
}

HOOK_EXPORT char *canonicalize_file_name(const char *path) {
    __typeof__(&canonicalize_file_name) real = REAL(canonicalize_file_name);
    if (!real)
        return errno = ENOSYS, NULL;
    int e = realpath_check(path);
    if (e)
        return errno = e, NULL;
    char *r = real(path);
    int err = errno;
    realpath_event(path, r, err);
    errno = err;
    return r;
}
