/* The namespace runner's mount plan: the policy and the host compiled into
 * the mounts that build the view (run.h says how; run.c executes them).
 * Ported from the Rust tree's plan.rs: the view starts empty, rules become
 * mounts parents first, a hidden entry inside a visible host directory
 * mirrors that directory (a tmpfs with a bind of each other entry), and the
 * same mirror gives a place to a path the host lacks. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cordon/error.h>
#include <cordon/policy.h>
#include <cordon/run.h>
#include <cordon/util.h>

/* ---- host lookups -------------------------------------------------------- */

static bool host_exists(const char *p) {
    struct stat st;
    return p && lstat(p, &st) == 0;
}

static bool host_is_symlink(const char *p) {
    struct stat st;
    return lstat(p, &st) == 0 && S_ISLNK(st.st_mode);
}

/* stat(2)'s answer about a directory: 1 a directory, 0 something else, -1
 * nothing there. */
static int host_is_dir(const char *p) {
    struct stat st;
    if (!p || stat(p, &st) < 0)
        return -1;
    return S_ISDIR(st.st_mode) ? 1 : 0;
}

static unsigned host_dir_mode(const char *p, unsigned dflt) {
    struct stat st;
    if (p && stat(p, &st) == 0 && S_ISDIR(st.st_mode))
        return st.st_mode & 07777;
    return dflt;
}

/* Symlinks resolved in the existing part of `path` (absolute, normal), the
 * rest kept as written: "/lib/x/missing" -> "/usr/lib/x/missing". New
 * string or NULL. */
static char *canonical(const char *path) {
    char buf[PATH_MAX], real[PATH_MAX];
    size_t len = strlen(path);
    if (len >= sizeof buf || path[0] != '/')
        return NULL;
    memcpy(buf, path, len + 1);
    /* The longest existing prefix, resolved; the rest appended as written. */
    for (;;) {
        if (realpath(buf, real)) {
            struct cordon_strbuf sb = CORDON_STRBUF_INIT;
            cordon_strbuf_adds(&sb, real);
            size_t bl = strlen(buf);
            if (len > bl) {
                if (strcmp(real, "/") != 0)
                    cordon_strbuf_adds(&sb, "/");
                cordon_strbuf_adds(&sb, path + bl + (bl > 1 ? 1 : 0));
            }
            if (sb.failed) {
                cordon_strbuf_release(&sb);
                return NULL;
            }
            return cordon_strbuf_detach(&sb);
        }
        char *slash = strrchr(buf, '/');
        if (!slash || !strcmp(buf, "/"))
            return strdup(path);
        if (slash == buf)
            slash[1] = '\0'; /* try "/" next */
        else
            *slash = '\0';
    }
}

/* canonical() of the parent only: the last component names the entry itself
 * (a hidden symlink is hidden, not its target). */
static char *canonical_parent(const char *path) {
    if (!strcmp(path, "/"))
        return strdup("/");
    const char *slash = strrchr(path, '/');
    char *parent = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
    if (!parent)
        return NULL;
    char *cp = canonical(parent);
    free(parent);
    if (!cp)
        return NULL;
    char *out = NULL;
    int r = asprintf(&out, "%s/%s", strcmp(cp, "/") ? cp : "", slash + 1);
    free(cp);
    return r < 0 ? NULL : out;
}

/* The parent of absolute normal `p` into a new string ("/" for "/x"). */
static char *parent_of(const char *p) {
    const char *slash = strrchr(p, '/');
    if (!slash || slash == p)
        return strdup("/");
    return strndup(p, (size_t)(slash - p));
}

/* `base` joined with the part of `path` below `dir` (path under dir). */
static char *rebase(const char *base, const char *dir, const char *path) {
    size_t dl = strcmp(dir, "/") ? strlen(dir) : 0;
    const char *rest = path + dl; /* "" or "/..." */
    char *out = NULL;
    if (!*rest)
        return strdup(base);
    if (asprintf(&out, "%s%s", strcmp(base, "/") ? base : "", rest) < 0)
        return NULL;
    return out;
}

/* ---- the plan's nodes ---------------------------------------------------- */

enum nkind { NK_BIND, NK_TMPFS, NK_DEV, NK_PROC, NK_EMPTY, NK_DENY, NK_HIDE, NK_LINK };

