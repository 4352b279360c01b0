/* Importing kdump(1) output: the text form of a BSD ktrace(1) log (OpenBSD
 * and FreeBSD; NetBSD prints nearly the same).
 *
 * Take the log with `ktrace -di -f ktrace.out COMMAND` and print it with
 * `kdump -f ktrace.out > log`; -T, -E, -R timestamps, -H thread ids, -A, -S,
 * -d and -n are understood. A record is a header and its data:
 *
 *    12345 git      CALL  open(0x7f7ffffd1234,0x10000<O_RDONLY|O_CLOEXEC>)
 *    12345 git      NAMI  "/home/u/.gitconfig"
 *    12345 git      RET   open 3
 *    12345 git      RET   open -1 errno 2 No such file or directory
 *    12345/100123 git      CALL  ...                      (OpenBSD -H)
 *      100 100100 sh       RET   vfork 101/0x65           (FreeBSD -H)
 *    12345 sh       ARGS                                  (OpenBSD; tab-led lines follow)
 *
 * A CALL opens a pending call for its (pid, tid); the NAMI records that
 * follow are its paths (the first is the path; rename and link take the
 * first and the last); ARGS gives an execve's argv; the RET with the same
 * call name closes it. BSD errno numbers become Linux's. `RET fork N` makes
 * N the child (the log is scanned for these first, so a child always starts
 * with its parent's cwd); `CALL exit(N)` ends a process; a fatal
 * `PSIG SIGxxx SIG_DFL` as a process's last record ends it by that signal.
 * Multi-line data (GIO, STRU, ENV, hex dumps) is skipped; NAMI and ARGS
 * strings wrapped by OpenBSD's kdump (`\` at the end of a line, a tab at the
 * start of the next) are joined; vis(3) escapes are undone.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/types.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cordon/error.h>
#include <cordon/import.h>
#include <cordon/manifest.h>
#include <cordon/util.h>

#include "import-internal.h"

#define MAX_PENDING 16
#define MAX_ARGS 16

enum kind { K_CALL, K_RET, K_NAMI, K_ARGS, K_PSIG, K_DATA, K_NONE };

static enum kind kind_of(const char *t, size_t n) {
    static const char *const data[] = {"GIO",  "STRU", "USER", "ENV",  "CSW",  "SCTL", "CAP",
                                       "PFLT", "PRET", "PLDG", "STRT", "EMUL", "MISC", "MIB"};
#define IS(s) (n == sizeof(s) - 1 && !strncmp(t, s, n))
    if (IS("CALL"))
        return K_CALL;
    if (IS("RET"))
        return K_RET;
    if (IS("NAMI"))
        return K_NAMI;
    if (IS("ARGS"))
        return K_ARGS;
    if (IS("PSIG"))
        return K_PSIG;
#undef IS
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(data); i++)
        if (strlen(data[i]) == n && !strncmp(t, data[i], n))
            return K_DATA;
    if (n > 8 && !strncmp(t, "UNKNOWN(", 8))
        return K_DATA;
    return K_NONE;
}

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

enum lexed { L_HEAD, L_CONT, L_BLANK, L_DROPPED, L_BAD };

struct head {
    int pid;
    long long tid;
    char comm[64];
    bool has_t;
    uint64_t t;
    enum kind kind;
    const char *data;
};

static bool is_timestamp(const char *s, size_t n) {
    if (n && s[0] == '-') {
        s++;
        n--;
    }
    const char *dot = memchr(s, '.', n);
    return dot && all_digits(s, (size_t)(dot - s)) &&
           all_digits(dot + 1, n - (size_t)(dot - s) - 1);
}

static uint64_t timestamp_ns(const char *s, size_t n) {
    if (s[0] == '-')
        return 0;
    const char *dot = memchr(s, '.', n);
    if (!dot)
        return 0;
    uint64_t secs = 0;
    for (const char *p = s; p < dot; p++) {
        if (secs > UINT64_MAX / 10000000000ULL)
            return UINT64_MAX;
        secs = secs * 10 + (uint64_t)(*p - '0');
    }
    uint64_t ns = 0;
    size_t fl = n - (size_t)(dot + 1 - s);
    for (size_t i = 0; i < 9; i++)
        ns = ns * 10 + (i < fl ? (uint64_t)(dot[1 + i] - '0') : 0);
    if (secs > (UINT64_MAX - ns) / 1000000000ULL)
        return UINT64_MAX;
    return secs * 1000000000ULL + ns;
}

/* FreeBSD -A prints the ABI (F64, L32, ...) after the record type. */
static bool is_abi_tag(const char *s, size_t n) {
    return n == 3 && strchr("FLCU", s[0]) &&
           (!strncmp(s + 1, "64", 2) || !strncmp(s + 1, "32", 2) || !strncmp(s + 1, "00", 2));
}

struct tok {
    size_t at, len;
};

