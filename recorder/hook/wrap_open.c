/* The open family: open, openat, creat, their *64 and _FORTIFY_SOURCE
 * (__open_2 ...) forms, fopen/freopen, and the mkstemp family (whose
 * opens happen inside libc, out of our sight). One OPEN record each, with
 * the open(2) flags and, on success, fstat(fd) of what was opened. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hook.h"

/* The flags that tell a read from a write or a directory listing: the rest
 * (O_CLOEXEC, O_NOCTTY ...) would only defeat de-duplication. */
#define KEY_FLAGS (O_ACCMODE | O_CREAT | O_TRUNC | O_EXCL | O_APPEND | O_DIRECTORY | O_NOFOLLOW)

static void open_event(int dirfd, const char *path, int flags, int fd, int err) {
    if (!hook_active())
        return;
    struct hook_rec r;
    char abs[PATH_MAX];
    hook_rec_init(&r, CORDON_TRACE_OPEN, fd < 0 ? err : 0, (uint32_t)(flags & KEY_FLAGS));
    size_t n = hook_abs(dirfd, path, abs);
    if (!n)
        return;
    if (hook_seen(&r, abs, n))
        return;
    r.h.arg = (uint32_t)flags;
    if (fd >= 0)
        hook_rec_fstat(&r, fd);
    hook_emit(&r, abs, n, NULL, 0);
}

static int enosys(void) {
    errno = ENOSYS;
    return -1;
}

/* The policy refused the open: recorded as the failure the program saw. */
static int refused(int dirfd, const char *path, int flags, int err) {
    open_event(dirfd, path, flags, -1, err);
    errno = err;
    return -1;
}

/* One body for every int-returning form: the real function is called with
 * the mode only when the flags say it is there. */
#define OPEN_AT(real, dirfd, path, flags, mode)                                                    \
    do {                                                                                           \
        if (!(real))                                                                               \
            return enosys();                                                                       \
        struct hook_resolved res_;                                                                 \
        int d_ = (dirfd);                                                                          \
        const char *p_ = (path);                                                                   \
        int e_ = hook_check(&d_, &p_, hook_enforce_open_flags(flags), &res_);                      \
        if (e_)                                                                                    \
            return refused(dirfd, path, flags, e_);                                                \
        int fd_ = (real)(d_, p_, flags, mode);                                                     \
        int err_ = errno;                                                                          \
        open_event(dirfd, path, flags, fd_, err_);                                                 \
        errno = err_;                                                                              \
        return fd_;                                                                                \
    } while (0)

#define GET_MODE(flags, last, mode)                                                                \
    do {                                                                                           \
        if (NEEDS_MODE(flags)) {                                                                   \
            va_list ap;                                                                            \
            va_start(ap, last);                                                                    \
            mode = va_arg(ap, mode_t);                                                             \
            va_end(ap);                                                                            \
        }                                                                                          \
    } while (0)

HOOK_EXPORT int open(const char *path, int flags, ...) {
    mode_t mode = 0;
    GET_MODE(flags, flags, mode);
    __typeof__(&open) real = REAL(open);
    if (!real)
        return enosys();
    struct hook_resolved res;
    int d = AT_FDCWD;
    const char *p = path;
    int e = hook_check(&d, &p, hook_enforce_open_flags(flags), &res);
    if (e)
        return refused(AT_FDCWD, path, flags, e);
    int fd = real(p, flags, mode);
    int err = errno;
    open_event(AT_FDCWD, path, flags, fd, err);
    errno = err;
    return fd;
}

HOOK_EXPORT int open64(const char *path, int flags, ...) {
    mode_t mode = 0;
    GET_MODE(flags, flags, mode);
    __typeof__(&open64) real = REAL(open64);
    if (!real)
        return enosys();
    struct hook_resolved res;
    int d = AT_FDCWD;
    const char *p = path;
    int e = hook_check(&d, &p, hook_enforce_open_flags(flags), &res);
    if (e)
        return refused(AT_FDCWD, path, flags, e);
    int fd = real(p, flags, mode);
    int err = errno;
    open_event(AT_FDCWD, path, flags, fd, err);
    errno = err;
    return fd;
}

HOOK_EXPORT int openat(int dirfd, const char *path, int flags, ...) {
    mode_t mode = 0;
    GET_MODE(flags, flags, mode);
    OPEN_AT(REAL(openat), dirfd, path, flags, mode);
}

HOOK_EXPORT int openat64(int dirfd, const char *path, int flags, ...) {
    mode_t mode = 0;
    GET_MODE(flags, flags, mode);
    OPEN_AT(REAL(openat64), dirfd, path, flags, mode);
}

