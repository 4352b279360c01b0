/* Importing strace logs, in the output format strace(1) documents.
 *
 * Reads:
 *  - `strace -f -o LOG` (every line starts with `PID `), the `[pid N] `
 *    prefix strace prints on stderr, and logs without -f (no pid: the pid of
 *    a -ff file name, `trace.1234`, or 1);
 *  - -ff logs, one file a process, given together: parentage comes from the
 *    results of clone/clone3/fork/vfork in the parent's file, and with
 *    timestamps the files are merged in time order;
 *  - timestamps -t, -tt, -ttt and -r, made relative to the first one; -T
 *    durations, -i instruction pointers and -Y command names are skipped;
 *  - -y/-yy descriptor annotations (`3</usr/lib/libc.so.6>`,
 *    `AT_FDCWD</home/u>`), which resolve dirfds and say the working directory;
 *  - -s truncated strings (`"abc"...`): a truncated path is kept with `...`
 *    appended, and a warning;
 *  - `<unfinished ...>` / `<... NAME resumed>` pairs, joined per pid;
 *  - results `= 0`, `= 3</path>`, `= -1 ENOENT (...)`, `= ?`; `+++ exited
 *    with N +++`, `+++ killed by SIG... +++`; signals and strace's own
 *    messages are skipped, and so is a -c summary table.
 * Descriptors returned by opens (and dup, dup2, dup3, fcntl F_DUPFD) are
 * followed for *at calls, close forgets them; chdir and fchdir move the
 * working directory. A relative path with no known working directory stays
 * relative (and is reported as unresolved).
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cordon/error.h>
#include <cordon/import.h>
#include <cordon/manifest.h>
#include <cordon/util.h>

#include "import-internal.h"

#define NS 1000000000ULL
#define DAY_NS (86400ULL * NS)

/* ---- small lexing helpers ------------------------------------------------ */

static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
static bool is_alnum(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static bool starts(const char *s, const char *p) {
    return strncmp(s, p, strlen(p)) == 0;
}

/* A positive int in leading digits; *end after them. 0 if none or too big. */
static int leading_pid(const char *s, const char **end) {
    long long v = 0;
    const char *p = s;
    while (is_digit(*p)) {
        if (v <= INT32_MAX)
            v = v * 10 + (*p - '0');
        p++;
    }
    *end = p;
    return p > s && v > 0 && v <= INT32_MAX ? (int)v : 0;
}

/* -Y: skip the `<comm>` after a pid. */
static const char *skip_comm(const char *s) {
    if (*s != '<')
        return s;
    const char *e = strchr(s, '>');
    return e ? e + 1 : s;
}

/* The index after the closing quote of the string opened at s[i]; 0 if
 * the string does not end on this line. */
static size_t skip_string(const char *s, size_t i) {
    size_t j = i + 1;
    for (;;) {
        if (!s[j])
            return 0;
        if (s[j] == '\\') {
            if (!s[j + 1])
                return 0;
            j += 2;
        } else if (s[j] == '"') {
            return j + 1;
        } else {
            j++;
        }
    }
}

/* `<` opening a -y annotation: right after a number or name, not a shift. */
static bool annotation_starts(const char *s, size_t i) {
    return i > 0 && is_alnum(s[i - 1]) && s[i + 1] && !strchr("<= ", s[i + 1]);
}

/* The index after the annotation opened at s[i] (nested for -yy; socket
 * details in brackets may hold `->`); 0 if it does not close. */
static size_t skip_annotation(const char *s, size_t i) {
    size_t j = i + 1, angles = 1, brackets = 0;
    for (;;) {
        char c = s[j];
        if (!c)
            return 0;
        if (c == '"') {
            j = skip_string(s, j);
            if (!j)
                return 0;
            continue;
        }
        if (c == '[')
            brackets++;
        else if (c == ']' && brackets)
            brackets--;
        else if (c == '<' && !brackets)
            angles++;
        else if (c == '>' && !brackets && --angles == 0)
            return j + 1;
        j++;
    }
}

struct span {
    size_t start, end;
};

enum scan_result { SCAN_OK, SCAN_UNTERMINATED_STRING, SCAN_MALFORMED };

/* Split the arguments from `start` (after the opening parenthesis) at
 * top-level commas; *ret_close gets the closing parenthesis. */
static enum scan_result scan_args(const char *s, size_t start, struct span *spans, size_t max,
                                  size_t *ret_n, size_t *ret_close) {
    size_t i = start, depth = 0, arg_start = start, n = 0;
    for (;;) {
        char c = s[i];
        if (!c)
            return SCAN_MALFORMED;
        if (c == '"') {
            i = skip_string(s, i);
            if (!i)
                return SCAN_UNTERMINATED_STRING;
        } else if (c == '/' && s[i + 1] == '*') {
            const char *e = strstr(s + i + 2, "*/");
            if (!e)
                return SCAN_MALFORMED;
            i = (size_t)(e - s) + 2;
        } else if (c == '(' || c == '[' || c == '{') {
            depth++;
            i++;
        } else if (c == ')' || c == ']' || c == '}') {
            if (!depth) {
                if (c != ')')
                    return SCAN_MALFORMED;
                if (n < max)
                    spans[n++] = (struct span){arg_start, i};
                *ret_n = n;
                *ret_close = i;
                return SCAN_OK;
            }
            depth--;
            i++;
        } else if (c == ',' && !depth) {
            if (n < max)
                spans[n++] = (struct span){arg_start, i};
            i++;
            arg_start = i;
        } else if (c == '<' && annotation_starts(s, i)) {
            size_t e = skip_annotation(s, i);
            if (!e)
                return SCAN_MALFORMED;
            i = e;
        } else {
            i++;
        }
    }
}

/* Decode C escapes of s[0..len) (strace's: \n \t \" \\ octal \xHH) into
 * `out` (size bytes). False when it does not fit. */
static bool decode_escapes(const char *s, size_t len, char *out, size_t size) {
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        if (c != '\\' || i + 1 >= len) {
            if (c == '\\')
                break;
            if (o + 1 >= size)
                return false;
            out[o++] = (char)c;
            i++;
            continue;
        }
        char e = s[i + 1];
        i += 2;
        unsigned v;
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
        case 'v':
            v = 0x0b;
            break;
        case 'f':
            v = 0x0c;
            break;
        case 'a':
            v = 0x07;
            break;
        case 'b':
            v = 0x08;
            break;
        case 'x': {
            int hi = i < len ? s[i] : 0, lo = i + 1 < len ? s[i + 1] : 0;
            int h = hi >= '0' && hi <= '9'                     ? hi - '0'
                    : (hi | 0x20) >= 'a' && (hi | 0x20) <= 'f' ? (hi | 0x20) - 'a' + 10
                                                               : -1;
            int l = lo >= '0' && lo <= '9'                     ? lo - '0'
                    : (lo | 0x20) >= 'a' && (lo | 0x20) <= 'f' ? (lo | 0x20) - 'a' + 10
                                                               : -1;
            if (h >= 0 && l >= 0) {
                v = (unsigned)(h * 16 + l);
                i += 2;
            } else {
                v = 'x';
            }
            break;
        }
        default:
            if (e >= '0' && e <= '7') {
                v = (unsigned)(e - '0');
                for (int k = 1; k < 3 && i < len && s[i] >= '0' && s[i] <= '7'; k++)
                    v = v * 8 + (unsigned)(s[i++] - '0');
                v &= 0xff;
            } else {
                v = (unsigned char)e;
            }
            break;
        }
        if (o + 1 >= size)
            return false;
        out[o++] = (char)v;
    }
    out[o] = '\0';
    return true;
}

/* A quoted string at the start of `s` decoded into `out`; whether -s cut it
 * (`"..."...`) and the bytes used. False when `s` is no string (NULL, an
 * address) or the text does not fit. */
static bool unquote(const char *s, char *out, size_t size, bool *ret_truncated, size_t *ret_used) {
    if (s[0] != '"')
        return false;
    size_t end = skip_string(s, 0);
    if (!end)
        return false;
    bool truncated = starts(s + end, "...");
    if (!decode_escapes(s + 1, end - 2, out, size))
        return false;
    *ret_truncated = truncated;
    *ret_used = truncated ? end + 3 : end;
    return true;
}

/* ---- results -------------------------------------------------------------- */

enum res_kind { RES_OK, RES_ERR, RES_UNKNOWN, RES_RESTART, RES_BAD };

