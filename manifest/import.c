/* Importing other tracers' logs: the part every format shares.
 *
 * The parsers (import_strace.c, import_fs_usage.c, import_dtruss.c,
 * import_kdump.c) read lines and call the builder here, which numbers
 * events, resolves paths against each process's working directory or a
 * directory descriptor, and keeps the process table. cordon_import_build()
 * then decides, per path, what it was to the build (an input used before any
 * write, an output, or a temporary), looks at it on this host (stat, hash),
 * and writes the processes and the coverage gaps, the way the recorder's
 * collector does for its own log.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cordon/classify.h>
#include <cordon/error.h>
#include <cordon/hash.h>
#include <cordon/import.h>
#include <cordon/manifest.h>
#include <cordon/util.h>

#include "import-internal.h"

static const char *const format_names[CORDON_IMPORT_FORMAT_MAX] = {
    [CORDON_IMPORT_STRACE] = "strace",
    [CORDON_IMPORT_FS_USAGE] = "fs_usage",
    [CORDON_IMPORT_DTRUSS] = "dtruss",
    [CORDON_IMPORT_KDUMP] = "kdump",
};

const char *cordon_import_format_name(enum cordon_import_format f) {
    return (unsigned)f < CORDON_IMPORT_FORMAT_MAX ? format_names[f] : NULL;
}

enum cordon_import_format cordon_import_format_from_name(const char *name) {
    if (!name)
        return CORDON_IMPORT_FORMAT_INVALID;
    for (int i = 0; i < CORDON_IMPORT_FORMAT_MAX; i++)
        if (!strcmp(name, format_names[i]))
            return (enum cordon_import_format)i;
    if (!strcmp(name, "fs-usage"))
        return CORDON_IMPORT_FS_USAGE;
    if (!strcmp(name, "ktrace"))
        return CORDON_IMPORT_KDUMP;
    return CORDON_IMPORT_FORMAT_INVALID;
}

static const char *const op_names[CORDON_IMPORT_OP_MAX] = {
    [CORDON_IMPORT_READ] = "read",     [CORDON_IMPORT_UPDATE] = "update",
    [CORDON_IMPORT_WRITE] = "write",   [CORDON_IMPORT_CREATE] = "create",
    [CORDON_IMPORT_DELETE] = "delete", [CORDON_IMPORT_STAT] = "stat",
    [CORDON_IMPORT_PROBE] = "probe",   [CORDON_IMPORT_READLINK] = "readlink",
    [CORDON_IMPORT_LIST] = "list",     [CORDON_IMPORT_EXEC] = "exec",
    [CORDON_IMPORT_CHDIR] = "chdir",
};

const char *cordon_import_op_name(enum cordon_import_op op) {
    return (unsigned)op < CORDON_IMPORT_OP_MAX ? op_names[op] : NULL;
}

/* ---- lifecycle ----------------------------------------------------------- */

struct cordon_import *cordon_import_new(enum cordon_import_format format) {
    struct cordon_import *imp = calloc(1, sizeof *imp);
    if (!imp)
        return NULL;
    imp->format = format;
    imp->names = cordon_map_new(256);
    imp->procs = cordon_map_new(256);
    if (!imp->names || !imp->procs)
        return cordon_import_free(imp);
    return imp;
}

static void proc_free(struct import_proc *p) {
    if (!p)
        return;
    free(p->exe);
    cordon_strv_free(p->argv);
    free(p->cwd);
    for (size_t i = 0; i < p->n_fds; i++)
        free(p->fds[i].path);
    free(p->fds);
    free(p);
}

struct cordon_import *cordon_import_free(struct cordon_import *imp) {
    if (!imp)
        return NULL;
    for (size_t i = 0; i < imp->n_ev; i++)
        free(imp->ev[i].path);
    free(imp->ev);
    for (size_t i = 0; i < imp->n_names; i++)
        free(imp->name_list[i]);
    free(imp->name_list);
    cordon_map_free(imp->names);
    for (size_t i = 0; i < imp->n_plist; i++)
        proc_free(imp->plist[i]);
    free(imp->plist);
    cordon_map_free(imp->procs);
    free(imp->initial_cwd);
    free(imp->home);
    cordon_strv_free(imp->root_env);
    for (size_t i = 0; i < imp->n_warnings; i++)
        free(imp->warnings[i]);
    free(imp->warnings);
    free(imp);
    return NULL;
}

int cordon_import_set_cwd(struct cordon_import *imp, const char *dir) {
    if (!dir || dir[0] != '/')
        return -EINVAL;
    char *d = strdup(dir);
    if (!d)
        return -ENOMEM;
    cordon_path_normalize(d);
    free(imp->initial_cwd);
    imp->initial_cwd = d;
    for (size_t i = 0; i < imp->n_plist; i++)
        if (!imp->plist[i]->cwd)
            imp->plist[i]->cwd = cordon_strdup0(d);
    return 0;
}

int cordon_import_set_home(struct cordon_import *imp, const char *dir) {
    if (!dir || dir[0] != '/')
        return -EINVAL;
    char *d = strdup(dir);
    if (!d)
        return -ENOMEM;
    cordon_path_normalize(d);
    free(imp->home);
    imp->home = d;
    return 0;
}

size_t cordon_import_n_warnings(const struct cordon_import *imp) {
    return imp->n_warnings;
}
const char *cordon_import_warning(const struct cordon_import *imp, size_t i) {
    return i < imp->n_warnings ? imp->warnings[i] : NULL;
}
size_t cordon_import_n_problems(const struct cordon_import *imp) {
    return imp->problems;
}
size_t cordon_import_n_understood(const struct cordon_import *imp) {
    return imp->understood;
}
const struct cordon_import_event *cordon_import_events(const struct cordon_import *imp,
                                                       size_t *ret_n) {
    *ret_n = imp->n_ev;
    return imp->ev;
}

int cordon_import_parse(struct cordon_import *imp, const struct cordon_import_source *srcs,
                        size_t n, struct cordon_error *err) {
    switch (imp->format) {
    case CORDON_IMPORT_STRACE:
        return cordon_import_strace(imp, srcs, n, err);
    case CORDON_IMPORT_FS_USAGE:
        return cordon_import_fs_usage(imp, srcs, n, err);
    case CORDON_IMPORT_DTRUSS:
        return cordon_import_dtruss(imp, srcs, n, err);
    case CORDON_IMPORT_KDUMP:
        return cordon_import_kdump(imp, srcs, n, err);
    case CORDON_IMPORT_FORMAT_MAX:
    case CORDON_IMPORT_FORMAT_INVALID:
    default:
        break;
    }
    return cordon_error_set(err, EINVAL, NULL, 0, 0, "unknown import format");
}

/* ---- loading ------------------------------------------------------------- */

