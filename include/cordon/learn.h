/* cordon: learning a policy from a recording (`cordon learn`) and finding
 * the host inputs that make a build differ from its replay (`cordon bisect`).
 *
 * Learn outline:
 *   1. cordon_learn() turns a classified manifest into a struct
 *      cordon_learned: the work tree read-write, the system paths it read
 *      read-only (collapsed, see cordon_collapse()), what it wrote outside
 *      the work tree read-write, /dev, /proc, a tmpfs /tmp, its HOME, and
 *      the breaches it reached for listed as left out;
 *   2. cordon_learned_write() writes it as policy text (include/cordon/
 *      policy.h), one rule a line with its reason;
 *   3. the front end verifies it by rerunning the build in a copy of the
 *      work tree under `cordon run --policy` (cordon_copy_tree()).
 *
 * Bisect outline:
 *   1. cordon_bisect_candidates() lists what the host has that the replay
 *      lacks: inputs of the manifest the root does not hold (left out by
 *      pack, or looked for and missing at record time) that exist here, or
 *      whose bytes here differ; and variables of this environment that the
 *      replay's differs in;
 *   2. cordon_bisect_search() adds them back in halves, asking an oracle
 *      (in the front end: a replay of TEST in a root prepared with
 *      cordon_bisect_prepare_root()) whether TEST's status now differs from
 *      the hermetic one, and returns the groups of candidates that make the
 *      difference.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <cordon/policy.h> /* enum cordon_rule_kind, enum cordon_home_mode */

struct cordon_error;
struct cordon_manifest;

/* ---- collapsing paths into rules ----------------------------------------
 * The rule (docs/man/cordon-learn.1.md says it for users):
 *   1. every path the build needs gets a rule of its own; a directory that
 *      was only stat'ed and holds other needed paths gets none (it exists
 *      as their parent);
 *   2. bottom-up, a directory D takes the place of the rules below it when
 *      the build listed D, or used at least `fanin` of its entries (an
 *      entry is used when a rule is at or below it), or used at least half
 *      of the entries D has on this host (`entries`);
 *   3. while there are more than `max_rules` rules, the directory with the
 *      most rules below it (ties: the deeper, then the bytewise smaller
 *      path) takes their place;
 * never above a "unit": a directory directly below "/", or two levels
 * down below the roots whose entries are unrelated things (/etc, /home,
 * /opt, /var, /srv, /mnt, /media, /run, /tmp, /nix, /gnu), and never at a
 * `stop` path or above one (the user's HOME). */
struct cordon_collapse_path {
    const char *path; /* absolute, normalised */
    bool listed;      /* the build listed this directory */
    bool dir_only;    /* a directory only stat'ed: needs no rule if it holds others */
};

struct cordon_collapse_options {
    size_t max_rules; /* 0: no budget */
    size_t fanin;     /* 0: 3 */
    /* The number of entries of directory `dir` on this host, or -errno;
     * NULL: opendir(3). For tests. */
    long (*entries)(void *ctx, const char *dir);
    void *entries_ctx;
    const char *const *stop; /* NULL-terminated, may be NULL */
};

struct cordon_collapsed {
    char *path;     /* the rule's path (new) */
    size_t covered; /* the needed paths at or below it */
    bool below;     /* some of them are below it (it is a directory, or a symlink to one) */
};

/* Collapse `n` paths (in any order, duplicates allowed). *ret is a new array
 * sorted by path, *ret_n its length; free with cordon_collapsed_free(). 0 or
 * -ENOMEM / -EINVAL (a relative path). */
int cordon_collapse(const struct cordon_collapse_path *paths, size_t n,
                    const struct cordon_collapse_options *o, struct cordon_collapsed **ret,
                    size_t *ret_n);
void cordon_collapsed_free(struct cordon_collapsed *c, size_t n);

/* ---- learn --------------------------------------------------------------- */

struct cordon_learned_rule {
    enum cordon_rule_kind kind;
    char *path;   /* absolute; "${CWD}" for the work tree */
    char *why;    /* the reason comment */
    size_t reads; /* needed paths it covers (ro), 0 otherwise */
};

struct cordon_left_out {
    char *path;
    const char *category; /* static */
};

struct cordon_learned {
    struct cordon_learned_rule *rules; /* in the order they are written */
    size_t n_rules, cap_rules;
    enum cordon_home_mode home; /* FRESH or KEEP */
    char *home_why;
    struct cordon_left_out *left_out; /* sorted by path */
    size_t n_left_out, cap_left_out;
    char **steering; /* NAME=VALUE the build consulted, sorted; NULL-terminated, may be NULL */
    char *command;   /* the recorded command, for the header */
    size_t reads;    /* needed paths outside the work tree */
};

struct cordon_learn_options {
    const struct cordon_manifest *manifest; /* sorted; classified here if not yet */
    size_t max_rules;                       /* 0: 30 */
    /* As in struct cordon_collapse_options, for tests; NULL: the host. */
    long (*entries)(void *ctx, const char *dir);
    void *entries_ctx;
    /* Resolve symlinks on the needed paths on this host (the /lib ->
     * usr/lib of merged /usr), and add the interpreters the kernel opens
     * for each executed program (#! lines, PT_INTERP). Off for tests that
     * use invented paths. */
    bool resolve_host;
};