struct res {
    enum res_kind kind;
    long long value; /* RES_OK: the value; RES_ERR: errno */
    const char *ann; /* -y annotation's inside, not NUL-terminated */
    size_t ann_len;
};

/* Drop a -T suffix ` <0.000123>` from s[0..*len). */
static void strip_duration(const char *s, size_t *len) {
    size_t n = *len;
    if (!n || s[n - 1] != '>')
        return;
    size_t i = n - 1;
    while (i > 0 && (is_digit(s[i - 1]) || s[i - 1] == '.'))
        i--;
    if (i >= 2 && i < n - 1 && s[i - 1] == '<' && s[i - 2] == ' ') {
        n = i - 2;
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        *len = n;
    }
}

static struct res parse_result(const char *s, size_t len) {
    struct res r = {.kind = RES_BAD};
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    strip_duration(s, &len);
    if (!len)
        return r;
    if (s[0] == '?') {
        size_t i = 1;
        while (i < len && s[i] == ' ')
            i++;
        r.kind = len - i >= 8 && !strncmp(s + i, "ERESTART", 8) ? RES_RESTART : RES_UNKNOWN;
        return r;
    }
    if (s[0] == '-') {
        size_t i = 1;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == 1)
            return r;
        while (i < len && s[i] == ' ')
            i++;
        size_t ns = i;
        while (i < len && s[i] != ' ')
            i++;
        if (i - ns >= 8 && !strncmp(s + ns, "ERESTART", 8)) {
            r.kind = RES_RESTART;
            return r;
        }
        int e = import_errno_of_name(s + ns, i - ns);
        if (!e && len - ns > 7 && !strncmp(s + ns, "(errno ", 7)) {
            long v = 0;
            size_t k = ns + 7;
            while (k < len && is_digit(s[k]) && v < 100000)
                v = v * 10 + (s[k++] - '0');
            if (k > ns + 7 && k < len && s[k] == ')')
                e = (int)v;
        }
        if (e) {
            r.kind = RES_ERR;
            r.value = e;
        }
        return r;
    }
    size_t i = 0;
    unsigned long long v = 0;
    if (len > 2 && s[0] == '0' && s[1] == 'x') {
        i = 2;
        while (i < len) {
            char c = (char)(s[i] | 0x20);
            int d = is_digit(s[i]) ? s[i] - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0)
                break;
            v = v * 16 + (unsigned)d; /* addresses may wrap: only fds matter */
            i++;
        }
        if (i == 2)
            return r;
    } else {
        while (i < len && is_digit(s[i])) {
            if (v > (unsigned long long)INT64_MAX / 10)
                return r;
            v = v * 10 + (unsigned)(s[i] - '0');
            i++;
        }
        if (!i)
            return r;
    }
    r.kind = RES_OK;
    r.value = (long long)v;
    if (i < len && s[i] == '<') {
        /* skip_annotation needs a NUL-terminated string; the result is the
         * line's tail, which is. */
        size_t e = skip_annotation(s + i, 0);
        if (e && i + e <= len + 1) {
            r.ann = s + i + 1;
            r.ann_len = e - 2;
        }
    }
    return r;
}

/* The path of a -y annotation's inside (`/dev/null<char 1:3>` with -yy)
 * decoded into `out`; false for sockets, pipes and the like. */
static bool annotation_path(const char *ann, size_t len, char *out) {
    if (!ann || !len || ann[0] != '/')
        return false;
    size_t n = 0;
    while (n < len && ann[n] != '<')
        n++;
    return decode_escapes(ann, n, out, PATH_MAX);
}

/* ---- timestamps ----------------------------------------------------------- */

enum ts_kind { TS_NONE, TS_TIME_OF_DAY, TS_DOTTED };
enum ts_mode { MODE_UNKNOWN, MODE_TOD, MODE_EPOCH, MODE_RELATIVE };

struct ts_state {
    enum ts_mode mode;
    uint64_t last_tod, day, rel, last_abs;
};

static bool frac_ns(const char *f, size_t len, uint64_t *ret) {
    if (!len)
        return false;
    uint64_t ns = 0;
    for (size_t i = 0; i < len; i++)
        if (!is_digit(f[i]))
            return false;
    for (size_t i = 0; i < 9; i++)
        ns = ns * 10 + (i < len ? (uint64_t)(f[i] - '0') : 0);
    *ret = ns;
    return true;
}

/* A timestamp token; kind and value (ns since midnight, or secs*NS+ns). */
static enum ts_kind parse_ts(const char *tok, size_t len, uint64_t *ret) {
    const char *colon = memchr(tok, ':', len);
    if (colon) {
        uint64_t f[3] = {0};
        size_t k = 0, i = 0;
        for (; k < 3; k++) {
            size_t st = i;
            while (i < len && is_digit(tok[i]) && i - st < 6)
                f[k] = f[k] * 10 + (uint64_t)(tok[i++] - '0');
            if (i == st)
                return TS_NONE;
            if (k < 2) {
                if (i >= len || tok[i] != ':')
                    return TS_NONE;
                i++;
            }
        }
        uint64_t ns = 0;
        if (i < len) {
            if (tok[i] != '.' || !frac_ns(tok + i + 1, len - i - 1, &ns))
                return TS_NONE;
        }
        if (f[0] >= 48 || f[1] >= 60 || f[2] >= 61)
            return TS_NONE;
        *ret = ((f[0] * 60 + f[1]) * 60 + f[2]) * NS + ns;
        return TS_TIME_OF_DAY;
    }
    const char *dot = memchr(tok, '.', len);
    if (!dot || dot == tok)
        return TS_NONE;
    uint64_t secs = 0;
    for (const char *p = tok; p < dot; p++) {
        if (!is_digit(*p) || secs > 10000000000ULL) /* u64 ns: before 2286 */
            return TS_NONE;
        secs = secs * 10 + (uint64_t)(*p - '0');
    }
    uint64_t ns;
    if (!frac_ns(dot + 1, len - (size_t)(dot + 1 - tok), &ns))
        return TS_NONE;
    *ret = secs * NS + ns;
    return TS_DOTTED;
}

static uint64_t ts_abs(struct ts_state *st, enum ts_kind k, uint64_t v) {
    uint64_t abs;
    if (k == TS_TIME_OF_DAY) {
        if (st->mode == MODE_UNKNOWN)
            st->mode = MODE_TOD;
        if (v + DAY_NS / 2 < st->last_tod)
            st->day += DAY_NS; /* past midnight */
        st->last_tod = v;
        abs = st->day + v;
    } else {
        if (st->mode == MODE_UNKNOWN)
            st->mode = v >= 100000000ULL * NS ? MODE_EPOCH : MODE_RELATIVE;
        if (st->mode == MODE_RELATIVE) {
            st->rel += v;
            abs = st->rel;
        } else {
            abs = v;
        }
    }
    st->last_abs = abs;
    return abs;
}

/* A line's pid prefix and timestamp, and where the rest starts. */
struct head {
    int pid; /* 0: none */
    enum ts_kind ts;
    uint64_t ts_value;
    size_t body;
};

