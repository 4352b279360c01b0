/* What the two namespace runners share: replay's (runner_ns.c, a root
 * unpacked from an archive) and run's (run.c, the host's root seen through
 * a policy). Private to those two files.
 *
 * Processes, the same in both:
 *   cordon ── clone(NEWUSER|NEWNS|NEWPID|...) ──> init (pid 1) ── clone ──> command
 * The init builds the root, which is each runner's own; the rest is here.
 * Both children come from the raw clone system call and make only system
 * calls on data prepared before the first clone: no malloc, no stdio, no
 * glibc fork handlers (another thread of cordon might have held a lock when
 * we cloned). Everything below that runs in a child keeps to that. A
 * failing step writes {stage, errno, index} to a close-on-exec pipe and
 * exits (git run-command's scheme); the parent turns it into a message.
 * Pipe EOF without a record means the command was executed. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include <cordon/replay.h>

struct cordon_error;

/* The steps both runners' children can fail at. Each runner numbers its
 * own from CORDON_NS_STAGE_OWN on: the stage crosses the pipe as an int. */
enum cordon_ns_stage {
    CORDON_NS_PDEATHSIG,
    CORDON_NS_UID_MAP,
    CORDON_NS_SETGROUPS,
    CORDON_NS_GID_MAP,
    CORDON_NS_PRIVATE,
    CORDON_NS_FORK,
    CORDON_NS_CAPS,
    CORDON_NS_NO_NEW_PRIVS,
    CORDON_NS_EXEC,        /* index: the candidate (-1: none found) */
    CORDON_NS_EXEC_INTERP, /* index: the candidate, there but its #! or ELF interpreter is not */
    CORDON_NS_STAGE_OWN,
};

/* A child's failure, one write on the pipe. */
struct cordon_ns_failure {
    int stage;
    int err;
    int index;
};

/* What the init and the command need from cordon, prepared before the
 * clone; embedded in each runner's plan. */
struct cordon_ns_child {
    char uid_map[32], gid_map[32]; /* "ID ID 1\n": the caller's own ids */
    char **candidates;             /* the command's paths to try (cordon_exec_candidates) */
    char **sh_argv;                /* "/bin/sh", (the candidate), argv[1]...: for ENOEXEC */
    char *const *argv;             /* borrowed from the runner's spec */
    char **envp;                   /* the command's, the runner's to set */
    mode_t umask;                  /* cordon's, given back to the command */
    int err_fd;                    /* write end: failures */
    int status_fd;                 /* write end: the command's wait status */
};

/* ---- in cordon, before and after the clone ---- */

/* Fill `c` but for envp: the own-id maps, argv and sh_argv, the
 * candidates for argv[0] on `search_envp`'s PATH, cordon's umask. 0, or
 * <0 with `err` set. */
int cordon_ns_child_prepare(struct cordon_ns_child *c, char *const *argv, char *const *search_envp,
                            struct cordon_error *err);
/* Free what cordon_ns_child_prepare and the runner allocated in `c`. */
void cordon_ns_child_free(struct cordon_ns_child *c);

/* The parent's end of a started init. */
struct cordon_ns_spawn {
    int errp[2];  /* failures: cordon reads [0], the children write [1] */
    int statp[2]; /* the command's wait status, from the init */
    struct cordon_sigblock sb;
    pid_t pid; /* the init, as cordon sees it */
};
#define CORDON_NS_SPAWN_INIT                                                                       \
    { .errp = {-1, -1}, .statp = {-1, -1}, .pid = -1 }

/* Run in the init; never returns. */
typedef void cordon_ns_init_fn(const void *arg);

/* Start the init: the pipes (their write ends into `c`), the forwarded
 * signals blocked, clone(`flags`) with the new pid namespace among them;
 * the child calls init(arg). 0 with s->pid and the signals still blocked;
 * else the result for the runner to return, with `err` set (`hint` ends
 * the message when no user namespace can be made: which backend would
 * do). Close `s` with cordon_ns_spawn_close either way. */
int cordon_ns_start(struct cordon_ns_spawn *s, struct cordon_ns_child *c, unsigned long flags,
                    cordon_ns_init_fn *init, const void *arg, const char *hint,
                    struct cordon_error *err);
/* Wait for the started init, forwarding signals, and restore them. 1 with
 * *f when a child reported a failure; 0 with *ret_status the command's
 * wait status (the init's own when the init was killed); <0 with `err`. */
int cordon_ns_wait(struct cordon_ns_spawn *s, struct cordon_ns_failure *f, int *ret_status,
                   struct cordon_error *err);
void cordon_ns_spawn_close(struct cordon_ns_spawn *s);

/* The message for a failure at a stage both runners word alike (and for
 * an unknown one); a runner words the rest itself.
 * CORDON_RUN_SETUP_FAILED. */
int cordon_ns_report(const struct cordon_ns_failure *f, struct cordon_error *err);

/* ---- in the children: no allocation, no stdio ---- */

/* Report {stage, err, index} to cordon and _exit(code). */
__attribute__((noreturn)) void cordon_ns_fail(const struct cordon_ns_child *c, int stage, int err,
                                              int index, int code);
/* Write `s` to the file `path` (a /proc file: one write): 0 or an errno.
 * Also cordon's own, for root's maps. */
int cordon_ns_write_file(const char *path, const char *s);
/* a + "/" + b into buf (PATH_MAX); the empty string when it does not fit,
 * which the call it is for then refuses. */
void cordon_ns_join(char *buf, const char *a, const char *b);
/* mkdir -p on a copy of `path`; what is there already, of any type, is
 * left alone. 0 or an errno. */
int cordon_ns_mkdir_p(const char *path, mode_t mode);

/* The init's first steps: die with cordon (PR_SET_PDEATHSIG), umask 0 for
 * the root's modes, and, with `own_maps`, the one-line maps of the
 * caller's own ids (what root's whole-range maps, written by cordon, are
 * not). Fails through cordon_ns_fail. */
void cordon_ns_init_start(const struct cordon_ns_child *c, bool own_maps);
/* The init's last steps, once the root is built and entered: clone the
 * command (capabilities dropped, no_new_privs, the execvp search), act as
 * the pid namespace's init until it ends, give cordon its wait status. */
__attribute__((noreturn)) void cordon_ns_init_run(const struct cordon_ns_child *c);

/* A minimal /dev as bubblewrap's --dev: the harmless nodes of the host
 * (those `host_dev` has, bound), the usual links to /proc/self/fd, a
 * writable shm. The steps it can fail at, with ret_index the entry of
 * cordon_ns_dev_nodes or cordon_ns_dev_links: */
enum cordon_ns_dev_step {
    CORDON_NS_DEV_MOUNT, /* the tmpfs on dst */
    CORDON_NS_DEV_NODE,  /* the file to bind a node on */
    CORDON_NS_DEV_BIND,  /* the node's bind mount */
    CORDON_NS_DEV_LINK,
    CORDON_NS_DEV_SHM,
};
enum { CORDON_NS_N_DEV_NODES = 6, CORDON_NS_N_DEV_LINKS = 4 };
extern const char *const cordon_ns_dev_nodes[CORDON_NS_N_DEV_NODES];
extern const char *const cordon_ns_dev_links[CORDON_NS_N_DEV_LINKS][2]; /* name, target */
/* Make it on `dst`: 0, or an errno with *ret_step and *ret_index. */
int cordon_ns_make_dev(const char *dst, const char *host_dev, int *ret_step, int *ret_index);
