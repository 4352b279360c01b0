/* An init's and a keeper's wait: see reaper.h. */
#include "reaper.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cordon/util.h>

void cordon_reaper_sigset(sigset_t *set, bool keeper) {
    sigemptyset(set);
    sigaddset(set, SIGCHLD);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGQUIT);
    if (keeper)
        sigaddset(set, SIGUSR2);
}

int cordon_reap_until(pid_t cmd, const sigset_t *set, pid_t cordon) {
    int status = 0;
    for (bool done = false; !done;) {
        siginfo_t si;
        int sig = sigwaitinfo(set, &si);
        if (sig < 0)
            continue;
        if (sig == SIGUSR2 && cordon > 0) {
            if (getppid() == cordon)
                continue; /* not cordon's death */
            cordon_kill_children();
            _exit(128 + SIGKILL);
        }
        if (sig != SIGCHLD) {
            if (si.si_code == SI_USER || si.si_code == SI_QUEUE)
                (void)kill(cmd, sig);
            continue;
        }
        int st;
        pid_t w;
        while ((w = waitpid(-1, &st, WNOHANG | __WALL)) > 0)
            if (w == cmd) {
                status = st;
                done = true;
            }
    }
    return status;
}

void cordon_kill_children(void) {
    char path[64];
    (void)snprintf(path, sizeof path, "/proc/self/task/%ld/children", (long)syscall(SYS_gettid));
    for (int round = 0; round < 10000; round++) {
        char buf[4096];
        ssize_t n = -1;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            n = read(fd, buf, sizeof buf - 1);
            (void)close(fd);
        }
        if (n <= 0)
            break;
        buf[n] = '\0';
        /* Each one killed is waited for by its pid: a blocking wait for any
         * child could wait for an orphan that arrived after the listing. */
        pid_t killed[512];
        size_t nk = 0;
        for (char *q = buf; *q && nk < CORDON_ARRAY_SIZE(killed);) {
            char *end;
            long pid = strtol(q, &end, 10);
            if (end == q)
                break;
            if (pid > 0 && kill((pid_t)pid, SIGKILL) == 0)
                killed[nk++] = (pid_t)pid;
            q = end;
        }
        for (size_t k = 0; k < nk; k++)
            while (waitpid(killed[k], NULL, __WALL) < 0 && errno == EINTR)
                ;
        if (!nk)
            break; /* listed but none could be killed: another round is the same */
    }
    while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
        ;
}
