/* cordon run on the host's own root: the namespace runner (its mount plan
 * is run_plan.c's; the dispatch to a runner is run_dispatch.c's, apart so
 * that what uses this file alone does not pull the hook runner and the
 * recorder in).
 *
 * The plan (cordon_mount_plan_build) is computed in cordon from the policy
 * and the host; the pid namespace's init executes it without allocating:
 *
 *   cordon ── clone(NEWUSER|NEWNS|NEWPID|NEWIPC|NEWUTS[|NEWNET]) ──> init
 *   init: id maps; a staging tmpfs on /tmp entered by pivot_root (the host's
 *         root at /oldroot, the view built at /newroot); the plan's ops;
 *         pivot_root into /newroot, the staging detached; the command forked
 *         without capabilities and with no_new_privs; orphans reaped.
 *
 * As bubblewrap and the Rust tree's sandbox do. The view starts empty: what no
 * rule shows does not exist. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cordon/error.h>
#include <cordon/manifest.h>
#include <cordon/policy.h>
#include <cordon/replay.h>
#include <cordon/run.h>
#include <cordon/util.h>

/* ---- the namespace runner ------------------------------------------------ */

enum run_stage {
    RS_PDEATHSIG,
    RS_UID_MAP,
    RS_SETGROUPS,
    RS_GID_MAP,
    RS_PRIVATE,
    RS_STAGING, /* index: the step of making the staging root */
    RS_OP,      /* index: the plan's op */
    RS_OP_PROC, /* index: the op; a read-only part of the procfs */
    RS_OP_DEV,  /* index: the op; a node or link of the minimal /dev */
    RS_PIVOT,   /* index: the step */
    RS_CWD,
    RS_LOOPBACK,
    RS_FORK,
    RS_CAPS,
    RS_NO_NEW_PRIVS,
    RS_EXEC,        /* index: the candidate (-1: none found) */
    RS_EXEC_INTERP, /* index: the candidate, there but its interpreter is not */
};

struct run_failure {
    int stage;
    int err;
    int index;
};

static const char *const staging_steps[] = {
    "mount a tmpfs on '/tmp' (the staging root)",
    "change to the staging root",
    "make '/newroot', '/oldroot' and '/.cordon' in the staging root",
    "pivot_root into the staging root",
    "make the staging's empty and unreadable files",
};

static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
static const char *const dev_links[][2] = {
    {"fd", "/proc/self/fd"},
    {"stdin", "/proc/self/fd/0"},
    {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"},
};
/* The parts of a procfs that act beyond the namespaces, read-only as
 * bubblewrap's --proc makes them: most sysctls are global and checked by
 * file mode only, which uid 0 inside passes without a capability. */
static const char *const proc_readonly[] = {"sys", "sysrq-trigger", "irq", "bus"};

struct run_plan {
    const struct cordon_mount_plan *mp;
    char **src_at; /* per op: the source as the init sees it */
    char **dst_at; /* per op: "/newroot" + dst */
    char cwd[PATH_MAX];
    char uid_map[32], gid_map[32];
    bool loopback;
    char **candidates;
    char **sh_argv;
    char *const *argv;
    char **envp;
    mode_t umask;
    int err_fd;
    int status_fd;
    /* Root's maps are written by cordon (the whole id range mapped to
     * itself needs CAP_SETUID in the parent namespace, which the init has
     * not): the init waits for a byte on go_fd first. */
    bool parent_maps;
    int go_fd;    /* read end */
    int go_write; /* write end (closed by the init) */
};

static pid_t raw_clone(unsigned long flags) {
    return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

__attribute__((noreturn)) static void rfail(const struct run_plan *p, int stage, int err, int index,
                                            int code) {
    struct run_failure f = {.stage = stage, .err = err, .index = index};
    ssize_t w = write(p->err_fd, &f, sizeof f);
    (void)w;
    _exit(code);
}

static int write_str(const char *path, const char *s) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    size_t n = strlen(s);
    ssize_t w = write(fd, s, n);
    int e = w < 0 ? errno : (size_t)w != n ? EIO : 0;
    (void)close(fd);
    return e;
}

/* a + "/" + b into buf (PATH_MAX), without stdio. */
static void join2(char *buf, const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la + lb + 2 > PATH_MAX) {
        buf[0] = '\0';
        return;
    }
    memcpy(buf, a, la);
    buf[la] = '/';
    memcpy(buf + la + 1, b, lb + 1);
}

