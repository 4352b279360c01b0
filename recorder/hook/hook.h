/* libcordon-hook.so: declarations shared by the wrapper files.
 *
 * Every wrapper has the same shape: call the real function (resolved lazily
 * with dlsym(RTLD_NEXT), so a wrapper works before the constructor ran),
 * keep its errno, describe the call in one record if the recording is
 * active, restore errno and return what the real function returned.
 * Nothing here allocates, takes a lock or uses stdio: wrappers may run in a
 * signal handler or a vfork child. The hook's own I/O is raw system calls
 * that never touch errno.
 *
 * Assumes an LP64 glibc (x86_64, aarch64): struct stat == struct stat64 and
 * the *64 functions behave as the plain ones.
 */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cordon/trace.h>

#include "../trace_seccomp.h"
#include "enforce.h"

#define HOOK_EXPORT __attribute__((visibility("default")))

_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "LP64 glibc only");

#include "rawsys.h"

/* ---- the real functions -------------------------------------------------- */

/* Declarations glibc's headers no longer (or only under fortify) give. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
int __xstat(int ver, const char *path, struct stat *buf);
int __xstat64(int ver, const char *path, struct stat64 *buf);
int __lxstat(int ver, const char *path, struct stat *buf);
int __lxstat64(int ver, const char *path, struct stat64 *buf);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *buf, int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *buf, int flags);

enum hook_id {
#define HOOK(name) HOOK_ID_##name,
#include "hooks.def"
#undef HOOK
    HOOK_ID_MAX,
};

extern void *hook_slots[HOOK_ID_MAX];
void *hook_resolve(enum hook_id id);

/* libc's `id`, resolved on first use. */
static inline void *hook_real_libc(enum hook_id id) {
    void *p = __atomic_load_n(&hook_slots[id], __ATOMIC_RELAXED);
    return __builtin_expect(p != NULL, 1) ? p : hook_resolve(id);
}

/* The wrapped functions done by the hook itself through the fast lane's
 * page (direct.c), NULL where libc's must run. */
extern void *const hook_direct[HOOK_ID_MAX];

/* open(2) flags for an fopen mode, the way glibc reads it. */
int hook_fopen_flags(const char *mode);

/* What a wrapper calls as the real function: libc's, or while the fast
 * lane is on, the hook's own for calls that are one system call. */
static inline void *hook_real(enum hook_id id) {
    if (__builtin_expect(hook_stub_on, 0) && hook_direct[id])
        return hook_direct[id];
    return hook_real_libc(id);
}

/* The real `name`, typed; NULL if libc lacks it (callers fail with ENOSYS). */
#define REAL(name) ((__typeof__(&name))hook_real(HOOK_ID_##name))

/* Whether an open's flags say a mode argument follows. */
#define NEEDS_MODE(flags) (((flags)&O_CREAT) || ((flags)&O_TMPFILE) == O_TMPFILE)

/* glibc declares most path arguments nonnull and GCC would drop a NULL
 * check on them; programs pass NULL anyway. The empty asm hides where the
 * pointer came from. */
static inline bool hook_isnull(const void *p) {
    __asm__("" : "+r"(p));
    return p == NULL;
}

/* ---- the recording state (hook.c) ---------------------------------------- */

/* True when CORDON_LOG is set: records are written. Initialises the state
 * from `environ` by hand on first use. */
bool hook_active(void);

/* True when CORDON_POLICY names a compiled policy: calls on paths are
 * checked (enforce.h) before the real function runs. Initialises the state
 * like hook_active(). */
bool hook_enforcing(void);

/* Resolve (dirfd, path) through the policy for a call doing `flags`
 * (HOOK_ENF_*): 0 with r->host set, or the errno the call must fail with. */
int hook_enforce(int dirfd, const char *path, int flags, struct hook_resolved *r);

/* The policy, for readdir's filter and the audit instance. */
const struct hook_rules *hook_policy(void);

/* The check every enforcing wrapper makes first: when a policy is loaded,
 * resolve and on success point *dirfd and *path at the host path the real
 * function must be given. 0, or the errno to fail with. Costs one load when
 * no policy is set. */
static inline int hook_check(int *dirfd, const char **path, int flags, struct hook_resolved *r) {
    if (__builtin_expect(!hook_enforcing(), 1))
        return 0;
    int e = hook_enforce(*dirfd, *path, flags, r);
    if (!e) {
        *dirfd = AT_FDCWD;
        *path = r->host;
    }
    return e;
}

/* True in the LD_AUDIT instance of the library. */
bool hook_is_audit(void);

/* A record about to be emitted. */
struct hook_rec {
    struct cordon_trace_rec h;
    int pid; /* hook_getpid(), asked once per record and only when needed */
};

static inline int hook_rec_pid(struct hook_rec *r) {
    if (!r->pid)
        r->pid = hook_getpid();
    return r->pid;
}

