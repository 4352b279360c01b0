/* posix_spawn[p] (of the static probe too, given as argv[1]), system and
 * popen. */
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

extern char **environ;

int main(int argc, char **argv0) {
    pid_t pid;
    int status;
    char *argv[] = {"cat", "in.txt", NULL};
    int r = posix_spawnp(&pid, "cat", NULL, NULL, argv, environ);
    if (r == 0) /* before printing: the child writes to the same stdout */
        waitpid(pid, &status, 0);
    printf("posix_spawnp = %d\n", r);
    fflush(stdout);
    r = posix_spawn(&pid, "/no/such/program", NULL, NULL, argv, environ);
    printf("posix_spawn missing = %d\n", r);
    r = posix_spawnp(&pid, "no-such-program-xyz", NULL, NULL, argv, environ);
    printf("posix_spawnp missing = %d\n", r);
    fflush(stdout);
    if (argc > 1) { /* argv0[1]: the static probe */
        char *sargv[] = {argv0[1], "from-spawn-probe", NULL};
        r = posix_spawn(&pid, argv0[1], NULL, NULL, sargv, environ);
        if (r == 0)
            waitpid(pid, &status, 0);
        printf("posix_spawn static = %d\n", r);
        fflush(stdout);
    }
    status = system("exit 3");
    printf("system = %d\n", WEXITSTATUS(status));
    fflush(stdout);
    FILE *p = popen("cat in.txt", "r");
    char buf[64] = "";
    if (p && fgets(buf, sizeof buf, p))
        printf("popen read %s", buf);
    printf("pclose = %d\n", p ? pclose(p) : -1);
    return 0;
}
