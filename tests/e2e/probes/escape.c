/* escape: try every route we know of to reach a path that a runner hides.
 * Ported from the Rust tree's escape probe (cordon-testutil/csrc/escape.c),
 * routes renamed and extended for the C tree's escape suite
 * (tests/e2e/run-escape.sh). Built dynamic (escape_probe) and static
 * (escape_static_probe).
 *
 * Usage: escape HIDDEN WRITABLE_DIR
 *
 * HIDDEN is an absolute path (not "/"); WRITABLE_DIR a directory where the
 * probe may create (and removes again) "lnk", "hl", "hl-src", "hl-dst",
 * "mnt" and "umnt". One line per route on stdout:
 *
 *     route NAME reached               it got at HIDDEN (its content, its
 *                                      existence, its name in a listing)
 *     route NAME blocked ERRNO         it did not (ERRNO of the main attempt)
 *     route NAME unsupported ERRNO     the mechanism itself is unavailable
 *
 * Diagnostics go to stderr. Exit status: 1 if any route reached, 0 if none,
 * 2 on a usage error.
 *
 * Natively (HIDDEN present) every route reaches, except: bind-mount needs
 * CAP_SYS_ADMIN (blocked EPERM unprivileged); proc-1-root needs ptrace
 * access to pid 1 (unsupported EACCES unprivileged outside a pid
 * namespace); io_uring-openat, userns-umount, openat2 and faccessat2 print
 * unsupported where the kernel lacks or refuses the mechanism.
 *
 * An error the kernel can only return after it found HIDDEN (EXDEV from
 * link(), EACCES from execve()) counts as reached: a hidden path must be
 * ENOENT by every route.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif
#ifndef SYS_io_uring_enter
#define SYS_io_uring_enter 426
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif
#ifndef RESOLVE_NO_SYMLINKS
#define RESOLVE_NO_SYMLINKS 0x04
#endif
#ifndef RESOLVE_IN_ROOT
#define RESOLVE_IN_ROOT 0x10
#endif

/* Same layout as the kernel's struct open_how (linux/openat2.h). */
struct escape_open_how {
    uint64_t flags;
    uint64_t mode;
    uint64_t resolve;
};

/* ------------------------------------------------------------------------ */
/* errno names                                                              */

struct errno_name {
    int num;
    const char *name;
};