static struct head head_of(const char *line) {
    struct head h = {0};
    const char *s = line, *end;
    if (starts(s, "[pid")) {
        const char *r = s + 4;
        while (*r == ' ')
            r++;
        int pid = leading_pid(r, &end);
        r = skip_comm(end);
        if (pid && *r == ']') {
            h.pid = pid;
            s = r + 1;
        }
    } else if (is_digit(*s)) {
        int pid = leading_pid(s, &end);
        const char *r = skip_comm(end);
        if (pid && (*r == ' ' || *r == '\t')) {
            h.pid = pid;
            s = r;
        }
    }
    while (*s == ' ' || *s == '\t')
        s++;
    if (is_digit(*s)) {
        size_t n = strcspn(s, " \t");
        h.ts = parse_ts(s, n, &h.ts_value);
        if (h.ts != TS_NONE) {
            s += n;
            while (*s == ' ' || *s == '\t')
                s++;
        }
    }
    /* -i: `[00007f0cd01a9000] `. */
    if (*s == '[') {
        const char *e = strchr(s, ']');
        bool ip = e && e > s + 1;
        for (const char *p = s + 1; ip && p < e; p++)
            if (!(is_digit(*p) || ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f') || *p == '?'))
                ip = false;
        if (ip) {
            s = e + 1;
            while (*s == ' ' || *s == '\t')
                s++;
        }
    }
    h.body = (size_t)(s - line);
    return h;
}

/* `strace: Process N attached` in the middle of a line: the line's start
 * length, or -1. */
static long attach_cut(const char *line, size_t len) {
    static const char msg[] = "strace: Process ";
    const char *p = memmem(line, len, msg, sizeof msg - 1);
    if (!p || p == line)
        return -1;
    const char *r = p + sizeof msg - 1, *end;
    if (!leading_pid(r, &end))
        return -1;
    size_t rest = len - (size_t)(end - line);
    if ((rest == 9 && !strncmp(end, " attached", 9)) ||
        (rest == 9 && !strncmp(end, " detached", 9)))
        return p - line;
    return -1;
}

static int attached_pid(const char *line) {
    const char *p = strstr(line, "strace: Process ");
    if (!p)
        return 0;
    const char *end;
    int pid = leading_pid(p + 16, &end);
    return pid && !strcmp(end, " attached") ? pid : 0;
}

static bool is_fork(const char *name, size_t len) {
    return (len == 5 && !strncmp(name, "clone", 5)) || (len == 6 && !strncmp(name, "clone3", 6)) ||
           (len == 4 && !strncmp(name, "fork", 4)) || (len == 5 && !strncmp(name, "vfork", 5));
}

static bool ends_with_unfinished(const char *s) {
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    return n >= 16 && !strncmp(s + n - 16, "<unfinished ...>", 16);
}

/* The new pid of a finished fork line's body (or its resumption), or 0. */
static int fork_result(const char *body) {
    const char *name, *rest;
    size_t nlen;
    if (starts(body, "<... ")) {
        name = body + 5;
        const char *r = strstr(name, " resumed>");
        if (!r)
            return 0;
        nlen = (size_t)(r - name);
        rest = r + 9;
    } else {
        rest = strchr(body, '(');
        if (!rest)
            return 0;
        name = body;
        nlen = (size_t)(rest - body);
    }
    if (!is_fork(name, nlen) || ends_with_unfinished(rest))
        return 0;
    const char *eq = NULL;
    for (const char *p = rest; (p = strstr(p, " = ")); p++)
        eq = p;
    if (!eq)
        return 0;
    struct res r = parse_result(eq + 3, strlen(eq + 3));
    return r.kind == RES_OK && r.value > 0 && r.value <= INT32_MAX ? (int)r.value : 0;
}

/* ---- sources ---------------------------------------------------------------- */

struct src {
    const char *name;
    const char *text;
    size_t len, pos, line_no;
    struct ts_state ts;
    uint64_t last_t;
    struct cordon_strbuf carry;
    size_t carry_line;
    const char *push;
    size_t push_len, push_line;
    /* The line read ahead. */
    struct cordon_strbuf line;
    size_t peek_line;
    struct head head;
    uint64_t t_abs;
    int default_pid;
    int depth;
    bool bracket, summary, has_carry, has_push, peeked, has_t;
};

static bool raw_line(struct src *s, const char **ret, size_t *ret_len, size_t *ret_no) {
    if (s->has_push) {
        s->has_push = false;
        *ret = s->push;
        *ret_len = s->push_len;
        *ret_no = s->push_line;
        return true;
    }
    if (s->pos >= s->len)
        return false;
    const char *start = s->text + s->pos;
    const char *nl = memchr(start, '\n', s->len - s->pos);
    size_t n = nl ? (size_t)(nl - start) : s->len - s->pos;
    s->pos += n + (nl ? 1 : 0);
    s->line_no++;
    if (n && start[n - 1] == '\r')
        n--;
    *ret = start;
    *ret_len = n;
    *ret_no = s->line_no;
    return true;
}

static bool blank(const char *l, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (l[i] != ' ' && l[i] != '\t')
            return false;
    return true;
}

/* The next non-empty line into s->line, with lines cut by an attach
 * message joined again. */
static bool next_line(struct src *s) {
    const char *l;
    size_t n, no;
    cordon_strbuf_reset(&s->line);
    for (;;) {
        if (!raw_line(s, &l, &n, &no)) {
            if (!s->has_carry)
                return false;
            cordon_strbuf_addn(&s->line, s->carry.buf, s->carry.len);
            s->peek_line = s->carry_line;
            s->has_carry = false;
            return true;
        }
        if (s->has_carry) {
            bool continues = !(n >= 4 && !strncmp(l, "[pid", 4)) && !(n && is_digit(l[0]));
            cordon_strbuf_addn(&s->line, s->carry.buf, s->carry.len);
            s->peek_line = s->carry_line;
            s->has_carry = false;
            if (continues) {
                cordon_strbuf_addn(&s->line, l, n);
            } else {
                s->push = l;
                s->push_len = n;
                s->push_line = no;
                s->has_push = true;
            }
            return true;
        }
        long cut = attach_cut(l, n);
        if (cut >= 0) {
            if (!blank(l, (size_t)cut)) {
                cordon_strbuf_reset(&s->carry);
                cordon_strbuf_addn(&s->carry, l, (size_t)cut);
                s->carry_line = no;
                s->has_carry = true;
            }
            continue;
        }
        if (blank(l, n))
            continue;
        /* NUL bytes would cut the line short: they are no strace output. */
        cordon_strbuf_addn(&s->line, l, n);
        for (size_t i = 0; i < s->line.len; i++)
            if (!s->line.buf[i])
                s->line.buf[i] = '?';
        s->peek_line = no;
        return true;
    }
}

static bool peek(struct src *s) {
    if (!next_line(s)) {
        s->peeked = false;
        return false;
    }
    s->head = head_of(s->line.buf);
    s->has_t = s->head.ts != TS_NONE;
    if (s->has_t)
        s->t_abs = ts_abs(&s->ts, s->head.ts, s->head.ts_value);
    s->peeked = true;
    return true;
}

/* ---- the parser --------------------------------------------------------- */

struct pending {
    char *text;
    uint64_t t;
    const char *file;
    size_t line;
};

struct parser {
    struct cordon_import *imp;
    struct cordon_map *parent_of; /* "pid" -> (void*)(intptr_t)parent */
    struct cordon_map *known;     /* "pid" -> (void*)1 */
    struct cordon_map *pending;   /* "pid" -> struct pending* (NULL when none) */
    struct pending **plist;
    size_t n_plist, cap_plist;
    struct cordon_map *cwd_seen; /* "pid" -> char* */
    char **cwd_list;
    size_t n_cwd, cap_cwd;
    int *live;
    size_t n_live, cap_live;
    bool have_base;
    uint64_t base;
    size_t understood;
    char first_problem[256];
    size_t first_problem_line;
    const char *first_problem_file;
};

/* Where a line is. */
struct cx {
    const char *file;
    size_t line;
    int pid;
    uint64_t t;
    bool bracket;
};

static void key_of(int pid, char key[16]) {
    snprintf(key, 16, "%d", pid);
}

static void map_put_int(struct parser *p, struct cordon_map *m, int pid, intptr_t v) {
    char key[16];
    key_of(pid, key);
    if (cordon_map_put(m, key, (void *)v) < 0)
        p->imp->oom = true;
}

static intptr_t map_get_int(struct cordon_map *m, int pid) {
    char key[16];
    key_of(pid, key);
    return (intptr_t)cordon_map_get(m, key);
}

static void live_add(struct parser *p, int pid) {
    for (size_t i = 0; i < p->n_live; i++)
        if (p->live[i] == pid)
            return;
    if (cordon_grow((void **)&p->live, &p->cap_live, p->n_live + 1, sizeof *p->live) < 0) {
        p->imp->oom = true;
        return;
    }
    p->live[p->n_live++] = pid;
}

static void live_remove(struct parser *p, int pid) {
    for (size_t i = 0; i < p->n_live; i++)
        if (p->live[i] == pid) {
            p->live[i] = p->live[--p->n_live];
            return;
        }
}

/* Introduce `pid`, as the child its parent's fork announced. */
static void ensure(struct parser *p, int pid, int depth) {
    if (map_get_int(p->known, pid))
        return;
    map_put_int(p, p->known, pid, 1);
    int parent = (int)map_get_int(p->parent_of, pid);
    if (parent && parent != pid && depth < 64) {
        ensure(p, parent, depth + 1);
        import_spawned(p->imp, pid, parent);
    } else {
        import_process(p->imp, pid, 0);
    }
}

static void seen(struct parser *p, const struct cx *cx) {
    ensure(p, cx->pid, 0);
    if (cx->bracket)
        live_add(p, cx->pid);
}

static void forked(struct parser *p, const struct cx *cx, int child) {
    if (child != cx->pid && !map_get_int(p->known, child)) {
        map_put_int(p, p->known, child, 1);
        import_spawned(p->imp, child, cx->pid);
    }
    if (cx->bracket)
        live_add(p, child);
}

static struct pending *pending_take(struct parser *p, int pid) {
    char key[16];
    key_of(pid, key);
    struct pending *pd = cordon_map_get(p->pending, key);
    if (pd && cordon_map_put(p->pending, key, NULL) < 0)
        p->imp->oom = true;
    return pd;
}

static void pending_free(struct pending *pd) {
    if (pd) {
        free(pd->text);
        free(pd);
    }
}

static size_t name_len_of(const char *text) {
    size_t n = 0;
    while (is_alnum(text[n]) || text[n] == '_' || text[n] == '?')
        n++;
    return n;
}

static void sync_cwd(struct parser *p, int pid, const char *cwd) {
    char key[16];
    key_of(pid, key);
    const char *old = cordon_map_get(p->cwd_seen, key);
    if (old && !strcmp(old, cwd))
        return;
    import_set_cwd(p->imp, pid, cwd);
    char *c = strdup(cwd);
    if (!c ||
        cordon_grow((void **)&p->cwd_list, &p->cap_cwd, p->n_cwd + 1, sizeof *p->cwd_list) < 0 ||
        cordon_map_put(p->cwd_seen, key, c) < 0) {
        free(c);
        p->imp->oom = true;
        return;
    }
    p->cwd_list[p->n_cwd++] = c;
}

static void forget_cwd_seen(struct parser *p, int pid) {
    char key[16];
    key_of(pid, key);
    if (cordon_map_get(p->cwd_seen, key) && cordon_map_put(p->cwd_seen, key, NULL) < 0)
        p->imp->oom = true;
}

/* A dirfd argument. */
struct dir {
    bool cwd; /* AT_FDCWD */
    long long fd;
    bool has_base;
    char base[PATH_MAX]; /* what -y printed */
};

static void parse_dir(const char *arg, size_t len, struct dir *d) {
    d->cwd = true;
    d->fd = IMPORT_AT_FDCWD;
    d->has_base = false;
    const char *lt = memchr(arg, '<', len);
    size_t hl = lt ? (size_t)(lt - arg) : len;
    while (hl && arg[hl - 1] == ' ')
        hl--;
    if (lt) {
        size_t inner = len - (size_t)(lt + 1 - arg);
        if (inner && lt[inner] == '>')
            d->has_base = annotation_path(lt + 1, inner - 1, d->base);
    }
    if (hl == 8 && !strncmp(arg, "AT_FDCWD", 8))
        return;
    long long v = 0;
    size_t i = 0;
    bool neg = hl && arg[0] == '-';
    if (neg)
        i = 1;
    if (i == hl) {
        d->has_base = false;
        return;
    }
    for (; i < hl; i++) {
        if (!is_digit(arg[i]) || v > 1000000000) {
            d->has_base = false; /* not a descriptor: the cwd, unknown */
            return;
        }
        v = v * 10 + (arg[i] - '0');
    }
    v = neg ? -v : v;
    if (v == IMPORT_AT_FDCWD)
        return;
    d->cwd = false;
    d->fd = v;
}

static bool fd_number(const char *arg, size_t len, long long *ret) {
    size_t i = 0;
    long long v = 0;
    while (i < len && is_digit(arg[i]) && v < 1000000000)
        v = v * 10 + (arg[i++] - '0');
    if (!i || (i < len && arg[i] != '<' && arg[i] != ' '))
        return false;
    *ret = v;
    return true;
}

struct args {
    const char *text;
    struct span sp[16];
    size_t n;
};

/* Argument i, trimmed: pointer and length; false when absent. */
static bool arg(const struct args *a, size_t i, const char **ret, size_t *ret_len) {
    if (i >= a->n)
        return false;
    const char *s = a->text + a->sp[i].start, *e = a->text + a->sp[i].end;
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *ret = s;
    *ret_len = (size_t)(e - s);
    return true;
}

/* A path argument decoded into `out`; a truncated one gets `...` and a
 * warning. False for NULL or an address. */
static bool path_arg(struct parser *p, const struct cx *cx, const struct args *a, size_t i,
                     char *out) {
    const char *s;
    size_t n;
    if (!arg(a, i, &s, &n) || !n || s[0] != '"')
        return false;
    bool truncated;
    size_t used;
    if (!unquote(s, out, PATH_MAX - 4, &truncated, &used)) {
        import_warn(p->imp, cx->file, cx->line, "path too long or unreadable");
        return false;
    }
    if (truncated) {
        import_warn(p->imp, cx->file, cx->line,
                    "path '%.200s...' truncated by strace -s: recorded as is", out);
        strcat(out, "...");
    }
    return true;
}

/* `path` against `dir` where the log says how; the dirfd to give the
 * builder. False when there is nothing to name. */
static bool resolve(struct parser *p, const struct cx *cx, struct dir *d, const char *path,
                    char *out, long long *ret_dirfd) {
    if (d->cwd && d->has_base)
        sync_cwd(p, cx->pid, d->base);
    *ret_dirfd = IMPORT_AT_FDCWD;
    if (path[0] == '/') {
        snprintf(out, PATH_MAX, "%s", path);
        return true;
    }
    if (d->has_base) {
        char joined[PATH_MAX];
        if (snprintf(joined, sizeof joined, "%s/%s", d->base, path) >= (int)sizeof joined)
            return false;
        import_canon(joined, out);
        return true;
    }
    if (!d->cwd) {
        if (import_absolute(p->imp, cx->pid, d->fd, path, out))
            return true;
        if (!path[0])
            return false;
        snprintf(out, PATH_MAX, "%s", path);
        *ret_dirfd = d->fd;
        return true;
    }
    if (!path[0])
        return false;
    snprintf(out, PATH_MAX, "%s", path);
    return true;
}

/* ---- what each call does ------------------------------------------------ */

enum op_from { FROM_FIXED, FROM_FLAGS, FROM_HOW, FROM_RENAME };

struct path_spec {
    const char *name;
    signed char dir[2];  /* dirfd argument of each path, -1: the cwd */
    signed char path[2]; /* path argument, -1: none */
    enum op_from from;
    signed char flags; /* FLAGS/HOW: the argument */
    enum cordon_import_op op;
};

static const struct path_spec specs[] = {
    {"open", {-1, -1}, {0, -1}, FROM_FLAGS, 1, 0},
    {"openat", {0, -1}, {1, -1}, FROM_FLAGS, 2, 0},
    {"openat2", {0, -1}, {1, -1}, FROM_HOW, 2, 0},
    {"creat", {-1, -1}, {0, -1}, FROM_FIXED, 0, CORDON_IMPORT_WRITE},
    {"mkdir", {-1, -1}, {0, -1}, FROM_FIXED, 0, CORDON_IMPORT_CREATE},
    {"mknod", {-1, -1}, {0, -1}, FROM_FIXED, 0, CORDON_IMPORT_CREATE},
    {"mkdirat", {0, -1}, {1, -1}, FROM_FIXED, 0, CORDON_IMPORT_CREATE},
    {"mknodat", {0, -1}, {1, -1}, FROM_FIXED, 0, CORDON_IMPORT_CREATE},
    {"stat", {-1, -1}, {0, -1}, FROM_FIXED, 0, CORDON_IMPORT_STAT},
    {"lstat", {-1, -1}, {0, -1}, FROM_FIXED, 0, CORDON_IMPORT_STAT},
    {"stat64", {-1, -1}, {0, -1}, FROM_FIXED, 0, CORDON_IMPORT_STAT},
    {"lstat64", {-1, -1}, {0, -1}, FROM_FIXED, 0, CORDON_IMPORT_STAT},
    {"oldstat", {-1, -1}, {0, -1}, FROM_FIXED, 0, CORDON_IMPORT_STAT},
    {"oldlstat", {-1, -1}, {0, -1}, FROM_FIXED, 0, CORDON_IMPORT_STAT},
    {"statfs", {-1, -1}, {0, -1}, FROM_FIXED, 0, CORDON_IMPORT_STAT},
    {"statfs64", {-1, -1}, {0, -1}, FROM_FIXED, 0, CORDON_IMPORT_STAT},
    {"newfstatat", {0, -1}, {1, -1}, FROM_FIXED, 0, CORDON_IMPORT_STAT},
    {"fstatat64", {0, -1}, {1, -1}, FROM_FIXED, 0, CORDON_IMPORT_STAT},
    {"statx", {0, -1}, {1, -1}, FROM_FIXED, 0, CORDON_IMPORT_STAT},
    {"access", {-1, -1}, {0, -1}, FROM_FIXED, 0, CORDON_IMPORT_PROBE},
    {"faccessat", {0, -1}, {1, -1}, FROM_FIXED, 0, CORDON_IMPORT_PROBE},
    {"faccessat2", {0, -1}, {1, -1}, FROM_FIXED, 0, CORDON_IMPORT_PROBE},
    {"readlink", {-1, -1}, {0, -1}, FROM_FIXED, 0, CORDON_IMPORT_READLINK},
    {"readlinkat", {0, -1}, {1, -1}, FROM_FIXED, 0, CORDON_IMPORT_READLINK},
    {"unlink", {-1, -1}, {0, -1}, FROM_FIXED, 0, CORDON_IMPORT_DELETE},
    {"rmdir", {-1, -1}, {0, -1}, FROM_FIXED, 0, CORDON_IMPORT_DELETE},
    {"unlinkat", {0, -1}, {1, -1}, FROM_FIXED, 0, CORDON_IMPORT_DELETE},
    {"rename", {-1, -1}, {0, 1}, FROM_RENAME, 0, 0},
    {"renameat", {0, 2}, {1, 3}, FROM_RENAME, 0, 0},
    {"renameat2", {0, 2}, {1, 3}, FROM_RENAME, 0, 0},
    {"link", {-1, -1}, {0, 1}, FROM_FIXED, 0, CORDON_IMPORT_CREATE},
    {"linkat", {0, 2}, {1, 3}, FROM_FIXED, 0, CORDON_IMPORT_CREATE},
    {"symlink", {-1, -1}, {1, -1}, FROM_FIXED, 0, CORDON_IMPORT_CREATE},
    {"symlinkat", {1, -1}, {2, -1}, FROM_FIXED, 0, CORDON_IMPORT_CREATE},
    {"truncate", {-1, -1}, {0, -1}, FROM_FIXED, 0, CORDON_IMPORT_WRITE},
    {"truncate64", {-1, -1}, {0, -1}, FROM_FIXED, 0, CORDON_IMPORT_WRITE},
    {"chmod", {-1, -1}, {0, -1}, FROM_FIXED, 0, CORDON_IMPORT_WRITE},
    {"chown", {-1, -1}, {0, -1}, FROM_FIXED, 0, CORDON_IMPORT_WRITE},
    {"chown32", {-1, -1}, {0, -1}, FROM_FIXED, 0, CORDON_IMPORT_WRITE},
    {"lchown", {-1, -1}, {0, -1}, FROM_FIXED, 0, CORDON_IMPORT_WRITE},
    {"lchown32", {-1, -1}, {0, -1}, FROM_FIXED, 0, CORDON_IMPORT_WRITE},
    {"utime", {-1, -1}, {0, -1}, FROM_FIXED, 0, CORDON_IMPORT_WRITE},
    {"utimes", {-1, -1}, {0, -1}, FROM_FIXED, 0, CORDON_IMPORT_WRITE},
    {"fchownat", {0, -1}, {1, -1}, FROM_FIXED, 0, CORDON_IMPORT_WRITE},
    {"fchmodat", {0, -1}, {1, -1}, FROM_FIXED, 0, CORDON_IMPORT_WRITE},
    {"fchmodat2", {0, -1}, {1, -1}, FROM_FIXED, 0, CORDON_IMPORT_WRITE},
    {"utimensat", {0, -1}, {1, -1}, FROM_FIXED, 0, CORDON_IMPORT_WRITE},
    {"futimesat", {0, -1}, {1, -1}, FROM_FIXED, 0, CORDON_IMPORT_WRITE},
};

static const struct path_spec *spec_of(const char *name) {
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(specs); i++)
        if (!strcmp(specs[i].name, name))
            return &specs[i];
    return NULL;
}

/* Calls returning a new descriptor that names no path of the log (or one
 * -y prints). */
static bool returns_fd(const char *name) {
    static const char *const names[] = {
        "socket",        "accept",      "accept4",         "memfd_create",   "memfd_secret",
        "eventfd",       "eventfd2",    "epoll_create",    "epoll_create1",  "inotify_init",
        "inotify_init1", "signalfd",    "signalfd4",       "timerfd_create", "pidfd_open",
        "pidfd_getfd",   "userfaultfd", "perf_event_open", "fanotify_init",  "open_by_handle_at",
        "open_tree",     "fsopen",      "fsmount",         "fspick",         "io_uring_setup",
        "mq_open",       "pipe",        "pipe2",
    };
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(names); i++)
        if (!strcmp(names[i], name))
            return true;
    return false;
}

