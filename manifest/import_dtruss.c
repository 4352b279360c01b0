/* Importing dtruss logs (macOS, DTrace): `sudo dtruss -f cmd 2> log`.
 *
 * One line a completed call: with -f (or -p) the pid and the thread id in
 * hex; with -d, -e, -o numeric columns (skipped); then the call, its
 * arguments, the result and the errno:
 *
 *    4103/0x2f1c5:  open("/Users/u/.gitconfig\0", 0x1000000, 0x0)   = 3 0
 *    4103/0x2f1c5:  open("/etc/gitconfig\0", 0x1000000, 0x0)        = -1 Err#2
 *    4102/0x2f1b2:  fork()                                           = 4103 0
 *
 * Strings are DTrace's %S: quoted, C escapes, the terminating \0 shown (the
 * path ends there). Numbers are hex or decimal. A failure is `-1 Err#N`, N
 * a macOS errno. Only calls that print their path as a string give events;
 * a bare pointer is skipped. Header lines, `dtrace:` notices, stack frames
 * and the -c counts are skipped; `dtrace: error ...` (lost events) warns.
 *
 * Processes: a parent's fork or vfork returns the child's pid. posix_spawn
 * prints no child pid: a child no fork claims is taken as the child of the
 * oldest unmatched successful posix_spawn (and given back if a fork claims
 * it later). Without -f no pids are printed and everything is pid 1. argv
 * is not printed: an exec'd process's argv is its program's file name.
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

#define NO_PID 1
#define DARWIN_AT_FDCWD (-2)
#define MAX_ARGS 16
#define MAX_QUEUE 256

enum how { H_OPEN, H_FIXED, H_RENAME, H_EXEC, H_SPAWN, H_CHDIR, H_FCHDIR, H_CLOSE, H_FORK };

struct spec {
    const char *name;
    signed char dir[2], path[2]; /* -1: none */
    enum how how;
    signed char flags; /* H_OPEN: the flags argument */
    enum cordon_import_op op;
};

#define P0                                                                                         \
    {-1, -1}, {                                                                                    \
        0, -1                                                                                      \
    }
#define P1                                                                                         \
    {-1, -1}, {                                                                                    \
        1, -1                                                                                      \
    }
#define AT                                                                                         \
    {0, -1}, {                                                                                     \
        1, -1                                                                                      \
    }
#define P01                                                                                        \
    {-1, -1}, {                                                                                    \
        0, 1                                                                                       \
    }
#define AT2                                                                                        \
    {0, 2}, {                                                                                      \
        1, 3                                                                                       \
    }
#define NONE                                                                                       \
    {-1, -1}, {                                                                                    \
        -1, -1                                                                                     \
    }