#define E(x)                                                                                       \
    { x, #x }
static const struct errno_name ERRNO_NAMES[] = {
    E(EPERM),        E(ENOENT),  E(ESRCH),     E(EINTR),    E(EIO),          E(ENXIO),
    E(E2BIG),        E(ENOEXEC), E(EBADF),     E(ECHILD),   E(EAGAIN),       E(ENOMEM),
    E(EACCES),       E(EFAULT),  E(EBUSY),     E(EEXIST),   E(EXDEV),        E(ENODEV),
    E(ENOTDIR),      E(EISDIR),  E(EINVAL),    E(ENFILE),   E(EMFILE),       E(ETXTBSY),
    E(EFBIG),        E(ENOSPC),  E(ESPIPE),    E(EROFS),    E(EMLINK),       E(EPIPE),
    E(ENAMETOOLONG), E(ENOSYS),  E(ENOTEMPTY), E(ELOOP),    E(EOVERFLOW),    E(EOPNOTSUPP),
    E(EDQUOT),       E(ESTALE),  E(ENOMEDIUM), E(ENOTCONN), E(ECONNREFUSED), E(ENOTSOCK),
    E(EAFNOSUPPORT),
};
#undef E

static const char *errno_name(int err) {
    static char buf[32];
    for (size_t i = 0; i < sizeof(ERRNO_NAMES) / sizeof(ERRNO_NAMES[0]); i++) {
        if (ERRNO_NAMES[i].num == err)
            return ERRNO_NAMES[i].name;
    }
    snprintf(buf, sizeof(buf), "E%d", err);
    return buf;
}

/* ------------------------------------------------------------------------ */
/* results                                                                  */

/* REACHED: the target's content was read (or it ran); EXISTS: only its
 * existence was learnt (stat, access, an O_PATH descriptor, a listing, an
 * exec refused with EACCES). A backend that hides must prevent both. */
enum status { BLOCKED, UNSUPPORTED, EXISTS, REACHED };

struct res {
    enum status st;
    int err; /* errno for BLOCKED / UNSUPPORTED */
};

static struct res reached(void) {
    struct res r = {REACHED, 0};
    return r;
}

static struct res exists(void) {
    struct res r = {EXISTS, 0};
    return r;
}

static struct res blocked(int err) {
    struct res r = {BLOCKED, err};
    return r;
}

static struct res unsupported(int err) {
    struct res r = {UNSUPPORTED, err};
    return r;
}

/*
 * Combine the results of two attempts of one route: REACHED if either
 * reached, then EXISTS; otherwise the first attempt's result, unless the
 * first attempt's mechanism was unsupported and the second one was not.
 */
static struct res merge(struct res a, struct res b) {
    if (a.st == REACHED || b.st == REACHED)
        return reached();
    if (a.st == EXISTS || b.st == EXISTS)
        return exists();
    if (a.st == UNSUPPORTED && b.st != UNSUPPORTED)
        return b;
    return a;
}

/* ------------------------------------------------------------------------ */
/* globals and helpers                                                      */

static const char *g_hidden;   /* absolute path, no trailing slash */
static const char *g_writable; /* WRITABLE_DIR */
static char g_parent[4096];    /* dirname(HIDDEN) */
static const char *g_base;     /* basename(HIDDEN), points into g_hidden */

static void join(char *out, size_t size, const char *dir, const char *name) {
    size_t len = strlen(dir);
    if (len > 0 && dir[len - 1] == '/')
        snprintf(out, size, "%s%s", dir, name);
    else
        snprintf(out, size, "%s/%s", dir, name);
}

static struct res try_stat(const char *path) {
    struct stat st;
    if (stat(path, &st) == 0)
        return exists();
    return blocked(errno);
}

/* openat(O_RDONLY) (works for files and dirs); if that fails with anything
 * but ENOENT, O_PATH still shows whether the path resolves. */
static struct res try_open_at(int dirfd, const char *path) {
    int err;
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        close(fd);
        return reached();
    }
    err = errno;
    if (err != ENOENT) {
        fd = openat(dirfd, path, O_PATH | O_CLOEXEC);
        if (fd >= 0) {
            close(fd);
            return exists();
        }
    }
    return blocked(err);
}

static struct res try_open(const char *path) {
    return try_open_at(AT_FDCWD, path);
}

/* Write a string to an already existing file (procfs). 0 or errno. */
static int write_file(const char *path, const char *text) {
    int err = 0;
    size_t len = strlen(text);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    if (write(fd, text, len) != (ssize_t)len)
        err = errno ? errno : EIO;
    close(fd);
    return err;
}

/* Make sure the mount point WRITABLE_DIR/name exists: 0 or errno. */
static int make_mountpoint(const char *path) {
    if (mkdir(path, 0700) == 0 || errno == EEXIST)
        return 0;
    return errno;
}

/* ------------------------------------------------------------------------ */
/* routes                                                                   */

static struct res route_open(void) {
    return try_open(g_hidden);
}

static struct res route_openat_rootfd(void) {
    struct res r;
    int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return unsupported(errno);
    r = try_open_at(rootfd, g_hidden + 1);
    close(rootfd);
    return r;
}

static struct res openat2_once(int dirfd, const char *path, uint64_t resolve) {
    struct escape_open_how how = {.flags = O_RDONLY, .mode = 0, .resolve = resolve};
    long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
    if (fd >= 0) {
        close((int)fd);
        return reached();
    }
    if (errno == ENOSYS)
        return unsupported(errno);
    return blocked(errno);
}

/* Plain openat2 (resolve = 0), then RESOLVE_NO_SYMLINKS, then RESOLVE_IN_ROOT
 * relative to an fd of "/". */
static struct res route_openat2(void) {
    struct res r = openat2_once(AT_FDCWD, g_hidden, 0);
    int rootfd;
    r = merge(r, openat2_once(AT_FDCWD, g_hidden, RESOLVE_NO_SYMLINKS));
    rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd >= 0) {
        r = merge(r, openat2_once(rootfd, g_hidden + 1, RESOLVE_IN_ROOT));
        close(rootfd);
    }
    return r;
}

