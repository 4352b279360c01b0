/* dlopen. A path with a slash is translated; a bare name is searched by the
 * loader, which no hook sees: that search is recorded as a gap. The bare
 * name case is a tail call, so the loader still sees the caller's return
 * address and searches the caller's RUNPATH (glibc's dlopen uses it). */
#include "shim.h"

#include <string.h>

export void *dlopen(const char *file, int flags) {
    CP_ENTER();
    if (CP_ISNULL(file) || !cp_active)
        return cp_real.dlopen(file, flags);
    if (!strchr(file, '/')) {
        cp_gap("dlopen-unresolved", file);
        return cp_real.dlopen(file, flags);
    }
    int saved = errno;
    struct cp_path p;
    int e = cp_resolve(AT_FDCWD, file, 0, &p);
    if (e) {
        /* refused: let the loader fail on a name that cannot exist, so
         * dlerror() has a message to give */
        char miss[PATH_MAX + 32] = "/nonexistent/cordon-hidden";
        size_t k = strlen(miss), n = strlen(p.view);
        if (k + n < sizeof miss)
            memcpy(miss + k, p.view, n + 1);
        void *h = cp_real.dlopen(miss, flags);
        errno = e;
        return h;
    }
    errno = saved;
    return cp_real.dlopen(p.path, flags);
}
