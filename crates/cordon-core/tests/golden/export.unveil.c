/*
 * OpenBSD unveil(2) program exported by cordon from example policy.
 * Build: cc -o cordon-unveil this.c; run: ./cordon-unveil COMMAND [ARGS...]
 * Approximations:
 * - tmpfs: the real directory, writable (unveil cannot make a private one)
 * - deny: hidden (ENOENT) rather than unreadable
 * - HOME and the environment are not changed (unveil covers paths only)
 * - proc /proc: no unveil equivalent, left out
 * - empty /etc/gitconfig: no unveil equivalent, left out
 * Paths and permissions (the list form):
 *   /usr "rx"
 *   /opt/deps/zlib "rx"
 *   /work/pkg "rwxc"
 *   /tmp "rwxc"
 *   /dev "rw"
 *   /usr/include/zlib.h ""
 *   /home/u/.netrc ""
 */
#include <err.h>
#include <errno.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
    if (argc < 2)
        errx(125, "usage: %s COMMAND [ARGS...]", argv[0]);
    if (unveil("/usr", "rx") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/usr");
    if (unveil("/opt/deps/zlib", "rx") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/opt/deps/zlib");
    if (unveil("/work/pkg", "rwxc") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/work/pkg");
    if (unveil("/tmp", "rwxc") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/tmp");
    if (unveil("/dev", "rw") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/dev");
    if (unveil("/usr/include/zlib.h", "") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/usr/include/zlib.h");
    if (unveil("/home/u/.netrc", "") == -1 && errno != ENOENT)
        err(125, "unveil %s", "/home/u/.netrc");
    if (unveil(NULL, NULL) == -1)
        err(125, "unveil");
    execvp(argv[1], argv + 1);
    err(errno == ENOENT ? 127 : 126, "%s", argv[1]);
}
