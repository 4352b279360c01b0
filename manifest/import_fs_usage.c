/* Importing fs_usage logs (macOS): `sudo fs_usage -w -f filesys [cmd] > log`.
 *
 * One line a completed call, in columns (-w, the wide form):
 *
 *   14:02:11.102900  open     F=3   (R_____)  /Users/u/.gitconfig   0.000014   git.1523049
 *   14:02:11.103000  stat64        [  2]      /etc/gitconfig        0.000007   git.1523049
 *   14:02:11.103100  fstatat64                [-2]//Library/Developer  0.000007  clang.15
 *
 * the time of day; the call; fields that depend on it: `F=fd`, `[ errno]`
 * (macOS numbering) when it failed, the open mode `(R_____)` (read, write,
 * create, append, truncate, exclusive), `B=`, `O=`... numbers; the path as
 * the program passed it (an *at call prints its dirfd in front: `[-2]/` is
 * AT_FDCWD); the elapsed time, ` W` when the thread waited, and the process
 * as `command.threadid`. Disk I/O lines (`RdData[A]`) are not calls.
 *
 * fs_usage prints no pids, parents or argv: a process is keyed by command
 * and thread, its pid is the thread id, its argv its command name. After a
 * successful execve of /p/prog the next new `prog.tid` is the same process
 * (macOS runs the new image on a new thread); after a posix_spawn of
 * /p/prog, the next new `prog.tid` is the spawner's child. The narrow form
 * (without -w) has no fds, modes or errors: read with one warning.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cordon/error.h>
#include <cordon/import.h>
#include <cordon/util.h>

#include "import-internal.h"

#define DARWIN_AT_FDCWD (-2)
/* How long (of log time) an exec or spawn waits for its program to show. */
#define PENDING_NS 5000000000ULL
#define MAX_PENDING 64

enum kind { K_NONE, K_OPEN, K_FIXED, K_EXEC, K_SPAWN, K_CHDIR, K_FCHDIR, K_CLOSE };

struct call_kind {
    const char *name;
    enum kind kind;
    enum cordon_import_op op;
};