/* Open flags, symbolic (`O_RDONLY|O_CLOEXEC`) or numeric (raw output). */
static enum cordon_import_op op_of_flags(const char *f, size_t len) {
    if (!len || !is_digit(f[0]))
        return import_op_of_flags_text(f, len);
    unsigned long long v = strtoull(f, NULL, 0);
    int acc = (int)(v & 3);
    bool creat = v & 0100, trunc = v & 01000, excl = v & 0200;
    if (v & 010000000)
        return CORDON_IMPORT_STAT; /* O_PATH */
    if (v & 0200000)
        return CORDON_IMPORT_STAT; /* O_DIRECTORY */
    if (creat && excl)
        return CORDON_IMPORT_CREATE;
    if (acc == 2)
        return trunc ? CORDON_IMPORT_WRITE : CORDON_IMPORT_UPDATE;
    if (acc == 1 || trunc || creat)
        return CORDON_IMPORT_WRITE;
    return CORDON_IMPORT_READ;
}

static void set_fd_from_result(struct parser *p, int pid, const struct res *r, const char *fallback,
                               bool fallback_ok) {
    if (r->kind != RES_OK || r->value < 0)
        return;
    char ann[PATH_MAX];
    if (annotation_path(r->ann, r->ann_len, ann))
        import_set_fd(p->imp, pid, r->value, ann);
    else if (!r->ann && fallback_ok && fallback)
        import_set_fd(p->imp, pid, r->value, fallback);
    else
        import_set_fd(p->imp, pid, r->value, NULL);
}

