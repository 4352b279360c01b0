/*
 * OpenBSD unveil(2) program exported by cordon from manifest 'build.json'.
 * Build: cc -o cordon-unveil THIS.c; run: ./cordon-unveil [COMMAND [ARGS...]]
 * (default: the recorded command; run it in /work/pkg).
 * CORDON_WORKTREE=DIR unveils DIR (a fresh copy) instead of the recorded work tree.
 * Approximations:
 * - '/var/cache/hello' existed before the build, which wrote in it: only the files it wrote there are writable, in place
 * - a directory the build listed is unveiled "r", which also opens what is below it
 * - /tmp is the real one (rwc), and of /dev only /dev/null (rw)
 * - the build's programs run pledged with EXECPROMISES: without execpromises OpenBSD drops the unveils at exec
 */
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define EXECPROMISES "stdio rpath wpath cpath dpath tmppath fattr chown flock unix getpw sendfd recvfd tape tty proc exec prot_exec ps vminfo id unveil error"

static char *const default_argv[] = {"make", "install", "PREFIX=/opt/prefix", NULL};

int
main(int argc, char *argv[])
{
    char *const *args = argc > 1 ? argv + 1 : default_argv;
    if (!args[0])
        errx(125, "usage: %s COMMAND [ARGS...]", argv[0]);
    const char *worktree = getenv("CORDON_WORKTREE");
    if (!worktree || !*worktree)
        worktree = "/work/pkg";
    if (unveil(worktree, "rwxc") == -1 && errno != ENOENT)
        err(125, "unveil %s", worktree);
    if (unveil("/opt/prefix", "rwxc") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/opt/prefix");
    if (unveil("/var/cache/hello/stamp", "rwc") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/var/cache/hello/stamp");
    if (unveil("/tmp", "rwc") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/tmp");
    if (unveil("/dev/null", "rw") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/dev/null");
    if (unveil("/bin", "r") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/bin");
    if (unveil("/etc/ld.so.cache", "r") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/etc/ld.so.cache");
    if (unveil("/lib", "r") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/lib");
    if (unveil("/lib64/ld-linux-x86-64.so.2", "rx") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/lib64/ld-linux-x86-64.so.2");
    if (unveil("/opt/with space/it's.h", "r") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/opt/with space/it's.h");
    if (unveil("/usr/bin/cc", "rx") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/usr/bin/cc");
    if (unveil("/usr/bin/gcc", "rx") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/usr/bin/gcc");
    if (unveil("/usr/bin/make", "rx") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/usr/bin/make");
    if (unveil("/usr/bin/sh", "rx") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/usr/bin/sh");
    if (unveil("/usr/bin/strip", "r") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/usr/bin/strip");
    if (unveil("/usr/include", "r") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/usr/include");
    if (unveil("/usr/include/stdio.h", "r") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/usr/include/stdio.h");
    if (unveil("/usr/lib/ld.so", "rx") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/usr/lib/ld.so");
    if (unveil("/usr/lib/libc.so.6", "rx") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/usr/lib/libc.so.6");
    if (unveil("/usr/share/locale", "r") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/usr/share/locale");
    if (unveil("/usr/share/locale/locale.alias", "r") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/usr/share/locale/locale.alias");
    if (unveil(NULL, NULL) == -1)
        err(125, "unveil");
    if (pledge(NULL, EXECPROMISES) == -1)
        err(125, "pledge");
    execvp(args[0], args);
    err(errno == ENOENT ? 127 : 126, "%s", args[0]);
}