static struct res raw_open_result(long fd) {
    if (fd >= 0) {
        close((int)fd);
        return reached();
    }
    if (errno == ENOSYS)
        return unsupported(errno);
    return blocked(errno);
}

/* Raw SYS_openat, bypassing the libc wrappers (Go, static runtimes). */
static struct res route_raw_openat(void) {
    return raw_open_result(syscall(SYS_openat, AT_FDCWD, g_hidden, O_RDONLY | O_CLOEXEC));
}

/* Raw SYS_open where the architecture has it. */
static struct res route_raw_open(void) {
#ifdef SYS_open
    return raw_open_result(syscall(SYS_open, g_hidden, O_RDONLY | O_CLOEXEC));
#else
    return unsupported(ENOSYS);
#endif
}

/* libc's openat(AT_FDCWD, HIDDEN). */
static struct res route_openat(void) {
    return try_open_at(AT_FDCWD, g_hidden);
}

static struct res route_fstatat(void) {
    struct stat st;
    int dirfd = open(g_parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
    struct res r;
    if (dirfd < 0)
        return blocked(errno);
    if (fstatat(dirfd, g_base, &st, 0) == 0)
        r = exists();
    else
        r = blocked(errno);
    close(dirfd);
    return r;
}

static struct res route_faccessat(void) {
    if (faccessat(AT_FDCWD, g_hidden, R_OK, 0) == 0)
        return exists();
    return blocked(errno);
}

static struct res route_stat(void) {
    return try_stat(g_hidden);
}

static struct res route_lstat(void) {
    struct stat st;
    if (lstat(g_hidden, &st) == 0)
        return exists();
    return blocked(errno);
}

static struct res route_statx(void) {
    struct statx stx;
    if (statx(AT_FDCWD, g_hidden, 0, STATX_BASIC_STATS, &stx) == 0)
        return exists();
    if (errno == ENOSYS)
        return unsupported(errno);
    return blocked(errno);
}

static struct res route_access(void) {
    if (access(g_hidden, F_OK) == 0)
        return exists();
    return blocked(errno);
}

static struct res route_faccessat2(void) {
    if (syscall(SYS_faccessat2, AT_FDCWD, g_hidden, F_OK, 0) == 0)
        return exists();
    if (errno == ENOSYS)
        return unsupported(errno);
    return blocked(errno);
}

/* List dirname(HIDDEN) and look for basename(HIDDEN) among the entries. */
static struct res route_opendir_parent(void) {
    struct dirent *de;
    struct res r = blocked(ENOENT);
    DIR *d = opendir(g_parent);
    if (!d)
        return blocked(errno);
    for (;;) {
        errno = 0;
        de = readdir(d);
        if (!de) {
            if (errno)
                r = blocked(errno);
            break;
        }
        if (strcmp(de->d_name, g_base) == 0) {
            r = exists();
            break;
        }
    }
    closedir(d);
    return r;
}

static int name_filter_none(const struct dirent *d) {
    (void)d;
    return 1;
}

/* scandir(dirname(HIDDEN)): glibc reads with its internal readdir. */
static struct res route_scandir_parent(void) {
    struct dirent **list = NULL;
    struct res r = blocked(ENOENT);
    int n = scandir(g_parent, &list, name_filter_none, alphasort);
    if (n < 0)
        return blocked(errno);
    for (int i = 0; i < n; i++) {
        if (strcmp(list[i]->d_name, g_base) == 0)
            r = exists();
        free(list[i]);
    }
    free(list);
    return r;
}

/* getdents64(2) on dirname(HIDDEN), through glibc's wrapper (2.30+). */
static struct res route_getdents_parent(void) {
    char buf[8192];
    struct res r = blocked(ENOENT);
    int fd = open(g_parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return blocked(errno);
    for (;;) {
        ssize_t n = getdents64(fd, buf, sizeof buf);
        if (n < 0) {
            r = blocked(errno);
            break;
        }
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n;) {
            struct dirent64 *d = (struct dirent64 *)(buf + i);
            if (strcmp(d->d_name, g_base) == 0)
                r = exists();
            i += d->d_reclen;
        }
    }
    close(fd);
    return r;
}

/* WRITABLE_DIR/lnk -> HIDDEN, then stat and open through the link. */
static struct res route_symlink(void) {
    char lnk[4096];
    struct res r;
    join(lnk, sizeof(lnk), g_writable, "lnk");
    unlink(lnk);
    if (symlink(g_hidden, lnk) != 0)
        return unsupported(errno);
    r = merge(try_stat(lnk), try_open(lnk));
    unlink(lnk);
    return r;
}

/* Can this process hard-link a file it owns inside WRITABLE_DIR? 0 or errno. */
static int hardlink_control(void) {
    char src[4096], dst[4096];
    int fd, err = 0;
    join(src, sizeof(src), g_writable, "hl-src");
    join(dst, sizeof(dst), g_writable, "hl-dst");
    unlink(dst);
    fd = open(src, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno;
    close(fd);
    if (link(src, dst) != 0)
        err = errno;
    unlink(dst);
    unlink(src);
    return err;
}

/*
 * link(HIDDEN, WRITABLE_DIR/hl) then stat the new name.  The kernel resolves
 * the old path before anything else, so EXDEV (different mounts) and EPERM
 * (HIDDEN is a directory, or fs.protected_hardlinks refuses a file we do not
 * own) mean HIDDEN was found: REACHED, provided a control link of our own
 * file in WRITABLE_DIR works (else the mechanism itself is unavailable).
 */
static struct res route_hardlink(void) {
    char hl[4096];
    int err, ctl;
    struct res r;
    join(hl, sizeof(hl), g_writable, "hl");
    unlink(hl);
    if (link(g_hidden, hl) == 0) {
        r = try_stat(hl);
        unlink(hl);
        return r;
    }
    err = errno;
    if (err == EXDEV)
        return exists();
    if (err != EPERM)
        return blocked(err);
    ctl = hardlink_control();
    if (ctl != 0)
        return unsupported(ctl);
    return exists();
}

static struct res proc_root_route(const char *root) {
    char path[8192];
    struct stat st;
    if (stat(root, &st) != 0)
        return unsupported(errno);
    snprintf(path, sizeof(path), "%s%s", root, g_hidden);
    return merge(try_stat(path), try_open(path));
}

static struct res route_proc_self_root(void) {
    return proc_root_route("/proc/self/root");
}

/* Needs ptrace-read access to pid 1: "unsupported EACCES" natively when
 * unprivileged outside a pid namespace. */
static struct res route_proc_1_root(void) {
    return proc_root_route("/proc/1/root");
}

/* chdir(dirname) + stat(basename), and chdir("/") + stat(HIDDEN + 1). */
static struct res route_chdir_relative(void) {
    struct res a, b;
    int saved = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);

    if (chdir(g_parent) == 0)
        a = merge(try_stat(g_base), try_open(g_base));
    else
        a = blocked(errno);
    if (chdir("/") == 0)
        b = try_stat(g_hidden + 1);
    else
        b = unsupported(errno);

    if (saved >= 0) {
        if (fchdir(saved) != 0)
            perror("escape: fchdir back");
        close(saved);
    }
    return merge(a, b);
}

/* IORING_OP_OPENAT(AT_FDCWD, HIDDEN) through a hand-made ring. */
static struct res route_io_uring_openat(void) {
    struct io_uring_params p;
    struct io_uring_sqe *sqes;
    struct io_uring_cqe *cqe;
    unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
    unsigned tail, head;
    size_t sq_len, cq_len, sqes_len;
    void *sq_ring, *cq_ring;
    struct res r;
    long ret;
    int fd;