struct added {
    char *rel;
    bool dir;
};

struct node {
    char *path; /* in the view, canonical */
    enum nkind kind;
    char *src; /* BIND: the host path; LINK: the target */
    bool writable;
    bool mirror;
    char **hidden; /* names hidden from the mirror */
    size_t n_hidden, cap_hidden;
    struct added *added; /* paths the mirror adds, relative to it */
    size_t n_added, cap_added;
    const char *origin; /* borrowed from the rule, or a literal */
    int line;
    const char *keyword;
};

struct nodes {
    struct node *v;
    size_t n, cap;
};

static void node_release(struct node *n) {
    free(n->path);
    free(n->src);
    for (size_t i = 0; i < n->n_hidden; i++)
        free(n->hidden[i]);
    free(n->hidden);
    for (size_t i = 0; i < n->n_added; i++)
        free(n->added[i].rel);
    free(n->added);
    memset(n, 0, sizeof *n);
}

static void nodes_release(struct nodes *ns) {
    for (size_t i = 0; i < ns->n; i++)
        node_release(&ns->v[i]);
    free(ns->v);
    memset(ns, 0, sizeof *ns);
}

static ssize_t node_find(const struct nodes *ns, const char *path) {
    for (size_t i = 0; i < ns->n; i++)
        if (!strcmp(ns->v[i].path, path))
            return (ssize_t)i;
    return -1;
}

/* Put a node at `path` (taken), replacing one there: the later rule wins.
 * `src` is taken too. Index or -ENOMEM. */
static ssize_t node_put(struct nodes *ns, char *path, enum nkind kind, char *src, bool writable,
                        const char *origin, int line, const char *keyword) {
    if (!path) {
        free(src);
        return -ENOMEM;
    }
    ssize_t i = node_find(ns, path);
    if (i >= 0) {
        node_release(&ns->v[i]);
    } else {
        if (cordon_grow((void **)&ns->v, &ns->cap, ns->n + 1, sizeof *ns->v) < 0) {
            free(path);
            free(src);
            return -ENOMEM;
        }
        i = (ssize_t)ns->n++;
    }
    if (!ns->v) {
        free(path);
        free(src);
        return -ENOMEM;
    }
    ns->v[i] = (struct node){.path = path,
                             .kind = kind,
                             .src = src,
                             .writable = writable,
                             .origin = origin,
                             .line = line,
                             .keyword = keyword};
    return i;
}

/* The nearest node strictly above `path`, or -1. */
static ssize_t parent_node(const struct nodes *ns, const char *path) {
    if (!strcmp(path, "/"))
        return -1;
    char buf[PATH_MAX];
    (void)snprintf(buf, sizeof buf, "%s", path);
    for (;;) {
        char *slash = strrchr(buf, '/');
        if (!slash)
            return -1;
        if (slash == buf) {
            return node_find(ns, "/");
        }
        *slash = '\0';
        ssize_t i = node_find(ns, buf);
        if (i >= 0)
            return i;
    }
}

/* The host path shown at `path` through the bind node `n`, or NULL. New. */
static char *host_source(const struct node *n, const char *path) {
    if (n->kind != NK_BIND)
        return NULL;
    return rebase(n->src, n->path, path);
}

