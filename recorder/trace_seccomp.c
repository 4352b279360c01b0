/* The seccomp supervisor: the recorder's side of the complete path (see
 * trace_seccomp.h). A thread accepts listener fds on a unix socket and
 * answers their notifications.
 *
 * Results. The supervisor answers SECCOMP_USER_NOTIF_FLAG_CONTINUE, so the
 * kernel performs the call and the supervisor never learns its result.
 * Instead it looks the path up itself, just before letting the call run
 * (same user, same moment): that lookup's errno and stat fields go into
 * the record, flagged CORDON_TRACE_SECCOMP. For reads and probes this is
 * the answer the call got, barring a race with another process; writes are
 * recorded as attempts (failing only when the lookup says the call must)
 * and the collector decides outputs by looking at the end, as it does for
 * the hook's writes. */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cordon/trace.h>
#include <cordon/util.h>

#include "hook/enforce.h"
#include "trace_seccomp.h"

/* Linux 6.6; Debian 12's headers predate it. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452
#endif

#define MAX_LISTENERS 1024

/* ---- pure: what a call means ------------------------------------------- */

static void call_init(struct seccomp_call *c, unsigned kind, int path, int dirfd) {
    *c = (struct seccomp_call){
        .kind = kind, .path_arg = path, .dirfd_arg = dirfd, .path2_arg = -1, .dirfd2_arg = -1};
}

static void call_two(struct seccomp_call *c, unsigned kind, int p1, int d1, int p2, int d2) {
    call_init(c, kind, p1, d1);
    c->path2_arg = p2;
    c->dirfd2_arg = d2;
}

bool seccomp_describe(long nr, const uint64_t a[6], struct seccomp_call *c) {
    switch (nr) {
#ifdef __NR_open
    case __NR_open:
        call_init(c, CORDON_TRACE_OPEN, 0, -1);
        c->arg = (uint32_t)a[1];
        return true;
#endif
#ifdef __NR_creat
    case __NR_creat:
        call_init(c, CORDON_TRACE_OPEN, 0, -1);
        c->arg = O_CREAT | O_WRONLY | O_TRUNC;
        return true;
#endif
    case __NR_openat:
        call_init(c, CORDON_TRACE_OPEN, 1, 0);
        c->arg = (uint32_t)a[2];
        return true;
    case __NR_openat2:
        call_init(c, CORDON_TRACE_OPEN, 1, 0);
        c->flags_remote = true;
        return true;
#ifdef __NR_stat
    case __NR_stat:
        call_init(c, CORDON_TRACE_STAT, 0, -1);
        return true;
#endif
#ifdef __NR_lstat
    case __NR_lstat:
        call_init(c, CORDON_TRACE_STAT, 0, -1);
        c->nofollow = true;
        return true;
#endif
    case __NR_newfstatat:
        call_init(c, CORDON_TRACE_STAT, 1, 0);
        c->nofollow = a[3] & AT_SYMLINK_NOFOLLOW;
        c->empty_path = a[3] & AT_EMPTY_PATH;
        break;
    case __NR_statx:
        call_init(c, CORDON_TRACE_STAT, 1, 0);
        c->nofollow = a[2] & AT_SYMLINK_NOFOLLOW;
        c->empty_path = a[2] & AT_EMPTY_PATH;
        break;
#ifdef __NR_access
    case __NR_access:
        call_init(c, CORDON_TRACE_STAT, 0, -1);
        return true;
#endif
    case __NR_faccessat:
        call_init(c, CORDON_TRACE_STAT, 1, 0);
        return true;
    case __NR_faccessat2:
        call_init(c, CORDON_TRACE_STAT, 1, 0);
        c->nofollow = a[3] & AT_SYMLINK_NOFOLLOW;
        c->empty_path = a[3] & AT_EMPTY_PATH;
        break;
#ifdef __NR_readlink
    case __NR_readlink:
        call_init(c, CORDON_TRACE_READLINK, 0, -1);
        c->nofollow = true;
        return true;
#endif
    case __NR_readlinkat:
        call_init(c, CORDON_TRACE_READLINK, 1, 0);
        c->nofollow = true;
        c->empty_path = true;
        return true;
    case __NR_execve:
        call_init(c, CORDON_TRACE_EXEC, 0, -1);
        return true;
    case __NR_execveat:
        call_init(c, CORDON_TRACE_EXEC, 1, 0);
        c->empty_path = a[4] & AT_EMPTY_PATH;
        return true;
#ifdef __NR_unlink
    case __NR_unlink:
        call_init(c, CORDON_TRACE_UNLINK, 0, -1);
        c->nofollow = true;
        return true;
#endif
#ifdef __NR_rmdir
    case __NR_rmdir:
        call_init(c, CORDON_TRACE_RMDIR, 0, -1);
        c->nofollow = true;
        return true;
#endif
    case __NR_unlinkat:
        call_init(c, a[2] & AT_REMOVEDIR ? CORDON_TRACE_RMDIR : CORDON_TRACE_UNLINK, 1, 0);
        c->nofollow = true;
        return true;
#ifdef __NR_rename
    case __NR_rename:
        call_two(c, CORDON_TRACE_RENAME, 0, -1, 1, -1);
        c->nofollow = true;
        return true;
#endif
    case __NR_renameat:
        call_two(c, CORDON_TRACE_RENAME, 1, 0, 3, 2);
        c->nofollow = true;
        return true;
    case __NR_renameat2:
        call_two(c, CORDON_TRACE_RENAME, 1, 0, 3, 2);
        c->nofollow = true;
        c->arg = (uint32_t)a[4];
        return true;
#ifdef __NR_mkdir
    case __NR_mkdir:
        call_init(c, CORDON_TRACE_MKDIR, 0, -1);
        c->arg = (uint32_t)a[1];
        c->nofollow = true;
        return true;
#endif
    case __NR_mkdirat:
        call_init(c, CORDON_TRACE_MKDIR, 1, 0);
        c->arg = (uint32_t)a[2];
        c->nofollow = true;
        return true;
#ifdef __NR_symlink
    case __NR_symlink:
        call_two(c, CORDON_TRACE_SYMLINK, 0, -1, 1, -1);
        c->path1_text = true;
        c->nofollow = true;
        return true;
#endif
    case __NR_symlinkat:
        call_two(c, CORDON_TRACE_SYMLINK, 0, -1, 2, 1);
        c->path1_text = true;
        c->nofollow = true;
        return true;
#ifdef __NR_link
    case __NR_link:
        call_two(c, CORDON_TRACE_LINK, 0, -1, 1, -1);
        c->nofollow = true;
        return true;
#endif
    case __NR_linkat:
        call_two(c, CORDON_TRACE_LINK, 1, 0, 3, 2);
        c->arg = (uint32_t)a[4];
        c->nofollow = !(a[4] & AT_SYMLINK_FOLLOW);
        c->empty_path = a[4] & AT_EMPTY_PATH;
        return true;
    case __NR_chdir:
        call_init(c, CORDON_TRACE_CHDIR, 0, -1);
        return true;
    case __NR_truncate:
        call_init(c, CORDON_TRACE_TRUNCATE, 0, -1);
        return true;
#ifdef __NR_chmod
    case __NR_chmod:
        call_init(c, CORDON_TRACE_CHMOD, 0, -1);
        c->arg = (uint32_t)a[1];
        return true;
#endif
    case __NR_fchmodat:
    case __NR_fchmodat2:
        call_init(c, CORDON_TRACE_CHMOD, 1, 0);
        c->arg = (uint32_t)a[2];
        return true;
#ifdef __NR_utime
    case __NR_utime:
        call_init(c, CORDON_TRACE_UTIME, 0, -1);
        return true;
#endif
#ifdef __NR_utimes
    case __NR_utimes:
        call_init(c, CORDON_TRACE_UTIME, 0, -1);
        return true;
#endif
#ifdef __NR_futimesat
    case __NR_futimesat:
        call_init(c, CORDON_TRACE_UTIME, 1, 0);
        return true;
#endif
    case __NR_utimensat:
        /* A NULL path is futimens(fd): the fd's file. */
        call_init(c, CORDON_TRACE_UTIME, 1, 0);
        c->nofollow = a[3] & AT_SYMLINK_NOFOLLOW;
        c->arg = c->nofollow;
        c->empty_path = true;
        return true;
    default:
        return false;
    }
    /* the stat family: arg says whether the last link was followed */
    c->arg = c->nofollow;
    return true;
}

