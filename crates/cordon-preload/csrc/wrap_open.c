/* open, openat, creat, fopen, freopen and their 64-bit and fortified names. */
#include "shim.h"

#include <stdarg.h>
#include <string.h>

int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

/* What an open with these flags does to the file system. O_TMPFILE creates
 * an unnamed file in the directory; O_CREAT|O_EXCL never follows the last
 * link (open(2)). */
static int open_flags(int flags) {
    int f = 0;
    if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC))
        f |= CP_WRITE | CP_DATA;
    if ((flags & __O_TMPFILE) == __O_TMPFILE)
        f |= CP_WRITE;
    else if (flags & O_CREAT)
        f |= CP_CREATE;
    if ((flags & O_NOFOLLOW) || (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
        f |= CP_NOFOLLOW;
    return f;
}

static int do_openat(int dirfd, const char *path, int flags, mode_t mode) {
    CP_ENTER();
    int saved = errno;
    struct cp_path p;
    int e = cp_resolve(dirfd, path, open_flags(flags), &p);
    CP_CHECK(e, saved, -1);
    return cp_real.openat(p.dirfd, p.path, flags, mode);
}

/* open's mode argument exists only when O_CREAT or O_TMPFILE asks for it. */
#define MODE_ARG(flags, mode)                                                  \
    mode_t mode = 0;                                                           \
    if (__OPEN_NEEDS_MODE(flags)) {                                            \
        va_list ap;                                                            \
        va_start(ap, flags);                                                   \
        mode = va_arg(ap, mode_t);                                             \
        va_end(ap);                                                            \
    }

export int open(const char *path, int flags, ...) {
    MODE_ARG(flags, mode);
    return do_openat(AT_FDCWD, path, flags, mode);
}

export int open64(const char *path, int flags, ...) {
    MODE_ARG(flags, mode);
    return do_openat(AT_FDCWD, path, flags, mode);
}

export int openat(int dirfd, const char *path, int flags, ...) {
    MODE_ARG(flags, mode);
    return do_openat(dirfd, path, flags, mode);
}

export int openat64(int dirfd, const char *path, int flags, ...) {
    MODE_ARG(flags, mode);
    return do_openat(dirfd, path, flags, mode);
}

export int __open_2(const char *path, int flags) {
    return do_openat(AT_FDCWD, path, flags, 0);
}

export int __open64_2(const char *path, int flags) {
    return do_openat(AT_FDCWD, path, flags, 0);
}

export int __openat_2(int dirfd, const char *path, int flags) {
    return do_openat(dirfd, path, flags, 0);
}

export int __openat64_2(int dirfd, const char *path, int flags) {
    return do_openat(dirfd, path, flags, 0);
}

export int creat(const char *path, mode_t mode) {
    return do_openat(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

export int creat64(const char *path, mode_t mode) {
    return do_openat(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

/* fopen's mode string as open flags: "r", "w", "a", "+", "x" (glibc). */
static int fopen_flags(const char *mode) {
    int f = 0;
    if (!mode)
        return 0;
    switch (mode[0]) {
    case 'w':
        f = O_WRONLY | O_CREAT | O_TRUNC;
        break;
    case 'a':
        f = O_WRONLY | O_CREAT;
        break;
    default:
        f = O_RDONLY;
    }
    if (strchr(mode, '+'))
        f = (f & ~O_ACCMODE) | O_RDWR;
    if (f & O_CREAT && strchr(mode, 'x'))
        f |= O_EXCL;
    return f;
}

static FILE *do_fopen(const char *path, const char *mode) {
    CP_ENTER();
    int saved = errno;
    struct cp_path p;
    int e = cp_resolve(AT_FDCWD, path, open_flags(fopen_flags(mode)), &p);
    CP_CHECK(e, saved, 0);
    return cp_real.fopen(p.path, mode);
}

export FILE *fopen(const char *path, const char *mode) {
    return do_fopen(path, mode);
}

export FILE *fopen64(const char *path, const char *mode) {
    return do_fopen(path, mode);
}

static FILE *do_freopen(const char *path, const char *mode, FILE *f) {
    CP_ENTER();
    if (CP_ISNULL(path))
        return cp_real.freopen(path, mode, f); /* a new mode for the same file */
    int saved = errno;
    struct cp_path p;
    int e = cp_resolve(AT_FDCWD, path, open_flags(fopen_flags(mode)), &p);
    CP_CHECK(e, saved, 0);
    return cp_real.freopen(p.path, mode, f);
}

export FILE *freopen(const char *path, const char *mode, FILE *f) {
    return do_freopen(path, mode, f);
}

export FILE *freopen64(const char *path, const char *mode, FILE *f) {
    return do_freopen(path, mode, f);
}