static int read_all(const char *path, struct cordon_import_source *src, struct cordon_error *err) {
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cordon_error_set(err, errno, path, 0, 0, "cannot open '%s'", path);
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            cordon_strbuf_release(&sb);
            return cordon_error_set(err, e, path, 0, 0, "cannot read '%s'", path);
        }
        if (n == 0)
            break;
        cordon_strbuf_addn(&sb, buf, (size_t)n);
    }
    if (sb.failed) {
        cordon_strbuf_release(&sb);
        return cordon_error_set(err, ENOMEM, path, 0, 0, "out of memory reading '%s'", path);
    }
    src->len = sb.len;
    src->text = cordon_strbuf_detach(&sb);
    if (!src->text) {
        src->text = strdup("");
        src->len = 0;
    }
    src->name = strdup(path);
    if (!src->text || !src->name)
        return cordon_error_set(err, ENOMEM, path, 0, 0, "out of memory");
    return 0;
}

int import_pid_of_file_name(const char *name) {
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    const char *dot = strrchr(base, '.');
    if (!dot || !dot[1])
        return 0;
    long v = 0;
    for (const char *p = dot + 1; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        v = v * 10 + (*p - '0');
        if (v > INT32_MAX)
            return 0;
    }
    return (int)v;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The -ff files of `log`: in a directory, or beside a prefix. */
static int ff_files(const char *log, bool is_dir, char ***ret, size_t *ret_n,
                    struct cordon_error *err) {
    char dir[PATH_MAX], prefix[PATH_MAX];
    if (is_dir) {
        snprintf(dir, sizeof dir, "%s", log);
        prefix[0] = '\0';
    } else {
        const char *slash = strrchr(log, '/');
        if (slash) {
            snprintf(dir, sizeof dir, "%.*s", (int)(slash - log), log);
            if (!dir[0])
                snprintf(dir, sizeof dir, "/");
            snprintf(prefix, sizeof prefix, "%s.", slash + 1);
        } else {
            snprintf(dir, sizeof dir, ".");
            snprintf(prefix, sizeof prefix, "%s.", log);
        }
    }
    DIR *d = opendir(dir);
    if (!d)
        return cordon_error_set(err, errno, log, 0, 0, "cannot open '%s'", is_dir ? dir : log);
    char **list = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    int r = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' && !prefix[0])
            continue;
        if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
            continue;
        if (!import_pid_of_file_name(de->d_name))
            continue;
        if (is_dir) {
            /* Only one name per directory prefix: the -ff files of one log. */
        } else if (strchr(de->d_name + strlen(prefix), '.')) {
            continue;
        }
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path)
            continue;
        struct stat st;
        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (cordon_grow((void **)&list, &cap, n + 1, sizeof *list) < 0 ||
            !(list[n] = strdup(path))) {
            r = -ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            free(list[i]);
        free(list);
        return cordon_error_set(err, ENOMEM, log, 0, 0, "out of memory");
    }
    if (!n) {
        free(list);
        return cordon_error_set(err, ENOENT, log, 0, 0,
                                is_dir ? "no strace -ff files (NAME.PID) in '%s'"
                                       : "cannot open '%s' (nor any '%s.PID' of strace -ff)",
                                log, log);
    }
    qsort(list, n, sizeof *list, cmp_str);
    *ret = list;
    *ret_n = n;
    return 0;
}

void cordon_import_sources_free(struct cordon_import_source *srcs, size_t n) {
    if (!srcs)
        return;
    for (size_t i = 0; i < n; i++) {
        free(srcs[i].name);
        free(srcs[i].text);
    }
    free(srcs);
}

int cordon_import_load(enum cordon_import_format format, const char *log,
                       struct cordon_import_source **ret, size_t *ret_n, struct cordon_error *err) {
    struct stat st;
    bool exists = stat(log, &st) == 0;
    char **files = NULL;
    size_t n = 0;
    int r;
    if (format == CORDON_IMPORT_STRACE && (!exists || S_ISDIR(st.st_mode))) {
        if (!exists && errno != ENOENT)
            return cordon_error_set(err, errno, log, 0, 0, "cannot open '%s'", log);
        r = ff_files(log, exists, &files, &n, err);
        if (r < 0)
            return r;
    } else {
        if (exists && S_ISDIR(st.st_mode))
            return cordon_error_set(err, EISDIR, log, 0, 0, "'%s' is a directory", log);
        files = calloc(1, sizeof *files);
        if (!files || !(files[0] = strdup(log))) {
            free(files);
            return cordon_error_set(err, ENOMEM, log, 0, 0, "out of memory");
        }
        n = 1;
    }
    if (!n) { /* ff_files gives one file at least; the analyser cannot see it */
        free(files);
        return cordon_error_set(err, ENOENT, log, 0, 0, "no log at '%s'", log);
    }
    struct cordon_import_source *srcs = calloc(n, sizeof *srcs);
    r = 0;
    if (!srcs) {
        for (size_t i = 0; i < n; i++)
            free(files[i]);
        free(files);
        return cordon_error_set(err, ENOMEM, log, 0, 0, "out of memory");
    }
    for (size_t i = 0; r >= 0 && i < n; i++)
        r = read_all(files[i], &srcs[i], err);
    for (size_t i = 0; i < n; i++)
        free(files[i]);
    free(files);
    if (r < 0) {
        cordon_import_sources_free(srcs, n);
        return r;
    }
    *ret = srcs;
    *ret_n = n;
    return 0;
}

/* ---- the builder --------------------------------------------------------- */

void import_warn(struct cordon_import *imp, const char *file, size_t line, const char *fmt, ...) {
    imp->problems++;
    if (imp->n_warnings >= IMPORT_MAX_WARNINGS)
        return;
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    cordon_strbuf_addf(&sb, "%s:%zu: ", file, line);
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    cordon_strbuf_adds(&sb, text);
    char *s = cordon_strbuf_detach(&sb);
    if (!s || cordon_grow((void **)&imp->warnings, &imp->cap_warnings, imp->n_warnings + 1,
                          sizeof *imp->warnings) < 0) {
        free(s);
        imp->oom = true;
        return;
    }
    imp->warnings[imp->n_warnings++] = s;
}

struct import_proc *import_find(const struct cordon_import *imp, int pid) {
    char key[16];
    snprintf(key, sizeof key, "%d", pid);
    return cordon_map_get(imp->procs, key);
}

static int copy_fds(struct import_proc *to, const struct import_proc *from) {
    if (!from->n_fds)
        return 0;
    to->fds = calloc(from->n_fds, sizeof *to->fds);
    if (!to->fds)
        return -ENOMEM;
    to->cap_fds = from->n_fds;
    for (size_t i = 0; i < from->n_fds; i++) {
        to->fds[i].fd = from->fds[i].fd;
        to->fds[i].path = strdup(from->fds[i].path);
        if (!to->fds[i].path)
            return -ENOMEM;
        to->n_fds = i + 1;
    }
    return 0;
}

