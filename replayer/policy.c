/* Isolation policies: the line format's parser, the model, lookup and the
 * environment a policy makes (include/cordon/policy.h is the contract,
 * docs/policy.md the format's reference). */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cordon/error.h>
#include <cordon/policy.h>
#include <cordon/util.h>

/* ---- names --------------------------------------------------------------- */

static const char *const kind_names[CORDON_RULE_MAX] = {
    [CORDON_RULE_RO] = "ro",       [CORDON_RULE_RW] = "rw",
    [CORDON_RULE_HIDE] = "hide",   [CORDON_RULE_DENY] = "deny",
    [CORDON_RULE_EMPTY] = "empty", [CORDON_RULE_REDIRECT] = "redirect",
    [CORDON_RULE_TMPFS] = "tmpfs", [CORDON_RULE_DEV] = "dev",
    [CORDON_RULE_PROC] = "proc",
};

const char *cordon_rule_kind_name(enum cordon_rule_kind k) {
    if ((int)k < 0 || k >= CORDON_RULE_MAX)
        return NULL;
    return kind_names[k];
}

enum cordon_rule_kind cordon_rule_kind_from_name(const char *name) {
    if (!name)
        return CORDON_RULE_INVALID;
    for (int k = 0; k < CORDON_RULE_MAX; k++)
        if (strcmp(kind_names[k], name) == 0)
            return (enum cordon_rule_kind)k;
    return CORDON_RULE_INVALID;
}

#define KEYWORDS                                                                                   \
    "ro, rw, hide, deny, empty, redirect, tmpfs, dev, proc, unset, keep, set, clearenv, home, "    \
    "network, include, description"

/* ---- the model ------------------------------------------------------------ */

struct cordon_policy *cordon_policy_new(void) {
    struct cordon_policy *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->network = -1;
    p->home = CORDON_HOME_UNSET;
    return p;
}

struct cordon_policy *cordon_policy_free(struct cordon_policy *p) {
    if (!p)
        return NULL;
    for (size_t i = 0; i < p->n_rules; i++) {
        free(p->rules[i].path);
        free(p->rules[i].to);
        free(p->rules[i].why);
        free(p->rules[i].origin);
    }
    free(p->rules);
    for (size_t i = 0; i < p->n_env; i++) {
        free(p->env[i].name);
        free(p->env[i].value);
        free(p->env[i].why);
        free(p->env[i].origin);
    }
    free(p->env);
    free(p->home_path);
    free(p->description);
    for (size_t i = 0; i < p->n_included; i++)
        free(p->included[i]);
    free(p->included);
    cordon_map_free(p->index);
    free(p);
    return NULL;
}

/* Append a path rule; strings are copied. Keeps the index current. */
static int push_rule(struct cordon_policy *p, enum cordon_rule_kind kind, const char *path,
                     const char *to, const char *why, const char *origin, int line) {
    if (cordon_grow((void **)&p->rules, &p->cap_rules, p->n_rules + 1, sizeof *p->rules) < 0)
        return -ENOMEM;
    if (!p->index && p->n_rules == 0) {
        p->index = cordon_map_new(64);
        if (!p->index)
            return -ENOMEM;
    }
    struct cordon_rule r = {.kind = kind, .line = line};
    r.path = strdup(path);
    r.to = cordon_strdup0(to);
    r.why = cordon_strdup0(why);
    r.origin = cordon_strdup0(origin);
    if (!r.path || (to && !r.to) || (why && !r.why) || (origin && !r.origin)) {
        free(r.path);
        free(r.to);
        free(r.why);
        free(r.origin);
        return -ENOMEM;
    }
    size_t i = p->n_rules;
    p->rules[p->n_rules++] = r;
    /* The index covers rules[0..n_indexed): a later rule on the same path
     * replaces the earlier one, which is "the last one loaded wins". */
    if (p->index && p->n_indexed == i) {
        if (cordon_map_put(p->index, path, (void *)(uintptr_t)(i + 1)) < 0) {
            p->n_rules--;
            free(r.path);
            free(r.to);
            free(r.why);
            free(r.origin);
            return -ENOMEM;
        }
        p->n_indexed = i + 1;
    }
    return 0;
}

static int push_env(struct cordon_policy *p, enum cordon_env_op op, const char *name,
                    const char *value, const char *why, const char *origin, int line) {
    if (cordon_grow((void **)&p->env, &p->cap_env, p->n_env + 1, sizeof *p->env) < 0)
        return -ENOMEM;
    struct cordon_env_rule e = {.op = op, .line = line};
    e.name = cordon_strdup0(name);
    e.value = cordon_strdup0(value);
    e.why = cordon_strdup0(why);
    e.origin = cordon_strdup0(origin);
    if ((name && !e.name) || (value && !e.value) || (why && !e.why) || (origin && !e.origin)) {
        free(e.name);
        free(e.value);
        free(e.why);
        free(e.origin);
        return -ENOMEM;
    }
    p->env[p->n_env++] = e;
    return 0;
}

static int push_included(struct cordon_policy *p, const char *what) {
    if (cordon_grow((void **)&p->included, &p->cap_included, p->n_included + 1,
                    sizeof *p->included) < 0)
        return -ENOMEM;
    char *s = strdup(what);
    if (!s)
        return -ENOMEM;
    p->included[p->n_included++] = s;
    return 0;
}

/* ---- lookup ---------------------------------------------------------------- */

/* The rule for `path` by scanning: the longest covering path, the last
 * among equals. */
static const struct cordon_rule *lookup_scan(const struct cordon_policy *p, const char *path) {
    const struct cordon_rule *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < p->n_rules; i++) {
        const struct cordon_rule *r = &p->rules[i];
        size_t n = strlen(r->path);
        if ((!best || n >= best_len) && cordon_path_under(path, r->path)) {
            best = r;
            best_len = n;
        }
    }
    return best;
}

