/* Compare two manifests, likely cause first.
 *
 * Inputs are matched by path (inputs below each manifest's own work tree by
 * their path relative to it, so two checkouts in different places compare),
 * variables by name. Each difference gets a score; lower prints first:
 *   10  presence (missing, appeared, type, only one build looked) of a
 *       header, library, executable or configuration file
 *   15  a consulted variable with another value
 *   20  content (or link target) of a file that was executed or loaded
 *   25  presence of any other file
 *   30  content, target or listing of any other file read
 *   40  metadata only: permission bits, or size/mtime of a file whose bytes
 *       were not needed (stat only)
 *   45  variables that differ between any two shells (PWD, SHLVL, TERM, ...)
 *   50  noise whatever the change: locale data, zoneinfo, caches, /proc,
 *       /sys, /dev, and the work tree's own generated files
 * Command differences (argv, cwd, exit status) are printed first, unranked.
 *
 * Packages: inputs carry the package that owned them on the recording host
 * (`package`, "MANAGER:NAME VERSION"). A package whose version differs
 * between the two manifests, or that only one of them used, is one line
 * (score 10) instead of one line per file: "libc6 2.36-9 -> 2.36-9+deb12u4:
 * 312 files, 40 differ". The lines of its files are left out; inputs of
 * manifests without owners compare path by path as before.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cordon/error.h>
#include <cordon/manifest.h>
#include <cordon/util.h>
#include <cordon/verify.h>

/* ---- what an input is --------------------------------------------------- */

static bool has_suffix(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

enum kind { K_HEADER, K_LIBRARY, K_EXECUTABLE, K_CONFIG, K_OTHER };

static const char *const kind_names[] = {"header", "library", "executable", "configuration",
                                         "file"};

static enum kind kind_of(const struct cordon_input *in) {
    const char *p = in->path, *b = base_name(p);
    if (in->uses & CORDON_USE_EXEC || strstr(p, "/bin/") || strstr(p, "/sbin/") ||
        strstr(p, "/libexec/"))
        return K_EXECUTABLE;
    if (in->uses & (CORDON_USE_LOAD | CORDON_USE_SEARCH) || has_suffix(b, ".so") ||
        strstr(b, ".so.") || has_suffix(b, ".a") || has_suffix(b, ".la") || has_suffix(b, ".pc") ||
        has_suffix(b, ".dylib"))
        return K_LIBRARY;
    static const char *const hdr[] = {".h", ".hh", ".hpp", ".hxx", ".H", ".inc", ".tcc"};
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(hdr); i++)
        if (has_suffix(b, hdr[i]))
            return K_HEADER;
    if (strstr(p, "/include/"))
        return K_HEADER;
    if ((in->category &&
         (strcmp(in->category, "user-config") == 0 || strcmp(in->category, "site-config") == 0)) ||
        strncmp(p, "/etc/", 5) == 0 || b[0] == '.' || has_suffix(b, ".conf") ||
        has_suffix(b, ".cfg") || has_suffix(b, ".ini") || has_suffix(b, ".cmake") ||
        has_suffix(b, "rc"))
        return K_CONFIG;
    return K_OTHER;
}

/* Changes here say nothing about why builds differ. */
static bool is_noise(const struct cordon_input *in, const struct cordon_manifest *m,
                     const struct cordon_manifest *other) {
    const char *p = in->path;
    if (cordon_path_is_virtual(p))
        return true;
    if (strstr(p, "/locale/") || has_suffix(p, "/locale") || strstr(p, "/gconv/") ||
        has_suffix(p, "/locale.alias") || has_suffix(p, "/locale-archive"))
        return true;
    if (strstr(p, "/zoneinfo/") || has_suffix(p, "/zoneinfo") || strcmp(p, "/etc/localtime") == 0 ||
        strcmp(p, "/etc/timezone") == 0)
        return true;
    if ((in->category && strcmp(in->category, "cache") == 0) || strstr(p, "/.cache/") ||
        strstr(p, "/.ccache/") || cordon_path_under(p, "/var/cache") ||
        strcmp(p, "/etc/ld.so.cache") == 0)
        return true;
    /* The work tree's generated files: changed by the build, or written by
     * either run. */
    if (m->worktree && cordon_path_under(p, m->worktree)) {
        if (in->flags & CORDON_INPUT_CHANGED)
            return true;
        if (cordon_manifest_find_output(m, p))
            return true;
        if (other && other->worktree) {
            char q[PATH_MAX];
            int n = snprintf(q, sizeof q, "%s%s", other->worktree, p + strlen(m->worktree));
            if (n > 0 && (size_t)n < sizeof q && cordon_manifest_find_output(other, q))
                return true;
        }
    }
    return false;
}

