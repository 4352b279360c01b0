/* What this machine allows (`cordon doctor`) and the runner `auto` picks
 * for `run` and `replay`. Each probe that could change this process (a
 * seccomp filter, no_new_privs, being traced) runs in a forked child. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cordon/replay.h>
#include <cordon/run.h>

/* Linux 6.6 (uapi headers of Debian 12 predate it). */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

/* The Landlock ABI version, or 0 with *ret_errno set (ENOSYS: no
 * Landlock in this kernel; EOPNOTSUPP: disabled at boot). */
static int probe_landlock(int *ret_errno) {
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 0) {
        *ret_errno = errno;
        return 0;
    }
    *ret_errno = 0;
    return (int)abi;
}

static int wait_child(pid_t pid, int *status) {
    while (waitpid(pid, status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    return 0;
}

/* Seccomp user notification and its synchronous wake-up flag, tried in a
 * child with no_new_privs: a filter that allows everything, installed with
 * SECCOMP_FILTER_FLAG_NEW_LISTENER, gives a listener fd where the kernel
 * has user notification (Linux 5.0), and the flag is set on that fd where
 * it has the wake-up (Linux 6.6). The child reports both errnos through a
 * pipe. (The recorder's seccomp_supported() installs its own filter the
 * same way but lives in cordon_recorder, which the replayer does not link,
 * and does not ask about the flag.) */
static void probe_seccomp(int *ret_unotify, int *ret_sync) {
    int fds[2];
    *ret_unotify = *ret_sync = ENOSYS;
    if (pipe2(fds, O_CLOEXEC) < 0) {
        *ret_unotify = *ret_sync = errno;
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        *ret_unotify = *ret_sync = errno;
        (void)close(fds[0]);
        (void)close(fds[1]);
        return;
    }
    if (pid == 0) {
        int res[2] = {0, 0};
        struct sock_filter insns[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
        struct sock_fprog prog = {.len = 1, .filter = insns};
        int fd = -1;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            res[0] = errno;
        else if ((fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                                    SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog)) < 0)
            res[0] = errno;
        if (res[0])
            res[1] = res[0];
        else if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0)
            res[1] = errno;
        ssize_t w = write(fds[1], res, sizeof res);
        _exit(w == (ssize_t)sizeof res ? 0 : 1);
    }
    (void)close(fds[1]);
    int res[2];
    ssize_t n;
    while ((n = read(fds[0], res, sizeof res)) < 0 && errno == EINTR)
        ;
    (void)close(fds[0]);
    int status;
    (void)wait_child(pid, &status);
    if (n == (ssize_t)sizeof res) {
        *ret_unotify = res[0];
        *ret_sync = res[1];
    }
}

/* Whether this process can trace a child: the child asks to be traced
 * (Yama's ptrace_scope 3, or a container's seccomp profile, refuse it) and
 * stops; the parent resumes it. 0 or the errno. */
static int probe_ptrace(void) {
    pid_t pid = fork();
    if (pid < 0)
        return errno;
    if (pid == 0) {
        if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
            _exit(errno & 0xff);
        (void)raise(SIGSTOP);
        _exit(0);
    }
    int status;
    int r = wait_child(pid, &status);
    if (r < 0)
        return -r;
    if (WIFSTOPPED(status)) {
        int e = 0;
        if (ptrace(PTRACE_CONT, pid, NULL, NULL) < 0) {
            e = errno;
            (void)kill(pid, SIGKILL);
        }
        r = wait_child(pid, &status);
        if (e)
            return e;
        if (r < 0)
            return -r;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : ECHILD;
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status) ? WEXITSTATUS(status) : ECHILD;
    return ECHILD;
}

void cordon_machine_probe(struct cordon_machine *m) {
    memset(m, 0, sizeof *m);
    int u = cordon_userns_available();
    m->userns_error = u < 0 ? -u : 0;
    m->landlock_abi = probe_landlock(&m->landlock_error);
    probe_seccomp(&m->seccomp_error, &m->sync_error);
    m->seccomp_unotify = m->seccomp_error == 0;
    m->unotify_sync = m->seccomp_unotify && m->sync_error == 0;
    m->ptrace_error = probe_ptrace();
    m->ptrace = m->ptrace_error == 0;
    /* An empty root: only the host's library counts here. */
    bool host = false;
    m->fakechroot =
        cordon_fakechroot_library("", m->fakechroot_path, sizeof m->fakechroot_path, &host) == 0;
    if (!m->fakechroot)
        m->fakechroot_path[0] = '\0';
}

/* The picks depend on the struct alone (no sysctl read here), so that they
 * can be tested for any machine; doctor prints the sysctl's story beside. */

enum cordon_backend cordon_pick_run_backend(const struct cordon_machine *m, char *why,
                                            size_t size) {
    if (m->userns_error == 0) {
        (void)snprintf(why, size,
                       "user namespaces work: the kernel enforces the policy for every program, "
                       "static ones and raw system calls included");
        return CORDON_BACKEND_NAMESPACE;
    }
    (void)snprintf(
        why, size,
        "user namespaces are unavailable (%s); the hook keeps hidden paths ENOENT, which "
        "tools like git need, where Landlock%s could only make them EACCES; %s",
        strerror(m->userns_error), m->landlock_abi > 0 ? "" : " (absent here anyway)",
        m->seccomp_unotify
            ? "static programs and raw system calls go through seccomp user "
              "notification"
            : "without seccomp user notification, static programs and raw system calls "
              "escape it");
    return CORDON_BACKEND_HOOK;
}

enum cordon_backend cordon_pick_replay_backend(const struct cordon_machine *m, char *why,
                                               size_t size) {
    if (m->userns_error == 0) {
        (void)snprintf(why, size,
                       "user namespaces work: the root is mounted and pivoted into, complete for "
                       "every program");
        return CORDON_BACKEND_NAMESPACE;
    }
    (void)snprintf(why, size,
                   "user namespaces are unavailable (%s); fakechroot needs nothing from the "
                   "kernel%s",
                   strerror(m->userns_error),
                   m->fakechroot ? ""
                                 : ", but libfakechroot.so is not installed here: only roots that "
                                   "carry their own (.cordon/lib) replay");
    return CORDON_BACKEND_FAKECHROOT;
}
