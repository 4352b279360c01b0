/*
 * Landlock program exported by cordon from manifest 'build.json'.
 * Build: cc -o cordon-landlock THIS.c; run: ./cordon-landlock [COMMAND [ARGS...]]
 * (default: the recorded command; run it in /work/pkg).
 * CORDON_WORKTREE=DIR grants DIR (a fresh copy) instead of the recorded work tree.
 * Approximations:
 * - '/var/cache/hello' existed before the build, which wrote in it: only the files it wrote there are writable, in place
 * - Landlock does not confine stat or the walk to a path: what the manifest does not list is refused (EACCES) when opened, and a missing probe finds what the host has
 * - a directory the build listed may be listed below too (READ_DIR is granted beneath)
 * - /tmp: the build gets a private directory under $TMPDIR (or /tmp) as TMPDIR, removed when it ends; a program that ignores TMPDIR and writes in /tmp itself is refused
 * - /dev is the real one, read-write; /proc is readable
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

/* mkdir -p: a directory the build writes in must exist to be granted. */
static void
make_dirs(const char *path)
{
    char buf[4096];
    if (strlen(path) >= sizeof buf)
        return;
    strcpy(buf, path);
    for (char *s = buf + 1;; s++) {
        if (*s == '/' || !*s) {
            char c = *s;
            *s = '\0';
            if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                err(125, "cannot create '%s'", buf);
            *s = c;
            if (!c)
                break;
        }
    }
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* A private temporary directory in place of /tmp: the build runs in a child
 * with TMPDIR set to it; this process waits, removes it and exits with the
 * build's status. Returns the directory, in the child. */
static const char *
private_tmp(void)
{
    static char dir[4096];
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    if ((size_t)snprintf(dir, sizeof dir, "%s/cordon-landlock.XXXXXX", base) >= sizeof dir)
        errx(125, "TMPDIR is too long");
    if (!mkdtemp(dir))
        err(125, "cannot create a directory in '%s'", base);
    if (setenv("TMPDIR", dir, 1))
        err(125, "setenv");
    pid_t pid = fork();
    if (pid < 0)
        err(125, "fork");
    if (pid == 0)
        return dir;
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            err(125, "waitpid");
    nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

static char *const default_argv[] = {"make", "install", "PREFIX=/opt/prefix", NULL};

/* The work tree comes first, in main. */
static const struct rule rules[] = {
    {"/opt/prefix", ALL},
    {"/var/cache/hello/stamp", RW_FILE},
    {"/dev", ALL},
    {"/proc", READ},
    {"/etc/ld.so.cache", R_FILE},
    {"/opt/with space/it's.h", R_FILE},
    {"/usr/bin/gcc", X_FILE},
    {"/usr/bin/make", X_FILE},
    {"/usr/bin/sh", X_FILE},
    {"/usr/include", R_DIR},
    {"/usr/include/stdio.h", R_FILE},
    {"/usr/lib/ld.so", X_FILE},
    {"/usr/lib/libc.so.6", X_FILE},
    {"/usr/share/locale", R_DIR},
    {"/usr/share/locale/locale.alias", R_FILE},
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
    const char *worktree = getenv("CORDON_WORKTREE");
    if (!worktree || !*worktree)
        worktree = "/work/pkg";
    allow(worktree, ALL);
    allow(private_tmp(), ALL);
    make_dirs("/opt/prefix");
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
