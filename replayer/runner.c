/* The runners' common parts: backend names, the user namespace probe, paths
 * resolved inside a root, the execvp candidates, the replay environment and
 * the dispatch to the namespace or fakechroot runner. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cordon/error.h>
#include <cordon/hash.h>
#include <cordon/manifest.h>
#include <cordon/replay.h>
#include <cordon/util.h>

#include "reaper.h"

static const char *const backend_names[CORDON_BACKEND_MAX] = {
    [CORDON_BACKEND_AUTO] = "auto",
    [CORDON_BACKEND_NAMESPACE] = "namespace",
    [CORDON_BACKEND_FAKECHROOT] = "fakechroot",
    [CORDON_BACKEND_HOOK] = "hook",
    [CORDON_BACKEND_LANDLOCK] = "landlock",
};

const char *cordon_backend_name(enum cordon_backend b) {
    if (b < 0 || b >= CORDON_BACKEND_MAX)
        return NULL;
    return backend_names[b];
}

enum cordon_backend cordon_backend_from_name(const char *s) {
    if (!s)
        return CORDON_BACKEND_INVALID;
    for (int b = 0; b < CORDON_BACKEND_MAX; b++)
        if (!strcmp(s, backend_names[b]))
            return (enum cordon_backend)b;
    return CORDON_BACKEND_INVALID;
}

/* ---- user namespaces ---------------------------------------------------- */

static int write_all_fd(int fd, const char *s, size_t n) {
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = write_all_fd(fd, text, strlen(text));
    (void)close(fd);
    return r;
}

