/* Dynamic launcher for tests/e2e/record-static-spawn.sh: runs a program
 * through posix_spawn, posix_spawnp, system or popen and prints what came
 * back, so that the test sees the spawned program's exit status and the
 * spawn's own error.
 *
 *   spawn_static spawn|spawnp ARGV0 PROG [ARGS...]
 *   spawn_static spawn-fa DIR OUT ARGV0 PROG [ARGS...]: the child changes to
 *       DIR, has OUT (relative to DIR) as its stdout and leads a new process
 *       group, through file actions and attributes
 *   spawn_static system|popen COMMAND-LINE */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv) {
    if (argc >= 4 && (!strcmp(argv[1], "spawn") || !strcmp(argv[1], "spawnp"))) {
        /* argv[2] is the child's argv[0], argv[3] the program. */
        char **cargv = argv + 3;
        char *argv0 = argv[2];
        char *prog = argv[3];
        cargv[0] = argv0;
        pid_t pid;
        int r = !strcmp(argv[1], "spawn") ? posix_spawn(&pid, prog, NULL, NULL, cargv, environ)
                                          : posix_spawnp(&pid, prog, NULL, NULL, cargv, environ);
        if (r) {
            printf("%s %s: %s\n", argv[1], prog, strerrorname_np(r));
            return 0;
        }
        int st;
        if (waitpid(pid, &st, 0) != pid)
            return perror("waitpid"), 1;
        printf("%s %s: exit %d\n", argv[1], prog, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        return 0;
    }
    if (argc >= 6 && !strcmp(argv[1], "spawn-fa")) {
        char **cargv = argv + 5;
        char *argv0 = argv[4];
        char *prog = argv[5];
        cargv[0] = argv0;
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addchdir_np(&fa, argv[2]);
        posix_spawn_file_actions_addopen(&fa, 1, argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawnattr_init(&attr);
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
        pid_t pid;
        int r = posix_spawn(&pid, prog, &fa, &attr, cargv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        if (r) {
            printf("spawn-fa %s: %s\n", prog, strerrorname_np(r));
            return 0;
        }
        int st;
        if (waitpid(pid, &st, 0) != pid)
            return perror("waitpid"), 1;
        printf("spawn-fa %s: exit %d\n", prog, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "system")) {
        fflush(stdout);
        int st = system(argv[2]);
        printf("system: exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "popen")) {
        FILE *f = popen(argv[2], "r");
        if (!f)
            return perror("popen"), 1;
        char line[256];
        while (fgets(line, sizeof line, f))
            printf("popen read: %s", line);
        int st = pclose(f);
        printf("popen: exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        return 0;
    }
    fprintf(stderr, "usage: spawn_static spawn|spawnp ARGV0 PROG [ARGS...] | system|popen LINE\n");
    return 2;
}