static int mkdir_p(const char *path, mode_t mode) {
    char buf[PATH_MAX];
    size_t n = strlen(path);
    if (n >= sizeof buf)
        return ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    for (char *s = buf + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            struct stat st;
            if (lstat(buf, &st) < 0 && mkdir(buf, mode) < 0 && errno != EEXIST)
                return errno;
            *s = c;
            if (!c)
                break;
        }
    }
    return 0;
}

static int touch(const char *path, mode_t mode) {
    if (mknod(path, S_IFREG | mode, 0) == 0 || errno == EEXIST)
        return 0;
    if (errno != ENOENT)
        return errno;
    char buf[PATH_MAX];
    size_t n = strlen(path);
    if (n >= sizeof buf)
        return ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf)
        return ENOENT;
    *slash = '\0';
    int e = mkdir_p(buf, 0755);
    if (e)
        return e;
    return mknod(path, S_IFREG | mode, 0) == 0 || errno == EEXIST ? 0 : errno;
}

/* Remount one mount read-only, keeping the flags it has: in a user
 * namespace the kernel refuses a remount that would clear a locked flag
 * (nosuid, nodev, noexec, the atime ones; mount(2) EPERM). */
static int remount_readonly(const char *dst) {
    struct statvfs sv;
    if (statvfs(dst, &sv) < 0)
        return errno;
    unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY;
    static const unsigned long map[][2] = {
        {ST_NOSUID, MS_NOSUID},   {ST_NODEV, MS_NODEV},           {ST_NOEXEC, MS_NOEXEC},
        {ST_NOATIME, MS_NOATIME}, {ST_NODIRATIME, MS_NODIRATIME}, {ST_RELATIME, MS_RELATIME},
    };
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(map); i++)
        if (sv.f_flag & map[i][0])
            flags |= map[i][1];
    return mount(NULL, dst, NULL, flags, NULL) < 0 ? errno : 0;
}

/* Read-only with its submounts when `recursive`: mount_setattr(2) (Linux
 * 5.12) does the tree in one call; before it, the top mount is remounted
 * (its submounts stay as they are: docs/runners.md says so). */
static int make_readonly(const char *dst, bool recursive) {
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
    if (syscall(SYS_mount_setattr, AT_FDCWD, dst, recursive ? AT_RECURSIVE : 0, &attr,
                sizeof attr) == 0)
        return 0;
    if (errno != ENOSYS)
        return errno;
    return remount_readonly(dst);
}

static int do_proc(const char *dst, int *ret_part) {
    unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    if (mount("proc", dst, "proc", flags, NULL) < 0)
        return errno;
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(proc_readonly); i++) {
        char path[PATH_MAX];
        join2(path, dst, proc_readonly[i]);
        *ret_part = (int)i;
        if (mount(path, path, NULL, MS_BIND, NULL) < 0) {
            if (errno == ENOENT) /* not in this kernel's configuration */
                continue;
            return errno;
        }
        if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | flags, NULL) < 0)
            return errno;
    }
    *ret_part = -1;
    return 0;
}

/* A minimal /dev as bubblewrap's --dev: the harmless nodes the host has,
 * the usual links, a writable shm. */
static int do_dev(const char *dst, int *ret_part) {
    if (mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755") < 0)
        return errno;
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(dev_nodes); i++) {
        char src[PATH_MAX], path[PATH_MAX];
        join2(src, "/oldroot/dev", dev_nodes[i]);
        join2(path, dst, dev_nodes[i]);
        *ret_part = (int)i;
        struct stat st;
        if (stat(src, &st) < 0)
            continue;
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0)
            return errno;
        (void)close(fd);
        if (mount(src, path, NULL, MS_BIND, NULL) < 0)
            return errno;
    }
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(dev_links); i++) {
        char path[PATH_MAX];
        join2(path, dst, dev_links[i][0]);
        *ret_part = (int)(CORDON_ARRAY_SIZE(dev_nodes) + i);
        if (symlink(dev_links[i][1], path) < 0)
            return errno;
    }
    char shm[PATH_MAX];
    join2(shm, dst, "shm");
    *ret_part = (int)(CORDON_ARRAY_SIZE(dev_nodes) + CORDON_ARRAY_SIZE(dev_links));
    if (mkdir(shm, 01777) < 0 || chmod(shm, 01777) < 0)
        return errno;
    *ret_part = -1;
    return 0;
}