size_t seccomp_resolve(const char *base, const char *path, bool empty_ok, char *out) {
    if (!path)
        return 0;
    if (!*path) {
        if (!empty_ok || !base || base[0] != '/')
            return 0;
        path = base;
    }
    if (path[0] != '/' && (!base || base[0] != '/'))
        return 0;
    if (cordon_path_join(path[0] == '/' ? "/" : base, path, out, PATH_MAX) < 0)
        return 0;
    return strlen(out);
}

size_t seccomp_proc_self(char *path, int pid) {
    static const char self[] = "/proc/self", thread[] = "/proc/thread-self";
    size_t skip = 0;
    if (!strncmp(path, self, sizeof self - 1) &&
        (path[sizeof self - 1] == '/' || !path[sizeof self - 1]))
        skip = sizeof self - 1;
    else if (!strncmp(path, thread, sizeof thread - 1) &&
             (path[sizeof thread - 1] == '/' || !path[sizeof thread - 1]))
        skip = sizeof thread - 1;
    if (!skip)
        return strlen(path);
    char buf[PATH_MAX];
    int n = snprintf(buf, sizeof buf, "/proc/%d%s", pid, path + skip);
    if (n < 0 || (size_t)n >= sizeof buf)
        return 0;
    memcpy(path, buf, (size_t)n + 1);
    return (size_t)n;
}

/* ---- reading the target ------------------------------------------------ */

/* Read a NUL-terminated string at `addr` in `pid`, split at page
 * boundaries so that an unmapped page after the string ends the read
 * instead of failing it. Returns the length, -1 if unreadable or too long. */
