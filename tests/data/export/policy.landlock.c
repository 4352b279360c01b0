/*
 * Landlock program exported by cordon from policy 'example.policy'.
 * Policy: example policy for the export goldens
 * Build: cc -o cordon-landlock THIS.c; run: ./cordon-landlock COMMAND [ARGS...]
 * Approximations:
 * - hide and deny: not granted, so access is refused (EACCES) and existence stays visible through stat
 * - tmpfs and a fresh HOME: the real directories, writable (Landlock cannot make private ones)
 * - the environment is not changed (Landlock covers access only)
 * - network off: not confined (Landlock's TCP rules need ABI 4 and cover only TCP)
 * - empty /etc/gitconfig: no Landlock equivalent, left out
 * - redirect /etc/pip.conf: no Landlock equivalent, left out
 * - hide /usr/include/zlib.h: stays reachable (Landlock grants are inherited from /usr)
 * - hide /usr/share/doc: stays reachable (Landlock grants are inherited from /usr)
 * - ro /work/pkg/vendor: stays writable (Landlock grants are inherited from /work/pkg)
 */
#define _GNU_SOURCE
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/landlock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Rights of later ABIs, for headers older than the kernel. */
#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

#define R_FILE (LANDLOCK_ACCESS_FS_READ_FILE)
#define X_FILE (R_FILE | LANDLOCK_ACCESS_FS_EXECUTE)
#define R_DIR (LANDLOCK_ACCESS_FS_READ_DIR)
#define READ (X_FILE | R_DIR)
#define RW_FILE (R_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE)
#define ALL_V1 (READ | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | \
                LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR | \
                LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | \
                LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | \
                LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM)
#define ALL (ALL_V1 | LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE)
/* What a rule on a file (not a directory) may carry. */
#define FILE_RIGHTS (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
                     LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE)

struct rule {
    const char *path;
    __u64 access;
};

static int ruleset;
static __u64 handled;

static void
allow(const char *path, __u64 access)
{
    struct landlock_path_beneath_attr rule = {0};
    struct stat st;
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0)
        return; /* a path this machine lacks */
    if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
        access &= FILE_RIGHTS;
    rule.parent_fd = fd;
    rule.allowed_access = access & handled;
    if (rule.allowed_access &&
        syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0))
        err(125, "landlock_add_rule '%s'", path);
    close(fd);
}

static char *const default_argv[] = {NULL};

static const struct rule rules[] = {
    {"/dev", ALL},
    {"/opt/deps/zlib", READ},
    {"/proc", READ},
    {"/tmp", ALL},
    {"/usr", READ},
    {"/work/pkg", ALL},
    {"/work/pkg/vendor", READ},
};

int
main(int argc, char *argv[])
{
    char *const *args = argc > 1 ? argv + 1 : default_argv;
    if (!args[0])
        errx(125, "usage: %s COMMAND [ARGS...]", argv[0]);
    /* Best effort: the rights this kernel's ABI knows (1: Linux 5.13, 2: REFER
     * in 5.19, 3: TRUNCATE in 6.2). Without REFER, ABI 1 refuses every rename
     * across directories. */
    int abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 0) {
        if (errno == ENOSYS)
            errx(125, "landlock: not in this kernel (needs Linux 5.13 built with CONFIG_SECURITY_LANDLOCK)");
        if (errno == EOPNOTSUPP)
            errx(125, "landlock: disabled at boot (add landlock to the lsm= kernel parameter)");
        err(125, "landlock_create_ruleset");
    }
    handled = ALL_V1;
    if (abi >= 2)
        handled |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        handled |= LANDLOCK_ACCESS_FS_TRUNCATE;
    struct landlock_ruleset_attr attr = {.handled_access_fs = handled};
    ruleset = syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (ruleset < 0)
        err(125, "landlock_create_ruleset");
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        allow(rules[i].path, rules[i].access);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
        err(125, "prctl(PR_SET_NO_NEW_PRIVS)");
    if (syscall(SYS_landlock_restrict_self, ruleset, 0))
        err(125, "landlock_restrict_self");
    close(ruleset);
    execvp(args[0], args);
    err(errno == ENOENT ? 127 : 126, "%s", args[0]);
}