static const struct call_kind kinds[] = {
    {"open", K_OPEN, 0},
    {"open_nocancel", K_OPEN, 0},
    {"open_extended", K_OPEN, 0},
    {"open_dprotected", K_OPEN, 0},
    {"open_dprotected_np", K_OPEN, 0},
    {"guarded_open_np", K_OPEN, 0},
    {"guarded_open_dpro", K_OPEN, 0},
    {"openat", K_OPEN, 0},
    {"openat_nocancel", K_OPEN, 0},
    {"stat", K_FIXED, CORDON_IMPORT_STAT},
    {"stat64", K_FIXED, CORDON_IMPORT_STAT},
    {"lstat", K_FIXED, CORDON_IMPORT_STAT},
    {"lstat64", K_FIXED, CORDON_IMPORT_STAT},
    {"stat_extended", K_FIXED, CORDON_IMPORT_STAT},
    {"stat_extended64", K_FIXED, CORDON_IMPORT_STAT},
    {"lstat_extended", K_FIXED, CORDON_IMPORT_STAT},
    {"lstat_extended64", K_FIXED, CORDON_IMPORT_STAT},
    {"fstatat", K_FIXED, CORDON_IMPORT_STAT},
    {"fstatat64", K_FIXED, CORDON_IMPORT_STAT},
    {"getattrlist", K_FIXED, CORDON_IMPORT_STAT},
    {"getattrlistat", K_FIXED, CORDON_IMPORT_STAT},
    {"statfs", K_FIXED, CORDON_IMPORT_STAT},
    {"statfs64", K_FIXED, CORDON_IMPORT_STAT},
    {"pathconf", K_FIXED, CORDON_IMPORT_STAT},
    {"getxattr", K_FIXED, CORDON_IMPORT_STAT},
    {"listxattr", K_FIXED, CORDON_IMPORT_STAT},
    {"access", K_FIXED, CORDON_IMPORT_PROBE},
    {"access_extended", K_FIXED, CORDON_IMPORT_PROBE},
    {"faccessat", K_FIXED, CORDON_IMPORT_PROBE},
    {"checkuseraccess", K_FIXED, CORDON_IMPORT_PROBE},
    {"readlink", K_FIXED, CORDON_IMPORT_READLINK},
    {"readlinkat", K_FIXED, CORDON_IMPORT_READLINK},
    {"execve", K_EXEC, 0},
    {"posix_spawn", K_SPAWN, 0},
    {"chdir", K_CHDIR, 0},
    {"pthread_chdir", K_CHDIR, 0},
    {"fchdir", K_FCHDIR, 0},
    {"pthread_fchdir", K_FCHDIR, 0},
    {"close", K_CLOSE, 0},
    {"close_nocancel", K_CLOSE, 0},
    {"guarded_close_np", K_CLOSE, 0},
    {"unlink", K_FIXED, CORDON_IMPORT_DELETE},
    {"unlinkat", K_FIXED, CORDON_IMPORT_DELETE},
    {"rmdir", K_FIXED, CORDON_IMPORT_DELETE},
    {"delete-Carbon", K_FIXED, CORDON_IMPORT_DELETE},
    /* Only the source of a rename is printed. */
    {"rename", K_FIXED, CORDON_IMPORT_DELETE},
    {"renameat", K_FIXED, CORDON_IMPORT_DELETE},
    {"renameatx_np", K_FIXED, CORDON_IMPORT_DELETE},
    {"mkdir", K_FIXED, CORDON_IMPORT_CREATE},
    {"mkdirat", K_FIXED, CORDON_IMPORT_CREATE},
    {"mkdir_extended", K_FIXED, CORDON_IMPORT_CREATE},
    {"mkfifo", K_FIXED, CORDON_IMPORT_CREATE},
    {"mkfifo_extended", K_FIXED, CORDON_IMPORT_CREATE},
    {"mknod", K_FIXED, CORDON_IMPORT_CREATE},
    {"symlink", K_FIXED, CORDON_IMPORT_CREATE},
    {"symlinkat", K_FIXED, CORDON_IMPORT_CREATE},
    {"link", K_FIXED, CORDON_IMPORT_CREATE},
    {"linkat", K_FIXED, CORDON_IMPORT_CREATE},
    {"chmod", K_FIXED, CORDON_IMPORT_WRITE},
    {"chmod_extended", K_FIXED, CORDON_IMPORT_WRITE},
    {"chmodat", K_FIXED, CORDON_IMPORT_WRITE},
    {"fchmodat", K_FIXED, CORDON_IMPORT_WRITE},
    {"chown", K_FIXED, CORDON_IMPORT_WRITE},
    {"lchown", K_FIXED, CORDON_IMPORT_WRITE},
    {"chownat", K_FIXED, CORDON_IMPORT_WRITE},
    {"fchownat", K_FIXED, CORDON_IMPORT_WRITE},
    {"utimes", K_FIXED, CORDON_IMPORT_WRITE},
    {"truncate", K_FIXED, CORDON_IMPORT_WRITE},
    {"chflags", K_FIXED, CORDON_IMPORT_WRITE},
    {"setattrlist", K_FIXED, CORDON_IMPORT_WRITE},
    {"setxattr", K_FIXED, CORDON_IMPORT_WRITE},
    {"removexattr", K_FIXED, CORDON_IMPORT_WRITE},
    {"exchangedata", K_FIXED, CORDON_IMPORT_WRITE},
};

static const struct call_kind *kind_of(const char *call) {
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(kinds); i++)
        if (!strcmp(kinds[i].name, call))
            return &kinds[i];
    return NULL;
}

/* One line, taken apart (pointers into a NUL-terminated copy). */
struct line {
    uint64_t t_us;
    char call[64];
    bool has_fd;
    long long fd;
    int err; /* macOS errno */
    char mode[32];
    bool has_mode;
    long long dirfd; /* IMPORT_AT_FDCWD: none */
    char *path;
    char *command;
    bool has_tid;
    unsigned long long tid;
};

static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

