/* The namespace runner: the root bind-mounted and pivoted into inside new
 * user, mount, pid, ipc and uts namespaces.
 *
 * Processes:
 *   cordon ── clone(NEWUSER|NEWNS|NEWPID|NEWIPC|NEWUTS) ──> init (pid 1)
 *   init: writes its own id maps, builds the root, forks the command, then
 *         reaps orphans and forwards signals until the command ends; it
 *         writes the command's wait status on a pipe and exits.
 * clone() puts the init straight into the new pid namespace, where unshare()
 * would need a process in between (the caller of unshare(CLONE_NEWPID) is
 * not in the namespace; its next child is).
 *
 * Both children are made with the raw clone system call and make only
 * system calls on data prepared here before the first clone: no malloc, no
 * stdio, no glibc fork handlers (another thread of cordon might have held a
 * lock when we cloned). A failing step writes {stage, errno, index} to a
 * close-on-exec pipe and exits (git run-command's scheme); the parent turns
 * it into a message. Pipe EOF without a record means the command was
 * executed.
 *
 * Capabilities: the command runs as the caller's own uid, mapped to itself.
 * For a caller other than root, execve drops every capability the init had
 * in the namespace anyway; for root (uid 0 inside) it would not, so the
 * command's side empties the bounding and ambient sets, clears its own sets
 * and sets PR_SET_NO_NEW_PRIVS before exec, whoever the caller is.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cordon/error.h>
#include <cordon/manifest.h>
#include <cordon/replay.h>
#include <cordon/util.h>

/* Every step the init or the command's side can fail at. */
enum ns_stage {
    ST_PDEATHSIG,
    ST_SETGROUPS,
    ST_UID_MAP,
    ST_GID_MAP,
    ST_PRIVATE,
    ST_BIND_ROOT,
    ST_MOUNTPOINT, /* index: which of proc, dev, tmp */
    ST_MOUNT_PROC,
    ST_MOUNT_DEV,
    ST_DEV_NODE,  /* index: dev_nodes[] */
    ST_BIND_NODE, /* index: dev_nodes[] */
    ST_DEV_LINK,  /* index: dev_links[] */
    ST_DEV_SHM,
    ST_TMP,
    ST_PIVOT,
    ST_UMOUNT_OLD,
    ST_CWD,
    ST_FORK,
    ST_CAPS,
    ST_NO_NEW_PRIVS,
    ST_EXEC,        /* index: the candidate (-1: none found) */
    ST_EXEC_INTERP, /* index: the candidate, there but its #! or ELF interpreter is not */
};

struct ns_failure {
    int stage;
    int err;
    int index;
};

