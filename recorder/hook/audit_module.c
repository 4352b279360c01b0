/* libcordon-audit.so: the LD_AUDIT module of `cordon record`.
 *
 * The dynamic loader's own searches and opens never pass through libc, so
 * la_objsearch reports each candidate path it is about to try (LA_SEARCH,
 * with what a stat of it finds) and la_objopen each object it loaded
 * (LA_OPEN), as audit.c does in the hook for `cordon run --backend hook`.
 *
 * Why a module of its own, without libc: an audit module lives in a link
 * namespace of its own, and a libc there is a second copy of libc mapped,
 * relocated and initialised in every process of the build (measured here:
 * 0.24 ms a process, a few percent of a build that runs many small
 * programs). This one has no DT_NEEDED at all: raw system calls
 * (rawsys.h), the record codec (trace.c) and the four string functions
 * below. It records only; enforcing a policy is the hook's (audit.c).
 *
 * Each record is written at once: a program that the loader cannot start
 * (a library missing) ends inside the loader, and its searches are what
 * says why. While the program is being loaded none of its code runs, so
 * the log stays open from the constructor to la_preinit (one write per
 * record); later events (dlopen) open it per record, as no descriptor of
 * ours may be where the program can see it. */
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include <cordon/trace.h>

#include "enforce.h"
#include "rawsys.h"

#define EXPORT __attribute__((visibility("default")))

/* ---- what the compiler may call ------------------------------------------ */

/* GCC would turn these loops into calls to the functions they define. */
#if defined(__GNUC__) && !defined(__clang__)
#define NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define NO_LIBCALL
#endif

NO_LIBCALL void *memcpy(void *restrict d, const void *restrict s, size_t n) {
    unsigned char *dp = d;
    const unsigned char *sp = s;
    while (n--)
        *dp++ = *sp++;
    return d;
}

NO_LIBCALL void *memset(void *d, int c, size_t n) {
    unsigned char *dp = d;
    while (n--)
        *dp++ = (unsigned char)c;
    return d;
}

int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s) {
    const char *p = s;
    while (*p)
        p++;
    return (size_t)(p - s);
}

static bool starts(const char *s, const char *prefix) {
    while (*prefix)
        if (*s++ != *prefix++)
            return false;
    return true;
}

static bool same(const char *a, const char *b) {
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/* `value` into `out` (PATH_MAX bytes); false if it does not fit. */
static bool copy(char *out, const char *value) {
    size_t n = strlen(value);
    if (n >= PATH_MAX)
        return false;
    memcpy(out, value, n + 1);
    return true;
}

/* ---- state ----------------------------------------------------------------- */

static struct {
    bool active;
    char log[PATH_MAX];
    char hook[PATH_MAX]; /* the preload hook and this module: the recorder's */
    char self[PATH_MAX];
    int fd; /* the log, from the constructor to la_preinit; -1 after */
} st = {.fd = -1};

/* De-duplication per process: the loader asks about the same directories
 * for every library. Keyed with the pid, since a forked child inherits it. */
#define SEEN_SIZE 1024
static uint64_t seen[SEEN_SIZE];

static bool seen_before(unsigned kind, bool failed, const char *path, size_t n, int pid) {
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)path[i]) * 0x100000001b3ULL;
    h ^= ((uint64_t)kind << 56) ^ ((uint64_t)failed << 55) ^ ((uint64_t)(uint32_t)pid << 20);
    h *= 0x9e3779b97f4a7c15ULL;
    if (!h)
        h = 1;
    for (size_t i = 0; i < 8; i++) {
        uint64_t *slot = &seen[(h + i) % SEEN_SIZE];
        if (*slot == h)
            return true;
        if (!*slot) {
            *slot = h;
            return false;
        }
    }
    return false; /* full neighbourhood: a duplicate record at worst */
}

static int open_log(void) {
    return (int)hook_sys6(SYS_openat, AT_FDCWD, (long)st.log,
                          O_WRONLY | O_APPEND | O_CLOEXEC | O_CREAT, 0644, 0, 0);
}

static void emit(const void *buf, size_t len) {
    if (st.fd >= 0) {
        hook_sys(SYS_write, st.fd, buf, len, 0);
        return;
    }
    int fd = open_log();
    if (fd >= 0) {
        hook_sys(SYS_write, fd, buf, len, 0);
        hook_sys(SYS_close, fd, 0, 0, 0);
    }
}

