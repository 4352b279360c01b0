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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
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

#include "ns_setup.h"

/* ---- the namespace runner ------------------------------------------------ */

/* The steps of this runner's own that the init can fail at (ns_setup.h has
 * the shared ones). */
enum run_stage {
    RS_STAGING = CORDON_NS_STAGE_OWN, /* index: the step of making the staging root */
    RS_OP,                            /* index: the plan's op */
    RS_OP_PROC,                       /* index: the op; a read-only part of the procfs */
    RS_OP_DEV,                        /* index: the op; a node or link of the minimal /dev */
    RS_PIVOT,                         /* index: the step */
    RS_CWD,
    RS_LOOPBACK,
};

static const char *const staging_steps[] = {
    "mount a tmpfs on '/tmp' (the staging root)",
    "change to the staging root",
    "make '/newroot', '/oldroot' and '/.cordon' in the staging root",
    "pivot_root into the staging root",
    "make the staging's empty and unreadable files",
};

/* The parts of a procfs that act beyond the namespaces, read-only as
 * bubblewrap's --proc makes them: most sysctls are global and checked by
 * file mode only, which uid 0 inside passes without a capability. */
static const char *const proc_readonly[] = {"sys", "sysrq-trigger", "irq", "bus"};

struct run_plan {
    struct cordon_ns_child ns;
    const struct cordon_mount_plan *mp;
    char **src_at; /* per op: the source as the init sees it */
    char **dst_at; /* per op: "/newroot" + dst */
    char cwd[PATH_MAX];
    bool loopback;
    /* Root's maps are written by cordon (the whole id range mapped to
     * itself needs CAP_SETUID in the parent namespace, which the init has
     * not): the init waits for a byte on go_fd first. */
    bool parent_maps;
    int go_fd;    /* read end */
    int go_write; /* write end (closed by the init) */
};

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
    int e = cordon_ns_mkdir_p(buf, 0755);
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
        cordon_ns_join(path, dst, proc_readonly[i]);
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

