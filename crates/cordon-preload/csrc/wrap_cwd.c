/* chdir, getcwd, get_current_dir_name. The process's real cwd is a host
 * path; getcwd answers with the program's path for it (the reverse
 * mapping, longest host prefix). */
#include "shim.h"

#include <string.h>
#include <sys/syscall.h>

export int chdir(const char *path) {
    CP_ENTER();
    int saved = errno;
    struct cp_path p;
    int e = cp_resolve(AT_FDCWD, path, 0, &p);
    CP_CHECK(e, saved, -1);
    return cp_real.chdir(p.path);
}

/* getcwd(3) allocates when buf is NULL (a glibc extension): the interface
 * demands the malloc. */
export char *getcwd(char *buf, size_t size) {
    CP_ENTER();
    if (!cp_active)
        return cp_real.getcwd(buf, size);
    int saved = errno;
    char host[PATH_MAX], view[PATH_MAX];
    if (syscall(SYS_getcwd, host, sizeof host) < 0)
        return 0;
    if (host[0] != '/') {
        errno = ENOENT; /* "(unreachable)...", as glibc says */
        return 0;
    }
    size_t n = cp_view_of(host, view);
    if (buf && size == 0) {
        errno = EINVAL;
        return 0;
    }
    if (!buf) {
        size_t cap = size ? size : n + 1;
        if (cap < n + 1) {
            errno = ERANGE;
            return 0;
        }
        buf = malloc(cap);
        if (!buf)
            return 0;
    } else if (size < n + 1) {
        errno = ERANGE;
        return 0;
    }
    memcpy(buf, view, n + 1);
    errno = saved;
    return buf;
}

export char *get_current_dir_name(void) {
    return getcwd(0, 0);
}
