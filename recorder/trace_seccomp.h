/* Internal to the recorder and the hook: the complete path for programs the
 * hook cannot see (static ELF programs), through seccomp user notification.
 *
 * Outline:
 *   1. the recorder checks the kernel (seccomp_supported) and starts a
 *      supervisor (seccomp_supervisor_start) listening on a unix socket
 *      whose path goes into the command's environment as CORDON_NOTIFY;
 *   2. a process about to exec a static program (the launcher's child, or
 *      the hook's exec wrapper) calls seccomp_observe(): no_new_privs, a
 *      filter with a listener, the listener sent to the socket; then execs.
 *      The filter is inherited by every descendant;
 *   3. the supervisor reads each notified call's path(s) from the target's
 *      memory, writes the record the hook would have written (flag
 *      CORDON_TRACE_SECCOMP) and lets the kernel run the call (CONTINUE);
 *   4. seccomp_supervisor_stop() after the command ended.
 *
 * Enforcing (`cordon run --backend hook`): step 3 first decides the call
 * under a policy and answers the error instead of letting it run.
 *
 * seccomp_filter.c (steps 2, the filter) obeys the hook's rules: plain
 * system calls only, no allocation. trace_seccomp.c (1, 3, 4) is the
 * recorder's. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cordon_trace_rec;

/* A system call number no kernel uses, which the filter answers with
 * SECCOMP_PROBE_ERRNO: a process can ask whether it already runs under
 * the recorder's filter (and so must not stack a second one). */
#define SECCOMP_PROBE_NR 0x3ffffff0L
#define SECCOMP_PROBE_ERRNO 131 /* ENOTRECOVERABLE: nothing else returns it here */

/* The hook's system call page (recorder/hook/direct.c): `syscall; ret` at
 * this address, mapped by the hook in each recorded process. The recording
 * filter lets calls made from it (instruction pointer SECCOMP_STUB_ADDR + 2)
 * through: the hook records those itself. x86_64 only. */
#define SECCOMP_STUB_ADDR 0x7c0de0000000UL
#define SECCOMP_STUB_IP (SECCOMP_STUB_ADDR + 2)

/* Install the filter in the calling process and send its listener to the
 * supervisor at `sock` (a unix socket path). Connects first, so that a
 * recorder that is gone leaves the process unfiltered. Sets no_new_privs.
 * 0, or -errno: -ENOSYS/-EINVAL when the kernel lacks the feature.
 * Async-signal-safe; errno is preserved. */
int seccomp_observe(const char *sock);

/* Just the filter: no_new_privs, then the filter. The listener fd
 * (O_CLOEXEC), or -errno. Async-signal-safe. */
int seccomp_install(void);

/* A filter that only answers io_uring_setup with ENOSYS, for a recorded
 * tree the full filter does not cover: the hook cannot see a ring's opens
 * in a dynamic program either. Without CAP_SYS_ADMIN it sets
 * no_new_privs. 0 or -errno. Async-signal-safe. */
int seccomp_refuse_uring(void);

/* For `cordon run --backend hook`, in the runner before it starts the
 * command: a filter that refuses what would step around a path policy
 * (mount and the new mount API, setns, clone/unshare of a user or mount
 * namespace, open_by_handle_at: EPERM; clone3, whose flags a filter cannot
 * read, and io_uring_setup: ENOSYS); with `no_network`, IPv4 and IPv6
 * sockets too (EACCES). Without CAP_SYS_ADMIN it sets no_new_privs. 0 or
 * -errno. Async-signal-safe. */
int seccomp_refuse_escapes(bool no_network);

/* Whether filters installed from now on (in this process and the children
 * it forks) also notify getdents64, so that an enforcing supervisor can
 * leave hidden names out of a static program's listings. */
void seccomp_set_enforcing(bool on);

/* Does the PT_NOTE segment at `off` (`size` bytes) of the ELF open on `fd`
 * hold Go's build id note? A Go program makes its system calls itself, past
 * any libc the hook wraps, so even a dynamically linked one (Debian's `go`,
 * with cgo) is as blind to the hook as a static one. Async-signal-safe;
 * errno is preserved. */