static void do_paths(struct parser *p, const struct cx *cx, const char *name,
                     const struct path_spec *sp, const struct args *a, const struct res *r) {
    int err;
    if (r->kind == RES_OK)
        err = 0;
    else if (r->kind == RES_ERR)
        err = (int)r->value;
    else
        return;
    enum cordon_import_op base = sp->op;
    const char *fa;
    size_t fl;
    if (sp->from == FROM_FLAGS) {
        base = arg(a, (size_t)sp->flags, &fa, &fl) ? op_of_flags(fa, fl) : CORDON_IMPORT_READ;
    } else if (sp->from == FROM_HOW) {
        base = CORDON_IMPORT_READ;
        if (arg(a, (size_t)sp->flags, &fa, &fl)) {
            const char *f = memmem(fa, fl, "flags=", 6);
            if (f) {
                f += 6;
                size_t n = 0;
                while (f + n < fa + fl && f[n] != ',' && f[n] != '}')
                    n++;
                base = op_of_flags(f, n);
            }
        }
    }
    bool opens = sp->from == FROM_FLAGS || sp->from == FROM_HOW || !strcmp(name, "creat");
    for (int k = 0; k < 2 && sp->path[k] >= 0; k++) {
        char path[PATH_MAX], out[PATH_MAX];
        if (!path_arg(p, cx, a, (size_t)sp->path[k], path))
            continue;
        /* fstat of an open descriptor (AT_EMPTY_PATH): its open named the
         * file already, and -y would name it by the kernel's path. */
        if (!path[0] && base == CORDON_IMPORT_STAT)
            continue;
        struct dir d;
        const char *da;
        size_t dl;
        if (sp->dir[k] >= 0 && arg(a, (size_t)sp->dir[k], &da, &dl))
            parse_dir(da, dl, &d);
        else
            d = (struct dir){.cwd = true, .fd = IMPORT_AT_FDCWD};
        long long dirfd;
        if (!resolve(p, cx, &d, path, out, &dirfd))
            continue;
        enum cordon_import_op op = base;
        if (sp->from == FROM_RENAME)
            op = k == 0 ? CORDON_IMPORT_DELETE : CORDON_IMPORT_CREATE;
        import_event(p->imp, cx->pid, cx->t, op, dirfd, out, err, name);
        if (opens && k == 0 && r->kind == RES_OK && r->value >= 0) {
            char abs[PATH_MAX];
            bool known = import_absolute(p->imp, cx->pid, dirfd, out, abs);
            set_fd_from_result(p, cx->pid, r, known ? abs : NULL, known);
        }
    }
}

