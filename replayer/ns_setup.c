/* What the namespace runners of replay (runner_ns.c) and run (run.c)
 * share: ns_setup.h says what and why. */
#include "ns_setup.h"
#include "reaper.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cordon/error.h>
#include <cordon/manifest.h>
#include <cordon/util.h>

const char *const cordon_ns_dev_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
const char *const cordon_ns_dev_links[][2] = {
    {"fd", "/proc/self/fd"},
    {"stdin", "/proc/self/fd/0"},
    {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"},
};

/* clone(2) without glibc's wrapper: no fork handlers, no stack of our
 * own (the child has a copy of cordon's, as after fork). */
static pid_t raw_clone(unsigned long flags) {
    return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

/* ---- in the children ---------------------------------------------------- */

void cordon_ns_fail(const struct cordon_ns_child *c, int stage, int err, int index, int code) {
    struct cordon_ns_failure f = {.stage = stage, .err = err, .index = index};
    /* One write of a few bytes to a pipe is atomic. */
    ssize_t w = write(c->err_fd, &f, sizeof f);
    (void)w;
    _exit(code);
}

int cordon_ns_write_file(const char *path, const char *s) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    size_t n = strlen(s);
    ssize_t w = write(fd, s, n);
    int e = w < 0 ? errno : (size_t)w != n ? EIO : 0;
    (void)close(fd);
    return e;
}

void cordon_ns_join(char *buf, const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la + lb + 2 > PATH_MAX) {
        buf[0] = '\0';
        return;
    }
    memcpy(buf, a, la);
    buf[la] = '/';
    memcpy(buf + la + 1, b, lb + 1);
}

int cordon_ns_mkdir_p(const char *path, mode_t mode) {
    char buf[PATH_MAX];
    size_t n = strlen(path);
    if (n >= sizeof buf)
        return ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    for (char *s = buf + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            struct stat st;
            if (lstat(buf, &st) < 0 && mkdir(buf, mode) < 0 && errno != EEXIST)
                return errno;
            *s = c;
            if (!c)
                break;
        }
    }
    return 0;
}

int cordon_ns_make_dev(const char *dst, const char *host_dev, int *ret_step, int *ret_index) {
    *ret_step = CORDON_NS_DEV_MOUNT;
    *ret_index = 0;
    if (mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755") < 0)
        return errno;
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(cordon_ns_dev_nodes); i++) {
        char src[PATH_MAX], path[PATH_MAX];
        cordon_ns_join(src, host_dev, cordon_ns_dev_nodes[i]);
        cordon_ns_join(path, dst, cordon_ns_dev_nodes[i]);
        *ret_index = (int)i;
        struct stat st;
        if (stat(src, &st) < 0) /* not on this host: not in the root */
            continue;
        *ret_step = CORDON_NS_DEV_NODE;
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0)
            return errno;
        (void)close(fd);
        *ret_step = CORDON_NS_DEV_BIND;
        if (mount(src, path, NULL, MS_BIND, NULL) < 0)
            return errno;
    }
    *ret_step = CORDON_NS_DEV_LINK;
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(cordon_ns_dev_links); i++) {
        char path[PATH_MAX];
        cordon_ns_join(path, dst, cordon_ns_dev_links[i][0]);
        *ret_index = (int)i;
        if (symlink(cordon_ns_dev_links[i][1], path) < 0)
            return errno;
    }
    char shm[PATH_MAX];
    cordon_ns_join(shm, dst, "shm");
    *ret_step = CORDON_NS_DEV_SHM;
    *ret_index = 0;
    if (mkdir(shm, 01777) < 0 || chmod(shm, 01777) < 0)
        return errno;
    return 0;
}