    memset(&p, 0, sizeof(p));
    fd = (int)syscall(SYS_io_uring_setup, 4, &p);
    if (fd < 0)
        return unsupported(errno);

    sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
    sq_ring = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                   IORING_OFF_SQ_RING);
    cq_ring = mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                   IORING_OFF_CQ_RING);
    sqes = mmap(NULL, sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                IORING_OFF_SQES);
    if (sq_ring == MAP_FAILED || cq_ring == MAP_FAILED || sqes == MAP_FAILED) {
        r = unsupported(errno);
        goto out;
    }

    sq_tail = (unsigned *)((char *)sq_ring + p.sq_off.tail);
    sq_mask = (unsigned *)((char *)sq_ring + p.sq_off.ring_mask);
    sq_array = (unsigned *)((char *)sq_ring + p.sq_off.array);
    cq_head = (unsigned *)((char *)cq_ring + p.cq_off.head);
    cq_tail = (unsigned *)((char *)cq_ring + p.cq_off.tail);
    cq_mask = (unsigned *)((char *)cq_ring + p.cq_off.ring_mask);

    tail = *sq_tail;
    memset(&sqes[0], 0, sizeof(sqes[0]));
    sqes[0].opcode = IORING_OP_OPENAT;
    sqes[0].fd = AT_FDCWD;
    sqes[0].addr = (uint64_t)(uintptr_t)g_hidden;
    sqes[0].len = 0; /* mode */
    sqes[0].open_flags = O_RDONLY | O_CLOEXEC;
    sqes[0].user_data = 1;
    sq_array[tail & *sq_mask] = 0;
    __atomic_store_n(sq_tail, tail + 1, __ATOMIC_RELEASE);

    do {
        ret = syscall(SYS_io_uring_enter, fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0);
    } while (ret < 0 && errno == EINTR);
    if (ret < 0) {
        r = unsupported(errno);
        goto out;
    }

    head = *cq_head;
    if (head == __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE)) {
        fprintf(stderr, "escape: io_uring: no completion\n");
        r = unsupported(EIO);
        goto out;
    }
    cqe = (struct io_uring_cqe *)((char *)cq_ring + p.cq_off.cqes) + (head & *cq_mask);
    if (cqe->res >= 0) {
        close(cqe->res);
        r = reached();
    } else if (cqe->res == -EINVAL || cqe->res == -EOPNOTSUPP) {
        r = unsupported(-cqe->res); /* kernel without IORING_OP_OPENAT */
    } else {
        r = blocked(-cqe->res);
    }
    __atomic_store_n(cq_head, head + 1, __ATOMIC_RELEASE);