static long read_string(pid_t pid, uint64_t addr, char *out, size_t size) {
    const size_t page = 4096;
    size_t got = 0;
    while (got + 1 < size) {
        size_t want = page - ((addr + got) % page);
        if (want > size - 1 - got)
            want = size - 1 - got;
        struct iovec local = {.iov_base = out + got, .iov_len = want};
        struct iovec remote = {.iov_base = (void *)(uintptr_t)(addr + got), .iov_len = want};
        ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
        if (n <= 0)
            return -1;
        void *nul = memchr(out + got, '\0', (size_t)n);
        if (nul)
            return (char *)nul - out;
        got += (size_t)n;
    }
    return -1;
}

static bool read_mem(pid_t pid, uint64_t addr, void *out, size_t n) {
    struct iovec local = {.iov_base = out, .iov_len = n};
    struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = n};
    return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)n;
}

/* The cwd (dirfd < 0 or AT_FDCWD) or the path of a descriptor of `pid`. */
static bool base_of(pid_t pid, int dirfd, char *out) {
    char proc[64];
    if (dirfd == AT_FDCWD || dirfd < 0)
        snprintf(proc, sizeof proc, "/proc/%d/cwd", (int)pid);
    else
        snprintf(proc, sizeof proc, "/proc/%d/fd/%d", (int)pid, dirfd);
    ssize_t n = readlink(proc, out, PATH_MAX - 1);
    if (n <= 0 || out[0] != '/')
        return false; /* "pipe:[..]", "anon_inode:..." */
    out[n] = '\0';
    static const char deleted[] = " (deleted)";
    size_t dl = sizeof deleted - 1;
    if ((size_t)n > dl && !strcmp(out + n - dl, deleted))
        return false;
    return true;
}

/* ---- the supervisor ---------------------------------------------------- */

struct seccomp_supervisor {
    int lsock;
    int logfd;
    int stop[2];
    pthread_t thread;
    bool running;
    char dir[PATH_MAX];
    char path[PATH_MAX];
    int fds[MAX_LISTENERS];
    size_t n_fds;
    unsigned long observed;
    struct seccomp_notif_sizes sizes;
    char argbuf[CORDON_TRACE_MAX];
    /* enforcement (seccomp_supervisor_start_enforcing): the compiled
     * policy's text and its rules, which point into it */
    char *policy_text;
    struct hook_rules *rules;
    unsigned long refused;
};

static void emit(struct seccomp_supervisor *s, struct cordon_trace_rec *h, const char *s1,
                 const char *s2) {
    char buf[CORDON_TRACE_MAX];
    if (s->logfd < 0)
        return; /* enforcing only: nothing is recorded */
    h->flags |= CORDON_TRACE_SECCOMP;
    size_t n = cordon_trace_encode(buf, h, s1, s1 ? strlen(s1) : 0, s2, s2 ? strlen(s2) : 0);
    (void)!write(s->logfd, buf, n);
}

