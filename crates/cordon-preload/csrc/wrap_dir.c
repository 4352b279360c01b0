/* opendir and scandir. Entries are listed as the host has them: a hidden
 * file still shows up in its directory's listing (a gap; stat of it fails). */
#include "shim.h"

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