static const char *use_word(unsigned uses) {
    if (uses & CORDON_USE_EXEC)
        return "executed";
    if (uses & CORDON_USE_LOAD)
        return "loaded";
    if (uses & CORDON_USE_READ)
        return "read";
    if (uses & CORDON_USE_LIST)
        return "listed";
    if (uses & CORDON_USE_READLINK)
        return "link read";
    if (uses & CORDON_USE_SEARCH)
        return "searched by the loader";
    if (uses & CORDON_USE_PROBE)
        return "probed";
    return "stat'ed";
}

/* ---- matching ----------------------------------------------------------- */

struct keyed {
    char *key; /* path, or "\x01" + path relative to the work tree */
    const struct cordon_input *in;
};

static int keyed_cmp(const void *a, const void *b) {
    return strcmp(((const struct keyed *)a)->key, ((const struct keyed *)b)->key);
}

static struct keyed *keyed_inputs(const struct cordon_manifest *m) {
    struct keyed *k = calloc(m->n_inputs + 1, sizeof *k);
    if (!k)
        return NULL;
    size_t wn = m->worktree ? strlen(m->worktree) : 0;
    for (size_t i = 0; i < m->n_inputs; i++) {
        const char *p = m->inputs[i].path;
        k[i].in = &m->inputs[i];
        if (wn && cordon_path_under(p, m->worktree) && strcmp(m->worktree, "/") != 0) {
            size_t n = strlen(p + wn);
            k[i].key = malloc(n + 2);
            if (k[i].key) {
                k[i].key[0] = '\x01';
                memcpy(k[i].key + 1, p + wn, n + 1);
            }
        } else {
            k[i].key = strdup(p);
        }
        if (!k[i].key) {
            for (size_t j = 0; j < i; j++)
                free(k[j].key);
            free(k);
            return NULL;
        }
    }
    qsort(k, m->n_inputs, sizeof *k, keyed_cmp);
    return k;
}

static void keyed_free(struct keyed *k, size_t n) {
    for (size_t i = 0; k && i < n; i++)
        free(k[i].key);
    free(k);
}

/* ---- packages ---------------------------------------------------------------- */

/* One package as both manifests saw it. */
struct pkg_side {
    char *key;           /* "MANAGER:NAME" */
    const char *va, *vb; /* versions ("" unknown), NULL: not used by that side */
    size_t files_a, files_b;
    size_t differ; /* file lines folded into this package's line */
};

struct pkgs {
    struct cordon_map *map; /* key -> struct pkg_side */
    struct pkg_side **v;
    size_t n, cap;
};

/* Split "MANAGER:NAME VERSION" into the key's length and the version. */
static size_t package_key_len(const char *p, const char **ret_version) {
    const char *sp = strchr(p, ' ');
    *ret_version = sp ? sp + 1 : "";
    return sp ? (size_t)(sp - p) : strlen(p);
}

static int pkgs_add(struct pkgs *ps, const struct cordon_input *in, bool side_a) {
    if (!in->package || in->type == CORDON_FT_MISSING)
        return 0;
    const char *version;
    size_t n = package_key_len(in->package, &version);
    char key[512];
    snprintf(key, sizeof key, "%.*s", (int)n, in->package);
    struct pkg_side *p = cordon_map_get(ps->map, key);
    if (!p) {
        if (cordon_grow((void **)&ps->v, &ps->cap, ps->n + 1, sizeof *ps->v) < 0 ||
            !(p = calloc(1, sizeof *p)))
            return -ENOMEM;
        ps->v[ps->n++] = p;
        if (!(p->key = strdup(key)) || cordon_map_put(ps->map, key, p) < 0)
            return -ENOMEM;
    }
    if (side_a) {
        p->va = p->va ? p->va : version;
        p->files_a++;
    } else {
        p->vb = p->vb ? p->vb : version;
        p->files_b++;
    }
    return 0;
}

