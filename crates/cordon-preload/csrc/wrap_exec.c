/* execve and the exec/posix_spawn functions built on it. glibc's exec*
 * and posix_spawn call its internal __execve, which no hook sees, so each
 * is wrapped here: execvp searches PATH itself over translated candidates.
 *
 * Every exec carries the contract variables (LD_PRELOAD, CORDON_PRELOAD_*)
 * over, even through `env -i`. A static target cannot be followed by an
 * LD_PRELOAD shim: it is recorded as a gap, and refused with EACCES under
 * CORDON_PRELOAD_STRICT=1. */
#include "shim.h"

#include <elf.h>
#include <stdarg.h>
#include <string.h>
#include <sys/syscall.h>

extern char **environ;

static int has_interp(int fd, unsigned char cls, unsigned long phoff,
                      unsigned phnum, unsigned phentsize) {
    unsigned char tbl[8192];
    size_t want = (size_t)phnum * phentsize;
    size_t need = cls == ELFCLASS64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
    if (phentsize < need || want > sizeof tbl)
        return 1; /* not what we can read: do not claim it is static */
    if (syscall(SYS_pread64, fd, tbl, want, (off_t)phoff) != (long)want)
        return 1;
    for (unsigned i = 0; i < phnum; i++) {
        unsigned char *ph = tbl + (size_t)i * phentsize;
        uint32_t type;
        memcpy(&type, ph, sizeof type); /* p_type comes first in both */
        if (type == PT_INTERP)
            return 1;
    }
    return 0;
}

/* An ELF executable without PT_INTERP: the loader never runs, and neither
 * does this shim. Scripts and unreadable files are not static. */