out:
    if (sq_ring != MAP_FAILED)
        munmap(sq_ring, sq_len);
    if (cq_ring != MAP_FAILED)
        munmap(cq_ring, cq_len);
    if (sqes != MAP_FAILED)
        munmap(sqes, sqes_len);
    close(fd);
    return r;
}

/*
 * Step "anc" (a copy of an ancestor of HIDDEN) one level up: "/a/b" -> "/a",
 * "/a" -> "/".  Returns 0 once "anc" already was "/".
 */
static int next_ancestor(char *anc) {
    if (strcmp(anc, "/") == 0)
        return 0;
    *strrchr(anc, '/') = '\0';
    if (anc[0] == '\0')
        strcpy(anc, "/");
    return 1;
}

/*
 * Non-recursive bind of ancestor "anc" of HIDDEN onto "mnt", stat the path
 * corresponding to HIDDEN under it, unmount again.  A non-recursive bind
 * shows what lies *under* any mount stacked below "anc" (e.g. a tmpfs
 * covering HIDDEN or one of its parents).
 */
static struct res bind_and_stat(const char *anc, const char *mnt) {
    char path[8192];
    struct res r;
    /* HIDDEN relative to anc, always starting with '/'. */
    const char *rel = strcmp(anc, "/") == 0 ? g_hidden : g_hidden + strlen(anc);
    if (mount(anc, mnt, NULL, MS_BIND, NULL) != 0)
        return blocked(errno);
    snprintf(path, sizeof(path), "%s%s", mnt, rel);
    r = try_stat(path);
    if (umount2(mnt, MNT_DETACH) != 0)
        perror("escape: umount2 of bind mount");
    return r;
}

/*
 * Non-recursive bind of dirname(HIDDEN) onto WRITABLE_DIR/mnt, then stat the
 * basename under it; then the same for every further ancestor up to "/".
 * The reported errno is that of the dirname attempt.  Needs CAP_SYS_ADMIN:
 * natively as an unprivileged user this prints "blocked EPERM" (expected,
 * not a failure of the probe); as root it REACHES.
 */