static const struct spec specs[] = {
    {"open", P0, H_OPEN, 1, 0},
    {"open_extended", P0, H_OPEN, 1, 0},
    {"open_dprotected_np", P0, H_OPEN, 1, 0},
    {"guarded_open_np", P0, H_OPEN, 3, 0},
    {"guarded_open_dprotected_np", P0, H_OPEN, 3, 0},
    {"openat", AT, H_OPEN, 2, 0},
    {"openat_dprotected_np", AT, H_OPEN, 2, 0},
    {"stat", P0, H_FIXED, 0, CORDON_IMPORT_STAT},
    {"stat64", P0, H_FIXED, 0, CORDON_IMPORT_STAT},
    {"lstat", P0, H_FIXED, 0, CORDON_IMPORT_STAT},
    {"lstat64", P0, H_FIXED, 0, CORDON_IMPORT_STAT},
    {"stat_extended", P0, H_FIXED, 0, CORDON_IMPORT_STAT},
    {"lstat_extended", P0, H_FIXED, 0, CORDON_IMPORT_STAT},
    {"stat64_extended", P0, H_FIXED, 0, CORDON_IMPORT_STAT},
    {"lstat64_extended", P0, H_FIXED, 0, CORDON_IMPORT_STAT},
    {"statfs", P0, H_FIXED, 0, CORDON_IMPORT_STAT},
    {"statfs64", P0, H_FIXED, 0, CORDON_IMPORT_STAT},
    {"pathconf", P0, H_FIXED, 0, CORDON_IMPORT_STAT},
    {"getattrlist", P0, H_FIXED, 0, CORDON_IMPORT_STAT},
    {"getxattr", P0, H_FIXED, 0, CORDON_IMPORT_STAT},
    {"listxattr", P0, H_FIXED, 0, CORDON_IMPORT_STAT},
    {"fstatat", AT, H_FIXED, 0, CORDON_IMPORT_STAT},
    {"fstatat64", AT, H_FIXED, 0, CORDON_IMPORT_STAT},
    {"getattrlistat", AT, H_FIXED, 0, CORDON_IMPORT_STAT},
    {"access", P0, H_FIXED, 0, CORDON_IMPORT_PROBE},
    {"faccessat", AT, H_FIXED, 0, CORDON_IMPORT_PROBE},
    {"readlink", P0, H_FIXED, 0, CORDON_IMPORT_READLINK},
    {"readlinkat", AT, H_FIXED, 0, CORDON_IMPORT_READLINK},
    {"execve", P0, H_EXEC, 0, 0},
    {"__mac_execve", P0, H_EXEC, 0, 0},
    {"posix_spawn", P1, H_SPAWN, 0, 0},
    {"chdir", P0, H_CHDIR, 0, 0},
    {"pthread_chdir", P0, H_CHDIR, 0, 0},
    {"fchdir", NONE, H_FCHDIR, 0, 0},
    {"pthread_fchdir", NONE, H_FCHDIR, 0, 0},
    {"close", NONE, H_CLOSE, 0, 0},
    {"guarded_close_np", NONE, H_CLOSE, 0, 0},
    {"fork", NONE, H_FORK, 0, 0},
    {"vfork", NONE, H_FORK, 0, 0},
    {"__fork", NONE, H_FORK, 0, 0},
    {"unlink", P0, H_FIXED, 0, CORDON_IMPORT_DELETE},
    {"rmdir", P0, H_FIXED, 0, CORDON_IMPORT_DELETE},
    {"unlinkat", AT, H_FIXED, 0, CORDON_IMPORT_DELETE},
    {"rename", P01, H_RENAME, 0, 0},
    {"renameat", AT2, H_RENAME, 0, 0},
    {"renameatx_np", AT2, H_RENAME, 0, 0},
    {"mkdir", P0, H_FIXED, 0, CORDON_IMPORT_CREATE},
    {"mkfifo", P0, H_FIXED, 0, CORDON_IMPORT_CREATE},
    {"mknod", P0, H_FIXED, 0, CORDON_IMPORT_CREATE},
    {"mkdirat", AT, H_FIXED, 0, CORDON_IMPORT_CREATE},
    {"mkfifoat", AT, H_FIXED, 0, CORDON_IMPORT_CREATE},
    {"mknodat", AT, H_FIXED, 0, CORDON_IMPORT_CREATE},
    {"symlink", P1, H_FIXED, 0, CORDON_IMPORT_CREATE},
    {"symlinkat", {1, -1}, {2, -1}, H_FIXED, 0, CORDON_IMPORT_CREATE},
    {"link", P01, H_FIXED, 0, CORDON_IMPORT_CREATE},
    {"linkat", AT2, H_FIXED, 0, CORDON_IMPORT_CREATE},
    {"chmod", P0, H_FIXED, 0, CORDON_IMPORT_WRITE},
    {"chown", P0, H_FIXED, 0, CORDON_IMPORT_WRITE},
    {"lchown", P0, H_FIXED, 0, CORDON_IMPORT_WRITE},
    {"utimes", P0, H_FIXED, 0, CORDON_IMPORT_WRITE},
    {"lutimes", P0, H_FIXED, 0, CORDON_IMPORT_WRITE},
    {"truncate", P0, H_FIXED, 0, CORDON_IMPORT_WRITE},
    {"chflags", P0, H_FIXED, 0, CORDON_IMPORT_WRITE},
    {"setxattr", P0, H_FIXED, 0, CORDON_IMPORT_WRITE},
    {"removexattr", P0, H_FIXED, 0, CORDON_IMPORT_WRITE},
    {"setattrlist", P0, H_FIXED, 0, CORDON_IMPORT_WRITE},
    {"fchmodat", AT, H_FIXED, 0, CORDON_IMPORT_WRITE},
    {"fchownat", AT, H_FIXED, 0, CORDON_IMPORT_WRITE},
    {"utimensat", AT, H_FIXED, 0, CORDON_IMPORT_WRITE},
};