static int note(struct cordon_mount_plan *plan, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int note(struct cordon_mount_plan *plan, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int r = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (r < 0 || cordon_grow((void **)&plan->notes, &plan->cap_notes, plan->n_notes + 2,
                             sizeof *plan->notes) < 0) {
        if (r >= 0)
            free(s);
        return -ENOMEM;
    }
    plan->notes[plan->n_notes++] = s;
    plan->notes[plan->n_notes] = NULL;
    return 0;
}

static const char *rule_origin(const struct node *n, char *buf, size_t size) {
    if (n->line > 0)
        (void)snprintf(buf, size, "%s:%d", n->origin, n->line);
    else
        (void)snprintf(buf, size, "%s", n->origin ? n->origin : "command line");
    return buf;
}

/* The symlinks on a rule's own path stay walkable by that path: the kernel
 * opens /lib64/ld-linux-x86-64.so.2 by that very name. */
static int add_links(struct nodes *ns, const char *path, const struct cordon_rule *r) {
    char buf[PATH_MAX];
    (void)snprintf(buf, sizeof buf, "%s", path);
    for (char *s = buf + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (host_is_symlink(buf)) {
            char *at = canonical_parent(buf);
            if (!at)
                return -ENOMEM;
            if (node_find(ns, at) < 0) {
                char *target = cordon_read_link(buf);
                if (target) {
                    if (node_put(ns, at, NK_LINK, target, false, r->origin, r->line, "link") < 0)
                        return -ENOMEM;
                    at = NULL;
                }
            }
            free(at);
        }
        *s = '/';
    }
    return 0;
}

static int nodes_from_rules(struct nodes *ns, const struct cordon_policy *p, const char *home,
                            struct cordon_mount_plan *plan, struct cordon_error *err) {
    /* The home first, so that a rule for the same path decides instead:
     * running from $HOME itself (`rw ${CWD}`) keeps the real directory. */
    if (home && p->home == CORDON_HOME_FRESH) {
        if (node_put(ns, canonical(home), NK_TMPFS, NULL, false, "home fresh", 0, "home") < 0)
            return -ENOMEM;
    } else if (p->home == CORDON_HOME_PATH && p->home_path) {
        char *real = canonical(p->home_path);
        if (!real || node_put(ns, real, NK_BIND, strdup(real), true, "home", 0, "home") < 0)
            return -ENOMEM;
    }
    for (size_t i = 0; i < p->n_rules; i++) {
        const struct cordon_rule *r = &p->rules[i];
        const char *kw = cordon_rule_kind_name(r->kind);
        if (r->kind != CORDON_RULE_HIDE && add_links(ns, r->path, r) < 0)
            return -ENOMEM;
        ssize_t k = 0;
        switch (r->kind) {
        case CORDON_RULE_HIDE:
            k = node_put(ns, canonical_parent(r->path), NK_HIDE, NULL, false, r->origin, r->line,
                         kw);
            break;
        case CORDON_RULE_RO:
        case CORDON_RULE_RW: {
            bool rw = r->kind == CORDON_RULE_RW;
            if (strcmp(r->path, "/") != 0 && host_is_symlink(r->path)) {
                /* The link where it is, its target as the rule says. */
                char *target = cordon_read_link(r->path);
                if (target && node_put(ns, canonical_parent(r->path), NK_LINK, target, false,
                                       r->origin, r->line, kw) < 0)
                    return -ENOMEM;
            }
            char *real = canonical(r->path);
            if (!real)
                return -ENOMEM;
            if (!host_exists(real)) {
                if (note(plan, "%s:%d: %s %s: does not exist on this machine, skipped",
                         r->origin ? r->origin : "command line", r->line, kw, r->path) < 0) {
                    free(real);
                    return -ENOMEM;
                }
                free(real);
                continue;
            }
            char *src = strdup(real);
            k = node_put(ns, real, NK_BIND, src, rw, r->origin, r->line, kw);
            break;
        }
        case CORDON_RULE_REDIRECT:
            if (!r->to || !host_exists(r->to))
                return cordon_error_set(err, EINVAL, r->origin, r->line, 0,
                                        "redirect %s: the target '%s' does not exist", r->path,
                                        r->to ? r->to : "");
            k = node_put(ns, canonical(r->path), NK_BIND, canonical(r->to), false, r->origin,
                         r->line, kw);
            break;
        case CORDON_RULE_TMPFS:
            k = node_put(ns, canonical(r->path), NK_TMPFS, NULL, true, r->origin, r->line, kw);
            break;
        case CORDON_RULE_DEV:
            k = node_put(ns, canonical(r->path), NK_DEV, NULL, true, r->origin, r->line, kw);
            break;
        case CORDON_RULE_PROC:
            k = node_put(ns, canonical(r->path), NK_PROC, NULL, false, r->origin, r->line, kw);
            break;
        case CORDON_RULE_EMPTY:
            k = node_put(ns, canonical(r->path), NK_EMPTY, NULL, false, r->origin, r->line, kw);
            break;
        case CORDON_RULE_DENY:
            k = node_put(ns, canonical(r->path), NK_DENY, NULL, false, r->origin, r->line, kw);
            break;
        case CORDON_RULE_MAX:
        case CORDON_RULE_INVALID:
        default:
            return cordon_error_set(err, EINVAL, r->origin, r->line, 0, "invalid rule kind %d",
                                    (int)r->kind);
        }
        if (k < 0)
            return -ENOMEM;
    }
    /* A hidden directory that holds visible paths cannot be absent: it
     * becomes an empty directory holding them. */
    for (size_t i = 0; i < ns->n; i++) {
        if (ns->v[i].kind != NK_HIDE)
            continue;
        for (size_t j = 0; j < ns->n; j++) {
            if (j == i || ns->v[j].kind == NK_HIDE || !strcmp(ns->v[j].path, ns->v[i].path) ||
                !cordon_path_under(ns->v[j].path, ns->v[i].path))
                continue;
            if (note(plan, "hide %s: has visible paths inside, shown as an empty directory",
                     ns->v[i].path) < 0)
                return -ENOMEM;
            ns->v[i].kind = NK_EMPTY;
            break;
        }
    }
    return 0;
}

/* The mirror of directory `dir`, made a node (a copy of bind node `anc`)
 * when there is none. Index or -ENOMEM. */
static ssize_t mirror_at(struct nodes *ns, const char *dir, size_t anc) {
    ssize_t i = node_find(ns, dir);
    if (i < 0) {
        struct node a = ns->v[anc]; /* shallow: node_put may move the array */
        char *src = host_source(&a, dir);
        i = node_put(ns, strdup(dir), NK_BIND, src, a.writable, a.origin, a.line, a.keyword);
        if (i < 0)
            return i;
    }
    ns->v[i].mirror = true;
    return i;
}

static int mirror_hide(struct nodes *ns, size_t mirror, const char *name) {
    struct node *m = &ns->v[mirror];
    for (size_t i = 0; i < m->n_hidden; i++)
        if (!strcmp(m->hidden[i], name))
            return 0;
    if (cordon_grow((void **)&m->hidden, &m->cap_hidden, m->n_hidden + 1, sizeof *m->hidden) < 0 ||
        !(m->hidden[m->n_hidden] = strdup(name)))
        return -ENOMEM;
    m->n_hidden++;
    return 0;
}

static int mirror_add(struct nodes *ns, size_t mirror, const char *rel, bool dir) {
    struct node *m = &ns->v[mirror];
    for (size_t i = 0; i < m->n_added; i++)
        if (!strcmp(m->added[i].rel, rel))
            return 0;
    if (cordon_grow((void **)&m->added, &m->cap_added, m->n_added + 1, sizeof *m->added) < 0 ||
        !(m->added[m->n_added].rel = strdup(rel)))
        return -ENOMEM;
    m->added[m->n_added++].dir = dir;
    return 0;
}

/* The deepest directory above `path` (inside bind node `a`) that the host
 * has, into a new string, or NULL. */
static char *deepest_existing(const struct node *a, const char *path) {
    char *dir = parent_of(path);
    while (dir) {
        char *ds = host_source(a, dir);
        if (!ds) {
            free(dir);
            return NULL;
        }
        bool done = !cordon_path_under(dir, a->path) || host_exists(ds);
        free(ds);
        if (done)
            return dir;
        char *up = parent_of(dir);
        free(dir);
        dir = up;
    }
    return NULL;
}

/* Whether node `i` needs a mirror above it, and what the mirror hides or
 * adds for it. 0 or -ENOMEM. (Explicit frees: clang-analyzer 14 does not
 * follow the cleanup attribute here.) */
static int mirror_node(struct nodes *ns, struct cordon_mount_plan *plan, size_t i) {
    if (!strcmp(ns->v[i].path, "/") || ns->v[i].kind == NK_LINK)
        return 0;
    ssize_t a = parent_node(ns, ns->v[i].path);
    if (a < 0 || ns->v[a].kind != NK_BIND)
        return 0; /* on a tmpfs of ours: mount points can be made */
    char *src = host_source(&ns->v[a], ns->v[i].path);
    if (!src)
        return -ENOMEM;
    bool exists = host_exists(src);
    free(src);
    char ob[PATH_MAX + 16];
    if (ns->v[i].kind == NK_HIDE) {
        if (!exists)
            return 0; /* absent already */
        if (ns->v[a].writable) {
            /* A mirror of a writable directory would keep the files made
             * directly in it in memory only (a build's outputs). */
            ns->v[i].kind = NK_DENY;
            return note(plan,
                        "%s: hide %s: inside the writable %s, shown as unreadable (EACCES) "
                        "rather than absent, so that files created there persist",
                        rule_origin(&ns->v[i], ob, sizeof ob), ns->v[i].path, ns->v[a].path);
        }
        char *dir = parent_of(ns->v[i].path);
        if (!dir)
            return -ENOMEM;
        const char *name = strrchr(ns->v[i].path, '/') + 1;
        ssize_t m = mirror_at(ns, dir, (size_t)a);
        free(dir);
        return m < 0 ? -ENOMEM : mirror_hide(ns, (size_t)m, name);
    }
    if (exists)
        return 0; /* the mount point is there */
    if (ns->v[i].kind == NK_DENY) {
        ns->v[i].kind = NK_HIDE;
        return note(plan, "%s: deny %s: does not exist on this machine, nothing to deny",
                    rule_origin(&ns->v[i], ob, sizeof ob), ns->v[i].path);
    }
    /* The deepest existing ancestor inside the bind gets the missing part
     * of the path, made in its mirror. */
    char *dir = deepest_existing(&ns->v[a], ns->v[i].path);
    if (!dir)
        return -ENOMEM;
    bool is_dir = ns->v[i].kind != NK_BIND || host_is_dir(ns->v[i].src) != 0;
    char *rel = strdup(ns->v[i].path + (strcmp(dir, "/") ? strlen(dir) : 0) + 1);
    ssize_t m = rel ? mirror_at(ns, dir, (size_t)a) : -ENOMEM;
    int r = m < 0 ? -ENOMEM : mirror_add(ns, (size_t)m, rel, is_dir);
    free(rel);
    free(dir);
    return r;
}

/* Decide which host directories are mirrored and what each hides or adds
 * (the mirrors made here need no mirror of their own). */
static int add_mirrors(struct nodes *ns, struct cordon_mount_plan *plan) {
    size_t n0 = ns->n;
    for (size_t i = 0; i < n0; i++) {
        int r = mirror_node(ns, plan, i);
        if (r < 0)
            return r;
    }
    return 0;
}

/* ---- emitting the ops ---------------------------------------------------- */

static int op_add(struct cordon_mount_plan *plan, enum cordon_mount_op_kind kind, const char *src,
                  const char *dst, unsigned mode, bool recursive, bool readonly) {
    if (cordon_grow((void **)&plan->ops, &plan->cap_ops, plan->n_ops + 1, sizeof *plan->ops) < 0)
        return -ENOMEM;
    struct cordon_mount_op *op = &plan->ops[plan->n_ops];
    *op = (struct cordon_mount_op){.kind = kind,
                                   .src = src ? strdup(src) : NULL,
                                   .dst = strdup(dst),
                                   .mode = mode,
                                   .recursive = recursive,
                                   .readonly = readonly};
    if (!op->dst || (src && !op->src)) {
        free(op->src);
        free(op->dst);
        return -ENOMEM;
    }
    plan->n_ops++;
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A tmpfs on `path` holding a bind of each entry of host `src` but the
 * hidden ones, and the added paths. */
static int emit_mirror(struct cordon_mount_plan *plan, const struct node *n) {
    int r =
        op_add(plan, CORDON_MOP_TMPFS, NULL, n->path, host_dir_mode(n->src, 0755), false, false);
    if (r < 0)
        return r;
    DIR *d = opendir(n->src);
    char **names = NULL;
    size_t nn = 0, cap = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            bool hidden = false;
            for (size_t i = 0; i < n->n_hidden && !hidden; i++)
                hidden = !strcmp(n->hidden[i], e->d_name);
            if (hidden)
                continue;
            if (cordon_grow((void **)&names, &cap, nn + 1, sizeof *names) < 0 ||
                !(names[nn] = strdup(e->d_name))) {
                r = -ENOMEM;
                break;
            }
            nn++;
        }
        closedir(d);
    }
    if (names)
        qsort(names, nn, sizeof *names, cmp_str);
    for (size_t i = 0; names && i < nn && r >= 0; i++) {
        char *s = NULL, *dst = NULL;
        if (asprintf(&s, "%s/%s", strcmp(n->src, "/") ? n->src : "", names[i]) < 0 ||
            asprintf(&dst, "%s/%s", strcmp(n->path, "/") ? n->path : "", names[i]) < 0) {
            free(s);
            r = -ENOMEM;
            break;
        }
        struct stat st;
        if (lstat(s, &st) == 0) {
            if (S_ISLNK(st.st_mode)) {
                char *target = cordon_read_link(s);
                if (target)
                    r = op_add(plan, CORDON_MOP_SYMLINK, target, dst, 0, false, false);
                free(target);
            } else if (S_ISDIR(st.st_mode)) {
                r = op_add(plan, CORDON_MOP_MKDIR, NULL, dst, 0755, false, false);
                if (r >= 0)
                    r = op_add(plan, CORDON_MOP_BIND, s, dst, 0, true, false);
            } else {
                r = op_add(plan, CORDON_MOP_TOUCH, NULL, dst, 0644, false, false);
                if (r >= 0)
                    r = op_add(plan, CORDON_MOP_BIND, s, dst, 0, false, false);
            }
        }
        free(s);
        free(dst);
    }
    for (size_t i = 0; names && i < nn; i++)
        free(names[i]);
    free(names);
    for (size_t i = 0; i < n->n_added && r >= 0; i++) {
        char *dst = NULL;
        if (asprintf(&dst, "%s/%s", strcmp(n->path, "/") ? n->path : "", n->added[i].rel) < 0)
            return -ENOMEM;
        r = op_add(plan, n->added[i].dir ? CORDON_MOP_MKDIR : CORDON_MOP_TOUCH, NULL, dst,
                   n->added[i].dir ? 0755 : 0644, false, false);
        free(dst);
    }
    /* Read-only at once with every bind in it, before the nodes below it
     * are mounted (their mount points are there by now). */
    if (r >= 0 && !n->writable)
        r = op_add(plan, CORDON_MOP_READONLY, NULL, n->path, 0, true, false);
    return r;
}