static enum lexed lex(const char *line, struct head *h, const char **why) {
    size_t n = strlen(line);
    bool blank = true;
    for (size_t i = 0; i < n && blank; i++)
        blank = line[i] == ' ' || line[i] == '\t' || line[i] == '\r';
    if (blank)
        return L_BLANK;
    if (line[0] == '\t')
        return L_CONT;
    bool indented = line[0] == ' ';
    struct tok toks[16];
    size_t nt = 0;
    for (size_t i = 0; i < n && nt < 16;) {
        while (i < n && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i >= n)
            break;
        size_t st = i;
        while (i < n && line[i] != ' ' && line[i] != '\t')
            i++;
        toks[nt++] = (struct tok){st, i - st};
    }
    const char *first = line + toks[0].at;
    size_t fl = toks[0].len;
    const char *slash = memchr(first, '/', fl);
    size_t pl = slash ? (size_t)(slash - first) : fl;
    bool tid_ok = !slash || all_digits(slash + 1, fl - pl - 1);
    if (!all_digits(first, pl) || !tid_ok) {
        if (indented)
            return L_CONT;
        *why = "not a kdump record";
        return L_BAD;
    }
    if (pl > 10 || strtoll(first, NULL, 10) > INT32_MAX) {
        *why = "pid out of range";
        return L_BAD;
    }
    memset(h, 0, sizeof *h);
    h->pid = (int)strtol(first, NULL, 10);
    /* The record type: the first keyword after the command name. */
    size_t k = 0;
    for (size_t i = 2; i < nt && !k; i++)
        if (kind_of(line + toks[i].at, toks[i].len) != K_NONE)
            k = i;
    if (!k && nt > 1 && kind_of(line + toks[1].at, toks[1].len) != K_NONE)
        k = 1;
    if (!k) {
        if (strstr(line, "Events dropped"))
            return L_DROPPED;
        *why = "no record type (CALL, RET, NAMI, ...) on this line";
        return L_BAD;
    }
    h->kind = kind_of(line + toks[k].at, toks[k].len);
    size_t lo = 1, hi = k; /* the words between: [tid] comm... [stamps] */
    for (int stamps = 0; hi - lo > 1 && stamps < 3; stamps++) {
        const struct tok *w = &toks[hi - 1];
        if (!is_timestamp(line + w->at, w->len))
            break;
        h->t = timestamp_ns(line + w->at, w->len);
        h->has_t = true;
        hi--;
    }
    if (slash) {
        h->tid = strtoll(slash + 1, NULL, 10);
    } else if (hi - lo >= 2 && all_digits(line + toks[lo].at, toks[lo].len) && toks[lo].len < 18) {
        h->tid = strtoll(line + toks[lo].at, NULL, 10);
        lo++;
    }
    size_t o = 0;
    for (size_t i = lo; i < hi; i++) {
        int w = snprintf(h->comm + o, sizeof h->comm - o, "%s%.*s", o ? " " : "", (int)toks[i].len,
                         line + toks[i].at);
        if (w < 0 || (size_t)w >= sizeof h->comm - o)
            break;
        o += (size_t)w;
    }
    const char *d = line + toks[k].at + toks[k].len;
    while (*d == ' ' || *d == '\t')
        d++;
    const char *sp = d + strcspn(d, " \t");
    if (*sp && is_abi_tag(d, (size_t)(sp - d))) {
        d = sp;
        while (*d == ' ' || *d == '\t')
            d++;
    }
    h->data = d;
    return L_HEAD;
}

/* A number as kdump prints it: decimal or 0x hex; hex values that fit 32
 * bits are a C int (0xffffff9c is AT_FDCWD, -100). */
static bool parse_num(const char *s, size_t n, long long *ret) {
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    bool neg = n && s[0] == '-';
    if (neg) {
        s++;
        n--;
    }
    long long v;
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        unsigned long long u = 0;
        for (size_t i = 2; i < n; i++) {
            char c = (char)(s[i] | 0x20);
            int dgt = is_digit(s[i]) ? s[i] - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (dgt < 0 || u >> 60)
                return false;
            u = u * 16 + (unsigned)dgt;
        }
        v = u <= 0xffffffffULL ? (long long)(int32_t)(uint32_t)u : (long long)u;
    } else if (all_digits(s, n) && n < 19) {
        v = 0;
        for (size_t i = 0; i < n; i++)
            v = v * 10 + (s[i] - '0');
    } else {
        return false;
    }
    if (neg && v == INT64_MIN)
        return false;
    *ret = neg ? -v : v;
    return true;
}

/* Undo OpenBSD's vis(3) (VIS_CSTYLE): \\ \" C escapes, octal, \M-x, \^x. */
static char *unvis(const char *s, size_t n) {
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c != '\\' || i + 1 >= n) {
            out[o++] = (char)c;
            i++;
            continue;
        }
        char e = s[i + 1];
        const char *simple = strchr("\\\"ntrabfvs", e);
        if (e && simple) {
            static const char map[] = "\\\"\n\t\r\a\b\f\v ";
            out[o++] = map[simple - "\\\"ntrabfvs"];
            i += 2;
        } else if (e >= '0' && e <= '7') {
            unsigned v = 0;
            size_t j = i + 1;
            while (j < n && j < i + 4 && s[j] >= '0' && s[j] <= '7')
                v = v * 8 + (unsigned)(s[j++] - '0');
            out[o++] = (char)(v & 0xff);
            i = j;
        } else if (e == 'M' && i + 3 < n && (s[i + 2] == '-' || s[i + 2] == '^')) {
            unsigned char x = (unsigned char)s[i + 3];
            if (s[i + 2] == '^')
                x = x == '?' ? 0x7f : x & 0x1f;
            out[o++] = (char)(x | 0x80);
            i += 4;
        } else if (e == '^' && i + 2 < n) {
            unsigned char x = (unsigned char)s[i + 2];
            out[o++] = (char)(x == '?' ? 0x7f : x & 0x1f);
            i += 3;
        } else {
            out[o++] = '\\';
            i++;
        }
    }
    out[o] = '\0';
    /* A NUL from an escape would cut the path: such a path is no file. */
    for (size_t i = 0; i < o; i++)
        if (!out[i])
            out[i] = '?';
    return out;
}

/* The arguments of a call, split at top-level commas. */
static size_t split_args(const char *s, size_t n, struct tok *out, size_t max) {
    size_t k = 0, st = 0;
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (strchr("<({[", c))
            depth++;
        else if (strchr(">)}]", c) && depth > 0)
            depth--;
        else if (c == ',' && depth <= 0) {
            if (k < max)
                out[k++] = (struct tok){st, i - st};
            st = i + 1;
        }
    }
    if ((n > st || k) && k < max)
        out[k++] = (struct tok){st, n - st};
    return k;
}

/* `open[5]` (FreeBSD -S) is `open`. */
static void strip_sysno(char *name) {
    char *b = strchr(name, '[');
    size_t n = strlen(name);
    if (b && b > name && n && name[n - 1] == ']')
        *b = '\0';
}

enum spec_kind { S_NONE, S_OPEN, S_ONE, S_TWO, S_EXEC, S_CHDIR };

struct spec {
    enum spec_kind kind;
    int flags, dirfd1, dirfd2; /* argument indices, -1: none */
    enum cordon_import_op op1, op2;
};

