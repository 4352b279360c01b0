/* cordon-exec: the hook's trampoline for posix_spawn of a static program.
 *
 * glibc's posix_spawn clones and execs inside libc, where no wrapper runs,
 * so a static program it starts would escape the complete path. The hook's
 * posix_spawn wrapper spawns this dynamic program instead, with argv
 * [cordon-exec, TARGET, TARGET'S ARGV...] and the same file actions,
 * attributes and environment (which carries the hook): its execve is the
 * hook's, which installs the seccomp filter and records the exec before
 * replacing this process with TARGET. The exit status is then TARGET's. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: cordon-exec TARGET [ARGV...]\n");
        return 127;
    }
    execve(argv[1], argv + 2, environ);
    fprintf(stderr, "cordon-exec: cannot run '%s': %s\n", argv[1], strerror(errno));
    return 127; /* what a shell answers for a command it could not run */
}