int cordon_userns_available(void) {
    /* The maps are formatted before the fork: the child makes system calls only. */
    char uid_map[64], gid_map[64];
    (void)snprintf(uid_map, sizeof uid_map, "%u %u 1\n", (unsigned)geteuid(), (unsigned)geteuid());
    (void)snprintf(gid_map, sizeof gid_map, "%u %u 1\n", (unsigned)getegid(), (unsigned)getegid());
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        int r = 0;
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
            r = -errno;
        /* Writing the map is part of the test: AppArmor (Ubuntu 23.10+) lets
         * unshare succeed and refuses what follows. */
        if (!r)
            r = write_file("/proc/self/uid_map", uid_map);
        if (!r)
            (void)write_file("/proc/self/setgroups", "deny");
        if (!r)
            r = write_file("/proc/self/gid_map", gid_map);
        _exit(r < 0 && -r < 256 ? -r : r < 0 ? EPERM : 0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    if (WIFEXITED(status))
        return -WEXITSTATUS(status);
    return -ECHILD;
}

static long read_sysctl(const char *path) {
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    long v = -1;
    if (fscanf(f, "%ld", &v) != 1)
        v = -1;
    (void)fclose(f);
    return v;
}

const char *cordon_userns_reason(int code, char *buf, size_t size) {
    const char *why = NULL;
    if (read_sysctl("/proc/sys/user/max_user_namespaces") == 0)
        why = "/proc/sys/user/max_user_namespaces is 0";
    else if (read_sysctl("/proc/sys/kernel/unprivileged_userns_clone") == 0)
        why = "kernel.unprivileged_userns_clone is 0";
    else if (read_sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == 1)
        why = "AppArmor restricts unprivileged user namespaces "
              "(kernel.apparmor_restrict_unprivileged_userns is 1)";
    else if (code == ENOSPC)
        why = "the limit of user namespaces is reached";
    else if (code == EPERM)
        why = "refused by a security policy (seccomp filter of a container, or an LSM)";
    else if (code == EINVAL)
        why = "this process is in a chroot";
    if (why)
        (void)snprintf(buf, size, "%s: %s", strerror(code), why);
    else
        (void)snprintf(buf, size, "%s", strerror(code));
    return buf;
}

/* ---- environment and PATH ----------------------------------------------- */

const char *cordon_env_get(char *const *envp, const char *name) {
    if (!envp)
        return NULL;
    size_t n = strlen(name);
    for (; *envp; envp++)
        if (!strncmp(*envp, name, n) && (*envp)[n] == '=')
            return *envp + n + 1;
    return NULL;
}

int cordon_exec_candidates(const char *argv0, char *const *envp, char ***ret) {
    if (!argv0 || !*argv0)
        return -EINVAL;
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    char **v = NULL;
    size_t n = 0, cap = 0;
    int r = -ENOMEM;
    if (strchr(argv0, '/')) {
        if (cordon_grow((void **)&v, &cap, 2, sizeof *v) < 0 || !(v[0] = strdup(argv0)))
            goto fail;
        v[1] = NULL;
        *ret = v;
        return 0;
    }
    const char *path = cordon_env_get(envp, "PATH");
    if (!path)
        path = "/bin:/usr/bin"; /* glibc's execvp default */
    for (const char *p = path;;) {
        const char *end = strchrnul(p, ':');
        cordon_strbuf_reset(&sb);
        if (end == p)
            cordon_strbuf_adds(&sb, "."); /* an empty entry is the cwd */
        else
            cordon_strbuf_addn(&sb, p, (size_t)(end - p));
        if (sb.len && sb.buf[sb.len - 1] != '/')
            cordon_strbuf_adds(&sb, "/");
        cordon_strbuf_adds(&sb, argv0);
        if (sb.failed || cordon_grow((void **)&v, &cap, n + 2, sizeof *v) < 0 ||
            !(v[n] = strdup(sb.buf)))
            goto fail;
        v[++n] = NULL;
        if (!*end)
            break;
        p = end + 1;
    }
    cordon_strbuf_release(&sb);
    *ret = v;
    return 0;
fail:
    cordon_strbuf_release(&sb);
    if (v)
        v[n] = NULL;
    cordon_strv_free(v);
    return r;
}

#define REDACTED "<redacted>"

int cordon_replay_env(char *const *recorded, char ***ret_env, char ***ret_dropped) {
    size_t n = cordon_strv_length(recorded), k = 0, d = 0;
    char **env = calloc(n + 1, sizeof *env);
    char **dropped = calloc(n + 1, sizeof *dropped);
    if (!env || !dropped)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(recorded[i], '=');
        if (eq && !strcmp(eq + 1, REDACTED)) {
            if (!(dropped[d++] = strndup(recorded[i], (size_t)(eq - recorded[i]))))
                goto oom;
            continue;
        }
        if (!(env[k++] = strdup(recorded[i])))
            goto oom;
    }
    *ret_env = env;
    if (ret_dropped)
        *ret_dropped = dropped;
    else
        cordon_strv_free(dropped);
    return 0;
oom:
    cordon_strv_free(env);
    cordon_strv_free(dropped);
    return -ENOMEM;
}

/* ---- paths inside a root ------------------------------------------------ */

int cordon_root_open(int rootfd, const char *path, int flags) {
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    if (flags & O_CREAT)
        how.mode = 0644;
    /* openat2 treats an absolute path as relative to the root: no need to
     * strip the slash. */
    long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
    if (fd < 0)
        return errno == EAGAIN ? -EAGAIN : -errno;
    return (int)fd;
}

int cordon_root_resolve(int rootfd, const char *path, char *out, size_t size) {
    int fd = cordon_root_open(rootfd, path, O_PATH);
    if (fd < 0)
        return fd;
    char proc[64];
    (void)snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(proc, out, size);
    int e = errno;
    (void)close(fd);
    if (n < 0)
        return -e;
    if ((size_t)n >= size)
        return -ENAMETOOLONG;
    out[n] = '\0';
    return 0;
}

int cordon_root_mkdir_p(int rootfd, const char *path) {
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "/%s", path) >= (int)sizeof buf)
        return -ENAMETOOLONG;
    cordon_path_normalize(buf);
    int dirfd = cordon_root_open(rootfd, "/", O_PATH | O_DIRECTORY);
    if (dirfd < 0)
        return dirfd;
    /* Component by component: each existing one resolved inside the root,
     * each missing one made in the directory resolved so far. */
    char *p = buf + 1;
    while (*p) {
        char *end = strchrnul(p, '/');
        char c = *end;
        *end = '\0';
        int next = cordon_root_open(rootfd, buf, O_PATH | O_DIRECTORY);
        if (next == -ENOENT) {
            if (mkdirat(dirfd, p, 0755) < 0 && errno != EEXIST) {
                int e = -errno;
                (void)close(dirfd);
                return e;
            }
            next = cordon_root_open(rootfd, buf, O_PATH | O_DIRECTORY);
        }
        (void)close(dirfd);
        if (next < 0)
            return next;
        dirfd = next;
        *end = c;
        p = c ? end + 1 : end;
    }
    (void)close(dirfd);
    return 0;
}

