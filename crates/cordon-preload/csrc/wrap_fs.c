/* Calls that change the file system: mkdir, rmdir, unlink, rename, link,
 * symlink, chmod, chown, truncate, utime(s), utimensat, mkfifo, mknod.
 * Under ro they fail with EROFS; creating a name that exists under ro is
 * left to the real call, which says EEXIST as the kernel would. */
#include "shim.h"

#include <sys/sysmacros.h>

int __xmknod(int ver, const char *path, mode_t mode, dev_t *dev);
int __xmknodat(int ver, int dirfd, const char *path, mode_t mode, dev_t *dev);

#define NEW (CP_CREATE | CP_NOFOLLOW)   /* creates the last component */
#define GONE (CP_WRITE | CP_NOFOLLOW)   /* removes or renames it */
#define META(flags) (CP_WRITE | ((flags) & AT_SYMLINK_NOFOLLOW ? CP_NOFOLLOW : 0))

/* One path: resolve, fail, or call `call` with (dirfd, path). */
#define ONE(dirfd, path, cpflags, call)                                        \
    do {                                                                       \
        CP_ENTER();                                                            \
        int saved = errno;                                                     \
        struct cp_path p;                                                      \
        int e = cp_resolve((dirfd), (path), (cpflags), &p);                    \
        CP_CHECK(e, saved, -1);                                                \
        return call;                                                           \
    } while (0)

/* Two paths, both resolved before either is touched. */
#define TWO(d1, p1, f1, d2, p2, f2, call)                                      \
    do {                                                                       \
        CP_ENTER();                                                            \
        int saved = errno;                                                     \
        struct cp_path a, b;                                                   \
        int e = cp_resolve((d1), (p1), (f1), &a);                              \
        if (!e)                                                                \
            e = cp_resolve((d2), (p2), (f2), &b);                              \
        CP_CHECK(e, saved, -1);                                                \
        return call;                                                           \
    } while (0)

export int mkdirat(int dirfd, const char *path, mode_t mode) {
    ONE(dirfd, path, NEW, cp_real.mkdirat(p.dirfd, p.path, mode));
}

export int mkdir(const char *path, mode_t mode) {
    ONE(AT_FDCWD, path, NEW, cp_real.mkdirat(p.dirfd, p.path, mode));
}

export int rmdir(const char *path) {
    ONE(AT_FDCWD, path, GONE, cp_real.rmdir(p.path));
}

export int unlinkat(int dirfd, const char *path, int flags) {
    ONE(dirfd, path, GONE, cp_real.unlinkat(p.dirfd, p.path, flags));
}

export int unlink(const char *path) {
    ONE(AT_FDCWD, path, GONE, cp_real.unlinkat(p.dirfd, p.path, 0));
}

export int renameat2(int d1, const char *p1, int d2, const char *p2,
                     unsigned flags) {
    TWO(d1, p1, GONE, d2, p2, GONE,
        cp_real.renameat2(a.dirfd, a.path, b.dirfd, b.path, flags));
}

export int renameat(int d1, const char *p1, int d2, const char *p2) {
    TWO(d1, p1, GONE, d2, p2, GONE,
        cp_real.renameat2(a.dirfd, a.path, b.dirfd, b.path, 0));
}

export int rename(const char *p1, const char *p2) {
    TWO(AT_FDCWD, p1, GONE, AT_FDCWD, p2, GONE,
        cp_real.renameat2(a.dirfd, a.path, b.dirfd, b.path, 0));
}

/* The source of a hard link must be visible (or a link in a writable
 * directory would reach a hidden file); only the new name is written. */
export int linkat(int d1, const char *p1, int d2, const char *p2, int flags) {
    if (CP_FD_ONLY(p1, flags)) {
        ONE(d2, p2, NEW, cp_real.linkat(d1, p1, p.dirfd, p.path, flags));
    }
    TWO(d1, p1, flags & AT_SYMLINK_FOLLOW ? 0 : CP_NOFOLLOW, d2, p2, NEW,
        cp_real.linkat(a.dirfd, a.path, b.dirfd, b.path, flags));
}

