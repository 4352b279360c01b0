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
 * What is not this runner's own (the clone, the id maps, the minimal /dev,
 * the command's side, the init's wait, the failure pipe) is shared with
 * run's namespace runner in ns_setup.c, under the same rule: the children
 * make only system calls on data prepared before the first clone.
 *
 * Capabilities: the command runs as the caller's own uid, mapped to itself.
 * For a caller other than root, execve drops every capability the init had
 * in the namespace anyway; for root (uid 0 inside) it would not, so the
 * command's side empties the bounding and ambient sets, clears its own sets
 * and sets PR_SET_NO_NEW_PRIVS before exec, whoever the caller is.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cordon/error.h>
#include <cordon/manifest.h>
#include <cordon/replay.h>
#include <cordon/util.h>

#include "ns_setup.h"

/* The steps of this runner's own that the init can fail at (ns_setup.h has
 * the shared ones). */
enum ns_stage {
    ST_BIND_ROOT = CORDON_NS_STAGE_OWN,
    ST_MOUNTPOINT, /* index: which of proc, dev, tmp */
    ST_MOUNT_PROC,
    ST_MOUNT_DEV,
    ST_DEV_NODE,  /* index: cordon_ns_dev_nodes[] */
    ST_BIND_NODE, /* index: cordon_ns_dev_nodes[] */
    ST_DEV_LINK,  /* index: cordon_ns_dev_links[] */
    ST_DEV_SHM,
    ST_TMP,
    ST_PIVOT,
    ST_UMOUNT_OLD,
    ST_CWD,
};

#define N_NODES CORDON_NS_N_DEV_NODES
#define N_LINKS CORDON_NS_N_DEV_LINKS
static const char *const mountpoints[] = {"proc", "dev", "tmp"};
enum { MP_PROC, MP_DEV, MP_TMP, MP_MAX };

/* Everything the children need, prepared before the clone. */
struct ns_plan {
    struct cordon_ns_child ns;
    char root[PATH_MAX];
    char mp[MP_MAX][PATH_MAX]; /* ROOT/proc, ROOT/dev, ROOT/tmp */
    /* The minimal /dev's paths, for the messages (and checked for length
     * here: the init makes them again, without stdio). */
    char node_dst[N_NODES][PATH_MAX];
    char link_dst[N_LINKS][PATH_MAX];
    char shm[PATH_MAX];
    char cwd[PATH_MAX];
};

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

