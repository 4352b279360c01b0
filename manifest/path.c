/* Lexical path handling, mkdir -p and rm -rf. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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