HOOK_EXPORT int creat(const char *path, mode_t mode) {
    __typeof__(&creat) real = REAL(creat);
    if (!real)
        return enosys();
    struct hook_resolved res;
    int d = AT_FDCWD;
    const char *p = path;
    int e = hook_check(&d, &p, hook_enforce_open_flags(O_CREAT | O_WRONLY | O_TRUNC), &res);
    if (e)
        return refused(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, e);
    int fd = real(p, mode);
    int err = errno;
    open_event(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, fd, err);
    errno = err;
    return fd;
}

HOOK_EXPORT int creat64(const char *path, mode_t mode) {
    __typeof__(&creat64) real = REAL(creat64);
    if (!real)
        return enosys();
    struct hook_resolved res;
    int d = AT_FDCWD;
    const char *p = path;
    int e = hook_check(&d, &p, hook_enforce_open_flags(O_CREAT | O_WRONLY | O_TRUNC), &res);
    if (e)
        return refused(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, e);
    int fd = real(p, mode);
    int err = errno;
    open_event(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, fd, err);
    errno = err;
    return fd;
}

/* _FORTIFY_SOURCE forms: open(path, flags) without a mode. */
#define FORTIFY(name)                                                                              \
    HOOK_EXPORT int name(const char *path, int flags) {                                            \
        __typeof__(&name) real = REAL(name);                                                       \
        if (!real)                                                                                 \
            return enosys();                                                                       \
        struct hook_resolved res;                                                                  \
        int d = AT_FDCWD;                                                                          \
        const char *p = path;                                                                      \
        int e = hook_check(&d, &p, hook_enforce_open_flags(flags), &res);                          \
        if (e)                                                                                     \
            return refused(AT_FDCWD, path, flags, e);                                              \
        int fd = real(p, flags);                                                                   \
        int err = errno;                                                                           \
        open_event(AT_FDCWD, path, flags, fd, err);                                                \
        errno = err;                                                                               \
        return fd;                                                                                 \
    }
#define FORTIFY_AT(name)                                                                           \
    HOOK_EXPORT int name(int dirfd, const char *path, int flags) {                                 \
        __typeof__(&name) real = REAL(name);                                                       \
        if (!real)                                                                                 \
            return enosys();                                                                       \
        struct hook_resolved res;                                                                  \
        int d = dirfd;                                                                             \
        const char *p = path;                                                                      \
        int e = hook_check(&d, &p, hook_enforce_open_flags(flags), &res);                          \
        if (e)                                                                                     \
            return refused(dirfd, path, flags, e);                                                 \
        int fd = real(d, p, flags);                                                                \
        int err = errno;                                                                           \
        open_event(dirfd, path, flags, fd, err);                                                   \
        errno = err;                                                                               \
        return fd;                                                                                 \
    }
FORTIFY(__open_2)
FORTIFY(__open64_2)
FORTIFY_AT(__openat_2)
FORTIFY_AT(__openat64_2)

/* fopen's mode string as open(2) flags, the way glibc reads it. */
int hook_fopen_flags(const char *mode) {
    int acc, extra;
    if (hook_isnull(mode))
        return O_RDONLY;
    switch (mode[0]) {
    case 'r':
        acc = O_RDONLY, extra = 0;
        break;
    case 'w':
        acc = O_WRONLY, extra = O_CREAT | O_TRUNC;
        break;
    case 'a':
        acc = O_WRONLY, extra = O_CREAT | O_APPEND;
        break;
    default:
        return O_RDONLY;
    }
    for (const char *m = mode + 1; *m && *m != ','; m++) {
        if (*m == '+')
            acc = O_RDWR;
        else if (*m == 'x')
            extra |= O_EXCL;
        else if (*m == 'e')
            extra |= O_CLOEXEC;
    }
    return acc | extra;
}

static void fopen_event(const char *path, const char *mode, FILE *f, int err) {
    open_event(AT_FDCWD, path, hook_fopen_flags(mode), f ? fileno_unlocked(f) : -1, err);
}

/* The policy's word on fopen(path, mode): 0 with *p the path to open. */
static int fopen_check(const char **p, const char *mode, struct hook_resolved *res) {
    int d = AT_FDCWD;
    int e = hook_check(&d, p, hook_enforce_open_flags(hook_fopen_flags(mode)), res);
    if (e)
        fopen_event(*p, mode, NULL, e);
    return e;
}

HOOK_EXPORT FILE *fopen(const char *path, const char *mode) {
    __typeof__(&fopen) real = REAL(fopen);
    if (!real)
        return errno = ENOSYS, NULL;
    struct hook_resolved res;
    const char *p = path;
    int e = fopen_check(&p, mode, &res);
    if (e)
        return errno = e, NULL;
    FILE *f = real(p, mode);
    int err = errno;
    fopen_event(path, mode, f, err);
    errno = err;
    return f;
}