static void fill_stat(struct cordon_trace_rec *h, const struct stat *st) {
    h->mode = st->st_mode;
    h->dev = st->st_dev;
    h->ino = st->st_ino;
    h->size = (uint64_t)st->st_size;
    h->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

bool seccomp_is_static(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    Elf64_Ehdr eh;
    bool is_static = false;
    if (pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh &&
        !memcmp(eh.e_ident, ELFMAG, SELFMAG) && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
        eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum < 256) {
        Elf64_Phdr ph[256];
        size_t want = (size_t)eh.e_phnum * sizeof *ph;
        if (pread(fd, ph, want, (off_t)eh.e_phoff) == (ssize_t)want) {
            is_static = true;
            for (unsigned i = 0; i < eh.e_phnum; i++)
                if (ph[i].p_type == PT_INTERP)
                    is_static = false;
            for (unsigned i = 0; i < eh.e_phnum && !is_static; i++)
                if (ph[i].p_type == PT_NOTE && seccomp_go_note(fd, ph[i].p_offset, ph[i].p_filesz))
                    is_static = true;
        }
    }
    close(fd);
    return is_static;
}

/* ARGV records of an exec, read from the target's argv array. */
static void emit_argv(struct seccomp_supervisor *s, pid_t pid, uint64_t argv_addr) {
    const size_t room = CORDON_TRACE_MAX - sizeof(struct cordon_trace_rec) - 8;
    char *buf = s->argbuf;
    char arg[PATH_MAX];
    uint64_t ptrs[256];
    unsigned argc = 0;
    if (!argv_addr || s->logfd < 0)
        return;
    /* The array may end just before an unmapped page: read it in pieces. */
    while (argc < 256 && read_mem(pid, argv_addr + argc * 8, &ptrs[argc], 8) && ptrs[argc])
        argc++;
    size_t used = 0;
    unsigned chunk = 0, in_chunk = 0;
    uint16_t flags = 0;
    for (unsigned i = 0; i <= argc; i++) {
        long n = 0;
        if (i < argc) {
            n = read_string(pid, ptrs[i], arg, sizeof arg);
            if (n < 0) {
                n = 0;
                arg[0] = '\0';
                flags |= CORDON_TRACE_TRUNCATED;
            }
        }
        if (i == argc || (in_chunk && used + 1 + (size_t)n > room)) {
            struct cordon_trace_rec h = {.kind = CORDON_TRACE_ARGV,
                                         .pid = pid,
                                         .arg = chunk++,
                                         .mode = argc,
                                         .size = i == argc,
                                         .flags = flags};
            char out[CORDON_TRACE_MAX];
            h.flags |= CORDON_TRACE_SECCOMP;
            size_t len = cordon_trace_encode(out, &h, buf, used, NULL, 0);
            (void)!write(s->logfd, out, len);
            used = in_chunk = 0;
            flags = 0;
            if (i == argc)
                break;
        }
        if ((size_t)n > room) {
            n = (long)room;
            flags |= CORDON_TRACE_TRUNCATED;
        }
        if (in_chunk)
            buf[used++] = 0;
        memcpy(buf + used, arg, (size_t)n);
        used += (size_t)n;
        in_chunk++;
    }
}

/* Fill err and the stat fields from our own lookup of `path`. */
static int lookup(const char *path, bool nofollow, struct cordon_trace_rec *h) {
    struct stat st;
    if ((nofollow ? lstat(path, &st) : stat(path, &st)) < 0)
        return h->err = errno;
    fill_stat(h, &st);
    return 0;
}

/* ---- enforcement ------------------------------------------------------- */

/* What the call does to its first path, as the hook's HOOK_ENF_* flags. */
static int enforce_flags(const struct seccomp_call *c) {
    int nf = c->nofollow ? HOOK_ENF_NOFOLLOW : 0;
    switch ((enum cordon_trace_kind)c->kind) {
    case CORDON_TRACE_OPEN:
        return hook_enforce_open_flags((int)c->arg);
    case CORDON_TRACE_STAT:
    case CORDON_TRACE_READLINK:
        return HOOK_ENF_LOOK | nf;
    case CORDON_TRACE_UNLINK:
    case CORDON_TRACE_RMDIR:
    case CORDON_TRACE_RENAME:
        return HOOK_ENF_WRITE | HOOK_ENF_NOFOLLOW;
    case CORDON_TRACE_TRUNCATE:
        return HOOK_ENF_WRITE | HOOK_ENF_DATA;
    case CORDON_TRACE_CHMOD:
    case CORDON_TRACE_UTIME:
        return HOOK_ENF_WRITE | nf;
    case CORDON_TRACE_MKDIR:
        return HOOK_ENF_CREATE | HOOK_ENF_NOFOLLOW;
    case CORDON_TRACE_LINK:
        return HOOK_ENF_LOOK | nf;
    case CORDON_TRACE_EXEC:
    case CORDON_TRACE_CHDIR:
    case CORDON_TRACE_SYMLINK: /* its first string is the link's text */
    case CORDON_TRACE_NONE:
    case CORDON_TRACE_LIST:
    case CORDON_TRACE_PROC:
    case CORDON_TRACE_ARGV:
    case CORDON_TRACE_FORK:
    case CORDON_TRACE_WAIT:
    case CORDON_TRACE_DLOPEN:
    case CORDON_TRACE_LA_SEARCH:
    case CORDON_TRACE_LA_OPEN:
    case CORDON_TRACE_GETENV:
    case CORDON_TRACE_KIND_MAX:
        break;
    }
    return 0;
}

/* The policy on one path argument of `pid`: 0 (with *res filled), or the
 * errno the call must fail with. */
static int enforce_path(struct seccomp_supervisor *s, pid_t pid, const char *path, int dirfd,
                        int flags, struct hook_resolved *res) {
    char base[PATH_MAX];
    const char *b = NULL;
    if (path[0] != '/') {
        if (!base_of(pid, dirfd, base))
            return dirfd == AT_FDCWD || dirfd < 0 ? ENOENT : EBADF;
        b = base;
    }
    /* hook_enforce_resolve makes /proc/self the target's */
    return hook_enforce_resolve(s->rules, b, path, flags, (int)pid, res);
}

/* Decide a notified call under the policy. 0: let it run; > 0: fail it
 * with that errno; -1: answered already (a redirected open, its fd handed
 * over with SECCOMP_IOCTL_NOTIF_ADDFD). */
static int enforce(struct seccomp_supervisor *s, int fd, const struct seccomp_notif *req,
                   const struct seccomp_call *c, const uint64_t a[6], const char *p1, bool have1,
                   const char *p2, bool have2) {
    pid_t pid = (pid_t)req->pid;
    struct hook_resolved res;
    int e = 0;
    bool path1 = have1 && !c->path1_text && !(c->empty_path && !p1[0]);
    if (path1) {
        int dirfd = c->dirfd_arg >= 0 ? (int)a[c->dirfd_arg] : AT_FDCWD;
        e = enforce_path(s, pid, p1, dirfd, enforce_flags(c), &res);
        /* a link's source: a new name for a read-only file would be
         * writable; a read-only bind mount says EXDEV */
        if (!e && c->kind == CORDON_TRACE_LINK && res.access != HOOK_ACC_RW)
            e = res.access == HOOK_ACC_DENY ? EACCES : EXDEV;
        if (e)
            return e;
    }
    if (have2) {
        int dirfd = c->dirfd2_arg >= 0 ? (int)a[c->dirfd2_arg] : AT_FDCWD;
        int fl = c->kind == CORDON_TRACE_RENAME ? HOOK_ENF_WRITE | HOOK_ENF_NOFOLLOW
                                                : HOOK_ENF_CREATE | HOOK_ENF_NOFOLLOW;
        struct hook_resolved r2;
        e = enforce_path(s, pid, p2, dirfd, fl, &r2);
        if (e)
            return e;
    }
    /* A redirected open (empty, redirect, tmpfs): the call cannot be let
     * through to the path it names, so the supervisor opens the host path
     * and hands the descriptor over as the call's result (Linux 5.14). */
    if (path1 && c->kind == CORDON_TRACE_OPEN && strcmp(res.view, res.host) != 0) {
        int flags = (int)c->arg;
        mode_t mode = 0600;
        if (req->data.nr == __NR_openat)
            mode = (mode_t)a[3];
#ifdef __NR_open
        else if (req->data.nr == __NR_open)
            mode = (mode_t)a[2];
#endif
        int hfd = open(res.host, flags | O_CLOEXEC, mode);
        if (hfd < 0)
            return errno;
        struct seccomp_notif_addfd add = {.id = req->id,
                                          .flags = SECCOMP_ADDFD_FLAG_SEND,
                                          .srcfd = (uint32_t)hfd,
                                          .newfd = 0,
                                          .newfd_flags = (uint32_t)(flags & O_CLOEXEC)};
        int r = ioctl(fd, SECCOMP_IOCTL_NOTIF_ADDFD, &add);
        int err = errno;
        close(hfd);
        if (r >= 0)
            return -1;
        return err == ENOENT ? -1 : err; /* ENOENT: the target is gone */
    }
    return 0;
}

/* getdents64(fd, buf, count) of an enforced static program: the listing is
 * read here, from the target's own open directory (pidfd_getfd, Linux 5.6:
 * the same open file, so its offset moves as the program's would), hidden
 * names are left out, and the rest is written into the program's buffer.
 * Returns the byte count, or -errno; 1 (not an errno): let the call run. */
static long getdents_filtered(struct seccomp_supervisor *s, int lfd,
                              const struct seccomp_notif *req) {
    pid_t pid = (pid_t)req->pid;
    int tfd_num = (int)req->data.args[0];
    uint64_t addr = req->data.args[1];
    size_t count = (size_t)req->data.args[2];
    char host[PATH_MAX], view[PATH_MAX], proc[64];
    snprintf(proc, sizeof proc, "/proc/%d/fd/%d", (int)pid, tfd_num);
    ssize_t hn = readlink(proc, host, sizeof host - 1);
    if (hn <= 0 || host[0] != '/')
        return 1; /* not a directory path: nothing to hide */
    host[hn] = 0;
    size_t vlen = hook_rules_unmap(s->rules, host, (size_t)hn, view);
    if (!vlen)
        return 1;
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0)
        return -EIO;
    int dfd = (int)syscall(SYS_pidfd_getfd, pidfd, tfd_num, 0);
    close(pidfd);
    if (dfd < 0)
        return -EIO; /* fail closed: the listing may hold hidden names */
    char in[32768], out[32768];
    if (count > sizeof out)
        count = sizeof out;
    long ret = 0;
    for (;;) {
        long n = syscall(SYS_getdents64, dfd, in, count);
        if (n <= 0) {
            ret = n < 0 ? -errno : 0;
            break;
        }
        size_t o = 0;
        for (long i = 0; i < n;) {
            struct dirent64 *d = (struct dirent64 *)(in + i);
            if (!hook_rules_entry_hidden(s->rules, view, vlen, d->d_name)) {
                memcpy(out + o, d, d->d_reclen);
                o += d->d_reclen;
            }
            i += d->d_reclen;
        }
        if (o == 0)
            continue; /* every name of this batch was hidden: read on */
        if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) != 0) {
            ret = -ESRCH;
            break;
        }
        struct iovec local = {.iov_base = out, .iov_len = o};
        struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = o};
        ret = process_vm_writev(pid, &local, 1, &remote, 1, 0) == (ssize_t)o ? (long)o : -EFAULT;
        break;
    }
    close(dfd);
    return ret;
}

