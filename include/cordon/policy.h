/* cordon: isolation policies, shared by `cordon run`, `replay`, `learn` and
 * `export`.
 *
 * A policy says what a command sees of the host: path rules, environment
 * rules, its HOME and whether it has a network. It is written one rule a
 * line, in the spirit of firejail's profiles (docs/policy.md is the format's
 * reference):
 *
 *     # comment; a comment at the end of a rule line is that rule's reason
 *     description git without the user's and the site's configuration
 *     include build                  # a built-in profile, or a file (relative
 *                                    # to the including file)
 *     ro /
 *     rw ${CWD}                      # the working directory
 *     hide ${HOME}/.gitconfig        # identity, hooks, signing
 *     deny /etc/shadow
 *     empty /etc/gitconfig
 *     redirect /etc/pip.conf /dev/null
 *     tmpfs /tmp
 *     dev /dev
 *     proc /proc
 *     unset GIT_CONFIG_* PYTHONPATH  # globs: * and ?
 *     keep PATH HOME                 # kept even if a later unset matches
 *     set LC_ALL=C
 *     clearenv                       # start from an empty environment
 *     home fresh|keep|PATH
 *     network on|off
 *
 * Tokens are separated by blanks; a token may be double-quoted ("a b", with
 * \" and \\). ${HOME}, ${XDG_CONFIG_HOME}, ${XDG_CACHE_HOME},
 * ${XDG_DATA_HOME}, ${XDG_STATE_HOME}, ${CWD} and ${UID} are expanded when
 * the policy is loaded, from struct cordon_policy_vars (the XDG ones default
 * under HOME as the XDG spec says). Paths must be absolute after expansion
 * and are normalised.
 *
 * Path semantics: the rule whose path is the longest prefix (by component)
 * of a path decides for it; among rules on the same path the last one loaded
 * wins, so a command-line flag overrides a profile. `hide` makes the path
 * absent (ENOENT) even for one file inside a visible directory; `deny`
 * makes it present but unreadable (EACCES); `empty` an empty file or
 * directory in its place; `redirect P OTHER` shows OTHER's content at P
 * read-only; `tmpfs` a private empty writable directory; `dev`, `proc` the
 * runner's own minimal /dev and a fresh /proc. A path no rule covers is
 * hidden.
 *
 * Environment semantics, applied in order to the caller's environment:
 * `clearenv` empties it, `unset` removes matching names except those a
 * `keep` matches, `set` sets. HOME is set by `home`.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cordon_error;

enum cordon_rule_kind {
    CORDON_RULE_RO,
    CORDON_RULE_RW,
    CORDON_RULE_HIDE,
    CORDON_RULE_DENY,
    CORDON_RULE_EMPTY,
    CORDON_RULE_REDIRECT,
    CORDON_RULE_TMPFS,
    CORDON_RULE_DEV,
    CORDON_RULE_PROC,
    CORDON_RULE_MAX,
    CORDON_RULE_INVALID = -1,
};
/* The keyword ("ro", "hide", ...), NULL for an invalid kind. */
const char *cordon_rule_kind_name(enum cordon_rule_kind k);
enum cordon_rule_kind cordon_rule_kind_from_name(const char *name);

struct cordon_rule {
    enum cordon_rule_kind kind;
    char *path;   /* absolute, normalised */
    char *to;     /* redirect's target (absolute, normalised), else NULL */
    char *why;    /* the reason (trailing comment), or NULL */
    char *origin; /* "profile git", a file's path, or "command line" */
    int line;     /* 1-based line in origin, 0 for the command line */
};

enum cordon_env_op {
    CORDON_ENV_UNSET, /* name is a glob */
    CORDON_ENV_KEEP,  /* name is a glob */
    CORDON_ENV_SET,   /* name and value */
    CORDON_ENV_CLEAR, /* clearenv: name is NULL */
};

struct cordon_env_rule {
    enum cordon_env_op op;
    char *name;
    char *value;
    char *why;
    char *origin;
    int line;
};

