/* cordon-nouserns CMD [ARGS...]: run CMD as on a machine without user
 * namespaces (DESIGN.md, "Testing without user namespaces"). Needs root.
 *
 * The child enters a new user namespace mapping uids and gids 0-65535 to
 * themselves, waits until the parent has written those maps (from outside:
 * `unshare --map-users` would need newuidmap and /etc/subuid), then execs a
 * shell that sets the namespace's max_user_namespaces to 0 and execs setpriv
 * to drop every capability, set no_new_privs and become uid 65534. The shell
 * must be exec'd after the maps are written: capabilities are computed at
 * exec, and a process started before its map holds none to write the sysctl.
 * Exits with CMD's status, 128+N if it died of signal N, 125 on setup errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SETUP_FAILED 125

static const char script[] =
    "echo 0 > /proc/sys/user/max_user_namespaces || exit 125\n"
    "exec setpriv --reuid=65534 --regid=65534 --clear-groups --bounding-set=-all"
    " --inh-caps=-all --no-new-privs -- \"$@\"\n";

static int write_file(pid_t pid, const char *name, const char *text) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "cordon-nouserns: cannot open '%s': %s\n", path, strerror(errno));
        return -1;
    }
    ssize_t n = write(fd, text, strlen(text));
    int saved = errno;
    close(fd);
    if (n != (ssize_t)strlen(text)) {
        fprintf(stderr, "cordon-nouserns: cannot write '%s': %s\n", path,
                n < 0 ? strerror(saved) : "short write");
        return -1;
    }
    return 0;
}

static volatile pid_t child;

static void forward(int sig) {
    if (child > 0)
        kill(child, sig);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs("usage: cordon-nouserns CMD [ARGS...]\n", stderr);
        return SETUP_FAILED;
    }
    int ready[2], go[2];
    if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0) {
        perror("cordon-nouserns: pipe");
        return SETUP_FAILED;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("cordon-nouserns: fork");
        return SETUP_FAILED;
    }
    if (pid == 0) {
        close(ready[0]);
        close(go[1]);
        char status = 0;
        if (unshare(CLONE_NEWUSER) < 0) {
            fprintf(stderr, "cordon-nouserns: unshare(CLONE_NEWUSER): %s\n", strerror(errno));
            status = 1;
        }
        if (write(ready[1], &status, 1) != 1 || status)
            _exit(SETUP_FAILED);
        /* EOF without a byte means the parent could not write the maps. */
        if (read(go[0], &status, 1) != 1)
            _exit(SETUP_FAILED);
        char **args = calloc((size_t)argc + 4, sizeof *args);
        if (!args)
            _exit(SETUP_FAILED);
        args[0] = "sh";
        args[1] = "-c";
        args[2] = (char *)script;
        args[3] = "sh";
        for (int i = 1; i < argc; i++)
            args[3 + i] = argv[i];
        execv("/bin/sh", args);
        fprintf(stderr, "cordon-nouserns: cannot execute '/bin/sh': %s\n", strerror(errno));
        _exit(SETUP_FAILED);
    }
    close(ready[1]);
    close(go[0]);
    char status = 1;
    if (read(ready[0], &status, 1) != 1 || status)
        goto wait_child;
    if (write_file(pid, "uid_map", "0 0 65536\n") < 0 ||
        write_file(pid, "gid_map", "0 0 65536\n") < 0)
        goto wait_child;
    status = 0;
    if (write(go[1], &status, 1) != 1)
        perror("cordon-nouserns: write");
wait_child:
    close(go[1]);
    /* A test runner's timeout signals us: pass it on rather than leave the
     * command running. */
    child = pid;
    struct sigaction sa = {.sa_handler = forward};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    int ws;
    while (waitpid(pid, &ws, 0) < 0)
        if (errno != EINTR) {
            perror("cordon-nouserns: waitpid");
            return SETUP_FAILED;
        }
    if (WIFSIGNALED(ws))
        return 128 + WTERMSIG(ws);
    return WEXITSTATUS(ws);
}
