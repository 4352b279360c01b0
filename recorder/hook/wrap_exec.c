/* The exec family: execve and everything glibc builds on its internal
 * __execve (execv*, execl*, fexecve, execveat, posix_spawn[p], system,
 * popen), which no hook sees, so each is wrapped here and the PATH search of
 * execvp/posix_spawnp is done here, over candidates we can record.
 *
 * An EXEC record goes out before the real call (a successful exec does not
 * return), with arg 1 for a static target, followed by that target's ARGV
 * (no hook will run in it to say). A failed exec gets a second EXEC record
 * with the error. Every exec carries the contract variables over, even
 * through `env -i`. A static program posix_spawn starts goes through the
 * cordon-exec trampoline, whose hooked execve does the same. */
#include <elf.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "hook.h"
#include "../trace_seccomp.h"

extern char **environ;

#define ARGS_MAX 8000 /* execl* and script argv built on the stack */

static bool has_interp(int fd, unsigned phoff, unsigned long phoff64, unsigned phnum,
                       unsigned phentsize, size_t need) {
    unsigned char tbl[8192];
    size_t want = (size_t)phnum * phentsize;
    unsigned long off = phoff ? phoff : phoff64;
    if (phentsize < need || want > sizeof tbl)
        return true; /* not what we can read: do not claim it is static */
    if (hook_sys6(SYS_pread64, fd, (long)tbl, (long)want, (long)off, 0, 0) != (long)want)
        return true;
    bool interp = false;
    for (unsigned i = 0; i < phnum; i++) {
        const unsigned char *ph = tbl + (size_t)i * phentsize;
        uint32_t type;
        memcpy(&type, ph, sizeof type); /* p_type comes first */
        if (type == PT_INTERP)
            interp = true;
        /* A Go program makes its own system calls even when dynamically
         * linked: to the hook it is as blind as a static one. */
        if (type == PT_NOTE && need == sizeof(Elf64_Phdr)) {
            Elf64_Phdr note;
            memcpy(&note, ph, sizeof note);
            if (seccomp_go_note(fd, note.p_offset, note.p_filesz))
                return false;
        }
    }
    return interp;
}

bool hook_is_static(const char *path) {
    int fd = (int)hook_sys6(SYS_openat, AT_FDCWD, (long)path, O_RDONLY | O_CLOEXEC, 0, 0, 0);
    if (fd < 0)
        return false;
    Elf64_Ehdr eh; /* an Elf32_Ehdr is a prefix of it */
    bool is_static = false;
    long n = hook_sys6(SYS_pread64, fd, (long)&eh, sizeof eh, 0, 0, 0);
    if (n >= (long)sizeof(Elf32_Ehdr) && !memcmp(eh.e_ident, ELFMAG, SELFMAG)) {
        if (eh.e_ident[EI_CLASS] == ELFCLASS64 && n == (long)sizeof eh) {
            is_static =
                (eh.e_type == ET_EXEC || eh.e_type == ET_DYN) &&
                !has_interp(fd, 0, eh.e_phoff, eh.e_phnum, eh.e_phentsize, sizeof(Elf64_Phdr));
        } else if (eh.e_ident[EI_CLASS] == ELFCLASS32) {
            Elf32_Ehdr e32;
            memcpy(&e32, &eh, sizeof e32);
            is_static =
                !has_interp(fd, e32.e_phoff, 0, e32.e_phnum, e32.e_phentsize, sizeof(Elf32_Phdr));
        }
    }
    hook_sys(SYS_close, fd, 0, 0, 0);
    return is_static;
}

static int count(char *const *v) {
    int n = 0;
    while (!hook_isnull(v) && v[n])
        n++;
    return n;
}

/* The complete path (--complete): a static program gets the recorder's
 * seccomp filter, installed here since no hook will run in it. A process
 * already under the filter (in --complete=always, or below a static program)
 * does not stack a second one. If the exec then fails, the caller stays
 * under the filter: its calls are recorded twice, which costs time only. */
