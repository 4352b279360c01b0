/* The knowledge base: path patterns of files that tools find by themselves,
 * each with a category, the tool, an explanation and a fix.
 *
 * The data stays in the Rust era's TOML files (knowledge/NAME.toml) rather than
 * a new line format: the files are what contributors already edit, their
 * format is documented at the top of knowledge/git.toml, and the subset
 * they use is small enough for a hand parser that names the line and column
 * of every problem: comments, `[[entry]]`, `key = "basic string"` (with
 * \" \\ \n \t \uXXXX escapes), `key = integer`, and arrays of strings that
 * may span lines (toolchain.toml). Anything else is an error, not ignored.
 *
 * Matching follows the Rust analyzer (analysis/kb.rs): `*` within one
 * component, a `**` component any number of components (zero included);
 * the highest priority wins, then the most specific pattern, then load
 * order. Entries are bucketed by their first literal component so that a
 * path is compared only with the entries that can match it.
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
#include <cordon/cli.h>
#include <cordon/error.h>
#include <cordon/util.h>

enum seg_kind { SEG_LIT, SEG_GLOB, SEG_DEEP };

struct seg {
    char *text;
    size_t len;
    enum seg_kind kind;
};

struct pattern {
    struct seg *segs;
    size_t n;
    char *prefix; /* leading literal components as a path, "/" if none */
    size_t prefix_len;
    bool floating; /* starts with ** */
    unsigned score;
    size_t literal_chars;
};

struct compiled {
    size_t entry; /* index into entries */
    struct pattern pat;
};

enum var { VAR_HOME, VAR_XDG_CONFIG, VAR_XDG_CACHE, VAR_XDG_DATA, VAR_MAX };
static const char *const var_names[VAR_MAX] = {"HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME",
                                               "XDG_DATA_HOME"};

struct cordon_kb {
    struct cordon_kb_entry *entries;
    size_t n_entries, cap_entries;
    /* toolchain.toml */
    char **packages, **paths, **headers, **libraries;
    size_t n_packages, n_paths, n_headers, n_libraries;
    /* after bind */
    char *vars[VAR_MAX];
    struct compiled *comp; /* best first */
    size_t n_comp;
    struct pattern *tc_paths;
    size_t n_tc_paths;
    struct pattern *libc_headers;
    size_t n_libc_headers;
};

/* ---- patterns ------------------------------------------------------------- */

bool cordon_glob_match(const char *p, const char *s) {
    const char *star_p = NULL, *star_s = NULL;
    while (*s) {
        if (*p == '*') {
            star_p = p++;
            star_s = s;
        } else if (*p && *p == *s) {
            p++;
            s++;
        } else if (star_p) {
            p = star_p + 1;
            s = ++star_s;
        } else {
            return false;
        }
    }
    while (*p == '*')
        p++;
    return !*p;
}

static void pattern_release(struct pattern *p) {
    for (size_t i = 0; i < p->n; i++)
        free(p->segs[i].text);
    free(p->segs);
    free(p->prefix);
    *p = (struct pattern){0};
}

/* Check one component; NULL if fine, else the problem. */
static const char *seg_problem(const char *c, size_t n) {
    if (n == 0)
        return "empty component ('//' or a trailing '/')";
    if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
        return "'.' or '..' component";
    if (memmem(c, n, "${", 2))
        return "variables may only start a pattern, as a whole component";
    if (!(n == 2 && c[0] == '*' && c[1] == '*') && memmem(c, n, "**", 2))
        return "'**' must be a whole component";
    return NULL;
}

static int pattern_add_seg(struct pattern *p, size_t *cap, const char *c, size_t n) {
    if (cordon_grow((void **)&p->segs, cap, p->n + 1, sizeof *p->segs) < 0)
        return -ENOMEM;
    char *t = strndup(c, n);
    if (!t)
        return -ENOMEM;
    enum seg_kind k = (n == 2 && c[0] == '*' && c[1] == '*') ? SEG_DEEP
                      : memchr(c, '*', n)                    ? SEG_GLOB
                                                             : SEG_LIT;
    p->segs[p->n++] = (struct seg){t, n, k};
    return 0;
}

/* Split a pattern's text after its variable. `check` reports the problem. */
static int pattern_split(struct pattern *p, size_t *cap, const char *rest, const char **problem) {
    while (*rest) {
        if (*rest == '/')
            rest++;
        const char *end = strchrnul(rest, '/');
        const char *why = seg_problem(rest, (size_t)(end - rest));
        if (why) {
            if (problem)
                *problem = why;
            return -EINVAL;
        }
        if (pattern_add_seg(p, cap, rest, (size_t)(end - rest)) < 0)
            return -ENOMEM;
        rest = end;
    }
    return 0;
}