static char **parse_argv(const char *s, size_t len) {
    if (!len || s[0] != '[')
        return NULL;
    char **v = NULL;
    size_t n = 0, cap = 0;
    size_t i = 1;
    char *buf = malloc(len + 8);
    if (!buf)
        return NULL;
    for (;;) {
        while (i < len && (s[i] == ' ' || s[i] == ','))
            i++;
        char *item = NULL;
        if (i < len && s[i] == '"') {
            bool truncated;
            size_t used;
            /* unquote needs the string to end within the argument */
            if (!unquote(s + i, buf, len + 4, &truncated, &used) || i + used > len)
                break;
            if (truncated)
                strcat(buf, "...");
            item = strdup(buf);
            i += used;
        } else if (i + 3 <= len && !strncmp(s + i, "...", 3)) {
            item = strdup("...");
            i = len;
        } else {
            break;
        }
        if (!item || cordon_grow((void **)&v, &cap, n + 2, sizeof *v) < 0) {
            free(item);
            break;
        }
        v[n++] = item;
        v[n] = NULL;
    }
    free(buf);
    return v;
}

static void do_exec(struct parser *p, const struct cx *cx, const char *name, const struct args *a,
                    const struct res *r) {
    bool at = !strcmp(name, "execveat");
    int err;
    if (r->kind == RES_OK || r->kind == RES_UNKNOWN)
        err = 0;
    else if (r->kind == RES_ERR)
        err = (int)r->value;
    else
        return;
    char path[PATH_MAX], out[PATH_MAX];
    if (!path_arg(p, cx, a, at ? 1 : 0, path))
        return;
    struct dir d = {.cwd = true, .fd = IMPORT_AT_FDCWD};
    const char *da;
    size_t dl;
    if (at && arg(a, 0, &da, &dl))
        parse_dir(da, dl, &d);
    long long dirfd;
    if (!resolve(p, cx, &d, path, out, &dirfd))
        return;
    if (!err) {
        const char *av;
        size_t al;
        char **argv = arg(a, at ? 2 : 1, &av, &al) ? parse_argv(av, al) : NULL;
        char abs[PATH_MAX];
        import_absolute(p->imp, cx->pid, dirfd, out, abs);
        import_executed(p->imp, cx->pid, abs, argv);
        /* strace -v prints the environment: the traced command's is kept. */
        if (cx->pid == p->imp->root && !p->imp->root_env && arg(a, at ? 3 : 2, &av, &al) && al &&
            av[0] == '[')
            p->imp->root_env = parse_argv(av, al);
    }
    import_event(p->imp, cx->pid, cx->t, CORDON_IMPORT_EXEC, dirfd, out, err, name);
}

static void apply(struct parser *p, const struct cx *cx, const char *name, const struct args *a,
                  const struct res *r) {
    int pid = cx->pid;
    const char *s;
    size_t n;
    if (is_fork(name, strlen(name))) {
        if (r->kind == RES_OK && r->value > 0 && r->value <= INT32_MAX)
            forked(p, cx, (int)r->value);
        return;
    }
    if (!strcmp(name, "execve") || !strcmp(name, "execveat")) {
        do_exec(p, cx, name, a, r);
        return;
    }
    if (!strcmp(name, "chdir")) {
        if (r->kind != RES_OK && r->kind != RES_ERR)
            return;
        int err = r->kind == RES_ERR ? (int)r->value : 0;
        char path[PATH_MAX], out[PATH_MAX];
        if (!path_arg(p, cx, a, 0, path))
            return;
        struct dir d = {.cwd = true, .fd = IMPORT_AT_FDCWD};
        long long dirfd;
        if (!resolve(p, cx, &d, path, out, &dirfd))
            return;
        import_event(p->imp, pid, cx->t, CORDON_IMPORT_CHDIR, dirfd, out, err, name);
        if (!err) {
            import_set_cwd(p->imp, pid, out);
            forget_cwd_seen(p, pid);
        }
        return;
    }
    if (!strcmp(name, "fchdir")) {
        if (r->kind != RES_OK && r->kind != RES_ERR)
            return;
        int err = r->kind == RES_ERR ? (int)r->value : 0;
        struct dir d;
        if (!arg(a, 0, &s, &n))
            return;
        parse_dir(s, n, &d);
        char out[PATH_MAX];
        long long dirfd;
        if (!resolve(p, cx, &d, "", out, &dirfd) || dirfd != IMPORT_AT_FDCWD)
            return;
        import_event(p->imp, pid, cx->t, CORDON_IMPORT_CHDIR, IMPORT_AT_FDCWD, out, err, name);
        if (!err) {
            import_set_cwd(p->imp, pid, out);
            forget_cwd_seen(p, pid);
        }
        return;
    }
    if (!strcmp(name, "close")) {
        long long fd;
        if (r->kind == RES_OK && r->value == 0 && arg(a, 0, &s, &n) && fd_number(s, n, &fd))
            import_set_fd(p->imp, pid, fd, NULL);
        return;
    }
    if (!strcmp(name, "getdents") || !strcmp(name, "getdents64")) {
        /* A listing: the directory the descriptor names. */
        struct dir d;
        if (r->kind != RES_OK || !arg(a, 0, &s, &n))
            return;
        parse_dir(s, n, &d);
        char out[PATH_MAX];
        long long dirfd;
        if (!d.cwd && resolve(p, cx, &d, "", out, &dirfd) && dirfd == IMPORT_AT_FDCWD)
            import_event(p->imp, pid, cx->t, CORDON_IMPORT_LIST, IMPORT_AT_FDCWD, out, 0, name);
        return;
    }
    bool is_fcntl = !strcmp(name, "fcntl") || !strcmp(name, "fcntl64");
    if (!strcmp(name, "dup") || !strcmp(name, "dup2") || !strcmp(name, "dup3") || is_fcntl) {
        if (is_fcntl && !(arg(a, 1, &s, &n) && n >= 7 && !strncmp(s, "F_DUPFD", 7)))
            return;
        if (r->kind != RES_OK || r->value < 0)
            return;
        char ann[PATH_MAX];
        long long old;
        if (annotation_path(r->ann, r->ann_len, ann)) {
            import_set_fd(p->imp, pid, r->value, ann);
        } else if (r->ann) {
            import_set_fd(p->imp, pid, r->value, NULL);
        } else if (arg(a, 0, &s, &n) && fd_number(s, n, &old)) {
            const char *from = import_fd_path(p->imp, pid, old);
            char *copy = from ? strdup(from) : NULL;
            import_set_fd(p->imp, pid, r->value, copy);
            free(copy);
        }
        return;
    }
    const struct path_spec *sp = spec_of(name);
    if (sp) {
        do_paths(p, cx, name, sp, a, r);
        return;
    }
    if (returns_fd(name) && r->kind == RES_OK && r->value >= 0) {
        char ann[PATH_MAX];
        import_set_fd(p->imp, pid, r->value, annotation_path(r->ann, r->ann_len, ann) ? ann : NULL);
    }
}

/* A call line: `name(args) = result`, or its unfinished start. Returns
 * NULL when understood, else why not (static text or `why`). */
