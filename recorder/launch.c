/* Starting the recorded command: fork, reset, exec, report failure. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cordon/error.h>
#include <cordon/util.h>

#include "launch.h"
#include "trace_seccomp.h"

void launch_reset_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    /* A parent that ignored SIGPIPE would otherwise pass that on through
     * exec, and `yes | head` in the build would never end. */
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            (void)sigaction(sig, &sa, NULL);
    sigset_t all;
    sigemptyset(&all);
    (void)sigprocmask(SIG_SETMASK, &all, NULL);
}

int launch_find(const char *name, const char *cwd, char *out, size_t size,
                void (*miss)(void *ctx, const char *path), void *ctx) {
    if (!*name)
        return -ENOENT;
    if (strchr(name, '/')) {
        if (cordon_path_join(cwd, name, out, size) < 0)
            return -ENAMETOOLONG;
        return 0; /* execve says what is wrong with it, if anything */
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/bin:/usr/bin";
    int ret = -ENOENT;
    for (const char *p = path;; p++) {
        const char *end = strchrnul(p, ':');
        char dir[PATH_MAX], cand[PATH_MAX];
        /* An empty element is the current directory, as for execvp. */
        int n = end == p ? snprintf(dir, sizeof dir, "%s", cwd)
                         : snprintf(dir, sizeof dir, "%.*s", (int)(end - p), p);
        if (n > 0 && (size_t)n < sizeof dir && cordon_path_join(cwd, dir, cand, sizeof cand) == 0 &&
            strlen(cand) + strlen(name) + 2 <= sizeof cand) {
            strcat(strcat(cand, cand[1] ? "/" : ""), name);
            struct stat st;
            if (stat(cand, &st) < 0) {
                if (miss && (errno == ENOENT || errno == ENOTDIR))
                    miss(ctx, cand);
            } else if (S_ISREG(st.st_mode) && access(cand, X_OK) == 0) {
                if (strlen(cand) >= size)
                    return -ENAMETOOLONG;
                strcpy(out, cand);
                return 0;
            } else {
                ret = -EACCES;
            }
        }
        if (!*end)
            break;
        p = end;
    }
    return ret;
}

int launch_spawn(const char *path, char *const argv[], char *const envp[], pid_t *ret_pid,
                 struct cordon_error *err) {
    return launch_spawn_observed(path, argv, envp, NULL, false, ret_pid, err);
}

int launch_spawn_observed(const char *path, char *const argv[], char *const envp[],
                          const char *notify, bool uring_only, pid_t *ret_pid,
                          struct cordon_error *err) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return cordon_error_set(err, errno, NULL, 0, 0, "cannot create a pipe");
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        return cordon_error_set(err, e, NULL, 0, 0, "cannot fork");
    }
    if (pid == 0) {
        close(fds[0]);
        launch_reset_signals();
        if (uring_only)
            (void)seccomp_refuse_uring();
        else if (notify)
            (void)seccomp_observe(notify);
        execve(path, argv, envp);
        int e = errno;
        (void)!write(fds[1], &e, sizeof e);
        _exit(127);
    }
    close(fds[1]);
    int e = 0;
    ssize_t n;
    do
        n = read(fds[0], &e, sizeof e);
    while (n < 0 && errno == EINTR);
    close(fds[0]);
    if (n == (ssize_t)sizeof e) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        return cordon_error_set(err, e, argv[0], 0, 0, "cannot run '%s'", argv[0]);
    }
    *ret_pid = pid;
    return 0;
}