static bool observe_static(void) {
    const char *sock = hook_environ_get(CORDON_ENV_NOTIFY);
    if (!sock || !*sock)
        return false;
    return seccomp_observed() || seccomp_observe(sock) == 0;
}

/* The EXEC record before the call. */
static void exec_before(const char *abs, size_t n, char *const *argv) {
    struct hook_rec r;
    bool is_static = hook_is_static(abs);
    uint32_t arg = is_static ? CORDON_TRACE_EXEC_STATIC : 0;
    if (is_static && observe_static())
        arg |= CORDON_TRACE_EXEC_SECCOMP;
    hook_rec_init(&r, CORDON_TRACE_EXEC, 0, arg);
    hook_emit(&r, abs, n, NULL, 0);
    if (is_static)
        hook_emit_argv(0, count(argv), argv);
}

static void exec_failed(const char *abs, size_t n, int err) {
    struct hook_rec r;
    hook_rec_init(&r, CORDON_TRACE_EXEC, err, 0);
    hook_emit(&r, abs, n, NULL, 0);
}

/* One line on stderr, one write(2). */
static void say(const char *a, const char *b, const char *c) {
    char line[2 * PATH_MAX];
    size_t n = 0;
    const char *parts[] = {"cordon: ", a, b, c, "\n"};
    for (size_t i = 0; i < 5; i++)
        for (const char *p = parts[i]; p && *p && n < sizeof line - 1; p++)
            line[n++] = *p;
    hook_sys(SYS_write, 2, line, n, 0);
}

/* Enforcing without recording: a static program (or a Go one) gets the
 * complete path's filter, whose supervisor enforces the policy in it; where
 * there is none, it runs outside the policy, and says so. */
static void enforce_static(const char *target) {
    if (!hook_is_static(target) || observe_static())
        return;
    say("'", target,
        "' is a static program: the policy is not enforced in it "
        "(no seccomp supervisor)");
}

/* Before an exec of `target` (the host path the policy resolved, or the
 * caller's): the EXEC record when recording (abs, n), else the complete
 * path for a static program when enforcing. */
static void exec_prepare(const char *target, const char *abs, size_t n, char *const *argv) {
    if (hook_active()) {
        if (n)
            exec_before(abs, n, argv);
    } else if (hook_enforcing()) {
        enforce_static(target);
    }
}

/* Returns only on failure, with the errno. */
static int exec_one(const char *path, char *const argv[], char *const envp[]) {
    __typeof__(&execve) real = REAL(execve);
    if (!real)
        return ENOSYS;
    if (!hook_active() && !hook_enforcing()) {
        real(path, argv, envp);
        return errno;
    }
    char abs[PATH_MAX];
    size_t n = hook_active() ? hook_abs(AT_FDCWD, path, abs) : 0;
    struct hook_resolved res;
    int d = AT_FDCWD;
    const char *p = path;
    int e = hook_check(&d, &p, 0, &res);
    if (e) {
        if (n)
            exec_failed(abs, n, e);
        return e;
    }
    exec_prepare(p, abs, n, argv);
    char *fixed[HOOK_ENV_MAX + HOOK_ENV_EXTRA + 1];
    char ld[2 * PATH_MAX], la[2 * PATH_MAX];
    real(p, argv, hook_env_fix(hook_env_snapshot(), envp, fixed, ld, la));
    int err = errno;
    if (n)
        exec_failed(abs, n, err);
    return err;
}

/* What execvp does with a file the kernel cannot run: /bin/sh runs it. */
static int exec_script(const char *path, char *const argv[], char *const envp[]) {
    int n = count(argv);
    if (n > ARGS_MAX)
        return ENOEXEC;
    char *sh[(n < 1 ? 1 : n) + 2];
    sh[0] = (char *)"/bin/sh";
    sh[1] = (char *)path;
    for (int i = 1; i <= n; i++)
        sh[i + 1] = argv[i];
    if (n == 0)
        sh[2] = NULL;
    return exec_one("/bin/sh", sh, envp);
}