static const struct spec *spec_of(const char *name) {
    char n[64];
    snprintf(n, sizeof n, "%s", name);
    size_t len = strlen(n);
    if (len > 9 && !strcmp(n + len - 9, "_nocancel"))
        n[len - 9] = '\0';
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(specs); i++)
        if (!strcmp(specs[i].name, n))
            return &specs[i];
    return NULL;
}

struct arg {
    bool str;
    char *text; /* the string (unescaped, up to its \0), or the raw text trimmed */
};

struct call {
    int pid; /* 0: none printed */
    char name[64];
    struct arg args[MAX_ARGS];
    size_t n_args;
    long long ret;
    int err; /* macOS errno */
};

static void call_release(struct call *c) {
    for (size_t i = 0; i < c->n_args; i++)
        free(c->args[i].text);
    c->n_args = 0;
}

static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
static bool is_xdigit(char c) {
    return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}
static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* `0x1B6`, `0xFFFFFFFE`, `3`, `-2`; a 32-bit hex value is sign-extended
 * (dtruss prints an int fd of -2 as 0xFFFFFFFE). */
static bool parse_int(const char *s, long long *ret) {
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        if (!s[2])
            return false;
        unsigned long long v = 0;
        for (const char *p = s + 2; *p; p++) {
            if (!is_xdigit(*p) || v >> 60)
                return false;
            v = v * 16 + (unsigned)(is_digit(*p) ? *p - '0' : (*p | 0x20) - 'a' + 10);
        }
        *ret = v <= 0xffffffffULL ? (long long)(int32_t)(uint32_t)v : (long long)v;
        return true;
    }
    const char *p = s;
    if (*p == '-')
        p++;
    if (!*p)
        return false;
    long long v = 0;
    for (; *p; p++) {
        if (!is_digit(*p) || v > (INT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (*p - '0');
    }
    *ret = s[0] == '-' ? -v : v;
    return true;
}

static bool int_arg(const struct call *c, size_t i, long long *ret) {
    return i < c->n_args && !c->args[i].str && parse_int(c->args[i].text, ret);
}

enum parsed { P_SKIP, P_LOST, P_COUNTS, P_CALL, P_BAD };

/* Push the argument collected so far. */
static bool finish_arg(struct call *c, struct cordon_strbuf *raw, struct cordon_strbuf *str,
                       bool has_str, size_t strings, bool at_close) {
    const char *t = raw->buf;
    while (is_space(*t))
        t++;
    size_t n = strlen(t);
    while (n && is_space(t[n - 1]))
        n--;
    char *text;
    bool is_str = false;
    if (has_str && strings == 1 && !n) {
        text = strdup(str->buf);
        is_str = true;
    } else if (!strings && !n && at_close) {
        cordon_strbuf_reset(raw);
        return true; /* `f()`: no argument */
    } else {
        text = strndup(t, n);
    }
    cordon_strbuf_reset(raw);
    cordon_strbuf_reset(str);
    if (!text)
        return false;
    if (c->n_args == MAX_ARGS) {
        free(text);
        return true;
    }
    c->args[c->n_args++] = (struct arg){is_str, text};
    return true;
}

/* The arguments after `(` up to the matching `)`; *ret_after after it.
 * NULL on success, else why not. */
static const char *parse_args(const char *s, struct call *c, const char **ret_after) {
    struct cordon_strbuf raw = CORDON_STRBUF_INIT, str = CORDON_STRBUF_INIT;
    bool has_str = false;
    size_t strings = 0, depth = 0;
    const char *why = "unterminated argument list: cut short?";
    for (const char *p = s; *p; p++) {
        char ch = *p;
        if (ch == '"') {
            strings++;
            bool first = !has_str, ended = false, closed = false;
            for (p++; *p; p++) {
                if (*p == '"') {
                    closed = true;
                    break;
                }
                unsigned v;
                if (*p == '\\') {
                    char e = *++p;
                    if (!e)
                        break;
                    switch (e) {
                    case 'n':
                        v = '\n';
                        break;
                    case 't':
                        v = '\t';
                        break;
                    case 'r':
                        v = '\r';
                        break;
                    case 'a':
                        v = 7;
                        break;
                    case 'b':
                        v = 8;
                        break;
                    case 'f':
                        v = 12;
                        break;
                    case 'v':
                        v = 11;
                        break;
                    case 'e':
                        v = 27;
                        break;
                    default:
                        if (e >= '0' && e <= '7') {
                            v = (unsigned)(e - '0');
                            for (int k = 0; k < 2 && p[1] >= '0' && p[1] <= '7'; k++)
                                v = v * 8 + (unsigned)(*++p - '0');
                            v &= 0xff;
                        } else {
                            v = (unsigned char)e;
                        }
                    }
                    /* The string ends at its NUL: what follows is no path. */
                    if (!v)
                        ended = true;
                    else if (!ended && first)
                        cordon_strbuf_addn(&str, (char[]){(char)v}, 1);
                } else if (!ended && first) {
                    cordon_strbuf_addn(&str, p, 1);
                }
            }
            if (!closed) {
                why = "unterminated string argument";
                goto fail;
            }
            has_str = true;
        } else if (ch == '(' || ch == '[') {
            depth++;
            cordon_strbuf_addn(&raw, p, 1);
        } else if (ch == ')' && !depth) {
            if (!finish_arg(c, &raw, &str, has_str, strings, true))
                goto oom;
            *ret_after = p + 1;
            cordon_strbuf_release(&raw);
            cordon_strbuf_release(&str);
            return NULL;
        } else if (ch == ')' || ch == ']') {
            if (depth)
                depth--;
            cordon_strbuf_addn(&raw, p, 1);
        } else if (ch == ',' && !depth) {
            if (!finish_arg(c, &raw, &str, has_str, strings, false))
                goto oom;
            has_str = false;
            strings = 0;
        } else {
            cordon_strbuf_addn(&raw, p, 1);
        }
        if (!*p)
            break;
    }
fail:
    cordon_strbuf_release(&raw);
    cordon_strbuf_release(&str);
    return why;
oom:
    cordon_strbuf_release(&raw);
    cordon_strbuf_release(&str);
    return "out of memory";
}

/* A -c summary line: `open   12`. */
static bool is_count_line(const char *s) {
    char *copy = strdup(s);
    if (!copy)
        return false;
    char *toks[4];
    size_t n = 0;
    for (char *t = strtok(copy, " \t\r"); t; t = strtok(NULL, " \t\r")) {
        if (n == 4) {
            free(copy);
            return false;
        }
        toks[n++] = t;
    }
    bool ok = true;
    if (n) {
        ok = n >= 2 && n <= 3;
        for (const char *p = toks[n - 1]; ok && *p; p++)
            ok = is_digit(*p);
        for (size_t i = 0; ok && i + 1 < n; i++)
            for (const char *p = toks[i]; ok && *p; p++)
                ok = is_digit(*p) || ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') || *p == '_';
    }
    free(copy);
    return ok;
}

static enum parsed parse_line(const char *raw, struct call *c, const char **why, char *msg,
                              size_t msg_size) {
    const char *s = raw;
    while (is_space(*s))
        s++;
    size_t n = strlen(s);
    while (n && is_space(s[n - 1]))
        n--;
    if (!n)
        return P_SKIP;
    if (!strncmp(s, "PID/", 4) || strstr(s, "SYSCALL(args)"))
        return P_SKIP;
    if (!strncmp(s, "dtrace:", 7)) {
        const char *m = s + 7;
        while (is_space(*m))
            m++;
        if (!strncmp(m, "error", 5) || strstr(m, "drops")) {
            snprintf(msg, msg_size, "%.120s", m);
            return P_LOST;
        }
        return P_SKIP;
    }
    if (!strncmp(s, "UNEXPECTED RETURN:", 18))
        return P_SKIP;
    if (!strncmp(s, "CALL", 4) && strstr(s, "COUNT"))
        return P_COUNTS;
    /* A -s stack frame: libsystem_kernel.dylib`__open+0xa, or an address. */
    if ((strchr(s, '`') && !strchr(s, '(')) || (!strncmp(s, "0x", 2) && !memchr(s, ' ', n)))
        return P_SKIP;
    memset(c, 0, sizeof *c);
    /* `4103/0x2f1c5:` */
    const char *p = s;
    while (is_digit(*p))
        p++;
    if (p > s && *p == '/') {
        const char *tid = p + 1, *colon = strchr(tid, ':');
        bool ok = colon && colon > tid;
        if (ok && !strncmp(tid, "0x", 2)) {
            ok = colon > tid + 2;
            for (const char *q = tid + 2; ok && q < colon; q++)
                ok = is_xdigit(*q);
        } else {
            for (const char *q = tid; ok && q < colon; q++)
                ok = is_digit(*q);
        }
        if (ok) {
            long long pid = 0;
            for (const char *q = s; q < p; q++) {
                pid = pid * 10 + (*q - '0');
                if (pid > INT32_MAX) {
                    *why = "process id out of range";
                    return P_BAD;
                }
            }
            c->pid = (int)pid;
            s = colon + 1;
        }
    }
    /* -d, -e, -o columns. */
    for (;;) {
        while (is_space(*s))
            s++;
        const char *e = s;
        while (is_digit(*e))
            e++;
        if (e > s && is_space(*e))
            s = e;
        else
            break;
    }
    const char *ne = s;
    while (is_digit(*ne) || ((*ne | 0x20) >= 'a' && (*ne | 0x20) <= 'z') || *ne == '_')
        ne++;
    if (ne == s || is_digit(*s) || (size_t)(ne - s) >= sizeof c->name) {
        *why = "not a dtruss line";
        return P_BAD;
    }
    if (*ne != '(') {
        *why = "not a dtruss line (no argument list)";
        return P_BAD;
    }
    memcpy(c->name, s, (size_t)(ne - s));
    c->name[ne - s] = '\0';
    const char *after;
    *why = parse_args(ne + 1, c, &after);
    if (*why) {
        call_release(c);
        return P_BAD;
    }
    while (is_space(*after))
        after++;
    if (*after != '=') {
        *why = "no result ('= ret errno'): cut short?";
        call_release(c);
        return P_BAD;
    }
    char tok[3][64];
    size_t nt = 0;
    for (const char *q = after + 1; *q && nt <= 2;) {
        while (is_space(*q))
            q++;
        if (!*q)
            break;
        const char *st = q;
        while (*q && !is_space(*q))
            q++;
        if (nt < 3)
            snprintf(tok[nt], sizeof tok[nt], "%.*s", (int)(q - st), st);
        nt++;
    }
    if (!nt) {
        *why = "no return value";
    } else if (!parse_int(tok[0], &c->ret)) {
        snprintf(msg, msg_size, "bad return value '%.40s'", tok[0]);
        *why = msg;
    } else if (nt < 2) {
        *why = "no errno after the return value";
    } else {
        long long e;
        const char *et = !strncmp(tok[1], "Err#", 4) ? tok[1] + 4 : tok[1];
        if (!parse_int(et, &e) || !strncmp(et, "0x", 2) || e < INT32_MIN || e > INT32_MAX) {
            snprintf(msg, msg_size, "bad errno '%.40s'", tok[1]);
            *why = msg;
        } else if (nt > 2) {
            *why = "unexpected text after the errno";
        } else {
            c->err = (int)e;
            return P_CALL;
        }
    }
    call_release(c);
    return P_BAD;
}

struct spawn {
    int spawner;
    char *exe; /* may be NULL */
};

struct state {
    struct cordon_import *imp;
    size_t recognised;
    bool counts;
    int root;
    struct cordon_map *seen, *linked; /* "pid" -> 1 */
    int orphans[MAX_QUEUE];
    size_t n_orphans;
    struct spawn spawners[MAX_QUEUE];
    size_t n_spawners;
    /* children matched to a posix_spawn by inference, with that spawn */
    struct {
        int child;
        struct spawn spawn;
    } * inferred;
    size_t n_inferred, cap_inferred;
};

static bool in_set(struct cordon_map *m, int pid) {
    char key[16];
    snprintf(key, sizeof key, "%d", pid);
    return cordon_map_get(m, key) != NULL;
}

/* Add `pid`; false if it was there. */
static bool set_add(struct state *st, struct cordon_map *m, int pid) {
    if (in_set(m, pid))
        return false;
    char key[16];
    snprintf(key, sizeof key, "%d", pid);
    if (cordon_map_put(m, key, (void *)1) < 0)
        st->imp->oom = true;
    return true;
}

static const char *base_of(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static char **argv1(const char *s) {
    char **v = calloc(2, sizeof *v);
    if (v && !(v[0] = strdup(s))) {
        free(v);
        return NULL;
    }
    return v;
}

/* A child first seen before its parent was known starts in the parent's
 * directory. */
static void inherit_cwd(struct state *st, int child, int parent) {
    struct import_proc *c = import_process(st->imp, child, 0);
    struct import_proc *p = import_process(st->imp, parent, 0);
    if (c && p && !c->cwd && p->cwd)
        import_set_cwd(st->imp, child, p->cwd);
}

static ssize_t inferred_index(struct state *st, int child) {
    for (size_t i = 0; i < st->n_inferred; i++)
        if (st->inferred[i].child == child)
            return (ssize_t)i;
    return -1;
}

static void match_spawns(struct state *st) {
    while (st->n_spawners) {
        int spawner = st->spawners[0].spawner;
        size_t i = 0;
        while (i < st->n_orphans && st->orphans[i] == spawner)
            i++;
        if (i == st->n_orphans)
            break;
        int child = st->orphans[i];
        memmove(&st->orphans[i], &st->orphans[i + 1], (st->n_orphans - i - 1) * sizeof(int));
        st->n_orphans--;
        struct spawn sp = st->spawners[0];
        memmove(&st->spawners[0], &st->spawners[1], (st->n_spawners - 1) * sizeof *st->spawners);
        st->n_spawners--;
        import_spawned(st->imp, child, spawner);
        inherit_cwd(st, child, spawner);
        if (sp.exe)
            import_executed(st->imp, child, sp.exe, argv1(base_of(sp.exe)));
        set_add(st, st->linked, child);
        if (cordon_grow((void **)&st->inferred, &st->cap_inferred, st->n_inferred + 1,
                        sizeof *st->inferred) < 0) {
            free(sp.exe);
            st->imp->oom = true;
            return;
        }
        st->inferred[st->n_inferred].child = child;
        st->inferred[st->n_inferred].spawn = sp;
        st->n_inferred++;
    }
}

static void see(struct state *st, int pid) {
    if (!set_add(st, st->seen, pid))
        return;
    import_process(st->imp, pid, 0);
    if (!st->root) {
        st->root = pid;
        set_add(st, st->linked, pid);
    } else if (!in_set(st->linked, pid)) {
        if (st->n_orphans == MAX_QUEUE) {
            memmove(&st->orphans[0], &st->orphans[1], (MAX_QUEUE - 1) * sizeof(int));
            st->n_orphans--;
        }
        st->orphans[st->n_orphans++] = pid;
        match_spawns(st);
    }
}

static void push_spawner_front(struct state *st, struct spawn sp) {
    if (st->n_spawners == MAX_QUEUE) {
        free(st->spawners[MAX_QUEUE - 1].exe);
        st->n_spawners--;
    }
    memmove(&st->spawners[1], &st->spawners[0], st->n_spawners * sizeof *st->spawners);
    st->spawners[0] = sp;
    st->n_spawners++;
}

static void forked(struct state *st, int child, int parent) {
    if (child == parent || child == st->root)
        return;
    ssize_t inf = inferred_index(st, child);
    if (in_set(st->linked, child) && inf < 0)
        return; /* already claimed (vfork prints its return twice) */
    if (inf >= 0) {
        /* The guess was wrong: the spawn still waits for its child. */
        push_spawner_front(st, st->inferred[inf].spawn);
        st->inferred[inf] = st->inferred[--st->n_inferred];
    }
    for (size_t i = 0; i < st->n_orphans; i++)
        if (st->orphans[i] == child) {
            memmove(&st->orphans[i], &st->orphans[i + 1], (st->n_orphans - i - 1) * sizeof(int));
            st->n_orphans--;
            break;
        }
    bool existed = !set_add(st, st->seen, child);
    set_add(st, st->linked, child);
    import_spawned(st->imp, child, parent);
    if (existed)
        inherit_cwd(st, child, parent);
    match_spawns(st);
}

static void apply(struct state *st, const struct call *c) {
    struct cordon_import *imp = st->imp;
    int pid = c->pid ? c->pid : NO_PID;
    see(st, pid);
    const struct spec *sp = spec_of(c->name);
    if (!sp)
        return;
    int err = import_errno_from_bsd(c->err);
    long long v;
    char abs[PATH_MAX];
    switch (sp->how) {
    case H_FORK:
        if (!err && c->ret > 0 && c->ret <= INT32_MAX)
            forked(st, (int)c->ret, pid);
        return;
    case H_CLOSE:
        if (!err && int_arg(c, 0, &v))
            import_set_fd(imp, pid, v, NULL);
        return;
    case H_FCHDIR:
        if (!err && int_arg(c, 0, &v) && import_absolute(imp, pid, v, ".", abs)) {
            import_event(imp, pid, 0, CORDON_IMPORT_CHDIR, IMPORT_AT_FDCWD, abs, 0, c->name);
            import_set_cwd(imp, pid, abs);
        }
        return;
    case H_OPEN:
    case H_FIXED:
    case H_RENAME:
    case H_EXEC:
    case H_SPAWN:
    case H_CHDIR:
    default:
        break;
    }
    /* The paths the line shows (older dtruss prints some as pointers). */
    struct {
        long long dirfd;
        const char *path;
    } paths[2];
    size_t np = 0;
    for (int k = 0; k < 2 && sp->path[k] >= 0; k++) {
        size_t ai = (size_t)sp->path[k];
        if (ai >= c->n_args || !c->args[ai].str || !c->args[ai].text[0])
            continue;
        long long dirfd = IMPORT_AT_FDCWD;
        if (sp->dir[k] >= 0 && int_arg(c, (size_t)sp->dir[k], &v) && v != DARWIN_AT_FDCWD)
            dirfd = v;
        paths[np].dirfd = dirfd;
        paths[np].path = c->args[ai].text;
        np++;
    }
    if (sp->how == H_SPAWN && !err && c->ret == 0) {
        char *exe = NULL;
        if (np) {
            import_absolute(imp, pid, paths[0].dirfd, paths[0].path, abs);
            exe = strdup(abs);
            if (!exe)
                imp->oom = true;
        }
        if (st->n_spawners == MAX_QUEUE) {
            free(st->spawners[0].exe);
            memmove(&st->spawners[0], &st->spawners[1], (MAX_QUEUE - 1) * sizeof *st->spawners);
            st->n_spawners--;
        }
        st->spawners[st->n_spawners++] = (struct spawn){pid, exe};
        match_spawns(st);
    }
    for (size_t i = 0; i < np; i++) {
        enum cordon_import_op op;
        switch (sp->how) {
        case H_OPEN: {
            long long flags = 0;
            int_arg(c, (size_t)sp->flags, &flags);
            char f[96];
            /* macOS flags: O_WRONLY 1, O_RDWR 2, O_APPEND 8, O_CREAT 0x200,
             * O_TRUNC 0x400, O_EXCL 0x800, O_EVTONLY 0x8000 (no data read,
             * as Linux's O_PATH), O_DIRECTORY 0x100000. */
            snprintf(f, sizeof f, "%s%s%s%s%s%s%s",
                     flags & 2   ? "O_RDWR"
                     : flags & 1 ? "O_WRONLY"
                                 : "O_RDONLY",
                     flags & 0x8 ? "|O_APPEND" : "", flags & 0x200 ? "|O_CREAT" : "",
                     flags & 0x400 ? "|O_TRUNC" : "", flags & 0x800 ? "|O_EXCL" : "",
                     flags & 0x8000 ? "|O_PATH" : "", flags & 0x100000 ? "|O_DIRECTORY" : "");
            op = import_op_of_flags_text(f, strlen(f));
            break;
        }
        case H_RENAME:
            op = i == 0 ? CORDON_IMPORT_DELETE : CORDON_IMPORT_CREATE;
            break;
        case H_EXEC:
        case H_SPAWN:
            op = CORDON_IMPORT_EXEC;
            break;
        case H_CHDIR:
            op = CORDON_IMPORT_CHDIR;
            break;
        case H_FIXED:
        case H_FCHDIR:
        case H_CLOSE:
        case H_FORK:
        default:
            op = sp->op;
            break;
        }
        import_event(imp, pid, 0, op, paths[i].dirfd, paths[i].path, err, c->name);
        if (err)
            continue;
        import_absolute(imp, pid, paths[i].dirfd, paths[i].path, abs);
        if (sp->how == H_OPEN && c->ret >= 0)
            import_set_fd(imp, pid, c->ret, abs);
        else if (sp->how == H_EXEC)
            import_executed(imp, pid, abs, argv1(base_of(abs)));
        else if (sp->how == H_CHDIR)
            import_set_cwd(imp, pid, abs);
    }
}

int cordon_import_dtruss(struct cordon_import *imp, const struct cordon_import_source *srcs,
                         size_t n, struct cordon_error *err) {
    struct state st = {.imp = imp};
    st.seen = cordon_map_new(256);
    st.linked = cordon_map_new(256);
    struct cordon_strbuf lb = CORDON_STRBUF_INIT;
    const char *first_file = n ? srcs[0].name : NULL;
    size_t first_line = 0;
    char first_why[160] = "";
    int r = 0;
    if (!st.seen || !st.linked)
        imp->oom = true;
    for (size_t k = 0; k < n && !imp->oom; k++) {
        size_t line_no = 0;
        st.counts = false;
        for (size_t pos = 0; pos < srcs[k].len && !imp->oom;) {
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
            if (st.counts) {
                if (is_count_line(lb.buf))
                    continue;
                st.counts = false;
            }
            struct call c;
            const char *why = NULL;
            char msg[160];
            switch (parse_line(lb.buf, &c, &why, msg, sizeof msg)) {
            case P_SKIP:
                break;
            case P_LOST:
                import_warn(imp, srcs[k].name, line_no, "dtrace lost events: %s", msg);
                break;
            case P_COUNTS:
                st.counts = true;
                break;
            case P_CALL:
                st.recognised++;
                apply(&st, &c);
                call_release(&c);
                break;
            case P_BAD:
            default: {
                char ex[96];
                import_excerpt(l, len, ex);
                if (!first_why[0]) {
                    snprintf(first_why, sizeof first_why, "%s", why);
                    first_file = srcs[k].name;
                    first_line = line_no;
                }
                import_warn(imp, srcs[k].name, line_no, "%s: '%s'", why, ex);
                break;
            }
            }
        }
    }
    imp->understood += st.recognised;
    if (imp->oom)
        r = cordon_error_set(err, ENOMEM, first_file, 0, 0, "out of memory");
    else if (!st.recognised)
        r = cordon_error_set(err, EINVAL, first_file, (int)first_line, 0,
                             "not a dtruss log: no dtruss lines found (expected 'dtruss -f' "
                             "output: 'PID/0xTID:  call(args) = ret errno')%s%s",
                             first_why[0] ? "; the first: " : "", first_why);
    for (size_t i = 0; i < st.n_spawners; i++)
        free(st.spawners[i].exe);
    for (size_t i = 0; i < st.n_inferred; i++)
        free(st.inferred[i].spawn.exe);
    free(st.inferred);
    cordon_strbuf_release(&lb);
    cordon_map_free(st.seen);
    cordon_map_free(st.linked);
    return r;
}