void cordon_ns_init_start(const struct cordon_ns_child *c, bool own_maps) {
    /* cordon's death ends the namespace: the init's death kills the rest. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        cordon_ns_fail(c, CORDON_NS_PDEATHSIG, errno, 0, 125);
    umask(0);
    if (!own_maps)
        return;
    /* One-line maps of our own ids need no privilege; gid_map only after
     * setgroups is denied (user_namespaces(7), Linux 3.19). */
    int e = cordon_ns_write_file("/proc/self/uid_map", c->uid_map);
    if (e)
        cordon_ns_fail(c, CORDON_NS_UID_MAP, e, 0, 125);
    e = cordon_ns_write_file("/proc/self/setgroups", "deny");
    if (e && e != ENOENT)
        cordon_ns_fail(c, CORDON_NS_SETGROUPS, e, 0, 125);
    e = cordon_ns_write_file("/proc/self/gid_map", c->gid_map);
    if (e)
        cordon_ns_fail(c, CORDON_NS_GID_MAP, e, 0, 125);
}

int cordon_ns_drop_capabilities(void) {
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return errno;
    for (int cap = 0; cap < 64; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
            if (errno == EINVAL) /* past the kernel's last capability */
                break;
            return errno;
        }
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &hdr, data) < 0)
        return errno;
    return 0;
}

/* The command's side: for root (uid 0 inside) execve would keep the
 * init's capabilities, so they go here whoever the caller is. */
__attribute__((noreturn)) static void command_main(const struct cordon_ns_child *c) {
    cordon_signals_child_reset();
    umask(c->umask);
    int e = cordon_ns_drop_capabilities();
    if (e)
        cordon_ns_fail(c, CORDON_NS_CAPS, e, 0, 125);
    /* No setuid program or file capability in the root gives any back. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        cordon_ns_fail(c, CORDON_NS_NO_NEW_PRIVS, errno, 0, 125);
    int index;
    bool interp;
    int err = cordon_exec_search(c->candidates, c->argv, c->envp, c->sh_argv, &index, &interp);
    cordon_ns_fail(c, interp ? CORDON_NS_EXEC_INTERP : CORDON_NS_EXEC, err, index,
                   index < 0 ? 127 : 126);
}

int cordon_ns_init_wait(int cmd) {
    /* Signals stay blocked (inherited from cordon) and are taken here. */
    sigset_t set;
    cordon_reaper_sigset(&set, false);
    int status = cordon_reap_until(cmd, &set, 0);
    /* What the command left running ends with it. */
    if (waitpid(-1, NULL, WNOHANG | __WALL) == 0)
        (void)kill(-1, SIGKILL);
    while (waitpid(-1, NULL, __WALL) > 0 || errno == EINTR)
        ;
    return status;
}

