/*
 * probe: perform scripted filesystem accesses and print one result line each.
 *
 * Usage: probe OP PATH [OP PATH ...]
 *
 * For every OP PATH pair the probe performs the operation and prints
 *
 *     OP PATH RESULT
 *
 * on stdout (flushed after every line), where RESULT is "ok" or the symbolic
 * name of the errno ("ENOENT", "EACCES", ...; "E<number>" for unknown ones).
 * The ops "ls" and "content" print their payload instead of "ok":
 *
 *     ls PATH name1,name2,...      (sorted, without . and ..)
 *     content PATH first-line      (without the newline)
 *
 * and the errno name on failure.  Exit status is 0 once all ops have run,
 * 2 on a usage error (odd argument count or unknown op; nothing is run then).
 *
 * Ops:
 *   open        open(O_RDONLY) + close
 *   read        open(O_RDONLY) + read everything + close
 *   write       open(O_WRONLY|O_CREAT|O_TRUNC, 0644) + write "x" + close
 *   append      open(O_WRONLY|O_APPEND) (no create) + write "x" + close
 *   stat        stat()
 *   lstat       lstat()
 *   statx       raw SYS_statx(AT_FDCWD, PATH, 0, STATX_BASIC_STATS)
 *   access      access(F_OK)
 *   faccessat2  raw syscall 439 (AT_FDCWD, PATH, F_OK, 0)
 *   readlink    readlink()
 *   opendir     opendir() + readdir() all + closedir()
 *   mkdir       mkdir(0755)
 *   unlink      unlink()
 *   openat2     raw syscall 437 with struct open_how {O_RDONLY, 0, 0}
 *   rawopen     raw SYS_openat(AT_FDCWD, PATH, O_RDONLY), bypassing libc
 *   exec        fork + execve(PATH, {PATH, NULL}, environ); "ok" if the
 *               execve succeeded, else its errno (the child's exit status
 *               is not reported)
 *   ls          sorted directory listing (see above)
 *   content     first line of the file (see above)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif

/* Same layout as the kernel's struct open_how (linux/openat2.h). */
struct probe_open_how {
    uint64_t flags;
    uint64_t mode;
    uint64_t resolve;
};

struct errno_name {
    int num;
    const char *name;
};

#define E(x) { x, #x }
static const struct errno_name ERRNO_NAMES[] = {
    E(EPERM),        E(ENOENT),     E(ESRCH),     E(EINTR),
    E(EIO),          E(ENXIO),      E(E2BIG),     E(ENOEXEC),
    E(EBADF),        E(ECHILD),     E(EAGAIN),    E(ENOMEM),
    E(EACCES),       E(EFAULT),     E(EBUSY),     E(EEXIST),
    E(EXDEV),        E(ENODEV),     E(ENOTDIR),   E(EISDIR),
    E(EINVAL),       E(ENFILE),     E(EMFILE),    E(ETXTBSY),
    E(EFBIG),        E(ENOSPC),     E(ESPIPE),    E(EROFS),
    E(EMLINK),       E(EPIPE),      E(ENAMETOOLONG), E(ENOSYS),
    E(ENOTEMPTY),    E(ELOOP),      E(EOVERFLOW), E(EOPNOTSUPP),
    E(EDQUOT),       E(ESTALE),     E(ENOMEDIUM), E(ENOTCONN),
    E(ECONNREFUSED), E(ENOTSOCK),   E(EAFNOSUPPORT),
};
#undef E

static const char *errno_name(int err)
{
    static char buf[32];
    for (size_t i = 0; i < sizeof(ERRNO_NAMES) / sizeof(ERRNO_NAMES[0]); i++) {
        if (ERRNO_NAMES[i].num == err)
            return ERRNO_NAMES[i].name;
    }
    snprintf(buf, sizeof(buf), "E%d", err);
    return buf;
}

/* Result convention for the simple ops: 0 = ok, otherwise a positive errno. */
static int rc_errno(long rc)
{
    return rc < 0 ? errno : 0;
}

static int op_open(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    close(fd);
    return 0;
}

static int op_read(const char *path)
{
    char buf[4096];
    ssize_t n;
    int err = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    while ((n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            err = errno;
            break;
        }
    }
    close(fd);
    return err;
}

static int write_x_and_close(int fd)
{
    int err = 0;
    if (fd < 0)
        return errno;
    if (write(fd, "x", 1) != 1)
        err = errno ? errno : EIO;
    if (close(fd) != 0 && err == 0)
        err = errno;
    return err;
}

static int op_write(const char *path)
{
    return write_x_and_close(open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
}

static int op_append(const char *path)
{
    return write_x_and_close(open(path, O_WRONLY | O_APPEND | O_CLOEXEC));
}

static int op_stat(const char *path)
{
    struct stat st;
    return rc_errno(stat(path, &st));
}

static int op_lstat(const char *path)
{
    struct stat st;
    return rc_errno(lstat(path, &st));
}

static int op_statx(const char *path)
{
    struct statx stx;
    return rc_errno(syscall(SYS_statx, AT_FDCWD, path, 0, STATX_BASIC_STATS, &stx));
}

static int op_access(const char *path)
{
    return rc_errno(access(path, F_OK));
}

static int op_faccessat2(const char *path)
{
    return rc_errno(syscall(SYS_faccessat2, AT_FDCWD, path, F_OK, 0));
}

static int op_readlink(const char *path)
{
    char buf[4096];
    return rc_errno(readlink(path, buf, sizeof(buf)));
}

static int op_opendir(const char *path)
{
    int err = 0;
    DIR *d = opendir(path);
    if (!d)
        return errno;
    for (;;) {
        errno = 0;
        if (!readdir(d)) {
            err = errno;
            break;
        }
    }
    closedir(d);
    return err;
}

static int op_mkdir(const char *path)
{
    return rc_errno(mkdir(path, 0755));
}

static int op_unlink(const char *path)
{
    return rc_errno(unlink(path));
}

static int op_openat2(const char *path)
{
    struct probe_open_how how = { .flags = O_RDONLY, .mode = 0, .resolve = 0 };
    long fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
    if (fd < 0)
        return errno;
    close((int)fd);
    return 0;
}

static int op_rawopen(const char *path)
{
    long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY);
    if (fd < 0)
        return errno;
    close((int)fd);
    return 0;
}