static bool all_digits(const char *s, size_t n) {
    if (!n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

/* `HH:MM:SS` or `HH:MM:SS.frac` as microseconds since midnight. */
static bool parse_time(const char *t, size_t n, uint64_t *ret) {
    if (n < 8 || t[2] != ':' || t[5] != ':' || !all_digits(t, 2) || !all_digits(t + 3, 2) ||
        !all_digits(t + 6, 2))
        return false;
    unsigned h = (unsigned)((t[0] - '0') * 10 + t[1] - '0');
    unsigned m = (unsigned)((t[3] - '0') * 10 + t[4] - '0');
    unsigned s = (unsigned)((t[6] - '0') * 10 + t[7] - '0');
    if (h > 23 || m > 59 || s > 60)
        return false;
    uint64_t us = 0;
    if (n > 8) {
        size_t f = n - 9;
        if (t[8] != '.' || !f || f > 9 || !all_digits(t + 9, f))
            return false;
        for (size_t i = 0; i < 6; i++)
            us = us * 10 + (i < f ? (uint64_t)(t[9 + i] - '0') : 0);
    }
    *ret = ((uint64_t)(h * 60 + m) * 60 + s) * 1000000 + us;
    return true;
}

/* `0.000014`: the elapsed-time column. */
static bool is_elapsed(const char *t, size_t n) {
    const char *dot = memchr(t, '.', n);
    if (!dot)
        return false;
    size_t a = (size_t)(dot - t), b = n - a - 1;
    return all_digits(t, a) && b == 6 && all_digits(dot + 1, 6);
}

struct tok {
    size_t at, len;
};

static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* `B=0x1000`, `O=0x0`, `D=...`, `A=...`, `P=...`, `N=3`, `S=1`. */
static bool is_value_field(const char *s) {
    return s[0] && strchr("ABDNOPS", s[0]) && s[1] == '=';
}

/* 0: a line; 1: blank; -1: not fs_usage output, *why says why. */
static int parse_line(char *s, struct line *l, const char **why) {
    while (is_space(*s))
        s++;
    size_t n = strlen(s);
    while (n && is_space(s[n - 1]))
        s[--n] = '\0';
    if (!n)
        return 1;
    struct tok toks[64];
    size_t nt = 0;
    for (size_t i = 0; i < n && nt < CORDON_ARRAY_SIZE(toks);) {
        while (i < n && is_space(s[i]))
            i++;
        if (i >= n)
            break;
        size_t st = i;
        while (i < n && !is_space(s[i]))
            i++;
        toks[nt++] = (struct tok){st, i - st};
    }
    *why = "not an fs_usage line";
    if (nt < 2)
        return -1;
    memset(l, 0, sizeof *l);
    l->dirfd = IMPORT_AT_FDCWD;
    if (!parse_time(s + toks[0].at, toks[0].len, &l->t_us)) {
        *why = "not an fs_usage line (no time of day)";
        return -1;
    }
    /* From the right: the process, an optional W, the elapsed time. */
    size_t el = 0;
    for (size_t i = nt - 1; i >= 2 && i + 1 > 2; i--) {
        if (i + 1 < nt && is_elapsed(s + toks[i].at, toks[i].len)) {
            el = i;
            break;
        }
    }
    if (!el) {
        *why = "cut short or not an fs_usage line (no elapsed time and process)";
        return -1;
    }
    size_t pi = el + 1;
    if (toks[pi].len == 1 && s[toks[pi].at] == 'W' && pi + 1 < nt)
        pi++;
    char *process = s + toks[pi].at;
    char *dot = strrchr(process, '.');
    if (dot && dot > process && dot[1] && all_digits(dot + 1, strlen(dot + 1))) {
        if (strlen(dot + 1) > 19) {
            *why = "thread id out of range";
            return -1;
        }
        l->tid = strtoull(dot + 1, NULL, 10);
        l->has_tid = true;
        *dot = '\0';
    }
    l->command = process;
    if (!*process) {
        *why = "no process name";
        return -1;
    }
    if (toks[1].len >= sizeof l->call) {
        *why = "not an fs_usage line (call name too long)";
        return -1;
    }
    memcpy(l->call, s + toks[1].at, toks[1].len);
    l->call[toks[1].len] = '\0';
    /* Between the call and the elapsed time: the fields, then the path. */
    char *rest = s + toks[1].at + toks[1].len;
    char *end = s + toks[el].at;
    while (end > rest && is_space(end[-1]))
        end--;
    *end = '\0';
    for (;;) {
        while (is_space(*rest))
            rest++;
        if (!*rest)
            break;
        if (rest[0] == 'F' && rest[1] == '=') {
            char *p = rest + 2, *q;
            errno = 0;
            long long v = strtoll(p, &q, 10);
            if (q == p || errno || (*p == '+')) {
                *why = "bad descriptor field F=";
                return -1;
            }
            l->fd = v;
            l->has_fd = true;
            rest = q;
        } else if (rest[0] == '[') {
            char *close = strchr(rest, ']');
            if (!close) {
                *why = "bad error field (expected '[ errno]')";
                return -1;
            }
            char *p = rest + 1;
            while (is_space(*p))
                p++;
            char *q;
            errno = 0;
            long long v = strtoll(p, &q, 10);
            while (is_space(*q))
                q++;
            if (q == p || q != close || errno) {
                *why = "bad error field (expected '[ errno]')";
                return -1;
            }
            if (close[1] == '/') {
                /* `[-2]/path`: an *at call's directory descriptor. */
                l->dirfd = v == DARWIN_AT_FDCWD ? IMPORT_AT_FDCWD : v;
                l->path = close + 2;
                break;
            }
            if (v < INT32_MIN || v > INT32_MAX) {
                *why = "error number out of range";
                return -1;
            }
            l->err = (int)v;
            rest = close + 1;
        } else if (rest[0] == '(') {
            char *close = strchr(rest, ')');
            if (!close) {
                *why = "unclosed parenthesis in the mode field";
                return -1;
            }
            if (!l->has_mode) {
                size_t m = (size_t)(close - rest - 1);
                if (m >= sizeof l->mode)
                    m = sizeof l->mode - 1;
                memcpy(l->mode, rest + 1, m);
                l->mode[m] = '\0';
                l->has_mode = true;
            }
            rest = close + 1;
        } else if (rest[0] == '<') {
            char *close = strchr(rest, '>');
            if (!close) {
                *why = "unclosed '<'";
                return -1;
            }
            rest = close + 1;
        } else if (is_value_field(rest)) {
            while (*rest && !is_space(*rest))
                rest++;
        } else {
            l->path = rest;
            break;
        }
    }
    if (!l->path)
        l->path = rest;
    return 0;
}

/* `R_____` as O_ flag names, for import_op_of_flags_text. */
static enum cordon_import_op op_of_mode(const char *mode) {
    char f[96];
    bool r = strchr(mode, 'R'), w = strchr(mode, 'W');
    snprintf(f, sizeof f, "%s%s%s%s%s",
             r && w ? "O_RDWR"
             : w    ? "O_WRONLY"
                    : "O_RDONLY",
             strchr(mode, 'C') ? "|O_CREAT" : "", strchr(mode, 'A') ? "|O_APPEND" : "",
             strchr(mode, 'T') ? "|O_TRUNC" : "", strchr(mode, 'E') ? "|O_EXCL" : "");
    return import_op_of_flags_text(f, strlen(f));
}

static const char *basename_of(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Whether a command name (at most 16 bytes in the kernel) names `base`. */
static bool comm_matches(const char *command, const char *base) {
    size_t n = strlen(command);
    return n && (!strcmp(command, base) || (n >= 15 && !strncmp(base, command, n)));
}

struct pending {
    bool spawn;
    int by;
    char *exe;
    uint64_t t_ns;
};

struct state {
    struct cordon_import *imp;
    size_t recognised;
    bool warned_narrow, have_first;
    uint64_t first_us, last_us, days;
    struct cordon_map *procs; /* "command\ntid" -> pid */
    struct cordon_map *used;  /* "pid" -> 1 */
    int next_synthetic;
    struct pending pending[MAX_PENDING];
    size_t n_pending;
};

static uint64_t t_ns(struct state *st, uint64_t t_us) {
    const uint64_t day = 86400000000ULL;
    if (!st->have_first) {
        st->have_first = true;
        st->first_us = t_us;
    }
    if (t_us + day / 2 < st->last_us)
        st->days++;
    st->last_us = t_us;
    uint64_t abs = st->days * day + t_us;
    return (abs > st->first_us ? abs - st->first_us : 0) * 1000;
}

static bool used(struct state *st, int pid) {
    char key[16];
    snprintf(key, sizeof key, "%d", pid);
    return cordon_map_get(st->used, key) != NULL;
}

static void use(struct state *st, int pid) {
    char key[16];
    snprintf(key, sizeof key, "%d", pid);
    if (cordon_map_put(st->used, key, (void *)1) < 0)
        st->imp->oom = true;
}

static int synthetic(struct state *st, const struct line *l) {
    if (l->has_tid && l->tid > 0 && l->tid <= INT32_MAX && !used(st, (int)l->tid)) {
        use(st, (int)l->tid);
        return (int)l->tid;
    }
    if (st->next_synthetic < (1 << 30))
        st->next_synthetic = 1 << 30;
    while (used(st, st->next_synthetic) && st->next_synthetic < INT32_MAX)
        st->next_synthetic++;
    int pid = st->next_synthetic;
    use(st, pid);
    return pid;
}

static char **argv1(const char *s) {
    char **v = calloc(2, sizeof *v);
    if (v && !(v[0] = strdup(s))) {
        free(v);
        return NULL;
    }
    return v;
}

static void drop_pending(struct state *st, size_t i) {
    free(st->pending[i].exe);
    memmove(&st->pending[i], &st->pending[i + 1], (st->n_pending - i - 1) * sizeof *st->pending);
    st->n_pending--;
}

/* The pid of `command.tid`, made known (with what the log lets us infer). */
static int pid_of(struct state *st, const struct line *l) {
    char key[PATH_MAX];
    snprintf(key, sizeof key, "%s\n%d%llu", l->command, l->has_tid, l->tid);
    intptr_t pid = (intptr_t)cordon_map_get(st->procs, key);
    if (pid)
        return (int)pid;
    uint64_t t = t_ns(st, l->t_us);
    for (size_t i = 0; i < st->n_pending;) {
        if (t < st->pending[i].t_ns || t - st->pending[i].t_ns > PENDING_NS)
            drop_pending(st, i);
        else
            i++;
    }
    size_t match = st->n_pending;
    for (size_t i = 0; i < st->n_pending && match == st->n_pending; i++)
        if (comm_matches(l->command, basename_of(st->pending[i].exe)))
            match = i;
    if (match < st->n_pending && !st->pending[match].spawn) {
        /* The image an exec started, on its new thread. */
        pid = st->pending[match].by;
        drop_pending(st, match);
    } else if (match < st->n_pending) {
        pid = synthetic(st, l);
        import_spawned(st->imp, (int)pid, st->pending[match].by);
        import_executed(st->imp, (int)pid, st->pending[match].exe, argv1(l->command));
        drop_pending(st, match);
    } else {
        pid = synthetic(st, l);
        import_process(st->imp, (int)pid, 0);
        /* Program unknown: the name is argv[0]. */
        import_executed(st->imp, (int)pid, "", argv1(l->command));
    }
    if (cordon_map_put(st->procs, key, (void *)pid) < 0)
        st->imp->oom = true;
    return (int)pid;
}

static void apply(struct state *st, const char *file, size_t line_no, const struct line *l) {
    const struct call_kind *k = kind_of(l->call);
    if (!k)
        return; /* read, fstat64, disk I/O: no path, and often the kernel's */
    struct cordon_import *imp = st->imp;
    int pid = pid_of(st, l);
    uint64_t t = t_ns(st, l->t_us);
    int err = import_errno_from_bsd(l->err);
    char abs[PATH_MAX];
    if (k->kind == K_CLOSE) {
        if (l->has_fd && !err)
            import_set_fd(imp, pid, l->fd, NULL);
        return;
    }
    if (k->kind == K_FCHDIR) {
        if (l->has_fd && !err && import_absolute(imp, pid, l->fd, ".", abs)) {
            import_event(imp, pid, t, CORDON_IMPORT_CHDIR, IMPORT_AT_FDCWD, abs, 0, l->call);
            import_set_cwd(imp, pid, abs);
        }
        return;
    }
    if (!l->path || !l->path[0]) {
        import_warn(imp, file, line_no, "'%s' without a path", l->call);
        return;
    }
    switch (k->kind) {
    case K_OPEN:
        import_event(imp, pid, t, op_of_mode(l->has_mode ? l->mode : ""), l->dirfd, l->path, err,
                     l->call);
        if (l->has_fd && !err) {
            import_absolute(imp, pid, l->dirfd, l->path, abs);
            import_set_fd(imp, pid, l->fd, abs);
        }
        break;
    case K_FIXED:
        import_event(imp, pid, t, k->op, l->dirfd, l->path, err, l->call);
        break;
    case K_CHDIR:
        import_event(imp, pid, t, CORDON_IMPORT_CHDIR, l->dirfd, l->path, err, l->call);
        if (!err) {
            import_absolute(imp, pid, l->dirfd, l->path, abs);
            import_set_cwd(imp, pid, abs);
        }
        break;
    case K_EXEC:
    case K_SPAWN:
        import_event(imp, pid, t, CORDON_IMPORT_EXEC, l->dirfd, l->path, err, l->call);
        if (err)
            break;
        import_absolute(imp, pid, l->dirfd, l->path, abs);
        if (k->kind == K_EXEC)
            import_executed(imp, pid, abs, argv1(basename_of(abs)));
        if (st->n_pending == MAX_PENDING)
            drop_pending(st, 0);
        char *exe = strdup(abs);
        if (!exe) {
            imp->oom = true;
            break;
        }
        st->pending[st->n_pending++] = (struct pending){k->kind == K_SPAWN, pid, exe, t};
        break;
    case K_NONE:
    case K_CLOSE:
    case K_FCHDIR:
    default:
        break;
    }
}

int cordon_import_fs_usage(struct cordon_import *imp, const struct cordon_import_source *srcs,
                           size_t n, struct cordon_error *err) {
    struct state st = {.imp = imp};
    st.procs = cordon_map_new(256);
    st.used = cordon_map_new(256);
    struct cordon_strbuf lb = CORDON_STRBUF_INIT;
    const char *first_file = n ? srcs[0].name : NULL;
    size_t first_line = 0;
    char first_why[160] = "";
    int r = 0;
    if (!st.procs || !st.used) {
        imp->oom = true;
        goto out;
    }
    for (size_t k = 0; k < n && !imp->oom; k++) {
        size_t line_no = 0;
        for (size_t pos = 0; pos < srcs[k].len;) {
            const char *l = srcs[k].text + pos;
            const char *nl = memchr(l, '\n', srcs[k].len - pos);
            size_t len = nl ? (size_t)(nl - l) : srcs[k].len - pos;
            pos += len + 1;
            line_no++;
            cordon_strbuf_reset(&lb);
            cordon_strbuf_addn(&lb, l, len);
            if (lb.failed) {
                imp->oom = true;
                break;
            }
            for (size_t i = 0; i < lb.len; i++)
                if (!lb.buf[i])
                    lb.buf[i] = '?';
            struct line line;
            const char *why = NULL;
            int pr = parse_line(lb.buf, &line, &why);
            if (pr == 1)
                continue;
            if (pr < 0) {
                char ex[96];
                import_excerpt(l, len, ex);
                if (!first_why[0]) {
                    snprintf(first_why, sizeof first_why, "%s", why);
                    first_file = srcs[k].name;
                    first_line = line_no;
                }
                import_warn(imp, srcs[k].name, line_no, "%s: '%s'", why, ex);
                continue;
            }
            st.recognised++;
            if (!line.has_tid && !st.warned_narrow) {
                st.warned_narrow = true;
                import_warn(imp, srcs[k].name, line_no,
                            "narrow fs_usage output (run it with -w): no errors are shown, every "
                            "call is taken as succeeded");
            }
            apply(&st, srcs[k].name, line_no, &line);
        }
    }
out:
    imp->understood += st.recognised;
    if (imp->oom)
        r = cordon_error_set(err, ENOMEM, first_file, 0, 0, "out of memory");
    else if (!st.recognised)
        r = cordon_error_set(err, EINVAL, first_file, (int)first_line, 0,
                             "not an fs_usage log: no fs_usage lines found (expected 'fs_usage -w "
                             "-f filesys' output: 'HH:MM:SS.micro  call ...  path  elapsed  "
                             "command.thread')%s%s",
                             first_why[0] ? "; the first: " : "", first_why);
    for (size_t i = 0; i < st.n_pending; i++)
        free(st.pending[i].exe);
    cordon_strbuf_release(&lb);
    cordon_map_free(st.procs);
    cordon_map_free(st.used);
    return r;
}
