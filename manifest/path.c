/* Lexical path handling, mkdir -p and rm -rf. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cordon/util.h>

size_t cordon_path_normalize(char *path) {
    /* Components are copied down in place; `out` never passes `in`. */
    char *in = path, *out = path;
    bool absolute = *in == '/';
    if (absolute)
        *out++ = '/';
    while (*in) {
        while (*in == '/')
            in++;
        if (!*in)
            break;
        char *end = strchrnul(in, '/');
        size_t n = (size_t)(end - in);
        if (n == 1 && in[0] == '.') {
            /* drop */
        } else if (n == 2 && in[0] == '.' && in[1] == '.' && absolute) {
            /* back up one component, never above "/" */
            if (out > path + 1) {
                out--; /* the '/' after the last component */
                while (out > path + 1 && out[-1] != '/')
                    out--;
            }
        } else {
            if (out > path && out[-1] != '/')
                *out++ = '/';
            memmove(out, in, n);
            out += n;
        }
        in = end;
    }
    if (out > path + 1 && out[-1] == '/')
        out--;
    if (out == path)
        *out++ = absolute ? '/' : '.';
    *out = '\0';
    return (size_t)(out - path);
}

int cordon_path_join(const char *base, const char *path, char *out, size_t size) {
    int n;
    if (path[0] == '/')
        n = snprintf(out, size, "%s", path);
    else
        n = snprintf(out, size, "%s/%s", base, path);
    if (n < 0 || (size_t)n >= size)
        return -ENAMETOOLONG;
    cordon_path_normalize(out);
    return 0;
}

bool cordon_path_under(const char *path, const char *dir) {
    size_t n = strlen(dir);
    if (n == 1 && dir[0] == '/')
        return path[0] == '/';
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

bool cordon_path_is_virtual(const char *path) {
    return cordon_path_under(path, "/proc") || cordon_path_under(path, "/sys") ||
           cordon_path_under(path, "/dev");
}

int cordon_mkdir_p(const char *path, unsigned mode) {
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return -ENAMETOOLONG;
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, mode) < 0 && errno != EEXIST)
                return -errno;
            *p = c;
            if (!c)
                break;
        }
    }
    struct stat st;
    if (stat(buf, &st) < 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)ftw;
    /* A directory we cannot enter may still be removable once we can. */
    if (flag == FTW_DNR)
        (void)chmod(path, 0700);
    return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static int make_writable(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)ftw;
    if (flag == FTW_D && (st->st_mode & 0700) != 0700)
        (void)chmod(path, (st->st_mode & 07777) | 0700);
    return 0;
}

int cordon_rm_rf(const char *path) {
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISDIR(st.st_mode))
        return unlink(path) < 0 ? -errno : 0;
    /* Unpacked roots hold read-only directories (0555 /usr/bin): a first
     * pass, parents before children, makes each one ours to empty. */
    if (nftw(path, make_writable, 32, FTW_PHYS | FTW_MOUNT) < 0)
        return -errno;
    if (nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0)
        return -errno;
    return 0;
}

int cordon_path_walk(const char *root, const char *path, bool follow_last,
                     int (*on_link)(void *ctx, const char *link, const char *target), void *ctx,
                     char *out, size_t size) {
    if (!root)
        root = "";
    out[0] = '\0';
    char cur[PATH_MAX] = ""; /* resolved so far; "" is the root */
    char rest[PATH_MAX];
    if ((size_t)snprintf(rest, sizeof rest, "%s", path) >= sizeof rest)
        return -ENAMETOOLONG;
    int links = 0;
    const char *r = rest;
    for (;;) {
        while (*r == '/')
            r++;
        if (!*r)
            break;
        const char *e = strchrnul(r, '/');
        size_t n = (size_t)(e - r);
        const char *q = e;
        while (*q == '/')
            q++;
        bool last = *q == '\0';
        if (n == 1 && r[0] == '.') {
            r = e;
            continue;
        }
        if (n == 2 && r[0] == '.' && r[1] == '.') {
            char *slash = strrchr(cur, '/');
            if (slash)
                *slash = '\0';
            r = e;
            continue;
        }
        char cand[PATH_MAX], host[PATH_MAX];
        if ((size_t)snprintf(cand, sizeof cand, "%s/%.*s", cur, (int)n, r) >= sizeof cand)
            return -ENAMETOOLONG;
        if (last && !follow_last) {
            memcpy(cur, cand, strlen(cand) + 1);
            break;
        }
        if (cordon_path_is_virtual(cand))
            return 1;
        if ((size_t)snprintf(host, sizeof host, "%s%s", root, cand) >= sizeof host)
            return -ENAMETOOLONG;
        struct stat st;
        if (lstat(host, &st) < 0 || (!last && !S_ISLNK(st.st_mode) && !S_ISDIR(st.st_mode))) {
            if ((size_t)snprintf(out, size, "%s%s", cand, e) >= size)
                return -ENAMETOOLONG;
            cordon_path_normalize(out);
            return 0;
        }
        if (!S_ISLNK(st.st_mode)) {
            memcpy(cur, cand, strlen(cand) + 1);
            r = e;
            continue;
        }
        if (++links > 40)
            return -ELOOP;
        char text[PATH_MAX];
        ssize_t tl = readlink(host, text, sizeof text - 1);
        if (tl <= 0) {
            int err = tl < 0 ? errno : EINVAL;
            (void)snprintf(out, size, "%s", cand);
            return -err;
        }
        text[tl] = '\0';
        int lr = on_link ? on_link(ctx, cand, text) : 0;
        if (lr < 0)
            return lr;
        char next[PATH_MAX];
        if ((size_t)snprintf(next, sizeof next, "%s%s", text, e) >= sizeof next)
            return -ENAMETOOLONG;
        if (text[0] == '/')
            cur[0] = '\0';
        memcpy(rest, next, strlen(next) + 1);
        r = rest;
    }
    if ((size_t)snprintf(out, size, "%s", cur[0] ? cur : "/") >= size)
        return -ENAMETOOLONG;
    return 0;
}

bool cordon_path_link_next(const char *link, char *out) {
    char text[PATH_MAX];
    ssize_t n = readlink(link, text, sizeof text - 1);
    if (n <= 0)
        return false;
    text[n] = '\0';
    char joined[PATH_MAX];
    if (text[0] == '/') {
        snprintf(joined, sizeof joined, "%s", text);
    } else {
        const char *slash = strrchr(link, '/');
        if (!slash)
            return false; /* not absolute: no directory to resolve against */
        int len = (int)(slash - link);
        if (snprintf(joined, sizeof joined, "%.*s/%s", len, link, text) >= (int)sizeof joined)
            return false;
    }
    cordon_path_normalize(joined);
    char *base = strrchr(joined, '/');
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", (int)(base - joined), joined);
    char real[PATH_MAX];
    if (!realpath(dir[0] ? dir : "/", real))
        snprintf(real, sizeof real, "%s", dir[0] ? dir : "/");
    if (snprintf(out, PATH_MAX, "%s/%s", strcmp(real, "/") ? real : "", base + 1) >= PATH_MAX)
        return false;
    return true;
}

char *cordon_read_link(const char *path) {
    char buf[PATH_MAX];
    ssize_t n = readlink(path, buf, sizeof buf - 1);
    if (n < 0)
        return NULL;
    buf[n] = '\0';
    return strdup(buf);
}