/* The package line that explains a file of this package, or NULL. */
static struct pkg_side *pkgs_explains(const struct pkgs *ps, const struct cordon_input *in) {
    if (!in || !in->package)
        return NULL;
    const char *version;
    size_t n = package_key_len(in->package, &version);
    char key[512];
    snprintf(key, sizeof key, "%.*s", (int)n, in->package);
    struct pkg_side *p = cordon_map_get(ps->map, key);
    if (!p)
        return NULL;
    bool changed = p->va && p->vb && strcmp(p->va, p->vb) != 0;
    return changed || !p->va || !p->vb ? p : NULL;
}

static void pkgs_free(struct pkgs *ps) {
    for (size_t i = 0; i < ps->n; i++) {
        free(ps->v[i]->key);
        free(ps->v[i]);
    }
    free(ps->v);
    cordon_map_free(ps->map);
}

/* ---- ranked lines --------------------------------------------------------- */

struct line {
    int score;
    const char *word; /* "content", "missing", ... */
    const char *subject;
    char *reason;
};

struct lines {
    struct line *v;
    size_t n, cap;
    bool failed;
};

__attribute__((format(printf, 5, 6))) static void
add_line(struct lines *l, int score, const char *word, const char *subject, const char *fmt, ...) {
    if (cordon_grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v) < 0) {
        l->failed = true;
        return;
    }
    char *reason = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&reason, fmt, ap) < 0) {
        reason = NULL;
        l->failed = true;
    }
    va_end(ap);
    l->v[l->n++] = (struct line){score, word, subject, reason};
}

static int line_cmp(const void *pa, const void *pb) {
    const struct line *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score < b->score ? -1 : 1;
    return strcmp(a->subject, b->subject);
}

static bool present(enum cordon_ftype t) {
    return t != CORDON_FT_MISSING;
}

static void compare_pair(struct lines *l, const struct cordon_manifest *a,
                         const struct cordon_manifest *b, const struct cordon_input *x,
                         const struct cordon_input *y) {
    const struct cordon_input *any = x ? x : y;
    enum kind k = kind_of(any);
    bool noise = is_noise(any, x ? a : b, x ? b : a);
    int presence = noise ? 50 : k != K_OTHER ? 10 : 25;
    const char *what = kind_names[k];
    if (!x || !y) {
        /* Only one build looked at this path. */
        if (!present(any->type))
            add_line(l, noise ? 50 : presence + 5, x ? "only-a" : "only-b", any->path,
                     "%s probed by %s only, not found", what, x ? "A" : "B");
        else
            add_line(l, noise ? 50 : presence + 5, x ? "only-a" : "only-b", any->path,
                     "%s, %s by %s only", what, use_word(any->uses), x ? "A" : "B");
        return;
    }
    if (present(x->type) != present(y->type)) {
        bool appeared = !present(x->type);
        add_line(l, presence, appeared ? "appeared" : "missing", x->path, "%s: %s in A, %s in B",
                 what, appeared ? "absent" : "present", appeared ? "present" : "absent");
        return;
    }
    if (x->type != y->type) {
        add_line(l, presence, "type", x->path, "%s: %s in A, %s in B", what,
                 cordon_ftype_name(x->type), cordon_ftype_name(y->type));
        return;
    }
    unsigned uses = x->uses | y->uses;
    int content = noise ? 50 : (uses & (CORDON_USE_EXEC | CORDON_USE_LOAD)) ? 20 : 30;
    switch (x->type) {
    case CORDON_FT_FILE:
        if (x->has_hash && y->has_hash) {
            if (!cordon_hash_equal(&x->hash, &y->hash)) {
                if (x->size != y->size)
                    add_line(l, content, "content", x->path, "%s, %s: bytes differ (%llu -> %llu)",
                             what, use_word(uses), (unsigned long long)x->size,
                             (unsigned long long)y->size);
                else
                    add_line(l, content, "content", x->path, "%s, %s: bytes differ", what,
                             use_word(uses));
                return;
            }
        } else if (x->size != y->size || x->mtime_ns != y->mtime_ns) {
            if (cordon_use_needs_content(uses))
                add_line(l, content, "content", x->path,
                         "%s, %s: size or mtime differs, not hashed", what, use_word(uses));
            else
                add_line(l, noise ? 50 : 40, "metadata", x->path,
                         "%s, %s only: size or mtime differs", what, use_word(uses));
            return;
        }
        break;
    case CORDON_FT_SYMLINK:
        if (x->target && y->target && strcmp(x->target, y->target) != 0) {
            add_line(l, content, "target", x->path, "link: '%s' in A, '%s' in B", x->target,
                     y->target);
            return;
        }
        return;
    case CORDON_FT_DIR:
        if (x->has_listing && y->has_listing && !cordon_hash_equal(&x->listing, &y->listing)) {
            add_line(l, noise ? 50 : 30, "listing", x->path, "directory listed: entries differ");
            return;
        }
        break;
    case CORDON_FT_MISSING:
    case CORDON_FT_OTHER:
    case CORDON_FT_MAX:
    case CORDON_FT_INVALID:
    default:
        return;
    }
    if ((x->mode & 07777) != (y->mode & 07777))
        add_line(l, noise ? 50 : 40, "mode", x->path, "%s: %04o in A, %04o in B", what,
                 (unsigned)x->mode & 07777, (unsigned)y->mode & 07777);
}