static int pattern_finish(struct pattern *p) {
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    for (size_t i = 0; i < p->n && p->segs[i].kind == SEG_LIT; i++) {
        cordon_strbuf_adds(&sb, "/");
        cordon_strbuf_adds(&sb, p->segs[i].text);
    }
    if (sb.len == 0)
        cordon_strbuf_adds(&sb, "/");
    p->prefix = cordon_strbuf_detach(&sb);
    if (!p->prefix)
        return -ENOMEM;
    p->prefix_len = strlen(p->prefix);
    p->floating = p->n > 0 && p->segs[0].kind == SEG_DEEP;
    p->score = 0;
    p->literal_chars = 0;
    for (size_t i = 0; i < p->n; i++) {
        const struct seg *s = &p->segs[i];
        switch (s->kind) {
        case SEG_LIT:
            p->score += 3;
            p->literal_chars += s->len;
            break;
        case SEG_GLOB:
            p->score += strcmp(s->text, "*") == 0 ? 1 : 2;
            for (size_t k = 0; k < s->len; k++)
                p->literal_chars += s->text[k] != '*';
            break;
        case SEG_DEEP:
        default:
            break;
        }
    }
    return 0;
}

/* Parse the variable of an absolute pattern: VAR_MAX for none, -1 for an
 * error (with *problem), and *rest after it. */
static int pattern_var(const char *raw, const char **rest, const char **problem) {
    if (strncmp(raw, "${", 2) == 0) {
        const char *end = strchr(raw, '}');
        if (!end) {
            *problem = "unterminated '${'";
            return -1;
        }
        for (int v = 0; v < VAR_MAX; v++)
            if ((size_t)(end - raw - 2) == strlen(var_names[v]) &&
                strncmp(raw + 2, var_names[v], strlen(var_names[v])) == 0) {
                if (end[1] && end[1] != '/') {
                    *problem = "a variable must be followed by '/'";
                    return -1;
                }
                *rest = end + 1;
                return v;
            }
        *problem = "unknown variable (known: ${HOME}, ${XDG_CONFIG_HOME}, ${XDG_CACHE_HOME}, "
                   "${XDG_DATA_HOME})";
        return -1;
    }
    if (raw[0] != '/') {
        *problem = "a pattern must be absolute or start with a variable";
        return -1;
    }
    *rest = raw;
    return VAR_MAX;
}

/* Check a pattern's syntax; NULL if fine, else the problem. */
static const char *pattern_check(const char *raw) {
    const char *rest, *problem = NULL;
    if (pattern_var(raw, &rest, &problem) < 0)
        return problem;
    struct pattern p = {0};
    size_t cap = 0;
    int r = pattern_split(&p, &cap, rest, &problem);
    pattern_release(&p);
    return r == -EINVAL ? problem : NULL;
}

/* Compile with variables expanded. -EINVAL if the variable is not bound
 * (the pattern is left out), -ENOMEM. */
static int pattern_compile(const struct cordon_kb *kb, const char *raw, struct pattern *ret) {
    const char *rest, *problem = NULL;
    int v = pattern_var(raw, &rest, &problem);
    if (v < 0)
        return -EINVAL;
    struct pattern p = {0};
    size_t cap = 0;
    int r = 0;
    if (v < VAR_MAX) {
        if (!kb->vars[v])
            return -EINVAL;
        r = pattern_split(&p, &cap, kb->vars[v], NULL);
    }
    if (r == 0)
        r = pattern_split(&p, &cap, rest, NULL);
    if (r == 0)
        r = pattern_finish(&p);
    if (r < 0) {
        pattern_release(&p);
        return r;
    }
    *ret = p;
    return 0;
}

static int pattern_relative(const char *raw, struct pattern *ret) {
    struct pattern p = {0};
    size_t cap = 0;
    int r = raw[0] == '/' || !raw[0] ? -EINVAL : pattern_split(&p, &cap, raw, NULL);
    if (r == 0)
        r = pattern_finish(&p);
    if (r < 0) {
        pattern_release(&p);
        return r;
    }
    *ret = p;
    return 0;
}

/* Path components, borrowed views into a normalised path. */
struct comp {
    const char *s;
    size_t n;
};

static size_t split_path(const char *path, struct comp *out, size_t max) {
    size_t n = 0;
    const char *p = path;
    while (*p && n < max) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *e = strchrnul(p, '/');
        out[n++] = (struct comp){p, (size_t)(e - p)};
        p = e;
    }
    return n;
}

static bool seg_matches(const struct seg *s, const struct comp *c) {
    char buf[NAME_MAX + 1];
    switch (s->kind) {
    case SEG_LIT:
        return s->len == c->n && memcmp(s->text, c->s, c->n) == 0;
    case SEG_GLOB:
        if (c->n >= sizeof buf)
            return false;
        memcpy(buf, c->s, c->n);
        buf[c->n] = '\0';
        return cordon_glob_match(s->text, buf);
    case SEG_DEEP:
    default:
        return true;
    }
}

