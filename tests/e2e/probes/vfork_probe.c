/* vfork children share the parent's memory: one execs, one only stats and
 * exits. Both must be recorded under their own pid, and the parent's later
 * records must still come out. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

int main(void) {
    struct stat sb;
    pid_t pid = vfork();
    if (pid == 0) {
        execl("/bin/cat", "cat", "in.txt", (char *)NULL);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("vfork exec status=%d\n", WEXITSTATUS(status));
    fflush(stdout);
    pid = vfork();
    if (pid == 0) {
        int r = stat("vfork-child-stat", &sb);
        _exit(r == 0 ? 0 : 1);
    }
    waitpid(pid, &status, 0);
    printf("vfork stat status=%d\n", WEXITSTATUS(status));
    SHOW("parent stat after", stat("vfork-child-stat", &sb));
    /* A vfork child that changes directory: its relative paths are its
     * own, and the parent's stay the parent's. */
    pid = vfork();
    if (pid == 0) {
        int r = chdir("sub") == 0 && stat("a.txt", &sb) == 0;
        _exit(r ? 0 : 1);
    }
    waitpid(pid, &status, 0);
    printf("vfork chdir status=%d\n", WEXITSTATUS(status));
    SHOW("parent relative stat", stat("in.txt", &sb));
    return 0;
}