static void build_root(const struct ns_plan *p) {
    const struct cordon_ns_child *c = &p->ns;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        cordon_ns_fail(c, CORDON_NS_PRIVATE, errno, 0, 125);
    /* The root becomes a mount point (pivot_root needs one), with whatever
     * is mounted below it. */
    if (mount(p->root, p->root, NULL, MS_BIND | MS_REC, NULL) < 0)
        cordon_ns_fail(c, ST_BIND_ROOT, errno, 0, 125);
    static const mode_t modes[MP_MAX] = {0555, 0755, 01777};
    for (int i = 0; i < MP_MAX; i++) {
        /* Nothing is mounted on /tmp: a symlink there resolves inside the
         * root once we are in it. */
        struct stat st;
        if (i == MP_TMP && lstat(p->mp[i], &st) == 0 && S_ISLNK(st.st_mode))
            continue;
        int e = mountpoint(p->mp[i], modes[i]);
        if (e)
            cordon_ns_fail(c, ST_MOUNTPOINT, e, i, 125);
    }
    /* This process is pid 1 of the new pid namespace: the procfs shows it. */
    if (mount("proc", p->mp[MP_PROC], "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        cordon_ns_fail(c, ST_MOUNT_PROC, errno, 0, 125);
    /* The host's /dev is still at /dev: the root is not entered yet. */
    int step, index;
    int e = cordon_ns_make_dev(p->mp[MP_DEV], "/dev", &step, &index);
    if (e) {
        static const int dev_stages[] = {
            [CORDON_NS_DEV_MOUNT] = ST_MOUNT_DEV, [CORDON_NS_DEV_NODE] = ST_DEV_NODE,
            [CORDON_NS_DEV_BIND] = ST_BIND_NODE,  [CORDON_NS_DEV_LINK] = ST_DEV_LINK,
            [CORDON_NS_DEV_SHM] = ST_DEV_SHM,
        };
        cordon_ns_fail(c, dev_stages[step], e, index, 125);
    }

    if (chdir(p->root) < 0)
        cordon_ns_fail(c, ST_PIVOT, errno, 0, 125);
    /* pivot_root(".", "."): the old root ends up on top of the new one, and
     * the detach below takes it away (pivot_root(2), since Linux 3.17). */
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        cordon_ns_fail(c, ST_PIVOT, errno, 0, 125);
    if (umount2(".", MNT_DETACH) < 0)
        cordon_ns_fail(c, ST_UMOUNT_OLD, errno, 0, 125);
    if (chdir("/") < 0)
        cordon_ns_fail(c, ST_PIVOT, errno, 0, 125);
    e = cordon_ns_mkdir_p(p->cwd, 0755);
    if (e)
        cordon_ns_fail(c, ST_CWD, e, 0, 125);
    if (chdir(p->cwd) < 0)
        cordon_ns_fail(c, ST_CWD, errno, 0, 125);
}

__attribute__((noreturn)) static void init_main(const void *arg) {
    const struct ns_plan *p = arg;
    cordon_ns_init_start(&p->ns, true);
    build_root(p);
    cordon_ns_init_run(&p->ns);
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
    for (size_t i = 0; i < N_NODES && !r; i++)
        r = plan_path(p->node_dst[i], p->mp[MP_DEV], cordon_ns_dev_nodes[i]);
    for (size_t i = 0; i < N_LINKS && !r; i++)
        r = plan_path(p->link_dst[i], p->mp[MP_DEV], cordon_ns_dev_links[i][0]);
    if (!r)
        r = plan_path(p->shm, p->mp[MP_DEV], "shm");
    if (r < 0)
        return cordon_error_set(err, -r, spec->root, 0, 0, "the root's path '%s' is too long",
                                spec->root);
    const char *cwd = spec->cwd ? spec->cwd : "/";
    if ((size_t)snprintf(p->cwd, sizeof p->cwd, "%s", cwd) >= sizeof p->cwd)
        return cordon_error_set(err, ENAMETOOLONG, cwd, 0, 0, "the working directory is too long");
    cordon_path_normalize(p->cwd);
    r = cordon_ns_child_prepare(&p->ns, spec->argv, spec->envp, err);
    if (r < 0)
        return r;
    p->ns.envp = cordon_strv_copy(spec->envp ? spec->envp : (char *const[]){NULL});
    if (!p->ns.envp)
        return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    if (spec->hook) {
        /* The hook and its log as the command sees them: inside the root. */
        const char *log = spec->log;
        size_t rl = strlen(p->root);
        if (!log || strncmp(log, p->root, rl) != 0 || log[rl] != '/')
            return cordon_error_set(err, EINVAL, log, 0, 0,
                                    "the replay's log '%s' is not inside the root '%s'",
                                    log ? log : "", p->root);
        const char *old = cordon_env_get(p->ns.envp, "LD_PRELOAD");
        char *preload = NULL;
        if (asprintf(&preload, "%s%s%s", spec->hook, old && *old ? ":" : "", old ? old : "") < 0)
            return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
        r = cordon_env_set(&p->ns.envp, "LD_PRELOAD", preload);
        free(preload);
        if (r >= 0)
            r = cordon_env_set(&p->ns.envp, "LD_AUDIT", spec->hook);
        if (r >= 0)
            r = cordon_env_set(&p->ns.envp, "CORDON_LOG", log + rl);
        if (r >= 0)
            r = cordon_env_set(&p->ns.envp, "CORDON_HOOK", spec->hook);
        if (r < 0)
            return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    }
    return 0;
}

/* The parent's message for a child's failure. */
static int report(const struct ns_plan *p, const struct cordon_ns_failure *f,
                  const struct cordon_run_spec *spec, struct cordon_error *err) {
    int e = f->err > 0 ? f->err : EIO;
    const char *root = p->root;
    switch (f->stage) {
    case CORDON_NS_EXEC:
        if (f->index < 0 || e == ENOENT) {
            cordon_error_set(err, ENOENT, spec->argv[0], 0, 0, "'%s' not found in the root '%s'",
                             spec->argv[0], root);
            return -ENOENT;
        }
        cordon_error_set(err, e, p->ns.candidates[f->index], 0, 0,
                         "cannot execute '%s' in the root '%s'", p->ns.candidates[f->index], root);
        return -EACCES;
    case CORDON_NS_EXEC_INTERP: {
        const char *c = f->index >= 0 ? p->ns.candidates[f->index] : spec->argv[0];
        cordon_error_set(err, ENOENT, c, 0, 0,
                         "cannot execute '%s': its interpreter (the #! line's program or the "
                         "ELF loader) is not in the root '%s'",
                         c, root);
        return -EACCES;
    }
    case CORDON_NS_UID_MAP:
    case CORDON_NS_GID_MAP:
        cordon_error_set(
            err, e, NULL, 0, 0, "cannot write '/proc/self/%s' ('%.*s')",
            f->stage == CORDON_NS_UID_MAP ? "uid_map" : "gid_map",
            (int)strcspn(f->stage == CORDON_NS_UID_MAP ? p->ns.uid_map : p->ns.gid_map, "\n"),
            f->stage == CORDON_NS_UID_MAP ? p->ns.uid_map : p->ns.gid_map);
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
    default:
        return cordon_ns_report(f, err);
    }
    return CORDON_RUN_SETUP_FAILED;
}

static void plan_free(struct ns_plan *p) {
    if (!p)
        return;
    cordon_ns_child_free(&p->ns);
    free(p);
}

int cordon_run_namespace(const struct cordon_run_spec *spec, int *ret_status,
                         struct cordon_error *err) {
    struct ns_plan *p = calloc(1, sizeof *p);
    if (!p)
        return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    int r = make_plan(p, spec, err);
    if (r < 0) {
        plan_free(p);
        return r == -ENOENT || r == -EACCES ? CORDON_RUN_SETUP_FAILED : r;
    }
    struct cordon_ns_spawn s = CORDON_NS_SPAWN_INIT;
    r = cordon_ns_start(
        &s, &p->ns, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS,
        init_main, p, "hint: use --backend fakechroot, which needs no kernel feature", err);
    if (r < 0)
        goto out;
    struct cordon_ns_failure f;
    r = cordon_ns_wait(&s, &f, ret_status, err);
    if (r == 1)
        r = report(p, &f, spec, err);
    else if (r == 0 && spec->ret_pid)
        *spec->ret_pid = 2; /* the init's first child in a new pid namespace */
out:
    cordon_ns_spawn_close(&s);
    plan_free(p);
    return r;
}