/* One notification: read, validate, record, let the kernel run the call. */
static void handle(struct seccomp_supervisor *s, int fd, struct seccomp_notif *req,
                   struct seccomp_notif_resp *resp) {
    memset(req, 0, s->sizes.seccomp_notif);
    if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0)
        return; /* the target died meanwhile (ENOENT), or a signal */
    if (req->data.nr == __NR_getdents64) {
        long n = s->rules ? getdents_filtered(s, fd, req) : 1;
        memset(resp, 0, s->sizes.seccomp_notif_resp);
        resp->id = req->id;
        if (n == 1) /* no dirent is 1 byte long: the "let it run" answer */
            resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        else if (n < 0)
            resp->error = (int32_t)n;
        else
            resp->val = n;
        (void)ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp);
        return;
    }
    struct seccomp_call c = {0};
    uint64_t a[6];
    for (int i = 0; i < 6; i++)
        a[i] = req->data.args[i];
    pid_t pid = (pid_t)req->pid;
    char p1[PATH_MAX], p2[PATH_MAX], abs1[PATH_MAX], abs2[PATH_MAX], base[PATH_MAX];
    bool have1 = false, have2 = false;
    uint64_t how_flags = 0;
    bool described = seccomp_describe(req->data.nr, a, &c) && c.kind;
    if (described) {
        if (c.path_arg >= 0 && a[c.path_arg])
            have1 = read_string(pid, a[c.path_arg], p1, sizeof p1) >= 0;
        else if (c.path_arg >= 0 && c.empty_path)
            have1 = (p1[0] = '\0', true); /* utimensat(fd, NULL): the fd */
        if (c.path2_arg >= 0 && a[c.path2_arg])
            have2 = read_string(pid, a[c.path2_arg], p2, sizeof p2) >= 0;
        if (c.flags_remote && !read_mem(pid, a[2], &how_flags, sizeof how_flags))
            have1 = false;
    }
    /* The memory read is only the target's if the call is still pending
     * (seccomp_unotify(2): the pid may have been reused). */
    bool valid = ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) == 0;
    int refuse = 0;
    if (valid && s->rules && described) {
        if (c.flags_remote && have1)
            c.arg = (uint32_t)how_flags;
        refuse = enforce(s, fd, req, &c, a, p1, have1, p2, have2);
        if (refuse < 0)
            return; /* answered: a redirected open */
        if (refuse)
            __atomic_add_fetch(&s->refused, 1, __ATOMIC_RELAXED);
    }
    if (valid && have1 && refuse) {
        /* recorded as the failure the program saw */
        char abs[PATH_MAX];
        int dirfd = c.dirfd_arg >= 0 ? (int)a[c.dirfd_arg] : AT_FDCWD;
        size_t n = 0;
        if (c.path1_text || p1[0] == '/' || base_of(pid, dirfd, base))
            n = seccomp_resolve(p1[0] == '/' || c.path1_text ? NULL : base,
                                c.path1_text ? (have2 ? p2 : "") : p1, false, abs);
        struct cordon_trace_rec h = {
            .kind = (uint16_t)c.kind, .pid = pid, .arg = c.arg, .err = refuse};
        if (n)
            emit(s, &h, abs, NULL);
    } else if (valid && have1) {
        if (c.flags_remote)
            c.arg = (uint32_t)how_flags;
        size_t n1 = 0, n2 = 0;
        if (c.path1_text) {
            n1 = strlen(p1);
            memcpy(abs1, p1, n1 + 1);
        } else {
            int dirfd = c.dirfd_arg >= 0 ? (int)a[c.dirfd_arg] : AT_FDCWD;
            bool need_base = p1[0] != '/';
            if (!need_base || base_of(pid, dirfd, base))
                n1 = seccomp_resolve(need_base ? base : NULL, p1, c.empty_path, abs1);
        }
        if (have2) {
            int dirfd = c.dirfd2_arg >= 0 ? (int)a[c.dirfd2_arg] : AT_FDCWD;
            bool need_base = p2[0] != '/';
            if (!need_base || base_of(pid, dirfd, base))
                n2 = seccomp_resolve(need_base ? base : NULL, p2, false, abs2);
        }
        /* "/proc/self" is the target's, not ours */
        if (n1 && !c.path1_text)
            n1 = seccomp_proc_self(abs1, pid);
        if (n2)
            n2 = seccomp_proc_self(abs2, pid);
        struct cordon_trace_rec h = {.kind = (uint16_t)c.kind, .pid = pid, .arg = c.arg};
        switch ((enum cordon_trace_kind)c.kind) {
        case CORDON_TRACE_OPEN: {
            if (!n1)
                break;
            int acc = (int)c.arg & O_ACCMODE;
            bool creates = c.arg & (O_CREAT | O_TRUNC);
            if (acc == O_RDONLY && !creates) {
                lookup(abs1, c.arg & O_NOFOLLOW, &h);
            } else if (!(c.arg & O_CREAT)) {
                lookup(abs1, false, &h); /* writing an existing file */
            } else if (acc == O_RDWR && !(c.arg & (O_TRUNC | O_EXCL))) {
                /* It reads what was there, if anything: when nothing was,
                 * the call creates the file and reads nothing (else the
                 * new file would be an input read before it existed). */
                struct cordon_trace_rec l = h;
                lookup(abs1, false, &l);
                if (l.err)
                    h.arg = (h.arg & ~(uint32_t)O_ACCMODE) | O_WRONLY;
                else
                    h = l;
            }
            emit(s, &h, abs1, NULL);
            if (acc == O_RDONLY && (c.arg & O_DIRECTORY) && !h.err) {
                /* a directory opened to be read: getdents follows */
                struct cordon_trace_rec l = h;
                l.kind = CORDON_TRACE_LIST;
                l.arg = 0;
                emit(s, &l, abs1, NULL);
            }
            break;
        }
        case CORDON_TRACE_STAT:
        case CORDON_TRACE_CHDIR:
            /* fstat(fd) is newfstatat(fd, "", AT_EMPTY_PATH) in glibc: the
             * open already said it all */
            if (n1 && p1[0]) {
                lookup(abs1, c.nofollow, &h);
                emit(s, &h, abs1, NULL);
            }
            break;
        case CORDON_TRACE_READLINK:
            if (n1) {
                char target[PATH_MAX];
                ssize_t t = readlink(abs1, target, sizeof target - 1);
                if (t < 0) {
                    h.err = errno;
                    emit(s, &h, abs1, NULL);
                } else {
                    target[t] = '\0';
                    emit(s, &h, abs1, target);
                }
            }
            break;
        case CORDON_TRACE_EXEC:
            if (n1) {
                bool st = false;
                char real[PATH_MAX];
                /* busybox runs its applets as /proc/self/exe: name the program */
                if (!strncmp(abs1, "/proc/", 6) && realpath(abs1, real))
                    strcpy(abs1, real);
                if (lookup(abs1, false, &h) == 0)
                    st = seccomp_is_static(abs1);
                h.arg = (st ? CORDON_TRACE_EXEC_STATIC : 0) | CORDON_TRACE_EXEC_SECCOMP;
                emit(s, &h, abs1, NULL);
                if (st)
                    emit_argv(s, pid, req->data.nr == __NR_execveat ? a[2] : a[1]);
            }
            break;
        case CORDON_TRACE_UNLINK:
        case CORDON_TRACE_RMDIR:
        case CORDON_TRACE_TRUNCATE:
        case CORDON_TRACE_CHMOD:
        case CORDON_TRACE_UTIME:
            if (n1) {
                struct stat st;
                if ((c.nofollow ? lstat(abs1, &st) : stat(abs1, &st)) < 0)
                    h.err = errno; /* the call will fail the same way */
                emit(s, &h, abs1, NULL);
            }
            break;
        case CORDON_TRACE_MKDIR:
            if (n1) {
                struct stat st;
                if (lstat(abs1, &st) == 0)
                    h.err = EEXIST;
                emit(s, &h, abs1, NULL);
            }
            break;
        case CORDON_TRACE_RENAME:
        case CORDON_TRACE_LINK:
            if (n1 && n2) {
                struct stat st;
                if (lstat(abs1, &st) < 0)
                    h.err = errno;
                emit(s, &h, abs1, abs2);
            }
            break;
        case CORDON_TRACE_SYMLINK:
            if (n2) {
                struct stat st;
                if (lstat(abs2, &st) == 0)
                    h.err = EEXIST;
                emit(s, &h, abs1, abs2);
            }
            break;
        case CORDON_TRACE_NONE:
        case CORDON_TRACE_LIST:
        case CORDON_TRACE_PROC:
        case CORDON_TRACE_ARGV:
        case CORDON_TRACE_FORK:
        case CORDON_TRACE_WAIT:
        case CORDON_TRACE_DLOPEN:
        case CORDON_TRACE_LA_SEARCH:
        case CORDON_TRACE_LA_OPEN:
        case CORDON_TRACE_GETENV:
        case CORDON_TRACE_KIND_MAX:
            break;
        }
    }
    memset(resp, 0, s->sizes.seccomp_notif_resp);
    resp->id = req->id;
    if (refuse > 0) {
        resp->error = -refuse;
    } else {
        /* CONTINUE lets the kernel look the path up again: a thread of the
         * target, or another process sharing its memory, can change the
         * string between our check and the call (seccomp_unotify(2) says
         * so). Enforcement here holds against a program that does not race
         * itself; docs/hook-runner.md states the gap. */
        resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    }
    (void)ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp); /* ENOENT: it died meanwhile */
}