/* A PATH candidate that does not exist is a probe: record it. Returns 0 if
 * it exists, else the errno. */
static int probe(const char *cand, bool regular) {
    struct stat sb;
    long r = hook_sys6(SYS_newfstatat, AT_FDCWD, (long)cand, (long)&sb, 0, 0, 0);
    int err = r < 0 ? (int)-r : 0;
    if (!err && regular && !S_ISREG(sb.st_mode))
        err = EACCES;
    if (err)
        hook_path_event(CORDON_TRACE_STAT, AT_FDCWD, cand, err, 0, NULL, true);
    return err;
}

/* Join a PATH element and a file name; false if it does not fit. */
static bool candidate(char *cand, const char *dir, size_t dlen, const char *file, size_t flen) {
    if (dlen + 1 + flen + 1 > PATH_MAX)
        return false;
    if (dlen) {
        memcpy(cand, dir, dlen);
        cand[dlen++] = '/';
    }
    memcpy(cand + dlen, file, flen + 1);
    return true;
}

/* PATH search as glibc's execvpe does it (the caller's PATH, not envp's). */
static int exec_path(const char *file, char *const argv[], char *const envp[]) {
    if (hook_isnull(file) || !*file)
        return ENOENT;
    if (strchr(file, '/')) {
        int e = exec_one(file, argv, envp);
        return e == ENOEXEC ? exec_script(file, argv, envp) : e;
    }
    const char *path = hook_environ_get("PATH");
    if (!path)
        path = "/bin:/usr/bin";
    size_t flen = strlen(file);
    bool eacces = false;
    for (const char *d = path;; d++) {
        const char *end = strchrnul(d, ':');
        char cand[PATH_MAX];
        if (candidate(cand, d, (size_t)(end - d), file, flen)) {
            int e = hook_active() ? probe(cand, false) : 0;
            if (!e)
                e = exec_one(cand, argv, envp);
            switch (e) {
            case EACCES:
                eacces = true;
                break;
            case ENOENT:
            case ENOTDIR:
            case ESTALE:
            case ENODEV:
            case ETIMEDOUT:
                break;
            case ENOEXEC:
                return exec_script(cand, argv, envp);
            default:
                return e;
            }
        }
        if (!*end)
            break;
        d = end;
    }
    return eacces ? EACCES : ENOENT;
}

HOOK_EXPORT int execve(const char *path, char *const argv[], char *const envp[]) {
    errno = exec_one(path, argv, envp);
    return -1;
}

HOOK_EXPORT int execv(const char *path, char *const argv[]) {
    errno = exec_one(path, argv, environ);
    return -1;
}

HOOK_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[]) {
    errno = exec_path(file, argv, envp);
    return -1;
}

HOOK_EXPORT int execvp(const char *file, char *const argv[]) {
    errno = exec_path(file, argv, environ);
    return -1;
}

/* The execl family: count with va_copy, then fill a stack array. */
static size_t count_va(va_list ap) {
    size_t n = 1;
    va_list cp;
    va_copy(cp, ap);
    while (va_arg(cp, char *) && n <= ARGS_MAX)
        n++;
    va_end(cp);
    return n;
}

