/* cordon: the event wire format between the hook and the recorder.
 *
 * Every process of a recorded build (the hook, libcordon-hook.so, loaded by
 * LD_PRELOAD and LD_AUDIT) appends fixed-layout records to one log file
 * opened O_APPEND, each with a single write(2) of at most CORDON_TRACE_MAX
 * bytes (< PIPE_BUF), so records from concurrent processes never interleave
 * and a crash leaves at most one torn record at the end. The recorder reads
 * the log after the run (or after a crash) and builds the manifest.
 *
 * This header is used by the hook: it declares data only, and the encoder
 * and decoder in recorder/trace.c obey the hook's rules (no malloc, no stdio).
 * docs/trace-format.md describes the layout for humans.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define CORDON_TRACE_MAGIC 0xC0D1u
#define CORDON_TRACE_MAX 4000u /* one record, head included; < PIPE_BUF */

/* The environment contract between `cordon record` and the hook:
 * CORDON_LOG names the log file to append to, CORDON_HOOK the hook library
 * itself (to re-insert into LD_PRELOAD when a program drops it). */
#define CORDON_ENV_LOG "CORDON_LOG"
#define CORDON_ENV_HOOK "CORDON_HOOK"
/* Found beside the hook: the LD_AUDIT module `cordon record` loads, and the
 * trampoline the hook's posix_spawn runs a static program through. */
#define CORDON_AUDIT_MODULE "libcordon-audit.so"
#define CORDON_EXEC_HELPER "cordon-exec"
/* The complete path (`cordon record --complete`): the unix socket to which a
 * process about to exec a static program sends its seccomp listener fd
 * (SCM_RIGHTS). Unset: static programs run unobserved. */
#define CORDON_ENV_NOTIFY "CORDON_NOTIFY"

/* EXEC's arg bits. */
#define CORDON_TRACE_EXEC_STATIC 1u  /* a static ELF: the hook will not run in it */
#define CORDON_TRACE_EXEC_SECCOMP 2u /* it runs under the recorder's seccomp filter */

/* Event kinds. str1/str2 are the record's two strings; "stat fields" are
 * mode, dev, ino, size and mtime_ns from fstat/stat of the object (set only
 * when err is 0). Paths are absolute and lexically normalised (the hook
 * resolves them against the caller's cwd or dirfd). */
/* clang-format off: one entry a line reads better than a reflowed macro */
#define CORDON_TRACE_KINDS(X)                                                                      \
    /* open family. str1 path; arg the open(2) flags; stat fields from fstat(fd). */               \
    X(OPEN, "open")                                                                                \
    /* stat family, access, realpath. str1 path; arg 1 if the last link was not followed. */       \
    X(STAT, "stat")                                                                                \
    /* readlink. str1 path; str2 the link's text on success. */                                    \
    X(READLINK, "readlink")                                                                        \
    /* opendir, scandir, nftw, fts. str1 the directory. */                                         \
    X(LIST, "list")                                                                                \
    /* any exec form, in the caller before the real call (a successful exec does not return),      \
     * and again with err if it failed. str1 the resolved program; arg 1 if it is a static ELF     \
     * (no PT_INTERP): the hook will not run in it. */                                             \
    X(EXEC, "exec")                                                                                \
    /* a new process image, from the hook's constructor. str1 /proc/self/exe; str2 the cwd;        \
     * arg the parent pid. ARGV records follow. */                                                 \
    X(PROC, "proc")                                                                                \
    /* one chunk of argv: str1 holds arguments separated by NULs (len1 covers them all); arg the   \
     * chunk's index, mode the total argc; size 1 on the last chunk. */                            \
    X(ARGV, "argv")                                                                                \
    /* fork (or vfork/clone without exec) seen in the child: arg the parent pid. */                \
    X(FORK, "fork")                                                                                \
    /* wait family reaped a child: arg its wait status, size its pid. */                           \
    X(WAIT, "wait")                                                                                \
    /* writes: str1 the path (and str2 as noted); stat fields of the result where cheap. */        \
    X(UNLINK, "unlink")                                                                            \
    X(RMDIR, "rmdir")                                                                              \
    X(MKDIR, "mkdir")                                                                              \
    X(RENAME, "rename")   /* str1 from, str2 to */                                                 \
    X(LINK, "link")       /* str1 existing, str2 new */                                            \
    X(SYMLINK, "symlink") /* str1 the link's text, str2 the new link */                            \
    X(TRUNCATE, "truncate")                                                                        \
    X(CHMOD, "chmod")                                                                              \
    X(UTIME, "utime")                                                                              \
    X(CHDIR, "chdir")                                                                              \
    /* dlopen: str1 the name asked for; str2 the object's path on success. */                      \
    X(DLOPEN, "dlopen")                                                                            \
    /* LD_AUDIT la_objsearch: str1 a candidate the loader will try. */                             \
    X(LA_SEARCH, "la-search")                                                                      \
    /* LD_AUDIT la_objopen: str1 the object loaded; stat fields. */                                \
    X(LA_OPEN, "la-open")                                                                          \
    /* getenv/secure_getenv: str1 the name; str2 the value when present (arg 1), truncated to      \
     * fit. */                                                                                     \
    X(GETENV, "getenv")