const struct cordon_rule *cordon_policy_lookup(const struct cordon_policy *p, const char *path) {
    if (!p || !path || path[0] != '/' || p->n_rules == 0)
        return NULL;
    if (!p->index || p->n_indexed != p->n_rules)
        return lookup_scan(p, path);
    size_t n = strlen(path);
    char buf[PATH_MAX];
    /* Longer than any path the kernel takes: rare enough to scan. */
    if (n >= sizeof buf)
        return lookup_scan(p, path);
    memcpy(buf, path, n + 1);
    /* Try "/a/b/c", "/a/b", "/a", "/": the first hit is the longest. */
    for (;;) {
        void *v = cordon_map_get(p->index, buf);
        if (v)
            return &p->rules[(uintptr_t)v - 1];
        if (n <= 1)
            return NULL;
        while (n > 1 && buf[n - 1] != '/')
            n--;
        if (n > 1)
            n--; /* drop the '/' too, except the root's */
        buf[n] = '\0';
    }
}

/* ---- variables ------------------------------------------------------------- */

enum var {
    VAR_HOME,
    VAR_XDG_CONFIG_HOME,
    VAR_XDG_CACHE_HOME,
    VAR_XDG_DATA_HOME,
    VAR_XDG_STATE_HOME,
    VAR_CWD,
    VAR_UID,
    VAR_MAX,
};
static const char *const var_names[VAR_MAX] = {
    "HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "CWD", "UID",
};
/* The XDG base directory spec's defaults, under HOME. */
static const char *const xdg_defaults[VAR_MAX] = {
    [VAR_XDG_CONFIG_HOME] = "/.config",
    [VAR_XDG_CACHE_HOME] = "/.cache",
    [VAR_XDG_DATA_HOME] = "/.local/share",
    [VAR_XDG_STATE_HOME] = "/.local/state",
};
#define VARIABLES "HOME, XDG_CONFIG_HOME, XDG_CACHE_HOME, XDG_DATA_HOME, XDG_STATE_HOME, CWD, UID"

/* What one load (with its includes) shares: the variables, resolved once,
 * and the chain of files being loaded, to catch include cycles. */
#define MAX_INCLUDE_DEPTH 16
struct loader {
    struct cordon_policy *p;
    const struct cordon_policy_vars *in;
    char *val[VAR_MAX];
    bool tried[VAR_MAX];
    const char *chain[MAX_INCLUDE_DEPTH + 1]; /* ids: "profile NAME" or a file's path */
    const char *chain_names[MAX_INCLUDE_DEPTH + 1];
    int depth;
    struct cordon_error *err;
};

static void loader_release(struct loader *L) {
    for (int i = 0; i < VAR_MAX; i++)
        free(L->val[i]);
}

static const char *vars_member(const struct cordon_policy_vars *in, enum var v) {
    if (!in)
        return NULL;
    switch (v) {
    case VAR_HOME:
        return in->home;
    case VAR_XDG_CONFIG_HOME:
        return in->xdg_config_home;
    case VAR_XDG_CACHE_HOME:
        return in->xdg_cache_home;
    case VAR_XDG_DATA_HOME:
        return in->xdg_data_home;
    case VAR_XDG_STATE_HOME:
        return in->xdg_state_home;
    case VAR_CWD:
        return in->cwd;
    case VAR_UID:
        return in->uid;
    case VAR_MAX:
    default:
        return NULL;
    }
}

/* The value of `v`, or NULL when it has none (no HOME anywhere); -ENOMEM
 * through *ret_nomem. */
static const char *var_value(struct loader *L, enum var v, bool *ret_nomem) {
    if (L->tried[v])
        return L->val[v];
    L->tried[v] = true;
    const char *given = vars_member(L->in, v);
    char *val = NULL;
    if (given) {
        val = strdup(given);
    } else if (v == VAR_HOME) {
        const char *h = getenv("HOME");
        if (h && h[0]) {
            val = strdup(h);
        } else {
            char pwbuf[4096];
            struct passwd pw, *res = NULL;
            if (getpwuid_r(getuid(), &pw, pwbuf, sizeof pwbuf, &res) == 0 && res && res->pw_dir &&
                res->pw_dir[0])
                val = strdup(res->pw_dir);
            else
                return NULL;
        }
    } else if (v == VAR_CWD) {
        val = getcwd(NULL, 0);
        if (!val && errno != ENOMEM)
            return NULL;
    } else if (v == VAR_UID) {
        if (asprintf(&val, "%u", (unsigned)getuid()) < 0)
            val = NULL;
    } else {
        /* The spec: a relative $XDG_* is invalid and ignored. */
        const char *e = getenv(var_names[v]);
        if (e && e[0] == '/') {
            val = strdup(e);
        } else {
            const char *home = var_value(L, VAR_HOME, ret_nomem);
            if (!home)
                return NULL;
            if (asprintf(&val, "%s%s", home, xdg_defaults[v]) < 0)
                val = NULL;
        }
    }
    if (!val) {
        *ret_nomem = true;
        return NULL;
    }
    L->val[v] = val;
    return val;
}

/* ---- the tokenizer --------------------------------------------------------- */

static bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

struct line {
    char **tok;
    size_t n, cap;
    char *why; /* the trailing comment, trimmed, or NULL */
};

static void line_release(struct line *l) {
    for (size_t i = 0; i < l->n; i++)
        free(l->tok[i]);
    free(l->tok);
    free(l->why);
    *l = (struct line){0};
}

struct src {
    const char *name; /* for messages */
    int line;
};

