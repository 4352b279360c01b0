/* cordon: the manifest model, its canonical JSON form, and what reads it.
 *
 * A manifest is the complete, verifiable list of what one recorded command
 * depended on: its inputs (with hashes), outputs, processes, the variables
 * it consulted, and what the recording could not see (coverage). The JSON
 * form is the contract, described in docs/manifest-schema.md.
 *
 * Outline:
 *   1. cordon_manifest_new(), or cordon_manifest_read() of a file;
 *   2. cordon_manifest_add_*() to fill it (the recorder's collector does);
 *   3. cordon_manifest_sort() puts every list in canonical order, after
 *      which cordon_manifest_find_input() works;
 *   4. cordon_manifest_write() writes canonical JSON (sorted keys, entries
 *      sorted by path, two-space indent), atomically;
 *   5. cordon_manifest_free().
 *
 * Strings in the structs are owned by the manifest (new copies are made by
 * the add functions and by the setters); callers that assign a string field
 * directly must assign memory from malloc, which the manifest then owns.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cordon/hash.h>

struct cordon_error;

#define CORDON_MANIFEST_VERSION 1

/* What a path was when the recording looked at it. */
enum cordon_ftype {
    CORDON_FT_FILE,
    CORDON_FT_SYMLINK,
    CORDON_FT_DIR,
    CORDON_FT_MISSING, /* looked up and not found */
    CORDON_FT_OTHER,   /* fifo, socket, device */
    CORDON_FT_MAX,
    CORDON_FT_INVALID = -1,
};
/* "file", "symlink", "dir", "missing", "other". */
const char *cordon_ftype_name(enum cordon_ftype t);
enum cordon_ftype cordon_ftype_from_name(const char *s);
/* The type of an st_mode: file, symlink, dir, else other. */
enum cordon_ftype cordon_ftype_from_mode(unsigned mode);

/* How the build used an input (a set of these). */
enum cordon_use {
    CORDON_USE_READ = 1 << 0,     /* opened for reading */
    CORDON_USE_EXEC = 1 << 1,     /* executed */
    CORDON_USE_STAT = 1 << 2,     /* metadata looked at: stat family, access */
    CORDON_USE_PROBE = 1 << 3,    /* looked for and not found */
    CORDON_USE_LIST = 1 << 4,     /* directory listed */
    CORDON_USE_READLINK = 1 << 5, /* symlink read */
    CORDON_USE_LOAD = 1 << 6,     /* loaded by the dynamic loader (or dlopen) */
    CORDON_USE_SEARCH = 1 << 7,   /* a library candidate the loader tried */
};
#define CORDON_USE_COUNT 8
/* The JSON spelling of one bit ("read", "exec", ...), NULL for anything else. */
const char *cordon_use_name(unsigned bit);
/* The bit for a JSON spelling, 0 if unknown. */
unsigned cordon_use_from_name(const char *s);

/* True if the build needed the input's bytes (read, exec, load), not only
 * its metadata. Pack stores bytes only for these. */
static inline bool cordon_use_needs_content(unsigned uses) {
    return uses & (CORDON_USE_READ | CORDON_USE_EXEC | CORDON_USE_LOAD);
}

enum cordon_input_flag {
    /* The build modified the file after reading it; hash and size are the
     * content as first read (from the store's snapshot). */
    CORDON_INPUT_CHANGED = 1 << 0,
    /* The content as first read is not known (changed during the build and
     * not in the snapshot, or unreadable): no hash. */
    CORDON_INPUT_UNHASHED = 1 << 1,
    /* The bytes are kept in the store (work tree snapshot). */
    CORDON_INPUT_STORED = 1 << 2,
};

struct cordon_input {
    char *path; /* absolute, normalised */
    enum cordon_ftype type;
    unsigned uses;  /* enum cordon_use bits */
    unsigned flags; /* enum cordon_input_flag bits */
    uint64_t size;
    uint32_t mode; /* permission bits (07777) */
    int64_t mtime_ns;
    uint64_t ino;  /* identity on the recording host: verify's fast path */
    bool has_hash; /* files: content hash known */
    struct cordon_hash hash;
    char *target; /* symlinks: the link's text */
    bool has_listing;
    struct cordon_hash listing; /* dirs that were listed: hash of sorted names */
    int first_pid;              /* first process that used it, 0 if unknown */
    char *category;             /* classification (cordon_classify), NULL until then */
    /* The package that owned it on the recording host, "MANAGER:NAME VERSION"
     * ("dpkg:libc6 2.36-9", VERSION may be absent), NULL for none or
     * unknown (classify.h, cordon_classify_manifest). */
    char *package;
};

struct cordon_output {
    char *path;
    enum cordon_ftype type; /* MISSING: the build deleted a path that existed before it */
    uint64_t size;
    uint32_t mode;
    bool has_hash;
    struct cordon_hash hash;
    char *target;
    int pid; /* last process that wrote it, 0 if unknown */
};

enum cordon_process_flag {
    CORDON_PROC_STATIC = 1 << 0,     /* statically linked: the hook did not see its calls */
    CORDON_PROC_FORKED = 1 << 1,     /* a fork without exec: argv is the parent's */
    CORDON_PROC_UNFINISHED = 1 << 2, /* no exit status was observed */
};

struct cordon_process {
    int pid;
    int ppid;
    char *exe;   /* absolute path of the program, NULL if unknown */
    char **argv; /* NULL-terminated, may be NULL */
    char *cwd;
    int status; /* wait(2) status, valid unless CORDON_PROC_UNFINISHED */
    unsigned flags;
};

struct cordon_env_read {
    char *name;
    char *value;   /* NULL: the variable was absent */
    bool redacted; /* value replaced by "<redacted>" */
    int first_pid;
};

