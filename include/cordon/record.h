/* cordon: running a command under the hook and turning its log into a manifest.
 *
 * Outline:
 *   1. cordon_record_run() snapshots the work tree into the store, starts the
 *      command with the hook preloaded (LD_PRELOAD, and LD_AUDIT so the
 *      loader's own searches are seen), waits for it, and collects the log
 *      into a manifest written to `output`;
 *   2. if the recorder itself is killed, a watcher process it left behind
 *      waits for the command and writes the manifest from the log anyway;
 *   3. cordon_record_collect() is that collection on its own: log in,
 *      manifest out (used by 1 and 2).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct cordon_error;
struct cordon_manifest;
struct cordon_snapshot;

/* --complete: how programs the hook cannot see (static ELF) are observed. */
enum cordon_complete {
    CORDON_COMPLETE_AUTO = 0, /* a seccomp filter from the exec of a static program on */
    CORDON_COMPLETE_NEVER,    /* unobserved: named in coverage as static-exec */
    CORDON_COMPLETE_ALWAYS,   /* the filter on the whole tree, from the command on */
};

struct cordon_record_options {
    char *const *argv;    /* the command; argv[0] is searched in PATH */
    const char *output;   /* manifest path */
    const char *hook;     /* libcordon-hook.so (absolute) */
    const char *worktree; /* snapshotted into the store; NULL: the cwd */
    const char *store;    /* store directory; NULL: cordon_store_default() */
    bool no_audit;        /* do not load the hook as an LD_AUDIT module */
    bool quiet;           /* no progress lines */
    bool keep_log;        /* keep OUTPUT.log after a successful collection */
    enum cordon_complete complete;
    struct cordon_record_summary *summary; /* filled when not NULL and a manifest was written */
};

/* What the written manifest holds, for the front end's closing line. */
struct cordon_record_summary {
    size_t inputs;  /* all inputs, missing ones included */
    size_t missing; /* inputs looked for and not found */
    size_t outputs;
    size_t processes;
    size_t gaps;
};

/* Run and record. *ret_status gets the command's wait(2) status when it
 * ran. Returns 0 when a manifest was written (whatever the command's status);
 * -errno with `err` filled otherwise. -ENOENT and -EACCES (-ENOEXEC) say the
 * command could not be started; the front end maps them to 127 and 126. */
int cordon_record_run(const struct cordon_record_options *opts, int *ret_status,
                      struct cordon_error *err);

struct cordon_collect_options {
    const char *log;                        /* the event log */
    const struct cordon_snapshot *snapshot; /* the work tree before the run, may be NULL */
    const char *store;                      /* where the snapshot's bytes are */
    const char *worktree;
    int root_pid; /* the command's pid: its PROC record is the root process */
    bool quiet;
};

/* Build a manifest from an event log: inputs (hashed now, or taken from the
 * snapshot when the build changed them), outputs, processes, env reads and
 * coverage gaps. The caller fills `command` and `host`. *ret is new. */
int cordon_record_collect(const struct cordon_collect_options *opts, struct cordon_manifest **ret,
                          struct cordon_error *err);
