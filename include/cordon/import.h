/* cordon: other tracers' logs as manifests (strace, fs_usage, dtruss, kdump).
 *
 * A log another tracer wrote becomes a cordon manifest: inputs (read,
 * executed, stat'ed, looked for and missing, listed), outputs (writes),
 * processes (pid, parent, program, argv where the log has it, exit status),
 * with each process's working directory and open descriptors followed so
 * that relative paths and *at calls resolve. Files that exist on this host
 * are hashed here; the others are marked unhashed. The manifest's coverage
 * names the tracer and what such logs cannot know.
 *
 * Outline:
 *   1. cordon_import_new(format);
 *   2. optionally cordon_import_set_cwd() (the traced command's working
 *      directory, which strace, dtruss and kdump do not print);
 *   3. cordon_import_load() reads the log (for strace -ff a directory or the
 *      common prefix of LOG.PID files) into sources, then
 *      cordon_import_parse() (the dispatcher) or one of
 *      cordon_import_{strace,fs_usage,dtruss,kdump}() parses them;
 *   4. cordon_import_build() turns what was parsed into a new manifest
 *      (stat and hash on this host);
 *   5. cordon_import_free().
 *
 * Bad input never crashes and is never silently dropped: a line a parser
 * does not understand becomes a warning naming its file and line
 * ("zlib.strace:1042: unterminated string") and is counted; only input in
 * which nothing at all was understood is an error (-EINVAL, with the file
 * and the first problem's line in `err`).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cordon_error;
struct cordon_manifest;

enum cordon_import_format {
    CORDON_IMPORT_STRACE,
    CORDON_IMPORT_FS_USAGE,
    CORDON_IMPORT_DTRUSS,
    CORDON_IMPORT_KDUMP,
    CORDON_IMPORT_FORMAT_MAX,
    CORDON_IMPORT_FORMAT_INVALID = -22, /* -EINVAL */
};

/* "strace", "fs_usage", "dtruss", "kdump"; NULL for anything else. */
const char *cordon_import_format_name(enum cordon_import_format f);
/* The format of a name (also "fs-usage" and "ktrace"), or _INVALID. */
enum cordon_import_format cordon_import_format_from_name(const char *name);

/* What one logged call did to a path. */
enum cordon_import_op {
    CORDON_IMPORT_READ,     /* opened for reading */
    CORDON_IMPORT_UPDATE,   /* opened read-write without truncation: read, then written */
    CORDON_IMPORT_WRITE,    /* opened for writing, truncated, chmod, utime... */
    CORDON_IMPORT_CREATE,   /* created: O_CREAT|O_EXCL, mkdir, link, symlink, rename's target */
    CORDON_IMPORT_DELETE,   /* unlink, rmdir, rename's source */
    CORDON_IMPORT_STAT,     /* metadata: stat family, O_PATH, O_DIRECTORY opens */
    CORDON_IMPORT_PROBE,    /* access(2) and friends */
    CORDON_IMPORT_READLINK, /* readlink */
    CORDON_IMPORT_LIST,     /* directory listed (getdents) */
    CORDON_IMPORT_EXEC,     /* executed */
    CORDON_IMPORT_CHDIR,    /* became the working directory */
    CORDON_IMPORT_OP_MAX,
    CORDON_IMPORT_OP_INVALID = -22,
};
/* "read", "update", ... */
const char *cordon_import_op_name(enum cordon_import_op op);

/* One access, in log order. `path` is absolute when the log let it be
 * resolved, else as the log gave it (an unknown working directory). */
struct cordon_import_event {
    uint64_t seq;  /* 1, 2, ... in the order the parser met them */
    uint64_t t_ns; /* since the log's first timestamp; 0 without timestamps */
    int pid;
    enum cordon_import_op op;
    int err;             /* 0 for success, else a Linux errno number */
    char *path;          /* owned by the import */
    const char *syscall; /* the call's name as the log printed it; owned by the import */
};

/* One log file (or one -ff file), in memory. `name` is used in messages.
 * Both pointers are borrowed by the parsers. */
