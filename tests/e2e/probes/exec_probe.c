/* The exec family from forked children, each waited for: execvp through
 * PATH, a missing program, execle with a scrubbed environment (the hook
 * must survive it), and the static probe given as argv[1]. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

static void run(const char *label, int how, const char *arg) {
    pid_t pid = fork();
    if (pid == 0) {
        char *const env[] = {"PATH=/usr/bin:/bin", NULL};
        switch (how) {
        case 0:
            execlp("sh", "sh", "-c", "cat in.txt >/dev/null", (char *)NULL);
            break;
        case 1:
            execv("./no-such-program", (char *const[]){"x", NULL});
            break;
        case 2:
            execle("/bin/sh", "sh", "-c", "cat in.txt >/dev/null; cat env-cleared.txt",
                   (char *)NULL, env);
            break;
        case 3:
            execv(arg, (char *const[]){(char *)arg, "from-exec-probe", NULL});
            break;
        default:
            break;
        }
        printf("%s exec failed errno=%d\n", label, errno);
        fflush(stdout);
        _exit(127);
    }
    int status = 0;
    SHOW(label, waitpid(pid, &status, 0) == pid ? 0 : -1);
    printf("%s status=%d\n", label, WEXITSTATUS(status));
    fflush(stdout);
}

int main(int argc, char **argv) {
    run("execlp", 0, NULL);
    run("execv missing", 1, NULL);
    run("execle env -i", 2, NULL);
    if (argc > 1)
        run("static", 3, argv[1]);
    SHOW("execvp missing in-process", execvp("no-such-command-xyz", argv));
    return 0;
}