/* Learn. *ret is new (cordon_learned_free). 0, -ENOMEM, or -EINVAL with
 * `err` filled (a manifest without a work tree or cwd). */
int cordon_learn(const struct cordon_learn_options *o, struct cordon_learned **ret,
                 struct cordon_error *err);
struct cordon_learned *cordon_learned_free(struct cordon_learned *l);

/* The number of rules the written policy holds: path rules plus the home
 * line. */
size_t cordon_learned_rule_count(const struct cordon_learned *l);

/* Write the policy text. `verdict` (may be NULL) goes into the header as
 * the verification's outcome. 0 or -errno. */
int cordon_learned_write(const struct cordon_learned *l, const char *verdict, FILE *out);

/* The interpreters the kernel opens to run `path` without any libc call
 * the hook sees: a script's #! interpreter (followed through up to four
 * #! levels) and an ELF program's PT_INTERP. Into `out` (up to `max`
 * new strings); returns how many, 0 when none or unreadable. */
size_t cordon_interpreters(const char *path, char **out, size_t max);

/* Copy the tree `src` to `dst` (which must not exist): directories with
 * their modes, symlinks as they are, regular files copied
 * (copy_file_range), or hard-linked when `link_file` (may be NULL) says so
 * for that source path. Other file types are skipped. 0 or -errno with
 * `err` naming the path. */
int cordon_copy_tree(const char *src, const char *dst,
                     bool (*link_file)(void *ctx, const char *src_path), void *ctx,
                     struct cordon_error *err);

/* ---- bisect -------------------------------------------------------------- */

enum cordon_candidate_kind {
    CORDON_CANDIDATE_FILE, /* a host path to copy into the root */
    CORDON_CANDIDATE_ENV,  /* a variable to set */
};

struct cordon_candidate {
    enum cordon_candidate_kind kind;
    char *name;  /* FILE: the absolute path; ENV: the variable's name */
    char *value; /* ENV: the host's value */
    char *why;   /* "left out of the archive (user-config)", "not in the recording" */
};

struct cordon_candidates {
    struct cordon_candidate *items;
    size_t n, cap;
};
void cordon_candidates_release(struct cordon_candidates *c);
/* Append one (copies). 0 or -ENOMEM. */
int cordon_candidates_add(struct cordon_candidates *c, enum cordon_candidate_kind kind,
                          const char *name, const char *value, const char *why);

/* The candidates for a manifest replayed in the unpacked `root`, against
 * this host and `host_env`, and the environment `replay_env` the replay
 * gives the command (cordon_replay_env of the recorded one). Files first
 * (by path), then variables (by name). Inputs in the work tree, virtual
 * paths and the variables cordon and the runners set themselves are never
 * candidates. 0 or -errno with `err` filled. */
int cordon_bisect_candidates(const struct cordon_manifest *m, const char *root,
                             char *const *host_env, char *const *replay_env,
                             struct cordon_candidates *ret, struct cordon_error *err);

/* Read candidates from a file, one a line: "file PATH", "env NAME" (the
 * host's value, from host_env), "env NAME=VALUE", a bare absolute path, or
 * a bare NAME=VALUE; '#' starts a comment. 0, or -EINVAL with `err` naming
 * the line. */
int cordon_bisect_candidates_load(const char *path, char *const *host_env,
                                  struct cordon_candidates *ret, struct cordon_error *err);

/* Make `dst` (absent) a copy of the unpacked root `pristine` (files
 * hard-linked, except those under the manifest's work tree and its
 * outputs, which are copied so the build cannot change the pristine root),
 * then add the FILE candidates selected by `subset` (indexes into c) from
 * the host, their parent directories made inside the root. 0 or -errno
 * with `err` filled. */
int cordon_bisect_prepare_root(const struct cordon_manifest *m, const char *pristine,
                               const char *dst, const struct cordon_candidates *c,
                               const size_t *subset, size_t k, struct cordon_error *err);

/* The search. `run` runs the test with the candidates `subset` (k
 * indexes, ascending) added and returns its exit code (>= 0), or -errno to
 * stop the search. The first run adds nothing (the hermetic reference),
 * the second everything; a run "differs" when its code differs from the
 * first's. Then, repeatedly: the smallest group of the candidates still in
 * play that differs is found by halving (QuickXplain: the shortest prefix
 * that, with the group found so far, still differs; its last element
 * belongs to the group), the group is recorded and taken out of play, and
 * the rest is tried alone; the search ends when the rest no longer
 * differs. About k * (log2(n) + 2) + 2 runs for k culprits. */
struct cordon_bisect_group {
    size_t *items; /* indexes, ascending */
    size_t n;
};

struct cordon_bisect_result {
    int reference; /* the code with nothing added */
    int all;       /* the code with everything added */
    bool differs;  /* all != reference: there was something to find */
    struct cordon_bisect_group *groups;
    size_t n_groups;
    size_t runs;
    bool gave_up; /* runs_max reached: groups hold what was found */
};

typedef int (*cordon_bisect_run_fn)(void *ctx, const size_t *subset, size_t k);

/* 0 (see ret->differs and ret->gave_up), -ENOMEM, or the first negative
 * value `run` returned. `runs_max` 0: no limit. */
int cordon_bisect_search(size_t n, cordon_bisect_run_fn run, void *ctx, size_t runs_max,
                         struct cordon_bisect_result *ret);
void cordon_bisect_result_release(struct cordon_bisect_result *r);