static struct spec spec_of(const char *n) {
    struct spec s = {S_NONE, -1, -1, -1, 0, 0};
#define IS(x) (!strcmp(n, x))
    if (IS("open"))
        return (struct spec){S_OPEN, 1, -1, -1, 0, 0};
    if (IS("openat"))
        return (struct spec){S_OPEN, 2, 0, -1, 0, 0};
    if (IS("creat"))
        return (struct spec){S_ONE, -1, -1, -1, CORDON_IMPORT_WRITE, 0};
    if (IS("stat") || IS("lstat") || IS("statfs") || IS("statvfs") || IS("pathconf") ||
        IS("lpathconf") || IS("realpath"))
        return (struct spec){S_ONE, -1, -1, -1, CORDON_IMPORT_STAT, 0};
    if (IS("fstatat"))
        return (struct spec){S_ONE, -1, 0, -1, CORDON_IMPORT_STAT, 0};
    if (IS("access") || IS("eaccess"))
        return (struct spec){S_ONE, -1, -1, -1, CORDON_IMPORT_PROBE, 0};
    if (IS("faccessat"))
        return (struct spec){S_ONE, -1, 0, -1, CORDON_IMPORT_PROBE, 0};
    if (IS("readlink"))
        return (struct spec){S_ONE, -1, -1, -1, CORDON_IMPORT_READLINK, 0};
    if (IS("readlinkat"))
        return (struct spec){S_ONE, -1, 0, -1, CORDON_IMPORT_READLINK, 0};
    if (IS("execve"))
        return (struct spec){S_EXEC, -1, -1, -1, 0, 0};
    if (IS("chdir"))
        return (struct spec){S_CHDIR, -1, -1, -1, 0, 0};
    if (IS("unlink") || IS("rmdir"))
        return (struct spec){S_ONE, -1, -1, -1, CORDON_IMPORT_DELETE, 0};
    if (IS("unlinkat"))
        return (struct spec){S_ONE, -1, 0, -1, CORDON_IMPORT_DELETE, 0};
    if (IS("rename"))
        return (struct spec){S_TWO, -1, -1, -1, CORDON_IMPORT_DELETE, CORDON_IMPORT_CREATE};
    if (IS("renameat"))
        return (struct spec){S_TWO, -1, 0, 2, CORDON_IMPORT_DELETE, CORDON_IMPORT_CREATE};
    if (IS("mkdir") || IS("mkfifo") || IS("mknod") || IS("symlink"))
        return (struct spec){S_ONE, -1, -1, -1, CORDON_IMPORT_CREATE, 0};
    if (IS("mkdirat") || IS("mkfifoat") || IS("mknodat"))
        return (struct spec){S_ONE, -1, 0, -1, CORDON_IMPORT_CREATE, 0};
    if (IS("symlinkat"))
        return (struct spec){S_ONE, -1, 1, -1, CORDON_IMPORT_CREATE, 0};
    if (IS("link"))
        return (struct spec){S_TWO, -1, -1, -1, CORDON_IMPORT_CREATE, CORDON_IMPORT_CREATE};
    if (IS("linkat"))
        return (struct spec){S_TWO, -1, 0, 2, CORDON_IMPORT_CREATE, CORDON_IMPORT_CREATE};
    if (IS("chmod") || IS("lchmod") || IS("chown") || IS("lchown") || IS("utimes") ||
        IS("lutimes") || IS("utime") || IS("truncate") || IS("chflags") || IS("lchflags"))
        return (struct spec){S_ONE, -1, -1, -1, CORDON_IMPORT_WRITE, 0};
    if (IS("fchmodat") || IS("fchownat") || IS("utimensat") || IS("futimesat") || IS("chflagsat"))
        return (struct spec){S_ONE, -1, 0, -1, CORDON_IMPORT_WRITE, 0};
#undef IS
    return s;
}

static bool is_fork(const char *n) {
    return !strcmp(n, "fork") || !strcmp(n, "vfork") || !strcmp(n, "rfork");
}

static bool known(const char *n) {
    return spec_of(n).kind != S_NONE || is_fork(n) || !strcmp(n, "exit") || !strcmp(n, "close");
}

/* A call's name without compatibility decorations: __stat50,
 * freebsd11_stat, compat_50___lstat30 are stat and lstat. */
static void normalize_name(const char *name, char *out, size_t size) {
    const char *s = name;
    while (*s == '_')
        s++;
    for (;;) {
        const char *rest = !strncmp(s, "freebsd", 7)   ? s + 7
                           : !strncmp(s, "compat_", 7) ? s + 7
                                                       : NULL;
        if (!rest)
            break;
        const char *after = rest;
        while (is_digit(*after))
            after++;
        if (after > rest && *after == '_') {
            s = after + 1;
            while (*s == '_')
                s++;
        } else {
            break;
        }
    }
    snprintf(out, size, "%s", s);
    if (!known(out)) {
        size_t n = strlen(out);
        while (n && is_digit(out[n - 1]))
            n--;
        if (n < strlen(out)) {
            char bare[64];
            snprintf(bare, sizeof bare, "%.*s", (int)n, out);
            if (known(bare))
                snprintf(out, size, "%s", bare);
        }
    }
}

/* The op of an open from its flags argument: `0x601<O_WRONLY|O_CREAT>` or
 * a number (kdump -n; the access mode, O_CREAT, O_TRUNC, O_EXCL agree on
 * every BSD). */
static enum cordon_import_op open_op(const char *a, size_t n) {
    const char *lt = memchr(a, '<', n);
    if (lt) {
        const char *gt = memchr(lt, '>', n - (size_t)(lt - a));
        size_t len = gt ? (size_t)(gt - lt - 1) : n - (size_t)(lt - a) - 1;
        return import_op_of_flags_text(lt + 1, len);
    }
    long long v;
    if (!parse_num(a, n, &v))
        return CORDON_IMPORT_READ;
    char f[64];
    snprintf(f, sizeof f, "%s%s%s%s",
             (v & 3) == 1   ? "O_WRONLY"
             : (v & 3) == 2 ? "O_RDWR"
                            : "O_RDONLY",
             v & 0x200 ? "|O_CREAT" : "", v & 0x400 ? "|O_TRUNC" : "", v & 0x800 ? "|O_EXCL" : "");
    return import_op_of_flags_text(f, strlen(f));
}