/* Something the recording could not see, so that it never claims more than it saw. */
struct cordon_gap {
    char *kind;   /* "static-exec", "unfinished", "truncated-log", ... */
    char *path;   /* the program or file concerned, may be NULL */
    int pid;      /* 0 if not one process */
    char *detail; /* a sentence for a human, may be NULL */
};

struct cordon_host {
    char *os;     /* uname sysname, "Linux" */
    char *arch;   /* uname machine */
    char *kernel; /* uname release */
    char *distro; /* os-release PRETTY_NAME, may be NULL */
    char *libc;   /* "glibc 2.36", may be NULL */
};

struct cordon_command {
    char **argv; /* NULL-terminated */
    char *cwd;
    char **env;       /* NULL-terminated "NAME=VALUE", sorted, secrets redacted */
    int status;       /* wait(2) status of the command; see `finished` */
    bool finished;    /* false when the recorder was killed before the command ended */
    int64_t start_ns; /* wall clock, ns since the epoch */
    int64_t end_ns;
};

struct cordon_manifest {
    int version;    /* CORDON_MANIFEST_VERSION */
    char *tool;     /* "cordon 0.1.0" */
    char *worktree; /* the directory snapshotted into the store at the start */
    struct cordon_host host;
    struct cordon_command command;

    struct cordon_input *inputs;
    size_t n_inputs, cap_inputs;
    struct cordon_output *outputs;
    size_t n_outputs, cap_outputs;
    struct cordon_process *processes;
    size_t n_processes, cap_processes;
    struct cordon_env_read *env_reads;
    size_t n_env_reads, cap_env_reads;
    struct cordon_gap *gaps;
    size_t n_gaps, cap_gaps;
};

/* A new empty manifest (version set), or NULL on ENOMEM. */
struct cordon_manifest *cordon_manifest_new(void);
/* Frees everything; NULL-tolerant; returns NULL. */
struct cordon_manifest *cordon_manifest_free(struct cordon_manifest *m);

/* Append a zeroed entry with a copy of `path` (or name); the pointer is
 * borrowed and valid until the next add of the same kind. NULL on ENOMEM. */
struct cordon_input *cordon_manifest_add_input(struct cordon_manifest *m, const char *path);
struct cordon_output *cordon_manifest_add_output(struct cordon_manifest *m, const char *path);
struct cordon_process *cordon_manifest_add_process(struct cordon_manifest *m, int pid);
struct cordon_env_read *cordon_manifest_add_env_read(struct cordon_manifest *m, const char *name);
/* Copies all three strings (each may be NULL). 0 or -ENOMEM. */
int cordon_manifest_add_gap(struct cordon_manifest *m, const char *kind, const char *path, int pid,
                            const char *detail);

/* Copy a NULL-terminated string vector (new). NULL on ENOMEM; NULL in gives NULL. */
char **cordon_strv_copy(char *const *v);
char **cordon_strv_free(char **v);
size_t cordon_strv_length(char *const *v);

/* Canonical order: inputs and outputs by path (bytewise), processes by pid,
 * env reads by name, gaps by (kind, path, pid). Also merges duplicate paths
 * (uses OR-ed, the first entry's metadata kept). */
void cordon_manifest_sort(struct cordon_manifest *m);

/* Binary search; the manifest must be sorted. Borrowed or NULL. */
const struct cordon_input *cordon_manifest_find_input(const struct cordon_manifest *m,
                                                      const char *path);
const struct cordon_output *cordon_manifest_find_output(const struct cordon_manifest *m,
                                                        const char *path);

/* Write canonical JSON to `path` ("-" for stdout) through a temporary file
 * and rename(2), so a reader never sees half a manifest. The manifest must be
 * sorted. 0 or -errno with `err` filled. */
int cordon_manifest_write(const struct cordon_manifest *m, const char *path,
                          struct cordon_error *err);

/* Canonical JSON as a new NUL-terminated string (caller frees). NULL on ENOMEM. */
char *cordon_manifest_dumps(const struct cordon_manifest *m);

/* Read and validate a manifest. Every problem is an error naming the file,
 * line and column (JSON syntax) or the field ("inputs[3].hash: expected 32
 * hex digits"): -EINVAL for bad content, -EPROTONOSUPPORT for an unknown
 * version, -errno for I/O. On success *ret is new and sorted. */
int cordon_manifest_read(const char *path, struct cordon_manifest **ret, struct cordon_error *err);
/* The same from memory; `name` is used in messages. */
int cordon_manifest_loadb(const char *buf, size_t len, const char *name,
                          struct cordon_manifest **ret, struct cordon_error *err);

/* Whether an environment variable's value must not be written anywhere
 * (tokens, passwords, keys, credentials): by name. */
bool cordon_env_is_secret(const char *name);

/* The listing hash of a directory (struct cordon_input.listing): XXH3-128
 * of the names of its entries, "." and ".." excluded, sorted bytewise
 * (strcmp), each followed by one NUL byte; an empty directory hashes the
 * empty string. Only names count, not types or contents, because that is
 * what a listing tells the build. 0 or -errno. */
int cordon_listing_hash(const char *dir, struct cordon_hash *ret);
/* The same for a directory open on `fd` (which stays open, and is read
 * from its start). */
int cordon_listing_hash_fd(int fd, struct cordon_hash *ret);
/* The same from a list of names (in any order; "." and ".." are skipped).
 * The array is sorted in place. 0 or -ENOMEM. */
int cordon_listing_hash_names(char **names, size_t n, struct cordon_hash *ret);

/* Fill `h` from this machine (uname, /etc/os-release, gnu_get_libc_version).
 * 0 or -ENOMEM. */
int cordon_host_probe(struct cordon_host *h);
