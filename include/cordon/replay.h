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

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <cordon/hash.h>
#include <cordon/pack.h> /* cordon_warn_fn */

struct cordon_error;
struct cordon_manifest;

enum cordon_backend {
    CORDON_BACKEND_AUTO,
    CORDON_BACKEND_NAMESPACE,
    CORDON_BACKEND_FAKECHROOT,
    CORDON_BACKEND_HOOK,     /* cordon run: the hook enforces the policy (run.h) */
    CORDON_BACKEND_LANDLOCK, /* cordon run: Landlock enforces read-only and deny (run.h) */
    CORDON_BACKEND_MAX,
    CORDON_BACKEND_INVALID = -1,
};
const char *cordon_backend_name(enum cordon_backend b);
enum cordon_backend cordon_backend_from_name(const char *s);

/* Whether this process can create a user namespace with a mount namespace
 * (tried in a child). 0 if yes, else -errno (-ENOSPC, -EPERM, ...). */
int cordon_userns_available(void);

/* Why user namespaces fail with `code` (positive errno) on this machine, for
 * a human: the errno's text plus the sysctl that explains it where one does
 * ("No space left on device: /proc/sys/user/max_user_namespaces is 0").
 * Returns buf. */
const char *cordon_userns_reason(int code, char *buf, size_t size);

struct cordon_run_spec {
    const char *root;            /* the unpacked root, absolute */
    char *const *argv;           /* the command */
    char *const *envp;           /* its environment */
    const char *cwd;             /* inside the root */
    enum cordon_backend backend; /* resolved: NAMESPACE or FAKECHROOT */
    const char *hook;            /* the hook (inside the root) to preload for --record, or NULL */
    const char *log;             /* with hook: the host path of the event log */
    int *ret_pid;                /* optional out: the command's pid as its own processes see it */
};

/* Run the command in the root and wait for it. *ret_status gets its wait(2)
 * status. 0, or -errno with `err` filled when it could not be started
 * (-ENOENT / -EACCES for the command itself). */
int cordon_run_in_root(const struct cordon_run_spec *spec, int *ret_status,
                       struct cordon_error *err);
/* A failure to set up the root (namespaces, mounts, the loader) is returned
 * as this, with the failing step's errno in err->code, so that -ENOENT and
 * -EACCES always mean the command itself. */
#define CORDON_RUN_SETUP_FAILED (-EIO)

/* The two runners behind cordon_run_in_root (spec->backend resolved). */
int cordon_run_namespace(const struct cordon_run_spec *spec, int *ret_status,
                         struct cordon_error *err);
int cordon_run_fakechroot(const struct cordon_run_spec *spec, int *ret_status,
                          struct cordon_error *err);

/* ---- helpers of the runners and replay (public for the unit tests) ------ */

/* The value of `name` in a NULL-terminated "NAME=VALUE" vector, or NULL
 * (borrowed). */
const char *cordon_env_get(char *const *envp, const char *name);

/* The programs execvp(3) would try for `argv0`, as paths inside the root:
 * argv0 itself when it holds a '/', else each entry of PATH from `envp`
 * ("/bin:/usr/bin", glibc's default, when it has none) joined with it; an
 * empty entry is the cwd ("."). *ret is a new string vector.
 * 0, -EINVAL for an empty argv0, -ENOMEM. */
int cordon_exec_candidates(const char *argv0, char *const *envp, char ***ret);

/* The environment a replay gives the command: the recorded one without the
 * variables whose value was redacted ("NAME=<redacted>"). *ret_env is new;
 * *ret_dropped (NULL-tolerant) is a new vector of the dropped names.
 * 0 or -ENOMEM. */
int cordon_replay_env(char *const *recorded, char ***ret_env, char ***ret_dropped);

/* Open `path` as if `rootfd` were "/": symlinks and ".." never leave the
 * root (openat2 RESOLVE_IN_ROOT, no magic links). `flags` are open(2)
 * flags; O_CLOEXEC is added. A new fd, or -errno. */
int cordon_root_open(int rootfd, const char *path, int flags);

/* The host path of `path` resolved inside the root (every symlink followed,
 * the last one too). 0, or -errno (-ENOENT when it does not exist). */
int cordon_root_resolve(int rootfd, const char *path, char *out, size_t size);

/* Make `path` and its missing parents inside the root (mode 0755),
 * resolving each existing one inside it. 0 or -errno. */
int cordon_root_mkdir_p(int rootfd, const char *path);

/* The cache key of an archive: the XXH3-128 (hex) of the file, or for a
 * directory made by `pack --format dir`, of its .cordon/manifest.json.
 * 0 or -errno with `err` filled. */
int cordon_replay_cache_key(const char *archive, char out[CORDON_HASH_HEX_LEN + 1],
                            struct cordon_error *err);

