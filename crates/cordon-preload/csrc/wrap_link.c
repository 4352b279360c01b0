/* readlink, readlinkat, realpath, canonicalize_file_name, __realpath_chk.
 *
 * A link's target that lies under a redirected host path reads as the
 * program's path (the reverse mapping). realpath is computed here, from the
 * resolver's canonical view path: glibc's own calls its internal readlink,
 * which no hook sees. */
#include "shim.h"

#include <string.h>
#include <sys/syscall.h>

char *__realpath_chk(const char *path, char *resolved, size_t len);

static ssize_t do_readlinkat(int dirfd, const char *path, char *buf,
                             size_t size) {
    CP_ENTER();
    int saved = errno;
    struct cp_path p;
    int e = cp_resolve(dirfd, path, CP_LOOK | CP_NOFOLLOW, &p);
    CP_CHECK(e, saved, -1);
    if (!cp_active)
        return cp_real.readlinkat(p.dirfd, p.path, buf, size);
    char tmp[PATH_MAX], view[PATH_MAX];
    ssize_t n = cp_real.readlinkat(p.dirfd, p.path, tmp, sizeof tmp - 1);
    if (n < 0)
        return n;
    tmp[n] = 0;
    const char *out = tmp;
    if (tmp[0] == '/') {
        n = (ssize_t)cp_view_of(tmp, view);
        out = view;
    }
    if ((size_t)n > size)
        n = (ssize_t)size; /* truncated, as readlink(2) does */
    memcpy(buf, out, (size_t)n);
    errno = saved;
    return n;
}

export ssize_t readlink(const char *path, char *buf, size_t size) {
    return do_readlinkat(AT_FDCWD, path, buf, size);
}

export ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t size) {
    return do_readlinkat(dirfd, path, buf, size);
}

/* realpath(3) allocates the result when `resolved` is NULL: the one malloc
 * a hook makes, because the interface demands it. */
static char *do_realpath(const char *path, char *resolved) {
    CP_ENTER();
    int saved = errno;
    struct cp_path p;
    if (CP_ISNULL(path)) {
        errno = EINVAL;
        return 0;
    }
    int e = cp_resolve(AT_FDCWD, path, 0, &p);
    if (!e && !cp_active) {
        errno = saved;
        return cp_real.realpath(path, resolved); /* inactive: glibc's */
    }
    if (!e && !cp_exists(p.host))
        e = ENOENT;
    CP_CHECK(e, saved, 0);
    size_t n = strlen(p.view);
    if (!resolved) {
        resolved = malloc(n + 1);
        if (!resolved)
            return 0;
    }
    memcpy(resolved, p.view, n + 1);
    errno = saved;
    return resolved;
}

export char *realpath(const char *path, char *resolved) {
    return do_realpath(path, resolved);
}

export char *__realpath_chk(const char *path, char *resolved, size_t len) {
    (void)len; /* our result is at most PATH_MAX, as the check requires */
    return do_realpath(path, resolved);
}

export char *canonicalize_file_name(const char *path) {
    return do_realpath(path, 0);
}
