/* peakrss: run a command and report the peak resident set of that process
 * alone, not of its descendants.
 *
 * /usr/bin/time -v reports the largest resident set of the command *or any
 * descendant* (getrusage folds children in), so for `cordon record -- make`
 * it mostly reports the compiler. Here the command is traced for one event
 * only, its own exit (PTRACE_O_TRACEEXIT): at that stop its memory is still
 * mapped and /proc/PID/status's VmHWM is its high-water mark. Its children
 * and threads are not traced.
 *
 * Usage: peakrss -o FILE CMD [ARGS...]   (FILE gets "VmHWM_kB N")
 * The exit status is the command's (128+N if it died of signal N).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static long vmhwm(pid_t pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

int main(int argc, char **argv) {
    if (argc < 4 || strcmp(argv[1], "-o")) {
        fputs("usage: peakrss -o FILE CMD [ARGS...]\n", stderr);
        return 125;
    }
    const char *out = argv[2];
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "peakrss: cannot fork: %s\n", strerror(errno));
        return 125;
    }
    if (pid == 0) {
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0) {
            fprintf(stderr, "peakrss: cannot be traced: %s\n", strerror(errno));
            _exit(125);
        }
        raise(SIGSTOP);
        execvp(argv[3], argv + 3);
        fprintf(stderr, "peakrss: cannot run '%s': %s\n", argv[3], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
    }
    /* Signals for us go to the command too: it decides how to die. */
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    int st;
    if (waitpid(pid, &st, 0) < 0 || !WIFSTOPPED(st)) {
        fputs("peakrss: the command did not stop before exec\n", stderr);
        return 125;
    }
    if (ptrace(PTRACE_SETOPTIONS, pid, 0,
               PTRACE_O_TRACEEXIT | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL) < 0) {
        fprintf(stderr, "peakrss: cannot set ptrace options: %s\n", strerror(errno));
        kill(pid, SIGKILL);
        return 125;
    }
    long kb = -1;
    int sig = 0;
    for (;;) {
        if (ptrace(PTRACE_CONT, pid, 0, (void *)(long)sig) < 0 && errno != ESRCH) {
            fprintf(stderr, "peakrss: cannot continue the command: %s\n", strerror(errno));
            kill(pid, SIGKILL);
        }
        sig = 0;
        if (waitpid(pid, &st, 0) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "peakrss: cannot wait: %s\n", strerror(errno));
            return 125;
        }
        if (WIFEXITED(st) || WIFSIGNALED(st))
            break;
        if (!WIFSTOPPED(st))
            continue;
        int event = st >> 16;
        if (event == PTRACE_EVENT_EXIT)
            kb = vmhwm(pid);
        else if (event == 0 && WSTOPSIG(st) != SIGTRAP)
            sig = WSTOPSIG(st); /* an ordinary signal: deliver it */
    }
    FILE *f = fopen(out, "w");
    if (f) {
        fprintf(f, "VmHWM_kB %ld\n", kb);
        fclose(f);
    } else {
        fprintf(stderr, "peakrss: cannot write '%s': %s\n", out, strerror(errno));
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