static int do_op(const struct run_plan *p, size_t i, int *ret_part) {
    const struct cordon_mount_op *op = &p->mp->ops[i];
    const char *dst = p->dst_at[i];
    switch (op->kind) {
    case CORDON_MOP_MKDIR:
        return mkdir_p(dst, 0755);
    case CORDON_MOP_TOUCH:
        return touch(dst, op->mode);
    case CORDON_MOP_SYMLINK:
        if (symlink(op->src, dst) < 0 && errno != EEXIST)
            return errno;
        return 0;
    case CORDON_MOP_BIND:
        /* Recursive for a directory: a subtree with locked submounts (all
         * of the host's, seen from a user namespace) cannot be bound alone. */
        if (mount(p->src_at[i], dst, NULL, MS_BIND | (op->recursive ? MS_REC : 0), NULL) < 0)
            return errno;
        return op->readonly ? make_readonly(dst, op->recursive) : 0;
    case CORDON_MOP_TMPFS: {
        char opts[32] = "mode=0";
        /* mode in octal, without stdio */
        char digits[8];
        int n = 0;
        unsigned m = op->mode & 07777;
        do {
            digits[n++] = (char)('0' + (m & 7));
            m >>= 3;
        } while (m);
        size_t k = strlen(opts);
        while (n)
            opts[k++] = digits[--n];
        opts[k] = '\0';
        if (mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
            return errno;
        return 0;
    }
    case CORDON_MOP_PROC:
        return do_proc(dst, ret_part);
    case CORDON_MOP_DEV:
        return do_dev(dst, ret_part);
    case CORDON_MOP_READONLY:
        return make_readonly(dst, op->recursive);
    default:
        return EINVAL;
    }
}

static int loopback_up(void) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, "lo", 3);
    int e = 0;
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
        e = errno;
    else {
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
            e = errno;
    }
    (void)close(fd);
    return e;
}

static void build_view(const struct run_plan *p) {
    /* Nothing done from here on reaches the host's mount namespace. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        rfail(p, RS_PRIVATE, errno, 0, 125);
    if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
        rfail(p, RS_STAGING, errno, 0, 125);
    if (chdir("/tmp") < 0)
        rfail(p, RS_STAGING, errno, 1, 125);
    if (mkdir("newroot", 0755) < 0 || mkdir("oldroot", 0755) < 0 || mkdir(".cordon", 0755) < 0)
        rfail(p, RS_STAGING, errno, 2, 125);
    if (syscall(SYS_pivot_root, ".", "oldroot") < 0)
        rfail(p, RS_STAGING, errno, 3, 125);
    if (chdir("/") < 0)
        rfail(p, RS_STAGING, errno, 3, 125);
    /* The sources of `empty` and `deny` over files. */
    if (mknod(CORDON_STAGING_EMPTY, S_IFREG | 0444, 0) < 0 ||
        mknod(CORDON_STAGING_DENY, S_IFREG | 0, 0) < 0)
        rfail(p, RS_STAGING, errno, 4, 125);
    for (size_t i = 0; i < p->mp->n_ops; i++) {
        int part = -1;
        int e = do_op(p, i, &part);
        if (e) {
            enum cordon_mount_op_kind k = p->mp->ops[i].kind;
            int stage = k == CORDON_MOP_PROC && part >= 0  ? RS_OP_PROC
                        : k == CORDON_MOP_DEV && part >= 0 ? RS_OP_DEV
                                                           : RS_OP;
            rfail(p, stage, e, (int)i | (part >= 0 ? (part + 1) << 20 : 0), 125);
        }
    }
    /* Into the view: the host's root and the staging go. */
    if (umount2("/oldroot", MNT_DETACH) < 0)
        rfail(p, RS_PIVOT, errno, 0, 125);
    if (chdir("/newroot") < 0)
        rfail(p, RS_PIVOT, errno, 1, 125);
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        rfail(p, RS_PIVOT, errno, 2, 125);
    if (umount2(".", MNT_DETACH) < 0)
        rfail(p, RS_PIVOT, errno, 3, 125);
    if (chdir("/") < 0)
        rfail(p, RS_PIVOT, errno, 4, 125);
    if (chdir(p->cwd) < 0)
        rfail(p, RS_CWD, errno, 0, 125);
}

