/* Processes and their context: chdir/fchdir (CHDIR, and the cached cwd),
 * the wait family (WAIT: which child ended, how), getenv/secure_getenv
 * (GETENV: what the build consulted) and dlopen (DLOPEN). */
#include <dlfcn.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "hook.h"

/* ---- cwd ----------------------------------------------------------------- */

static void chdir_event(const char *abs, size_t n, int err) {
    struct hook_rec r;
    hook_rec_init(&r, CORDON_TRACE_CHDIR, err, 0);
    if (!err) {
        hook_cwd_changed(hook_rec_pid(&r));
        struct stat sb;
        if (hook_sys6(SYS_newfstatat, AT_FDCWD, (long)".", (long)&sb, 0, 0, 0) == 0)
            hook_rec_stat(&r, &sb);
    }
    hook_emit(&r, abs, n, NULL, 0);
}

HOOK_EXPORT int chdir(const char *path) {
    __typeof__(&chdir) real = REAL(chdir);
    if (!real)
        return errno = ENOSYS, -1;
    struct hook_resolved res;
    int d = AT_FDCWD;
    const char *p = path;
    int e = hook_check(&d, &p, 0, &res);
    if (e) {
        char abs[PATH_MAX];
        size_t n = hook_active() ? hook_abs(AT_FDCWD, path, abs) : 0;
        if (n)
            chdir_event(abs, n, e);
        return errno = e, -1;
    }
    if (!hook_active()) {
        int r = real(p);
        int err = errno;
        if (r == 0 && hook_enforcing())
            hook_cwd_changed(hook_getpid());
        errno = err;
        return r;
    }
    /* The path as named, against the cwd before the change. */
    char abs[PATH_MAX];
    size_t n = hook_abs(AT_FDCWD, path, abs);
    int r = real(p);
    int err = errno;
    if (n)
        chdir_event(abs, n, r < 0 ? err : 0);
    else if (r == 0)
        hook_cwd_changed(hook_getpid());
    errno = err;
    return r;
}

HOOK_EXPORT int fchdir(int fd) {
    __typeof__(&fchdir) real = REAL(fchdir);
    if (!real)
        return errno = ENOSYS, -1;
    int r = real(fd);
    int err = errno;
    if (r == 0 && !hook_active() && hook_enforcing())
        hook_cwd_changed(hook_getpid());
    if (hook_active()) {
        char p[PATH_MAX];
        size_t n = hook_fd_path(fd, p);
        if (n)
            chdir_event(p, n, r < 0 ? err : 0);
        else if (r == 0)
            hook_cwd_changed(hook_getpid());
    }
    errno = err;
    return r;
}

/* ---- wait ---------------------------------------------------------------- */

static void wait_event(pid_t pid, int status) {
    if (pid <= 0 || !(WIFEXITED(status) || WIFSIGNALED(status)) || !hook_active())
        return;
    struct hook_rec r;
    hook_rec_init(&r, CORDON_TRACE_WAIT, 0, (uint32_t)status);
    r.h.size = (uint64_t)pid;
    hook_emit(&r, NULL, 0, NULL, 0);
}

HOOK_EXPORT pid_t wait(int *status) {
    __typeof__(&wait) real = REAL(wait);
    if (!real)
        return errno = ENOSYS, -1;
    int local = 0;
    int *sp = hook_isnull(status) ? &local : status;
    pid_t r = real(sp);
    int err = errno;
    if (r > 0)
        wait_event(r, *sp);
    errno = err;
    return r;
}

HOOK_EXPORT pid_t waitpid(pid_t pid, int *status, int options) {
    __typeof__(&waitpid) real = REAL(waitpid);
    if (!real)
        return errno = ENOSYS, -1;
    int local = 0;
    int *sp = hook_isnull(status) ? &local : status;
    pid_t r = real(pid, sp, options);
    int err = errno;
    if (r > 0)
        wait_event(r, *sp);
    errno = err;
    return r;
}

HOOK_EXPORT pid_t wait3(int *status, int options, struct rusage *ru) {
    __typeof__(&wait3) real = REAL(wait3);
    if (!real)
        return errno = ENOSYS, -1;
    int local = 0;
    int *sp = hook_isnull(status) ? &local : status;
    pid_t r = real(sp, options, ru);
    int err = errno;
    if (r > 0)
        wait_event(r, *sp);
    errno = err;
    return r;
}

HOOK_EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru) {
    __typeof__(&wait4) real = REAL(wait4);
    if (!real)
        return errno = ENOSYS, -1;
    int local = 0;
    int *sp = hook_isnull(status) ? &local : status;
    pid_t r = real(pid, sp, options, ru);
    int err = errno;
    if (r > 0)
        wait_event(r, *sp);
    errno = err;
    return r;
}

