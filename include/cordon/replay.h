/* cordon: rerunning a recorded command inside its root.
 *
 * Outline:
 *   1. the archive is unpacked (cordon_unpack) into the cache, keyed by the
 *      archive's hash, or into --into DIR; a cached root is reused;
 *   2. a runner starts the recorded command (or another) with the recorded
 *      cwd and environment inside the root:
 *        - namespace: user + mount (+ pid, ipc, uts) namespaces, the root
 *          bind-mounted and pivoted into, /proc, a minimal /dev and a /tmp;
 *        - fakechroot: LD_PRELOAD of the root's libfakechroot.so with the
 *          root's own loader; needs nothing from the kernel;
 *      `auto` picks namespace where user namespaces work, else fakechroot;
 *   3. the outputs are hashed inside the root and compared with the
 *      manifest's outputs.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

struct cordon_error;
struct cordon_manifest;

enum cordon_backend {
    CORDON_BACKEND_AUTO,
    CORDON_BACKEND_NAMESPACE,
    CORDON_BACKEND_FAKECHROOT,
    CORDON_BACKEND_MAX,
    CORDON_BACKEND_INVALID = -1,
};
const char *cordon_backend_name(enum cordon_backend b);
enum cordon_backend cordon_backend_from_name(const char *s);

/* Whether this process can create a user namespace with a mount namespace
 * (tried in a child). 0 if yes, else -errno (-ENOSPC, -EPERM, ...). */
int cordon_userns_available(void);

struct cordon_run_spec {
    const char *root;   /* the unpacked root, absolute */
    char *const *argv;  /* the command */
    char *const *envp;  /* its environment */
    const char *cwd;    /* inside the root */
    enum cordon_backend backend; /* resolved: NAMESPACE or FAKECHROOT */
    const char *hook;   /* the hook (inside the root) to preload for --record, or NULL */
    const char *log;    /* with hook: the host path of the event log */
};

/* Run the command in the root and wait for it. *ret_status gets its wait(2)
 * status. 0, or -errno with `err` filled when it could not be started
 * (-ENOENT / -EACCES for the command itself). */
int cordon_run_in_root(const struct cordon_run_spec *spec, int *ret_status,
                       struct cordon_error *err);

struct cordon_replay_options {
    const char *archive;
    const char *into;  /* NULL: the cache */
    const char *cache; /* NULL: $XDG_CACHE_HOME/cordon/roots */
    enum cordon_backend backend;
    char *const *argv; /* NULL: the recorded command */
    bool record;       /* record the replay and report what the root lacked */
    const char *hook;  /* libcordon-hook.so of this cordon, for record */
    bool quiet;
};

struct cordon_replay_result {
    enum cordon_backend backend; /* the one used */
    char root[4096];             /* where the root is */
    bool reused;                 /* the cached root was reused */
    int status;                  /* the command's wait(2) status */
    unsigned outputs_checked;
    unsigned outputs_differ;     /* 0: identical */
};

/* Replay, writing the comparison of outputs (and, with record, what the root
 * lacked) to `out`. 0 when the command ran (whatever its status), -errno with
 * `err` filled otherwise. */
int cordon_replay(const struct cordon_replay_options *opts, struct cordon_replay_result *ret,
                  FILE *out, struct cordon_error *err);