static int src_error(struct loader *L, const struct src *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int src_error(struct loader *L, const struct src *s, int code, const char *fmt, ...) {
    char text[sizeof L->err->text];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return cordon_error_set(L->err, code, s->name, s->line, 0, "%s", text);
}

/* Expand "${NAME}" at *pp (pointing at '$', before `end`) into sb. */
static int expand_var(struct loader *L, const struct src *s, const char **pp, const char *end,
                      struct cordon_strbuf *sb) {
    const char *start = *pp + 2;
    const char *close = memchr(start, '}', (size_t)(end - start));
    if (!close)
        return src_error(L, s, EINVAL, "unterminated '${'");
    size_t n = (size_t)(close - start);
    for (int v = 0; v < VAR_MAX; v++) {
        if (strlen(var_names[v]) != n || memcmp(var_names[v], start, n) != 0)
            continue;
        bool nomem = false;
        const char *val = var_value(L, (enum var)v, &nomem);
        if (nomem)
            return src_error(L, s, ENOMEM, "cannot expand '${%s}'", var_names[v]);
        if (!val)
            return src_error(L, s, EINVAL, "cannot expand '${%s}': %s", var_names[v],
                             v == VAR_CWD ? "cannot get the working directory"
                                          : "no HOME in the environment or the password database");
        cordon_strbuf_adds(sb, val);
        *pp = close + 1;
        return 0;
    }
    return src_error(L, s, EINVAL, "unknown variable '${%.*s}' (" VARIABLES ")",
                     (int)(n > 64 ? 64 : n), start);
}

/* Split [p, end) into tokens (unquoted, variables expanded) and the
 * trailing comment. */
static int tokenize(struct loader *L, const struct src *s, const char *p, const char *end,
                    struct line *out) {
    for (;;) {
        while (p < end && is_blank(*p))
            p++;
        if (p == end)
            return 0;
        if (*p == '#') {
            p++;
            while (p < end && is_blank(*p))
                p++;
            const char *e = end;
            while (e > p && is_blank(e[-1]))
                e--;
            if (e > p) {
                out->why = strndup(p, (size_t)(e - p));
                if (!out->why)
                    return -ENOMEM;
            }
            return 0;
        }
        struct cordon_strbuf sb = CORDON_STRBUF_INIT;
        int r = 0;
        while (p < end && !is_blank(*p) && r == 0) {
            if (*p == '"') {
                p++;
                for (;;) {
                    if (p == end) {
                        r = src_error(L, s, EINVAL, "unterminated quote");
                        break;
                    }
                    if (*p == '"') {
                        p++;
                        break;
                    }
                    if (*p == '\\') {
                        if (p + 1 == end) {
                            r = src_error(L, s, EINVAL, "unterminated quote");
                            break;
                        }
                        char c = p[1];
                        if (c == '"' || c == '\\' || c == '$')
                            cordon_strbuf_addn(&sb, &c, 1);
                        else if (c == 'n')
                            cordon_strbuf_adds(&sb, "\n");
                        else if (c == 't')
                            cordon_strbuf_adds(&sb, "\t");
                        else {
                            r = src_error(
                                L, s, EINVAL,
                                "unknown escape '\\%c' in quotes (\\\", \\\\, \\$, \\n, "
                                "\\t)",
                                (unsigned char)c >= 0x20 && (unsigned char)c < 0x7f ? c : '?');
                            break;
                        }
                        p += 2;
                    } else if (*p == '$' && p + 1 < end && p[1] == '{') {
                        r = expand_var(L, s, &p, end, &sb);
                        if (r < 0)
                            break;
                    } else {
                        cordon_strbuf_addn(&sb, p, 1);
                        p++;
                    }
                }
            } else if (*p == '$' && p + 1 < end && p[1] == '{') {
                r = expand_var(L, s, &p, end, &sb);
            } else {
                cordon_strbuf_addn(&sb, p, 1);
                p++;
            }
        }
        if (r < 0) {
            cordon_strbuf_release(&sb);
            return r;
        }
        /* A token of "" is kept as an empty string (strbuf's detach of an
         * empty buffer returns a fresh allocation or NULL on failure). */
        char *tok = sb.failed ? NULL : strndup(sb.buf, sb.len);
        cordon_strbuf_release(&sb);
        if (!tok || cordon_grow((void **)&out->tok, &out->cap, out->n + 1, sizeof *out->tok) < 0) {
            free(tok);
            return -ENOMEM;
        }
        out->tok[out->n++] = tok;
    }
}

/* ---- loading ----------------------------------------------------------------- */

static int load_text(struct loader *L, const char *text, const char *origin, const char *errname,
                     const char *dir, const char *id);

/* `tok` made an absolute normalised path into out, or an error. */
static int want_path(struct loader *L, const struct src *s, const char *tok, char *out,
                     size_t size) {
    if (tok[0] != '/')
        return src_error(L, s, EINVAL, "relative path '%s' (paths must be absolute)", tok);
    if (strlen(tok) >= size)
        return src_error(L, s, ENAMETOOLONG, "path too long '%.64s...'", tok);
    strcpy(out, tok);
    cordon_path_normalize(out);
    return 0;
}

static const char *kind_arity_message(enum cordon_rule_kind k) {
    return k == CORDON_RULE_REDIRECT ? "a path and its target" : "one path";
}

static bool env_name_ok(const char *n) {
    return n[0] && !strchr(n, '=');
}

static int list_profiles(char *out, size_t size);

/* A policy is a few kilobytes; the cap keeps `include /dev/zero` finite. */
#define MAX_POLICY_SIZE (16 << 20)
#define EFTYPE_NOT_REGULAR 4096 /* slurp's own codes: not a regular file, */
#define EHAS_NUL 4097           /* a NUL byte (a binary file, or a truncated one) */

/* -errno, never 0 (a libc call that failed without setting errno). */
static int neg_errno(void) {
    int e = errno;
    return e > 0 && e < 4096 ? -e : -EIO;
}

/* The content of `path` as a new string. Includes must be regular files (a
 * FIFO or a device would block or never end); a top-level policy may be a
 * pipe (`--policy <(...)`). 0 or -errno, -EFBIG past the cap. */
static int slurp(const char *path, bool regular_only, char **ret, int *ret_nul_line) {
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (!f)
        return neg_errno();
    struct stat st;
    if (fstat(fileno(f), &st) < 0)
        return neg_errno();
    if (S_ISDIR(st.st_mode))
        return -EISDIR;
    if (regular_only && !S_ISREG(st.st_mode))
        return -EFTYPE_NOT_REGULAR;
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    char chunk[8192];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        cordon_strbuf_addn(&sb, chunk, got);
        if (sb.len > MAX_POLICY_SIZE) {
            cordon_strbuf_release(&sb);
            return -EFBIG;
        }
    }
    if (ferror(f)) {
        cordon_strbuf_release(&sb);
        return -EIO;
    }
    const char *nul = memchr(sb.buf, '\0', sb.len);
    if (nul) {
        int line = 1;
        for (const char *c = sb.buf; c < nul; c++)
            line += *c == '\n';
        *ret_nul_line = line;
        cordon_strbuf_release(&sb);
        return -EHAS_NUL;
    }
    char *text = cordon_strbuf_detach(&sb);
    if (!text)
        return -ENOMEM;
    *ret = text;
    return 0;
}