HOOK_EXPORT int execl(const char *path, const char *arg, ...) {
    va_list ap;
    va_start(ap, arg);
    size_t n = count_va(ap);
    if (n > ARGS_MAX) {
        va_end(ap);
        errno = E2BIG;
        return -1;
    }
    char *argv[n + 1];
    argv[0] = (char *)arg;
    for (size_t i = 1; i <= n; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    errno = exec_one(path, argv, environ);
    return -1;
}

HOOK_EXPORT int execlp(const char *file, const char *arg, ...) {
    va_list ap;
    va_start(ap, arg);
    size_t n = count_va(ap);
    if (n > ARGS_MAX) {
        va_end(ap);
        errno = E2BIG;
        return -1;
    }
    char *argv[n + 1];
    argv[0] = (char *)arg;
    for (size_t i = 1; i <= n; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    errno = exec_path(file, argv, environ);
    return -1;
}

HOOK_EXPORT int execle(const char *path, const char *arg, ...) {
    va_list ap;
    va_start(ap, arg);
    size_t n = count_va(ap);
    if (n > ARGS_MAX) {
        va_end(ap);
        errno = E2BIG;
        return -1;
    }
    char *argv[n + 1];
    argv[0] = (char *)arg;
    for (size_t i = 1; i <= n; i++)
        argv[i] = va_arg(ap, char *);
    char *const *envp = va_arg(ap, char *const *);
    va_end(ap);
    errno = exec_one(path, argv, envp);
    return -1;
}

HOOK_EXPORT int fexecve(int fd, char *const argv[], char *const envp[]) {
    __typeof__(&fexecve) real = REAL(fexecve);
    if (!real)
        return errno = ENOSYS, -1;
    if (!hook_active() && !hook_enforcing())
        return real(fd, argv, envp);
    char abs[PATH_MAX];
    size_t n = hook_fd_path(fd, abs);
    if (n)
        exec_prepare(abs, abs, n, argv);
    char *fixed[HOOK_ENV_MAX + HOOK_ENV_EXTRA + 1];
    char ld[2 * PATH_MAX], la[2 * PATH_MAX];
    real(fd, argv, hook_env_fix(hook_env_snapshot(), envp, fixed, ld, la));
    int err = errno;
    if (n)
        exec_failed(abs, n, err);
    errno = err;
    return -1;
}

HOOK_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
                         int flags) {
    __typeof__(&execveat) real = REAL(execveat);
    if (!real)
        return errno = ENOSYS, -1;
    if (!hook_active() && !hook_enforcing())
        return real(dirfd, path, argv, envp, flags);
    bool fd_only = (flags & AT_EMPTY_PATH) && !hook_isnull(path) && !path[0];
    struct hook_resolved res;
    int d = dirfd;
    const char *p = path;
    int e = fd_only
                ? 0
                : hook_check(&d, &p, (flags & AT_SYMLINK_NOFOLLOW) ? HOOK_ENF_NOFOLLOW : 0, &res);
    char abs[PATH_MAX];
    size_t n = fd_only ? hook_fd_path(dirfd, abs) : hook_abs(dirfd, path, abs);
    if (e) {
        if (n && hook_active())
            exec_failed(abs, n, e);
        return errno = e, -1;
    }
    if (n)
        exec_prepare(fd_only ? abs : p, abs, n, argv);
    char *fixed[HOOK_ENV_MAX + HOOK_ENV_EXTRA + 1];
    char ld[2 * PATH_MAX], la[2 * PATH_MAX];
    real(d, p, argv, hook_env_fix(hook_env_snapshot(), envp, fixed, ld, la), flags);
    int err = errno;
    if (n)
        exec_failed(abs, n, err);
    errno = err;
    return -1;
}

size_t hook_beside(const char *name, char *out) {
    const char *hook = hook_env_snapshot()->hook_path;
    const char *slash = hook ? strrchr(hook, '/') : NULL;
    if (!slash)
        return 0;
    size_t d = (size_t)(slash - hook) + 1, n = strlen(name);
    if (d + n + 1 > PATH_MAX)
        return 0;
    memcpy(out, hook, d);
    memcpy(out + d, name, n + 1);
    return d + n;
}

/* Can `path` be executed by this process's effective ids? */
static bool executable(const char *path) {
    long r = hook_sys6(SYS_faccessat2, AT_FDCWD, (long)path, X_OK, AT_EACCESS, 0, 0);
    if (r == -ENOSYS)
        r = hook_sys(SYS_access, path, X_OK, 0, 0);
    return r == 0;
}

/* Should the spawn of static `target` go through the trampoline? Only when
 * the complete path is on and not already inherited (under the filter the
 * child is observed anyway), and only for a target that will exec: the
 * helper's failed exec would be an exit status 127 where posix_spawn must
 * return the error, so a target that cannot run goes to the real
 * posix_spawn, as does everything when the helper is missing. */
static bool use_trampoline(const char *target, char *helper) {
    const char *sock = hook_environ_get(CORDON_ENV_NOTIFY);
    if (!sock || !*sock || seccomp_observed())
        return false;
    return hook_exec_helper(helper) && executable(target) && executable(helper);
}

/* posix_spawn returns the error instead of setting errno. */
static int spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                 const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
    __typeof__(&posix_spawn) real = REAL(posix_spawn);
    if (!real)
        return ENOSYS;
    bool recording = hook_active();
    if (!recording && !hook_enforcing())
        return real(pid, path, fa, attr, argv, envp);
    char abs[PATH_MAX];
    size_t n = recording ? hook_abs(AT_FDCWD, path, abs) : 0;
    struct hook_resolved res;
    int d = AT_FDCWD;
    const char *p = path;
    int e = hook_check(&d, &p, 0, &res);
    if (e) {
        if (n) {
            struct hook_rec rec_err;
            hook_rec_init(&rec_err, CORDON_TRACE_EXEC, e, 0);
            hook_emit(&rec_err, abs, n, NULL, 0);
        }
        return e;
    }
    bool is_static = (n || !recording) && hook_is_static(p);
    /* glibc's spawn child runs no wrapper: when enforcing, the caller joins
     * the complete path itself, and its static child inherits the filter. */
    if (is_static && hook_enforcing())
        enforce_static(p);
    /* glibc's spawn child runs no wrapper either when recording: a static
     * program is spawned through the trampoline, whose hooked execve
     * installs the filter, records the exec and execs it in the same
     * process, so that file actions and attributes apply as they would. */
    char helper[PATH_MAX];
    int argc = count(argv);
    bool tramp =
        n && is_static && !hook_enforcing() && argc <= ARGS_MAX && use_trampoline(p, helper);
    char *targv[tramp ? argc + 3 : 1];
    if (tramp) {
        targv[0] = helper;
        targv[1] = (char *)p; /* as given: a file action may chdir first */
        for (int i = 0; i < argc; i++)
            targv[i + 2] = argv[i];
        targv[argc + 2] = NULL;
    }
    char *fixed[HOOK_ENV_MAX + HOOK_ENV_EXTRA + 1];
    char ld[2 * PATH_MAX], la[2 * PATH_MAX];
    pid_t child = 0;
    if (hook_isnull(pid))
        pid = &child; /* allowed to be NULL; we want the child's pid */
    int r = real(pid, tramp ? helper : p, fa, attr, tramp ? targv : argv,
                 hook_env_fix(hook_env_snapshot(), envp, fixed, ld, la));
    if (!n || (tramp && !r))
        return r; /* the trampoline's hook recorded the exec */
    /* Unlike exec, spawn returns: one record, after the call, under the
     * child's pid (the process that ran the program), or the caller's with
     * the error. A caller under the filter passed it on to the child. */
    struct hook_rec rec;
    uint32_t arg = 0;
    if (!r && is_static)
        arg = CORDON_TRACE_EXEC_STATIC | (seccomp_observed() ? CORDON_TRACE_EXEC_SECCOMP : 0);
    hook_rec_init(&rec, CORDON_TRACE_EXEC, r, arg);
    if (!r)
        rec.pid = *pid;
    hook_emit(&rec, abs, n, NULL, 0);
    if (!r && is_static)
        hook_emit_argv(*pid, count(argv), argv);
    return r;
}