static void event(unsigned kind, const char *path) {
    if (!st.active || !path || path[0] != '/')
        return;
    size_t n = strlen(path);
    if (n >= PATH_MAX || same(path, st.hook) || same(path, st.self))
        return;
    struct stat sb;
    long s = hook_sys6(SYS_newfstatat, AT_FDCWD, (long)path, (long)&sb, 0, 0, 0);
    int pid = hook_getpid();
    if (seen_before(kind, s < 0, path, n, pid))
        return;
    struct cordon_trace_rec h;
    memset(&h, 0, sizeof h);
    h.kind = (uint16_t)kind;
    h.err = s < 0 ? (int)-s : 0;
    h.arg = kind == CORDON_TRACE_OPEN ? O_RDONLY : 0;
    h.flags = CORDON_TRACE_AUDIT;
    h.pid = pid;
    if (s == 0) {
        h.mode = sb.st_mode;
        h.dev = sb.st_dev;
        h.ino = sb.st_ino;
        h.size = (uint64_t)sb.st_size;
        h.mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
    }
    _Alignas(8) char buf[CORDON_TRACE_MAX];
    emit(buf, cordon_trace_encode(buf, &h, path, n, NULL, 0));
}

/* ---- the loader's entry points ------------------------------------------- */

/* The loader runs the module's constructors when it loads it, before
 * la_version, with the program's environment: that is where the contract
 * variables are read (there is no libc, so no getenv). */
__attribute__((constructor)) static void init(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    const char *log = NULL, *hook = NULL;
    bool notify = false, policy = false;
    for (char **e = envp; e && *e; e++) {
        if (starts(*e, CORDON_ENV_LOG "="))
            log = *e + sizeof CORDON_ENV_LOG;
        else if (starts(*e, CORDON_ENV_HOOK "="))
            hook = *e + sizeof CORDON_ENV_HOOK;
        else if (starts(*e, CORDON_ENV_NOTIFY "="))
            notify = (*e)[sizeof CORDON_ENV_NOTIFY] != 0;
        else if (starts(*e, CORDON_ENV_POLICY "="))
            policy = (*e)[sizeof CORDON_ENV_POLICY] != 0;
    }
    if (!log || !*log)
        return;
    if (log[0] == '/') {
        if (!copy(st.log, log))
            return;
    } else {
        long n = hook_sys(SYS_getcwd, st.log, PATH_MAX, 0, 0);
        size_t k = n > 0 ? strlen(st.log) : 0, l = strlen(log);
        if (!k || k + 1 + l >= PATH_MAX)
            return;
        st.log[k] = '/';
        memcpy(st.log + k + 1, log, l + 1);
    }
    if (hook && copy(st.hook, hook)) {
        /* This module sits beside the hook. */
        size_t d = strlen(st.hook);
        while (d && st.hook[d - 1] != '/')
            d--;
        if (d && d + sizeof CORDON_AUDIT_MODULE <= PATH_MAX) {
            memcpy(st.self, st.hook, d);
            memcpy(st.self + d, CORDON_AUDIT_MODULE, sizeof CORDON_AUDIT_MODULE);
        }
    }
    st.active = true;
    /* Under the complete path's filter (--complete=always), this module's
     * calls go through the hook's page like the hook's own. */
    if (notify && !policy && hook_sys(SECCOMP_PROBE_NR, 0, 0, 0, 0) == -(long)SECCOMP_PROBE_ERRNO)
        hook_stub_map();
    st.fd = open_log();
}

EXPORT unsigned la_version(unsigned version) {
    return version < LAV_CURRENT ? version : LAV_CURRENT;
}

EXPORT char *la_objsearch(const char *name, uintptr_t *cookie, unsigned flag) {
    (void)cookie;
    /* A name found in, or searched past, ld.so.cache means the loader read
     * the cache, which it opens itself. */
    if (flag == LA_SER_CONFIG || flag == LA_SER_DEFAULT)
        event(CORDON_TRACE_OPEN, "/etc/ld.so.cache");
    event(CORDON_TRACE_LA_SEARCH, name);
    return (char *)name;
}

/* 0: no symbol binding of the object is audited, which keeps this free. */
EXPORT unsigned la_objopen(struct link_map *map, Lmid_t lmid, uintptr_t *cookie) {
    (void)lmid;
    (void)cookie;
    if (map && map->l_name)
        event(CORDON_TRACE_LA_OPEN, map->l_name);
    return 0;
}

/* The program's code runs from here on: the log is no longer held. */
EXPORT void la_preinit(uintptr_t *cookie) {
    (void)cookie;
    if (st.fd >= 0)
        hook_sys(SYS_close, st.fd, 0, 0, 0);
    st.fd = -1;
}