__attribute__((noreturn)) static void run_command(const struct run_plan *p) {
    cordon_signals_child_reset();
    umask(p->umask);
    int e = cordon_ns_drop_capabilities();
    if (e)
        rfail(p, RS_CAPS, e, 0, 125);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        rfail(p, RS_NO_NEW_PRIVS, errno, 0, 125);
    int index;
    bool interp;
    int err = cordon_exec_search(p->candidates, p->argv, p->envp, p->sh_argv, &index, &interp);
    rfail(p, interp ? RS_EXEC_INTERP : RS_EXEC, err, index, index < 0 ? 127 : 126);
}

__attribute__((noreturn)) static void run_init(const struct run_plan *p) {
    /* cordon's death ends the namespace: the init's death kills the rest. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        rfail(p, RS_PDEATHSIG, errno, 0, 125);
    umask(0);
    int e;
    if (p->parent_maps) {
        (void)close(p->go_write);
        char go;
        ssize_t n;
        while ((n = read(p->go_fd, &go, 1)) < 0 && errno == EINTR)
            ;
        if (n != 1)
            _exit(125); /* cordon is gone, or could not write the maps (it says why) */
        (void)close(p->go_fd);
    } else {
        e = write_str("/proc/self/uid_map", p->uid_map);
        if (e)
            rfail(p, RS_UID_MAP, e, 0, 125);
        e = write_str("/proc/self/setgroups", "deny");
        if (e && e != ENOENT)
            rfail(p, RS_SETGROUPS, e, 0, 125);
        e = write_str("/proc/self/gid_map", p->gid_map);
        if (e)
            rfail(p, RS_GID_MAP, e, 0, 125);
    }
    build_view(p);
    if (p->loopback && (e = loopback_up()))
        rfail(p, RS_LOOPBACK, e, 0, 125);
    pid_t cmd = raw_clone(0);
    if (cmd < 0)
        rfail(p, RS_FORK, errno, 0, 125);
    if (cmd == 0)
        run_command(p);
    (void)close(p->err_fd);
    int status = cordon_ns_init_wait(cmd);
    ssize_t w = write(p->status_fd, &status, sizeof status);
    (void)w;
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

static const char *op_name(enum cordon_mount_op_kind k) {
    switch (k) {
    case CORDON_MOP_MKDIR:
        return "make the directory";
    case CORDON_MOP_TOUCH:
        return "make the mount point";
    case CORDON_MOP_SYMLINK:
        return "make the symlink";
    case CORDON_MOP_BIND:
        return "bind-mount on";
    case CORDON_MOP_TMPFS:
        return "mount a tmpfs on";
    case CORDON_MOP_PROC:
        return "mount proc on";
    case CORDON_MOP_DEV:
        return "make a minimal /dev on";
    case CORDON_MOP_READONLY:
        return "make read-only";
    default:
        return "set up";
    }
}

