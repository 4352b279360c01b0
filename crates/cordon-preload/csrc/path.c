/* Making a program's path absolute and canonical in the view, resolving
 * symlinks one component at a time, and deciding what the rules allow.
 *
 * Each prefix is mapped through the rules before its link is read, so a
 * symlink in a writable directory that points at a hidden file resolves to
 * the hidden path and is refused. Only raw syscalls: async-signal-safe.
 */
#include "shim.h"

#include <string.h>
#include <sys/syscall.h>

#define CP_MAXLINKS 40 /* the kernel's MAXSYMLINKS */

static long raw_readlink(const char *p, char *buf, size_t n) {
    return cp_sys(SYS_readlinkat, AT_FDCWD, (long)p, (long)buf, (long)n);
}

hidden int cp_exists(const char *host) {
    struct stat st;
    return cp_sys(SYS_newfstatat, AT_FDCWD, (long)host, (long)&st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* A device, fifo or socket: writing to it does not modify the file system,
 * so the kernel allows it on a read-only mount and so do we. */
static int is_special(const char *host) {
    struct stat st;
    if (syscall(SYS_newfstatat, AT_FDCWD, host, &st, 0))
        return 0;
    return !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

/* The view path of a host path (reverse mapping); the host path itself if
 * the mapping does not fit. Returns the length. */
hidden size_t cp_view_of(const char *host, char *view) {
    size_t n = strlen(host);
    size_t m = cp_unmap(host, n, view);
    if (m)
        return m;
    memcpy(view, host, n + 1);
    return n;
}

static int base_view(int dirfd, char *view, size_t *vlen) {
    char host[PATH_MAX];
    if (dirfd == AT_FDCWD) {
        if (syscall(SYS_getcwd, host, sizeof host) < 0)
            return errno;
    } else {
        char proc[32] = "/proc/self/fd/";
        char digits[12];
        size_t d = 0, k = 14;
        if (dirfd < 0)
            return EBADF;
        for (unsigned v = (unsigned)dirfd; d == 0 || v; v /= 10)
            digits[d++] = (char)('0' + v % 10);
        while (d)
            proc[k++] = digits[--d];
        proc[k] = 0;
        long n = raw_readlink(proc, host, sizeof host - 1);
        if (n < 0)
            return EBADF;
        host[n] = 0;
    }
    if (host[0] != '/')
        return host[0] ? ENOTDIR : ENOENT; /* "(unreachable)", "pipe:[..]" */
    *vlen = cp_view_of(host, view);
    return 0;
}

hidden int cp_fd_view(int fd, char *view, size_t *vlen) {
    return base_view(fd, view, vlen);
}

static void pop(char *v, size_t *vlen) {
    size_t n = *vlen;
    while (n > 1 && v[n - 1] != '/')
        n--;
    if (n > 1)
        n--; /* the slash before the component, unless it is the root */
    v[n] = 0;
    *vlen = n;
}

/* Below /proc/PID/, links such as fd/N, exe and cwd are magic: follow only
 * those that read as an absolute path of a file that still exists. */
static int magic(const char *v, size_t vlen, const char *target, size_t tlen) {
    if (vlen < 6 || memcmp(v, "/proc/", 6))
        return 0;
    if (!memchr(v + 6, '/', vlen - 6))
        return 0; /* /proc/self, /proc/mounts, ...: plain links */
    static const char del[] = " (deleted)";
    size_t dl = sizeof del - 1;
    return target[0] != '/' || (tlen > dl && !memcmp(target + tlen - dl, del, dl));
}

static int decide(enum cp_access a, int flags, const char *host) {
    if (a == CP_NONE || a == CP_HIDE)
        return ENOENT;
    if (a == CP_DENY)
        return flags & CP_LOOK ? 0 : EACCES;
    if (a == CP_RO && (flags & (CP_WRITE | CP_CREATE))) {
        if ((flags & CP_DATA) && is_special(host))
            return 0;
        if (!(flags & CP_WRITE) && cp_exists(host))
            return 0; /* creating what exists: the real call says EEXIST */
        return EROFS;
    }
    return 0;
}

hidden int cp_resolve(int dirfd, const char *path, int flags,
                      struct cp_path *r) {
    r->dirfd = dirfd;
    r->path = path;
    r->access = CP_RW;
    r->view[0] = 0;
    if (!cp_active)
        return 0;
    if (!path)
        return EFAULT;
    size_t plen = strlen(path);
    if (!plen)
        return ENOENT;
    char pend[PATH_MAX];
    if (plen >= sizeof pend)
        return ENAMETOOLONG;
    memcpy(pend, path, plen + 1);
    int trailing = path[plen - 1] == '/';

    char *v = r->view;
    size_t vlen = 1;
    if (path[0] == '/') {
        v[0] = '/';
        v[1] = 0;
    } else {
        int e = base_view(dirfd, v, &vlen);
        if (e)
            return e;
    }

    char tmp[PATH_MAX], tv[PATH_MAX];
    size_t pi = 0;
    int links = 0;
    for (;;) {
        while (pend[pi] == '/')
            pi++;
        if (!pend[pi])
            break;
        size_t s = pi;
        while (pend[pi] && pend[pi] != '/')
            pi++;
        size_t clen = pi - s;
        size_t k = pi;
        while (pend[k] == '/')
            k++;
        int last = pend[k] == 0;
        if (clen == 1 && pend[s] == '.')
            continue;
        if (clen == 2 && pend[s] == '.' && pend[s + 1] == '.') {
            pop(v, &vlen);
            continue;
        }
        if (vlen + 1 + clen >= PATH_MAX)
            return ENAMETOOLONG;
        if (vlen > 1)
            v[vlen++] = '/';
        memcpy(v + vlen, pend + s, clen);
        vlen += clen;
        v[vlen] = 0;

        if (last && (flags & CP_NOFOLLOW) && pend[pi] != '/')
            break; /* the last component itself: decided below */
        enum cp_access a = cp_match(v, vlen, r->host);
        if (a == CP_NONE || a == CP_HIDE)
            return ENOENT;
        /* A denied path is present: a look at it (stat) goes on to the end. */
        if (a == CP_DENY && !(last && (flags & CP_LOOK)))
            return EACCES;
        long n = raw_readlink(r->host, tmp, sizeof tmp - 1);
        if (n < 0)
            continue; /* not a link, or absent: the real call will say */
        tmp[n] = 0;
        if (magic(v, vlen, tmp, (size_t)n))
            continue;
        if (++links > CP_MAXLINKS)
            return ELOOP;
        const char *t = tmp;
        size_t tlen = (size_t)n;
        if (tmp[0] == '/') {
            tlen = cp_view_of(tmp, tv); /* a host target under a redirect */
            t = tv;
            v[1] = 0;
            vlen = 1;
        } else {
            pop(v, &vlen);
        }
        size_t rest = strlen(pend + pi);
        if (tlen + 1 + rest >= sizeof pend)
            return ENAMETOOLONG;
        memmove(pend + tlen + (rest ? 1 : 0), pend + pi, rest + 1);
        memcpy(pend, t, tlen);
        if (rest)
            pend[tlen] = '/';
        pi = 0;
    }

    enum cp_access a = cp_match(v, vlen, r->host);
    r->access = a;
    int e = decide(a, flags, r->host);
    if (e)
        return e;
    size_t hn = strlen(r->host);
    if (trailing && hn > 1 && hn + 1 < PATH_MAX) {
        r->host[hn] = '/';
        r->host[hn + 1] = 0;
    }
    r->dirfd = AT_FDCWD;
    r->path = r->host;
    return 0;
}