static const char *call(struct parser *p, const struct cx *cx, const char *text, char *why,
                        size_t why_size) {
    size_t nl = name_len_of(text);
    if (!nl || text[nl] != '(')
        return "not an strace line";
    char name[64];
    if (nl >= sizeof name)
        return "not an strace line";
    memcpy(name, text, nl);
    name[nl] = '\0';
    if (ends_with_unfinished(text)) {
        seen(p, cx);
        size_t n = strlen(text);
        while (n && text[n - 1] != '<')
            n--;
        struct pending *pd = calloc(1, sizeof *pd);
        char *t = pd ? strndup(text, n ? n - 1 : 0) : NULL;
        if (!t) {
            free(pd);
            p->imp->oom = true;
            return NULL;
        }
        pd->text = t;
        pd->t = cx->t;
        pd->file = cx->file;
        pd->line = cx->line;
        struct pending *old = pending_take(p, cx->pid);
        if (old) {
            size_t ol = name_len_of(old->text);
            import_warn(p->imp, cx->file, cx->line, "'%.*s' unfinished and never resumed", (int)ol,
                        old->text);
            pending_free(old);
        }
        char key[16];
        key_of(cx->pid, key);
        if (cordon_grow((void **)&p->plist, &p->cap_plist, p->n_plist + 1, sizeof *p->plist) < 0 ||
            cordon_map_put(p->pending, key, pd) < 0) {
            pending_free(pd);
            p->imp->oom = true;
            return NULL;
        }
        return NULL;
    }
    struct args a = {.text = text};
    size_t close;
    switch (scan_args(text, nl + 1, a.sp, CORDON_ARRAY_SIZE(a.sp), &a.n, &close)) {
    case SCAN_OK:
        break;
    case SCAN_UNTERMINATED_STRING:
        snprintf(why, why_size, "unterminated string in '%s' call", name);
        return why;
    case SCAN_MALFORMED:
    default:
        snprintf(why, why_size, "truncated or malformed '%s' call", name);
        return why;
    }
    const char *rest = text + close + 1;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    if (*rest != '=') {
        snprintf(why, why_size, "'%s' call without a result", name);
        return why;
    }
    struct res r = parse_result(rest + 1, strlen(rest + 1));
    if (r.kind == RES_BAD) {
        snprintf(why, why_size, "unreadable result of '%s'", name);
        return why;
    }
    seen(p, cx);
    apply(p, cx, name, &a, &r);
    return NULL;
}

static const char *exit_line(struct parser *p, const struct cx *cx, const char *r) {
    size_t n = strlen(r);
    while (n && (r[n - 1] == ' ' || r[n - 1] == '\t'))
        n--;
    if (n >= 3 && !strncmp(r + n - 3, "+++", 3))
        n -= 3;
    while (n && r[n - 1] == ' ')
        n--;
    int status;
    if (n > 12 && !strncmp(r, "exited with ", 12)) {
        long v = 0;
        size_t i = 12;
        bool neg = r[i] == '-';
        if (neg)
            i++;
        size_t st = i;
        while (i < n && is_digit(r[i]) && v < 100000)
            v = v * 10 + (r[i++] - '0');
        if (i == st || i != n)
            return "unreadable exit status";
        status = (int)((neg ? -v : v) & 0xff) << 8;
    } else if (n > 10 && !strncmp(r, "killed by ", 10)) {
        size_t i = 10, st = 10;
        while (i < n && r[i] != ' ')
            i++;
        int sig = import_signal_of_name(r + st, i - st);
        if (!sig) {
            import_warn(p->imp, cx->file, cx->line, "unknown signal '%.*s', status 128 recorded",
                        (int)(i - st > 40 ? 40 : i - st), r + st);
            status = 128 << 8;
        } else {
            status = sig | (memmem(r + i, n - i, "core dumped", 11) ? 0x80 : 0);
        }
    } else if (starts(r, "superseded by execve") || starts(r, "detached")) {
        return NULL;
    } else {
        return "unreadable '+++' line";
    }
    ensure(p, cx->pid, 0);
    pending_free(pending_take(p, cx->pid));
    live_remove(p, cx->pid);
    import_ended(p->imp, cx->pid, status);
    return NULL;
}

static const char *resumed(struct parser *p, const struct cx *cx, const char *r, char *why,
                           size_t why_size) {
    const char *e = strstr(r, "resumed>");
    if (!e)
        return "unreadable resumption";
    const char *ns = r, *ne = e;
    while (ne > ns && ne[-1] == ' ')
        ne--;
    size_t nlen = (size_t)(ne - ns);
    const char *rest = e + 8;
    seen(p, cx);
    struct pending *pd = pending_take(p, cx->pid);
    size_t pl = pd ? name_len_of(pd->text) : 0;
    if (pd && (!nlen || (pl == nlen && !strncmp(pd->text, ns, nlen)))) {
        struct cordon_strbuf joined = CORDON_STRBUF_INIT;
        cordon_strbuf_adds(&joined, pd->text);
        cordon_strbuf_adds(&joined, rest);
        struct cx c2 = *cx;
        c2.t = pd->t;
        pending_free(pd);
        if (joined.failed) {
            cordon_strbuf_release(&joined);
            p->imp->oom = true;
            return NULL;
        }
        const char *w = call(p, &c2, joined.buf, why, why_size);
        if (w && w != why) {
            snprintf(why, why_size, "%s", w);
            w = why;
        }
        cordon_strbuf_release(&joined);
        return w;
    }
    if (pd) {
        import_warn(p->imp, cx->file, cx->line, "'%.*s' resumed while '%.*s' was unfinished",
                    (int)(nlen > 40 ? 40 : nlen), ns, (int)(pl > 40 ? 40 : pl), pd->text);
        pending_free(pd);
    } else {
        import_warn(p->imp, cx->file, cx->line, "'%.*s' resumed without its start",
                    (int)(nlen > 40 ? 40 : nlen), ns);
    }
    /* A fork's result still says who the child is. */
    if (is_fork(ns, nlen)) {
        struct cordon_strbuf t = CORDON_STRBUF_INIT;
        cordon_strbuf_addn(&t, ns, nlen);
        cordon_strbuf_adds(&t, "(");
        cordon_strbuf_adds(&t, rest);
        int child = t.failed ? 0 : fork_result(t.buf);
        cordon_strbuf_release(&t);
        if (child)
            forked(p, cx, child);
    }
    return NULL;
}

static void problem(struct parser *p, const struct cx *cx, const char *what, const char *line) {
    char ex[96];
    import_excerpt(line, strlen(line), ex);
    if (!p->first_problem[0]) {
        snprintf(p->first_problem, sizeof p->first_problem, "%s", what);
        p->first_problem_line = cx->line;
        p->first_problem_file = cx->file;
    }
    import_warn(p->imp, cx->file, cx->line, "%s: '%s'", what, ex);
}

static void line(struct parser *p, struct src *s) {
    if (s->summary)
        return;
    const char *text = s->line.buf;
    const char *body = text + s->head.body;
    uint64_t t;
    if (s->has_t) {
        if (!p->have_base) {
            p->have_base = true;
            p->base = s->t_abs;
        }
        t = s->t_abs >= p->base ? s->t_abs - p->base : 0;
    } else {
        t = s->last_t;
    }
    s->last_t = t;
    int pid = s->head.pid;
    if (!pid)
        pid = s->bracket && p->n_live == 1 ? p->live[0] : s->default_pid;
    struct cx cx = {s->name, s->peek_line, pid, t, s->bracket};
    char why[160];
    const char *w = NULL;
    if (starts(text, "strace: ") || starts(body, "--- ") || starts(body, "[ Process PID=") ||
        starts(body, "> ")) {
        /* messages, signals, personality changes, -k stack frames */
    } else if (starts(body, "% time")) {
        s->summary = true;
    } else if (starts(body, "+++ ")) {
        w = exit_line(p, &cx, body + 4);
    } else if (starts(body, "<... ")) {
        w = resumed(p, &cx, body + 5, why, sizeof why);
    } else if ((*body >= 'a' && *body <= 'z') || (*body >= 'A' && *body <= 'Z') || *body == '_' ||
               *body == '?') {
        w = call(p, &cx, body, why, sizeof why);
    } else {
        w = "not an strace line";
    }
    if (w)
        problem(p, &cx, w, text);
    else
        p->understood++;
}

/* ---- pre-scan: forks, and the [pid N] style ----------------------------- */

