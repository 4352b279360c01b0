/* The LD_AUDIT side of the same library. The dynamic loader's own searches
 * and opens never pass through libc, so la_objsearch reports each candidate
 * path it is about to try (LA_SEARCH, with what a stat of it finds) and
 * la_objopen each object it loaded (LA_OPEN, with its stat fields).
 *
 * This instance lives in its own link namespace with its own copy of the
 * static state (and of libc): it records through hook.c's raw-syscall
 * writer, and la_objopen returns 0 so that no symbol binding is audited,
 * which keeps the audit nearly free. */
#include <link.h>
#include <string.h>

#include "hook.h"

static void audit_event(unsigned kind, const char *path) {
    if (!path || path[0] != '/' || !hook_active())
        return;
    /* The hook itself is the recorder's, not an input of the build. */
    if (!strcmp(path, hook_env_snapshot()->hook_path))
        return;
    struct hook_rec r;
    struct stat sb;
    long s = hook_sys6(SYS_newfstatat, AT_FDCWD, (long)path, (long)&sb, 0, 0, 0);
    hook_rec_init(&r, kind, s < 0 ? (int)-s : 0, kind == CORDON_TRACE_OPEN ? O_RDONLY : 0);
    r.h.flags |= CORDON_TRACE_AUDIT;
    size_t n = strlen(path);
    if (n >= PATH_MAX || hook_seen(&r, path, n))
        return;
    if (s == 0)
        hook_rec_stat(&r, &sb);
    hook_emit(&r, path, n, NULL, 0);
}

HOOK_EXPORT unsigned la_version(unsigned version) {
    return version < LAV_CURRENT ? version : LAV_CURRENT;
}

HOOK_EXPORT char *la_objsearch(const char *name, uintptr_t *cookie, unsigned flag) {
    (void)cookie;
    int saved = errno;
    /* A name found in, or searched past, ld.so.cache means the loader read
     * the cache, which it opens itself. */
    if (flag == LA_SER_CONFIG || flag == LA_SER_DEFAULT)
        audit_event(CORDON_TRACE_OPEN, "/etc/ld.so.cache");
    audit_event(CORDON_TRACE_LA_SEARCH, name);
    /* Under a policy a hidden or denied library is a candidate skipped: the
     * loader goes on searching, as if the file were not there. */
    if (name && name[0] == '/' && hook_enforcing()) {
        struct hook_resolved res;
        if (hook_enforce(AT_FDCWD, name, 0, &res)) {
            errno = saved;
            return NULL;
        }
    }
    errno = saved;
    return (char *)name;
}

HOOK_EXPORT unsigned la_objopen(struct link_map *map, Lmid_t lmid, uintptr_t *cookie) {
    (void)lmid;
    (void)cookie;
    int saved = errno;
    if (map && map->l_name)
        audit_event(CORDON_TRACE_LA_OPEN, map->l_name);
    errno = saved;
    return 0;
}
