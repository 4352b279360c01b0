/* opendir, scandir and readdir. readdir leaves out the entries the view hides
 * (and those no rule shows); scandir lists as the host has them (a gap: stat
 * of a hidden entry fails). */
#include "shim.h"

#include <string.h>

static int dir_resolve(const char *path, struct cp_path *p) {
    return cp_resolve(AT_FDCWD, path, 0, p);
}

export DIR *opendir(const char *path) {
    CP_ENTER();
    int saved = errno;
    struct cp_path p;
    int e = dir_resolve(path, &p);
    CP_CHECK(e, saved, 0);
    return cp_real.opendir(p.path);
}

typedef int (*cp_filter)(const struct dirent *);
typedef int (*cp_compar)(const struct dirent **, const struct dirent **);

static int do_scandir(const char *path, struct dirent ***list, cp_filter f,
                      cp_compar c) {
    CP_ENTER();
    int saved = errno;
    struct cp_path p;
    int e = dir_resolve(path, &p);
    CP_CHECK(e, saved, -1);
    return cp_real.scandir(p.path, list, f, c);
}

export int scandir(const char *path, struct dirent ***list, cp_filter f,
                   cp_compar c) {
    return do_scandir(path, list, f, c);
}

/* LP64: struct dirent64 is struct dirent, and glibc aliases the two. */
export int scandir64(const char *path, struct dirent64 ***list,
                     int (*f)(const struct dirent64 *),
                     int (*c)(const struct dirent64 **, const struct dirent64 **)) {
    return do_scandir(path, (struct dirent ***)list, (cp_filter)f, (cp_compar)c);
}

/* Whether `name` in the directory whose view path is `dir` (length `dlen`) is
 * hidden by the view. */
static int entry_hidden(const char *dir, size_t dlen, const char *name) {
    char view[PATH_MAX], host[PATH_MAX];
    size_t vlen = dlen, nlen = strlen(name);
    if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0)))
        return 0;
    if (vlen + 1 + nlen >= sizeof view)
        return 0;
    memcpy(view, dir, vlen);
    if (vlen > 1)
        view[vlen++] = '/';
    memcpy(view + vlen, name, nlen + 1);
    enum cp_access a = cp_match(view, vlen + nlen, host);
    return a == CP_HIDE || a == CP_NONE;
}

export struct dirent *readdir(DIR *dir) {
    CP_ENTER();
    struct dirent *e = cp_real.readdir(dir);
    if (!e || !cp_active)
        return e;
    /* The directory's own path, once per call (one readlink), not once per entry. */
    int saved = errno;
    char view[PATH_MAX];
    size_t vlen;
    int known = cp_fd_view(dirfd(dir), view, &vlen) == 0;
    errno = saved;
    if (!known)
        return e;
    while (e && entry_hidden(view, vlen, e->d_name))
        e = cp_real.readdir(dir);
    return e;
}

/* LP64: struct dirent64 is struct dirent. */
export struct dirent64 *readdir64(DIR *dir) {
    return (struct dirent64 *)readdir(dir);
}