static void prescan(struct parser *p, struct src *srcs, size_t n) {
    struct cordon_map *children = cordon_map_new(256);
    struct cordon_strbuf lb = CORDON_STRBUF_INIT, carry = CORDON_STRBUF_INIT;
    if (!children) {
        p->imp->oom = true;
        return;
    }
    struct fork {
        int parent, child;
    } *forks = NULL;
    size_t n_forks = 0, cap_forks = 0;
    for (size_t k = 0; k < n; k++) {
        struct src *s = &srcs[k];
        struct cordon_map *bracket_pids = cordon_map_new(64);
        int *bl = NULL;
        size_t n_bl = 0, cap_bl = 0;
        size_t first_fork = n_forks;
        bool has_carry = false;
        if (!bracket_pids) {
            p->imp->oom = true;
            break;
        }
        for (size_t pos = 0; pos < s->len;) {
            const char *l = s->text + pos;
            const char *nl = memchr(l, '\n', s->len - pos);
            size_t len = nl ? (size_t)(nl - l) : s->len - pos;
            pos += len + 1;
            cordon_strbuf_reset(&lb);
            if (has_carry && !(len >= 4 && !strncmp(l, "[pid", 4)))
                cordon_strbuf_addn(&lb, carry.buf, carry.len);
            has_carry = false;
            cordon_strbuf_addn(&lb, l, len);
            if (lb.failed) {
                p->imp->oom = true;
                break;
            }
            for (size_t i = 0; i < lb.len; i++)
                if (!lb.buf[i])
                    lb.buf[i] = '?';
            long cut = attach_cut(lb.buf, lb.len);
            if (cut >= 0) {
                cordon_strbuf_reset(&carry);
                cordon_strbuf_addn(&carry, lb.buf, (size_t)cut);
                has_carry = true;
            }
            int att = attached_pid(lb.buf);
            if (att) {
                map_put_int(p, children, att, 1);
                continue;
            }
            bool bracket = starts(lb.buf, "[pid");
            if (!bracket && !strstr(lb.buf, "fork") && !strstr(lb.buf, "clone"))
                continue;
            struct head h = head_of(lb.buf);
            if (bracket && h.pid) {
                s->bracket = true;
                if (!map_get_int(bracket_pids, h.pid)) {
                    map_put_int(p, bracket_pids, h.pid, 1);
                    if (cordon_grow((void **)&bl, &cap_bl, n_bl + 1, sizeof *bl) == 0)
                        bl[n_bl++] = h.pid;
                }
            }
            int child = fork_result(lb.buf + h.body);
            if (child) {
                if (cordon_grow((void **)&forks, &cap_forks, n_forks + 1, sizeof *forks) < 0) {
                    p->imp->oom = true;
                    break;
                }
                forks[n_forks++] = (struct fork){h.pid, child};
                map_put_int(p, children, child, 1);
            }
        }
        (void)first_fork;
        if (s->bracket) {
            int root = 0, roots = 0;
            for (size_t i = 0; i < n_bl; i++)
                if (!map_get_int(children, bl[i])) {
                    root = bl[i];
                    roots++;
                }
            if (roots == 1)
                s->default_pid = root;
        }
        for (size_t i = first_fork; i < n_forks; i++)
            if (!forks[i].parent)
                forks[i].parent = s->default_pid;
        free(bl);
        cordon_map_free(bracket_pids);
    }
    for (size_t i = 0; i < n_forks; i++)
        if (forks[i].parent != forks[i].child && !map_get_int(p->parent_of, forks[i].child))
            map_put_int(p, p->parent_of, forks[i].child, forks[i].parent);
    free(forks);
    cordon_strbuf_release(&lb);
    cordon_strbuf_release(&carry);
    cordon_map_free(children);
}

static int depth_of(struct parser *p, int pid) {
    int d = 0, cur = pid;
    for (;;) {
        int parent = (int)map_get_int(p->parent_of, cur);
        if (!parent)
            break;
        d++;
        cur = parent;
        if (d > 4096 || parent == pid)
            break;
    }
    return d;
}

/* ---- the merge ------------------------------------------------------------ */

static uint64_t key_t_of(const struct src *s) {
    return s->has_t ? s->t_abs : s->ts.last_abs;
}

/* Heap of source indices ordered by (time, index). */
static bool heap_less(struct src *srcs, size_t a, size_t b) {
    uint64_t ta = key_t_of(&srcs[a]), tb = key_t_of(&srcs[b]);
    return ta < tb || (ta == tb && a < b);
}

static void heap_push(size_t *h, size_t *n, struct src *srcs, size_t v) {
    size_t i = (*n)++;
    h[i] = v;
    while (i && heap_less(srcs, h[i], h[(i - 1) / 2])) {
        size_t t = h[i];
        h[i] = h[(i - 1) / 2];
        h[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static size_t heap_pop(size_t *h, size_t *n, struct src *srcs) {
    size_t top = h[0];
    h[0] = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < *n && heap_less(srcs, h[l], h[m]))
            m = l;
        if (r < *n && heap_less(srcs, h[r], h[m]))
            m = r;
        if (m == i)
            break;
        size_t t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
    return top;
}

static int cmp_depth(const void *a, const void *b) {
    const struct src *x = a, *y = b;
    return (x->depth > y->depth) - (x->depth < y->depth);
}

int cordon_import_strace(struct cordon_import *imp, const struct cordon_import_source *in, size_t n,
                         struct cordon_error *err) {
    if (!n)
        return cordon_error_set(err, EINVAL, NULL, 0, 0, "not an strace log: no input");
    struct parser p = {.imp = imp};
    struct src *srcs = calloc(n, sizeof *srcs);
    size_t *heap = calloc(n, sizeof *heap);
    p.parent_of = cordon_map_new(256);
    p.known = cordon_map_new(256);
    p.pending = cordon_map_new(64);
    p.cwd_seen = cordon_map_new(64);
    int r = 0;
    if (!srcs || !heap || !p.parent_of || !p.known || !p.pending || !p.cwd_seen) {
        r = cordon_error_set(err, ENOMEM, in[0].name, 0, 0, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        srcs[i] = (struct src){.name = in[i].name, .text = in[i].text, .len = in[i].len};
        srcs[i].carry = (struct cordon_strbuf)CORDON_STRBUF_INIT;
        srcs[i].line = (struct cordon_strbuf)CORDON_STRBUF_INIT;
        srcs[i].default_pid = import_pid_of_file_name(in[i].name) ?: 1;
    }
    prescan(&p, srcs, n);
    /* Parents' files before their children's, so that without timestamps a
     * child is made at its parent's fork, with its cwd and descriptors. */
    for (size_t i = 0; i < n; i++)
        srcs[i].depth = depth_of(&p, srcs[i].default_pid);
    if (n > 1) {
        /* qsort is not stable: order by (depth, original index). */
        for (size_t i = 0; i < n; i++)
            srcs[i].depth = srcs[i].depth * (int)(n + 1) + (int)i;
        qsort(srcs, n, sizeof *srcs, cmp_depth);
    }
    size_t hn = 0;
    for (size_t i = 0; i < n; i++)
        if (peek(&srcs[i]))
            heap_push(heap, &hn, srcs, i);
    while (hn && !imp->oom) {
        size_t i = heap_pop(heap, &hn, srcs);
        line(&p, &srcs[i]);
        if (peek(&srcs[i]))
            heap_push(heap, &hn, srcs, i);
    }
    /* Calls still waiting for their end. */
    for (size_t i = 0; i < imp->n_plist; i++) {
        struct pending *pd = pending_take(&p, imp->plist[i]->pid);
        if (pd) {
            size_t nl = name_len_of(pd->text);
            import_warn(imp, pd->file, pd->line, "'%.*s' unfinished and never resumed", (int)nl,
                        pd->text);
            pending_free(pd);
        }
    }
    imp->understood += p.understood;
    if (imp->oom) {
        r = cordon_error_set(err, ENOMEM, in[0].name, 0, 0, "out of memory");
    } else if (!p.understood) {
        if (p.first_problem[0])
            r = cordon_error_set(err, EINVAL, p.first_problem_file, (int)p.first_problem_line, 0,
                                 "not an strace log: no line looks like strace output (the first: "
                                 "%s)",
                                 p.first_problem);
        else
            r = cordon_error_set(err, EINVAL, in[0].name, 0, 0, "not an strace log: it is empty");
    }
out:
    if (srcs)
        for (size_t i = 0; i < n; i++) {
            cordon_strbuf_release(&srcs[i].carry);
            cordon_strbuf_release(&srcs[i].line);
        }
    free(srcs);
    free(heap);
    /* Pending entries left belong to pids the builder never saw. */
    free(p.plist);
    cordon_map_free(p.parent_of);
    cordon_map_free(p.known);
    cordon_map_free(p.pending);
    cordon_map_free(p.cwd_seen);
    for (size_t i = 0; i < p.n_cwd; i++)
        free(p.cwd_list[i]);
    free(p.cwd_list);
    free(p.live);
    return r;
}