static int do_include(struct loader *L, const struct src *s, const char *arg, const char *dir) {
    /* A bare name is a built-in profile; anything with a '/' or the
     * .policy suffix is a file. */
    size_t an = strlen(arg);
    bool is_file = strchr(arg, '/') || (an > 7 && strcmp(arg + an - 7, ".policy") == 0);
    char path[PATH_MAX];
    char id[PATH_MAX + 16];
    char origin[PATH_MAX + 16];
    if (is_file) {
        const char *base = dir;
        if (!base && arg[0] != '/') {
            bool nomem = false;
            base = var_value(L, VAR_CWD, &nomem);
            if (!base)
                return src_error(L, s, nomem ? ENOMEM : EINVAL,
                                 "cannot include '%s': no directory to look in", arg);
        }
        if (cordon_path_join(base ? base : "/", arg, path, sizeof path) < 0)
            return src_error(L, s, ENAMETOOLONG, "include path too long '%.64s...'", arg);
        /* A caller's relative `dir` ("."): absolute, so that the include
         * chain compares like with like. */
        if (path[0] != '/') {
            bool nomem = false;
            const char *cwd = var_value(L, VAR_CWD, &nomem);
            char rel[PATH_MAX];
            snprintf(rel, sizeof rel, "%s", path);
            if (cwd && cordon_path_join(cwd, rel, path, sizeof path) < 0)
                return src_error(L, s, ENAMETOOLONG, "include path too long '%.64s...'", arg);
        }
        snprintf(id, sizeof id, "%s", path);
        snprintf(origin, sizeof origin, "%s", path);
    } else {
        if (!arg[0] || strchr(arg, '.') == arg)
            return src_error(L, s, EINVAL, "invalid profile name '%s'", arg);
        char pdir[PATH_MAX];
        if (cordon_profiles_dir(pdir, sizeof pdir) < 0)
            return src_error(L, s, EINVAL,
                             "unknown profile '%s' (no profiles directory found; set "
                             "CORDON_PROFILES_DIR)",
                             arg);
        int n = snprintf(path, sizeof path, "%s/%s.policy", pdir, arg);
        if (n < 0 || (size_t)n >= sizeof path)
            return src_error(L, s, ENAMETOOLONG, "profile name too long '%.64s...'", arg);
        snprintf(id, sizeof id, "profile %s", arg);
        snprintf(origin, sizeof origin, "profile %s", arg);
    }
    for (int i = 0; i < L->depth; i++) {
        if (strcmp(L->chain[i], id) != 0)
            continue;
        struct cordon_strbuf sb = CORDON_STRBUF_INIT;
        for (int j = i; j < L->depth; j++)
            cordon_strbuf_addf(&sb, "%s -> ", L->chain_names[j]);
        cordon_strbuf_adds(&sb, is_file ? path : origin);
        int r = src_error(L, s, EINVAL, "include cycle: %s", sb.buf);
        cordon_strbuf_release(&sb);
        return r;
    }
    if (L->depth >= MAX_INCLUDE_DEPTH)
        return src_error(L, s, EINVAL, "includes nested more than %d deep at '%s'",
                         MAX_INCLUDE_DEPTH, arg);

    _cleanup_free_ char *text = NULL;
    int nul_line = 0;
    int r = slurp(path, true, &text, &nul_line);
    if (r == -EHAS_NUL)
        return cordon_error_set(L->err, EINVAL, path, nul_line, 0,
                                "NUL byte in a policy (a binary file?)");
    if (r == -ENOENT && !is_file) {
        char names[400];
        list_profiles(names, sizeof names);
        return src_error(L, s, EINVAL, "unknown profile '%s' (%s)", arg, names);
    }
    if (r == -EFTYPE_NOT_REGULAR)
        return src_error(L, s, EINVAL, "cannot include '%s': not a regular file", path);
    if (r == -EFBIG)
        return src_error(L, s, EFBIG, "cannot include '%s': larger than %d MiB", path,
                         MAX_POLICY_SIZE >> 20);
    if (r < 0)
        return src_error(L, s, -r, "cannot include '%s'", path);
    char fdir[PATH_MAX];
    snprintf(fdir, sizeof fdir, "%s", path);
    char *slash = strrchr(fdir, '/');
    if (slash == fdir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    return load_text(L, text, origin, path, slash ? fdir : NULL, id);
}

static int do_line(struct loader *L, const struct src *s, struct line *ln, const char *origin,
                   const char *dir) {
    struct cordon_policy *p = L->p;
    const char *kw = ln->tok[0];
    size_t nargs = ln->n - 1;
    char **args = ln->tok + 1;
    enum cordon_rule_kind k = cordon_rule_kind_from_name(kw);
    if (k != CORDON_RULE_INVALID) {
        size_t want = k == CORDON_RULE_REDIRECT ? 2 : 1;
        if (nargs != want)
            return src_error(L, s, EINVAL, "'%s' takes %s, not %zu argument%s", kw,
                             kind_arity_message(k), nargs, nargs == 1 ? "" : "s");
        char path[PATH_MAX], to[PATH_MAX];
        int r = want_path(L, s, args[0], path, sizeof path);
        if (r < 0)
            return r;
        if (k == CORDON_RULE_REDIRECT) {
            r = want_path(L, s, args[1], to, sizeof to);
            if (r < 0)
                return r;
        }
        r = push_rule(p, k, path, k == CORDON_RULE_REDIRECT ? to : NULL, ln->why, origin, s->line);
        return r < 0 ? src_error(L, s, ENOMEM, "cannot add a rule") : 0;
    }
    if (strcmp(kw, "unset") == 0 || strcmp(kw, "keep") == 0) {
        if (nargs == 0)
            return src_error(L, s, EINVAL, "'%s' needs at least one variable name", kw);
        enum cordon_env_op op = kw[0] == 'u' ? CORDON_ENV_UNSET : CORDON_ENV_KEEP;
        for (size_t i = 0; i < nargs; i++) {
            if (!env_name_ok(args[i]))
                return src_error(L, s, EINVAL, "invalid variable name '%s'", args[i]);
            if (push_env(p, op, args[i], NULL, ln->why, origin, s->line) < 0)
                return src_error(L, s, ENOMEM, "cannot add a rule");
        }
        return 0;
    }
    if (strcmp(kw, "set") == 0) {
        if (nargs == 0)
            return src_error(L, s, EINVAL, "'set' needs NAME=VALUE");
        for (size_t i = 0; i < nargs; i++) {
            char *eq = strchr(args[i], '=');
            if (!eq || eq == args[i])
                return src_error(L, s, EINVAL, "'set' needs NAME=VALUE, not '%s'", args[i]);
            *eq = '\0';
            if (strpbrk(args[i], "*?["))
                return src_error(L, s, EINVAL, "invalid variable name '%s' (no globs in 'set')",
                                 args[i]);
            if (push_env(p, CORDON_ENV_SET, args[i], eq + 1, ln->why, origin, s->line) < 0)
                return src_error(L, s, ENOMEM, "cannot add a rule");
        }
        return 0;
    }
    if (strcmp(kw, "clearenv") == 0) {
        if (nargs != 0)
            return src_error(L, s, EINVAL, "'clearenv' takes no argument");
        return push_env(p, CORDON_ENV_CLEAR, NULL, NULL, ln->why, origin, s->line) < 0
                   ? src_error(L, s, ENOMEM, "cannot add a rule")
                   : 0;
    }
    if (strcmp(kw, "home") == 0) {
        if (nargs != 1)
            return src_error(L, s, EINVAL, "'home' takes one of fresh, keep or a path");
        if (strcmp(args[0], "fresh") == 0 || strcmp(args[0], "keep") == 0) {
            p->home = args[0][0] == 'f' ? CORDON_HOME_FRESH : CORDON_HOME_KEEP;
            free(p->home_path);
            p->home_path = NULL;
            return 0;
        }
        char path[PATH_MAX];
        if (args[0][0] != '/')
            return src_error(L, s, EINVAL, "'home' takes fresh, keep or an absolute path, not '%s'",
                             args[0]);
        int r = want_path(L, s, args[0], path, sizeof path);
        if (r < 0)
            return r;
        char *hp = strdup(path);
        if (!hp)
            return src_error(L, s, ENOMEM, "cannot add a rule");
        free(p->home_path);
        p->home_path = hp;
        p->home = CORDON_HOME_PATH;
        return 0;
    }
    if (strcmp(kw, "network") == 0) {
        if (nargs != 1 || (strcmp(args[0], "on") != 0 && strcmp(args[0], "off") != 0))
            return src_error(L, s, EINVAL, "'network' takes on or off");
        p->network = strcmp(args[0], "on") == 0;
        return 0;
    }
    if (strcmp(kw, "include") == 0) {
        if (nargs != 1)
            return src_error(L, s, EINVAL, "'include' takes one profile name or file");
        return do_include(L, s, args[0], dir);
    }
    if (strcmp(kw, "description") == 0) {
        if (nargs == 0)
            return src_error(L, s, EINVAL, "'description' needs a text");
        struct cordon_strbuf sb = CORDON_STRBUF_INIT;
        for (size_t i = 0; i < nargs; i++) {
            if (i)
                cordon_strbuf_adds(&sb, " ");
            cordon_strbuf_adds(&sb, args[i]);
        }
        char *d = cordon_strbuf_detach(&sb);
        if (!d)
            return src_error(L, s, ENOMEM, "cannot add a rule");
        /* An included profile's description does not replace that of the
         * file including it, wherever its include line is. */
        if (L->depth > 1 && p->description) {
            free(d);
            return 0;
        }
        free(p->description);
        p->description = d;
        return 0;
    }
    return src_error(L, s, EINVAL, "unknown rule '%.64s' (" KEYWORDS ")", kw);
}

static int load_text(struct loader *L, const char *text, const char *origin, const char *errname,
                     const char *dir, const char *id) {
    if (push_included(L->p, origin) < 0)
        return cordon_error_set(L->err, ENOMEM, errname, 0, 0, "cannot load '%s'", errname);
    L->chain[L->depth] = id;
    L->chain_names[L->depth] = origin;
    L->depth++;
    struct src s = {.name = errname, .line = 0};
    int r = 0;
    const char *p = text;
    while (*p && r == 0) {
        const char *end = strchrnul(p, '\n');
        s.line++;
        struct line ln = {0};
        r = tokenize(L, &s, p, end, &ln);
        if (r == -ENOMEM && L->err && !L->err->text[0])
            r = src_error(L, &s, ENOMEM, "cannot parse");
        if (r == 0 && ln.n > 0)
            r = do_line(L, &s, &ln, origin, dir);
        line_release(&ln);
        p = *end ? end + 1 : end;
    }
    L->depth--;
    return r;
}

int cordon_policy_load_string(struct cordon_policy *p, const char *text, const char *origin,
                              const char *dir, const struct cordon_policy_vars *vars,
                              struct cordon_error *err) {
    cordon_error_clear(err);
    struct loader L = {.p = p, .in = vars, .err = err};
    if (!origin)
        origin = "<string>";
    int r = load_text(&L, text, origin, origin, dir, origin);
    loader_release(&L);
    return r;
}

static int read_file(const char *path, char **ret, struct cordon_error *err) {
    int nul_line = 0;
    int r = slurp(path, false, ret, &nul_line);
    if (r == -EHAS_NUL) {
        (void)cordon_error_set(err, EINVAL, path, nul_line, 0,
                               "NUL byte in a policy (a binary file?)");
        return -EINVAL;
    }
    if (r == -EFBIG) {
        (void)cordon_error_set(err, EFBIG, path, 0, 0, "cannot read '%s': larger than %d MiB", path,
                               MAX_POLICY_SIZE >> 20);
        return -EFBIG;
    }
    if (r < 0) {
        (void)cordon_error_set(err, -r, path, 0, 0, "cannot open '%s'", path);
        return r;
    }
    return 0;
}

/* Load file `path` with `origin` naming its rules and `id` its place in the
 * include chain. */
static int load_file_as(struct cordon_policy *p, const char *path, const char *origin,
                        const char *id, const struct cordon_policy_vars *vars,
                        struct cordon_error *err) {
    cordon_error_clear(err);
    _cleanup_free_ char *text = NULL;
    int r = read_file(path, &text, err);
    if (r < 0)
        return r;
    if (!text) /* cannot happen; for the analyzer, which loses slurp's errno */
        return -EIO;
    char dir[PATH_MAX];
    const char *d = NULL;
    if (strlen(path) < sizeof dir) {
        strcpy(dir, path);
        char *slash = strrchr(dir, '/');
        if (slash == dir) {
            dir[1] = '\0';
            d = dir;
        } else if (slash) {
            *slash = '\0';
            d = dir;
        }
    }
    /* A file named relative to the cwd includes relative to its own
     * directory, which is relative too: make it absolute. */
    char absdir[PATH_MAX];
    if (d && d[0] != '/') {
        char cwd[PATH_MAX];
        const char *base = vars && vars->cwd ? vars->cwd : getcwd(cwd, sizeof cwd);
        if (base && cordon_path_join(base, d, absdir, sizeof absdir) == 0)
            d = absdir;
    } else if (!d) {
        d = vars && vars->cwd ? vars->cwd : NULL;
    }
    struct loader L = {.p = p, .in = vars, .err = err};
    r = load_text(&L, text, origin, path, d, id);
    loader_release(&L);
    return r;
}

int cordon_policy_load_file(struct cordon_policy *p, const char *path,
                            const struct cordon_policy_vars *vars, struct cordon_error *err) {
    /* The id is absolute so that "include ./x.policy" from x.policy itself
     * is seen as the cycle it is. */
    char id[PATH_MAX];
    char cwd[PATH_MAX];
    const char *base = vars && vars->cwd ? vars->cwd : getcwd(cwd, sizeof cwd);
    if (cordon_path_join(base ? base : "/", path, id, sizeof id) < 0)
        return cordon_error_set(err, ENAMETOOLONG, NULL, 0, 0, "path too long '%.64s...'", path);
    return load_file_as(p, path, path, id, vars, err);
}

static void closedirp(DIR **d) {
    if (*d)
        (void)closedir(*d);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "build, cmake, git, ..." from the profiles directory, sorted. */
static int list_profiles(char *out, size_t size) {
    out[0] = '\0';
    char dir[PATH_MAX];
    if (cordon_profiles_dir(dir, sizeof dir) < 0) {
        snprintf(out, size, "no profiles directory found");
        return -ENOENT;
    }
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    _cleanup_(closedirp) DIR *d = opendir(dir);
    char *names[128];
    size_t n = 0;
    if (d)
        for (struct dirent *e; (e = readdir(d)) && n < CORDON_ARRAY_SIZE(names);) {
            size_t l = strlen(e->d_name);
            if (l > 7 && strcmp(e->d_name + l - 7, ".policy") == 0 && e->d_name[0] != '.') {
                names[n] = strndup(e->d_name, l - 7);
                if (names[n])
                    n++;
            }
        }
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        cordon_strbuf_addf(&sb, "%s%s", i ? ", " : "", names[i]);
        free(names[i]);
    }
    snprintf(out, size, "%s", n ? sb.buf : "none installed");
    cordon_strbuf_release(&sb);
    return 0;
}

int cordon_policy_load_profile(struct cordon_policy *p, const char *name,
                               const struct cordon_policy_vars *vars, struct cordon_error *err) {
    cordon_error_clear(err);
    char dir[PATH_MAX], path[PATH_MAX + 64], names[400];
    if (!name[0] || strchr(name, '/') || name[0] == '.')
        return cordon_error_set(err, ENOENT, NULL, 0, 0, "invalid profile name '%s'", name);
    if (cordon_profiles_dir(dir, sizeof dir) < 0)
        return cordon_error_set(err, ENOENT, NULL, 0, 0,
                                "unknown profile '%s': no profiles directory found (set "
                                "CORDON_PROFILES_DIR)",
                                name);
    int n = snprintf(path, sizeof path, "%s/%s.policy", dir, name);
    if (n < 0 || (size_t)n >= sizeof path)
        return cordon_error_set(err, ENAMETOOLONG, NULL, 0, 0, "profile name too long");
    if (access(path, F_OK) < 0) {
        list_profiles(names, sizeof names);
        return cordon_error_set(err, ENOENT, NULL, 0, 0, "unknown profile '%s' (%s)", name, names);
    }
    char origin[PATH_MAX];
    snprintf(origin, sizeof origin, "profile %s", name);
    return load_file_as(p, path, origin, origin, vars, err);
}

int cordon_policy_add_rule(struct cordon_policy *p, enum cordon_rule_kind kind, const char *path,
                           const char *to, const struct cordon_policy_vars *vars,
                           struct cordon_error *err) {
    const char *name = cordon_rule_kind_name(kind);
    if (!name)
        return cordon_error_set(err, EINVAL, NULL, 0, 0, "invalid rule kind %d", (int)kind);
    if (!path || !path[0])
        return cordon_error_set(err, EINVAL, NULL, 0, 0, "'%s' needs a path", name);
    if ((kind == CORDON_RULE_REDIRECT) != (to != NULL))
        return cordon_error_set(
            err, EINVAL, NULL, 0, 0,
            kind == CORDON_RULE_REDIRECT ? "'%s' needs a target" : "'%s' takes no target", name);
    char cwd[PATH_MAX];
    const char *base = vars && vars->cwd ? vars->cwd : NULL;
    if (!base && (path[0] != '/' || (to && to[0] != '/'))) {
        base = getcwd(cwd, sizeof cwd);
        if (!base)
            return cordon_error_set(err, errno, NULL, 0, 0,
                                    "cannot make '%s' absolute: cannot get the working directory",
                                    path[0] != '/' ? path : to);
    }
    char abs[PATH_MAX], absto[PATH_MAX];
    if (cordon_path_join(base ? base : "/", path, abs, sizeof abs) < 0)
        return cordon_error_set(err, ENAMETOOLONG, NULL, 0, 0, "path too long '%.64s...'", path);
    if (to && cordon_path_join(base ? base : "/", to, absto, sizeof absto) < 0)
        return cordon_error_set(err, ENAMETOOLONG, NULL, 0, 0, "path too long '%.64s...'", to);
    if (push_rule(p, kind, abs, to ? absto : NULL, NULL, "command line", 0) < 0)
        return cordon_error_set(err, ENOMEM, NULL, 0, 0, "cannot add a rule");
    return 0;
}

/* ---- environment ------------------------------------------------------------- */

static bool env_is(const char *entry, const char *name) {
    size_t n = strlen(name);
    return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

/* Whether entry "NAME=VALUE"'s name matches glob `pat`. */
static bool env_matches(const char *entry, const char *pat) {
    const char *eq = strchr(entry, '=');
    size_t n = eq ? (size_t)(eq - entry) : strlen(entry);
    char name[256];
    if (n < sizeof name) {
        memcpy(name, entry, n);
        name[n] = '\0';
        return fnmatch(pat, name, 0) == 0;
    }
    char *long_name = strndup(entry, n);
    if (!long_name)
        return false;
    bool m = fnmatch(pat, long_name, 0) == 0;
    free(long_name);
    return m;
}

static bool env_kept(const struct cordon_policy *p, const char *entry) {
    for (size_t i = 0; i < p->n_env; i++)
        if (p->env[i].op == CORDON_ENV_KEEP && env_matches(entry, p->env[i].name))
            return true;
    return false;
}

/* Remove entries from v[0..*n) for which drop says so (entries borrowed). */
static void env_filter(const struct cordon_policy *p, const char **v, size_t *n, const char *pat) {
    size_t o = 0;
    for (size_t i = 0; i < *n; i++) {
        bool drop = (!pat || env_matches(v[i], pat)) && !env_kept(p, v[i]);
        if (!drop)
            v[o++] = v[i];
    }
    *n = o;
}

/* Set name=value in v (borrowed pointers into `owned` for new entries). */
static int env_set(const char ***v, size_t *n, size_t *cap, const char *name, const char *value,
                   char ***owned, size_t *n_owned, size_t *cap_owned) {
    char *entry = NULL;
    if (asprintf(&entry, "%s=%s", name, value) < 0)
        return -ENOMEM;
    if (cordon_grow((void **)owned, cap_owned, *n_owned + 1, sizeof **owned) < 0) {
        free(entry);
        return -ENOMEM;
    }
    (*owned)[(*n_owned)++] = entry;
    for (size_t i = 0; i < *n; i++)
        if (env_is((*v)[i], name)) {
            (*v)[i] = entry;
            return 0;
        }
    if (cordon_grow((void **)v, cap, *n + 1, sizeof **v) < 0)
        return -ENOMEM;
    (*v)[(*n)++] = entry;
    return 0;
}

int cordon_policy_apply_env(const struct cordon_policy *p, char *const *envp, const char *home_dir,
                            char ***ret) {
    int r = 0;
    const char **v = NULL;
    size_t n = 0, cap = 0;
    char **owned = NULL;
    size_t n_owned = 0, cap_owned = 0;
    char **out = NULL;
    for (size_t i = 0; envp && envp[i]; i++) {
        if (cordon_grow((void **)&v, &cap, n + 1, sizeof *v) < 0) {
            r = -ENOMEM;
            goto free_work;
        }
        v[n++] = envp[i];
    }
    /* Rules apply in load order; `keep` protects from every clearenv and
     * unset wherever it appears, so that a command line's --keep outlives
     * a profile's unset. */
    for (size_t i = 0; i < p->n_env; i++) {
        const struct cordon_env_rule *e = &p->env[i];
        switch (e->op) {
        case CORDON_ENV_CLEAR:
            env_filter(p, v, &n, NULL);
            break;
        case CORDON_ENV_UNSET:
            env_filter(p, v, &n, e->name);
            break;
        case CORDON_ENV_SET:
            r = env_set(&v, &n, &cap, e->name, e->value ? e->value : "", &owned, &n_owned,
                        &cap_owned);
            if (r < 0)
                goto free_work;
            break;
        case CORDON_ENV_KEEP:
        default:
            break;
        }
    }
    const char *home = p->home == CORDON_HOME_FRESH  ? home_dir
                       : p->home == CORDON_HOME_PATH ? p->home_path
                                                     : NULL;
    if (home) {
        r = env_set(&v, &n, &cap, "HOME", home, &owned, &n_owned, &cap_owned);
        if (r < 0)
            goto free_work;
    }
    out = calloc(n + 1, sizeof *out);
    if (!out) {
        r = -ENOMEM;
        goto free_work;
    }
    for (size_t i = 0; i < n; i++) {
        out[i] = strdup(v[i]);
        if (!out[i]) {
            for (size_t j = 0; j < i; j++)
                free(out[j]);
            free(out);
            out = NULL;
            r = -ENOMEM;
            goto free_work;
        }
    }
    *ret = out;
free_work:
    for (size_t i = 0; i < n_owned; i++)
        free(owned[i]);
    free(owned);
    free(v);
    return r;
}

/* ---- writing ------------------------------------------------------------------ */

/* Whether `s` must be quoted to read back as one token with this value. */
static bool needs_quotes(const char *s) {
    if (!s[0] || s[0] == '#')
        return true;
    for (const char *c = s; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f || *c == '"' || *c == '\\' ||
            (c[0] == '$' && c[1] == '{'))
            return true;
    return false;
}

static void put_token(FILE *out, const char *s) {
    if (!needs_quotes(s)) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (const char *c = s; *c; c++) {
        if (*c == '"' || *c == '\\' || *c == '$')
            fputc('\\', out), fputc(*c, out);
        else if (*c == '\n')
            fputs("\\n", out);
        else if (*c == '\t')
            fputs("\\t", out);
        else
            fputc(*c, out);
    }
    fputc('"', out);
}

/* A description as the words it was read from where that loads back the
 * same (single spaces, no word that needs quoting), else as one token. */
static void put_words(FILE *out, const char *s) {
    bool plain = s[0] && s[0] != ' ' && s[strlen(s) - 1] != ' ' && !strstr(s, "  ");
    for (const char *w = s; plain && *w;) {
        size_t n = strcspn(w, " ");
        char word[256];
        if (n >= sizeof word)
            plain = false;
        else {
            memcpy(word, w, n);
            word[n] = '\0';
            plain = !needs_quotes(word);
        }
        w += n;
        if (*w == ' ')
            w++;
    }
    if (plain)
        fputs(s, out);
    else
        put_token(out, s);
}

static void put_why(FILE *out, const char *why) {
    if (!why || !why[0]) {
        fputc('\n', out);
        return;
    }
    /* A reason is one line; a newline in one added by hand would start a
     * rule. */
    fputs("  # ", out);
    for (const char *c = why; *c; c++)
        fputc(*c == '\n' ? ' ' : *c, out);
    fputc('\n', out);
}

int cordon_policy_write(const struct cordon_policy *p, FILE *out) {
    fputs("# cordon policy (includes flattened)\n", out);
    if (p->description) {
        fputs("description ", out);
        put_words(out, p->description);
        fputc('\n', out);
    }
    if (p->home == CORDON_HOME_FRESH)
        fputs("home fresh\n", out);
    else if (p->home == CORDON_HOME_KEEP)
        fputs("home keep\n", out);
    else if (p->home == CORDON_HOME_PATH && p->home_path) {
        fputs("home ", out);
        put_token(out, p->home_path);
        fputc('\n', out);
    }
    if (p->network >= 0)
        fprintf(out, "network %s\n", p->network ? "on" : "off");
    for (size_t i = 0; i < p->n_rules; i++) {
        const struct cordon_rule *r = &p->rules[i];
        const char *kw = cordon_rule_kind_name(r->kind);
        if (!kw)
            return -EINVAL;
        fputs(kw, out);
        fputc(' ', out);
        put_token(out, r->path);
        if (r->kind == CORDON_RULE_REDIRECT) {
            fputc(' ', out);
            put_token(out, r->to ? r->to : "/dev/null");
        }
        put_why(out, r->why);
    }
    for (size_t i = 0; i < p->n_env; i++) {
        const struct cordon_env_rule *e = &p->env[i];
        switch (e->op) {
        case CORDON_ENV_UNSET:
        case CORDON_ENV_KEEP:
            fputs(e->op == CORDON_ENV_UNSET ? "unset " : "keep ", out);
            put_token(out, e->name);
            break;
        case CORDON_ENV_SET: {
            fputs("set ", out);
            _cleanup_free_ char *kv = NULL;
            if (asprintf(&kv, "%s=%s", e->name, e->value ? e->value : "") < 0)
                return -ENOMEM;
            put_token(out, kv);
            break;
        }
        case CORDON_ENV_CLEAR:
            fputs("clearenv", out);
            break;
        default:
            return -EINVAL;
        }
        put_why(out, e->why);
    }
    if (fflush(out) != 0 || ferror(out))
        return -(errno ? errno : EIO);
    return 0;
}

/* ---- where the built-in profiles are ------------------------------------------- */

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int cordon_profiles_dir(char *out, size_t size) {
    const char *env = getenv("CORDON_PROFILES_DIR");
    if (env && env[0]) {
        if (!is_dir(env) || (size_t)snprintf(out, size, "%s", env) >= size)
            return -ENOENT;
        return 0;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            char cand[PATH_MAX];
            if (cordon_path_join(exe, "../share/cordon/profiles", cand, sizeof cand) == 0 &&
                is_dir(cand) && (size_t)snprintf(out, size, "%s", cand) < size)
                return 0;
        }
    }
#ifdef CORDON_SOURCE_PROFILES_DIR
    if (is_dir(CORDON_SOURCE_PROFILES_DIR) &&
        (size_t)snprintf(out, size, "%s", CORDON_SOURCE_PROFILES_DIR) < size)
        return 0;
#endif
    if (size)
        out[0] = '\0';
    return -ENOENT;
}