export int link(const char *p1, const char *p2) {
    TWO(AT_FDCWD, p1, CP_NOFOLLOW, AT_FDCWD, p2, NEW,
        cp_real.linkat(a.dirfd, a.path, b.dirfd, b.path, 0));
}

/* A symlink's target is text in the program's terms: stored as given, and
 * resolved through the rules whenever it is followed. */
export int symlinkat(const char *target, int dirfd, const char *path) {
    ONE(dirfd, path, NEW, cp_real.symlinkat(target, p.dirfd, p.path));
}

export int symlink(const char *target, const char *path) {
    ONE(AT_FDCWD, path, NEW, cp_real.symlinkat(target, p.dirfd, p.path));
}

export int fchmodat(int dirfd, const char *path, mode_t mode, int flags) {
    ONE(dirfd, path, META(flags), cp_real.fchmodat(p.dirfd, p.path, mode, flags));
}

export int chmod(const char *path, mode_t mode) {
    ONE(AT_FDCWD, path, CP_WRITE, cp_real.fchmodat(p.dirfd, p.path, mode, 0));
}

export int fchownat(int dirfd, const char *path, uid_t u, gid_t g, int flags) {
    if (CP_FD_ONLY(path, flags)) {
        CP_ENTER();
        return cp_real.fchownat(dirfd, path, u, g, flags);
    }
    ONE(dirfd, path, META(flags), cp_real.fchownat(p.dirfd, p.path, u, g, flags));
}

export int chown(const char *path, uid_t u, gid_t g) {
    ONE(AT_FDCWD, path, CP_WRITE, cp_real.fchownat(p.dirfd, p.path, u, g, 0));
}

export int lchown(const char *path, uid_t u, gid_t g) {
    ONE(AT_FDCWD, path, CP_WRITE | CP_NOFOLLOW,
        cp_real.fchownat(p.dirfd, p.path, u, g, AT_SYMLINK_NOFOLLOW));
}

export int truncate(const char *path, off_t len) {
    ONE(AT_FDCWD, path, CP_WRITE, cp_real.truncate(p.path, len));
}

export int truncate64(const char *path, off64_t len) {
    ONE(AT_FDCWD, path, CP_WRITE, cp_real.truncate(p.path, len));
}

export int utime(const char *path, const struct utimbuf *t) {
    ONE(AT_FDCWD, path, CP_WRITE, cp_real.utime(p.path, t));
}

export int utimes(const char *path, const struct timeval t[2]) {
    ONE(AT_FDCWD, path, CP_WRITE, cp_real.utimes(p.path, t));
}

export int utimensat(int dirfd, const char *path, const struct timespec t[2],
                     int flags) {
    if (CP_ISNULL(path)) { /* futimens(dirfd, t) */
        CP_ENTER();
        return cp_real.utimensat(dirfd, path, t, flags);
    }
    ONE(dirfd, path, META(flags), cp_real.utimensat(p.dirfd, p.path, t, flags));
}

export int mknodat(int dirfd, const char *path, mode_t mode, dev_t dev) {
    ONE(dirfd, path, NEW, cp_real.mknodat(p.dirfd, p.path, mode, dev));
}

export int mknod(const char *path, mode_t mode, dev_t dev) {
    ONE(AT_FDCWD, path, NEW, cp_real.mknodat(p.dirfd, p.path, mode, dev));
}

export int mkfifoat(int dirfd, const char *path, mode_t mode) {
    ONE(dirfd, path, NEW, cp_real.mknodat(p.dirfd, p.path, mode | S_IFIFO, 0));
}

export int mkfifo(const char *path, mode_t mode) {
    ONE(AT_FDCWD, path, NEW, cp_real.mknodat(p.dirfd, p.path, mode | S_IFIFO, 0));
}

export int __xmknod(int ver, const char *path, mode_t mode, dev_t *dev) {
    (void)ver;
    ONE(AT_FDCWD, path, NEW, cp_real.mknodat(p.dirfd, p.path, mode, *dev));
}

export int __xmknodat(int ver, int dirfd, const char *path, mode_t mode,
                      dev_t *dev) {
    (void)ver;
    ONE(dirfd, path, NEW, cp_real.mknodat(p.dirfd, p.path, mode, *dev));
}