/* A process hands us its listener: take it and say so. */
static void accept_one(struct seccomp_supervisor *s) {
    int conn = accept4(s->lsock, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0)
        return;
    char byte;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    ssize_t n;
    do
        n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    int fd = -1;
    struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
        c->cmsg_len == CMSG_LEN(sizeof(int)))
        memcpy(&fd, CMSG_DATA(c), sizeof fd);
    if (fd >= 0 && s->n_fds < MAX_LISTENERS) {
        /* The target sleeps while we work: wake it on our CPU (6.6). */
        (void)ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
        s->fds[s->n_fds++] = fd;
        __atomic_add_fetch(&s->observed, 1, __ATOMIC_RELEASE);
        (void)!write(conn, "k", 1);
    } else if (fd >= 0) {
        close(fd); /* the target's calls now fail with ENOSYS; it was told */
    }
    close(conn);
}

static void *supervise(void *arg) {
    struct seccomp_supervisor *s = arg;
    struct pollfd pfd[MAX_LISTENERS + 2];
    struct seccomp_notif *req = calloc(1, s->sizes.seccomp_notif);
    struct seccomp_notif_resp *resp = calloc(1, s->sizes.seccomp_notif_resp);
    if (!req || !resp)
        goto out;
    bool stopping = false;
    for (;;) {
        pfd[0] = (struct pollfd){.fd = stopping ? -1 : s->stop[0], .events = POLLIN};
        pfd[1] = (struct pollfd){.fd = s->lsock, .events = POLLIN};
        for (size_t i = 0; i < s->n_fds; i++)
            pfd[i + 2] = (struct pollfd){.fd = s->fds[i], .events = POLLIN};
        /* Stopping: answer what is pending, then go. */
        int r = poll(pfd, s->n_fds + 2, stopping ? 0 : -1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (pfd[0].revents)
            stopping = true;
        for (size_t i = 0; i < s->n_fds; i++) {
            short ev = pfd[i + 2].revents;
            if (ev & POLLIN)
                handle(s, s->fds[i], req, resp);
            else if (ev & (POLLHUP | POLLERR | POLLNVAL)) {
                /* every process under that filter has ended */
                close(s->fds[i]);
                s->fds[i] = s->fds[--s->n_fds];
                pfd[i + 2] = pfd[s->n_fds + 2];
                i--;
            }
        }
        /* Only now: a listener taken before that loop would be judged by
         * the stale revents of the pfd slot it lands in (an ended filter's
         * POLLHUP), closed at once, and its process's exec fail ENOSYS. */
        if (pfd[1].revents & POLLIN)
            accept_one(s);
    }
out:
    free(req);
    free(resp);
    return NULL;
}

int seccomp_supported(void) {
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        int fd = seccomp_install();
        _exit(fd < 0 ? (-fd & 0xff) : 0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    if (!WIFEXITED(status))
        return -ENOSYS;
    return -WEXITSTATUS(status);
}

/* Start, taking `text` and `rules` (both NULL when only recording; freed
 * on failure). */
static int seccomp_supervisor_start_with(int logfd, char *text, struct hook_rules *rules,
                                         struct seccomp_supervisor **ret) {
    struct seccomp_supervisor *s = calloc(1, sizeof *s);
    if (!s) {
        free(text);
        free(rules);
        return -ENOMEM;
    }
    s->lsock = s->stop[0] = s->stop[1] = -1;
    s->logfd = logfd;
    s->policy_text = text;
    s->rules = rules;
    int r;
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &s->sizes) < 0) {
        r = -errno;
        goto fail;
    }
    /* Our own structs are the smallest the kernel may use. */
    if (s->sizes.seccomp_notif < sizeof(struct seccomp_notif))
        s->sizes.seccomp_notif = sizeof(struct seccomp_notif);
    if (s->sizes.seccomp_notif_resp < sizeof(struct seccomp_notif_resp))
        s->sizes.seccomp_notif_resp = sizeof(struct seccomp_notif_resp);
    const char *tmp = getenv("TMPDIR");
    if (!tmp || tmp[0] != '/' || strlen(tmp) > 64)
        tmp = "/tmp";
    snprintf(s->dir, sizeof s->dir, "%s/cordon-notify-XXXXXX", tmp);
    if (!mkdtemp(s->dir)) {
        r = -errno;
        s->dir[0] = '\0';
        goto fail;
    }
    snprintf(s->path, sizeof s->path, "%s/sock", s->dir);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(s->path) >= sizeof sa.sun_path) {
        r = -ENAMETOOLONG;
        goto fail;
    }
    strcpy(sa.sun_path, s->path);
    s->lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->lsock < 0 || bind(s->lsock, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        listen(s->lsock, 64) < 0 || pipe2(s->stop, O_CLOEXEC) < 0) {
        r = -errno;
        goto fail;
    }
    r = -cordon_thread_start(&s->thread, supervise, s);
    if (r < 0)
        goto fail;
    s->running = true;
    *ret = s;
    return 0;
