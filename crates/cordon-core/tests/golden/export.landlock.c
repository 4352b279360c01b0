/*
 * Landlock program exported by cordon from example policy.
 * Build: cc -o cordon-landlock this.c; run: ./cordon-landlock COMMAND [ARGS...]
 * Approximations:
 * - hide and deny: not granted, so access is refused (EACCES) and existence stays visible through stat; a hidden path inside a granted directory stays reachable
 * - tmpfs and a fresh HOME: the real directories, writable (Landlock cannot make private ones)
 * - empty /etc/gitconfig: no Landlock equivalent, left out
 */
#define _GNU_SOURCE
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define READ (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | \
              LANDLOCK_ACCESS_FS_READ_DIR)
#define ALL (READ | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | \
             LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR | \
             LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | \
             LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | \
             LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM)

static int ruleset;

static void
allow(const char *path, __u64 access)
{
    struct landlock_path_beneath_attr rule = { .allowed_access = access };
    rule.parent_fd = open(path, O_PATH | O_CLOEXEC);
    if (rule.parent_fd < 0)
        return; /* a path this machine lacks */
    if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0))
        err(125, "landlock_add_rule %s", path);
    close(rule.parent_fd);
}

int
main(int argc, char *argv[])
{
    struct landlock_ruleset_attr attr = { .handled_access_fs = ALL };
    if (argc < 2)
        errx(125, "usage: %s COMMAND [ARGS...]", argv[0]);
    ruleset = syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (ruleset < 0)
        err(125, "landlock_create_ruleset (needs Linux 5.13 with Landlock enabled)");
    allow("/usr", READ);
    allow("/opt/deps/zlib", READ);
    allow("/work/pkg", ALL);
    allow("/tmp", ALL);
    allow("/dev", ALL);
    allow("/proc", READ);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
        err(125, "prctl(PR_SET_NO_NEW_PRIVS)");
    if (syscall(SYS_landlock_restrict_self, ruleset, 0))
        err(125, "landlock_restrict_self");
    close(ruleset);
    execvp(argv[1], argv + 1);
    err(errno == ENOENT ? 127 : 126, "%s", argv[1]);
}