bool seccomp_go_note(int fd, uint64_t off, uint64_t size);

/* True if the calling process already runs under the recorder's filter. */
bool seccomp_observed(void);

/* ---- the supervisor (recorder only) -------------------------------------- */

/* 0 if this kernel has seccomp user notification (checked in a child, since
 * a filter cannot be removed), else -errno (-ENOSYS, -EINVAL, -EPERM). */
int seccomp_supported(void);

struct seccomp_supervisor;

/* Listen on a new socket in a private temporary directory and start the
 * supervisor thread, which writes records to `logfd` (borrowed; stays open
 * until stop). *ret is new; seccomp_supervisor_path() names the socket. */
int seccomp_supervisor_start(int logfd, struct seccomp_supervisor **ret);
const char *seccomp_supervisor_path(const struct seccomp_supervisor *s);
/* The same, enforcing the compiled policy in file `policy` (see
 * hook/enforce.h) on every notified call: a hidden path fails ENOENT, a
 * denied one EACCES, a write under ro EROFS, and an open of a redirected
 * path gets a descriptor of the host path (SECCOMP_IOCTL_NOTIF_ADDFD).
 * `logfd` may be -1: nothing is recorded. Allowed calls still run with
 * SECCOMP_USER_NOTIF_FLAG_CONTINUE, whose check-then-use window a program
 * racing itself can exploit (seccomp_unotify(2)). 0 or -errno (-EINVAL for
 * a file that is not a compiled policy). */
int seccomp_supervisor_start_enforcing(int logfd, const char *policy,
                                       struct seccomp_supervisor **ret);
/* How many calls the policy refused so far. */
unsigned long seccomp_supervisor_refused(const struct seccomp_supervisor *s);
/* How many listeners the supervisor has taken so far. A process that
 * called seccomp_observe() successfully has been counted when it returns. */
unsigned long seccomp_supervisor_observed(const struct seccomp_supervisor *s);
/* Stop the thread (answering what is pending), remove the socket, free.
 * NULL-tolerant. Returns the number of processes that were observed. */
unsigned long seccomp_supervisor_stop(struct seccomp_supervisor *s);

/* Is `path` a static ELF (no PT_INTERP), or a Go program (seccomp_go_note)?
 * false if unreadable or not ELF64. */
bool seccomp_is_static(const char *path);

/* ---- pure parts, unit-tested --------------------------------------------- */

/* What a notified call means for the log. */
struct seccomp_call {
    unsigned kind;     /* enum cordon_trace_kind; 0: not recorded */
    int path_arg;      /* index of the first path argument, -1 if none */
    int dirfd_arg;     /* index of its dirfd argument, -1: relative to the cwd */
    int path2_arg;     /* the second path (rename, link, symlink), -1 if none */
    int dirfd2_arg;    /* its dirfd, -1: the cwd */
    uint32_t arg;      /* the record's arg (open flags, mode, nofollow...) */
    bool nofollow;     /* the lookup does not follow the last link */
    bool empty_path;   /* AT_EMPTY_PATH allowed: "" names the dirfd itself */
    bool flags_remote; /* openat2: the flags are in a struct open_how at args[2] */
    bool path1_text;   /* symlink: the first string is the link's text, not a path */
};

/* Describe system call `nr` with arguments `args`. false if the filter
 * does not notify it (the supervisor lets it run unrecorded). */
bool seccomp_describe(long nr, const uint64_t args[6], struct seccomp_call *ret);

/* Rewrite a leading "/proc/self" or "/proc/thread-self" of `path`
 * (PATH_MAX) to "/proc/PID": the supervisor looks at the target's. Returns
 * the new length, 0 if it does not fit. */
size_t seccomp_proc_self(char *path, int pid);

/* Join `path` to `base` (the cwd or the dirfd's path) and normalise it
 * lexically into `out` (PATH_MAX). An absolute `path` ignores `base`; an
 * empty one names `base` itself when `empty_ok`. Returns the length, or 0
 * if it cannot be made absolute (no base, too long, empty). */
size_t seccomp_resolve(const char *base, const char *path, bool empty_ok, char *out);