struct import_proc *import_process(struct cordon_import *imp, int pid, int ppid) {
    if (!imp->root)
        imp->root = pid;
    struct import_proc *p = import_find(imp, pid);
    if (p)
        return p;
    if (cordon_grow((void **)&imp->plist, &imp->cap_plist, imp->n_plist + 1, sizeof *imp->plist) <
        0)
        goto oom;
    p = calloc(1, sizeof *p);
    if (!p)
        goto oom;
    p->pid = pid;
    p->ppid = ppid;
    const struct import_proc *parent = ppid ? import_find(imp, ppid) : NULL;
    if (parent) {
        p->exe = cordon_strdup0(parent->exe);
        p->argv = cordon_strv_copy(parent->argv);
        p->cwd = cordon_strdup0(parent->cwd);
        if ((parent->exe && !p->exe) || (parent->argv && !p->argv) || (parent->cwd && !p->cwd) ||
            copy_fds(p, parent) < 0) {
            proc_free(p);
            goto oom;
        }
    } else if (imp->initial_cwd && !(p->cwd = strdup(imp->initial_cwd))) {
        proc_free(p);
        goto oom;
    }
    char key[16];
    snprintf(key, sizeof key, "%d", pid);
    if (cordon_map_put(imp->procs, key, p) < 0) {
        proc_free(p);
        goto oom;
    }
    imp->plist[imp->n_plist++] = p;
    return p;
oom:
    imp->oom = true;
    return NULL;
}

void import_spawned(struct cordon_import *imp, int pid, int parent) {
    if (pid == parent)
        return;
    if (!import_process(imp, parent, 0))
        return;
    struct import_proc *p = import_find(imp, pid);
    if (p) {
        /* Seen before its parent's fork said whose it is. */
        p->ppid = parent;
        return;
    }
    import_process(imp, pid, parent);
}

/* `path` folded onto a relative base: "build" + "../x/./y" -> "x/y". */
static void join_relative(const char *base, const char *path, char *out) {
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/%s", base, path);
    const char *parts[PATH_MAX / 2];
    size_t lens[PATH_MAX / 2];
    size_t n = 0;
    for (char *s = tmp; *s;) {
        while (*s == '/')
            s++;
        if (!*s)
            break;
        char *e = strchrnul(s, '/');
        size_t len = (size_t)(e - s);
        if (len == 1 && s[0] == '.') {
        } else if (len == 2 && s[0] == '.' && s[1] == '.' && n &&
                   !(lens[n - 1] == 2 && !strncmp(parts[n - 1], "..", 2))) {
            n--;
        } else {
            parts[n] = s;
            lens[n] = len;
            n++;
        }
        s = e;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (o + lens[i] + 2 >= PATH_MAX)
            break;
        if (i)
            out[o++] = '/';
        memcpy(out + o, parts[i], lens[i]);
        o += lens[i];
    }
    if (!o)
        out[o++] = '.';
    out[o] = '\0';
}

const char *import_fd_path(const struct cordon_import *imp, int pid, long long fd) {
    const struct import_proc *p = import_find(imp, pid);
    if (!p)
        return NULL;
    for (size_t i = 0; i < p->n_fds; i++)
        if (p->fds[i].fd == fd)
            return p->fds[i].path;
    return NULL;
}

/* A ".." after a symlink is not the lexical parent: the part of `p` up to
 * its last ".." is resolved on this host when it exists there (the
 * recorder's rule, so that both name a path alike); the rest is lexical. */
void import_canon(const char *p, char *out) {
    const char *last = NULL;
    for (const char *q = strstr(p, "/.."); q; q = strstr(q + 1, "/.."))
        if (q[3] == '/' || q[3] == '\0')
            last = q;
    if (last) {
        char head[PATH_MAX], real[PATH_MAX];
        size_t n = (size_t)(last - p) + 3;
        if (n < sizeof head) {
            memcpy(head, p, n);
            head[n] = '\0';
            if (realpath(head, real) &&
                snprintf(out, PATH_MAX, "%s/%s", real, last + 3) < PATH_MAX) {
                cordon_path_normalize(out);
                return;
            }
        }
    }
    snprintf(out, PATH_MAX, "%s", p);
    cordon_path_normalize(out);
}

bool import_absolute(const struct cordon_import *imp, int pid, long long dirfd, const char *path,
                     char *out) {
    if (path[0] == '/') {
        import_canon(path, out);
        return true;
    }
    const char *base;
    if (dirfd != IMPORT_AT_FDCWD) {
        base = import_fd_path(imp, pid, dirfd);
    } else {
        const struct import_proc *p = import_find(imp, pid);
        base = p ? p->cwd : imp->initial_cwd;
    }
    if (base && base[0] == '/') {
        char joined[PATH_MAX];
        if (snprintf(joined, sizeof joined, "%s/%s", base, path) < (int)sizeof joined) {
            import_canon(joined, out);
            return true;
        }
        snprintf(out, PATH_MAX, "%s", path);
        return false;
    }
    join_relative(base && base[0] ? base : ".", path, out);
    return false;
}

void import_executed(struct cordon_import *imp, int pid, const char *exe, char **argv) {
    struct import_proc *p = import_process(imp, pid, 0);
    if (!p) {
        cordon_strv_free(argv);
        return;
    }
    char abs[PATH_MAX];
    import_absolute(imp, pid, IMPORT_AT_FDCWD, exe, abs);
    char *e = exe[0] ? strdup(abs) : NULL;
    if (exe[0] && !e) {
        cordon_strv_free(argv);
        imp->oom = true;
        return;
    }
    free(p->exe);
    p->exe = e;
    cordon_strv_free(p->argv);
    p->argv = argv;
    p->execd = true;
}

void import_set_cwd(struct cordon_import *imp, int pid, const char *dir) {
    struct import_proc *p = import_process(imp, pid, 0);
    if (!p)
        return;
    char abs[PATH_MAX];
    import_absolute(imp, pid, IMPORT_AT_FDCWD, dir, abs);
    if (p->cwd && !strcmp(p->cwd, abs))
        return;
    char *d = strdup(abs);
    if (!d) {
        imp->oom = true;
        return;
    }
    free(p->cwd);
    p->cwd = d;
}

void import_set_fd(struct cordon_import *imp, int pid, long long fd, const char *path) {
    struct import_proc *p = import_process(imp, pid, 0);
    if (!p)
        return;
    size_t i = 0;
    while (i < p->n_fds && p->fds[i].fd != fd)
        i++;
    if (!path) {
        if (i < p->n_fds) {
            free(p->fds[i].path);
            p->fds[i] = p->fds[--p->n_fds];
        }
        return;
    }
    char abs[PATH_MAX];
    import_absolute(imp, pid, IMPORT_AT_FDCWD, path, abs);
    char *s = strdup(abs);
    if (!s) {
        imp->oom = true;
        return;
    }
    if (i < p->n_fds) {
        free(p->fds[i].path);
        p->fds[i].path = s;
        return;
    }
    if (cordon_grow((void **)&p->fds, &p->cap_fds, p->n_fds + 1, sizeof *p->fds) < 0) {
        free(s);
        imp->oom = true;
        return;
    }
    p->fds[p->n_fds++] = (struct import_fd){fd, s};
}

