/* cordon: classification of inputs into categories.
 *
 * A category says why an input matters beyond "the build read it": most are
 * the breaches of docs/manifest-schema.md (user-config, credentials, cache,
 * ...). The foundation uses it to keep secrets out of archives by default and
 * to let `pack --drop CATEGORY` leave a class of inputs out. Patterns are
 * matched against the recording's own HOME (from the manifest's environment),
 * not this host's. The built-in rules (first match wins) are listed at the
 * top of manifest/classify.c; the knowledge base adds explanations.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct cordon_error;
struct cordon_manifest;
struct cordon_input;

/* clang-format off: one entry a line reads better than a reflowed macro */
#define CORDON_CATEGORIES(X)                                                                       \
    X(DECLARED, "declared")                           /* the work tree */                          \
    X(SYSTEM, "system")                               /* the distribution's files */               \
    X(USER_CONFIG, "user-config")                     /* ~/.gitconfig, ~/.config/... */            \
    X(SITE_CONFIG, "site-config")                     /* /etc/gitconfig, /etc/pip.conf */          \
    X(CREDENTIALS, "credentials")                     /* ~/.ssh, ~/.netrc, ~/.aws/credentials */   \
    X(CACHE, "cache")                                 /* ~/.cache, ccache */                       \
    X(USER_PACKAGE_REGISTRY, "user-package-registry") /* ~/.cmake/packages */                      \
    X(USER_SITE_PACKAGES, "user-site-packages")       /* ~/.local/lib/pythonX.Y/site-packages */   \
    X(SYSTEM_HEADER, "system-header")   /* /usr/local/include, /usr/include outside libc */        \
    X(SYSTEM_LIBRARY, "system-library") /* /usr/local/lib */                                       \
    X(UNDECLARED, "undeclared-read")    /* anything else outside the work tree */                  \
    X(VIRTUAL, "virtual")               /* /proc, /sys, /dev: provided by the runner */            \
    X(WRITE_OUTSIDE, "write-outside")   /* an output outside the work tree (report only) */
/* clang-format on */

enum cordon_category {
#define CORDON_CAT_ENUM(id, name) CORDON_CAT_##id,
    CORDON_CATEGORIES(CORDON_CAT_ENUM)
#undef CORDON_CAT_ENUM
        CORDON_CAT_MAX,
    CORDON_CAT_INVALID = -1,
};

const char *cordon_category_name(enum cordon_category c);
/* CORDON_CAT_INVALID for an unknown name. */
enum cordon_category cordon_category_from_name(const char *name);

/* The category of one path, given the recording's HOME (may be NULL) and
 * work tree (may be NULL). */
enum cordon_category cordon_classify_path(const char *path, const char *home, const char *worktree);

/* Set every input's `category` string by the path rules, and `package`
 * (the owner on this host, see owners below) where it is not set yet.
 * 0 or -ENOMEM. */
int cordon_classify_manifest(struct cordon_manifest *m);
struct cordon_owners;
/* The same with the given owners database (NULL: no `package`). */
int cordon_classify_manifest_owners(struct cordon_manifest *m, struct cordon_owners *owners);

/* True for the categories that are breaches of the declared view: all but
 * declared, system and virtual. */
bool cordon_category_is_breach(enum cordon_category c);

/* ---- the knowledge base (manifest/kb.c) -----------------------------------
 * Data files (knowledge/NAME.toml, a TOML subset: comments, `[[entry]]`
 * tables of `key = "string"` and `key = integer`, and top-level arrays of
 * strings) describing files that tools find by themselves. The format is
 * described at the top of knowledge/git.toml; knowledge/toolchain.toml
 * lists what belongs to the C library and the compilers.
 *
 * Outline:
 *   1. cordon_kb_load_dir() (or cordon_kb_new() + cordon_kb_load_file());
 *   2. cordon_kb_bind() expands ${HOME} and ${XDG_*} against the
 *      recording's environment and sorts the entries: priority, then
 *      specificity (a literal component counts 3, a component with `*` and
 *      text 2, a bare `*` 1, `**` 0; then literal characters), then load
 *      order;
 *   3. cordon_kb_match() for each path;
 *   4. cordon_kb_free(). */