static int cmp_node(const void *a, const void *b) {
    return strcmp(((const struct node *)a)->path, ((const struct node *)b)->path);
}

static int cmp_len_desc(const void *a, const void *b) {
    size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);
    return la < lb ? 1 : la > lb ? -1 : 0;
}

/* Paths made read-only last, deepest first. */
struct ro_list {
    char **v;
    size_t n, cap;
};

static int ro_add(struct ro_list *l, const char *path) {
    if (cordon_grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v) < 0)
        return -ENOMEM;
    if (!l->v || !(l->v[l->n] = strdup(path)))
        return -ENOMEM;
    l->n++;
    return 0;
}

static int point(struct cordon_mount_plan *plan, const char *path, bool dir) {
    return op_add(plan, dir ? CORDON_MOP_MKDIR : CORDON_MOP_TOUCH, NULL, path, dir ? 0755 : 0644,
                  false, false);
}

/* The ops of node `i`; `anc_src` is the host path its nearest bind
 * ancestor shows there (NULL: none). */
static int emit_node(struct cordon_mount_plan *plan, const struct nodes *ns, size_t i,
                     const char *anc_src, bool ours, struct ro_list *ro_last) {
    const struct node *n = &ns->v[i];
    bool needs_point = strcmp(n->path, "/") != 0 && (ours || !host_exists(anc_src));
    const char *host_path = anc_src ? anc_src : n->path;
    int r = 0;
    switch (n->kind) {
    case NK_HIDE:
        return 0;
    case NK_LINK: {
        if (!ours)
            return 0;
        char *parent = parent_of(n->path);
        if (!parent)
            return -ENOMEM;
        r = op_add(plan, CORDON_MOP_MKDIR, NULL, parent, 0755, false, false);
        free(parent);
        if (r >= 0)
            r = op_add(plan, CORDON_MOP_SYMLINK, n->src, n->path, 0, false, false);
        return r;
    }
    case NK_BIND: {
        bool dir = host_is_dir(n->src) != 0;
        if (needs_point && (r = point(plan, n->path, dir || n->mirror)) < 0)
            return r;
        if (n->mirror)
            return emit_mirror(plan, n);
        return op_add(plan, CORDON_MOP_BIND, n->src, n->path, 0, dir, !n->writable);
    }
    case NK_TMPFS:
        if (needs_point && (r = point(plan, n->path, true)) < 0)
            return r;
        /* The host's mode (1777 for /tmp), so others can use it as usual. */
        return op_add(plan, CORDON_MOP_TMPFS, NULL, n->path, host_dir_mode(host_path, 0755), false,
                      false);
    case NK_PROC:
    case NK_DEV:
        if (needs_point && (r = point(plan, n->path, true)) < 0)
            return r;
        return op_add(plan, n->kind == NK_PROC ? CORDON_MOP_PROC : CORDON_MOP_DEV, NULL, n->path, 0,
                      false, false);
    case NK_EMPTY:
    case NK_DENY: {
        bool deny = n->kind == NK_DENY;
        if (host_is_dir(host_path) == 0) {
            if (needs_point && (r = point(plan, n->path, false)) < 0)
                return r;
            return op_add(plan, CORDON_MOP_BIND, deny ? CORDON_STAGING_DENY : CORDON_STAGING_EMPTY,
                          n->path, 0, false, true);
        }
        if (needs_point && (r = point(plan, n->path, true)) < 0)
            return r;
        r = op_add(plan, CORDON_MOP_TMPFS, NULL, n->path, deny ? 0 : 0755, false, false);
        return r < 0 ? r : ro_add(ro_last, n->path);
    }
    default:
        return 0;
    }
}