struct cordon_import_source {
    char *name;
    char *text;
    size_t len;
};

struct cordon_import;

/* A new empty import for `format`, or NULL on ENOMEM. */
struct cordon_import *cordon_import_new(enum cordon_import_format format);
/* NULL-tolerant; returns NULL. */
struct cordon_import *cordon_import_free(struct cordon_import *imp);

/* The working directory of the traced command (and of processes whose
 * parent the log does not show), for logs that do not print it. Call before
 * parsing. `dir` must be absolute. 0, -EINVAL or -ENOMEM. */
int cordon_import_set_cwd(struct cordon_import *imp, const char *dir);

/* The traced user's home directory, for classifying what the build read
 * (~/.gitconfig is user configuration). Without it the manifest takes HOME
 * from the environment the log shows (strace -v), or else the home directory
 * (/home/NAME, /Users/NAME, /root) most of the paths are under, and says
 * so in its coverage. 0, -EINVAL or -ENOMEM. */
int cordon_import_set_home(struct cordon_import *imp, const char *dir);

/* Read `log` into sources (new array; free with cordon_import_sources_free).
 * For strace, `log` may be a directory of -ff files (every regular file in
 * it whose name ends in ".PID"), or the prefix PATH of PATH.PID files when
 * PATH itself does not exist. 0 or -errno with `err` filled. */
int cordon_import_load(enum cordon_import_format format, const char *log,
                       struct cordon_import_source **ret, size_t *ret_n, struct cordon_error *err);
void cordon_import_sources_free(struct cordon_import_source *srcs, size_t n);

/* Parse sources into `imp`. Each returns 0 when anything was understood (the
 * rest is in the warnings), -EINVAL when nothing was (err names the file and
 * the first problem's line), -ENOMEM. The sources must outlive the call only. */
int cordon_import_strace(struct cordon_import *imp, const struct cordon_import_source *srcs,
                         size_t n, struct cordon_error *err);
int cordon_import_fs_usage(struct cordon_import *imp, const struct cordon_import_source *srcs,
                           size_t n, struct cordon_error *err);
int cordon_import_dtruss(struct cordon_import *imp, const struct cordon_import_source *srcs,
                         size_t n, struct cordon_error *err);
int cordon_import_kdump(struct cordon_import *imp, const struct cordon_import_source *srcs,
                        size_t n, struct cordon_error *err);
/* The one of the four for the import's format. */
int cordon_import_parse(struct cordon_import *imp, const struct cordon_import_source *srcs,
                        size_t n, struct cordon_error *err);

/* What the parsers warned about, "FILE:LINE: TEXT" (borrowed). At most 200
 * are kept; cordon_import_n_problems() counts them all. */
size_t cordon_import_n_warnings(const struct cordon_import *imp);
const char *cordon_import_warning(const struct cordon_import *imp, size_t i);
size_t cordon_import_n_problems(const struct cordon_import *imp);
/* Lines understood. */
size_t cordon_import_n_understood(const struct cordon_import *imp);

/* The events parsed so far (borrowed, valid until the next parse). */
const struct cordon_import_event *cordon_import_events(const struct cordon_import *imp,
                                                       size_t *ret_n);

struct cordon_progress;

struct cordon_import_build_options {
    bool no_hash;   /* stat only: no content hashes (inputs that need them are unhashed) */
    bool quiet;     /* no progress line */
    bool no_owners; /* strace: do not look up which package owns each input */
    /* The log files, named in the coverage section. May be NULL. */
    const char *const *logs;
    size_t n_logs;
};

/* Build a new sorted manifest from what was parsed: one input per absolute
 * path the build used before writing it, an output per path it wrote (as it
 * is on this host now, or unhashed), a process per pid, coverage gaps for
 * the tracer, relative paths that stayed unresolved and lines not
 * understood. *ret is new. 0 or -errno with `err` filled. */
int cordon_import_build(struct cordon_import *imp, const struct cordon_import_build_options *opts,
                        struct cordon_manifest **ret, struct cordon_error *err);