struct cordon_kb_entry {
    char *pattern; /* as written, e.g. "${HOME}/.gitconfig" */
    enum cordon_category category;
    char *tool;
    char *explanation;
    char *fix; /* `; `-separated statements, may hold ${MATCHED} */
    int priority;
    char *source; /* the file's name, for messages */
    int line;     /* of its [[entry]] */
};

struct cordon_kb;

struct cordon_kb *cordon_kb_new(void);
struct cordon_kb *cordon_kb_free(struct cordon_kb *kb);
/* Add the entries (and toolchain arrays) of one file. Every problem names
 * the file, line and column. 0, -EINVAL, -ENOMEM or -errno. */
int cordon_kb_load_file(struct cordon_kb *kb, const char *path, struct cordon_error *err);
/* The same from memory; `name` is used in messages. */
int cordon_kb_load_buffer(struct cordon_kb *kb, const char *buf, size_t len, const char *name,
                          struct cordon_error *err);
/* Every NAME.toml of `dir`, in name order. *ret is new. */
int cordon_kb_load_dir(const char *dir, struct cordon_kb **ret, struct cordon_error *err);
/* The knowledge directory: $CORDON_KNOWLEDGE_DIR, else ../share/cordon/knowledge
 * beside the executable (installed), else the source tree's knowledge/.
 * Into `out`; 0 or -ENOENT. */
int cordon_kb_find_dir(char *out, size_t size);

/* The directories the variables stand for (absolute; NULL or "/" leaves
 * patterns with that variable out). `env` is a NULL-terminated
 * "NAME=VALUE" vector, the recording's: HOME, and XDG_CONFIG_HOME,
 * XDG_CACHE_HOME, XDG_DATA_HOME defaulting below HOME. 0 or -ENOMEM. */
int cordon_kb_bind(struct cordon_kb *kb, char *const *env);

size_t cordon_kb_count(const struct cordon_kb *kb);
const struct cordon_kb_entry *cordon_kb_entry_at(const struct cordon_kb *kb, size_t i);

/* The best entry for a normalised absolute path (after cordon_kb_bind), or
 * NULL. `ret_anchor_len` (may be NULL) gets the length of the part of the
 * path the pattern matched up to its last component that is not `**`
 * (what ${MATCHED} stands for). Borrowed. */
const struct cordon_kb_entry *cordon_kb_match(const struct cordon_kb *kb, const char *path,
                                              size_t *ret_anchor_len);

/* `path` with a leading ${XDG_*} or ${HOME} directory written as its
 * variable, into `out`. */
void cordon_kb_abstract_path(const struct cordon_kb *kb, const char *path, char *out, size_t size);

/* A fix with ${MATCHED} replaced by `matched` (abstracted) and each
 * statement turned into a policy line (policy.h: `env unset N` becomes
 * `unset N`, `env set N=V` `set N=V`), `; `-separated. New, NULL on ENOMEM. */
char *cordon_kb_fix(const struct cordon_kb *kb, const char *fix, const char *matched);

/* Toolchain questions (knowledge/toolchain.toml). */
bool cordon_kb_toolchain_package(const struct cordon_kb *kb, const char *name);
bool cordon_kb_toolchain_path(const struct cordon_kb *kb, const char *path);
/* `rel` relative to an include directory, a multiarch triplet removed. */
bool cordon_kb_libc_header(const struct cordon_kb *kb, const char *rel);
/* `stem`: a library's file name before .so or .a ("libm"). */
bool cordon_kb_libc_library(const struct cordon_kb *kb, const char *stem);

/* `*` within a component (never `/`). */
bool cordon_glob_match(const char *pattern, const char *s);

/* ---- owners (manifest/owners.c) -------------------------------------------
 * Which package a file belongs to: dpkg (every info/NAME.list and the status
 * file read once into one map; merged /usr handled), rpm (one `rpm -qa`
 * listing all files, if rpm is installed), a Spack install tree (a
 * .spack/spec.json in a directory above the file), a conda environment
 * (conda-meta/NAME.json files lists), the Nix store (/nix/store/HASH-NAME-VERSION)
 * and Homebrew (.../Cellar/NAME/VERSION). */