static const char *intern(struct cordon_import *imp, const char *name) {
    char *s = cordon_map_get(imp->names, name);
    if (s)
        return s;
    if (cordon_grow((void **)&imp->name_list, &imp->cap_names, imp->n_names + 1,
                    sizeof *imp->name_list) < 0 ||
        !(s = strdup(name)))
        return NULL;
    if (cordon_map_put(imp->names, name, s) < 0) {
        free(s);
        return NULL;
    }
    imp->name_list[imp->n_names++] = s;
    return s;
}

void import_event(struct cordon_import *imp, int pid, uint64_t t_ns, enum cordon_import_op op,
                  long long dirfd, const char *path, int err, const char *syscall) {
    if (!import_process(imp, pid, 0))
        return;
    char abs[PATH_MAX];
    import_absolute(imp, pid, dirfd, path, abs);
    const char *name = intern(imp, syscall ? syscall : "");
    char *p = strdup(abs);
    if (!name || !p ||
        cordon_grow((void **)&imp->ev, &imp->cap_ev, imp->n_ev + 1, sizeof *imp->ev) < 0) {
        free(p);
        imp->oom = true;
        return;
    }
    imp->ev[imp->n_ev] = (struct cordon_import_event){
        .seq = imp->n_ev + 1,
        .t_ns = t_ns,
        .pid = pid,
        .op = op,
        .err = err,
        .path = p,
        .syscall = name,
    };
    imp->n_ev++;
}

void import_ended(struct cordon_import *imp, int pid, int status) {
    struct import_proc *p = import_process(imp, pid, 0);
    if (!p)
        return;
    p->status = status;
    p->ended = true;
}

/* ---- small text helpers -------------------------------------------------- */

static const struct {
    const char *name;
    int value;
} errnos[] = {
    {"EPERM", 1},
    {"ENOENT", 2},
    {"ESRCH", 3},
    {"EINTR", 4},
    {"EIO", 5},
    {"ENXIO", 6},
    {"E2BIG", 7},
    {"ENOEXEC", 8},
    {"EBADF", 9},
    {"ECHILD", 10},
    {"EAGAIN", 11},
    {"EWOULDBLOCK", 11},
    {"ENOMEM", 12},
    {"EACCES", 13},
    {"EFAULT", 14},
    {"ENOTBLK", 15},
    {"EBUSY", 16},
    {"EEXIST", 17},
    {"EXDEV", 18},
    {"ENODEV", 19},
    {"ENOTDIR", 20},
    {"EISDIR", 21},
    {"EINVAL", 22},
    {"ENFILE", 23},
    {"EMFILE", 24},
    {"ENOTTY", 25},
    {"ETXTBSY", 26},
    {"EFBIG", 27},
    {"ENOSPC", 28},
    {"ESPIPE", 29},
    {"EROFS", 30},
    {"EMLINK", 31},
    {"EPIPE", 32},
    {"EDOM", 33},
    {"ERANGE", 34},
    {"EDEADLK", 35},
    {"ENAMETOOLONG", 36},
    {"ENOLCK", 37},
    {"ENOSYS", 38},
    {"ENOTEMPTY", 39},
    {"ELOOP", 40},
    {"ENOMSG", 42},
    {"EIDRM", 43},
    {"ENODATA", 61},
    {"ETIME", 62},
    {"EPROTO", 71},
    {"EBADMSG", 74},
    {"EOVERFLOW", 75},
    {"EBADFD", 77},
    {"EILSEQ", 84},
    {"ENOTSOCK", 88},
    {"EMSGSIZE", 90},
    {"EPROTOTYPE", 91},
    {"ENOPROTOOPT", 92},
    {"EPROTONOSUPPORT", 93},
    {"EOPNOTSUPP", 95},
    {"ENOTSUP", 95},
    {"EAFNOSUPPORT", 97},
    {"EADDRINUSE", 98},
    {"EADDRNOTAVAIL", 99},
    {"ENETDOWN", 100},
    {"ENETUNREACH", 101},
    {"ECONNABORTED", 103},
    {"ECONNRESET", 104},
    {"ENOBUFS", 105},
    {"EISCONN", 106},
    {"ENOTCONN", 107},
    {"ETIMEDOUT", 110},
    {"ECONNREFUSED", 111},
    {"EHOSTUNREACH", 113},
    {"EALREADY", 114},
    {"EINPROGRESS", 115},
    {"ESTALE", 116},
    {"EDQUOT", 122},
    {"ECANCELED", 125},
    {"EOWNERDEAD", 130},
};

int import_errno_of_name(const char *name, size_t len) {
    if (len > 6 && !strncmp(name, "ERRNO_", 6)) {
        int v = 0;
        for (size_t i = 6; i < len; i++) {
            if (name[i] < '0' || name[i] > '9' || v > 100000)
                return 0;
            v = v * 10 + (name[i] - '0');
        }
        return v;
    }
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(errnos); i++)
        if (strlen(errnos[i].name) == len && !strncmp(errnos[i].name, name, len))
            return errnos[i].value;
    return 0;
}

static const struct {
    const char *name;
    int value;
} signals[] = {
    {"SIGHUP", 1},   {"SIGINT", 2},     {"SIGQUIT", 3},  {"SIGILL", 4},    {"SIGTRAP", 5},
    {"SIGABRT", 6},  {"SIGIOT", 6},     {"SIGBUS", 7},   {"SIGFPE", 8},    {"SIGKILL", 9},
    {"SIGUSR1", 10}, {"SIGSEGV", 11},   {"SIGUSR2", 12}, {"SIGPIPE", 13},  {"SIGALRM", 14},
    {"SIGTERM", 15}, {"SIGSTKFLT", 16}, {"SIGCHLD", 17}, {"SIGCONT", 18},  {"SIGSTOP", 19},
    {"SIGTSTP", 20}, {"SIGTTIN", 21},   {"SIGTTOU", 22}, {"SIGURG", 23},   {"SIGXCPU", 24},
    {"SIGXFSZ", 25}, {"SIGVTALRM", 26}, {"SIGPROF", 27}, {"SIGWINCH", 28}, {"SIGIO", 29},
    {"SIGPOLL", 29}, {"SIGPWR", 30},    {"SIGSYS", 31},  {"SIGRTMIN", 32},
};

int import_signal_of_name(const char *name, size_t len) {
    if (len > 6 && !strncmp(name, "SIGRT_", 6)) {
        int v = 0;
        for (size_t i = 6; i < len; i++) {
            if (name[i] < '0' || name[i] > '9' || v > 100)
                return 0;
            v = v * 10 + (name[i] - '0');
        }
        return v <= 32 ? 32 + v : 0;
    }
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(signals); i++)
        if (strlen(signals[i].name) == len && !strncmp(signals[i].name, name, len))
            return signals[i].value;
    return 0;
}