fail:
    seccomp_supervisor_stop(s);
    return r;
}

int seccomp_supervisor_start_enforcing(int logfd, const char *policy,
                                       struct seccomp_supervisor **ret) {
    int fd = open(policy, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    size_t size = (size_t)st.st_size;
    char *text = malloc(size + 1);
    struct hook_rules *rules = malloc(sizeof *rules);
    if (!text || !rules) {
        close(fd);
        free(text);
        free(rules);
        return -ENOMEM;
    }
    ssize_t got = read(fd, text, size);
    int e = got < 0 ? errno : 0;
    close(fd);
    unsigned line = 0;
    int r = e ? -e : (size_t)got != size ? -EIO : hook_rules_parse(rules, text, size, &line);
    if (r < 0) {
        free(text);
        free(rules);
        return r;
    }
    struct seccomp_supervisor *s = NULL;
    r = seccomp_supervisor_start_with(logfd, text, rules, &s);
    if (r < 0)
        return r;
    *ret = s;
    return 0;
}

unsigned long seccomp_supervisor_refused(const struct seccomp_supervisor *s) {
    return s ? __atomic_load_n(&s->refused, __ATOMIC_RELAXED) : 0;
}

int seccomp_supervisor_start(int logfd, struct seccomp_supervisor **ret) {
    return seccomp_supervisor_start_with(logfd, NULL, NULL, ret);
}

unsigned long seccomp_supervisor_observed(const struct seccomp_supervisor *s) {
    return s ? __atomic_load_n(&s->observed, __ATOMIC_ACQUIRE) : 0;
}

const char *seccomp_supervisor_path(const struct seccomp_supervisor *s) {
    return s->path;
}

unsigned long seccomp_supervisor_stop(struct seccomp_supervisor *s) {
    if (!s)
        return 0;
    if (s->running) {
        (void)!write(s->stop[1], "x", 1);
        pthread_join(s->thread, NULL);
    }
    for (size_t i = 0; i < s->n_fds; i++)
        close(s->fds[i]);
    if (s->lsock >= 0)
        close(s->lsock);
    if (s->stop[0] >= 0)
        close(s->stop[0]);
    if (s->stop[1] >= 0)
        close(s->stop[1]);
    if (s->path[0])
        (void)unlink(s->path);
    if (s->dir[0])
        (void)rmdir(s->dir);
    unsigned long n = s->observed;
    free(s->policy_text);
    free(s->rules);
    free(s);
    return n;
}
