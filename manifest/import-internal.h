/* What the import parsers share (manifest/import*.c only): the builder that
 * numbers events, makes paths absolute against each process's working
 * directory or a dirfd, and keeps the process and descriptor tables.
 *
 * Allocation failures are sticky: a builder function that cannot allocate
 * sets imp->oom and does nothing more; each parser returns -ENOMEM at its
 * end when it is set, so the parsers need not check every call.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cordon/import.h>

/* The dirfd argument meaning "the working directory" (Linux AT_FDCWD). */
#define IMPORT_AT_FDCWD (-100)
/* Warnings kept (the rest are only counted). */
#define IMPORT_MAX_WARNINGS 200

struct import_fd {
    long long fd;
    char *path;
};

struct import_proc {
    int pid;
    int ppid;
    char *exe;
    char **argv;
    char *cwd;  /* absolute, relative (a chdir before the cwd was known), or NULL */
    int status; /* wait(2) status */
    bool ended;
    bool execd;
    struct import_fd *fds;
    size_t n_fds, cap_fds;
};

struct cordon_import {
    enum cordon_import_format format;
    bool oom;
    struct cordon_import_event *ev;
    size_t n_ev, cap_ev;
    struct cordon_map *names; /* interned syscall names */
    char **name_list;
    size_t n_names, cap_names;
    struct cordon_map *procs; /* "pid" -> struct import_proc* */
    struct import_proc **plist;
    size_t n_plist, cap_plist;
    int root; /* the first pid seen, 0 before */
    char *initial_cwd;
    char *home;      /* --home, or NULL */
    char **root_env; /* the traced command's environment, when the log shows it (strace -v) */
    char **warnings;
    size_t n_warnings, cap_warnings;
    size_t problems;
    size_t understood;
};

void import_warn(struct cordon_import *imp, const char *file, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Make `pid` known (child of `ppid`, 0 if unknown; a new child inherits its
 * parent's program, argv, cwd and descriptors). Returns it, NULL on ENOMEM. */
struct import_proc *import_process(struct cordon_import *imp, int pid, int ppid);
struct import_proc *import_find(const struct cordon_import *imp, int pid);
/* `pid` was created by `parent` (fork, clone, vfork). */
void import_spawned(struct cordon_import *imp, int pid, int parent);
/* `pid` now runs `exe` (resolved against its cwd) with `argv` (stolen,
 * NULL-terminated, may be NULL). */
void import_executed(struct cordon_import *imp, int pid, const char *exe, char **argv);
/* A successful chdir (resolved against the current cwd). */
void import_set_cwd(struct cordon_import *imp, int pid, const char *dir);
/* `fd` of `pid` now names `path` (resolved), or nothing (NULL: closed). */
void import_set_fd(struct cordon_import *imp, int pid, long long fd, const char *path);
/* The path `fd` of `pid` names, or NULL. */
const char *import_fd_path(const struct cordon_import *imp, int pid, long long fd);
/* `path` made absolute against `dirfd` (IMPORT_AT_FDCWD: the cwd) into
 * `out` (PATH_MAX bytes), normalised. A relative path with no known base
 * stays relative (folded). Returns true when the result is absolute. */
bool import_absolute(const struct cordon_import *imp, int pid, long long dirfd, const char *path,
                     char *out);
/* An absolute path normalised into `out` (PATH_MAX): the part up to its
 * last ".." resolved on this host when it exists (a ".." after a symlink is
 * not the lexical parent), the rest lexically. */
void import_canon(const char *p, char *out);
/* One access. `err` is a Linux errno, 0 for success. */
void import_event(struct cordon_import *imp, int pid, uint64_t t_ns, enum cordon_import_op op,
                  long long dirfd, const char *path, int err, const char *syscall);
/* `pid` ended with wait(2) status `status`. */
void import_ended(struct cordon_import *imp, int pid, int status);

/* Small text helpers. */
int import_errno_of_name(const char *name, size_t len);  /* 0 if unknown */
int import_signal_of_name(const char *name, size_t len); /* Linux number, 0 if unknown */
/* The op of open flags named in text ("O_WRONLY|O_CREAT"). */
enum cordon_import_op import_op_of_flags_text(const char *flags, size_t len);
/* A macOS/BSD errno in Linux numbering. */
int import_errno_from_bsd(int n);
/* Up to 60 characters of a line, for a warning, into `out` (96 bytes). */
const char *import_excerpt(const char *line, size_t len, char *out);
/* "name.PID" -> PID, 0 if the name does not end so. */
int import_pid_of_file_name(const char *name);