static int run_report(const struct run_plan *p, const struct run_failure *f, const char *argv0,
                      struct cordon_error *err) {
    int e = f->err > 0 ? f->err : EIO;
    switch ((enum run_stage)f->stage) {
    case RS_EXEC:
        if (f->index < 0 || e == ENOENT || !p->candidates) {
            cordon_error_set(err, ENOENT, argv0, 0, 0, "'%s' not found", argv0);
            return -ENOENT;
        }
        cordon_error_set(err, e, p->candidates[f->index], 0, 0, "cannot execute '%s'",
                         p->candidates[f->index]);
        return -EACCES;
    case RS_EXEC_INTERP: {
        const char *c = f->index >= 0 && p->candidates ? p->candidates[f->index] : argv0;
        cordon_error_set(err, ENOENT, c, 0, 0,
                         "cannot execute '%s': its interpreter (the #! line's program or the ELF "
                         "loader) is not visible through the policy",
                         c);
        return -EACCES;
    }
    case RS_PDEATHSIG:
        cordon_error_set(err, e, NULL, 0, 0, "cannot set the parent-death signal");
        break;
    case RS_UID_MAP:
    case RS_GID_MAP:
        cordon_error_set(err, e, NULL, 0, 0, "cannot write '/proc/self/%s'",
                         f->stage == RS_UID_MAP ? "uid_map" : "gid_map");
        break;
    case RS_SETGROUPS:
        cordon_error_set(err, e, NULL, 0, 0, "cannot write '/proc/self/setgroups'");
        break;
    case RS_PRIVATE:
        cordon_error_set(err, e, NULL, 0, 0, "cannot make the mounts private");
        break;
    case RS_STAGING:
        cordon_error_set(err, e, NULL, 0, 0, "cannot %s",
                         f->index >= 0 && (size_t)f->index < CORDON_ARRAY_SIZE(staging_steps)
                             ? staging_steps[f->index]
                             : "make the staging root");
        break;
    case RS_OP:
    case RS_OP_PROC:
    case RS_OP_DEV: {
        size_t i = (size_t)(f->index & 0xfffff);
        int part = (f->index >> 20) - 1;
        if (i >= p->mp->n_ops) {
            cordon_error_set(err, e, NULL, 0, 0, "cannot build the view");
            break;
        }
        const struct cordon_mount_op *op = &p->mp->ops[i];
        if (f->stage == RS_OP_PROC && part >= 0 && (size_t)part < CORDON_ARRAY_SIZE(proc_readonly))
            cordon_error_set(err, e, op->dst, 0, 0, "cannot make '%s/%s' read-only", op->dst,
                             proc_readonly[part]);
        else if (f->stage == RS_OP_DEV && part >= 0)
            cordon_error_set(err, e, op->dst, 0, 0, "cannot make the minimal /dev on '%s'",
                             op->dst);
        else if (op->kind == CORDON_MOP_BIND)
            cordon_error_set(err, e, op->dst, 0, 0, "cannot bind-mount '%s' on '%s'", op->src,
                             op->dst);
        else if (op->kind == CORDON_MOP_PROC && e == EPERM)
            cordon_error_set(err, e, op->dst, 0, 0,
                             "cannot mount proc on '%s' (a container that masks parts of its "
                             "/proc refuses a new one)",
                             op->dst);
        else
            cordon_error_set(err, e, op->dst, 0, 0, "cannot %s '%s'", op_name(op->kind), op->dst);
        break;
    }
    case RS_PIVOT:
        cordon_error_set(err, e, NULL, 0, 0, "cannot pivot_root into the view (step %d)", f->index);
        break;
    case RS_CWD:
        cordon_error_set(err, e, p->cwd, 0, 0,
                         "cannot change to the working directory '%s' in the view (does the "
                         "policy show it?)",
                         p->cwd);
        break;
    case RS_LOOPBACK:
        cordon_error_set(err, e, NULL, 0, 0, "cannot bring up the loopback interface");
        break;
    case RS_FORK:
        cordon_error_set(err, e, NULL, 0, 0, "cannot fork the command");
        break;
    case RS_CAPS:
        cordon_error_set(err, e, NULL, 0, 0, "cannot drop capabilities");
        break;
    case RS_NO_NEW_PRIVS:
        cordon_error_set(err, e, NULL, 0, 0, "cannot set PR_SET_NO_NEW_PRIVS");
        break;
    default:
        cordon_error_set(err, e, NULL, 0, 0, "the namespace runner failed (step %d)", f->stage);
        break;
    }
    return CORDON_RUN_SETUP_FAILED;
}

/* Root's id maps for the init `pid`: the whole range to itself, so that
 * ownership looks as it does outside and chown(2) to any user works (a
 * build's tar, install -o); inside a container whose own namespace maps
 * less, root's own ids alone. 0 or an errno, with *ret_what the file. */
static int write_root_maps(pid_t pid, const char **ret_what) {
    char path[64];
    static const char *const files[] = {"uid_map", "gid_map"};
    for (int i = 0; i < 2; i++) {
        (void)snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, files[i]);
        *ret_what = files[i];
        if (write_str(path, "0 0 4294967295\n") == 0)
            continue;
        if (i == 1) {
            /* An own-gid map needs setgroups denied first. */
            char sg[64];
            (void)snprintf(sg, sizeof sg, "/proc/%d/setgroups", (int)pid);
            int e = write_str(sg, "deny");
            if (e && e != ENOENT) {
                *ret_what = "setgroups";
                return e;
            }
        }
        int e = write_str(path, "0 0 1\n");
        if (e)
            return e;
    }
    return 0;
}