HOOK_EXPORT FILE *fopen64(const char *path, const char *mode) {
    __typeof__(&fopen64) real = REAL(fopen64);
    if (!real)
        return errno = ENOSYS, NULL;
    struct hook_resolved res;
    const char *p = path;
    int e = fopen_check(&p, mode, &res);
    if (e)
        return errno = e, NULL;
    FILE *f = real(p, mode);
    int err = errno;
    fopen_event(path, mode, f, err);
    errno = err;
    return f;
}

/* freopen(NULL, mode, f) changes the mode of the same file: no path. */
HOOK_EXPORT FILE *freopen(const char *path, const char *mode, FILE *stream) {
    __typeof__(&freopen) real = REAL(freopen);
    if (!real)
        return errno = ENOSYS, NULL;
    struct hook_resolved res;
    const char *p = path;
    int e = hook_isnull(path) ? 0 : fopen_check(&p, mode, &res);
    if (e)
        return errno = e, NULL;
    FILE *f = real(p, mode, stream);
    int err = errno;
    if (!hook_isnull(path))
        fopen_event(path, mode, f, err);
    errno = err;
    return f;
}

HOOK_EXPORT FILE *freopen64(const char *path, const char *mode, FILE *stream) {
    __typeof__(&freopen64) real = REAL(freopen64);
    if (!real)
        return errno = ENOSYS, NULL;
    struct hook_resolved res;
    const char *p = path;
    int e = hook_isnull(path) ? 0 : fopen_check(&p, mode, &res);
    if (e)
        return errno = e, NULL;
    FILE *f = real(p, mode, stream);
    int err = errno;
    if (!hook_isnull(path))
        fopen_event(path, mode, f, err);
    errno = err;
    return f;
}

/* mkstemp and friends fill in the template in place, so the policy can
 * only say yes or no: the directory must be writable (a redirected one is
 * not followed: its template names the view). */
static int temp_check(const char *tmpl) {
    struct hook_resolved res;
    int d = AT_FDCWD;
    const char *p = tmpl;
    if (hook_isnull(tmpl))
        return 0;
    return hook_check(&d, &p, HOOK_ENF_CREATE | HOOK_ENF_NOFOLLOW, &res);
}

/* mkstemp and friends fill in the template: record the file they made. */
static void temp_event(char *tmpl, int flags, int fd, int err) {
    if (!hook_isnull(tmpl))
        open_event(AT_FDCWD, tmpl, O_RDWR | O_CREAT | O_EXCL | flags, fd, err);
}

#define MKSTEMP(name, params, args, flags)                                                         \
    HOOK_EXPORT int name params {                                                                  \
        __typeof__(&name) real = REAL(name);                                                       \
        if (!real)                                                                                 \
            return enosys();                                                                       \
        int e = temp_check(tmpl);                                                                  \
        if (e)                                                                                     \
            return errno = e, -1;                                                                  \
        int fd = real args;                                                                        \
        int err = errno;                                                                           \
        temp_event(tmpl, flags, fd, err);                                                          \
        errno = err;                                                                               \
        return fd;                                                                                 \
    }
MKSTEMP(mkstemp, (char *tmpl), (tmpl), 0)
MKSTEMP(mkstemp64, (char *tmpl), (tmpl), 0)
MKSTEMP(mkostemp, (char *tmpl, int fl), (tmpl, fl), fl)
MKSTEMP(mkostemp64, (char *tmpl, int fl), (tmpl, fl), fl)
MKSTEMP(mkstemps, (char *tmpl, int sfx), (tmpl, sfx), 0)
MKSTEMP(mkstemps64, (char *tmpl, int sfx), (tmpl, sfx), 0)
MKSTEMP(mkostemps, (char *tmpl, int sfx, int fl), (tmpl, sfx, fl), fl)
MKSTEMP(mkostemps64, (char *tmpl, int sfx, int fl), (tmpl, sfx, fl), fl)

HOOK_EXPORT char *mkdtemp(char *tmpl) {
    __typeof__(&mkdtemp) real = REAL(mkdtemp);
    if (!real)
        return errno = ENOSYS, NULL;
    int e = temp_check(tmpl);
    if (e)
        return errno = e, NULL;
    char *d = real(tmpl);
    int err = errno;
    if (!hook_isnull(tmpl))
        hook_path_event(CORDON_TRACE_MKDIR, AT_FDCWD, tmpl, d ? 0 : err, 0700, NULL, false);
    errno = err;
    return d;
}