struct cordon_owner {
    const char *manager; /* "dpkg", "rpm", "spack", "conda", "nix", "homebrew" */
    const char *name;
    const char *version; /* NULL if unknown */
};

struct cordon_owners;

/* `dpkg_admindir`: dpkg's database (/var/lib/dpkg), NULL for none.
 * `rpm`: ask rpm if it is installed. Databases load on the first lookup. */
struct cordon_owners *cordon_owners_new(const char *dpkg_admindir, bool rpm);
/* This host's databases. */
struct cordon_owners *cordon_owners_new_host(void);
struct cordon_owners *cordon_owners_free(struct cordon_owners *o);
/* 1 and *ret filled (strings borrowed from `o`) if a manager owns `path`,
 * 0 if none does ("no package"), -ENOMEM. */
int cordon_owners_lookup(struct cordon_owners *o, const char *path, struct cordon_owner *ret);
/* Say, before the first lookup, a path that will be looked up: once any is
 * said, the package databases keep only those (and their merged-/usr
 * spelling), so that a recording of a few hundred system files does not
 * index every file of every package. A path said after lookups makes the
 * next lookup load again. 0 or -ENOMEM. */
int cordon_owners_want(struct cordon_owners *o, const char *path);
/* Keep dpkg's database as an index file in `dir` (created if missing): a
 * load reads it, in place of dpkg's file lists, while dpkg's status file
 * and info directory are those it was made from, and makes it again when
 * they are not (or it is damaged). Paths said with cordon_owners_want are
 * then ignored: the index is whole and costs nothing to keep. Before the
 * first lookup; 0, -EINVAL or -ENOMEM. */
int cordon_owners_set_index_dir(struct cordon_owners *o, const char *dir);
/* Load dpkg's and rpm's databases whole, now, instead of at the first
 * lookup (and without a cordon_owners_want subset): for a caller that has
 * idle time before it knows which paths it will ask about. `stop` (may be
 * NULL) is polled between files; once it is non-zero the load ends with
 * -ECANCELED and `o` is as new (the next lookup loads). 0, -ECANCELED,
 * -ENOMEM, or -EINVAL when `o` has loaded or been told paths already. */
int cordon_owners_load(struct cordon_owners *o, const int *stop);
/* "NAME VERSION" of an owner into `out` ("no package" when `o` is NULL). */
const char *cordon_owner_format(const struct cordon_owner *o, char *out, size_t size);

/* ---- classification for reports ------------------------------------------
 * Beyond the path rules: declared prefixes, the knowledge base and owners.
 * Order: virtual; declared (the work tree and --declare prefixes); a
 * knowledge-base entry; a system header (below an include directory, not
 * the C library's or the compiler's by owner or by name); a system library
 * (a library the linker read from a default directory that is not the
 * toolchain's, or one the loader loaded there while a declared prefix has a
 * library of the same name); else the path rules. */
struct cordon_verdict {
    enum cordon_category category;
    const struct cordon_kb_entry *entry; /* the knowledge-base entry, or NULL */
    size_t anchor_len;                   /* with entry: what ${MATCHED} stands for */
    const char *shadowed;                /* system-library: the declared library it shadows */
};

struct cordon_classifier;
/* `kb` (bound to the manifest's environment), `owners` (may be NULL) and
 * `m` are borrowed; `declared` is a NULL-terminated list of prefixes (may
 * be NULL), copied. */
struct cordon_classifier *cordon_classifier_new(const struct cordon_manifest *m,
                                                const struct cordon_kb *kb,
                                                struct cordon_owners *owners,
                                                char *const *declared);
struct cordon_classifier *cordon_classifier_free(struct cordon_classifier *c);
/* 0 or -ENOMEM. */
int cordon_classify_input(struct cordon_classifier *c, const struct cordon_input *in,
                          struct cordon_verdict *ret);