static int do_op(const struct run_plan *p, size_t i, int *ret_part) {
    const struct cordon_mount_op *op = &p->mp->ops[i];
    const char *dst = p->dst_at[i];
    switch (op->kind) {
    case CORDON_MOP_MKDIR:
        return cordon_ns_mkdir_p(dst, 0755);
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
    case CORDON_MOP_DEV: {
        int step, index;
        int e = cordon_ns_make_dev(dst, "/oldroot/dev", &step, &index);
        /* The message names the /dev alone: any part past its tmpfs. */
        if (e && step != CORDON_NS_DEV_MOUNT)
            *ret_part = index;
        return e;
    }
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
        cordon_ns_fail(&p->ns, CORDON_NS_PRIVATE, errno, 0, 125);
    if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
        cordon_ns_fail(&p->ns, RS_STAGING, errno, 0, 125);
    if (chdir("/tmp") < 0)
        cordon_ns_fail(&p->ns, RS_STAGING, errno, 1, 125);
    if (mkdir("newroot", 0755) < 0 || mkdir("oldroot", 0755) < 0 || mkdir(".cordon", 0755) < 0)
        cordon_ns_fail(&p->ns, RS_STAGING, errno, 2, 125);
    if (syscall(SYS_pivot_root, ".", "oldroot") < 0)
        cordon_ns_fail(&p->ns, RS_STAGING, errno, 3, 125);
    if (chdir("/") < 0)
        cordon_ns_fail(&p->ns, RS_STAGING, errno, 3, 125);
    /* The sources of `empty` and `deny` over files. */
    if (mknod(CORDON_STAGING_EMPTY, S_IFREG | 0444, 0) < 0 ||
        mknod(CORDON_STAGING_DENY, S_IFREG | 0, 0) < 0)
        cordon_ns_fail(&p->ns, RS_STAGING, errno, 4, 125);
    for (size_t i = 0; i < p->mp->n_ops; i++) {
        int part = -1;
        int e = do_op(p, i, &part);
        if (e) {
            enum cordon_mount_op_kind k = p->mp->ops[i].kind;
            int stage = k == CORDON_MOP_PROC && part >= 0  ? RS_OP_PROC
                        : k == CORDON_MOP_DEV && part >= 0 ? RS_OP_DEV
                                                           : RS_OP;
            cordon_ns_fail(&p->ns, stage, e, (int)i | (part >= 0 ? (part + 1) << 20 : 0), 125);
        }
    }
    /* Into the view: the host's root and the staging go. */
    if (umount2("/oldroot", MNT_DETACH) < 0)
        cordon_ns_fail(&p->ns, RS_PIVOT, errno, 0, 125);
    if (chdir("/newroot") < 0)
        cordon_ns_fail(&p->ns, RS_PIVOT, errno, 1, 125);
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        cordon_ns_fail(&p->ns, RS_PIVOT, errno, 2, 125);
    if (umount2(".", MNT_DETACH) < 0)
        cordon_ns_fail(&p->ns, RS_PIVOT, errno, 3, 125);
    if (chdir("/") < 0)
        cordon_ns_fail(&p->ns, RS_PIVOT, errno, 4, 125);
    if (chdir(p->cwd) < 0)
        cordon_ns_fail(&p->ns, RS_CWD, errno, 0, 125);
}

__attribute__((noreturn)) static void run_init(const void *arg) {
    const struct run_plan *p = arg;
    cordon_ns_init_start(&p->ns, !p->parent_maps);
    if (p->parent_maps) {
        (void)close(p->go_write);
        char go;
        ssize_t n;
        while ((n = read(p->go_fd, &go, 1)) < 0 && errno == EINTR)
            ;
        if (n != 1)
            _exit(125); /* cordon is gone, or could not write the maps (it says why) */
        (void)close(p->go_fd);
    }
    build_view(p);
    int e;
    if (p->loopback && (e = loopback_up()))
        cordon_ns_fail(&p->ns, RS_LOOPBACK, e, 0, 125);
    cordon_ns_init_run(&p->ns);
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

static int run_report(const struct run_plan *p, const struct cordon_ns_failure *f,
                      const char *argv0, struct cordon_error *err) {
    int e = f->err > 0 ? f->err : EIO;
    switch (f->stage) {
    case CORDON_NS_EXEC:
        if (f->index < 0 || e == ENOENT || !p->ns.candidates) {
            cordon_error_set(err, ENOENT, argv0, 0, 0, "'%s' not found", argv0);
            return -ENOENT;
        }
        cordon_error_set(err, e, p->ns.candidates[f->index], 0, 0, "cannot execute '%s'",
                         p->ns.candidates[f->index]);
        return -EACCES;
    case CORDON_NS_EXEC_INTERP: {
        const char *c = f->index >= 0 && p->ns.candidates ? p->ns.candidates[f->index] : argv0;
        cordon_error_set(err, ENOENT, c, 0, 0,
                         "cannot execute '%s': its interpreter (the #! line's program or the ELF "
                         "loader) is not visible through the policy",
                         c);
        return -EACCES;
    }
    case CORDON_NS_UID_MAP:
    case CORDON_NS_GID_MAP:
        cordon_error_set(err, e, NULL, 0, 0, "cannot write '/proc/self/%s'",
                         f->stage == CORDON_NS_UID_MAP ? "uid_map" : "gid_map");
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
    default:
        return cordon_ns_report(f, err);
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
        if (cordon_ns_write_file(path, "0 0 4294967295\n") == 0)
            continue;
        if (i == 1) {
            /* An own-gid map needs setgroups denied first. */
            char sg[64];
            (void)snprintf(sg, sizeof sg, "/proc/%d/setgroups", (int)pid);
            int e = cordon_ns_write_file(sg, "deny");
            if (e && e != ENOENT) {
                *ret_what = "setgroups";
                return e;
            }
        }
        int e = cordon_ns_write_file(path, "0 0 1\n");
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
    cordon_ns_child_free(&p->ns);
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
                                &p->ns.envp);
    if (r < 0)
        return cordon_error_set(err, -r, NULL, 0, 0, "cannot apply the policy's environment");
    char cwdbuf[PATH_MAX];
    const char *cwd = spec->cwd;
    if (!cwd)
        cwd = getcwd(cwdbuf, sizeof cwdbuf) ? cwdbuf : "/";
    /* The view shows the cwd where its symlinks lead. */
    char real[PATH_MAX];
    (void)snprintf(p->cwd, sizeof p->cwd, "%s", realpath(cwd, real) ? real : cwd);
    p->loopback = pol->network == 0;
    return cordon_ns_child_prepare(&p->ns, spec->argv, p->ns.envp, err);
}

int cordon_run_host_namespace(const struct cordon_host_run_spec *spec, int *ret_status,
                              struct cordon_error *err) {
    struct run_plan *p = calloc(1, sizeof *p);
    if (!p)
        return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    p->go_fd = p->go_write = -1;
    int r = make_run_plan(p, spec, err);
    if (r < 0) {
        run_plan_free(p);
        return r == -ENOENT || r == -EACCES ? CORDON_RUN_SETUP_FAILED : r;
    }
    struct cordon_ns_spawn s = CORDON_NS_SPAWN_INIT;
    int gop[2] = {-1, -1};
    p->parent_maps = geteuid() == 0;
    if (p->parent_maps && pipe2(gop, O_CLOEXEC) < 0) {
        r = cordon_error_set(err, errno, NULL, 0, 0, "cannot create a pipe");
        goto out;
    }
    p->go_fd = gop[0];
    p->go_write = gop[1];
    unsigned long flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
    if (p->loopback)
        flags |= CLONE_NEWNET;
    r = cordon_ns_start(&s, &p->ns, flags, run_init, p,
                        "hint: use --backend hook or --backend landlock, which need none", err);
    if (r < 0)
        goto out;
    if (p->parent_maps) {
        (void)close(TAKE_FD(gop[0]));
        const char *what = "uid_map";
        int e = write_root_maps(s.pid, &what);
        /* Without the byte (a failure) the init exits. */
        if (!e && write(gop[1], "g", 1) != 1)
            e = errno;
        (void)close(TAKE_FD(gop[1]));
        if (e) {
            int st;
            (void)waitpid(s.pid, &st, 0);
            cordon_signals_restore(&s.sb);
            cordon_error_set(err, e, NULL, 0, 0,
                             "cannot write the user namespace's '%s' of process %d", what,
                             (int)s.pid);
            r = CORDON_RUN_SETUP_FAILED;
            goto out;
        }
    }
    struct cordon_ns_failure f;
    r = cordon_ns_wait(&s, &f, ret_status, err);
    if (r == 1)
        r = run_report(p, &f, spec->argv[0], err);
out:
    cordon_ns_spawn_close(&s);
    for (int i = 0; i < 2; i++)
        if (gop[i] >= 0)
            (void)close(gop[i]);
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
