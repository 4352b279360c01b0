/* access, faccessat, euidaccess, eaccess: W_OK under ro is EROFS, as the
 * kernel says for a read-only mount (access(2)). */
#include "shim.h"

static int access_flags(int mode, int flags) {
    return CP_LOOK | (mode & W_OK ? CP_WRITE | CP_DATA : 0) |
           (flags & AT_SYMLINK_NOFOLLOW ? CP_NOFOLLOW : 0);
}

export int faccessat(int dirfd, const char *path, int mode, int flags) {
    CP_ENTER();
    if (CP_FD_ONLY(path, flags))
        return cp_real.faccessat(dirfd, path, mode, flags);
    int saved = errno;
    struct cp_path p;
    int e = cp_resolve(dirfd, path, access_flags(mode, flags), &p);
    CP_CHECK(e, saved, -1);
    return cp_real.faccessat(p.dirfd, p.path, mode, flags);
}

export int access(const char *path, int mode) {
    return faccessat(AT_FDCWD, path, mode, 0);
}

static int do_euidaccess(const char *path, int mode) {
    CP_ENTER();
    int saved = errno;
    struct cp_path p;
    int e = cp_resolve(AT_FDCWD, path, access_flags(mode, 0), &p);
    CP_CHECK(e, saved, -1);
    return cp_real.euidaccess(p.path, mode);
}

export int euidaccess(const char *path, int mode) {
    return do_euidaccess(path, mode);
}

export int eaccess(const char *path, int mode) {
    return do_euidaccess(path, mode);
}