static void run_plan_free(struct run_plan *p) {
    if (!p)
        return;
    if (p->mp) {
        for (size_t i = 0; i < p->mp->n_ops; i++) {
            if (p->src_at)
                free(p->src_at[i]);
            if (p->dst_at)
                free(p->dst_at[i]);
        }
    }
    free(p->src_at);
    free(p->dst_at);
    cordon_strv_free(p->candidates);
    cordon_strv_free(p->envp);
    free(p->sh_argv);
    cordon_mount_plan_free((struct cordon_mount_plan *)p->mp);
    free(p);
}

static int make_run_plan(struct run_plan *p, const struct cordon_host_run_spec *spec,
                         struct cordon_error *err) {
    const struct cordon_policy *pol = spec->policy;
    const char *home = cordon_env_get(spec->envp, "HOME");
    struct cordon_mount_plan *mp = NULL;
    int r = cordon_mount_plan_build(pol, home, &mp, err);
    if (r < 0)
        return r;
    p->mp = mp;
    p->src_at = calloc(mp->n_ops + 1, sizeof *p->src_at);
    p->dst_at = calloc(mp->n_ops + 1, sizeof *p->dst_at);
    if (!p->src_at || !p->dst_at)
        return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    for (size_t i = 0; i < mp->n_ops; i++) {
        const struct cordon_mount_op *op = &mp->ops[i];
        if (asprintf(&p->dst_at[i], "/newroot%s", strcmp(op->dst, "/") ? op->dst : "") < 0) {
            p->dst_at[i] = NULL;
            return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
        }
        if (op->kind == CORDON_MOP_BIND) {
            bool staging = !strncmp(op->src, "/.cordon/", 9);
            if (asprintf(&p->src_at[i], "%s%s", staging ? "" : "/oldroot",
                         strcmp(op->src, "/") ? op->src : (staging ? "/" : "")) < 0) {
                p->src_at[i] = NULL;
                return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
            }
        }
    }
    /* The home as the policy makes it: a fresh one is the tmpfs at $HOME. */
    const char *home_dir = pol->home == CORDON_HOME_PATH ? pol->home_path : home;
    r = cordon_policy_apply_env(pol, spec->envp ? spec->envp : (char *const[]){NULL}, home_dir,
                                &p->envp);
    if (r < 0)
        return cordon_error_set(err, -r, NULL, 0, 0, "cannot apply the policy's environment");
    char cwdbuf[PATH_MAX];
    const char *cwd = spec->cwd;
    if (!cwd)
        cwd = getcwd(cwdbuf, sizeof cwdbuf) ? cwdbuf : "/";
    /* The view shows the cwd where its symlinks lead. */
    char real[PATH_MAX];
    (void)snprintf(p->cwd, sizeof p->cwd, "%s", realpath(cwd, real) ? real : cwd);
    (void)snprintf(p->uid_map, sizeof p->uid_map, "%u %u 1\n", (unsigned)geteuid(),
                   (unsigned)geteuid());
    (void)snprintf(p->gid_map, sizeof p->gid_map, "%u %u 1\n", (unsigned)getegid(),
                   (unsigned)getegid());
    p->loopback = pol->network == 0;
    p->argv = spec->argv;
    size_t argc = cordon_strv_length(spec->argv);
    p->sh_argv = calloc(argc + 2, sizeof *p->sh_argv);
    if (!p->sh_argv)
        return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    p->sh_argv[0] = (char *)"/bin/sh";
    for (size_t i = 1; i < argc; i++)
        p->sh_argv[i + 1] = spec->argv[i];
    r = cordon_exec_candidates(spec->argv[0], p->envp, &p->candidates);
    if (r < 0)
        return cordon_error_set(err, -r, NULL, 0, 0, "cannot search for '%s'", spec->argv[0]);
    mode_t m = umask(0);
    umask(m);
    p->umask = m;
    return 0;
}

