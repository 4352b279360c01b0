/* Directory listings: opendir, fdopendir, scandir(at), nftw/ftw, fts_open.
 * One LIST record for the directory (or each root) named; the entries a
 * walk then visits are seen through the opens and stats it makes. */
#include <fts.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>

#include "hook.h"

static void list_event(int dirfd, const char *path, int err, int fd) {
    struct stat sb;
    bool have = fd >= 0 && hook_sys(SYS_fstat, fd, &sb, 0, 0) == 0;
    hook_path_event(CORDON_TRACE_LIST, dirfd, path, err, 0, have ? &sb : NULL, true);
}

/* The policy on listing (dirfd, *path): 0 with *path the host path, or the
 * errno (recorded as the failure the program saw). */
static int list_check(int dirfd, const char **path, struct hook_resolved *res) {
    int d = dirfd;
    const char *p0 = *path;
    int e = hook_check(&d, path, 0, res);
    if (e && hook_active())
        list_event(dirfd, p0, e, -1);
    return e;
}

HOOK_EXPORT DIR *opendir(const char *path) {
    __typeof__(&opendir) real = REAL(opendir);
    if (!real)
        return errno = ENOSYS, NULL;
    struct hook_resolved res;
    const char *p = path;
    int e = list_check(AT_FDCWD, &p, &res);
    if (e)
        return errno = e, NULL;
    DIR *d = real(p);
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

/* scandir reads with glibc's internal readdir, which the wrapper above
 * does not see: its result is filtered here, the hidden entries freed (the
 * caller frees the rest; scandir is no async-signal-safe call already). */
static int scan_filter(const char *host, void **list, int n) {
    if (n <= 0 || hook_isnull(list) || !hook_enforcing())
        return n;
    char view[PATH_MAX];
    size_t vlen = hook_rules_unmap(hook_policy(), host, strlen(host), view);
    if (!vlen)
        return n;
    int k = 0;
    for (int i = 0; i < n; i++) {
        struct dirent *d = list[i];
        if (hook_rules_entry_hidden(hook_policy(), view, vlen, d->d_name))
            free(d);
        else
            list[k++] = d;
    }
    return k;
}

#define SCANDIR(name, dirent_t)                                                                    \
    HOOK_EXPORT int name(const char *dir, struct dirent_t ***list,                                 \
                         int (*filter)(const struct dirent_t *),                                   \
                         int (*compar)(const struct dirent_t **, const struct dirent_t **)) {      \
        __typeof__(&name) real = REAL(name);                                                       \
        if (!real)                                                                                 \
            return errno = ENOSYS, -1;                                                             \
        struct hook_resolved res;                                                                  \
        const char *p = dir;                                                                       \
        int e = list_check(AT_FDCWD, &p, &res);                                                    \
        if (e)                                                                                     \
            return errno = e, -1;                                                                  \
        int r = real(p, list, filter, compar);                                                     \
        int err = errno;                                                                           \
        if (r > 0 && hook_enforcing())                                                             \
            r = scan_filter(p, (void **)*list, r);                                                 \
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
        struct hook_resolved res;                                                                  \
        const char *p = dir;                                                                       \
        int e = list_check(dirfd, &p, &res);                                                       \
        if (e)                                                                                     \
            return errno = e, -1;                                                                  \
        int r = real(hook_enforcing() ? AT_FDCWD : dirfd, p, list, filter, compar);                \
        int err = errno;                                                                           \
        if (r > 0 && hook_enforcing())                                                             \
            r = scan_filter(p, (void **)*list, r);                                                 \
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
        struct hook_resolved res;                                                                  \
        const char *p = dir;                                                                       \
        int e = list_check(AT_FDCWD, &p, &res);                                                    \
        if (e)                                                                                     \
            return errno = e, -1;                                                                  \
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
        struct hook_resolved res;                                                                  \
        const char *p = dir;                                                                       \
        int e = list_check(AT_FDCWD, &p, &res);                                                    \
        if (e)                                                                                     \
            return errno = e, -1;                                                                  \
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
        for (char *const *a = argv; !hook_isnull(argv) && *a && hook_enforcing(); a++) {           \
            struct hook_resolved res;                                                              \
            const char *p = *a;                                                                    \
            int e = list_check(AT_FDCWD, &p, &res);                                                \
            if (e)                                                                                 \
                return errno = e, NULL;                                                            \
        }                                                                                          \
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

/* readdir leaves out the entries the policy hides (and those no rule
 * shows): listing a directory must not reveal a hidden name. The
 * directory's path is asked once per call (one readlink), only when a
 * policy is loaded. glibc's own walks (nftw, glob) read with its internal
 * readdir, which this does not see. */
static bool entry_hidden(DIR *dir, const char *name, char *view, size_t *vlen) {
    if (!*vlen) {
        char host[PATH_MAX];
        size_t n = hook_fd_path(dirfd(dir), host);
        if (!n)
            return false;
        *vlen = hook_rules_unmap(hook_policy(), host, n, view);
        if (!*vlen)
            return false;
    }
    return hook_rules_entry_hidden(hook_policy(), view, *vlen, name);
}

HOOK_EXPORT struct dirent *readdir(DIR *dir) {
    __typeof__(&readdir) real = REAL(readdir);
    if (!real)
        return errno = ENOSYS, NULL;
    struct dirent *e = real(dir);
    if (!e || __builtin_expect(!hook_enforcing(), 1))
        return e;
    int saved = errno;
    char view[PATH_MAX];
    size_t vlen = 0;
    while (e && entry_hidden(dir, e->d_name, view, &vlen)) {
        errno = saved;
        e = real(dir);
    }
    if (e)
        errno = saved;
    return e;
}

/* LP64: struct dirent64 is struct dirent, and glibc aliases the two. */
HOOK_EXPORT struct dirent64 *readdir64(DIR *dir) {
    __typeof__(&readdir64) real = REAL(readdir64);
    if (!real)
        return errno = ENOSYS, NULL;
    struct dirent64 *e = real(dir);
    if (!e || __builtin_expect(!hook_enforcing(), 1))
        return e;
    int saved = errno;
    char view[PATH_MAX];
    size_t vlen = 0;
    while (e && entry_hidden(dir, e->d_name, view, &vlen)) {
        errno = saved;
        e = real(dir);
    }
    if (e)
        errno = saved;
    return e;
}

/* getdents64(2) has a glibc wrapper since 2.30: the same filter, in place
 * in the caller's buffer. A batch whose every name is hidden is read on. */
HOOK_EXPORT ssize_t getdents64(int fd, void *buf, size_t count) {
    __typeof__(&getdents64) real = REAL(getdents64);
    if (!real)
        return errno = ENOSYS, -1;
    ssize_t n = real(fd, buf, count);
    if (n <= 0 || __builtin_expect(!hook_enforcing(), 1))
        return n;
    int saved = errno;
    char host[PATH_MAX], view[PATH_MAX];
    size_t hn = hook_fd_path(fd, host);
    size_t vlen = hn ? hook_rules_unmap(hook_policy(), host, hn, view) : 0;
    while (vlen && n > 0) {
        char *b = buf;
        size_t o = 0;
        for (ssize_t i = 0; i < n;) {
            struct dirent64 *d = (struct dirent64 *)(b + i);
            unsigned short len = d->d_reclen;
            if (!hook_rules_entry_hidden(hook_policy(), view, vlen, d->d_name)) {
                if (o != (size_t)i)
                    memmove(b + o, d, len);
                o += len;
            }
            i += len;
        }
        if (o) {
            n = (ssize_t)o;
            break;
        }
        n = real(fd, buf, count);
        if (n < 0)
            return n; /* with the call's errno */
    }
    errno = saved;
    return n;
}
