/* The complete path's fast lane: the hook's own system call site.
 *
 * Under `--complete=always` every process runs under the recorder's seccomp
 * filter, which hands each path call to the supervisor (about 10 us a
 * round trip). A call the hook wraps is recorded by the hook already; sent
 * to the supervisor as well it is recorded twice and paid for twice. So the
 * hook maps one page at a fixed address (SECCOMP_STUB_ADDR) holding
 * `syscall; ret`, the filter lets calls made from that instruction through,
 * and while the page is there:
 *   - the hook's raw system calls (hook_sys6) go through it;
 *   - the wrapped functions that are one system call (open, stat, access,
 *     readlink, unlink, mkdir, rename ...) are done here through it instead
 *     of by libc, and so are fopen and opendir (an open, then libc's fdopen
 *     and fdopendir) and realpath (an O_PATH open and one readlink of
 *     /proc/self/fd/N, instead of glibc's lstat and readlink per component).
 * What still reaches the supervisor is what the hook cannot see: the
 * loader's opens, libc's internal ones, raw system calls, static programs.
 *
 * A program could jump to the page on purpose and go unrecorded: the
 * recording is a record of a cooperating build, not a sandbox. The
 * enforcing filter (`cordon run --backend hook`) has no such exemption, and
 * the page is not mapped under a policy. x86_64 only; elsewhere the hook
 * keeps calling libc and every call crosses to the supervisor. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hook.h"

/* ---- the wrapped functions, done here ------------------------------------ */