/* The libfakechroot.so for a root: ROOT/.cordon/lib/libfakechroot.so, else
 * the host's (*ret_host set). 0, or -ENOENT with `out` naming where it
 * looked first. */
int cordon_fakechroot_library(const char *root, char *out, size_t size, bool *ret_host);

/* Set `name` to `value` in a NULL-terminated vector made by malloc (new
 * entries, replacing the first existing one). 0 or -ENOMEM. */
int cordon_env_set(char ***envp, const char *name, const char *value);

/* Signals around a runner's child. Before the fork the parent blocks the
 * signals it forwards (SIGINT, SIGTERM, SIGHUP, SIGQUIT) and SIGCHLD, with
 * SIGCHLD's disposition made the default so that the child can be waited
 * for; the child calls cordon_signals_child_reset() (every disposition to
 * the default, SIGPIPE included, and an empty mask) before exec; the parent
 * waits with cordon_wait_forwarding() and then restores. */
struct cordon_sigblock {
    sigset_t old_mask;
    struct sigaction old_chld;
};
int cordon_signals_block(struct cordon_sigblock *b);
void cordon_signals_restore(const struct cordon_sigblock *b);
void cordon_signals_child_reset(void);
/* Wait for `pid`, passing it the forwarded signals that another process
 * sent (kill(1), si_code SI_USER): those a terminal sends reach the
 * command's process group directly and are not doubled. */
int cordon_wait_forwarding(int pid, int *ret_status);

/* Shared by the namespace runners of replay and run (ns_setup.c), called in
 * their children only. Empty the command's capability sets (bounding,
 * ambient, effective, permitted, inheritable): 0 or an errno. */
int cordon_ns_drop_capabilities(void);
/* As a pid namespace's init: take the blocked forwarded signals and
 * SIGCHLD, pass kill(1)'s signals to `cmd`, reap orphans until `cmd` ends,
 * then kill and reap what is left; returns `cmd`'s wait status. */
int cordon_ns_init_wait(int cmd);

/* The search execvp(3) makes, over `candidates` (cordon_exec_candidates):
 * exec each in turn with `argv` and `envp`, skipping a missing one,
 * remembering EACCES and going on, stopping at any other error; a file
 * that is neither ELF nor #! goes to /bin/sh (sh_argv[1] is set to it).
 * For a runner's child: no allocation. Returns only on failure: the errno,
 * with *ret_index the candidate it is about (-1: none was found) and
 * *ret_interp set when the file is there but its interpreter is not. The
 * exit status that goes with it: 127 when none was found, else 126. */
int cordon_exec_search(char *const *candidates, char *const *argv, char *const *envp,
                       char **sh_argv, int *ret_index, bool *ret_interp);

/* Whether a dynamic loader (the file at `loader`) knows --argv0 (glibc
 * 2.33+): its text is searched for the option's name. */
bool cordon_loader_has_argv0(const char *loader);

struct cordon_replay_options {
    const char *archive;
    const char *into;  /* NULL: the cache */
    const char *cache; /* NULL: $XDG_CACHE_HOME/cordon/roots */
    enum cordon_backend backend;
    char *const *argv; /* NULL: the recorded command */
    bool record;       /* record the replay and report what the root lacked */
    const char *hook;  /* libcordon-hook.so of this cordon, for record */
    bool quiet;
    /* An unpacked root to use as it is instead of an archive (archive and
     * into are then NULL). Its .cordon/manifest.json is used when present;
     * without one, argv is required, the cwd is "/" and the environment is
     * `env` alone. */
    const char *root;
    char *const *env;    /* extra NAME=VALUE entries, applied last */
    const char *cwd;     /* NULL: the recorded cwd */
    cordon_warn_fn warn; /* warnings for a human (dropped variables...), may be NULL */
    void *warn_ctx;
};

struct cordon_replay_result {
    enum cordon_backend backend; /* the one used */
    char root[4096];             /* where the root is */
    bool reused;                 /* the cached root was reused */
    int status;                  /* the command's wait(2) status */
    unsigned outputs_checked;
    unsigned outputs_differ; /* 0: identical */
    int userns_error;        /* auto: why namespace was not used (errno), else 0 */
    int exec_error;          /* the command could not be executed: ENOENT, EACCES; else 0 */
    unsigned lacked;         /* record: inputs the root lacked */
    bool cache_dirty;        /* the build wrote through a link into the cache: dropped */
};

/* Replay, writing the comparison of outputs (and, with record, what the root
 * lacked) to `out`. 0 when the command ran (whatever its status), -errno with
 * `err` filled otherwise. */
int cordon_replay(const struct cordon_replay_options *opts, struct cordon_replay_result *ret,
                  FILE *out, struct cordon_error *err);