HOOK_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                            const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
    int saved = errno;
    int r = spawn(pid, path, fa, attr, argv, envp);
    errno = saved;
    return r;
}

/* posix_spawnp: the first PATH candidate that is a file and spawns. */
HOOK_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                             const posix_spawnattr_t *attr, char *const argv[],
                             char *const envp[]) {
    int saved = errno;
    int r = ENOENT;
    if (hook_isnull(file) || !*file) {
        r = ENOENT;
    } else if (strchr(file, '/') || (!hook_active() && !hook_enforcing())) {
        if (strchr(file, '/'))
            r = spawn(pid, file, fa, attr, argv, envp);
        else {
            __typeof__(&posix_spawnp) real = REAL(posix_spawnp);
            r = real ? real(pid, file, fa, attr, argv, envp) : ENOSYS;
        }
    } else {
        const char *path = hook_environ_get("PATH");
        if (!path)
            path = "/bin:/usr/bin";
        size_t flen = strlen(file);
        bool eacces = false;
        for (const char *d = path;; d++) {
            const char *end = strchrnul(d, ':');
            char cand[PATH_MAX];
            if (candidate(cand, d, (size_t)(end - d), file, flen)) {
                int e = probe(cand, true);
                if (!e) {
                    r = spawn(pid, cand, fa, attr, argv, envp);
                    if (r != EACCES && r != ENOENT && r != ENOTDIR)
                        break;
                }
                if (e == EACCES || r == EACCES)
                    eacces = true;
            }
            r = eacces ? EACCES : ENOENT;
            if (!*end)
                break;
            d = end;
        }
    }
    errno = saved;
    return r;
}