/* Start a record of `kind` with the call's error (0 on success). */
void hook_rec_init(struct hook_rec *r, unsigned kind, int err, uint32_t arg);
void hook_rec_stat(struct hook_rec *r, const struct stat *st);
/* Fill the stat fields from fstat(fd); false if that failed. */
bool hook_rec_fstat(struct hook_rec *r, int fd);

/* True if this process already recorded (kind, key, arg, success): the
 * record is then dropped. Inserts the key otherwise (not in a vfork child,
 * which shares the table with its parent). A hit costs no system call. */
bool hook_seen(struct hook_rec *r, const char *key, size_t n);

/* Encode and write the record with one write(2); drops it on failure. */
void hook_emit(struct hook_rec *r, const char *s1, size_t n1, const char *s2, size_t n2);

/* Make `path` (relative to `dirfd`, or the cwd for AT_FDCWD) absolute and
 * normalised into `out` (PATH_MAX bytes). Returns the length, 0 if it cannot. */
size_t hook_abs(int dirfd, const char *path, char *out);
/* The path an open descriptor names (readlink of /proc/self/fd/N); 0 if
 * it is not a path ("pipe:[..]", a deleted file). */
size_t hook_fd_path(int fd, char *out);
/* The cwd: the cached one unless a vfork child moved away from it. */
size_t hook_cwd(char *out);
/* chdir/fchdir succeeded in process `pid`: refresh the cached cwd, or (in a
 * vfork child, which shares it) stop using it in that child. */
void hook_cwd_changed(int pid);
/* nftw(FTW_CHDIR) changes the cwd behind our back: use getcwd meanwhile. */
void hook_cwd_untrusted(int delta);

/* The common case: record `kind` for (dirfd, path) with `err`, stat fields
 * from `st` (may be NULL) and de-duplication when `dedup`. */
void hook_path_event(unsigned kind, int dirfd, const char *path, int err, uint32_t arg,
                     const struct stat *st, bool dedup);
/* Two paths (rename, link): both absolutised. Never de-duplicated. */
void hook_path2_event(unsigned kind, int dirfd1, const char *p1, int dirfd2, const char *p2,
                      int err, uint32_t arg);

/* ARGV records for argv[0..argc), under `pid` (0: this process). */
void hook_emit_argv(int pid, int argc, char *const *argv);

/* The value of `name` in the process's environment, walked by hand. */
const char *hook_environ_get(const char *name);

/* ---- exec support (env.c, wrap_exec.c) ----------------------------------- */

/* The contract variables as the recording started, for re-inserting into
 * an exec's environment: "NAME=value" strings, "" when unset. */
struct hook_env {
    const char *log;        /* CORDON_LOG=... */
    const char *hook;       /* CORDON_HOOK=... */
    const char *hook_path;  /* the hook's path, the value of CORDON_HOOK */
    bool audit;             /* LD_AUDIT named the hook or its audit module */
    const char *audit_path; /* which of the two; NULL: the hook */
    const char *tunables;   /* GLIBC_TUNABLES=... under an audit module, NULL or "" */
    const char *policy;     /* CORDON_POLICY=... (enforcement), NULL or "" when unset */
    const char *notify;     /* CORDON_NOTIFY=... (the complete path), NULL or "" when unset */
};

/* The snapshot hook.c took in its constructor (or on first use). */
const struct hook_env *hook_env_snapshot(void);

#define HOOK_ENV_MAX 4096 /* envp entries we rewrite; larger ones pass as they are */
#define HOOK_ENV_EXTRA 7  /* entries hook_env_fix may add */

/* Return an envp that holds the contract variables: `envp` itself when
 * nothing is missing, else `out` (HOOK_ENV_MAX + HOOK_ENV_EXTRA + 1 slots)
 * filled with envp's entries plus the missing ones. LD_PRELOAD and LD_AUDIT
 * values that lack the hook get it prepended, written into `ld` and `la`
 * (2 * PATH_MAX bytes each). Pure: no system call, no allocation. */
char *const *hook_env_fix(const struct hook_env *snap, char *const *envp, char **out, char *ld,
                          char *la);

/* Is the program at `path` a static ELF (no PT_INTERP), or a Go program
 * (which makes its own system calls)? The hook will not see it. Scripts and
 * unreadable files are not. */
bool hook_is_static(const char *path);

/* The trampoline posix_spawn runs a static program through (wrap_exec.c):
 * cordon-exec beside the hook, a dynamic program whose argv is
 * [itself, TARGET, TARGET'S ARGV...] and whose hooked execve installs the
 * complete path's filter, since glibc's spawn child runs no wrapper. */
#define HOOK_EXEC_HELPER CORDON_EXEC_HELPER

/* The path of `name` beside the hook (its trampoline, its audit module)
 * into `out` (PATH_MAX bytes), from the hook's own path; the length, 0 when
 * that is unknown or the result does not fit. Pure: no system call. */
size_t hook_beside(const char *name, char *out);
#define hook_exec_helper(out) hook_beside(HOOK_EXEC_HELPER, (out))