/* ---- the archive's cache key -------------------------------------------- */

int cordon_replay_cache_key(const char *archive, char out[CORDON_HASH_HEX_LEN + 1],
                            struct cordon_error *err) {
    struct stat st;
    if (stat(archive, &st) < 0)
        return cordon_error_set(err, errno, archive, 0, 0, "cannot open '%s'", archive);
    struct cordon_hash h;
    int r;
    if (S_ISDIR(st.st_mode)) {
        int dfd = open(archive, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
            return cordon_error_set(err, errno, archive, 0, 0, "cannot open '%s'", archive);
        r = cordon_hash_file(dfd, ".cordon/manifest.json", &h, NULL);
        (void)close(dfd);
        if (r < 0)
            return cordon_error_set(err, -r, archive, 0, 0,
                                    "cannot read '%s/.cordon/manifest.json'", archive);
    } else {
        r = cordon_hash_file(AT_FDCWD, archive, &h, NULL);
        if (r < 0)
            return cordon_error_set(err, -r, archive, 0, 0, "cannot read '%s'", archive);
    }
    cordon_hash_to_hex(&h, out);
    return 0;
}

/* ---- fakechroot's library and the loader -------------------------------- */

#define HOST_FAKECHROOT "/usr/lib/x86_64-linux-gnu/fakechroot/libfakechroot.so"

int cordon_fakechroot_library(const char *root, char *out, size_t size, bool *ret_host) {
    char carried[PATH_MAX];
    (void)snprintf(carried, sizeof carried, "%s/.cordon/lib/libfakechroot.so", root);
    struct stat st;
    /* lstat: the archive's copy is a file; a symlink there would be resolved
     * by the loader on the host. */
    if (lstat(carried, &st) == 0 && S_ISREG(st.st_mode)) {
        (void)snprintf(out, size, "%s", carried);
        *ret_host = false;
        return 0;
    }
    if (stat(HOST_FAKECHROOT, &st) == 0 && S_ISREG(st.st_mode)) {
        (void)snprintf(out, size, "%s", HOST_FAKECHROOT);
        *ret_host = true;
        return 0;
    }
    (void)snprintf(out, size, "%s", carried);
    return -ENOENT;
}

bool cordon_loader_has_argv0(const char *loader) {
    int fd = open(loader, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    bool found = false;
    if (fstat(fd, &st) == 0 && st.st_size > 0 && st.st_size < (64 << 20)) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            found = memmem(p, (size_t)st.st_size, "--argv0", 7) != NULL;
            munmap(p, (size_t)st.st_size);
        }
    }
    (void)close(fd);
    return found;
}

/* ---- dispatch ----------------------------------------------------------- */

int cordon_run_in_root(const struct cordon_run_spec *spec, int *ret_status,
                       struct cordon_error *err) {
    if (!spec->root || spec->root[0] != '/')
        return cordon_error_set(err, EINVAL, spec->root, 0, 0, "the root must be an absolute path");
    if (!spec->argv || !spec->argv[0] || !spec->argv[0][0])
        return cordon_error_set(err, EINVAL, NULL, 0, 0, "no command to run");
    if (spec->cwd && spec->cwd[0] != '/')
        return cordon_error_set(err, EINVAL, spec->cwd, 0, 0,
                                "the working directory '%s' is not absolute", spec->cwd);
    switch (spec->backend) {
    case CORDON_BACKEND_NAMESPACE:
        return cordon_run_namespace(spec, ret_status, err);
    case CORDON_BACKEND_FAKECHROOT:
        return cordon_run_fakechroot(spec, ret_status, err);
    case CORDON_BACKEND_AUTO:
    case CORDON_BACKEND_HOOK:
    case CORDON_BACKEND_LANDLOCK:
    case CORDON_BACKEND_MAX:
    case CORDON_BACKEND_INVALID:
    default:
        break;
    }
    return cordon_error_set(err, EINVAL, NULL, 0, 0, "the runner must be namespace or fakechroot");
}