static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
static const char *const dev_links[][2] = {
    {"fd", "/proc/self/fd"},
    {"stdin", "/proc/self/fd/0"},
    {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"},
};
#define N_NODES CORDON_ARRAY_SIZE(dev_nodes)
#define N_LINKS CORDON_ARRAY_SIZE(dev_links)
static const char *const mountpoints[] = {"proc", "dev", "tmp"};
enum { MP_PROC, MP_DEV, MP_TMP, MP_MAX };

/* Everything the children need, prepared before the clone. */
struct ns_plan {
    char root[PATH_MAX];
    char mp[MP_MAX][PATH_MAX]; /* ROOT/proc, ROOT/dev, ROOT/tmp */
    char node_src[N_NODES][32];
    char node_dst[N_NODES][PATH_MAX];
    bool node_present[N_NODES];
    char link_dst[N_LINKS][PATH_MAX];
    char shm[PATH_MAX];
    char cwd[PATH_MAX];
    char uid_map[32], gid_map[32];
    char **candidates;
    char **sh_argv; /* "/bin/sh", (the candidate), argv[1]...: for ENOEXEC */
    char *const *argv;
    char **envp;
    mode_t umask;
    int err_fd;    /* write end: failures */
    int status_fd; /* write end: the command's wait status */
};

static pid_t raw_clone(unsigned long flags) {
    return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

__attribute__((noreturn)) static void fail(const struct ns_plan *p, int stage, int err, int index,
                                           int code) {
    struct ns_failure f = {.stage = stage, .err = err, .index = index};
    /* One write of a few bytes to a pipe is atomic. */
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

/* A directory to mount on: made if missing, refused if it is a symlink
 * (mount(2) would follow it out of the root) or not a directory. */
static int mountpoint(const char *path, mode_t mode) {
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (S_ISLNK(st.st_mode))
            return ELOOP;
        return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
    }
    if (errno != ENOENT)
        return errno;
    if (mkdir(path, mode) < 0 && errno != EEXIST)
        return errno;
    /* umask is 0 here, but keep the sticky bit explicit for /tmp. */
    if (chmod(path, mode) < 0)
        return errno;
    return 0;
}

/* mkdir -p inside the new root, on a copy of the path. */
static int mkdir_p_inside(const char *path) {
    char buf[PATH_MAX];
    size_t n = strlen(path);
    if (n >= sizeof buf)
        return ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    for (char *s = buf + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                return errno;
            *s = c;
            if (!c)
                break;
        }
    }
    return 0;
}

int cordon_ns_drop_capabilities(void) {
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return errno;
    for (int cap = 0; cap < 64; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
            if (errno == EINVAL) /* past the kernel's last capability */
                break;
            return errno;
        }
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &hdr, data) < 0)
        return errno;
    return 0;
}