/* Signals: name, BSD number, Linux number, whether the default kills. */
static const struct {
    const char *name;
    int bsd, linux_, fatal;
} sigs[] = {
    {"HUP", 1, 1, 1},     {"INT", 2, 2, 1},    {"QUIT", 3, 3, 1},     {"ILL", 4, 4, 1},
    {"TRAP", 5, 5, 1},    {"ABRT", 6, 6, 1},   {"IOT", 6, 6, 1},      {"EMT", 7, 7, 1},
    {"FPE", 8, 8, 1},     {"KILL", 9, 9, 1},   {"BUS", 10, 7, 1},     {"SEGV", 11, 11, 1},
    {"SYS", 12, 31, 1},   {"PIPE", 13, 13, 1}, {"ALRM", 14, 14, 1},   {"TERM", 15, 15, 1},
    {"URG", 16, 23, 0},   {"STOP", 17, 19, 0}, {"TSTP", 18, 20, 0},   {"CONT", 19, 18, 0},
    {"CHLD", 20, 17, 0},  {"TTIN", 21, 21, 0}, {"TTOU", 22, 22, 0},   {"IO", 23, 29, 0},
    {"XCPU", 24, 24, 1},  {"XFSZ", 25, 25, 1}, {"VTALRM", 26, 26, 1}, {"PROF", 27, 27, 1},
    {"WINCH", 28, 28, 0}, {"INFO", 29, 29, 0}, {"USR1", 30, 10, 1},   {"USR2", 31, 12, 1},
    {"THR", 32, 32, 0},   {"LWP", 32, 32, 0},
};

/* The wait status of a process killed by SIG_DFL delivery of the PSIG's
 * signal, or -1. */
static int fatal_status(const char *data) {
    char w1[32] = "", w2[32] = "", w3[32] = "";
    if (sscanf(data, "%31s %31s %31s", w1, w2, w3) < 2 || strncmp(w1, "SIG", 3) != 0)
        return -1;
    int linux_sig = 0, fatal = 0;
    const char *next = w2;
    if (!w1[3]) {
        /* `SIG 33`: a number kdump has no name for. */
        long n;
        if (!all_digits(w2, strlen(w2)) || strlen(w2) > 4)
            return -1;
        n = strtol(w2, NULL, 10);
        linux_sig = (int)n;
        fatal = 1;
        for (size_t i = 0; i < CORDON_ARRAY_SIZE(sigs); i++)
            if (sigs[i].bsd == n) {
                linux_sig = sigs[i].linux_;
                fatal = sigs[i].fatal;
                break;
            }
        next = w3;
    } else {
        size_t i = 0;
        while (i < CORDON_ARRAY_SIZE(sigs) && strcmp(sigs[i].name, w1 + 3) != 0)
            i++;
        if (i == CORDON_ARRAY_SIZE(sigs))
            return -1;
        linux_sig = sigs[i].linux_;
        fatal = sigs[i].fatal;
    }
    return !strcmp(next, "SIG_DFL") && fatal && linux_sig > 0 && linux_sig < 128 ? linux_sig : -1;
}

enum outcome_kind { O_OK, O_ERR, O_RESTART, O_BAD };

static enum outcome_kind outcome(const char *rest, long long *ret) {
    char w1[64] = "", w2[64] = "", w3[64] = "";
    int n = sscanf(rest, "%63s %63s %63s", w1, w2, w3);
    if (n < 1)
        return O_BAD;
    if (!strcmp(w1, "JUSTRETURN")) {
        *ret = 0;
        return O_OK;
    }
    if (!strcmp(w1, "RESTART"))
        return O_RESTART;
    if (!strcmp(w1, "-1")) {
        long long e;
        if (n >= 3 && !strcmp(w2, "errno") && parse_num(w3, strlen(w3), &e) && e >= INT32_MIN &&
            e <= INT32_MAX) {
            if (!e) {
                *ret = -1;
                return O_OK;
            }
            *ret = import_errno_from_bsd((int)e);
            return O_ERR;
        }
        if (n >= 2 && !strcmp(w2, "errno"))
            return O_BAD;
        *ret = -1;
        return O_OK;
    }
    char *slash = strchr(w1, '/');
    if (slash)
        *slash = '\0';
    return parse_num(w1, strlen(w1), ret) ? O_OK : O_BAD;
}

struct call {
    char name[64], norm[64];
    char *args_text;
    struct tok args[MAX_ARGS];
    size_t n_args;
    char **namis;
    size_t n_namis, cap_namis;
    char **argv;
    bool has_argv;
    uint64_t t;
    size_t line;
    long long tid;
    int pid;
};

static void call_free(struct call *c) {
    if (!c)
        return;
    free(c->args_text);
    for (size_t i = 0; i < c->n_namis; i++)
        free(c->namis[i]);
    free(c->namis);
    cordon_strv_free(c->argv);
    free(c);
}

enum cont_kind { C_NONE, C_IGNORE, C_NAMI, C_ARGS };

struct reader {
    struct cordon_import *imp;
    const char *file;
    /* pending calls, all threads, oldest first */
    struct call **pending;
    size_t n_pending, cap_pending;
    enum cont_kind cont;
    int cont_pid;
    long long cont_tid;
    size_t cont_line;
    struct cordon_strbuf buf; /* a wrapped NAMI or ARGS item */
    bool partial;
    char **items;
    size_t n_items, cap_items;
    struct cordon_map *parent_of, *seen, *seen_keys, *spawned;
    struct cordon_map *fatal; /* "pid" -> (status+1) */
    int *fatal_pids;
    uint64_t *fatal_t;
    size_t n_fatal, cap_fatal, cap_fatal_t;
    bool have_base;
    uint64_t base_t, last_t;
    size_t no_nami, no_nami_line;
    size_t records;
};

static void key_of(int pid, char key[16]) {
    snprintf(key, 16, "%d", pid);
}

static intptr_t get_int(struct cordon_map *m, const char *key) {
    return (intptr_t)cordon_map_get(m, key);
}

static void put_int(struct reader *r, struct cordon_map *m, const char *key, intptr_t v) {
    if (cordon_map_put(m, key, (void *)v) < 0)
        r->imp->oom = true;
}