static bool has_flag(const char *flags, size_t len, const char *f) {
    size_t fl = strlen(f);
    for (size_t i = 0; i + fl <= len; i++) {
        if (strncmp(flags + i, f, fl) != 0)
            continue;
        bool start = i == 0 || strchr("| ,<", flags[i - 1]);
        bool end = i + fl == len || strchr("| ,>", flags[i + fl]);
        if (start && end)
            return true;
    }
    return false;
}

enum cordon_import_op import_op_of_flags_text(const char *flags, size_t len) {
    if (has_flag(flags, len, "O_PATH") || has_flag(flags, len, "O_DIRECTORY"))
        return CORDON_IMPORT_STAT;
    bool creat = has_flag(flags, len, "O_CREAT"), trunc = has_flag(flags, len, "O_TRUNC");
    bool excl = has_flag(flags, len, "O_EXCL");
    if (creat && excl)
        return CORDON_IMPORT_CREATE;
    if (has_flag(flags, len, "O_RDWR"))
        return trunc ? CORDON_IMPORT_WRITE : CORDON_IMPORT_UPDATE;
    if (has_flag(flags, len, "O_WRONLY") || trunc || creat)
        return CORDON_IMPORT_WRITE;
    return CORDON_IMPORT_READ;
}

int import_errno_from_bsd(int n) {
    switch (n) {
    case 11:
        return 35; /* EDEADLK */
    case 35:
        return 11; /* EAGAIN */
    case 36:
        return 115; /* EINPROGRESS */
    case 37:
        return 114; /* EALREADY */
    case 38:
        return 88; /* ENOTSOCK */
    case 45:
        return 95; /* ENOTSUP */
    case 47:
        return 97; /* EAFNOSUPPORT */
    case 48:
        return 98; /* EADDRINUSE */
    case 49:
        return 99; /* EADDRNOTAVAIL */
    case 54:
        return 104; /* ECONNRESET */
    case 60:
        return 110; /* ETIMEDOUT */
    case 61:
        return 111; /* ECONNREFUSED */
    case 62:
        return 40; /* ELOOP */
    case 63:
        return 36; /* ENAMETOOLONG */
    case 64:
        return 112; /* EHOSTDOWN */
    case 65:
        return 113; /* EHOSTUNREACH */
    case 66:
        return 39; /* ENOTEMPTY */
    case 69:
        return 122; /* EDQUOT */
    case 70:
        return 116; /* ESTALE */
    case 78:
        return 38; /* ENOSYS */
    case 93:
        return 61; /* ENOATTR, as ENODATA */
    case 102:
        return 95; /* EOPNOTSUPP */
    default:
        return n;
    }
}