static int emit(struct cordon_mount_plan *plan, struct nodes *ns) {
    if (ns->v)
        qsort(ns->v, ns->n, sizeof *ns->v, cmp_node);
    struct ro_list ro_last = {0};
    int r = 0;
    if (node_find(ns, "/") < 0) {
        plan->root_tmpfs = true;
        r = op_add(plan, CORDON_MOP_TMPFS, NULL, "/", 0755, false, false);
        if (r >= 0)
            r = ro_add(&ro_last, "/");
    }
    for (size_t i = 0; i < ns->n && r >= 0; i++) {
        ssize_t a = parent_node(ns, ns->v[i].path);
        bool ours = a < 0 || ns->v[a].kind != NK_BIND || ns->v[a].mirror;
        char *anc_src = a >= 0 ? host_source(&ns->v[a], ns->v[i].path) : NULL;
        r = emit_node(plan, ns, i, anc_src, ours, &ro_last);
        free(anc_src);
    }
    /* Deepest first: a parent after its children's mount points. */
    if (ro_last.v)
        qsort(ro_last.v, ro_last.n, sizeof *ro_last.v, cmp_len_desc);
    for (size_t i = 0; ro_last.v && i < ro_last.n && r >= 0; i++)
        r = op_add(plan, CORDON_MOP_READONLY, NULL, ro_last.v[i], 0, false, false);
    for (size_t i = 0; ro_last.v && i < ro_last.n; i++)
        free(ro_last.v[i]);
    free(ro_last.v);
    return r;
}

struct cordon_mount_plan *cordon_mount_plan_free(struct cordon_mount_plan *plan) {
    if (!plan)
        return NULL;
    for (size_t i = 0; i < plan->n_ops; i++) {
        free(plan->ops[i].src);
        free(plan->ops[i].dst);
    }
    free(plan->ops);
    for (size_t i = 0; i < plan->n_notes; i++)
        free(plan->notes[i]);
    free(plan->notes);
    free(plan);
    return NULL;
}

int cordon_mount_plan_build(const struct cordon_policy *p, const char *home,
                            struct cordon_mount_plan **ret, struct cordon_error *err) {
    struct cordon_mount_plan *plan = calloc(1, sizeof *plan);
    if (!plan)
        return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    struct nodes ns = {0};
    int r = nodes_from_rules(&ns, p, home, plan, err);
    if (r >= 0)
        r = add_mirrors(&ns, plan);
    if (r >= 0)
        r = emit(plan, &ns);
    nodes_release(&ns);
    if (r < 0) {
        cordon_mount_plan_free(plan);
        if (r == -ENOMEM)
            return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
        return r;
    }
    *ret = plan;
    return 0;
}