/* libc's convention from the kernel's. */
static long ret(long r) {
    if (r < 0 && r > -4096) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

#define SYS2(n, a, b) ret(hook_sys((n), (a), (b), 0, 0))
#define SYS3(n, a, b, c) ret(hook_sys((n), (a), (b), (c), 0))
#define SYS4(n, a, b, c, d) ret(hook_sys((n), (a), (b), (c), (d)))

static mode_t va_mode(int flags, va_list ap) {
    return NEEDS_MODE(flags) ? va_arg(ap, mode_t) : 0;
}

static int d_open(const char *p, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t m = va_mode(flags, ap);
    va_end(ap);
    return (int)SYS4(SYS_openat, AT_FDCWD, p, flags, m);
}

static int d_openat(int d, const char *p, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t m = va_mode(flags, ap);
    va_end(ap);
    return (int)SYS4(SYS_openat, d, p, flags, m);
}

static int d_creat(const char *p, mode_t m) {
    return (int)SYS4(SYS_openat, AT_FDCWD, p, O_CREAT | O_WRONLY | O_TRUNC, m);
}

/* The _FORTIFY_SOURCE forms abort on a create without a mode: libc's. */
static int d_open_2(const char *p, int flags) {
    if (NEEDS_MODE(flags))
        return ((__typeof__(&__open_2))hook_real_libc(HOOK_ID___open_2))(p, flags);
    return (int)SYS4(SYS_openat, AT_FDCWD, p, flags, 0);
}

static int d_openat_2(int d, const char *p, int flags) {
    if (NEEDS_MODE(flags))
        return ((__typeof__(&__openat_2))hook_real_libc(HOOK_ID___openat_2))(d, p, flags);
    return (int)SYS4(SYS_openat, d, p, flags, 0);
}

static int d_stat(const char *p, struct stat *b) {
    return (int)SYS4(SYS_newfstatat, AT_FDCWD, p, b, 0);
}

static int d_lstat(const char *p, struct stat *b) {
    return (int)SYS4(SYS_newfstatat, AT_FDCWD, p, b, AT_SYMLINK_NOFOLLOW);
}

static int d_fstatat(int d, const char *p, struct stat *b, int flags) {
    return (int)SYS4(SYS_newfstatat, d, p, b, flags);
}

static int d_statx(int d, const char *p, int flags, unsigned mask, struct statx *b) {
    return (int)ret(hook_sys6(SYS_statx, d, (long)p, flags, mask, (long)b, 0));
}

static int d_access(const char *p, int mode) {
    return (int)SYS3(SYS_faccessat, AT_FDCWD, p, mode);
}

/* With flags, faccessat2 (Linux 5.8); without it, libc's emulation. */
static int d_faccessat(int d, const char *p, int mode, int flags) {
    if (!flags)
        return (int)SYS3(SYS_faccessat, d, p, mode);
    long r = hook_sys(SYS_faccessat2, d, p, mode, flags);
    if (r == -ENOSYS)
        return ((__typeof__(&faccessat))hook_real_libc(HOOK_ID_faccessat))(d, p, mode, flags);
    return (int)ret(r);
}

static int d_euidaccess(const char *p, int mode) {
    long r = hook_sys(SYS_faccessat2, AT_FDCWD, p, mode, AT_EACCESS);
    if (r == -ENOSYS)
        return ((__typeof__(&euidaccess))hook_real_libc(HOOK_ID_euidaccess))(p, mode);
    return (int)ret(r);
}

static ssize_t d_readlink(const char *p, char *buf, size_t n) {
    return SYS4(SYS_readlinkat, AT_FDCWD, p, buf, n);
}

static ssize_t d_readlinkat(int d, const char *p, char *buf, size_t n) {
    return SYS4(SYS_readlinkat, d, p, buf, n);
}

static int d_unlink(const char *p) {
    return (int)SYS3(SYS_unlinkat, AT_FDCWD, p, 0);
}

static int d_unlinkat(int d, const char *p, int flags) {
    return (int)SYS3(SYS_unlinkat, d, p, flags);
}

static int d_rmdir(const char *p) {
    return (int)SYS3(SYS_unlinkat, AT_FDCWD, p, AT_REMOVEDIR);
}

static int d_mkdir(const char *p, mode_t m) {
    return (int)SYS3(SYS_mkdirat, AT_FDCWD, p, m);
}

static int d_mkdirat(int d, const char *p, mode_t m) {
    return (int)SYS3(SYS_mkdirat, d, p, m);
}

static int d_rename(const char *a, const char *b) {
    return (int)ret(hook_sys6(SYS_renameat2, AT_FDCWD, (long)a, AT_FDCWD, (long)b, 0, 0));
}

static int d_renameat(int da, const char *a, int db, const char *b) {
    return (int)ret(hook_sys6(SYS_renameat2, da, (long)a, db, (long)b, 0, 0));
}

static int d_renameat2(int da, const char *a, int db, const char *b, unsigned flags) {
    return (int)ret(hook_sys6(SYS_renameat2, da, (long)a, db, (long)b, flags, 0));
}

static int d_link(const char *a, const char *b) {
    return (int)ret(hook_sys6(SYS_linkat, AT_FDCWD, (long)a, AT_FDCWD, (long)b, 0, 0));
}

static int d_linkat(int da, const char *a, int db, const char *b, int flags) {
    return (int)ret(hook_sys6(SYS_linkat, da, (long)a, db, (long)b, flags, 0));
}

static int d_symlink(const char *target, const char *p) {
    return (int)SYS3(SYS_symlinkat, target, AT_FDCWD, p);
}

static int d_symlinkat(const char *target, int d, const char *p) {
    return (int)SYS3(SYS_symlinkat, target, d, p);
}

static int d_truncate(const char *p, off_t len) {
    return (int)SYS2(SYS_truncate, p, len);
}

static int d_chmod(const char *p, mode_t m) {
    return (int)SYS3(SYS_fchmodat, AT_FDCWD, p, m);
}

/* AT_SYMLINK_NOFOLLOW needs libc's emulation (or fchmodat2). */
static int d_fchmodat(int d, const char *p, mode_t m, int flags) {
    if (flags)
        return ((__typeof__(&fchmodat))hook_real_libc(HOOK_ID_fchmodat))(d, p, m, flags);
    return (int)SYS3(SYS_fchmodat, d, p, m);
}

/* glibc refuses a NULL path (the kernel would take it as futimens). */
static int d_utimensat(int d, const char *p, const struct timespec t[2], int flags) {
    if (hook_isnull(p))
        return errno = EINVAL, -1;
    return (int)SYS4(SYS_utimensat, d, p, t, flags);
}

static int d_chdir(const char *p) {
    return (int)ret(hook_sys(SYS_chdir, p, 0, 0, 0));
}

/* fopen's open done here, the FILE made by libc's fdopen, which reads the
 * same mode letters. A ",ccs=" mode is left to libc's fopen whole. */
static FILE *fopen_via(const char *p, const char *mode, enum hook_id id) {
    if (hook_isnull(p) || hook_isnull(mode) || strchr(mode, ','))
        return ((__typeof__(&fopen))hook_real_libc(id))(p, mode);
    int flags = hook_fopen_flags(mode);
    if (mode[0] != 'r' && mode[0] != 'w' && mode[0] != 'a')
        return errno = EINVAL, NULL;
    long fd = hook_sys(SYS_openat, AT_FDCWD, p, flags, 0666);
    if (fd < 0)
        return errno = (int)-fd, NULL;
    FILE *f = fdopen((int)fd, mode);
    if (!f) {
        int e = errno;
        hook_sys(SYS_close, fd, 0, 0, 0);
        errno = e;
    }
    return f;
}

static FILE *d_fopen(const char *p, const char *mode) {
    return fopen_via(p, mode, HOOK_ID_fopen);
}

static FILE *d_fopen64(const char *p, const char *mode) {
    return fopen_via(p, mode, HOOK_ID_fopen64);
}

/* The flags glibc's opendir opens with, then libc's fdopendir. */
static DIR *d_opendir(const char *p) {
    if (hook_isnull(p))
        return ((__typeof__(&opendir))hook_real_libc(HOOK_ID_opendir))(p);
    long fd = hook_sys(SYS_openat, AT_FDCWD, p, O_RDONLY | O_NONBLOCK | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0)
        return errno = (int)-fd, NULL;
    __typeof__(&fdopendir) fdo = (__typeof__(&fdopendir))hook_real_libc(HOOK_ID_fdopendir);
    DIR *d = fdo ? fdo((int)fd) : NULL;
    if (!d) {
        int e = fdo ? errno : ENOSYS;
        hook_sys(SYS_close, fd, 0, 0, 0);
        errno = e;
    }
    return d;
}

/* realpath as the kernel resolves the path: open it O_PATH and read back
 * the name of what was opened. A name that is not a path (a pipe behind
 * /proc/self/fd/N) or no /proc: libc's own walk. Without a buffer the
 * result is malloc'd, as realpath's contract says: the hook's one
 * allocation, in a function no signal handler or vfork child may call. */
static char *realpath_via(const char *p, char *resolved, enum hook_id id) {
    if (hook_isnull(p) || !p[0]) {
        errno = hook_isnull(p) ? EINVAL : ENOENT;
        return NULL;
    }
    long fd = hook_sys(SYS_openat, AT_FDCWD, p, O_PATH | O_CLOEXEC, 0);
    if (fd < 0)
        return errno = (int)-fd, NULL;
    char link[32] = "/proc/self/fd/", digits[12], buf[PATH_MAX];
    size_t k = 0, at = strlen(link);
    for (long v = fd; k == 0 || v; v /= 10)
        digits[k++] = (char)('0' + v % 10);
    while (k)
        link[at++] = digits[--k];
    link[at] = 0;
    long n = hook_sys(SYS_readlinkat, AT_FDCWD, link, buf, sizeof buf);
    hook_sys(SYS_close, fd, 0, 0, 0);
    if (n <= 0 || n >= (long)sizeof buf || buf[0] != '/') {
        if (id == HOOK_ID_realpath)
            return ((__typeof__(&realpath))hook_real_libc(id))(p, resolved);
        return ((__typeof__(&canonicalize_file_name))hook_real_libc(id))(p);
    }
    buf[n] = 0;
    if (resolved)
        return memcpy(resolved, buf, (size_t)n + 1);
    char *out = malloc((size_t)n + 1);
    if (!out)
        return errno = ENOMEM, NULL;
    return memcpy(out, buf, (size_t)n + 1);
}

static char *d_realpath(const char *p, char *resolved) {
    return realpath_via(p, resolved, HOOK_ID_realpath);
}

static char *d_canonicalize_file_name(const char *p) {
    return realpath_via(p, NULL, HOOK_ID_canonicalize_file_name);
}

/* Slots with a function here; hook_real() picks it while the page is on. */
void *const hook_direct[HOOK_ID_MAX] = {
    [HOOK_ID_open] = (void *)d_open,
    [HOOK_ID_open64] = (void *)d_open,
    [HOOK_ID_openat] = (void *)d_openat,
    [HOOK_ID_openat64] = (void *)d_openat,
    [HOOK_ID_creat] = (void *)d_creat,
    [HOOK_ID_creat64] = (void *)d_creat,
    [HOOK_ID___open_2] = (void *)d_open_2,
    [HOOK_ID___open64_2] = (void *)d_open_2,
    [HOOK_ID___openat_2] = (void *)d_openat_2,
    [HOOK_ID___openat64_2] = (void *)d_openat_2,
    [HOOK_ID_fopen] = (void *)d_fopen,
    [HOOK_ID_fopen64] = (void *)d_fopen64,
    [HOOK_ID_stat] = (void *)d_stat,
    [HOOK_ID_stat64] = (void *)d_stat,
    [HOOK_ID_lstat] = (void *)d_lstat,
    [HOOK_ID_lstat64] = (void *)d_lstat,
    [HOOK_ID_fstatat] = (void *)d_fstatat,
    [HOOK_ID_fstatat64] = (void *)d_fstatat,
    [HOOK_ID_statx] = (void *)d_statx,
    [HOOK_ID_access] = (void *)d_access,
    [HOOK_ID_faccessat] = (void *)d_faccessat,
    [HOOK_ID_euidaccess] = (void *)d_euidaccess,
    [HOOK_ID_eaccess] = (void *)d_euidaccess,
    [HOOK_ID_readlink] = (void *)d_readlink,
    [HOOK_ID_readlinkat] = (void *)d_readlinkat,
    [HOOK_ID_realpath] = (void *)d_realpath,
    [HOOK_ID_canonicalize_file_name] = (void *)d_canonicalize_file_name,
    [HOOK_ID_opendir] = (void *)d_opendir,
    [HOOK_ID_unlink] = (void *)d_unlink,
    [HOOK_ID_unlinkat] = (void *)d_unlinkat,
    [HOOK_ID_rmdir] = (void *)d_rmdir,
    [HOOK_ID_mkdir] = (void *)d_mkdir,
    [HOOK_ID_mkdirat] = (void *)d_mkdirat,
    [HOOK_ID_rename] = (void *)d_rename,
    [HOOK_ID_renameat] = (void *)d_renameat,
    [HOOK_ID_renameat2] = (void *)d_renameat2,
    [HOOK_ID_link] = (void *)d_link,
    [HOOK_ID_linkat] = (void *)d_linkat,
    [HOOK_ID_symlink] = (void *)d_symlink,
    [HOOK_ID_symlinkat] = (void *)d_symlinkat,
    [HOOK_ID_truncate] = (void *)d_truncate,
    [HOOK_ID_truncate64] = (void *)d_truncate,
    [HOOK_ID_chmod] = (void *)d_chmod,
    [HOOK_ID_fchmodat] = (void *)d_fchmodat,
    [HOOK_ID_utimensat] = (void *)d_utimensat,
    [HOOK_ID_chdir] = (void *)d_chdir,
};
