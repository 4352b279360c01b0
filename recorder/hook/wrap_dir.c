/* Directory listings: opendir, fdopendir, scandir(at), nftw/ftw, fts_open.
 * One LIST record for the directory (or each root) named; the entries a
 * walk then visits are seen through the opens and stats it makes. */
#include <fts.h>
#include <ftw.h>
#include <string.h>

#include "hook.h"

static void list_event(int dirfd, const char *path, int err, int fd) {
    struct stat sb;
    bool have = fd >= 0 && hook_sys(SYS_fstat, fd, &sb, 0, 0) == 0;
    hook_path_event(CORDON_TRACE_LIST, dirfd, path, err, 0, have ? &sb : NULL, true);
}

HOOK_EXPORT DIR *opendir(const char *path) {
    __typeof__(&opendir) real = REAL(opendir);
    if (!real)
        return errno = ENOSYS, NULL;
    DIR *d = real(path);
    int err = errno;
    if (hook_active())
        list_event(AT_FDCWD, path, d ? 0 : err, d ? dirfd(d) : -1);
    errno = err;
    return d;
}

/* No path given: the one the descriptor names. */
HOOK_EXPORT DIR *fdopendir(int fd) {
    __typeof__(&fdopendir) real = REAL(fdopendir);
    if (!real)
        return errno = ENOSYS, NULL;
    DIR *d = real(fd);
    int err = errno;
    if (d && hook_active()) {
        char path[PATH_MAX];
        if (hook_fd_path(fd, path))
            list_event(AT_FDCWD, path, 0, fd);
    }
    errno = err;
    return d;
}

#define SCANDIR(name, dirent_t)                                                                    \
    HOOK_EXPORT int name(const char *dir, struct dirent_t ***list,                                 \
                         int (*filter)(const struct dirent_t *),                                   \
                         int (*compar)(const struct dirent_t **, const struct dirent_t **)) {      \
        __typeof__(&name) real = REAL(name);                                                       \
        if (!real)                                                                                 \
            return errno = ENOSYS, -1;                                                             \
        int r = real(dir, list, filter, compar);                                                   \
        int err = errno;                                                                           \
        list_event(AT_FDCWD, dir, r < 0 ? err : 0, -1);                                            \
        errno = err;                                                                               \
        return r;                                                                                  \
    }
SCANDIR(scandir, dirent)
SCANDIR(scandir64, dirent64)

#define SCANDIRAT(name, dirent_t)                                                                  \
    HOOK_EXPORT int name(int dirfd, const char *dir, struct dirent_t ***list,                      \
                         int (*filter)(const struct dirent_t *),                                   \
                         int (*compar)(const struct dirent_t **, const struct dirent_t **)) {      \
        __typeof__(&name) real = REAL(name);                                                       \
        if (!real)                                                                                 \
            return errno = ENOSYS, -1;                                                             \
        int r = real(dirfd, dir, list, filter, compar);                                            \
        int err = errno;                                                                           \
        list_event(dirfd, dir, r < 0 ? err : 0, -1);                                               \
        errno = err;                                                                               \
        return r;                                                                                  \
    }
SCANDIRAT(scandirat, dirent)
SCANDIRAT(scandirat64, dirent64)

/* The root is recorded before the walk: the callback may chdir away, and
 * with FTW_CHDIR nftw itself does (through libc's internal fchdir), so the
 * cached cwd is not trusted until it returns. */
#define NFTW(name, fn_t)                                                                           \
    HOOK_EXPORT int name(const char *dir, fn_t fn, int nopenfd, int flags) {                       \
        __typeof__(&name) real = REAL(name);                                                       \
        if (!real)                                                                                 \
            return errno = ENOSYS, -1;                                                             \
        int saved = errno;                                                                         \
        struct stat sb;                                                                            \
        long s = hook_active()                                                                     \
                     ? hook_sys6(SYS_newfstatat, AT_FDCWD, (long)dir, (long)&sb, 0, 0, 0)          \
                     : 0;                                                                          \
        if (hook_active())                                                                         \
            hook_path_event(CORDON_TRACE_LIST, AT_FDCWD, dir, s < 0 ? (int)-s : 0, 0,              \
                            s < 0 ? NULL : &sb, true);                                             \
        bool chdirs = flags & FTW_CHDIR;                                                           \
        if (chdirs)                                                                                \
            hook_cwd_untrusted(1);                                                                 \
        errno = saved;                                                                             \
        int r = real(dir, fn, nopenfd, flags);                                                     \
        int err = errno;                                                                           \
        if (chdirs)                                                                                \
            hook_cwd_untrusted(-1);                                                                \
        errno = err;                                                                               \
        return r;                                                                                  \
    }
NFTW(nftw, __nftw_func_t)
NFTW(nftw64, __nftw64_func_t)

#define FTW(name, fn_t)                                                                            \
    HOOK_EXPORT int name(const char *dir, fn_t fn, int nopenfd) {                                  \
        __typeof__(&name) real = REAL(name);                                                       \
        if (!real)                                                                                 \
            return errno = ENOSYS, -1;                                                             \
        int r = real(dir, fn, nopenfd);                                                            \
        int err = errno;                                                                           \
        list_event(AT_FDCWD, dir, r < 0 ? err : 0, -1);                                            \
        errno = err;                                                                               \
        return r;                                                                                  \
    }
FTW(ftw, __ftw_func_t)
FTW(ftw64, __ftw64_func_t)

/* fts changes directory as it walks unless told not to, up to fts_close,
 * which we do not see: from then on the cwd is asked of the kernel. */
#define FTS_OPEN(name, fts_t, ent_t)                                                               \
    HOOK_EXPORT fts_t *name(char *const *argv, int options,                                        \
                            int (*compar)(const ent_t **, const ent_t **)) {                       \
        __typeof__(&name) real = REAL(name);                                                       \
        if (!real)                                                                                 \
            return errno = ENOSYS, NULL;                                                           \
        if (!(options & FTS_NOCHDIR))                                                              \
            hook_cwd_untrusted(1);                                                                 \
        fts_t *f = real(argv, options, compar);                                                    \
        int err = errno;                                                                           \
        if (f && hook_active() && !hook_isnull(argv))                                              \
            for (char *const *p = argv; *p; p++)                                                   \
                list_event(AT_FDCWD, *p, 0, -1);                                                   \
        errno = err;                                                                               \
        return f;                                                                                  \
    }
FTS_OPEN(fts_open, FTS, FTSENT)
FTS_OPEN(fts64_open, FTS64, FTSENT64)