static struct res route_bind_mount(void) {
    char mnt[4096], anc[4096];
    struct res r;
    int err;
    join(mnt, sizeof(mnt), g_writable, "mnt");
    err = make_mountpoint(mnt);
    if (err)
        return unsupported(err);
    snprintf(anc, sizeof(anc), "%s", g_parent);
    r = bind_and_stat(anc, mnt);
    while (r.st != REACHED && next_ancestor(anc))
        r = merge(r, bind_and_stat(anc, mnt));
    rmdir(mnt);
    return r;
}

/* Child side of userns-umount; runs in a fresh user + mount namespace. */
static struct res userns_child(uid_t uid, gid_t gid, const char *umnt) {
    char map[64], anc[4096];
    struct res r;
    int err;

    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
        return unsupported(errno);
    /* setgroups may be missing on old kernels; gid_map then tells. */
    write_file("/proc/self/setgroups", "deny");
    /* The maps may be refused (mapping uid 0 needs CAP_SETFCAP since Linux
     * 5.12), but the new namespace's full capabilities do not depend on
     * them, so go on and try the mounts regardless. */
    snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
    if ((err = write_file("/proc/self/uid_map", map)) != 0)
        fprintf(stderr, "escape: userns-umount: uid_map: %s (going on)\n", strerror(err));
    snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
    if ((err = write_file("/proc/self/gid_map", map)) != 0)
        fprintf(stderr, "escape: userns-umount: gid_map: %s (going on)\n", strerror(err));

    /* A mount namespace created together with a user namespace turns shared
     * mounts into slaves, so nothing below propagates out of it; make
     * everything private anyway. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        perror("escape: userns-umount: make-rprivate");
    r = try_stat(g_hidden);

    /* Non-recursive bind of every ancestor, looking under stacked mounts. */
    snprintf(anc, sizeof(anc), "%s", g_parent);
    do {
        r = merge(r, bind_and_stat(anc, umnt));
    } while (next_ancestor(anc));

    /* Lazily unmount every ancestor (a few times, for stacked mounts). */
    snprintf(anc, sizeof(anc), "%s", g_parent);
    do {
        for (int i = 0; i < 4; i++) {
            int rc = umount2(anc, MNT_DETACH);
            r = merge(r, try_stat(g_hidden));
            if (rc != 0)
                break;
        }
    } while (next_ancestor(anc));
    return r;
}

/*
 * fork; the child unshares a user + mount namespace (unsupported if refused),
 * maps its own uid/gid, makes all mounts private, then tries non-recursive
 * binds of every ancestor of HIDDEN and lazy unmounts of every ancestor,
 * stat'ing HIDDEN after each attempt.  The result comes back through a pipe.
 */
static struct res route_userns_umount(void) {
    char umnt[4096];
    uid_t uid = getuid();
    gid_t gid = getgid();
    struct res r;
    int pfd[2], err;
    ssize_t n;
    pid_t pid;

    join(umnt, sizeof(umnt), g_writable, "umnt");
    err = make_mountpoint(umnt);
    if (err)
        return unsupported(err);
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        err = errno;
        rmdir(umnt);
        return unsupported(err);
    }
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        err = errno;
        close(pfd[0]);
        close(pfd[1]);
        rmdir(umnt);
        return unsupported(err);
    }
    if (pid == 0) {
        close(pfd[0]);
        r = userns_child(uid, gid, umnt);
        if (write(pfd[1], &r, sizeof(r)) != (ssize_t)sizeof(r))
            _exit(1);
        _exit(0);
    }
    close(pfd[1]);
    do {
        n = read(pfd[0], &r, sizeof(r));
    } while (n < 0 && errno == EINTR);
    close(pfd[0]);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    rmdir(umnt);
    if (n != (ssize_t)sizeof(r)) {
        fprintf(stderr, "escape: userns-umount: child sent no result\n");
        return unsupported(EIO);
    }
    return r;
}

/*
 * fork + execve(HIDDEN).  ENOENT: blocked.  Success, or an error that needs
 * the file to exist (EACCES: not executable or a directory, ENOEXEC: not a
 * valid executable, ETXTBSY): REACHED.  A successfully exec'd child is
 * killed right away.
 */
static struct res route_execve(void) {
    int pfd[2], err = 0;
    ssize_t n;
    pid_t pid;