static int op_exec(const char *path)
{
    int pfd[2];
    int child_err = 0;
    ssize_t n;
    pid_t pid;

    if (pipe2(pfd, O_CLOEXEC) != 0)
        return errno;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        int err = errno;
        close(pfd[0]);
        close(pfd[1]);
        return err;
    }
    if (pid == 0) {
        char *argv[2];
        int err;
        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        close(pfd[0]);
        if (devnull >= 0) {
            dup2(devnull, STDOUT_FILENO);
            dup2(devnull, STDERR_FILENO);
        }
        argv[0] = (char *)path;
        argv[1] = NULL;
        execve(path, argv, environ);
        err = errno;
        if (write(pfd[1], &err, sizeof(err)) != (ssize_t)sizeof(err))
            _exit(126);
        _exit(127);
    }
    close(pfd[1]);
    do {
        n = read(pfd[0], &child_err, sizeof(child_err));
    } while (n < 0 && errno == EINTR);
    close(pfd[0]);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    if (n == (ssize_t)sizeof(child_err))
        return child_err;
    if (n == 0)
        return 0; /* pipe closed by a successful execve */
    return EIO;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void op_ls(const char *path)
{
    char **names = NULL;
    size_t count = 0, cap = 0;
    struct dirent *de;
    int err = 0;
    DIR *d = opendir(path);

    if (!d) {
        printf("ls %s %s\n", path, errno_name(errno));
        return;
    }
    for (;;) {
        errno = 0;
        de = readdir(d);
        if (!de) {
            err = errno;
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nn = realloc(names, ncap * sizeof(*names));
            if (!nn) {
                err = ENOMEM;
                break;
            }
            names = nn;
            cap = ncap;
        }
        names[count] = strdup(de->d_name);
        if (!names[count]) {
            err = ENOMEM;
            break;
        }
        count++;
    }
    closedir(d);
    if (err) {
        printf("ls %s %s\n", path, errno_name(err));
    } else {
        qsort(names, count, sizeof(*names), cmp_names);
        printf("ls %s ", path);
        for (size_t i = 0; i < count; i++)
            printf("%s%s", i ? "," : "", names[i]);
        printf("\n");
    }
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

static void op_content(const char *path)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    FILE *f = fopen(path, "re");

    if (!f) {
        printf("content %s %s\n", path, errno_name(errno));
        return;
    }
    errno = 0;
    n = getline(&line, &cap, f);
    if (n < 0 && ferror(f)) {
        printf("content %s %s\n", path, errno_name(errno ? errno : EIO));
    } else {
        if (n > 0 && line[n - 1] == '\n')
            line[n - 1] = '\0';
        printf("content %s %s\n", path, n > 0 ? line : "");
    }
    free(line);
    fclose(f);
}

struct op {
    const char *name;
    int (*simple)(const char *path);    /* prints "OP PATH RESULT" */
    void (*custom)(const char *path);   /* prints its own line */
};

static const struct op OPS[] = {
    { "open", op_open, NULL },
    { "read", op_read, NULL },
    { "write", op_write, NULL },
    { "append", op_append, NULL },
    { "stat", op_stat, NULL },
    { "lstat", op_lstat, NULL },
    { "statx", op_statx, NULL },
    { "access", op_access, NULL },
    { "faccessat2", op_faccessat2, NULL },
    { "readlink", op_readlink, NULL },
    { "opendir", op_opendir, NULL },
    { "mkdir", op_mkdir, NULL },
    { "unlink", op_unlink, NULL },
    { "openat2", op_openat2, NULL },
    { "rawopen", op_rawopen, NULL },
    { "exec", op_exec, NULL },
    { "ls", NULL, op_ls },
    { "content", NULL, op_content },
};

static const struct op *find_op(const char *name)
{
    for (size_t i = 0; i < sizeof(OPS) / sizeof(OPS[0]); i++) {
        if (strcmp(OPS[i].name, name) == 0)
            return &OPS[i];
    }
    return NULL;
}

static void usage(void)
{
    fprintf(stderr, "usage: probe OP PATH [OP PATH ...]\nops:");
    for (size_t i = 0; i < sizeof(OPS) / sizeof(OPS[0]); i++)
        fprintf(stderr, " %s", OPS[i].name);
    fprintf(stderr, "\n");
}

int main(int argc, char **argv)
{
    if (argc < 3 || (argc - 1) % 2 != 0) {
        usage();
        return 2;
    }
    for (int i = 1; i < argc; i += 2) {
        if (!find_op(argv[i])) {
            fprintf(stderr, "probe: unknown op '%s'\n", argv[i]);
            usage();
            return 2;
        }
    }
    for (int i = 1; i < argc; i += 2) {
        const struct op *op = find_op(argv[i]);
        const char *path = argv[i + 1];
        if (op->custom) {
            op->custom(path);
        } else {
            int err = op->simple(path);
            printf("%s %s %s\n", op->name, path, err ? errno_name(err) : "ok");
        }
        fflush(stdout);
    }
    return 0;
}