enum cordon_home_mode {
    CORDON_HOME_UNSET, /* no rule: the caller's HOME, as keep */
    CORDON_HOME_KEEP,  /* the caller's HOME, seen through the path rules */
    CORDON_HOME_FRESH, /* an empty private writable directory, HOME set to it */
    CORDON_HOME_PATH,  /* HOME set to home_path (read-write) */
};

struct cordon_policy {
    struct cordon_rule *rules; /* in load order */
    size_t n_rules, cap_rules;
    struct cordon_env_rule *env; /* in load order */
    size_t n_env, cap_env;
    enum cordon_home_mode home;
    char *home_path; /* CORDON_HOME_PATH */
    int network;     /* -1: not said (on), 0 off, 1 on */
    char *description;
    char **included; /* the profiles and files loaded, in order (for messages) */
    size_t n_included, cap_included;
    /* Private to policy.c: rule path -> its last rule, kept up to date by
     * the load and add functions so that lookup costs one hash probe per
     * component; lookup scans `rules` when n_indexed != n_rules (rules
     * appended by hand). */
    void *index;
    size_t n_indexed;
};

/* What ${...} in a policy expands to. NULL members take their defaults:
 * home from $HOME (else the password database), xdg_* from $XDG_* else
 * under home, cwd from getcwd(3), uid from getuid(2). */
struct cordon_policy_vars {
    const char *home;
    const char *xdg_config_home;
    const char *xdg_cache_home;
    const char *xdg_data_home;
    const char *xdg_state_home;
    const char *cwd;
    const char *uid;
};

struct cordon_policy *cordon_policy_new(void);
/* NULL-tolerant; returns NULL. */
struct cordon_policy *cordon_policy_free(struct cordon_policy *p);

/* Append the rules of policy text `text` (named `origin` in messages; `dir`
 * is where a relative include is looked for, may be NULL) to `p`.
 * 0, or -EINVAL with `err` naming origin, line and problem (unknown
 * keyword, missing or extra argument, relative path, unknown variable,
 * include cycle, unknown profile), -ENOENT for a missing include. */
int cordon_policy_load_string(struct cordon_policy *p, const char *text, const char *origin,
                              const char *dir, const struct cordon_policy_vars *vars,
                              struct cordon_error *err);
/* The same from a file. */
int cordon_policy_load_file(struct cordon_policy *p, const char *path,
                            const struct cordon_policy_vars *vars, struct cordon_error *err);
/* The built-in profile `name` (profiles/NAME.policy, see
 * cordon_profiles_dir). -ENOENT with err listing the known names. */
int cordon_policy_load_profile(struct cordon_policy *p, const char *name,
                               const struct cordon_policy_vars *vars, struct cordon_error *err);

/* Add one path rule from the command line (`path` relative to vars' cwd is
 * made absolute). 0, -EINVAL, -ENOMEM. */
int cordon_policy_add_rule(struct cordon_policy *p, enum cordon_rule_kind kind, const char *path,
                           const char *to, const struct cordon_policy_vars *vars,
                           struct cordon_error *err);

/* The rule that decides for absolute normalised `path` (see above), or NULL
 * when none covers it (the path is then hidden). */
const struct cordon_rule *cordon_policy_lookup(const struct cordon_policy *p, const char *path);

/* The environment `envp` as the policy makes it (home applied with
 * `home_dir`, the directory HOME is set to for FRESH, may be NULL
 * otherwise). *ret is a new NULL-terminated vector. 0 or -ENOMEM. */
int cordon_policy_apply_env(const struct cordon_policy *p, char *const *envp, const char *home_dir,
                            char ***ret);

/* Write `p` as policy text that loads back to the same rules: one rule a
 * line with its reason, no includes (they are flattened). 0 or -errno. */
int cordon_policy_write(const struct cordon_policy *p, FILE *out);

/* The directory of the built-in profiles: $CORDON_PROFILES_DIR, else
 * ../share/cordon/profiles beside the executable (installed), else the
 * source tree's profiles/ (build tree). Into `out`; 0 or -ENOENT. */
int cordon_profiles_dir(char *out, size_t size);
