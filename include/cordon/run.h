/* cordon: running a command on the host's own root through a policy
 * (`cordon run`), and what this machine allows (`cordon doctor`).
 *
 * Runners (docs/runners.md says what each enforces, observes, requires and
 * misses):
 *   - namespace: user, mount, pid, ipc, uts (net when the network is off)
 *     namespaces; the host's root rebuilt from the policy's rules by bind
 *     mounts and overmounts; complete for every program; no capabilities
 *     left, no_new_privs;
 *   - hook: the recorder's hook enforces the policy in every dynamically
 *     linked process (ENOENT for hidden paths, EROFS for read-only ones),
 *     with the recorder's complete path for static programs and raw system
 *     calls; needs no kernel feature;
 *   - landlock (Linux 5.13+): the kernel enforces read-only and deny where
 *     namespaces are off; hidden paths become EACCES, which the run says.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <cordon/replay.h> /* enum cordon_backend */

struct cordon_error;
struct cordon_policy;

struct cordon_host_run_spec {
    const struct cordon_policy *policy;
    char *const *argv;           /* the command */
    char *const *envp;           /* the caller's environment; the runner applies the policy */
    const char *cwd;             /* the command's working directory (host path) */
    enum cordon_backend backend; /* resolved: NAMESPACE, HOOK or LANDLOCK */
    const char *hook;            /* libcordon-hook.so, for the hook runner */
};

/* Run the command through the policy and wait for it. *ret_status gets its
 * wait(2) status. 0, or -errno with `err` filled when it could not be
 * started: -ENOENT / -EACCES for the command itself, CORDON_RUN_SETUP_FAILED
 * for the runner's own setup. */
int cordon_run_host(const struct cordon_host_run_spec *spec, int *ret_status,
                    struct cordon_error *err);
int cordon_run_host_namespace(const struct cordon_host_run_spec *spec, int *ret_status,
                              struct cordon_error *err);
int cordon_run_host_hook(const struct cordon_host_run_spec *spec, int *ret_status,
                         struct cordon_error *err);
int cordon_run_host_landlock(const struct cordon_host_run_spec *spec, int *ret_status,
                             struct cordon_error *err);

/* Whether the runner enforces (the kernel stops every program) or only
 * advises (some programs escape): namespace and landlock enforce; hook does
 * not count as enforcing, since raw system calls of dynamically linked
 * programs go around it (docs/hook-runner.md lists its gaps), even though
 * it stops static programs through the complete path. */
bool cordon_backend_enforces(enum cordon_backend b);

/* What this machine allows, probed without side effects. */
struct cordon_machine {
    int userns_error;     /* 0: user + mount namespaces work, else errno */
    int landlock_abi;     /* 0: none, else the ABI version */
    bool seccomp_unotify; /* seccomp user notification */
    bool unotify_sync;    /* SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP */
    bool ptrace;          /* ptrace of a child works (yama, seccomp) */
    bool fakechroot;      /* libfakechroot.so found */
    char fakechroot_path[4096];
    /* Why a probe failed (errno), for `cordon doctor`; 0 when it worked. */
    int landlock_error;
    int seccomp_error; /* of seccomp user notification */
    int sync_error;    /* of SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (EINVAL: Linux < 6.6) */
    int ptrace_error;
};
void cordon_machine_probe(struct cordon_machine *m);

/* The runner `auto` picks for `run` (namespace where user namespaces work,
 * else hook: it keeps hidden paths ENOENT, which tools like git need, where
 * Landlock could only make them EACCES) and for `replay` (namespace, else
 * fakechroot), with why into `why`. */
enum cordon_backend cordon_pick_run_backend(const struct cordon_machine *m, char *why, size_t size);
enum cordon_backend cordon_pick_replay_backend(const struct cordon_machine *m, char *why,
                                               size_t size);

/* ---- the namespace runner's mount plan (public for the unit tests) ------ */

/* The view is built in a staging tmpfs: the host's root at /oldroot, the
 * view at /newroot. A rule becomes mounts, parents before children, so that
 * a longer rule lands on top of a shorter one. A hidden entry inside a
 * visible host directory cannot be a mount (anything mounted exists): that
 * directory is mirrored, a tmpfs holding a bind of each other entry. The
 * same mirror gives a place to a path a rule names that the host lacks, so
 * nothing is ever created on the host. */
enum cordon_mount_op_kind {
    CORDON_MOP_MKDIR,    /* mkdir -p dst */
    CORDON_MOP_TOUCH,    /* an empty file at dst (mode), its parents made */
    CORDON_MOP_SYMLINK,  /* dst -> src */
    CORDON_MOP_BIND,     /* host src on dst (src "/.cordon/..." is the staging's) */
    CORDON_MOP_TMPFS,    /* a new tmpfs on dst whose root has `mode` */
    CORDON_MOP_PROC,     /* a procfs for the pid namespace, its global parts read-only */
    CORDON_MOP_DEV,      /* a minimal /dev: a tmpfs with the harmless nodes bound in */
    CORDON_MOP_READONLY, /* make the mount on dst read-only (with submounts if recursive) */
};

/* The staging's files that `empty` and `deny` bind over files. */
#define CORDON_STAGING_EMPTY "/.cordon/empty"
#define CORDON_STAGING_DENY "/.cordon/deny"

struct cordon_mount_op {
    enum cordon_mount_op_kind kind;
    char *src;      /* BIND: the host path; SYMLINK: the target; else NULL */
    char *dst;      /* the path in the view */
    unsigned mode;  /* TOUCH, TMPFS */
    bool recursive; /* BIND of a directory (with its submounts), READONLY */
    bool readonly;  /* BIND: made read-only right after */
};

struct cordon_mount_plan {
    struct cordon_mount_op *ops;
    size_t n_ops, cap_ops;
    char **notes; /* what was adjusted, for a human ("hide X: inside the writable Y, ...") */
    size_t n_notes, cap_notes;
    bool root_tmpfs; /* no rule shows "/": the view's root is an empty tmpfs */
};

/* Compile `p` into a mount plan on this host (paths are looked up: symlinks
 * in rule paths resolved, so that a rule naming /lib/x applies to
 * /usr/lib/x where /lib -> usr/lib). `home` is the command's HOME, a tmpfs
 * when the policy's home is fresh (may be NULL: no home rule). *ret is new.
 * 0, -ENOMEM, or -EINVAL with `err` naming the rule (a redirect to a missing
 * path). */
int cordon_mount_plan_build(const struct cordon_policy *p, const char *home,
                            struct cordon_mount_plan **ret, struct cordon_error *err);
struct cordon_mount_plan *cordon_mount_plan_free(struct cordon_mount_plan *plan);

/* ---- the landlock runner's rules (public for the unit tests) ------------ */

struct cordon_landlock_rule {
    char *path;
    bool write;     /* read-write, else read (and execute) */
    bool list_only; /* only list the directory: a carved-out parent of a hidden entry */
};

/* The Landlock rules that show `p`: a visible path with a less visible one
 * inside is replaced by its entries, recursively (Landlock grants whole
 * trees). `home` (may be NULL) is the fresh HOME's host directory, granted
 * read-write; `extra_rw` (may be NULL) too (the private /tmp...).
 * *ret is a new array of *ret_n rules. 0 or -ENOMEM. */
int cordon_landlock_rules(const struct cordon_policy *p, const char *home, const char *extra_rw,
                          struct cordon_landlock_rule **ret, size_t *ret_n);
void cordon_landlock_rules_free(struct cordon_landlock_rule *rules, size_t n);