/* system(3) as glibc does it, through our posix_spawn so that the shell is
 * recorded and keeps the hook. */
HOOK_EXPORT int system(const char *line) {
    __typeof__(&system) real = REAL(system);
    if (hook_isnull(line) || (!hook_active() && !hook_enforcing()))
        return real ? real(line) : (errno = ENOSYS, -1);
    struct sigaction sa = {.sa_handler = SIG_IGN}, intr, quit;
    sigset_t omask, reset;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &intr);
    sigaction(SIGQUIT, &sa, &quit);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &omask);

    sigemptyset(&reset);
    if (intr.sa_handler != SIG_IGN)
        sigaddset(&reset, SIGINT);
    if (quit.sa_handler != SIG_IGN)
        sigaddset(&reset, SIGQUIT);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigmask(&attr, &omask);
    posix_spawnattr_setsigdefault(&attr, &reset);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

    char *argv[] = {(char *)"sh", (char *)"-c", (char *)line, NULL};
    pid_t pid;
    int status;
    int r = spawn(&pid, "/bin/sh", NULL, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    if (r == 0) {
        __typeof__(&waitpid) wp = REAL(waitpid);
        pid_t w;
        do
            w = wp ? wp(pid, &status, 0) : -1;
        while (w < 0 && errno == EINTR);
        if (w != pid)
            status = -1;
    } else {
        status = W_EXITCODE(127, 0);
    }
    int err = errno;
    sigaction(SIGINT, &intr, NULL);
    sigaction(SIGQUIT, &quit, NULL);
    sigprocmask(SIG_SETMASK, &omask, NULL);
    errno = err;
    return status;
}

/* popen: the shell is recorded; glibc spawns it with `environ`, which
 * still carries the hook unless the program removed it. */
HOOK_EXPORT FILE *popen(const char *cmd, const char *mode) {
    __typeof__(&popen) real = REAL(popen);
    if (!real)
        return errno = ENOSYS, NULL;
    if (!hook_active())
        return real(cmd, mode);
    int saved = errno;
    static const char sh[] = "/bin/sh";
    exec_before(sh, sizeof sh - 1, NULL);
    errno = saved;
    FILE *f = real(cmd, mode);
    int err = errno;
    if (!f)
        exec_failed(sh, sizeof sh - 1, err);
    errno = err;
    return f;
}
