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
 * advises (programs that bypass libc escape): namespace and landlock
 * enforce; hook enforces for dynamic programs and, through the complete
 * path, for static ones where seccomp user notification works. */
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
};
void cordon_machine_probe(struct cordon_machine *m);

/* The runner `auto` picks for `run` (namespace where user namespaces work,
 * else hook: it keeps hidden paths ENOENT, which tools like git need, where
 * Landlock could only make them EACCES) and for `replay` (namespace, else
 * fakechroot), with why into `why`. */
enum cordon_backend cordon_pick_run_backend(const struct cordon_machine *m, char *why, size_t size);
enum cordon_backend cordon_pick_replay_backend(const struct cordon_machine *m, char *why,
                                               size_t size);