HOOK_EXPORT int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options) {
    __typeof__(&waitid) real = REAL(waitid);
    if (!real)
        return errno = ENOSYS, -1;
    int r = real(idtype, id, info, options);
    int err = errno;
    if (r == 0 && !hook_isnull(info) && info->si_pid > 0 && !(options & WNOWAIT)) {
        switch (info->si_code) {
        case CLD_EXITED:
            wait_event(info->si_pid, W_EXITCODE(info->si_status, 0));
            break;
        case CLD_KILLED:
            wait_event(info->si_pid, info->si_status & 0x7f);
            break;
        case CLD_DUMPED:
            wait_event(info->si_pid, (info->si_status & 0x7f) | 0x80);
            break;
        default:
            break;
        }
    }
    errno = err;
    return r;
}

/* ---- environment --------------------------------------------------------- */

static void getenv_event(const char *name, const char *value) {
    if (hook_isnull(name) || !hook_active())
        return;
    struct hook_rec r;
    size_t n = strlen(name);
    hook_rec_init(&r, CORDON_TRACE_GETENV, 0, value ? 1 : 0);
    if (hook_seen(&r, name, n))
        return;
    hook_emit(&r, name, n, value, value ? strlen(value) : 0);
}

HOOK_EXPORT char *getenv(const char *name) {
    __typeof__(&getenv) real = REAL(getenv);
    if (!real)
        return NULL;
    char *v = real(name);
    int err = errno;
    getenv_event(name, v);
    errno = err;
    return v;
}

HOOK_EXPORT char *secure_getenv(const char *name) {
    __typeof__(&secure_getenv) real = REAL(secure_getenv);
    if (!real)
        return NULL;
    char *v = real(name);
    int err = errno;
    getenv_event(name, v);
    errno = err;
    return v;
}

/* ---- dlopen -------------------------------------------------------------- */

/* glibc's dlopen searches with the caller's RUNPATH/RPATH, expands $ORIGIN
 * against it and loads into its namespace, all found from the return
 * address. Calling the real dlopen from here would make the hook the
 * caller; where that could change the answer, the wrapper tail-calls
 * instead and leaves the record to LD_AUDIT. */
static bool caller_matters(const void *ret, const char *file) {
    bool slash = strchr(file, '/') != NULL;
    if (strchr(file, '$'))
        return true;
    if (slash)
        return false;
    Dl_info info;
    struct link_map *lm = NULL;
    if (!dladdr1(ret, &info, (void **)&lm, RTLD_DL_LINKMAP) || !lm)
        return true;
    Lmid_t ns = LM_ID_BASE;
    if (dlinfo(lm, RTLD_DI_LMID, &ns) != 0 || ns != LM_ID_BASE)
        return true;
    for (const ElfW(Dyn) *d = lm->l_ld; d && d->d_tag != DT_NULL; d++)
        if (d->d_tag == DT_RPATH || d->d_tag == DT_RUNPATH)
            return true;
    return false;
}

__attribute__((noinline)) static void *dlopen_recorded(const char *file, int mode) {
    __typeof__(&dlopen) real = REAL(dlopen);
    void *h = real(file, mode);
    int err = errno;
    struct hook_rec r;
    char abs[PATH_MAX];
    const char *s1 = file;
    hook_rec_init(&r, CORDON_TRACE_DLOPEN, h ? 0 : ENOENT, 0);
    size_t n1 = strchr(file, '/') ? hook_abs(AT_FDCWD, file, abs) : 0;
    if (n1)
        s1 = abs;
    else
        n1 = strlen(file);
    if (hook_seen(&r, s1, n1)) {
        errno = err;
        return h;
    }
    const char *obj = NULL;
    struct link_map *lm = NULL;
    if (h && dlinfo(h, RTLD_DI_LINKMAP, &lm) == 0 && lm && lm->l_name && lm->l_name[0] == '/') {
        obj = lm->l_name;
        struct stat sb;
        if (hook_sys6(SYS_newfstatat, AT_FDCWD, (long)obj, (long)&sb, 0, 0, 0) == 0)
            hook_rec_stat(&r, &sb);
    }
    hook_emit(&r, s1, n1, obj, obj ? strlen(obj) : 0);
    errno = err;
    return h;
}

HOOK_EXPORT void *dlopen(const char *file, int mode) {
    __typeof__(&dlopen) real = REAL(dlopen);
    if (!real)
        return NULL;
    int saved = errno;
    /* A library named by its path: the policy first (a name the loader
     * searches for is LD_AUDIT's, where the runner loads it). dlerror()
     * then says nothing, as for a library the loader could not find. */
    if (!hook_isnull(file) && strchr(file, '/') && hook_enforcing()) {
        struct hook_resolved res;
        if (hook_enforce(AT_FDCWD, file, 0, &res)) {
            errno = saved;
            return NULL;
        }
    }
    bool tail =
        hook_isnull(file) || !hook_active() || caller_matters(__builtin_return_address(0), file);
    errno = saved;
    if (tail)
        return real(file, mode); /* a tail call: the loader sees our caller */
    return dlopen_recorded(file, mode);
}