int cordon_run_host_namespace(const struct cordon_host_run_spec *spec, int *ret_status,
                              struct cordon_error *err) {
    struct run_plan *p = calloc(1, sizeof *p);
    if (!p)
        return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    p->err_fd = p->status_fd = p->go_fd = p->go_write = -1;
    int r = make_run_plan(p, spec, err);
    if (r < 0) {
        run_plan_free(p);
        return r == -ENOENT || r == -EACCES ? CORDON_RUN_SETUP_FAILED : r;
    }
    int errp[2] = {-1, -1}, statp[2] = {-1, -1}, gop[2] = {-1, -1};
    p->parent_maps = geteuid() == 0;
    if (pipe2(errp, O_CLOEXEC) < 0 || pipe2(statp, O_CLOEXEC) < 0 ||
        (p->parent_maps && pipe2(gop, O_CLOEXEC) < 0)) {
        r = cordon_error_set(err, errno, NULL, 0, 0, "cannot create a pipe");
        goto out;
    }
    p->err_fd = errp[1];
    p->status_fd = statp[1];
    p->go_fd = gop[0];
    p->go_write = gop[1];
    struct cordon_sigblock sb;
    if ((r = cordon_signals_block(&sb)) < 0) {
        cordon_error_set(err, -r, NULL, 0, 0, "cannot block signals");
        goto out;
    }
    unsigned long flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
    if (p->loopback)
        flags |= CLONE_NEWNET;
    pid_t pid = raw_clone(flags);
    if (pid == 0)
        run_init(p);
    int clone_errno = errno;
    (void)close(TAKE_FD(errp[1]));
    (void)close(TAKE_FD(statp[1]));
    if (pid < 0) {
        cordon_signals_restore(&sb);
        char why[512];
        cordon_userns_reason(clone_errno, why, sizeof why);
        cordon_error_set(err, clone_errno, NULL, 0, 0,
                         "cannot create a user namespace: %s\n"
                         "hint: use --backend hook or --backend landlock, which need none",
                         why);
        r = CORDON_RUN_SETUP_FAILED;
        goto out;
    }
    if (p->parent_maps) {
        (void)close(TAKE_FD(gop[0]));
        const char *what = "uid_map";
        int e = write_root_maps(pid, &what);
        /* Without the byte (a failure) the init exits. */
        if (!e && write(gop[1], "g", 1) != 1)
            e = errno;
        (void)close(TAKE_FD(gop[1]));
        if (e) {
            int st;
            (void)waitpid(pid, &st, 0);
            cordon_signals_restore(&sb);
            cordon_error_set(err, e, NULL, 0, 0,
                             "cannot write the user namespace's '%s' of process %d", what,
                             (int)pid);
            r = CORDON_RUN_SETUP_FAILED;
            goto out;
        }
    }
    struct run_failure f;
    ssize_t n;
    while ((n = read(errp[0], &f, sizeof f)) < 0 && errno == EINTR)
        ;
    int status = 0;
    int w = cordon_wait_forwarding(pid, &status);
    cordon_signals_restore(&sb);
    if (n == (ssize_t)sizeof f) {
        r = run_report(p, &f, spec->argv[0], err);
        goto out;
    }
    if (w < 0) {
        r = cordon_error_set(err, -w, NULL, 0, 0, "cannot wait for the namespace's init");
        goto out;
    }
    int cmd_status;
    while ((n = read(statp[0], &cmd_status, sizeof cmd_status)) < 0 && errno == EINTR)
        ;
    *ret_status = n == (ssize_t)sizeof cmd_status ? cmd_status : status;
    r = 0;
out:
    for (int i = 0; i < 2; i++) {
        if (errp[i] >= 0)
            (void)close(errp[i]);
        if (statp[i] >= 0)
            (void)close(statp[i]);
        if (gop[i] >= 0)
            (void)close(gop[i]);
    }
    run_plan_free(p);
    return r;
}

bool cordon_backend_enforces(enum cordon_backend b) {
    switch (b) {
    case CORDON_BACKEND_NAMESPACE:
    case CORDON_BACKEND_LANDLOCK:
        return true;
    case CORDON_BACKEND_HOOK:
        /* A program that bypasses libc (static, raw system calls) escapes
         * the hook; the complete path closes that only where seccomp user
         * notification works, which the hook runner checks as it starts. */
        return false;
    case CORDON_BACKEND_AUTO:
    case CORDON_BACKEND_FAKECHROOT:
    case CORDON_BACKEND_MAX:
    case CORDON_BACKEND_INVALID:
    default:
        return false;
    }
}