/* ---- the exec search of the runners' children --------------------------- */

int cordon_exec_search(char *const *candidates, char *const *argv, char *const *envp,
                       char **sh_argv, int *ret_index, bool *ret_interp) {
    int denied = -1;
    *ret_interp = false;
    for (int i = 0; candidates[i]; i++) {
        execve(candidates[i], argv, envp);
        if (errno == ENOEXEC) {
            /* Neither ELF nor #!: execvp(3) hands it to the shell. */
            sh_argv[1] = candidates[i];
            execve("/bin/sh", sh_argv, envp);
            *ret_index = i;
            return ENOEXEC;
        }
        /* ENOENT for a file that is there: its interpreter is missing (a
         * root without the program's loader, or a #! to nowhere). */
        if (errno == ENOENT && access(candidates[i], F_OK) == 0) {
            *ret_index = i;
            *ret_interp = true;
            return ENOENT;
        }
        switch (errno) {
        case ENOENT:
        case ENOTDIR:
        case ESTALE:
        case ENODEV:
        case ETIMEDOUT:
            break;
        case EACCES:
            if (denied < 0)
                denied = i;
            break;
        default:
            *ret_index = i;
            return errno;
        }
    }
    *ret_index = denied;
    return denied >= 0 ? EACCES : ENOENT;
}

/* ---- environment editing ------------------------------------------------ */

int cordon_env_set(char ***envp, const char *name, const char *value) {
    char *entry = NULL;
    if (asprintf(&entry, "%s=%s", name, value) < 0)
        return -ENOMEM;
    size_t n = cordon_strv_length(*envp), len = strlen(name);
    for (size_t i = 0; i < n; i++)
        if (!strncmp((*envp)[i], name, len) && (*envp)[i][len] == '=') {
            free((*envp)[i]);
            (*envp)[i] = entry;
            return 0;
        }
    char **v = realloc(*envp, (n + 2) * sizeof *v);
    if (!v) {
        free(entry);
        return -ENOMEM;
    }
    v[n] = entry;
    v[n + 1] = NULL;
    *envp = v;
    return 0;
}

/* ---- signals ------------------------------------------------------------ */

int cordon_signals_block(struct cordon_sigblock *b) {
    sigset_t set;
    cordon_reaper_sigset(&set, false);
    /* SIGCHLD ignored (inherited from our parent) would reap the child
     * behind our back. */
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigemptyset(&dfl.sa_mask);
    if (sigaction(SIGCHLD, &dfl, &b->old_chld) < 0)
        return -errno;
    if (sigprocmask(SIG_BLOCK, &set, &b->old_mask) < 0)
        return -errno;
    return 0;
}

void cordon_signals_restore(const struct cordon_sigblock *b) {
    (void)sigaction(SIGCHLD, &b->old_chld, NULL);
    (void)sigprocmask(SIG_SETMASK, &b->old_mask, NULL);
}

void cordon_signals_child_reset(void) {
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigemptyset(&dfl.sa_mask);
    /* Ignored signals survive exec: a replay must not pass on an ignored
     * SIGPIPE (`yes | head` would never end). */
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            (void)sigaction(sig, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
}

int cordon_wait_forwarding(int pid, int *ret_status) {
    sigset_t set;
    cordon_reaper_sigset(&set, false);
    for (;;) {
        int status;
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            *ret_status = status;
            return 0;
        }
        if (w < 0 && errno != EINTR)
            return -errno;
        siginfo_t si;
        int sig = sigwaitinfo(&set, &si);
        if (sig < 0 || sig == SIGCHLD)
            continue;
        if (si.si_code == SI_USER || si.si_code == SI_QUEUE)
            (void)kill(pid, sig);
    }
}
