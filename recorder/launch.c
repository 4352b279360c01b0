/* Starting the recorded command: fork, reset, exec, report failure. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cordon/error.h>

#include "launch.h"

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

int launch_spawn(char *const argv[], char *const envp[], pid_t *ret_pid, struct cordon_error *err) {
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
        execvpe(argv[0], argv, envp);
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