hidden int cp_is_static(const char *host) {
    int fd = (int)syscall(SYS_openat, AT_FDCWD, host, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    Elf64_Ehdr eh; /* an Elf32_Ehdr is a prefix of the same size or less */
    int st = 0;
    long n = syscall(SYS_pread64, fd, &eh, sizeof eh, 0);
    if (n >= (long)sizeof(Elf32_Ehdr) && !memcmp(eh.e_ident, ELFMAG, SELFMAG)) {
        unsigned char cls = eh.e_ident[EI_CLASS];
        if (cls == ELFCLASS64 && n == (long)sizeof eh) {
            st = !has_interp(fd, cls, eh.e_phoff, eh.e_phnum, eh.e_phentsize);
        } else if (cls == ELFCLASS32) {
            Elf32_Ehdr e32;
            memcpy(&e32, &eh, sizeof e32);
            st = !has_interp(fd, cls, e32.e_phoff, e32.e_phnum, e32.e_phentsize);
        }
    }
    syscall(SYS_close, fd);
    return st;
}

/* Resolve and check an exec target; 0 or an errno. */
static int exec_target(const char *path, struct cp_path *p) {
    int e = cp_resolve(AT_FDCWD, path, 0, p);
    if (e)
        return e;
    if (cp_is_static(p->path)) {
        cp_gap("static", cp_active ? p->view : path);
        if (cp_strict())
            return EACCES;
    }
    return 0;
}

/* Returns only on failure, with the errno. */
static int exec_one(const char *path, char *const argv[], char *const envp[]) {
    struct cp_path p;
    int e = exec_target(path, &p);
    if (e)
        return e;
    size_t n = cp_env_count(envp);
    char *fixed[n + CP_ENV_EXTRA + 1];
    char ld[2 * PATH_MAX + 16];
    cp_real.execve(p.path, argv, cp_fix_env(envp, n, fixed, ld, sizeof ld));
    return errno;
}

/* What execvp does with a file the kernel cannot run: /bin/sh runs it. */
static int exec_script(const char *path, char *const argv[],
                       char *const envp[]) {
    size_t n = cp_env_count(argv);
    char *sh[n + 2];
    sh[0] = (char *)"/bin/sh";
    sh[1] = (char *)path;
    for (size_t i = 1; i <= n; i++)
        sh[i + 1] = argv[i];
    if (n == 0)
        sh[2] = 0;
    return exec_one("/bin/sh", sh, envp);
}

/* PATH search as glibc's execvpe does it, over candidates in the view. */
static int exec_path(const char *file, char *const argv[], char *const envp[]) {
    if (CP_ISNULL(file) || !*file)
        return ENOENT;
    if (strchr(file, '/')) {
        int e = exec_one(file, argv, envp);
        return e == ENOEXEC ? exec_script(file, argv, envp) : e;
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/bin:/usr/bin";
    size_t flen = strlen(file);
    int eacces = 0;
    for (const char *d = path;; d++) {
        const char *end = strchrnul(d, ':');
        size_t dlen = (size_t)(end - d);
        char cand[PATH_MAX];
        if (dlen + 1 + flen < sizeof cand) {
            if (dlen) {
                memcpy(cand, d, dlen);
                cand[dlen++] = '/';
            }
            memcpy(cand + dlen, file, flen + 1);
            int e = exec_one(cand, argv, envp);
            switch (e) {
            case EACCES:
                eacces = 1;
                break;
            case ENOENT:
            case ENOTDIR:
            case ESTALE:
            case ENODEV:
            case ETIMEDOUT:
            case ELOOP:
            case ENAMETOOLONG:
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

export int execve(const char *path, char *const argv[], char *const envp[]) {
    CP_ENTER();
    errno = exec_one(path, argv, envp);
    return -1;
}

export int execv(const char *path, char *const argv[]) {
    return execve(path, argv, environ);
}

export int execvpe(const char *file, char *const argv[], char *const envp[]) {
    CP_ENTER();
    errno = exec_path(file, argv, envp);
    return -1;
}

export int execvp(const char *file, char *const argv[]) {
    return execvpe(file, argv, environ);
}

/* The execl family: the variadic arguments as an argv on the stack. */
#define VARARGS(first, ap, argv, extra)                                        \
    size_t argc = 1;                                                           \
    va_list ap;                                                                \
    va_start(ap, first);                                                       \
    while (va_arg(ap, char *))                                                 \
        argc++;                                                                \
    va_end(ap);                                                                \
    char *argv[argc + 1];                                                      \
    argv[0] = (char *)(first);                                                 \
    va_start(ap, first);                                                       \
    for (size_t i = 1; i <= argc; i++)                                         \
        argv[i] = va_arg(ap, char *);                                          \
    extra;                                                                     \
    va_end(ap)

export int execl(const char *path, const char *arg, ...) {
    VARARGS(arg, ap, argv, (void)0);
    return execve(path, argv, environ);
}

export int execlp(const char *file, const char *arg, ...) {
    VARARGS(arg, ap, argv, (void)0);
    return execvpe(file, argv, environ);
}

export int execle(const char *path, const char *arg, ...) {
    char *const *envp;
    VARARGS(arg, ap, argv, envp = va_arg(ap, char *const *));
    return execve(path, argv, envp);
}

static int spawn(pid_t *pid, const char *path,
                 const posix_spawn_file_actions_t *fa,
                 const posix_spawnattr_t *attr, char *const argv[],
                 char *const envp[]) {
    struct cp_path p;
    int e = exec_target(path, &p);
    if (e)
        return e;
    size_t n = cp_env_count(envp);
    char *fixed[n + CP_ENV_EXTRA + 1];
    char ld[2 * PATH_MAX + 16];
    return cp_real.posix_spawn(pid, p.path, fa, attr, argv,
                               cp_fix_env(envp, n, fixed, ld, sizeof ld));
}

export int posix_spawn(pid_t *pid, const char *path,
                       const posix_spawn_file_actions_t *fa,
                       const posix_spawnattr_t *attr, char *const argv[],
                       char *const envp[]) {
    CP_ENTER();
    int saved = errno;
    int r = spawn(pid, path, fa, attr, argv, envp);
    errno = saved;
    return r;
}

/* posix_spawnp: the first PATH candidate that is visible and executable. */
export int posix_spawnp(pid_t *pid, const char *file,
                        const posix_spawn_file_actions_t *fa,
                        const posix_spawnattr_t *attr, char *const argv[],
                        char *const envp[]) {
    CP_ENTER();
    int saved = errno;
    int r = ENOENT;
    if (!CP_ISNULL(file) && strchr(file, '/')) {
        r = spawn(pid, file, fa, attr, argv, envp);
    } else if (!CP_ISNULL(file) && *file) {
        const char *path = getenv("PATH");
        if (!path)
            path = "/bin:/usr/bin";
        size_t flen = strlen(file);
        for (const char *d = path;; d++) {
            const char *end = strchrnul(d, ':');
            size_t dlen = (size_t)(end - d);
            char cand[PATH_MAX];
            struct cp_path p;
            struct stat st;
            if (dlen + 1 + flen < sizeof cand) {
                if (dlen) {
                    memcpy(cand, d, dlen);
                    cand[dlen++] = '/';
                }
                memcpy(cand + dlen, file, flen + 1);
                int e = cp_resolve(AT_FDCWD, cand, 0, &p);
                if (e == EACCES)
                    r = EACCES;
                if (!e && syscall(SYS_newfstatat, AT_FDCWD, p.path, &st, 0) == 0 &&
                    S_ISREG(st.st_mode)) {
                    if (syscall(SYS_faccessat, AT_FDCWD, p.path, X_OK) == 0) {
                        r = spawn(pid, cand, fa, attr, argv, envp);
                        break;
                    }
                    r = EACCES;
                }
            }
            if (!*end)
                break;
            d = end;
        }
    }
    errno = saved;
    return r;
}
