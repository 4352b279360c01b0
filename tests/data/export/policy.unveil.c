/*
 * OpenBSD unveil(2) program exported by cordon from policy 'example.policy'.
 * Policy: example policy for the export goldens
 * Build: cc -o cordon-unveil THIS.c; run: ./cordon-unveil COMMAND [ARGS...]
 * Approximations:
 * - tmpfs and a fresh HOME: the real directories, writable (unveil cannot make private ones)
 * - deny: hidden (ENOENT) rather than unreadable
 * - the environment is not changed (unveil covers paths only)
 * - the command runs pledged with EXECPROMISES: without execpromises OpenBSD drops the unveils at exec
 * - empty /etc/gitconfig: no unveil equivalent, left out
 * - redirect /etc/pip.conf: no unveil equivalent, left out
 * - proc /proc: no unveil equivalent, left out
 */
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define EXECPROMISES "stdio rpath wpath cpath dpath tmppath fattr chown flock unix getpw sendfd recvfd tape tty proc exec prot_exec ps vminfo id unveil error"

static char *const default_argv[] = {NULL};

int
main(int argc, char *argv[])
{
    char *const *args = argc > 1 ? argv + 1 : default_argv;
    if (!args[0])
        errx(125, "usage: %s COMMAND [ARGS...]", argv[0]);
    if (unveil("/dev", "rw") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/dev");
    if (unveil("/home/u/.netrc", "") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/home/u/.netrc");
    if (unveil("/opt/deps/zlib", "rx") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/opt/deps/zlib");
    if (unveil("/tmp", "rwxc") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/tmp");
    if (unveil("/usr", "rx") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/usr");
    if (unveil("/usr/include/zlib.h", "") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/usr/include/zlib.h");
    if (unveil("/usr/share/doc", "") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/usr/share/doc");
    if (unveil("/work/pkg", "rwxc") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/work/pkg");
    if (unveil("/work/pkg/vendor", "rx") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/work/pkg/vendor");
    if (unveil(NULL, NULL) == -1)
        err(125, "unveil");
    if (pledge(NULL, EXECPROMISES) == -1)
        err(125, "pledge");
    execvp(args[0], args);
    err(errno == ENOENT ? 127 : 126, "%s", args[0]);
}