/* Components matched up to the last segment that is not **, or -1. */
static long match_segs(const struct seg *p, size_t np, const struct comp *s, size_t ns) {
    if (np == 0)
        return ns == 0 ? 0 : -1;
    if (p[0].kind == SEG_DEEP) {
        size_t k = 1;
        while (k < np && p[k].kind == SEG_DEEP)
            k++;
        if (k == np)
            return 0;
        for (size_t skip = 0; skip <= ns; skip++) {
            long a = match_segs(p + 1, np - 1, s + skip, ns - skip);
            if (a >= 0)
                return a + (long)skip;
        }
        return -1;
    }
    if (ns == 0 || !seg_matches(&p[0], &s[0]))
        return -1;
    long a = match_segs(p + 1, np - 1, s + 1, ns - 1);
    return a < 0 ? -1 : a + 1;
}

static bool has_prefix_path(const char *path, const char *prefix, size_t n) {
    if (n == 1 && prefix[0] == '/')
        return path[0] == '/';
    return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* ---- the TOML subset ------------------------------------------------------ */

struct parser {
    const char *p, *end, *line_start;
    int line;
    const char *name;
    struct cordon_error *err;
};

__attribute__((format(printf, 3, 4))) static int perr(struct parser *ps, const char *at,
                                                      const char *fmt, ...) {
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    int col = (int)(at - ps->line_start) + 1;
    return cordon_error_set(ps->err, EINVAL, ps->name, ps->line, col, "%s", text);
}

static void skip_blank(struct parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
        ps->p++;
}

/* Blanks, comments and newlines (inside arrays). */
static void skip_space(struct parser *ps) {
    for (;;) {
        skip_blank(ps);
        if (ps->p < ps->end && *ps->p == '#') {
            while (ps->p < ps->end && *ps->p != '\n')
                ps->p++;
        }
        if (ps->p < ps->end && (*ps->p == '\n' || *ps->p == '\r')) {
            if (*ps->p == '\n') {
                ps->line++;
                ps->line_start = ps->p + 1;
            }
            ps->p++;
            continue;
        }
        return;
    }
}

/* The rest of the line must be blank or a comment. */
static int end_of_line(struct parser *ps) {
    skip_blank(ps);
    if (ps->p < ps->end && *ps->p == '#')
        while (ps->p < ps->end && *ps->p != '\n')
            ps->p++;
    if (ps->p < ps->end && *ps->p == '\r')
        ps->p++;
    if (ps->p < ps->end && *ps->p != '\n')
        return perr(ps, ps->p, "unexpected text after a value");
    return 0;
}

static void put_utf8(struct cordon_strbuf *sb, unsigned long c) {
    char b[4];
    size_t n;
    if (c < 0x80) {
        b[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        b[0] = (char)(0xc0 | (c >> 6));
        b[1] = (char)(0x80 | (c & 0x3f));
        n = 2;
    } else if (c < 0x10000) {
        b[0] = (char)(0xe0 | (c >> 12));
        b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        b[2] = (char)(0x80 | (c & 0x3f));
        n = 3;
    } else {
        b[0] = (char)(0xf0 | (c >> 18));
        b[1] = (char)(0x80 | ((c >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((c >> 6) & 0x3f));
        b[3] = (char)(0x80 | (c & 0x3f));
        n = 4;
    }
    cordon_strbuf_addn(sb, b, n);
}

static int parse_string(struct parser *ps, char **ret) {
    if (ps->p >= ps->end || *ps->p != '"')
        return perr(ps, ps->p, "expected a \"string\"");
    const char *start = ps->p++;
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    for (;;) {
        if (ps->p >= ps->end || *ps->p == '\n') {
            cordon_strbuf_release(&sb);
            return perr(ps, start, "unterminated string");
        }
        char c = *ps->p++;
        if (c == '"')
            break;
        if (c != '\\') {
            cordon_strbuf_addn(&sb, &c, 1);
            continue;
        }
        char e = ps->p < ps->end ? *ps->p++ : '\0';
        switch (e) {
        case '"':
        case '\\':
            cordon_strbuf_addn(&sb, &e, 1);
            break;
        case 'n':
            cordon_strbuf_adds(&sb, "\n");
            break;
        case 't':
            cordon_strbuf_adds(&sb, "\t");
            break;
        case 'u': {
            char hex[5] = {0};
            if (ps->end - ps->p < 4) {
                cordon_strbuf_release(&sb);
                return perr(ps, ps->p - 2, "bad \\u escape");
            }
            memcpy(hex, ps->p, 4);
            char *endp;
            unsigned long cp = strtoul(hex, &endp, 16);
            if (*endp) {
                cordon_strbuf_release(&sb);
                return perr(ps, ps->p - 2, "bad \\u escape");
            }
            ps->p += 4;
            put_utf8(&sb, cp);
            break;
        }
        default:
            cordon_strbuf_release(&sb);
            return perr(ps, ps->p - 2, "unknown escape in a string");
        }
    }
    char *s = cordon_strbuf_detach(&sb);
    if (!s)
        return -ENOMEM;
    *ret = s;
    return 0;
}

static int parse_int(struct parser *ps, int *ret) {
    const char *start = ps->p;
    char buf[16];
    size_t n = 0;
    if (ps->p < ps->end && (*ps->p == '-' || *ps->p == '+'))
        buf[n++] = *ps->p++;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9' && n < sizeof buf - 1)
        buf[n++] = *ps->p++;
    buf[n] = '\0';
    if (n == 0 || (n == 1 && (buf[0] == '-' || buf[0] == '+')))
        return perr(ps, start, "expected a string, an integer or an array");
    long v = strtol(buf, NULL, 10);
    if (v < -1000000 || v > 1000000)
        return perr(ps, start, "integer out of range");
    *ret = (int)v;
    return 0;
}

static int parse_array(struct parser *ps, char ***ret, size_t *ret_n) {
    ps->p++; /* [ */
    char **v = NULL;
    size_t n = 0, cap = 0;
    int r = 0;
    for (;;) {
        skip_space(ps);
        if (ps->p >= ps->end) {
            r = perr(ps, ps->p, "unterminated array");
            break;
        }
        if (*ps->p == ']') {
            ps->p++;
            break;
        }
        char *s = NULL;
        if ((r = parse_string(ps, &s)) < 0)
            break;
        if (cordon_grow((void **)&v, &cap, n + 2, sizeof *v) < 0) {
            free(s);
            r = -ENOMEM;
            break;
        }
        v[n++] = s;
        v[n] = NULL;
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',')
            ps->p++;
        else if (ps->p < ps->end && *ps->p != ']') {
            r = perr(ps, ps->p, "expected ',' or ']' in an array");
            break;
        }
    }
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
        return r;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

static void entry_release(struct cordon_kb_entry *e) {
    free(e->pattern);
    free(e->tool);
    free(e->explanation);
    free(e->fix);
    free(e->source);
    *e = (struct cordon_kb_entry){0};
}

/* The policy statements a fix may use. */
static const char *fix_problem(const char *fix) {
    static const char *const verbs[] = {"hide", "deny", "empty", "tmpfs", "ro", "rw"};
    const char *s = fix;
    for (;;) {
        const char *end = strstr(s, "; ");
        size_t n = end ? (size_t)(end - s) : strlen(s);
        char stmt[1024];
        if (n >= sizeof stmt)
            return "fix statement too long";
        memcpy(stmt, s, n);
        stmt[n] = '\0';
        char *sp = strchr(stmt, ' ');
        bool ok = false;
        if (sp) {
            *sp = '\0';
            const char *arg = sp + 1;
            for (size_t i = 0; i < CORDON_ARRAY_SIZE(verbs); i++)
                if (strcmp(stmt, verbs[i]) == 0)
                    ok = !strchr(arg, ' ') && (arg[0] == '/' || strncmp(arg, "${", 2) == 0);
            if (strcmp(stmt, "env") == 0) {
                if (strncmp(arg, "unset ", 6) == 0)
                    ok = arg[6] && !strchr(arg + 6, '=') && !strchr(arg + 6, ' ');
                else if (strncmp(arg, "set ", 4) == 0)
                    ok = arg[4] && arg[4] != '=' && strchr(arg + 4, '=');
            }
            if (strcmp(stmt, "home") == 0)
                ok = strcmp(arg, "fresh") == 0;
        }
        if (!ok)
            return "fix statement: expected 'hide|deny|empty|tmpfs|ro|rw PATH', 'env unset "
                   "NAME', 'env set NAME=VALUE' or 'home fresh'";
        if (!end)
            return NULL;
        s = end + 2;
    }
}

static int finish_entry(struct parser *ps, struct cordon_kb *kb, struct cordon_kb_entry *e,
                        const char *cat, int line) {
    int saved = ps->line;
    ps->line = line;
    const char *at = ps->line_start;
    int r = 0;
    const char *problem;
    if (!e->pattern)
        r = cordon_error_set(ps->err, EINVAL, ps->name, line, 0, "entry without 'pattern'");
    else if (!cat)
        r = cordon_error_set(ps->err, EINVAL, ps->name, line, 0, "entry '%s' without 'category'",
                             e->pattern);
    else if ((int)(e->category = cordon_category_from_name(cat)) < 0 ||
             !cordon_category_is_breach(e->category))
        r = cordon_error_set(ps->err, EINVAL, ps->name, line, 0,
                             "entry '%s': unknown category '%s'", e->pattern, cat);
    else if (!e->tool || !*e->tool || !e->explanation || !*e->explanation || !e->fix || !*e->fix)
        r = cordon_error_set(ps->err, EINVAL, ps->name, line, 0,
                             "entry '%s': 'tool', 'explanation' and 'fix' are required",
                             e->pattern);
    else if (strchr(e->explanation, '\n'))
        r = cordon_error_set(ps->err, EINVAL, ps->name, line, 0,
                             "entry '%s': 'explanation' must be one line", e->pattern);
    else if ((problem = pattern_check(e->pattern)))
        r = cordon_error_set(ps->err, EINVAL, ps->name, line, 0, "entry '%s': %s", e->pattern,
                             problem);
    else if ((problem = fix_problem(e->fix)))
        r = cordon_error_set(ps->err, EINVAL, ps->name, line, 0, "entry '%s': %s: '%s'", e->pattern,
                             problem, e->fix);
    (void)at;
    ps->line = saved;
    if (r < 0)
        return r;
    if (cordon_grow((void **)&kb->entries, &kb->cap_entries, kb->n_entries + 1,
                    sizeof *kb->entries) < 0)
        return -ENOMEM;
    e->line = line;
    if (!(e->source = strdup(ps->name)))
        return -ENOMEM;
    kb->entries[kb->n_entries++] = *e;
    *e = (struct cordon_kb_entry){0};
    return 0;
}

static int add_strings(char ***dst, size_t *dn, char **v, size_t n) {
    char **nv = reallocarray(*dst, *dn + n + 1, sizeof *nv);
    if (!nv)
        return -ENOMEM;
    if (n)
        memcpy(nv + *dn, v, n * sizeof *v);
    *dn += n;
    nv[*dn] = NULL;
    *dst = nv;
    free(v);
    return 0;
}

int cordon_kb_load_buffer(struct cordon_kb *kb, const char *buf, size_t len, const char *name,
                          struct cordon_error *err) {
    struct parser ps = {buf, buf + len, buf, 1, name, err};
    struct cordon_kb_entry e = {0};
    _cleanup_free_ char *cat = NULL;
    bool in_entry = false;
    int entry_line = 0, r = 0;
    while (r == 0) {
        skip_space(&ps);
        if (ps.p >= ps.end)
            break;
        if (*ps.p == '[') {
            const char *at = ps.p;
            if (ps.end - ps.p >= 9 && strncmp(ps.p, "[[entry]]", 9) == 0) {
                if (in_entry && (r = finish_entry(&ps, kb, &e, cat, entry_line)) < 0)
                    break;
                free(cat);
                cat = NULL;
                in_entry = true;
                entry_line = ps.line;
                ps.p += 9;
                r = end_of_line(&ps);
                continue;
            }
            r = perr(&ps, at, "unknown table (only [[entry]] is known)");
            break;
        }
        const char *kstart = ps.p;
        while (ps.p < ps.end && (*ps.p == '_' || *ps.p == '-' || (*ps.p >= 'a' && *ps.p <= 'z') ||
                                 (*ps.p >= 'A' && *ps.p <= 'Z') || (*ps.p >= '0' && *ps.p <= '9')))
            ps.p++;
        char key[32];
        size_t kn = (size_t)(ps.p - kstart);
        if (kn == 0 || kn >= sizeof key) {
            r = perr(&ps, kstart, "expected a key, '[[entry]]' or a comment");
            break;
        }
        memcpy(key, kstart, kn);
        key[kn] = '\0';
        skip_blank(&ps);
        if (ps.p >= ps.end || *ps.p != '=') {
            r = perr(&ps, ps.p, "expected '=' after '%s'", key);
            break;
        }
        ps.p++;
        skip_blank(&ps);
        if (in_entry) {
            char **slot = strcmp(key, "pattern") == 0       ? &e.pattern
                          : strcmp(key, "tool") == 0        ? &e.tool
                          : strcmp(key, "explanation") == 0 ? &e.explanation
                          : strcmp(key, "fix") == 0         ? &e.fix
                          : strcmp(key, "category") == 0    ? &cat
                                                            : NULL;
            if (slot) {
                if (*slot) {
                    r = perr(&ps, kstart, "'%s' given twice in one entry", key);
                    break;
                }
                r = parse_string(&ps, slot);
            } else if (strcmp(key, "priority") == 0) {
                r = parse_int(&ps, &e.priority);
            } else {
                r = perr(&ps, kstart, "unknown key '%s' in an entry", key);
            }
        } else {
            char ***dst = strcmp(key, "packages") == 0    ? &kb->packages
                          : strcmp(key, "paths") == 0     ? &kb->paths
                          : strcmp(key, "headers") == 0   ? &kb->headers
                          : strcmp(key, "libraries") == 0 ? &kb->libraries
                                                          : NULL;
            size_t *dn = dst == &kb->packages    ? &kb->n_packages
                         : dst == &kb->paths     ? &kb->n_paths
                         : dst == &kb->headers   ? &kb->n_headers
                         : dst == &kb->libraries ? &kb->n_libraries
                                                 : NULL;
            if (!dst) {
                r = perr(&ps, kstart, "unknown top-level key '%s'", key);
                break;
            }
            if (ps.p >= ps.end || *ps.p != '[') {
                r = perr(&ps, ps.p, "'%s' must be an array of strings", key);
                break;
            }
            const char *astart = ps.p;
            int aline = ps.line;
            const char *aline_start = ps.line_start;
            char **v;
            size_t n;
            if ((r = parse_array(&ps, &v, &n)) < 0)
                break;
            for (size_t i = 0; i < n && r == 0; i++) {
                const char *problem = NULL;
                struct pattern tmp = {0};
                if (dst == &kb->paths)
                    problem = pattern_check(v[i]);
                else if (dst == &kb->headers && pattern_relative(v[i], &tmp) < 0)
                    problem = "must be a relative, non-empty pattern";
                pattern_release(&tmp);
                if (problem) {
                    ps.line = aline;
                    ps.line_start = aline_start;
                    r = cordon_error_set(err, EINVAL, name, aline, (int)(astart - aline_start) + 1,
                                         "%s: '%s': %s", key, v[i], problem);
                }
            }
            if (r == 0)
                r = add_strings(dst, dn, v, n);
            if (r < 0) {
                for (size_t i = 0; i < n; i++)
                    free(v[i]);
                free(v);
                break;
            }
        }
        if (r == 0)
            r = end_of_line(&ps);
    }
    if (r == 0 && in_entry)
        r = finish_entry(&ps, kb, &e, cat, entry_line);
    entry_release(&e);
    if (r == -ENOMEM)
        cordon_error_set(err, ENOMEM, name, 0, 0, "out of memory");
    return r;
}

int cordon_kb_load_file(struct cordon_kb *kb, const char *path, struct cordon_error *err) {
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cordon_error_set(err, errno, path, 0, 0, "cannot open '%s'", path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return cordon_error_set(err, errno, path, 0, 0, "cannot stat '%s'", path);
    if (st.st_size > 16 << 20)
        return cordon_error_set(err, EFBIG, path, 0, 0, "'%s' is too large for a knowledge file",
                                path);
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf)
        return cordon_error_set(err, ENOMEM, path, 0, 0, "out of memory");
    size_t got = 0;
    int r = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = cordon_error_set(err, errno, path, 0, 0, "cannot read '%s'", path);
            break;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    if (r == 0)
        r = cordon_kb_load_buffer(kb, buf, got, path, err);
    free(buf);
    return r;
}

static int name_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cordon_kb_load_dir(const char *dir, struct cordon_kb **ret, struct cordon_error *err) {
    DIR *d = opendir(dir);
    if (!d)
        return cordon_error_set(err, errno, dir, 0, 0, "cannot open the knowledge directory '%s'",
                                dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    int r = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".toml") != 0 || de->d_name[0] == '.')
            continue;
        if (cordon_grow((void **)&names, &cap, n + 1, sizeof *names) < 0 ||
            !(names[n] = strdup(de->d_name))) {
            r = -ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    struct cordon_kb *kb = r == 0 ? cordon_kb_new() : NULL;
    if (!kb)
        r = -ENOMEM;
    if (n)
        qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 0; i < n && r == 0; i++) {
        char path[PATH_MAX];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= sizeof path)
            r = cordon_error_set(err, ENAMETOOLONG, dir, 0, 0, "'%s': name too long", dir);
        else
            r = cordon_kb_load_file(kb, path, err);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (r == 0 && n == 0)
        r = cordon_error_set(err, ENOENT, dir, 0, 0, "no knowledge files (*.toml) in '%s'", dir);
    if (r < 0) {
        if (r == -ENOMEM)
            cordon_error_set(err, ENOMEM, dir, 0, 0, "out of memory");
        cordon_kb_free(kb);
        return r;
    }
    *ret = kb;
    return 0;
}

static bool is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int cordon_kb_find_dir(char *out, size_t size) {
    const char *env = getenv("CORDON_KNOWLEDGE_DIR");
    if (env && *env) {
        if ((size_t)snprintf(out, size, "%s", env) >= size)
            return -ENAMETOOLONG;
        return is_dir(out) ? 0 : -ENOENT;
    }
    char self[PATH_MAX];
    if (cordon_self_dir(self, sizeof self) == 0 &&
        (size_t)snprintf(out, size, "%s/../share/cordon/knowledge", self) < size && is_dir(out))
        return 0;
    /* A build tree: the source tree's knowledge/, named by CMake (absolute
     * whatever -ffile-prefix-map does to __FILE__). */
    if ((size_t)snprintf(out, size, "%s", CORDON_SOURCE_KNOWLEDGE_DIR) < size && is_dir(out))
        return 0;
    return -ENOENT;
}

struct cordon_kb *cordon_kb_new(void) {
    return calloc(1, sizeof(struct cordon_kb));
}

static void strv_free_n(char **v, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void unbind(struct cordon_kb *kb) {
    for (size_t i = 0; i < kb->n_comp; i++)
        pattern_release(&kb->comp[i].pat);
    free(kb->comp);
    kb->comp = NULL;
    kb->n_comp = 0;
    for (size_t i = 0; i < kb->n_tc_paths; i++)
        pattern_release(&kb->tc_paths[i]);
    free(kb->tc_paths);
    kb->tc_paths = NULL;
    kb->n_tc_paths = 0;
    for (size_t i = 0; i < kb->n_libc_headers; i++)
        pattern_release(&kb->libc_headers[i]);
    free(kb->libc_headers);
    kb->libc_headers = NULL;
    kb->n_libc_headers = 0;
    for (int v = 0; v < VAR_MAX; v++) {
        free(kb->vars[v]);
        kb->vars[v] = NULL;
    }
}

struct cordon_kb *cordon_kb_free(struct cordon_kb *kb) {
    if (!kb)
        return NULL;
    unbind(kb);
    for (size_t i = 0; i < kb->n_entries; i++)
        entry_release(&kb->entries[i]);
    free(kb->entries);
    strv_free_n(kb->packages, kb->n_packages);
    strv_free_n(kb->paths, kb->n_paths);
    strv_free_n(kb->headers, kb->n_headers);
    strv_free_n(kb->libraries, kb->n_libraries);
    free(kb);
    return NULL;
}

static const char *env_get(char *const *env, const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; env && env[i]; i++)
        if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
            return env[i] + n + 1;
    return NULL;
}

/* A normalised absolute directory, or NULL for "/" and relative values. */
static char *norm_dir(const char *v, const char *below_home, const char *home) {
    char buf[PATH_MAX];
    if (v && v[0] == '/') {
        if ((size_t)snprintf(buf, sizeof buf, "%s", v) >= sizeof buf)
            return NULL;
    } else if (below_home && home) {
        if ((size_t)snprintf(buf, sizeof buf, "%s/%s", home, below_home) >= sizeof buf)
            return NULL;
    } else {
        return NULL;
    }
    if (cordon_path_normalize(buf) <= 1)
        return NULL;
    return strdup(buf);
}

static const struct cordon_kb *sort_kb;
static int comp_cmp(const void *pa, const void *pb) {
    const struct compiled *a = pa, *b = pb;
    const struct cordon_kb_entry *ea = &sort_kb->entries[a->entry],
                                 *eb = &sort_kb->entries[b->entry];
    if (ea->priority != eb->priority)
        return ea->priority > eb->priority ? -1 : 1;
    if (a->pat.score != b->pat.score)
        return a->pat.score > b->pat.score ? -1 : 1;
    if (a->pat.literal_chars != b->pat.literal_chars)
        return a->pat.literal_chars > b->pat.literal_chars ? -1 : 1;
    return a->entry < b->entry ? -1 : a->entry > b->entry;
}

int cordon_kb_bind(struct cordon_kb *kb, char *const *env) {
    unbind(kb);
    const char *home = env_get(env, "HOME");
    kb->vars[VAR_HOME] = norm_dir(home, NULL, NULL);
    const char *h = kb->vars[VAR_HOME];
    kb->vars[VAR_XDG_CONFIG] = norm_dir(env_get(env, "XDG_CONFIG_HOME"), ".config", h);
    kb->vars[VAR_XDG_CACHE] = norm_dir(env_get(env, "XDG_CACHE_HOME"), ".cache", h);
    kb->vars[VAR_XDG_DATA] = norm_dir(env_get(env, "XDG_DATA_HOME"), ".local/share", h);
    kb->comp = calloc(kb->n_entries + 1, sizeof *kb->comp);
    kb->tc_paths = calloc(kb->n_paths + 1, sizeof *kb->tc_paths);
    kb->libc_headers = calloc(kb->n_headers + 1, sizeof *kb->libc_headers);
    if (!kb->comp || !kb->tc_paths || !kb->libc_headers)
        return -ENOMEM;
    for (size_t i = 0; i < kb->n_entries; i++) {
        int r = pattern_compile(kb, kb->entries[i].pattern, &kb->comp[kb->n_comp].pat);
        if (r == -ENOMEM)
            return r;
        if (r == 0)
            kb->comp[kb->n_comp++].entry = i;
    }
    sort_kb = kb;
    qsort(kb->comp, kb->n_comp, sizeof *kb->comp, comp_cmp);
    sort_kb = NULL;
    for (size_t i = 0; i < kb->n_paths; i++) {
        int r = pattern_compile(kb, kb->paths[i], &kb->tc_paths[kb->n_tc_paths]);
        if (r == -ENOMEM)
            return r;
        kb->n_tc_paths += r == 0;
    }
    for (size_t i = 0; i < kb->n_headers; i++) {
        int r = pattern_relative(kb->headers[i], &kb->libc_headers[kb->n_libc_headers]);
        if (r == -ENOMEM)
            return r;
        kb->n_libc_headers += r == 0;
    }
    return 0;
}

size_t cordon_kb_count(const struct cordon_kb *kb) {
    return kb->n_entries;
}

const struct cordon_kb_entry *cordon_kb_entry_at(const struct cordon_kb *kb, size_t i) {
    return i < kb->n_entries ? &kb->entries[i] : NULL;
}

#define MAX_COMPS 512

const struct cordon_kb_entry *cordon_kb_match(const struct cordon_kb *kb, const char *path,
                                              size_t *ret_anchor_len) {
    if (!path || path[0] != '/')
        return NULL;
    struct comp comps[MAX_COMPS];
    size_t n = split_path(path, comps, MAX_COMPS);
    for (size_t i = 0; i < kb->n_comp; i++) {
        const struct pattern *p = &kb->comp[i].pat;
        /* The first literal component first: most entries fail there. */
        if (p->n && p->segs[0].kind == SEG_LIT &&
            (n == 0 || p->segs[0].len != comps[0].n ||
             memcmp(p->segs[0].text, comps[0].s, comps[0].n) != 0))
            continue;
        if (!has_prefix_path(path, p->prefix, p->prefix_len))
            continue;
        long a = match_segs(p->segs, p->n, comps, n);
        if (a < 0)
            continue;
        if (ret_anchor_len)
            *ret_anchor_len = a == 0 ? 1 : (size_t)(comps[a - 1].s + comps[a - 1].n - path);
        return &kb->entries[kb->comp[i].entry];
    }
    return NULL;
}

void cordon_kb_abstract_path(const struct cordon_kb *kb, const char *path, char *out, size_t size) {
    /* The longest directory first: ${XDG_CONFIG_HOME} before ${HOME}. */
    int best = -1;
    size_t best_len = 0;
    for (int v = 0; v < VAR_MAX; v++) {
        size_t n = kb->vars[v] ? strlen(kb->vars[v]) : 0;
        if (n > best_len && has_prefix_path(path, kb->vars[v], n)) {
            best = v;
            best_len = n;
        }
    }
    if (best < 0)
        snprintf(out, size, "%s", path);
    else
        snprintf(out, size, "${%s}%s", var_names[best], path + best_len);
}

char *cordon_kb_fix(const struct cordon_kb *kb, const char *fix, const char *matched) {
    char abs[PATH_MAX];
    cordon_kb_abstract_path(kb, matched ? matched : "/", abs, sizeof abs);
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    const char *s = fix;
    for (;;) {
        const char *end = strstr(s, "; ");
        size_t n = end ? (size_t)(end - s) : strlen(s);
        if (sb.len)
            cordon_strbuf_adds(&sb, "; ");
        if (n > 10 && strncmp(s, "env unset ", 10) == 0) {
            cordon_strbuf_adds(&sb, "unset ");
            s += 10, n -= 10;
        } else if (n > 8 && strncmp(s, "env set ", 8) == 0) {
            cordon_strbuf_adds(&sb, "set ");
            s += 8, n -= 8;
        }
        const char *m;
        while (n && (m = memmem(s, n, "${MATCHED}", 10))) {
            cordon_strbuf_addn(&sb, s, (size_t)(m - s));
            cordon_strbuf_adds(&sb, abs);
            n -= (size_t)(m - s) + 10;
            s = m + 10;
        }
        cordon_strbuf_addn(&sb, s, n);
        if (!end)
            break;
        s = end + 2;
    }
    return cordon_strbuf_detach(&sb);
}

bool cordon_kb_toolchain_package(const struct cordon_kb *kb, const char *name) {
    char buf[256];
    /* Spack specs compare by name, Debian packages without :arch. */
    snprintf(buf, sizeof buf, "%s", name);
    buf[strcspn(buf, "@:")] = '\0';
    for (size_t i = 0; i < kb->n_packages; i++)
        if (cordon_glob_match(kb->packages[i], buf))
            return true;
    return false;
}

bool cordon_kb_toolchain_path(const struct cordon_kb *kb, const char *path) {
    struct comp comps[MAX_COMPS];
    size_t n = split_path(path, comps, MAX_COMPS);
    for (size_t i = 0; i < kb->n_tc_paths; i++) {
        const struct pattern *p = &kb->tc_paths[i];
        if (has_prefix_path(path, p->prefix, p->prefix_len) &&
            match_segs(p->segs, p->n, comps, n) >= 0)
            return true;
    }
    return false;
}

bool cordon_kb_libc_header(const struct cordon_kb *kb, const char *rel) {
    struct comp comps[MAX_COMPS];
    size_t n = split_path(rel, comps, MAX_COMPS);
    /* A leading multiarch directory (x86_64-linux-gnu/). */
    if (n > 1 && (memmem(comps[0].s, comps[0].n, "-linux-", 7) ||
                  (comps[0].n > 6 && memcmp(comps[0].s + comps[0].n - 6, "-linux", 6) == 0))) {
        memmove(comps, comps + 1, (n - 1) * sizeof *comps);
        n--;
    }
    for (size_t i = 0; i < kb->n_libc_headers; i++) {
        const struct pattern *p = &kb->libc_headers[i];
        if (match_segs(p->segs, p->n, comps, n) >= 0)
            return true;
    }
    return false;
}

bool cordon_kb_libc_library(const struct cordon_kb *kb, const char *stem) {
    for (size_t i = 0; i < kb->n_libraries; i++)
        if (cordon_glob_match(kb->libraries[i], stem))
            return true;
    return false;
}
