/* stat, lstat, fstatat, statx, and the __xstat family of glibc < 2.33. */
#include "shim.h"

int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st,
                 int flags);

static int do_fstatat(int dirfd, const char *path, void *st, int flags) {
    CP_ENTER();
    if (CP_FD_ONLY(path, flags))
        return cp_real.fstatat(dirfd, path, st, flags);
    int saved = errno;
    struct cp_path p;
    int e = cp_resolve(dirfd, path, CP_LOOK | (flags & AT_SYMLINK_NOFOLLOW ? CP_NOFOLLOW : 0), &p);
    CP_CHECK(e, saved, -1);
    return cp_real.fstatat(p.dirfd, p.path, st, flags);
}

export int stat(const char *path, struct stat *st) {
    return do_fstatat(AT_FDCWD, path, st, 0);
}

export int stat64(const char *path, struct stat64 *st) {
    return do_fstatat(AT_FDCWD, path, st, 0);
}

export int lstat(const char *path, struct stat *st) {
    return do_fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

export int lstat64(const char *path, struct stat64 *st) {
    return do_fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

export int fstatat(int dirfd, const char *path, struct stat *st, int flags) {
    return do_fstatat(dirfd, path, st, flags);
}

export int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags) {
    return do_fstatat(dirfd, path, st, flags);
}

/* _STAT_VER_LINUX (1 on x86_64, 0 on aarch64's generic ABI) lays out the
 * same struct stat as the plain functions fill in. */
export int __xstat(int ver, const char *path, struct stat *st) {
    (void)ver;
    return do_fstatat(AT_FDCWD, path, st, 0);
}

export int __xstat64(int ver, const char *path, struct stat64 *st) {
    (void)ver;
    return do_fstatat(AT_FDCWD, path, st, 0);
}

export int __lxstat(int ver, const char *path, struct stat *st) {
    (void)ver;
    return do_fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

export int __lxstat64(int ver, const char *path, struct stat64 *st) {
    (void)ver;
    return do_fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

export int __fxstatat(int ver, int dirfd, const char *path, struct stat *st,
                      int flags) {
    (void)ver;
    return do_fstatat(dirfd, path, st, flags);
}

export int __fxstatat64(int ver, int dirfd, const char *path,
                        struct stat64 *st, int flags) {
    (void)ver;
    return do_fstatat(dirfd, path, st, flags);
}

export int statx(int dirfd, const char *path, int flags, unsigned mask,
                 struct statx *stx) {
    CP_ENTER();
    if (CP_FD_ONLY(path, flags))
        return cp_real.statx(dirfd, path, flags, mask, stx);
    int saved = errno;
    struct cp_path p;
    int e = cp_resolve(dirfd, path, CP_LOOK | (flags & AT_SYMLINK_NOFOLLOW ? CP_NOFOLLOW : 0), &p);
    CP_CHECK(e, saved, -1);
    return cp_real.statx(p.dirfd, p.path, flags, mask, stx);
}