const char *import_excerpt(const char *line, size_t len, char *out) {
    while (len && (*line == ' ' || *line == '\t')) {
        line++;
        len--;
    }
    while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
        len--;
    size_t o = 0;
    for (size_t i = 0; i < len && o < 60; i++) {
        unsigned char c = (unsigned char)line[i];
        out[o++] = c == '\t' ? ' ' : c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    /* Do not cut a UTF-8 sequence in the middle. */
    while (o > 0 && o < len && ((unsigned char)line[o] & 0xc0) == 0x80)
        o--;
    if (o < len) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

/* ---- from events to a manifest ------------------------------------------- */

/* What the log says about one path, as the collector keeps it. */
struct pstate {
    char *path;
    unsigned uses;
    bool written, deleted, seen_present;
    enum cordon_ftype hint; /* type the log implies (dir listed, link read) */
    int first_pid, writer_pid;
};

struct paths {
    struct cordon_map *map;
    struct pstate **list;
    size_t n, cap;
};

static struct pstate *path_state(struct paths *ps, const char *path) {
    struct pstate *s = cordon_map_get(ps->map, path);
    if (s)
        return s;
    if (cordon_grow((void **)&ps->list, &ps->cap, ps->n + 1, sizeof *ps->list) < 0)
        return NULL;
    s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->hint = CORDON_FT_INVALID;
    s->path = strdup(path);
    if (!s->path || cordon_map_put(ps->map, path, s) < 0) {
        free(s->path);
        free(s);
        return NULL;
    }
    ps->list[ps->n++] = s;
    return s;
}

static void note_use(struct pstate *s, unsigned use, int pid) {
    if (s->written)
        return; /* the build's own file from here on */
    if (!s->uses && !s->first_pid)
        s->first_pid = pid;
    s->uses |= use;
    if (use != CORDON_USE_PROBE)
        s->seen_present = true;
}

static void note_lookup(struct pstate *s, int err, unsigned use, int pid) {
    if (!err)
        note_use(s, use, pid);
    else if (err == ENOENT || err == ENOTDIR)
        note_use(s, CORDON_USE_PROBE, pid);
    else
        note_use(s, CORDON_USE_STAT, pid);
}

static void note_write(struct pstate *s, int pid, bool deleted) {
    s->written = true;
    s->deleted = deleted;
    s->writer_pid = pid;
}

static void apply_event(struct pstate *s, const struct cordon_import_event *e) {
    int pid = e->pid;
    switch (e->op) {
    case CORDON_IMPORT_READ:
        note_lookup(s, e->err, CORDON_USE_READ, pid);
        break;
    case CORDON_IMPORT_EXEC:
        note_lookup(s, e->err, CORDON_USE_EXEC, pid);
        break;
    case CORDON_IMPORT_STAT:
    case CORDON_IMPORT_PROBE:
        note_lookup(s, e->err, CORDON_USE_STAT, pid);
        break;
    case CORDON_IMPORT_CHDIR:
        note_lookup(s, e->err, CORDON_USE_STAT, pid);
        if (!e->err && s->hint == CORDON_FT_INVALID)
            s->hint = CORDON_FT_DIR;
        break;
    case CORDON_IMPORT_LIST:
        note_lookup(s, e->err, CORDON_USE_LIST, pid);
        if (!e->err)
            s->hint = CORDON_FT_DIR;
        break;
    case CORDON_IMPORT_READLINK:
        if (!e->err) {
            note_use(s, CORDON_USE_READLINK, pid);
            s->hint = CORDON_FT_SYMLINK;
        } else if (e->err == EINVAL) {
            note_use(s, CORDON_USE_STAT, pid); /* there, and not a link */
        } else {
            note_lookup(s, e->err, CORDON_USE_STAT, pid);
        }
        break;
    case CORDON_IMPORT_UPDATE:
        if (e->err) {
            if (e->err != ENOENT && e->err != ENOTDIR)
                note_use(s, CORDON_USE_STAT, pid);
            break;
        }
        note_use(s, CORDON_USE_READ, pid);
        note_write(s, pid, false);
        break;
    case CORDON_IMPORT_WRITE:
    case CORDON_IMPORT_CREATE:
        if (e->err) {
            /* EEXIST and EACCES say something is there; ENOENT only that
             * the directory is missing, which any host finds out. */
            if (e->err != ENOENT && e->err != ENOTDIR)
                note_use(s, CORDON_USE_STAT, pid);
            break;
        }
        note_write(s, pid, false);
        break;
    case CORDON_IMPORT_DELETE:
        if (!e->err)
            note_write(s, pid, true);
        break;
    case CORDON_IMPORT_OP_MAX:
    case CORDON_IMPORT_OP_INVALID:
    default:
        break;
    }
}

static int64_t mtime_of(const struct stat *st) {
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static int follow_symlinks(struct paths *ps) {
    size_t n = ps->n;
    for (size_t i = 0; i < n; i++) {
        struct pstate *s = ps->list[i];
        unsigned uses =
            s->uses & (CORDON_USE_READ | CORDON_USE_EXEC | CORDON_USE_LIST | CORDON_USE_STAT);
        if (!uses || cordon_path_is_virtual(s->path))
            continue;
        char cur[PATH_MAX];
        snprintf(cur, sizeof cur, "%s", s->path);
        for (int depth = 0; depth < 40; depth++) {
            struct stat st;
            if (lstat(cur, &st) < 0 || !S_ISLNK(st.st_mode))
                break;
            char next[PATH_MAX];
            if (!cordon_path_link_next(cur, next) || !strcmp(next, cur))
                break;
            struct pstate *t = path_state(ps, next);
            if (!t)
                return -ENOMEM;
            if (!t->written) {
                if (!t->uses)
                    t->first_pid = s->first_pid;
                t->uses |= uses;
                t->seen_present = true;
            }
            memcpy(cur, next, sizeof cur);
        }
    }
    return 0;
}

struct jobs {
    struct cordon_hash_job *jobs;
    size_t *index; /* input index, or ~output index */
    size_t n, cap, cap_index;
};

static int add_job(struct jobs *j, size_t index) {
    if (cordon_grow((void **)&j->jobs, &j->cap, j->n + 1, sizeof *j->jobs) < 0 ||
        cordon_grow((void **)&j->index, &j->cap_index, j->n + 1, sizeof *j->index) < 0)
        return -ENOMEM;
    j->jobs[j->n] = (struct cordon_hash_job){0};
    j->index[j->n] = index;
    j->n++;
    return 0;
}

static int decide_input(struct cordon_manifest *m, struct pstate *s, bool no_hash,
                        struct jobs *jobs) {
    unsigned uses = s->uses;
    if (!uses)
        return 0;
    if (uses == CORDON_USE_PROBE && s->written)
        return 0; /* looked for, then made: the build's own output */
    struct stat st;
    bool exists = lstat(s->path, &st) == 0;
    struct cordon_input *in = cordon_manifest_add_input(m, s->path);
    if (!in)
        return -ENOMEM;
    in->first_pid = s->first_pid;
    if (uses == CORDON_USE_PROBE && !s->seen_present) {
        in->uses = uses;
        in->type = CORDON_FT_MISSING;
        return 0;
    }
    if (!exists) {
        /* There when the build used it, not here: what it was is only what
         * the log implies, and its bytes are not known. */
        in->uses = uses & (unsigned)~CORDON_USE_PROBE;
        in->type = s->hint != CORDON_FT_INVALID ? s->hint : CORDON_FT_FILE;
        if (in->type != CORDON_FT_DIR)
            in->flags |= CORDON_INPUT_UNHASHED;
        return 0;
    }
    in->type = cordon_ftype_from_mode(st.st_mode);
    in->size = (uint64_t)st.st_size;
    in->mode = st.st_mode & 07777;
    in->mtime_ns = mtime_of(&st);
    in->ino = st.st_ino;
    /* Found here where the log saw it missing: it appeared since. */
    if (!s->seen_present) {
        in->uses = uses;
        in->type = CORDON_FT_MISSING;
        return 0;
    }
    in->uses = uses & (unsigned)~CORDON_USE_PROBE;
    switch (in->type) {
    case CORDON_FT_SYMLINK:
        in->target = cordon_read_link(s->path);
        return in->target || errno != ENOMEM ? 0 : -ENOMEM;
    case CORDON_FT_DIR:
        /* A directory is opened to be listed or walked, not read. */
        if (in->uses & CORDON_USE_READ)
            in->uses = (in->uses & ~(unsigned)CORDON_USE_READ) | CORDON_USE_STAT;
        if ((in->uses & CORDON_USE_LIST) && !cordon_path_is_virtual(s->path) &&
            cordon_listing_hash(s->path, &in->listing) == 0)
            in->has_listing = true;
        in->size = 0;
        return 0;
    case CORDON_FT_FILE:
        break;
    case CORDON_FT_OTHER:
    case CORDON_FT_MISSING:
    case CORDON_FT_MAX:
    case CORDON_FT_INVALID:
    default:
        return 0;
    }
    if (cordon_path_is_virtual(s->path) || !cordon_use_needs_content(in->uses))
        return 0;
    if (s->written || no_hash) {
        /* Rewritten by the build: the bytes here are not the bytes read. */
        in->flags |= CORDON_INPUT_UNHASHED | (s->written ? CORDON_INPUT_CHANGED : 0);
        return 0;
    }
    return add_job(jobs, m->n_inputs - 1);
}

static int decide_output(struct cordon_manifest *m, struct pstate *s, bool no_hash,
                         struct jobs *jobs) {
    if (!s->written || cordon_path_is_virtual(s->path))
        return 0;
    struct stat st;
    if (s->deleted) {
        /* Removed: an output only if it was there before the build. */
        if (!s->seen_present)
            return 0;
        struct cordon_output *o = cordon_manifest_add_output(m, s->path);
        if (!o)
            return -ENOMEM;
        o->type = CORDON_FT_MISSING;
        o->pid = s->writer_pid;
        return 0;
    }
    struct cordon_output *o = cordon_manifest_add_output(m, s->path);
    if (!o)
        return -ENOMEM;
    o->pid = s->writer_pid;
    if (lstat(s->path, &st) < 0) {
        o->type = s->hint != CORDON_FT_INVALID ? s->hint : CORDON_FT_FILE;
        return 0;
    }
    o->type = cordon_ftype_from_mode(st.st_mode);
    o->mode = st.st_mode & 07777;
    if (o->type == CORDON_FT_SYMLINK) {
        o->target = cordon_read_link(s->path);
    } else if (o->type == CORDON_FT_FILE) {
        o->size = (uint64_t)st.st_size;
        if (!no_hash)
            return add_job(jobs, ~(m->n_outputs - 1));
    }
    return 0;
}

static int hash_all(struct cordon_manifest *m, struct jobs *j, bool quiet,
                    struct cordon_error *err) {
    if (!j->n)
        return 0;
    uint64_t total = 0;
    for (size_t i = 0; i < j->n; i++) {
        size_t k = j->index[i];
        bool input = (ssize_t)k >= 0;
        j->jobs[i].path = input ? m->inputs[k].path : m->outputs[~k].path;
        total += input ? m->inputs[k].size : m->outputs[~k].size;
    }
    struct cordon_progress progress;
    cordon_progress_init(&progress, "hashing", total, quiet);
    int r = cordon_hash_many(j->jobs, j->n, 0, &progress);
    cordon_progress_done(&progress);
    if (r < 0)
        return cordon_error_set(err, -r, NULL, 0, 0, "cannot start the hashing threads");
    for (size_t i = 0; i < j->n; i++) {
        size_t k = j->index[i];
        const struct cordon_hash_job *job = &j->jobs[i];
        if ((ssize_t)k >= 0) {
            struct cordon_input *in = &m->inputs[k];
            if (job->error) {
                in->flags |= CORDON_INPUT_UNHASHED;
                continue;
            }
            in->has_hash = true;
            in->hash = job->hash;
            in->size = job->size;
        } else {
            struct cordon_output *o = &m->outputs[~k];
            if (job->error)
                continue;
            o->has_hash = true;
            o->hash = job->hash;
            o->size = job->size;
        }
    }
    return 0;
}

/* What each format cannot know, for the coverage section. */
static const char *const format_limits[CORDON_IMPORT_FORMAT_MAX] = {
    [CORDON_IMPORT_STRACE] =
        "strace shows system calls only: without -f only the first process is seen; without -y "
        "descriptors are resolved from the log's own opens; -s cuts long strings; the ELF "
        "interpreter the kernel loads for an exec and files read through mmap of an inherited "
        "descriptor are not calls; the environment and the variables consulted are not shown",
    [CORDON_IMPORT_FS_USAGE] =
        "fs_usage names processes by command name and thread, not by pid, parent or argv; it "
        "prints no working directory (relative paths stay unresolved), only a rename's source, "
        "and cuts long paths at the front",
    [CORDON_IMPORT_DTRUSS] =
        "dtruss prints no parents unless run with -f, no argv (a program's argv is its file "
        "name), no working directory and no times; DTrace drops events under load and cuts "
        "strings at its strsize",
    [CORDON_IMPORT_KDUMP] =
        "kdump prints no working directory (relative paths resolve only after a chdir it "
        "shows); descriptors opened before the trace or by dup are unknown; a call without a "
        "NAMI record has no path; FreeBSD logs carry no argv",
};

static int add_gaps(struct cordon_import *imp, struct cordon_manifest *m,
                    const struct cordon_import_build_options *o, size_t unresolved,
                    const char *first_unresolved) {
    const char *name = cordon_import_format_name(imp->format);
    char detail[1024];
    struct cordon_strbuf files = CORDON_STRBUF_INIT;
    for (size_t i = 0; o && i < o->n_logs; i++)
        cordon_strbuf_addf(&files, "%s%s", i ? ", " : "", o->logs[i]);
    snprintf(detail, sizeof detail,
             "imported from a %s log (%s): only what the tracer printed is known; files were "
             "stat'ed and hashed on this host at import, not when the build read them",
             name, files.len ? files.buf : "memory");
    int r = cordon_manifest_add_gap(m, "imported", name, 0, detail);
    cordon_strbuf_release(&files);
    if (r >= 0)
        r = cordon_manifest_add_gap(m, "import-limits", name, 0, format_limits[imp->format]);
    if (r >= 0 && unresolved) {
        snprintf(detail, sizeof detail,
                 "%zu relative paths could not be resolved (the log does not show the working "
                 "directory; give --cwd): the first is '%.200s'",
                 unresolved, first_unresolved);
        r = cordon_manifest_add_gap(m, "unresolved-path", NULL, 0, detail);
    }
    if (r >= 0 && imp->problems) {
        snprintf(detail, sizeof detail,
                 "%zu lines of the log were not understood; the first: %.400s", imp->problems,
                 imp->n_warnings ? imp->warnings[0] : "");
        r = cordon_manifest_add_gap(m, "unparsed-lines", NULL, 0, detail);
    }
    for (size_t i = 0; r >= 0 && i < imp->n_plist; i++) {
        const struct import_proc *p = imp->plist[i];
        if (!p->ended)
            r = cordon_manifest_add_gap(m, "unfinished", p->exe, p->pid,
                                        "the log shows no exit of this process");
    }
    return r < 0 ? -ENOMEM : 0;
}

static int add_processes(struct cordon_import *imp, struct cordon_manifest *m) {
    for (size_t i = 0; i < imp->n_plist; i++) {
        const struct import_proc *p = imp->plist[i];
        struct cordon_process *q = cordon_manifest_add_process(m, p->pid);
        if (!q)
            return -ENOMEM;
        q->ppid = p->ppid;
        q->exe = p->exe && p->exe[0] == '/' ? strdup(p->exe) : NULL;
        q->argv = cordon_strv_copy(p->argv);
        q->cwd = p->cwd && p->cwd[0] == '/' ? strdup(p->cwd) : NULL;
        if ((p->exe && p->exe[0] == '/' && !q->exe) || (p->argv && !q->argv) ||
            (p->cwd && p->cwd[0] == '/' && !q->cwd))
            return -ENOMEM;
        q->status = p->status;
        if (!p->ended)
            q->flags |= CORDON_PROC_UNFINISHED;
        if (!p->execd && p->ppid)
            q->flags |= CORDON_PROC_FORKED;
    }
    return 0;
}

/* "NAME=VALUE" with a secret's value replaced. New, or NULL. */
static char *redacted(const char *entry) {
    const char *eq = strchr(entry, '=');
    if (!eq)
        return strdup(entry);
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)(eq - entry), entry);
    if (!cordon_env_is_secret(name))
        return strdup(entry);
    char *out = NULL;
    return asprintf(&out, "%s=<redacted>", name) < 0 ? NULL : out;
}

/* The home directory most absolute paths of the log are under. */
static bool infer_home(const struct cordon_import *imp, char *out, size_t size) {
    struct cordon_map *counts = cordon_map_new(16);
    if (!counts)
        return false;
    size_t best = 0;
    out[0] = '\0';
    for (size_t i = 0; i < imp->n_ev; i++) {
        const char *p = imp->ev[i].path;
        size_t n;
        if (!strncmp(p, "/home/", 6) || !strncmp(p, "/Users/", 7)) {
            const char *name = p + (p[1] == 'h' ? 6 : 7);
            const char *slash = strchr(name, '/');
            if (!slash || slash == name)
                continue;
            n = (size_t)(slash - p);
        } else if (!strncmp(p, "/root/", 6)) {
            n = 5;
        } else {
            continue;
        }
        char key[PATH_MAX];
        if (n >= sizeof key || n >= size)
            continue;
        memcpy(key, p, n);
        key[n] = '\0';
        size_t c = (size_t)(uintptr_t)cordon_map_get(counts, key) + 1;
        if (cordon_map_put(counts, key, (void *)(uintptr_t)c) < 0)
            break;
        if (c > best) {
            best = c;
            memcpy(out, key, n + 1);
        }
    }
    cordon_map_free(counts);
    return best > 0;
}

/* The command's environment: what the log showed, with secrets redacted;
 * else only HOME (given or inferred), which classification needs. */
static int add_env(struct cordon_import *imp, struct cordon_manifest *m) {
    size_t n = cordon_strv_length(imp->root_env);
    bool has_home = false;
    for (size_t i = 0; i < n; i++)
        has_home |= !strncmp(imp->root_env[i], "HOME=", 5);
    char home[PATH_MAX] = "";
    const char *how = NULL;
    if (imp->home) {
        snprintf(home, sizeof home, "%s", imp->home);
    } else if (!has_home && infer_home(imp, home, sizeof home)) {
        how = "inferred";
    }
    char **v = calloc(n + 2, sizeof *v);
    if (!v)
        return -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (home[0] && !strncmp(imp->root_env[i], "HOME=", 5))
            continue;
        if (!(v[k++] = redacted(imp->root_env[i]))) {
            cordon_strv_free(v);
            return -ENOMEM;
        }
    }
    if (home[0] && asprintf(&v[k++], "HOME=%s", home) < 0) {
        v[k - 1] = NULL;
        cordon_strv_free(v);
        return -ENOMEM;
    }
    qsort(v, k, sizeof *v, cmp_str);
    if (!k) {
        free(v);
        return 0;
    }
    m->command.env = v;
    if (how) {
        char detail[PATH_MAX + 200];
        snprintf(
            detail, sizeof detail,
            "the log does not show the environment: HOME=%s is inferred from the paths the "
            "build used (give --home to say otherwise); the rest of the environment is unknown",
            home);
        if (cordon_manifest_add_gap(m, "inferred-home", home, 0, detail) < 0)
            return -ENOMEM;
    }
    return 0;
}