void cordon_ns_init_run(const struct cordon_ns_child *c) {
    pid_t cmd = raw_clone(0);
    if (cmd < 0)
        cordon_ns_fail(c, CORDON_NS_FORK, errno, 0, 125);
    if (cmd == 0)
        command_main(c);
    /* The command holds its own copy until exec closes it. */
    (void)close(c->err_fd);

    int status = cordon_ns_init_wait(cmd);
    /* pid 1 cannot die of a signal it sends itself: the status goes to
     * cordon on the pipe, and the exit code only approximates it. */
    ssize_t w = write(c->status_fd, &status, sizeof status);
    (void)w;
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* ---- in cordon ---------------------------------------------------------- */

int cordon_ns_child_prepare(struct cordon_ns_child *c, char *const *argv, char *const *search_envp,
                            struct cordon_error *err) {
    (void)snprintf(c->uid_map, sizeof c->uid_map, "%u %u 1\n", (unsigned)geteuid(),
                   (unsigned)geteuid());
    (void)snprintf(c->gid_map, sizeof c->gid_map, "%u %u 1\n", (unsigned)getegid(),
                   (unsigned)getegid());
    c->argv = argv;
    size_t argc = cordon_strv_length(argv);
    c->sh_argv = calloc(argc + 2, sizeof *c->sh_argv);
    if (!c->sh_argv)
        return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    c->sh_argv[0] = (char *)"/bin/sh";
    for (size_t i = 1; i < argc; i++)
        c->sh_argv[i + 1] = argv[i];
    int r = cordon_exec_candidates(argv[0], search_envp, &c->candidates);
    if (r < 0)
        return cordon_error_set(err, -r, NULL, 0, 0, "cannot search for '%s'", argv[0]);
    mode_t m = umask(0);
    umask(m);
    c->umask = m;
    return 0;
}

void cordon_ns_child_free(struct cordon_ns_child *c) {
    cordon_strv_free(c->candidates);
    cordon_strv_free(c->envp);
    free(c->sh_argv); /* its strings are borrowed */
}

int cordon_ns_start(struct cordon_ns_spawn *s, struct cordon_ns_child *c, unsigned long flags,
                    cordon_ns_init_fn *init, const void *arg, const char *hint,
                    struct cordon_error *err) {
    if (pipe2(s->errp, O_CLOEXEC) < 0 || pipe2(s->statp, O_CLOEXEC) < 0)
        return cordon_error_set(err, errno, NULL, 0, 0, "cannot create a pipe");
    c->err_fd = s->errp[1];
    c->status_fd = s->statp[1];
    int r = cordon_signals_block(&s->sb);
    if (r < 0)
        return cordon_error_set(err, -r, NULL, 0, 0, "cannot block signals");
    s->pid = raw_clone(flags);
    if (s->pid == 0) {
        init(arg);
        _exit(125); /* not reached: the init exits */
    }
    int clone_errno = errno;
    (void)close(TAKE_FD(s->errp[1]));
    (void)close(TAKE_FD(s->statp[1]));
    if (s->pid < 0) {
        cordon_signals_restore(&s->sb);
        char why[512];
        cordon_userns_reason(clone_errno, why, sizeof why);
        cordon_error_set(err, clone_errno, NULL, 0, 0, "cannot create a user namespace: %s\n%s",
                         why, hint);
        return CORDON_RUN_SETUP_FAILED;
    }
    return 0;
}

int cordon_ns_wait(struct cordon_ns_spawn *s, struct cordon_ns_failure *f, int *ret_status,
                   struct cordon_error *err) {
    ssize_t n;
    while ((n = read(s->errp[0], f, sizeof *f)) < 0 && errno == EINTR)
        ;
    int status = 0;
    int w = cordon_wait_forwarding(s->pid, &status);
    cordon_signals_restore(&s->sb);
    if (n == (ssize_t)sizeof *f)
        return 1;
    if (w < 0)
        return cordon_error_set(err, -w, NULL, 0, 0, "cannot wait for the namespace's init");
    int cmd_status;
    while ((n = read(s->statp[0], &cmd_status, sizeof cmd_status)) < 0 && errno == EINTR)
        ;
    /* No status: the init itself was killed; its own status says how. */
    *ret_status = n == (ssize_t)sizeof cmd_status ? cmd_status : status;
    return 0;
}

void cordon_ns_spawn_close(struct cordon_ns_spawn *s) {
    for (int i = 0; i < 2; i++) {
        if (s->errp[i] >= 0)
            (void)close(TAKE_FD(s->errp[i]));
        if (s->statp[i] >= 0)
            (void)close(TAKE_FD(s->statp[i]));
    }
}

int cordon_ns_report(const struct cordon_ns_failure *f, struct cordon_error *err) {
    int e = f->err > 0 ? f->err : EIO;
    switch (f->stage) {
    case CORDON_NS_PDEATHSIG:
        cordon_error_set(err, e, NULL, 0, 0, "cannot set the parent-death signal");
        break;
    case CORDON_NS_SETGROUPS:
        cordon_error_set(err, e, NULL, 0, 0, "cannot write '/proc/self/setgroups'");
        break;
    case CORDON_NS_PRIVATE:
        cordon_error_set(err, e, NULL, 0, 0, "cannot make the mounts private");
        break;
    case CORDON_NS_FORK:
        cordon_error_set(err, e, NULL, 0, 0, "cannot fork the command");
        break;
    case CORDON_NS_CAPS:
        cordon_error_set(err, e, NULL, 0, 0, "cannot drop capabilities");
        break;
    case CORDON_NS_NO_NEW_PRIVS:
        cordon_error_set(err, e, NULL, 0, 0, "cannot set PR_SET_NO_NEW_PRIVS");
        break;
    default:
        cordon_error_set(err, e, NULL, 0, 0, "the namespace runner failed (step %d)", f->stage);
        break;
    }
    return CORDON_RUN_SETUP_FAILED;
}