static void warn(struct reader *r, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warn(struct reader *r, size_t line, const char *fmt, ...) {
    char text[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    import_warn(r->imp, r->file, line, "%s", text);
}

static uint64_t time_of(struct reader *r, const struct head *h) {
    if (h->has_t) {
        /* Absolute stamps (-T) are seconds since the epoch: count from the
         * first; smaller ones are elapsed times (-E). */
        if (h->t >= 100000000ULL * 1000000000ULL) {
            if (!r->have_base) {
                r->have_base = true;
                r->base_t = h->t;
            }
            r->last_t = h->t > r->base_t ? h->t - r->base_t : 0;
        } else {
            r->last_t = h->t;
        }
    }
    return r->last_t;
}

/* The latest pending call of (pid, tid), optionally with a name; its index. */
static ssize_t find_pending(struct reader *r, int pid, long long tid, const char *norm) {
    for (size_t i = r->n_pending; i-- > 0;) {
        struct call *c = r->pending[i];
        if (c->pid == pid && c->tid == tid && (!norm || !strcmp(c->norm, norm)))
            return (ssize_t)i;
    }
    return -1;
}

static struct call *take_pending(struct reader *r, size_t i) {
    struct call *c = r->pending[i];
    memmove(&r->pending[i], &r->pending[i + 1], (r->n_pending - i - 1) * sizeof *r->pending);
    r->n_pending--;
    return c;
}

static void no_ret(struct reader *r, const struct call *c) {
    if (spec_of(c->norm).kind != S_NONE)
        warn(r, c->line, "%s has no RET record: its access is left out", c->name);
}

static void drop_pending_of(struct reader *r, int pid, long long keep_tid, bool keep) {
    for (size_t i = 0; i < r->n_pending;) {
        struct call *c = r->pending[i];
        if (c->pid == pid && !(keep && c->tid == keep_tid))
            call_free(take_pending(r, i));
        else
            i++;
    }
}

static void set_fatal(struct reader *r, int pid, int status, uint64_t t) {
    char key[16];
    key_of(pid, key);
    if (!get_int(r->fatal, key)) {
        if (cordon_grow((void **)&r->fatal_pids, &r->cap_fatal, r->n_fatal + 1,
                        sizeof *r->fatal_pids) < 0 ||
            cordon_grow((void **)&r->fatal_t, &r->cap_fatal_t, r->n_fatal + 1, sizeof *r->fatal_t) <
                0) {
            r->imp->oom = true;
            return;
        }
        r->fatal_pids[r->n_fatal++] = pid;
    }
    for (size_t i = 0; i < r->n_fatal; i++)
        if (r->fatal_pids[i] == pid)
            r->fatal_t[i] = t;
    put_int(r, r->fatal, key, status + 1);
}

static void clear_fatal(struct reader *r, int pid) {
    char key[16];
    key_of(pid, key);
    if (get_int(r->fatal, key))
        put_int(r, r->fatal, key, 0);
}

static void call_rec(struct reader *r, size_t line, int pid, long long tid, uint64_t t,
                     const char *data) {
    const char *d = data;
    if (!strncmp(d, "(via syscall) ", 14))
        d += 14;
    size_t dl = strlen(d);
    while (dl && (d[dl - 1] == ' ' || d[dl - 1] == '\t' || d[dl - 1] == '\r'))
        dl--;
    const char *lp = memchr(d, '(', dl);
    size_t nl = lp ? (size_t)(lp - d) : strcspn(d, " \t");
    if (nl > dl)
        nl = dl;
    char name[64];
    while (nl && d[nl - 1] == ' ')
        nl--;
    if (!nl || nl >= sizeof name) {
        warn(r, line, "cannot read the system call of this CALL");
        return;
    }
    memcpy(name, d, nl);
    name[nl] = '\0';
    strip_sysno(name);
    for (const char *p = name; *p; p++)
        if (!(is_digit(*p) || ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') || strchr("_[]", *p))) {
            warn(r, line, "cannot read the system call of this CALL");
            return;
        }
    const char *args = lp ? lp + 1 : "";
    size_t al = lp ? dl - (size_t)(lp + 1 - d) : 0;
    if (lp) {
        if (al && args[al - 1] == ')')
            al--;
        else
            warn(r, line, "CALL %s is cut off (no closing parenthesis)", name);
    }
    char norm[64];
    normalize_name(name, norm, sizeof norm);
    struct tok toks[MAX_ARGS];
    if (!strcmp(norm, "exit")) {
        size_t n = split_args(args, al, toks, MAX_ARGS);
        long long st;
        if (n && parse_num(args + toks[0].at, toks[0].len, &st)) {
            drop_pending_of(r, pid, 0, false);
            import_ended(r->imp, pid, (int)(st & 0xff) << 8);
        } else {
            warn(r, line, "cannot read the status of exit");
        }
        return;
    }
    struct call *c = calloc(1, sizeof *c);
    if (!c || !(c->args_text = strndup(args, al)) ||
        cordon_grow((void **)&r->pending, &r->cap_pending, r->n_pending + 1, sizeof *r->pending) <
            0) {
        call_free(c);
        r->imp->oom = true;
        return;
    }
    memcpy(c->name, name, sizeof c->name);
    memcpy(c->norm, norm, sizeof c->norm);
    c->n_args = split_args(c->args_text, al, c->args, MAX_ARGS);
    c->t = t;
    c->line = line;
    c->pid = pid;
    c->tid = tid;
    r->pending[r->n_pending++] = c;
    /* More than MAX_PENDING of one thread means lost RETs. */
    size_t count = 0, oldest = 0;
    for (size_t i = r->n_pending; i-- > 0;)
        if (r->pending[i]->pid == pid && r->pending[i]->tid == tid) {
            count++;
            oldest = i;
        }
    if (count > MAX_PENDING) {
        struct call *old = take_pending(r, oldest);
        no_ret(r, old);
        call_free(old);
    }
}

static void nami_done(struct reader *r, size_t line, int pid, long long tid, char *path) {
    ssize_t i = find_pending(r, pid, tid, NULL);
    if (i >= 0) {
        struct call *c = r->pending[i];
        if (cordon_grow((void **)&c->namis, &c->cap_namis, c->n_namis + 1, sizeof *c->namis) < 0) {
            free(path);
            r->imp->oom = true;
            return;
        }
        c->namis[c->n_namis++] = path;
        return;
    }
    char key[16];
    key_of(pid, key);
    if (!get_int(r->fatal, key))
        warn(r, line, "NAMI \"%.200s\" belongs to no CALL", path);
    free(path);
}

/* A quoted string's text after its opening quote: 0 closed (len in
 * *ret_len), 1 wrapped (backslash removed), -1 cut. */
static int piece(const char *s, size_t n, size_t *ret_len) {
    if (n && s[n - 1] == '"') {
        *ret_len = n - 1;
        return 0;
    }
    if (n && s[n - 1] == '\\') {
        *ret_len = n - 1;
        return 1;
    }
    return -1;
}

static void nami_rec(struct reader *r, size_t line, int pid, long long tid, const char *data) {
    if (data[0] != '"') {
        warn(r, line, "NAMI is not a quoted path");
        return;
    }
    const char *s = data + 1;
    size_t n = strlen(s), len;
    while (n && s[n - 1] == '\r')
        n--;
    switch (piece(s, n, &len)) {
    case 0: {
        char *p = unvis(s, len);
        if (!p) {
            r->imp->oom = true;
            return;
        }
        nami_done(r, line, pid, tid, p);
        return;
    }
    case 1:
        r->cont = C_NAMI;
        r->cont_pid = pid;
        r->cont_tid = tid;
        r->cont_line = line;
        cordon_strbuf_reset(&r->buf);
        cordon_strbuf_addn(&r->buf, s, len);
        return;
    default:
        warn(r, line, "NAMI path is cut off (no closing quote)");
    }
}

static void finish_cont(struct reader *r) {
    enum cont_kind k = r->cont;
    r->cont = C_NONE;
    if (k == C_NAMI) {
        warn(r, r->cont_line, "NAMI path is cut off");
    } else if (k == C_ARGS) {
        if (r->partial)
            warn(r, r->cont_line, "the last argument of ARGS is cut off");
        r->partial = false;
        struct call *c = NULL;
        for (size_t i = r->n_pending; i-- > 0 && !c;)
            if (r->pending[i]->pid == r->cont_pid && r->pending[i]->tid == r->cont_tid &&
                !strcmp(r->pending[i]->norm, "execve"))
                c = r->pending[i];
        if (c) {
            char **v = calloc(r->n_items + 1, sizeof *v);
            if (!v) {
                r->imp->oom = true;
            } else {
                if (r->n_items) /* items is NULL before the first */
                    memcpy(v, r->items, r->n_items * sizeof *v);
                cordon_strv_free(c->argv);
                c->argv = v;
                c->has_argv = true;
                r->n_items = 0;
            }
        } else {
            warn(r, r->cont_line, "ARGS belongs to no execve");
        }
        for (size_t i = 0; i < r->n_items; i++)
            free(r->items[i]);
        r->n_items = 0;
    }
}

static void add_item(struct reader *r, const char *s, size_t n) {
    char *v = unvis(s, n);
    if (!v ||
        cordon_grow((void **)&r->items, &r->cap_items, r->n_items + 1, sizeof *r->items) < 0) {
        free(v);
        r->imp->oom = true;
        return;
    }
    r->items[r->n_items++] = v;
}

static void continuation(struct reader *r, size_t line, const char *text) {
    const char *body = text[0] == '\t' ? text + 1 : text;
    size_t n = strlen(body), len;
    while (n && body[n - 1] == '\r')
        n--;
    switch (r->cont) {
    case C_NONE:
        warn(r, line, "a continuation line that belongs to no record");
        return;
    case C_IGNORE:
        return;
    case C_NAMI:
        cordon_strbuf_addn(&r->buf, body, n);
        if (r->buf.failed) {
            r->imp->oom = true;
            return;
        }
        switch (piece(r->buf.buf, r->buf.len, &len)) {
        case 0: {
            r->cont = C_NONE;
            char *p = unvis(r->buf.buf, len);
            if (!p) {
                r->imp->oom = true;
                return;
            }
            nami_done(r, r->cont_line, r->cont_pid, r->cont_tid, p);
            return;
        }
        case 1:
            r->buf.len = len;
            r->buf.buf[len] = '\0';
            return;
        default:
            r->cont = C_NONE;
            warn(r, line, "NAMI path is cut off (no closing quote)");
            return;
        }
    case C_ARGS: {
        const char *rest;
        size_t rl;
        if (r->partial) {
            cordon_strbuf_addn(&r->buf, body, n);
            rest = r->buf.buf;
            rl = r->buf.len;
        } else {
            const char *b = body;
            while (*b == ' ' || *b == '\t')
                b++;
            if (!strncmp(b, "unterminated argument", 21))
                return;
            const char *q = NULL;
            if (*b == '[') {
                const char *e = strchr(b, ']');
                if (e && all_digits(b + 1, (size_t)(e - b - 1))) {
                    e++;
                    while (*e == ' ')
                        e++;
                    if (*e == '=') {
                        e++;
                        while (*e == ' ')
                            e++;
                        if (*e == '"')
                            q = e + 1;
                    }
                }
            }
            if (!q) {
                warn(r, line, "cannot read this ARGS line");
                return;
            }
            cordon_strbuf_reset(&r->buf);
            cordon_strbuf_addn(&r->buf, q, n - (size_t)(q - body));
            rest = r->buf.buf;
            rl = r->buf.len;
        }
        r->partial = false;
        switch (piece(rest, rl, &len)) {
        case 0:
            add_item(r, rest, len);
            break;
        case 1:
            r->buf.len = len;
            r->buf.buf[len] = '\0';
            r->partial = true;
            break;
        default:
            warn(r, line, "argument is cut off (no closing quote)");
        }
        return;
    }
    default:
        return;
    }
}

static void emit(struct reader *r, size_t line, int pid, long long tid, uint64_t t,
                 const char *comm, const struct call *c, int err, long long ret) {
    struct cordon_import *imp = r->imp;
    long long v;
    if (!strcmp(c->norm, "close")) {
        if (!err && c->n_args && parse_num(c->args_text + c->args[0].at, c->args[0].len, &v))
            import_set_fd(imp, pid, v, NULL);
        return;
    }
    struct spec sp = spec_of(c->norm);
    if (sp.kind == S_NONE)
        return;
    if (!c->n_namis) {
        if (!r->no_nami++) {
            r->no_nami_line = line;
            warn(r, line,
                 "%s has no NAMI record, so no path (was the log taken without 'ktrace -t n'?)",
                 c->name);
        }
        return;
    }
    const char *path = c->namis[0];
    long long d1 = IMPORT_AT_FDCWD, d2 = IMPORT_AT_FDCWD;
    if (sp.dirfd1 >= 0 && (size_t)sp.dirfd1 < c->n_args) {
        const char *a = c->args_text + c->args[sp.dirfd1].at;
        size_t al = c->args[sp.dirfd1].len;
        if (!memmem(a, al, "AT_FDCWD", 8) && parse_num(a, al, &v) && v != -100)
            d1 = v;
    }
    if (sp.dirfd2 >= 0 && (size_t)sp.dirfd2 < c->n_args) {
        const char *a = c->args_text + c->args[sp.dirfd2].at;
        size_t al = c->args[sp.dirfd2].len;
        if (!memmem(a, al, "AT_FDCWD", 8) && parse_num(a, al, &v) && v != -100)
            d2 = v;
    }
    char abs[PATH_MAX];
    switch (sp.kind) {
    case S_OPEN: {
        enum cordon_import_op op =
            (size_t)sp.flags < c->n_args
                ? open_op(c->args_text + c->args[sp.flags].at, c->args[sp.flags].len)
                : CORDON_IMPORT_READ;
        import_event(imp, pid, c->t, op, d1, path, err, c->name);
        if (!err && ret >= 0) {
            import_absolute(imp, pid, d1, path, abs);
            import_set_fd(imp, pid, ret, abs);
        }
        break;
    }
    case S_ONE:
        import_event(imp, pid, c->t, sp.op1, d1, path, err, c->name);
        break;
    case S_TWO:
        import_event(imp, pid, c->t, sp.op1, d1, path, err, c->name);
        if (c->n_namis > 1)
            import_event(imp, pid, c->t, sp.op2, d2, c->namis[c->n_namis - 1], err, c->name);
        break;
    case S_CHDIR:
        import_event(imp, pid, c->t, CORDON_IMPORT_CHDIR, IMPORT_AT_FDCWD, path, err, c->name);
        if (!err)
            import_set_cwd(imp, pid, path);
        break;
    case S_EXEC:
        if (!err) {
            char **argv;
            if (c->has_argv && c->argv && c->argv[0]) {
                argv = cordon_strv_copy(c->argv);
            } else {
                const char *b = strrchr(path, '/');
                char *one[] = {(char *)(comm[0] ? comm : b ? b + 1 : path), NULL};
                argv = cordon_strv_copy(one);
            }
            import_executed(imp, pid, path, argv);
            /* The other threads are gone. */
            drop_pending_of(r, pid, tid, true);
        }
        import_event(imp, pid, c->t, CORDON_IMPORT_EXEC, IMPORT_AT_FDCWD, path, err, c->name);
        break;
    case S_NONE:
    default:
        break;
    }
    (void)t;
}

static void ret_rec(struct reader *r, size_t line, int pid, long long tid, uint64_t t,
                    const char *comm, const char *data, bool first) {
    size_t nl = strcspn(data, " \t");
    char name[64], norm[64];
    if (nl >= sizeof name)
        nl = sizeof name - 1;
    memcpy(name, data, nl);
    name[nl] = '\0';
    strip_sysno(name);
    normalize_name(name, norm, sizeof norm);
    const char *rest = data + strcspn(data, " \t");
    long long v = 0;
    enum outcome_kind o = outcome(rest, &v);
    if (is_fork(norm)) {
        char key[16];
        if (o == O_OK && v > 0 && v <= INT32_MAX && v != pid) {
            key_of((int)v, key);
            if (!get_int(r->spawned, key)) {
                put_int(r, r->spawned, key, 1);
                import_spawned(r->imp, (int)v, pid);
            }
        }
        ssize_t i = find_pending(r, pid, tid, norm);
        if (i >= 0)
            call_free(take_pending(r, (size_t)i));
        return;
    }
    ssize_t i = find_pending(r, pid, tid, norm);
    if (i < 0) {
        /* The log may start in the middle of a call (ktrace's own RET). */
        if (!first && strcmp(norm, "ktrace") != 0 && known(norm))
            warn(r, line, "RET %s has no matching CALL", name);
        return;
    }
    struct call *c = take_pending(r, (size_t)i);
    if (o == O_BAD)
        warn(r, line, "cannot read the result of %s", name);
    else if (o != O_RESTART)
        emit(r, line, pid, tid, t, comm, c, o == O_ERR ? (int)v : 0, o == O_ERR ? -1 : v);
    call_free(c);
}

static void record(struct reader *r, size_t line, const struct head *h) {
    uint64_t t = time_of(r, h);
    char key[16], tkey[48];
    key_of(h->pid, key);
    snprintf(tkey, sizeof tkey, "%d/%lld", h->pid, h->tid);
    /* A child's first record: make it its parent's child now, unless the
     * parent's RET of the fork came first and did. */
    if (!get_int(r->seen, key)) {
        put_int(r, r->seen, key, 1);
        if (!get_int(r->spawned, key)) {
            int parent = (int)get_int(r->parent_of, key);
            if (parent) {
                import_spawned(r->imp, h->pid, parent);
                put_int(r, r->spawned, key, 1);
            } else {
                import_process(r->imp, h->pid, 0);
            }
        }
    }
    bool first_of_key = !get_int(r->seen_keys, tkey);
    if (first_of_key)
        put_int(r, r->seen_keys, tkey, 1);
    /* A core dump's lookup may follow a fatal signal; anything else means
     * the process lived on. */
    if (h->kind != K_NAMI)
        clear_fatal(r, h->pid);
    switch (h->kind) {
    case K_CALL:
        call_rec(r, line, h->pid, h->tid, t, h->data);
        break;
    case K_RET:
        ret_rec(r, line, h->pid, h->tid, t, h->comm, h->data, first_of_key);
        break;
    case K_NAMI:
        nami_rec(r, line, h->pid, h->tid, h->data);
        break;
    case K_ARGS:
        r->cont = C_ARGS;
        r->cont_pid = h->pid;
        r->cont_tid = h->tid;
        r->cont_line = line;
        r->partial = false;
        for (size_t i = 0; i < r->n_items; i++)
            free(r->items[i]);
        r->n_items = 0;
        break;
    case K_PSIG: {
        int sig = fatal_status(h->data);
        if (sig > 0)
            set_fatal(r, h->pid, sig, t);
        break;
    }
    case K_DATA:
        r->cont = C_IGNORE;
        break;
    case K_NONE:
    default:
        break;
    }
}

/* Forks first: a child's records may come before its parent's RET. */
static void scan_forks(struct reader *r, const struct cordon_import_source *src,
                       struct cordon_strbuf *lb) {
    for (size_t pos = 0; pos < src->len && !r->imp->oom;) {
        const char *l = src->text + pos;
        const char *nl = memchr(l, '\n', src->len - pos);
        size_t len = nl ? (size_t)(nl - l) : src->len - pos;
        pos += len + 1;
        if (!memmem(l, len, "RET", 3) || !memmem(l, len, "fork", 4))
            continue;
        cordon_strbuf_reset(lb);
        cordon_strbuf_addn(lb, l, len);
        for (size_t i = 0; i < lb->len; i++)
            if (!lb->buf[i])
                lb->buf[i] = '?';
        struct head h;
        const char *why;
        if (lex(lb->buf, &h, &why) != L_HEAD || h.kind != K_RET)
            continue;
        size_t n = strcspn(h.data, " \t");
        char name[64], norm[64];
        snprintf(name, sizeof name, "%.*s", (int)(n < 63 ? n : 63), h.data);
        strip_sysno(name);
        normalize_name(name, norm, sizeof norm);
        if (!is_fork(norm))
            continue;
        long long v;
        if (outcome(h.data + n, &v) == O_OK && v > 0 && v <= INT32_MAX && v != h.pid) {
            char key[16];
            key_of((int)v, key);
            if (!get_int(r->parent_of, key))
                put_int(r, r->parent_of, key, h.pid);
        }
    }
}

static size_t read_file(struct reader *r, const struct cordon_import_source *src) {
    struct cordon_strbuf lb = CORDON_STRBUF_INIT;
    scan_forks(r, src, &lb);
    size_t line_no = 0;
    for (size_t pos = 0; pos < src->len && !r->imp->oom;) {
        const char *l = src->text + pos;
        const char *nl = memchr(l, '\n', src->len - pos);
        size_t len = nl ? (size_t)(nl - l) : src->len - pos;
        pos += len + 1;
        line_no++;
        cordon_strbuf_reset(&lb);
        cordon_strbuf_addn(&lb, l, len);
        if (lb.failed) {
            r->imp->oom = true;
            break;
        }
        for (size_t i = 0; i < lb.len; i++)
            if (!lb.buf[i])
                lb.buf[i] = '?';
        struct head h;
        const char *why = NULL;
        switch (lex(lb.buf, &h, &why)) {
        case L_HEAD:
            r->records++;
            finish_cont(r);
            record(r, line_no, &h);
            break;
        case L_CONT:
            continuation(r, line_no, lb.buf);
            break;
        case L_BLANK:
            break;
        case L_DROPPED:
            finish_cont(r);
            warn(r, line_no, "kdump reports dropped events: the log is incomplete");
            break;
        case L_BAD:
        default: {
            finish_cont(r);
            char ex[96];
            warn(r, line_no, "%s: '%s'", why, import_excerpt(l, len, ex));
            break;
        }
        }
    }
    finish_cont(r);
    /* Calls that never got their RET. */
    while (r->n_pending) {
        size_t oldest = 0;
        for (size_t i = 1; i < r->n_pending; i++)
            if (r->pending[i]->line < r->pending[oldest]->line)
                oldest = i;
        struct call *c = take_pending(r, oldest);
        no_ret(r, c);
        call_free(c);
    }
    if (r->no_nami > 1)
        warn(r, r->no_nami_line, "%zu calls in all had no NAMI record", r->no_nami);
    for (size_t i = 0; i < r->n_fatal; i++) {
        char key[16];
        key_of(r->fatal_pids[i], key);
        intptr_t st = get_int(r->fatal, key);
        if (st)
            import_ended(r->imp, r->fatal_pids[i], (int)st - 1);
    }
    cordon_strbuf_release(&lb);
    return r->records;
}

int cordon_import_kdump(struct cordon_import *imp, const struct cordon_import_source *srcs,
                        size_t n, struct cordon_error *err) {
    size_t records = 0;
    for (size_t k = 0; k < n && !imp->oom; k++) {
        struct reader r = {.imp = imp, .file = srcs[k].name};
        r.buf = (struct cordon_strbuf)CORDON_STRBUF_INIT;
        r.parent_of = cordon_map_new(64);
        r.seen = cordon_map_new(64);
        r.seen_keys = cordon_map_new(64);
        r.spawned = cordon_map_new(64);
        r.fatal = cordon_map_new(16);
        size_t got = 0;
        if (r.parent_of && r.seen && r.seen_keys && r.spawned && r.fatal)
            got = read_file(&r, &srcs[k]);
        else
            imp->oom = true;
        if (!got && n > 1)
            import_warn(imp, srcs[k].name, 0, "no kdump records in this file");
        records += got;
        for (size_t i = 0; i < r.n_pending; i++)
            call_free(r.pending[i]);
        free(r.pending);
        for (size_t i = 0; i < r.n_items; i++)
            free(r.items[i]);
        free(r.items);
        free(r.fatal_pids);
        free(r.fatal_t);
        cordon_strbuf_release(&r.buf);
        cordon_map_free(r.parent_of);
        cordon_map_free(r.seen);
        cordon_map_free(r.seen_keys);
        cordon_map_free(r.spawned);
        cordon_map_free(r.fatal);
    }
    imp->understood += records;
    if (imp->oom)
        return cordon_error_set(err, ENOMEM, n ? srcs[0].name : NULL, 0, 0, "out of memory");
    if (!records)
        return cordon_error_set(err, EINVAL, n ? srcs[0].name : NULL, 0, 0,
                                "not a kdump log: no kdump records found (expected lines like "
                                "'  123 cmd      CALL  open(0x...,0<O_RDONLY>)' from 'kdump -f "
                                "ktrace.out')");
    return 0;
}