static int add_command(struct cordon_import *imp, struct cordon_manifest *m) {
    const struct import_proc *root = imp->root ? import_find(imp, imp->root) : NULL;
    struct cordon_command *c = &m->command;
    if (root && root->argv && root->argv[0]) {
        c->argv = cordon_strv_copy(root->argv);
    } else {
        /* The manifest needs a command line; the log did not show one. */
        char *v[] = {(char *)(root && root->exe ? root->exe : "unknown"), NULL};
        c->argv = cordon_strv_copy(v);
    }
    if (!c->argv)
        return -ENOMEM;
    if (root && root->cwd && root->cwd[0] == '/' && !(c->cwd = strdup(root->cwd)))
        return -ENOMEM;
    if (add_env(imp, m) < 0)
        return -ENOMEM;
    if (root && root->ended) {
        c->finished = true;
        c->status = root->status;
    }
    const char *os = imp->format == CORDON_IMPORT_STRACE  ? "Linux"
                     : imp->format == CORDON_IMPORT_KDUMP ? NULL
                                                          : "Darwin";
    if (os && !(m->host.os = strdup(os)))
        return -ENOMEM;
    if (!(m->tool = strdup("cordon " CORDON_VERSION)))
        return -ENOMEM;
    return 0;
}

int cordon_import_build(struct cordon_import *imp, const struct cordon_import_build_options *opts,
                        struct cordon_manifest **ret, struct cordon_error *err) {
    struct cordon_import_build_options none = {0};
    const struct cordon_import_build_options *o = opts ? opts : &none;
    struct paths ps = {0};
    struct jobs jobs = {0};
    struct cordon_manifest *m = cordon_manifest_new();
    size_t unresolved = 0;
    char first_unresolved[PATH_MAX] = "";
    int r = -ENOMEM;
    ps.map = cordon_map_new(imp->n_ev / 4 + 64);
    if (!m || !ps.map || imp->oom)
        goto out;
    for (size_t i = 0; i < imp->n_ev; i++) {
        const struct cordon_import_event *e = &imp->ev[i];
        if (e->path[0] != '/') {
            if (!unresolved++)
                snprintf(first_unresolved, sizeof first_unresolved, "%s", e->path);
            continue;
        }
        struct pstate *s = path_state(&ps, e->path);
        if (!s)
            goto out;
        apply_event(s, e);
    }
    for (size_t i = 0; i < imp->n_plist; i++) {
        /* A program whose exec the log shows only through the process
         * table (dtruss, fs_usage inference) is an input all the same. */
        const struct import_proc *p = imp->plist[i];
        if (p->execd && p->exe && p->exe[0] == '/') {
            struct pstate *s = path_state(&ps, p->exe);
            if (!s)
                goto out;
            if (!(s->uses & CORDON_USE_EXEC) && !s->written)
                note_use(s, CORDON_USE_EXEC, p->pid);
        }
    }
    if ((r = follow_symlinks(&ps)) < 0)
        goto out;
    for (size_t i = 0; i < ps.n; i++) {
        size_t before = m->n_inputs;
        if ((r = decide_input(m, ps.list[i], o->no_hash, &jobs)) < 0)
            goto out;
        if ((r = decide_output(m, ps.list[i], o->no_hash, &jobs)) < 0)
            goto out;
        (void)before;
    }
    /* The traced command's directory is the work tree: its files are the
     * build's own (declared), and diff pairs them across checkouts. */
    const struct import_proc *root = imp->root ? import_find(imp, imp->root) : NULL;
    if (root && root->cwd && root->cwd[0] == '/' && !(m->worktree = strdup(root->cwd))) {
        r = -ENOMEM;
        goto out;
    }
    if ((r = add_processes(imp, m)) < 0 || (r = add_command(imp, m)) < 0 ||
        (r = add_gaps(imp, m, o, unresolved, first_unresolved)) < 0)
        goto out;
    if ((r = hash_all(m, &jobs, o->quiet, err)) < 0)
        goto fail;
    cordon_manifest_sort(m);
    /* Categories by the path rules; owners only for strace, whose log is
     * most likely this host's: a macOS or BSD path owned by a Debian
     * package here says nothing about the traced machine. */
    if ((imp->format == CORDON_IMPORT_STRACE && !o->no_owners
             ? cordon_classify_manifest(m)
             : cordon_classify_manifest_owners(m, NULL)) < 0) {
        r = -ENOMEM;
        goto out;
    }
    *ret = TAKE_PTR(m);
    r = 0;
out:
    if (r < 0)
        cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
fail:
    for (size_t i = 0; i < ps.n; i++) {
        free(ps.list[i]->path);
        free(ps.list[i]);
    }
    free(ps.list);
    cordon_map_free(ps.map);
    free(jobs.jobs);
    free(jobs.index);
    cordon_manifest_free(m);
    return r;
}