    if (pipe2(pfd, O_CLOEXEC) != 0)
        return unsupported(errno);
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        err = errno;
        close(pfd[0]);
        close(pfd[1]);
        return unsupported(err);
    }
    if (pid == 0) {
        char *argv[2];
        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        close(pfd[0]);
        /* Keep our stdout clean for the route lines. */
        if (devnull >= 0)
            dup2(devnull, STDOUT_FILENO);
        else
            dup2(STDERR_FILENO, STDOUT_FILENO);
        argv[0] = (char *)g_hidden;
        argv[1] = NULL;
        execve(g_hidden, argv, environ);
        err = errno;
        if (write(pfd[1], &err, sizeof(err)) != (ssize_t)sizeof(err))
            _exit(126);
        _exit(127);
    }
    close(pfd[1]);
    do {
        n = read(pfd[0], &err, sizeof(err));
    } while (n < 0 && errno == EINTR);
    close(pfd[0]);
    if (n == 0)
        kill(pid, SIGKILL); /* execve succeeded; do not let HIDDEN run */
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    if (n == 0)
        return reached();
    if (n != (ssize_t)sizeof(err))
        return unsupported(EIO);
    if (err == EACCES || err == ENOEXEC || err == ETXTBSY)
        return exists();
    return blocked(err);
}

/* ------------------------------------------------------------------------ */

struct route {
    const char *name;
    struct res (*fn)(void);
};

static const struct route ROUTES[] = {
    {"open", route_open},
    {"openat", route_openat},
    {"openat-rootfd", route_openat_rootfd},
    {"openat2", route_openat2},
    {"raw-openat", route_raw_openat},
    {"raw-open", route_raw_open},
    {"stat", route_stat},
    {"lstat", route_lstat},
    {"fstatat", route_fstatat},
    {"statx", route_statx},
    {"access", route_access},
    {"faccessat", route_faccessat},
    {"faccessat2", route_faccessat2},
    {"opendir", route_opendir_parent},
    {"scandir", route_scandir_parent},
    {"getdents64", route_getdents_parent},
    {"symlink", route_symlink},
    {"hardlink", route_hardlink},
    {"proc-self-root", route_proc_self_root},
    {"proc-1-root", route_proc_1_root},
    {"chdir-relative", route_chdir_relative},
    {"io_uring-openat", route_io_uring_openat},
    {"bind-mount", route_bind_mount},
    {"userns-umount", route_userns_umount},
    {"execve", route_execve},
};

int main(int argc, char **argv) {
    static char hidden[4096];
    size_t len;
    char *slash;
    int any_reached = 0;

    if (argc != 3 || argv[1][0] != '/' || argv[2][0] == '\0') {
        fprintf(stderr, "usage: escape HIDDEN WRITABLE_DIR\n"
                        "  HIDDEN: absolute path hidden by the sandbox (not /)\n"
                        "  WRITABLE_DIR: directory the probe may create entries in\n");
        return 2;
    }
    len = strlen(argv[1]);
    if (len >= sizeof(hidden)) {
        fprintf(stderr, "escape: HIDDEN too long\n");
        return 2;
    }
    memcpy(hidden, argv[1], len + 1);
    while (len > 1 && hidden[len - 1] == '/')
        hidden[--len] = '\0';
    if (strcmp(hidden, "/") == 0) {
        fprintf(stderr, "escape: HIDDEN must not be /\n");
        return 2;
    }
    g_hidden = hidden;
    g_writable = argv[2];
    slash = strrchr(hidden, '/');
    g_base = slash + 1;
    if (slash == hidden) {
        strcpy(g_parent, "/");
    } else {
        memcpy(g_parent, hidden, (size_t)(slash - hidden));
        g_parent[slash - hidden] = '\0';
    }

    for (size_t i = 0; i < sizeof(ROUTES) / sizeof(ROUTES[0]); i++) {
        struct res r = ROUTES[i].fn();
        if (r.st == REACHED || r.st == EXISTS) {
            any_reached = 1;
            printf("route %s reached\n", ROUTES[i].name);
        } else {
            printf("route %s %s %s\n", ROUTES[i].name, r.st == BLOCKED ? "blocked" : "unsupported",
                   errno_name(r.err));
        }
        fflush(stdout);
    }
    return any_reached ? 1 : 0;
}