static bool noisy_variable(const char *name) {
    static const char *const names[] = {"PWD",
                                        "OLDPWD",
                                        "SHLVL",
                                        "_",
                                        "TERM",
                                        "COLUMNS",
                                        "LINES",
                                        "DISPLAY",
                                        "WINDOWID",
                                        "COLORTERM",
                                        "TERM_PROGRAM",
                                        "SSH_CLIENT",
                                        "SSH_CONNECTION",
                                        "SSH_TTY",
                                        "XDG_SESSION_ID",
                                        "XDG_RUNTIME_DIR",
                                        "MAKEFLAGS",
                                        "MFLAGS",
                                        "MAKELEVEL",
                                        "LS_COLORS",
                                        "HISTFILE"};
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(names); i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

static int env_score(const struct cordon_env_read *e) {
    return noisy_variable(e->name) ? 45 : 15;
}

/* A variable that only one side (`side`, "A" or "B") consulted. */
static void compare_env_one(struct lines *l, const char *side, const struct cordon_env_read *e) {
    add_line(l, env_score(e) + 1, "env", e->name, "consulted by %s only (%s)", side,
             e->redacted ? "<redacted>"
             : e->value  ? e->value
                         : "unset");
}

static void compare_env(struct lines *l, const struct cordon_env_read *x,
                        const struct cordon_env_read *y) {
    int score = env_score(x);
    if (x->redacted || y->redacted)
        return; /* values unknown */
    if ((!x->value && !y->value) || (x->value && y->value && strcmp(x->value, y->value) == 0))
        return;
    char av[300], bv[300];
    snprintf(av, sizeof av, x->value ? "'%s'" : "%s", x->value ? x->value : "(unset)");
    snprintf(bv, sizeof bv, y->value ? "'%s'" : "%s", y->value ? y->value : "(unset)");
    add_line(l, score, "env", x->name, "%s -> %s", av, bv);
}

static int exit_code(int status) {
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return status;
}

static char *join_argv(char *const *v) {
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    for (size_t i = 0; v && v[i]; i++) {
        if (i)
            cordon_strbuf_adds(&sb, " ");
        cordon_strbuf_adds(&sb, v[i]);
    }
    return cordon_strbuf_detach(&sb);
}

static int compare_command(const struct cordon_manifest *a, const struct cordon_manifest *b,
                           FILE *out) {
    int n = 0;
    _cleanup_free_ char *aa = join_argv(a->command.argv), *ba = join_argv(b->command.argv);
    if (aa && ba && strcmp(aa, ba) != 0) {
        fprintf(out, "%-8s argv: '%s' -> '%s'\n", "command", aa, ba);
        n++;
    }
    const char *ac = a->command.cwd ? a->command.cwd : "",
               *bc = b->command.cwd ? b->command.cwd : "";
    if (strcmp(ac, bc) != 0) {
        fprintf(out, "%-8s cwd: '%s' -> '%s'\n", "command", ac, bc);
        n++;
    }
    if (a->command.finished != b->command.finished) {
        fprintf(out, "%-8s finished: %s -> %s\n", "command", a->command.finished ? "yes" : "no",
                b->command.finished ? "yes" : "no");
        n++;
    } else if (a->command.finished && a->command.status != b->command.status) {
        fprintf(out, "%-8s exit status: %d -> %d\n", "command", exit_code(a->command.status),
                exit_code(b->command.status));
        n++;
    }
    return n;
}

int cordon_diff(const struct cordon_manifest *a, const struct cordon_manifest *b, FILE *out,
                struct cordon_error *err) {
    struct keyed *ka = keyed_inputs(a), *kb = keyed_inputs(b);
    struct lines l = {0};
    struct pkgs ps = {.map = cordon_map_new(256)};
    bool oom = !ka || !kb || !ps.map;
    for (size_t k = 0; !oom && k < a->n_inputs; k++)
        oom = pkgs_add(&ps, &a->inputs[k], true) < 0;
    for (size_t k = 0; !oom && k < b->n_inputs; k++)
        oom = pkgs_add(&ps, &b->inputs[k], false) < 0;
    if (oom) {
        keyed_free(ka, a->n_inputs);
        keyed_free(kb, b->n_inputs);
        pkgs_free(&ps);
        return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    }
    size_t i = 0, j = 0;
    while (i < a->n_inputs || j < b->n_inputs) {
        int c = i >= a->n_inputs ? 1 : j >= b->n_inputs ? -1 : strcmp(ka[i].key, kb[j].key);
        const struct cordon_input *x = c <= 0 ? ka[i].in : NULL, *y = c >= 0 ? kb[j].in : NULL;
        i += c <= 0;
        j += c >= 0;
        size_t before = l.n;
        compare_pair(&l, a, b, x, y);
        /* A file of a package whose version differs, or that one side did
         * not use, is told by the package's line. */
        struct pkg_side *p = pkgs_explains(&ps, x) ? pkgs_explains(&ps, x) : pkgs_explains(&ps, y);
        if (p && l.n > before) {
            while (l.n > before)
                free(l.v[--l.n].reason);
            p->differ++;
        }
    }
    for (size_t k = 0; k < ps.n; k++) {
        const struct pkg_side *p = ps.v[k];
        const char *name = strchr(p->key, ':') ? strchr(p->key, ':') + 1 : p->key;
        if (p->va && p->vb && strcmp(p->va, p->vb) != 0)
            add_line(
                &l, 10, "package", name, "%s -> %s: %zu file%s, %zu differ", *p->va ? p->va : "?",
                *p->vb ? p->vb : "?", p->files_a > p->files_b ? p->files_a : p->files_b,
                (p->files_a > p->files_b ? p->files_a : p->files_b) == 1 ? "" : "s", p->differ);
        else if (p->va && !p->vb)
            add_line(&l, 10, "package", name, "%s used by A only: %zu file%s", *p->va ? p->va : "?",
                     p->files_a, p->files_a == 1 ? "" : "s");
        else if (!p->va && p->vb)
            add_line(&l, 10, "package", name, "%s used by B only: %zu file%s", *p->vb ? p->vb : "?",
                     p->files_b, p->files_b == 1 ? "" : "s");
    }
    i = j = 0;
    while (i < a->n_env_reads || j < b->n_env_reads) {
        int c = i >= a->n_env_reads   ? 1
                : j >= b->n_env_reads ? -1
                                      : strcmp(a->env_reads[i].name, b->env_reads[j].name);
        if (c == 0)
            compare_env(&l, &a->env_reads[i++], &b->env_reads[j++]);
        else if (c < 0)
            compare_env_one(&l, "A", &a->env_reads[i++]);
        else
            compare_env_one(&l, "B", &b->env_reads[j++]);
    }
    int r;
    if (l.failed) {
        r = cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    } else {
        int n = compare_command(a, b, out);
        if (l.n)
            qsort(l.v, l.n, sizeof *l.v, line_cmp);
        for (size_t k = 0; k < l.n; k++)
            fprintf(out, "%-8s %s: %s\n", l.v[k].word, l.v[k].subject, l.v[k].reason);
        r = n + (int)l.n;
        if (r)
            fprintf(out, "%d difference%s (likely cause first)\n", r, r == 1 ? "" : "s");
        else
            fprintf(out, "no differences: %zu and %zu inputs, %zu and %zu variables\n", a->n_inputs,
                    b->n_inputs, a->n_env_reads, b->n_env_reads);
    }
    for (size_t k = 0; k < l.n; k++)
        free(l.v[k].reason);
    free(l.v);
    keyed_free(ka, a->n_inputs);
    keyed_free(kb, b->n_inputs);
    pkgs_free(&ps);
    return r;
}