__attribute__((noreturn)) static void command_main(const struct ns_plan *p) {
    cordon_signals_child_reset();
    umask(p->umask);
    int e = cordon_ns_drop_capabilities();
    if (e)
        fail(p, ST_CAPS, e, 0, 125);
    /* No setuid program or file capability in the root gives any back. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        fail(p, ST_NO_NEW_PRIVS, errno, 0, 125);
    int index;
    bool interp;
    int err = cordon_exec_search(p->candidates, p->argv, p->envp, p->sh_argv, &index, &interp);
    fail(p, interp ? ST_EXEC_INTERP : ST_EXEC, err, index, index < 0 ? 127 : 126);
}

static void build_root(const struct ns_plan *p) {
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        fail(p, ST_PRIVATE, errno, 0, 125);
    /* The root becomes a mount point (pivot_root needs one), with whatever
     * is mounted below it. */
    if (mount(p->root, p->root, NULL, MS_BIND | MS_REC, NULL) < 0)
        fail(p, ST_BIND_ROOT, errno, 0, 125);
    static const mode_t modes[MP_MAX] = {0555, 0755, 01777};
    for (int i = 0; i < MP_MAX; i++) {
        /* Nothing is mounted on /tmp: a symlink there resolves inside the
         * root once we are in it. */
        struct stat st;
        if (i == MP_TMP && lstat(p->mp[i], &st) == 0 && S_ISLNK(st.st_mode))
            continue;
        int e = mountpoint(p->mp[i], modes[i]);
        if (e)
            fail(p, ST_MOUNTPOINT, e, i, 125);
    }
    /* This process is pid 1 of the new pid namespace: the procfs shows it. */
    if (mount("proc", p->mp[MP_PROC], "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        fail(p, ST_MOUNT_PROC, errno, 0, 125);
    if (mount("tmpfs", p->mp[MP_DEV], "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755") < 0)
        fail(p, ST_MOUNT_DEV, errno, 0, 125);
    for (size_t i = 0; i < N_NODES; i++) {
        if (!p->node_present[i])
            continue;
        int fd = open(p->node_dst[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0)
            fail(p, ST_DEV_NODE, errno, (int)i, 125);
        (void)close(fd);
        if (mount(p->node_src[i], p->node_dst[i], NULL, MS_BIND, NULL) < 0)
            fail(p, ST_BIND_NODE, errno, (int)i, 125);
    }
    for (size_t i = 0; i < N_LINKS; i++)
        if (symlink(dev_links[i][1], p->link_dst[i]) < 0)
            fail(p, ST_DEV_LINK, errno, (int)i, 125);
    if (mkdir(p->shm, 01777) < 0 || chmod(p->shm, 01777) < 0)
        fail(p, ST_DEV_SHM, errno, 0, 125);

    if (chdir(p->root) < 0)
        fail(p, ST_PIVOT, errno, 0, 125);
    /* pivot_root(".", "."): the old root ends up on top of the new one, and
     * the detach below takes it away (pivot_root(2), since Linux 3.17). */
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        fail(p, ST_PIVOT, errno, 0, 125);
    if (umount2(".", MNT_DETACH) < 0)
        fail(p, ST_UMOUNT_OLD, errno, 0, 125);
    if (chdir("/") < 0)
        fail(p, ST_PIVOT, errno, 0, 125);
    int e = mkdir_p_inside(p->cwd);
    if (e)
        fail(p, ST_CWD, e, 0, 125);
    if (chdir(p->cwd) < 0)
        fail(p, ST_CWD, errno, 0, 125);
}

int cordon_ns_init_wait(int cmd) {
    /* Signals stay blocked (inherited from cordon) and are taken here. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGQUIT);
    int status = 0;
    bool done = false;
    while (!done) {
        siginfo_t si;
        int sig = sigwaitinfo(&set, &si);
        if (sig < 0)
            continue;
        if (sig != SIGCHLD) {
            /* From cordon (SI_USER); a terminal's signals reach the
             * command's process group without us. */
            if (si.si_code == SI_USER || si.si_code == SI_QUEUE)
                (void)kill(cmd, sig);
            continue;
        }
        /* Orphans are ours to reap, as any init's. */
        int st;
        pid_t w;
        while ((w = waitpid(-1, &st, WNOHANG | __WALL)) > 0)
            if (w == cmd) {
                status = st;
                done = true;
            }
    }
    /* What the command left running ends with it. */
    if (waitpid(-1, NULL, WNOHANG | __WALL) == 0)
        (void)kill(-1, SIGKILL);
    while (waitpid(-1, NULL, __WALL) > 0 || errno == EINTR)
        ;
    return status;
}

__attribute__((noreturn)) static void init_main(const struct ns_plan *p) {
    /* cordon's death ends the namespace: the init's death kills the rest. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        fail(p, ST_PDEATHSIG, errno, 0, 125);
    umask(0);
    /* One-line maps of our own ids need no privilege; gid_map only after
     * setgroups is denied (user_namespaces(7), Linux 3.19). */
    int e = write_str("/proc/self/uid_map", p->uid_map);
    if (e)
        fail(p, ST_UID_MAP, e, 0, 125);
    e = write_str("/proc/self/setgroups", "deny");
    if (e && e != ENOENT)
        fail(p, ST_SETGROUPS, e, 0, 125);
    e = write_str("/proc/self/gid_map", p->gid_map);
    if (e)
        fail(p, ST_GID_MAP, e, 0, 125);
    build_root(p);

    pid_t cmd = raw_clone(0);
    if (cmd < 0)
        fail(p, ST_FORK, errno, 0, 125);
    if (cmd == 0)
        command_main(p);
    /* The command holds its own copy until exec closes it. */
    (void)close(p->err_fd);

    int status = cordon_ns_init_wait(cmd);
    /* pid 1 cannot die of a signal it sends itself: the status goes to
     * cordon on the pipe, and the exit code only approximates it. */
    ssize_t w = write(p->status_fd, &status, sizeof status);
    (void)w;
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

static int plan_path(char *out, const char *root, const char *rel) {
    if ((size_t)snprintf(out, PATH_MAX, "%s/%s", root, rel) >= PATH_MAX)
        return -ENAMETOOLONG;
    return 0;
}

static int make_plan(struct ns_plan *p, const struct cordon_run_spec *spec,
                     struct cordon_error *err) {
    if (!realpath(spec->root, p->root))
        return cordon_error_set(err, errno, spec->root, 0, 0, "cannot open the root '%s'",
                                spec->root);
    if (!strcmp(p->root, "/"))
        return cordon_error_set(err, EINVAL, spec->root, 0, 0, "the root '%s' is the host's root",
                                spec->root);
    int r = 0;
    for (int i = 0; i < MP_MAX && !r; i++)
        r = plan_path(p->mp[i], p->root, mountpoints[i]);
    for (size_t i = 0; i < N_NODES && !r; i++) {
        (void)snprintf(p->node_src[i], sizeof p->node_src[i], "/dev/%s", dev_nodes[i]);
        struct stat st;
        p->node_present[i] = stat(p->node_src[i], &st) == 0;
        r = plan_path(p->node_dst[i], p->mp[MP_DEV], dev_nodes[i]);
    }
    for (size_t i = 0; i < N_LINKS && !r; i++)
        r = plan_path(p->link_dst[i], p->mp[MP_DEV], dev_links[i][0]);
    if (!r)
        r = plan_path(p->shm, p->mp[MP_DEV], "shm");
    if (r < 0)
        return cordon_error_set(err, -r, spec->root, 0, 0, "the root's path '%s' is too long",
                                spec->root);
    const char *cwd = spec->cwd ? spec->cwd : "/";
    if ((size_t)snprintf(p->cwd, sizeof p->cwd, "%s", cwd) >= sizeof p->cwd)
        return cordon_error_set(err, ENAMETOOLONG, cwd, 0, 0, "the working directory is too long");
    cordon_path_normalize(p->cwd);
    (void)snprintf(p->uid_map, sizeof p->uid_map, "%u %u 1\n", (unsigned)geteuid(),
                   (unsigned)geteuid());
    (void)snprintf(p->gid_map, sizeof p->gid_map, "%u %u 1\n", (unsigned)getegid(),
                   (unsigned)getegid());
    p->argv = spec->argv;
    size_t argc = cordon_strv_length(spec->argv);
    p->sh_argv = calloc(argc + 2, sizeof *p->sh_argv);
    if (!p->sh_argv)
        return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    p->sh_argv[0] = (char *)"/bin/sh";
    for (size_t i = 1; i < argc; i++)
        p->sh_argv[i + 1] = spec->argv[i];

    r = cordon_exec_candidates(spec->argv[0], spec->envp, &p->candidates);
    if (r < 0)
        return cordon_error_set(err, -r, NULL, 0, 0, "cannot search for '%s'", spec->argv[0]);
    p->envp = cordon_strv_copy(spec->envp ? spec->envp : (char *const[]){NULL});
    if (!p->envp)
        return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    if (spec->hook) {
        /* The hook and its log as the command sees them: inside the root. */
        const char *log = spec->log;
        size_t rl = strlen(p->root);
        if (!log || strncmp(log, p->root, rl) != 0 || log[rl] != '/')
            return cordon_error_set(err, EINVAL, log, 0, 0,
                                    "the replay's log '%s' is not inside the root '%s'",
                                    log ? log : "", p->root);
        const char *old = cordon_env_get(p->envp, "LD_PRELOAD");
        char *preload = NULL;
        if (asprintf(&preload, "%s%s%s", spec->hook, old && *old ? ":" : "", old ? old : "") < 0)
            return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
        r = cordon_env_set(&p->envp, "LD_PRELOAD", preload);
        free(preload);
        if (r >= 0)
            r = cordon_env_set(&p->envp, "LD_AUDIT", spec->hook);
        if (r >= 0)
            r = cordon_env_set(&p->envp, "CORDON_LOG", log + rl);
        if (r >= 0)
            r = cordon_env_set(&p->envp, "CORDON_HOOK", spec->hook);
        if (r < 0)
            return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    }
    mode_t m = umask(0);
    umask(m);
    p->umask = m;
    return 0;
}

/* The parent's message for a child's failure. */
static int report(const struct ns_plan *p, const struct ns_failure *f,
                  const struct cordon_run_spec *spec, struct cordon_error *err) {
    int e = f->err > 0 ? f->err : EIO;
    const char *root = p->root;
    switch ((enum ns_stage)f->stage) {
    case ST_EXEC:
        if (f->index < 0 || e == ENOENT) {
            cordon_error_set(err, ENOENT, spec->argv[0], 0, 0, "'%s' not found in the root '%s'",
                             spec->argv[0], root);
            return -ENOENT;
        }
        cordon_error_set(err, e, p->candidates[f->index], 0, 0,
                         "cannot execute '%s' in the root '%s'", p->candidates[f->index], root);
        return -EACCES;
    case ST_EXEC_INTERP: {
        const char *c = f->index >= 0 ? p->candidates[f->index] : spec->argv[0];
        cordon_error_set(err, ENOENT, c, 0, 0,
                         "cannot execute '%s': its interpreter (the #! line's program or the "
                         "ELF loader) is not in the root '%s'",
                         c, root);
        return -EACCES;
    }
    case ST_PDEATHSIG:
        cordon_error_set(err, e, NULL, 0, 0, "cannot set the parent-death signal");
        break;
    case ST_SETGROUPS:
        cordon_error_set(err, e, NULL, 0, 0, "cannot write '/proc/self/setgroups'");
        break;
    case ST_UID_MAP:
    case ST_GID_MAP:
        cordon_error_set(err, e, NULL, 0, 0, "cannot write '/proc/self/%s' ('%.*s')",
                         f->stage == ST_UID_MAP ? "uid_map" : "gid_map",
                         (int)strcspn(f->stage == ST_UID_MAP ? p->uid_map : p->gid_map, "\n"),
                         f->stage == ST_UID_MAP ? p->uid_map : p->gid_map);
        break;
    case ST_PRIVATE:
        cordon_error_set(err, e, NULL, 0, 0, "cannot make the mounts private");
        break;
    case ST_BIND_ROOT:
        cordon_error_set(err, e, root, 0, 0, "cannot bind-mount the root '%s'", root);
        break;
    case ST_MOUNTPOINT: {
        const char *mp = f->index >= 0 && f->index < MP_MAX ? p->mp[f->index] : root;
        if (e == ELOOP)
            cordon_error_set(err, e, mp, 0, 0, "'%s' is a symlink, refusing to mount on it", mp);
        else
            cordon_error_set(err, e, mp, 0, 0, "cannot make the mount point '%s'", mp);
        break;
    }
    case ST_MOUNT_PROC:
        cordon_error_set(err, e, p->mp[MP_PROC], 0, 0, "cannot mount proc on '%s'", p->mp[MP_PROC]);
        break;
    case ST_MOUNT_DEV:
        cordon_error_set(err, e, p->mp[MP_DEV], 0, 0, "cannot mount a tmpfs on '%s'",
                         p->mp[MP_DEV]);
        break;
    case ST_DEV_NODE:
    case ST_BIND_NODE: {
        size_t i = f->index >= 0 && (size_t)f->index < N_NODES ? (size_t)f->index : 0;
        cordon_error_set(err, e, p->node_dst[i], 0, 0, "cannot %s '%s'",
                         f->stage == ST_DEV_NODE ? "create" : "bind the host's device on",
                         p->node_dst[i]);
        break;
    }
    case ST_DEV_LINK: {
        size_t i = f->index >= 0 && (size_t)f->index < N_LINKS ? (size_t)f->index : 0;
        cordon_error_set(err, e, p->link_dst[i], 0, 0, "cannot create the symlink '%s'",
                         p->link_dst[i]);
        break;
    }
    case ST_DEV_SHM:
        cordon_error_set(err, e, p->shm, 0, 0, "cannot create '%s'", p->shm);
        break;
    case ST_TMP:
        cordon_error_set(err, e, p->mp[MP_TMP], 0, 0, "cannot create '%s'", p->mp[MP_TMP]);
        break;
    case ST_PIVOT:
        cordon_error_set(err, e, root, 0, 0, "cannot pivot_root into '%s'", root);
        break;
    case ST_UMOUNT_OLD:
        cordon_error_set(err, e, NULL, 0, 0, "cannot detach the old root");
        break;
    case ST_CWD:
        cordon_error_set(err, e, p->cwd, 0, 0,
                         "cannot change to the working directory '%s' in the root", p->cwd);
        break;
    case ST_FORK:
        cordon_error_set(err, e, NULL, 0, 0, "cannot fork the command");
        break;
    case ST_CAPS:
        cordon_error_set(err, e, NULL, 0, 0, "cannot drop capabilities");
        break;
    case ST_NO_NEW_PRIVS:
        cordon_error_set(err, e, NULL, 0, 0, "cannot set PR_SET_NO_NEW_PRIVS");
        break;
    default:
        cordon_error_set(err, e, NULL, 0, 0, "the namespace runner failed (step %d)", f->stage);
        break;
    }
    return CORDON_RUN_SETUP_FAILED;
}

static void plan_free(struct ns_plan *p) {
    if (!p)
        return;
    cordon_strv_free(p->candidates);
    cordon_strv_free(p->envp);
    free(p->sh_argv); /* its strings are borrowed */
    free(p);
}

int cordon_run_namespace(const struct cordon_run_spec *spec, int *ret_status,
                         struct cordon_error *err) {
    struct ns_plan *p = calloc(1, sizeof *p);
    if (!p)
        return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    p->err_fd = p->status_fd = -1;
    int r = make_plan(p, spec, err);
    if (r < 0) {
        plan_free(p);
        return r < 0 && (r == -ENOENT || r == -EACCES) ? CORDON_RUN_SETUP_FAILED : r;
    }
    int errp[2] = {-1, -1}, statp[2] = {-1, -1};
    if (pipe2(errp, O_CLOEXEC) < 0 || pipe2(statp, O_CLOEXEC) < 0) {
        r = cordon_error_set(err, errno, NULL, 0, 0, "cannot create a pipe");
        goto out;
    }
    p->err_fd = errp[1];
    p->status_fd = statp[1];

    struct cordon_sigblock sb;
    if ((r = cordon_signals_block(&sb)) < 0) {
        cordon_error_set(err, -r, NULL, 0, 0, "cannot block signals");
        goto out;
    }
    pid_t pid = raw_clone(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS);
    if (pid == 0)
        init_main(p);
    int clone_errno = errno;
    (void)close(TAKE_FD(errp[1]));
    (void)close(TAKE_FD(statp[1]));
    if (pid < 0) {
        cordon_signals_restore(&sb);
        char why[512];
        cordon_userns_reason(clone_errno, why, sizeof why);
        cordon_error_set(err, clone_errno, NULL, 0, 0,
                         "cannot create a user namespace: %s\n"
                         "hint: use --backend fakechroot, which needs no kernel feature",
                         why);
        r = CORDON_RUN_SETUP_FAILED;
        goto out;
    }

    struct ns_failure f;
    ssize_t n;
    while ((n = read(errp[0], &f, sizeof f)) < 0 && errno == EINTR)
        ;
    int status = 0;
    int w = cordon_wait_forwarding(pid, &status);
    cordon_signals_restore(&sb);
    if (n == (ssize_t)sizeof f) {
        r = report(p, &f, spec, err);
        goto out;
    }
    if (w < 0) {
        r = cordon_error_set(err, -w, NULL, 0, 0, "cannot wait for the namespace's init");
        goto out;
    }
    int cmd_status;
    while ((n = read(statp[0], &cmd_status, sizeof cmd_status)) < 0 && errno == EINTR)
        ;
    /* No status: the init itself was killed; its own status says how. */
    *ret_status = n == (ssize_t)sizeof cmd_status ? cmd_status : status;
    if (spec->ret_pid)
        *spec->ret_pid = 2; /* the init's first child in a new pid namespace */
    r = 0;
out:
    for (int i = 0; i < 2; i++) {
        if (errp[i] >= 0)
            (void)close(errp[i]);
        if (statp[i] >= 0)
            (void)close(statp[i]);
    }
    plan_free(p);
    return r;
}
