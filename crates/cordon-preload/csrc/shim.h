/* cordon preload shim: shared declarations.
 *
 * Every hook follows the same shape: save errno, resolve the program's path
 * to a host path with cp_resolve(), fail with the rule's errno, or restore
 * errno and call the real function (resolved once, in the constructor).
 * Nothing here allocates, takes a lock or uses stdio: hooks may run in a
 * signal handler or in a vfork child.
 *
 * Assumes an LP64 glibc (x86_64, aarch64): struct stat == struct stat64 and
 * the *64 functions are aliases of the plain ones.
 */
#ifndef CORDON_SHIM_H
#define CORDON_SHIM_H

#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <utime.h>

#define hidden __attribute__((visibility("hidden")))
#define export __attribute__((visibility("default")))

_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "LP64 glibc only");

/* The access a rule grants. A path no rule matches is CP_NONE: hidden. */
enum cp_access { CP_NONE, CP_RO, CP_RW, CP_HIDE, CP_DENY };

/* cp_resolve flags */
#define CP_NOFOLLOW 1 /* do not resolve the last component */
#define CP_WRITE 2    /* modifies the file system: EROFS under ro */
#define CP_CREATE 4   /* writes only if the target does not exist yet */
#define CP_DATA 8     /* writes data only: allowed on devices, fifos, sockets */
#define CP_LOOK 16    /* only looks (stat, access, readlink): a denied path is present */

/* A resolved path. `path`/`dirfd` are what to hand to the real function:
 * the host path (and AT_FDCWD), or the caller's own arguments when the shim
 * is inactive or the call names a descriptor (AT_EMPTY_PATH). */
struct cp_path {
    int dirfd;
    const char *path;
    enum cp_access access;
    char view[PATH_MAX]; /* canonical path as the program sees it */
    char host[PATH_MAX]; /* where it really is */
};

/* The real functions, resolved with dlsym(RTLD_NEXT) in the constructor. */
#define CP_REALS(X)                                                            \
    X(openat) X(fopen) X(freopen) X(fstatat) X(statx) X(faccessat)             \
    X(euidaccess) X(opendir) X(scandir) X(readlinkat) X(mkdirat) X(rmdir)      \
    X(unlinkat) X(renameat2) X(linkat) X(symlinkat) X(chdir) X(fchmodat)       \
    X(fchownat) X(truncate) X(utime) X(utimes) X(utimensat) X(mknodat)         \
    X(execve) X(posix_spawn) X(dlopen) X(getcwd) X(realpath) X(readdir)

struct cp_reals {
#define CP_FIELD(name) __typeof__(name) *name;
    CP_REALS(CP_FIELD)
#undef CP_FIELD
};
extern hidden struct cp_reals cp_real;

/* rules.c */
extern hidden int cp_active;  /* a rules file was loaded */
hidden void cp_init(void);    /* idempotent; the constructor calls it */
hidden enum cp_access cp_match(const char *view, size_t vlen, char *host);
hidden size_t cp_unmap(const char *host, size_t hlen, char *view);
hidden void cp_gap(const char *kind, const char *path);
hidden int cp_strict(void);
hidden size_t cp_env_count(char *const *envp);
hidden char *const *cp_fix_env(char *const *envp, size_t n, char **out,
                               char *ld, size_t ldcap);
#define CP_ENV_EXTRA 5 /* contract variables cp_fix_env may add */

/* The fast path (with the seccomp backend): the shim's own path walks make
 * their system calls from one `syscall; ret` stub at this fixed address, which
 * cordon's seccomp filter lets through without a notification. Keep in step
 * with cordon_preload::FAST_PATH_IP (the address after the instruction). */
#define CP_STUB_ADDR 0x7c0de0000000UL
/* A raw system call: through the stub when it is mapped, else syscall(2).
 * -1 with errno on failure, as syscall(2). */
hidden long cp_sys(long nr, long a, long b, long c, long d);
hidden void cp_map_stub(void);

/* path.c */
hidden int cp_resolve(int dirfd, const char *path, int flags,
                      struct cp_path *r);
hidden int cp_exists(const char *host);
hidden size_t cp_view_of(const char *host, char *view);
/* The path, as the program sees it, of the directory open as `fd`: 0 or errno. */
hidden int cp_fd_view(int fd, char *view, size_t *vlen);

/* wrap_exec.c */
hidden int cp_is_static(const char *host);

/* glibc declares most path arguments nonnull, and GCC would drop a NULL
 * check on them; programs pass NULL anyway (utimensat(fd, NULL, ...)).
 * The empty asm hides where the pointer came from. */
#define CP_ISNULL(ptr)                                                         \
    __extension__({                                                            \
        const void *cp_q = (ptr);                                              \
        __asm__("" : "+r"(cp_q));                                              \
        cp_q == 0;                                                             \
    })

/* The call names a descriptor, not a path (AT_EMPTY_PATH with ""). */
#define CP_FD_ONLY(path, flags)                                                \
    (((flags) & AT_EMPTY_PATH) && !CP_ISNULL(path) && !*(path))

/* Every hook starts with CP_ENTER: a hook can run before the constructor
 * (another library's constructor calling open). */
#define CP_ENTER()                                                             \
    do {                                                                       \
        if (__builtin_expect(cp_real.openat == 0, 0))                          \
            cp_init();                                                         \
    } while (0)

/* Fail a hook with `e`, or restore errno and fall through. */
#define CP_CHECK(e, saved, fail)                                               \
    do {                                                                       \
        if (e) {                                                               \
            errno = (e);                                                       \
            return (fail);                                                     \
        }                                                                      \
        errno = (saved);                                                       \
    } while (0)

#endif