/* clang-format on */

enum cordon_trace_kind {
    CORDON_TRACE_NONE = 0,
#define CORDON_TRACE_ENUM(id, name) CORDON_TRACE_##id,
    CORDON_TRACE_KINDS(CORDON_TRACE_ENUM)
#undef CORDON_TRACE_ENUM
        CORDON_TRACE_KIND_MAX,
};

enum cordon_trace_flag {
    CORDON_TRACE_TRUNCATED = 1 << 0, /* a string was cut to fit the record */
    CORDON_TRACE_AUDIT = 1 << 1,     /* emitted by the LD_AUDIT instance */
    /* written by the recorder's seccomp supervisor before the kernel ran the
     * call: err and the stat fields are the recorder's own lookup of the
     * path at that moment, not the call's result */
    CORDON_TRACE_SECCOMP = 1 << 2,
};

/* The head of every record; str1 then str2 follow, each NUL-terminated and
 * counted in len1/len2 (0 when absent). Native byte order: a log is read on
 * the machine that wrote it. */
struct cordon_trace_rec {
    uint16_t magic; /* CORDON_TRACE_MAGIC */
    uint16_t len;   /* whole record: head + len1 + len2 */
    uint16_t kind;  /* enum cordon_trace_kind */
    uint16_t flags; /* enum cordon_trace_flag */
    int32_t pid;
    int32_t err;   /* 0 on success, else the errno the call failed with */
    uint32_t mode; /* st_mode (type and permission bits) */
    uint32_t arg;  /* kind-specific, see above */
    uint64_t dev;
    uint64_t ino;
    uint64_t size;
    int64_t mtime_ns;
    uint16_t len1;
    uint16_t len2;
    uint32_t reserved;
};
_Static_assert(sizeof(struct cordon_trace_rec) == 64, "trace head is 64 bytes");

/* Encode a record into `buf` (CORDON_TRACE_MAX bytes). `head` supplies every
 * field but magic, len, len1 and len2; s1 and s2 may be NULL. A string that
 * does not fit is cut and CORDON_TRACE_TRUNCATED set (str2 is cut first).
 * Returns the record's length. Async-signal-safe. */
size_t cordon_trace_encode(void *buf, const struct cordon_trace_rec *head, const char *s1,
                           size_t n1, const char *s2, size_t n2);

/* Decode the record at `buf` (of `avail` bytes). On success returns its
 * length and points *ret_s1 / *ret_s2 into buf (NULL when absent); 0 when
 * fewer bytes than a whole record remain (a torn tail); -EINVAL when the
 * bytes are not a record (bad magic, length or string). */
long cordon_trace_decode(const void *buf, size_t avail, const struct cordon_trace_rec **ret_head,
                         const char **ret_s1, const char **ret_s2);

const char *cordon_trace_kind_name(unsigned kind);
