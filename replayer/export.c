/* Export: a manifest's inputs, or a policy, as bubblewrap arguments, a macOS
 * SBPL profile, an OpenBSD unveil program or a Linux Landlock program.
 *
 * A manifest is first turned into a view: the paths the build must find,
 * each resolved on the host one component at a time (as pack does), so that
 * every symlink on an input's way becomes an entry of its own and the
 * bytes are bound where the last link lands; plus the read-write roots (the
 * work tree, the directories the outputs outside it went to). Each format
 * then renders the view. A policy is rendered from its effective rules (one
 * per path: the last loaded), in path order, so parents come before what
 * they contain, which is the order bwrap needs its mounts in and the order
 * in which SBPL's "last rule wins" gives the longest-prefix semantics. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cordon/error.h>
#include <cordon/export.h>
#include <cordon/manifest.h>
#include <cordon/policy.h>
#include <cordon/util.h>

static const char *const format_names[CORDON_EXPORT_FORMAT_MAX] = {
    [CORDON_EXPORT_BWRAP] = "bwrap",
    [CORDON_EXPORT_SANDBOX_EXEC] = "sandbox-exec",
    [CORDON_EXPORT_UNVEIL] = "unveil",
    [CORDON_EXPORT_LANDLOCK] = "landlock",
};

const char *cordon_export_format_name(enum cordon_export_format f) {
    return f >= 0 && f < CORDON_EXPORT_FORMAT_MAX ? format_names[f] : NULL;
}

enum cordon_export_format cordon_export_format_from_name(const char *s) {
    for (int i = 0; s && i < CORDON_EXPORT_FORMAT_MAX; i++)
        if (strcmp(s, format_names[i]) == 0)
            return (enum cordon_export_format)i;
    return CORDON_EXPORT_FORMAT_INVALID;
}

/* ---- quoting ------------------------------------------------------------ */

void cordon_export_sh_quote(struct cordon_strbuf *sb, const char *s) {
    bool plain = *s != '\0';
    for (const char *c = s; *c && plain; c++)
        plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                strchr("/._-+=:,@%", *c);
    if (plain) {
        cordon_strbuf_adds(sb, s);
        return;
    }
    cordon_strbuf_adds(sb, "'");
    for (const char *c = s; *c; c++) {
        if (*c == '\'')
            cordon_strbuf_adds(sb, "'\\''");
        else
            cordon_strbuf_addn(sb, c, 1);
    }
    cordon_strbuf_adds(sb, "'");
}

/* A C (and SBPL) string literal. Bytes outside printable ASCII become
 * three-digit octal escapes, which cannot swallow a following digit. */
static void c_quote(struct cordon_strbuf *sb, const char *s) {
    cordon_strbuf_adds(sb, "\"");
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            cordon_strbuf_addf(sb, "\\%c", *c);
        else if (*c < 0x20 || *c >= 0x7f)
            cordon_strbuf_addf(sb, "\\%03o", *c);
        else if (*c == '?' && c[1] == '?') /* no trigraphs */
            cordon_strbuf_adds(sb, "?\\");
        else
            cordon_strbuf_addn(sb, (const char *)c, 1);
    }
    cordon_strbuf_adds(sb, "\"");
}

/* Text inside a comment: no newline, and nothing that ends a C comment. */
static void comment_text(struct cordon_strbuf *sb, const char *s) {
    for (const char *c = s; *c; c++) {
        if (*c == '\n' || *c == '\r')
            cordon_strbuf_adds(sb, " ");
        else if (c[0] == '*' && c[1] == '/')
            cordon_strbuf_adds(sb, "* ");
        else
            cordon_strbuf_addn(sb, c, 1);
    }
}

/* ---- notes (the approximations a header lists) -------------------------- */

struct notes {
    char **v;
    size_t n, cap;
    bool failed;
};

static void note(struct notes *ns, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct notes *ns, const char *fmt, ...) {
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int r = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (r < 0 || cordon_grow((void **)&ns->v, &ns->cap, ns->n + 1, sizeof *ns->v) < 0) {
        if (r >= 0)
            free(s);
        ns->failed = true;
        return;
    }
    ns->v[ns->n++] = s;
}

static void notes_release(struct notes *ns) {
    for (size_t i = 0; i < ns->n; i++)
        free(ns->v[i]);
    free(ns->v);
    *ns = (struct notes){0};
}

/* The approximations as comment lines, each starting with `lead`. */
static void emit_notes(struct cordon_strbuf *sb, const struct notes *ns, const char *lead) {
    cordon_strbuf_addf(sb, "%sApproximations:\n", lead);
    for (size_t i = 0; i < ns->n; i++) {
        cordon_strbuf_addf(sb, "%s- ", lead);
        comment_text(sb, ns->v[i]);
        cordon_strbuf_adds(sb, "\n");
    }
}

/* ---- the view of a manifest --------------------------------------------- */

enum vkind { V_DIR, V_FILE, V_SYMLINK };

struct ventry {
    char *path; /* where it is in the view (and on the host) */
    enum vkind kind;
    unsigned uses;  /* enum cordon_use bits of the inputs that landed here */
    char *target;   /* symlinks: the link's text */
    bool collapsed; /* a directory bound whole (--collapse) */
    bool inside;    /* below a collapsed directory: not emitted */
};

struct view {
    const struct cordon_export_options *o;
    const struct cordon_manifest *m;
    struct cordon_error *err;
    const char *root; /* host_root without a trailing slash; "" for / */
    struct ventry **v;
    size_t n, cap;
    struct cordon_map *by_path;
    char worktree[PATH_MAX];
    char cwd[PATH_MAX];
    char **rw; /* directories the build made outside the work tree: sorted, none below another */
    size_t n_rw, cap_rw;
    /* Directories that existed before the build and that it wrote in: bwrap
     * gives each a private tmpfs (the inputs in it bound on top), the other
     * formats grant the files written there (wfiles), not the directory. */
    char **priv;
    size_t n_priv, cap_priv;
    char **wfiles;
    size_t n_wfiles, cap_wfiles;
    bool uses_proc, uses_sys;
    size_t n_files, n_dirs, n_symlinks, n_gone;
    struct notes notes;
};

static int oom(struct view *w) {
    return cordon_error_set(w->err, ENOMEM, NULL, 0, 0, "out of memory");
}

static int too_long(struct view *w, const char *path) {
    return cordon_error_set(w->err, ENAMETOOLONG, path, 0, 0, "'%s': name too long", path);
}

/* The host's name for view path `path`, below host_root. */
static int host_path(struct view *w, const char *path, char *out, size_t size) {
    if ((size_t)snprintf(out, size, "%s%s", w->root, path) >= size)
        return too_long(w, path);
    return 0;
}

static bool covered_rw(const struct view *w, const char *path) {
    if (w->worktree[0] && cordon_path_under(path, w->worktree))
        return true;
    for (size_t i = 0; i < w->n_rw; i++)
        if (cordon_path_under(path, w->rw[i]))
            return true;
    return false;
}

static const char *const vkind_names[] = {"directory", "file", "symlink"};

/* The entry for `path`, made with `kind` if new. A path the view already
 * has as another kind keeps the first and says so. Returns the entry, or
 * NULL with *r set (0 for a conflict, -errno). */
static struct ventry *entry_get(struct view *w, const char *path, enum vkind kind, int *r) {
    *r = 0;
    struct ventry *e = cordon_map_get(w->by_path, path);
    if (e) {
        if (e->kind != kind) {
            note(&w->notes, "'%s' is a %s on this host and was used as a %s: kept the %s", path,
                 vkind_names[e->kind], vkind_names[kind], vkind_names[e->kind]);
            return NULL;
        }
        return e;
    }
    if (cordon_grow((void **)&w->v, &w->cap, w->n + 1, sizeof *w->v) < 0) {
        *r = oom(w);
        return NULL;
    }
    e = calloc(1, sizeof *e);
    if (!e || !(e->path = strdup(path)) || cordon_map_put(w->by_path, path, e) < 0) {
        if (e)
            free(e->path);
        free(e);
        *r = oom(w);
        return NULL;
    }
    e->kind = kind;
    w->v[w->n++] = e;
    return e;
}

static int add_symlink(struct view *w, const char *path, const char *text) {
    if (covered_rw(w, path))
        return 0;
    int r;
    struct ventry *e = entry_get(w, path, V_SYMLINK, &r);
    if (!e)
        return r;
    if (!e->target && !(e->target = strdup(text)))
        return oom(w);
    return 0;
}

static int view_link(void *ctx, const char *link, const char *target) {
    return add_symlink(ctx, link, target);
}

/* Where `path` lands on the host (under --host-root), every symlink on the
 * way an entry (cordon_path_walk). 1 if it leads into /proc, /sys or /dev,
 * which every format provides as a whole. */
static int resolve(struct view *w, const char *path, bool follow_last, char *out, size_t size) {
    cordon_error_clear(w->err);
    int r = cordon_path_walk(w->root, path, follow_last, view_link, w, out, size);
    if (r >= 0 || (w->err && w->err->code))
        return r;
    if (r == -ENAMETOOLONG)
        return too_long(w, path);
    if (r == -ELOOP)
        return cordon_error_set(w->err, ELOOP, path, 0, 0, "too many symlinks resolving '%s'",
                                path);
    return cordon_error_set(w->err, -r, out, 0, 0, "cannot read the symlink '%s'", out);
}

/* Where `path` landed is a file or directory on the host: its entry. A
 * landing the host lacks (the input is gone since the recording) is left
 * out and counted. */
static int add_landing(struct view *w, const char *land, enum vkind want, unsigned uses) {
    if (strcmp(land, "/") == 0 || covered_rw(w, land))
        return 0;
    char host[PATH_MAX];
    int r = host_path(w, land, host, sizeof host);
    if (r < 0)
        return r;
    struct stat st;
    if (lstat(host, &st) < 0) {
        if (w->n_gone++ < 8)
            note(&w->notes, "'%s' is in the manifest but not on this host: left out", land);
        return 0;
    }
    enum vkind kind = S_ISDIR(st.st_mode) ? V_DIR : V_FILE;
    if (kind != want)
        note(&w->notes, "'%s' was a %s when recorded and is a %s here: exported as it is here",
             land, vkind_names[want], vkind_names[kind]);
    struct ventry *e = entry_get(w, land, kind, &r);
    if (!e)
        return r;
    e->uses |= uses;
    return 0;
}

static int add_input(struct view *w, const struct cordon_input *in) {
    if (!in->path || in->path[0] != '/')
        return cordon_error_set(w->err, EINVAL, NULL, 0, 0, "input '%s' is not absolute",
                                in->path ? in->path : "");
    char path[PATH_MAX], out[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s", in->path) >= sizeof path)
        return too_long(w, in->path);
    cordon_path_normalize(path);
    if (in->type == CORDON_FT_MISSING || in->type == CORDON_FT_OTHER)
        return 0; /* probes stay missing; fifos and sockets are not inputs one can bind */
    if (cordon_path_is_virtual(path)) {
        w->uses_proc |= cordon_path_under(path, "/proc");
        w->uses_sys |= cordon_path_under(path, "/sys");
        return 0;
    }
    if (covered_rw(w, path))
        return 0;
    int r;
    switch (in->type) {
    case CORDON_FT_DIR:
    case CORDON_FT_FILE:
        r = resolve(w, path, true, out, sizeof out);
        if (r == 0)
            r = add_landing(w, out, in->type == CORDON_FT_DIR ? V_DIR : V_FILE, in->uses);
        return r < 0 ? r : 0;
    case CORDON_FT_SYMLINK:
        /* The link as the host has it (a link recorded but since replaced
         * by a file lands as that file). */
        r = resolve(w, path, false, out, sizeof out);
        if (r != 0)
            return r < 0 ? r : 0;
        if (covered_rw(w, out))
            return 0;
        {
            char host[PATH_MAX], text[PATH_MAX];
            r = host_path(w, out, host, sizeof host);
            if (r < 0)
                return r;
            ssize_t tl = readlink(host, text, sizeof text - 1);
            if (tl > 0) {
                text[tl] = '\0';
                r = add_symlink(w, out, text);
                struct ventry *e = cordon_map_get(w->by_path, out);
                if (e && e->kind == V_SYMLINK)
                    e->uses |= in->uses;
            } else {
                r = add_landing(w, out, V_FILE, in->uses);
            }
            if (r < 0)
                return r;
        }
        /* Used through (exec, stat, open): the rest of the chain and where
         * it ends, or the link dangles in the view. */
        if (in->uses & ~(unsigned)CORDON_USE_READLINK) {
            r = resolve(w, path, true, out, sizeof out);
            if (r == 0) {
                char host[PATH_MAX];
                struct stat st;
                r = host_path(w, out, host, sizeof host);
                if (r == 0 && lstat(host, &st) == 0)
                    r = add_landing(w, out, S_ISDIR(st.st_mode) ? V_DIR : V_FILE,
                                    in->uses & ~(unsigned)CORDON_USE_READLINK);
            }
            return r < 0 ? r : 0;
        }
        return 0;
    case CORDON_FT_MISSING:
    case CORDON_FT_OTHER:
    case CORDON_FT_MAX:
    case CORDON_FT_INVALID:
    default:
        return 0;
    }
}

/* Add a copy of `path` to the vector unless it holds it already. */
static int strv_add(struct view *w, char ***v, size_t *n, size_t *cap, const char *path) {
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i], path) == 0)
            return 0;
    char *s = strdup(path);
    if (!s || cordon_grow((void **)v, cap, *n + 1, sizeof **v) < 0) {
        free(s);
        return oom(w);
    }
    (*v)[(*n)++] = s;
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The directories the build wrote to outside the work tree: for each output,
 * the topmost directory of the chain of directories the build itself made
 * above it (made on the host before the sandbox starts), or the parent
 * directory it wrote into. /tmp is the sandbox's own. */
static int add_outputs(struct view *w) {
    const struct cordon_manifest *m = w->m;
    for (size_t i = 0; i < m->n_outputs; i++) {
        const struct cordon_output *o = &m->outputs[i];
        if (!o->path || o->path[0] != '/')
            continue;
        char dir[PATH_MAX];
        if ((size_t)snprintf(dir, sizeof dir, "%s", o->path) >= sizeof dir)
            return too_long(w, o->path);
        cordon_path_normalize(dir);
        if (cordon_path_is_virtual(dir) || (w->worktree[0] && cordon_path_under(dir, w->worktree)))
            continue;
        if (o->type != CORDON_FT_DIR) {
            char *slash = strrchr(dir, '/');
            if (slash == dir)
                slash[1] = '\0';
            else
                *slash = '\0';
        }
        for (;;) {
            char parent[PATH_MAX];
            memcpy(parent, dir, strlen(dir) + 1);
            char *slash = strrchr(parent, '/');
            if (!slash || slash == parent)
                break;
            *slash = '\0';
            const struct cordon_output *po = cordon_manifest_find_output(m, parent);
            if (!po || po->type != CORDON_FT_DIR)
                break;
            memcpy(dir, parent, strlen(parent) + 1);
        }
        if (strcmp(dir, "/") == 0 || strcmp(dir, "/tmp") == 0) {
            note(&w->notes, "'%s' was written in '%s', which the export cannot make writable%s",
                 o->path, dir, strcmp(dir, "/tmp") == 0 ? " beyond the sandbox's own /tmp" : "");
            continue;
        }
        /* Made by the build: the chain of output directories, made on the
         * host first and writable whole. Else the directory was there
         * before, with files the manifest does not list (ldconfig writes
         * /etc/ld.so.cache): not opened whole. */
        const struct cordon_output *made = cordon_manifest_find_output(m, dir);
        int r;
        if (made && made->type == CORDON_FT_DIR) {
            r = strv_add(w, &w->rw, &w->n_rw, &w->cap_rw, dir);
        } else {
            r = strv_add(w, &w->priv, &w->n_priv, &w->cap_priv, dir);
            if (r == 0 && o->type != CORDON_FT_MISSING && o->type != CORDON_FT_DIR)
                r = strv_add(w, &w->wfiles, &w->n_wfiles, &w->cap_wfiles, o->path);
        }
        if (r < 0)
            return r;
    }
    if (w->n_rw)
        qsort(w->rw, w->n_rw, sizeof *w->rw, cmp_str);
    if (w->n_priv)
        qsort(w->priv, w->n_priv, sizeof *w->priv, cmp_str);
    if (w->n_wfiles)
        qsort(w->wfiles, w->n_wfiles, sizeof *w->wfiles, cmp_str);
    /* None below another, nor below the work tree. */
    size_t k = 0;
    for (size_t i = 0; i < w->n_rw; i++) {
        bool below = w->worktree[0] && cordon_path_under(w->rw[i], w->worktree);
        for (size_t j = 0; j < k && !below; j++)
            below = cordon_path_under(w->rw[i], w->rw[j]);
        if (below)
            free(w->rw[i]);
        else
            w->rw[k++] = w->rw[i];
    }
    w->n_rw = k;
    k = 0;
    for (size_t i = 0; i < w->n_priv; i++) {
        bool below = covered_rw(w, w->priv[i]);
        for (size_t j = 0; j < k && !below; j++)
            below = cordon_path_under(w->priv[i], w->priv[j]);
        if (below)
            free(w->priv[i]);
        else
            w->priv[k++] = w->priv[i];
    }
    w->n_priv = k;
    for (size_t i = 0; i < w->n_priv; i++) {
        if (w->o->format == CORDON_EXPORT_BWRAP)
            note(&w->notes,
                 "'%s' existed before the build, which wrote in it: a private tmpfs "
                 "there (the inputs in it bound on top; what the build writes there "
                 "is not kept)",
                 w->priv[i]);
        else
            note(&w->notes,
                 "'%s' existed before the build, which wrote in it: only the files "
                 "it wrote there are writable, in place",
                 w->priv[i]);
    }
    return 0;
}

static int cmp_entry(const void *a, const void *b) {
    return strcmp((*(struct ventry *const *)a)->path, (*(struct ventry *const *)b)->path);
}

/* Whether directory entry `d` shows exactly what its host directory holds:
 * every name there is an entry of the same kind (a symlink with the same
 * text, a directory that is itself collapsible). Children are decided
 * first (the caller walks in reverse path order). */
static bool collapsible(struct view *w, struct ventry *d) {
    if (strcmp(d->path, "/") == 0 || strcmp(d->path, "/tmp") == 0)
        return false;
    for (size_t i = 0; i < w->n_rw; i++)
        if (cordon_path_under(w->rw[i], d->path))
            return false;
    if (w->worktree[0] && cordon_path_under(w->worktree, d->path))
        return false;
    if (cordon_path_under("/tmp", d->path))
        return false;
    char host[PATH_MAX];
    if (host_path(w, d->path, host, sizeof host) < 0)
        return false;
    DIR *dir = opendir(host);
    if (!dir)
        return false;
    bool ok = true;
    struct dirent *de;
    while (ok && (de = readdir(dir))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char child[PATH_MAX], hchild[PATH_MAX];
        if ((size_t)snprintf(child, sizeof child, "%s/%s", d->path, de->d_name) >= sizeof child ||
            host_path(w, child, hchild, sizeof hchild) < 0) {
            ok = false;
            break;
        }
        struct ventry *e = cordon_map_get(w->by_path, child);
        struct stat st;
        if (!e || lstat(hchild, &st) < 0) {
            ok = false;
        } else if (S_ISLNK(st.st_mode)) {
            char text[PATH_MAX];
            ssize_t tl = readlink(hchild, text, sizeof text - 1);
            ok = e->kind == V_SYMLINK && tl > 0 && e->target &&
                 (text[tl] = '\0', strcmp(text, e->target) == 0);
        } else if (S_ISDIR(st.st_mode)) {
            ok = e->kind == V_DIR && e->collapsed;
        } else {
            ok = e->kind == V_FILE;
        }
    }
    closedir(dir);
    return ok;
}

static void collapse(struct view *w) {
    for (size_t i = w->n; i-- > 0;)
        if (w->v[i]->kind == V_DIR)
            w->v[i]->collapsed = collapsible(w, w->v[i]);
    /* Only the topmost collapsed directory is emitted. */
    const char *top = NULL;
    for (size_t i = 0; i < w->n; i++) {
        struct ventry *e = w->v[i];
        if (top && cordon_path_under(e->path, top) && strcmp(e->path, top) != 0) {
            e->inside = true;
            continue;
        }
        top = e->kind == V_DIR && e->collapsed ? e->path : NULL;
    }
}

static void view_release(struct view *w) {
    for (size_t i = 0; i < w->n; i++) {
        free(w->v[i]->path);
        free(w->v[i]->target);
        free(w->v[i]);
    }
    free(w->v);
    for (size_t i = 0; i < w->n_rw; i++)
        free(w->rw[i]);
    free(w->rw);
    for (size_t i = 0; i < w->n_priv; i++)
        free(w->priv[i]);
    free(w->priv);
    for (size_t i = 0; i < w->n_wfiles; i++)
        free(w->wfiles[i]);
    free(w->wfiles);
    cordon_map_free(w->by_path);
    notes_release(&w->notes);
}

static int view_build(struct view *w) {
    const struct cordon_manifest *m = w->m;
    w->by_path = cordon_map_new(m->n_inputs * 2 + 16);
    if (!w->by_path)
        return oom(w);
    const char *wt = m->worktree && m->worktree[0] == '/' ? m->worktree : m->command.cwd;
    if (wt && wt[0] == '/') {
        if ((size_t)snprintf(w->worktree, sizeof w->worktree, "%s", wt) >= sizeof w->worktree)
            return too_long(w, wt);
        cordon_path_normalize(w->worktree);
        if (strcmp(w->worktree, "/") == 0)
            return cordon_error_set(w->err, EINVAL, NULL, 0, 0,
                                    "the work tree is '/': nothing would be confined");
    }
    const char *cwd = m->command.cwd && m->command.cwd[0] == '/' ? m->command.cwd : w->worktree;
    snprintf(w->cwd, sizeof w->cwd, "%s", cwd[0] ? cwd : "/");
    cordon_path_normalize(w->cwd);
    int r = add_outputs(w);
    if (r < 0)
        return r;
    for (size_t i = 0; i < m->n_inputs; i++) {
        r = add_input(w, &m->inputs[i]);
        if (r < 0)
            return r;
    }
    if (w->n_gone > 8)
        note(&w->notes, "%zu more inputs are not on this host: left out", w->n_gone - 8);
    if (w->n)
        qsort(w->v, w->n, sizeof *w->v, cmp_entry);
    if (w->o->collapse)
        collapse(w);
    for (size_t i = 0; i < w->n; i++) {
        const struct ventry *e = w->v[i];
        w->n_files += e->kind == V_FILE;
        w->n_dirs += e->kind == V_DIR;
        w->n_symlinks += e->kind == V_SYMLINK;
    }
    return w->notes.failed ? oom(w) : 0;
}

/* The command the export runs by default. */
static char *const *default_argv(const struct cordon_export_options *o,
                                 const struct cordon_manifest *m) {
    if (o->argv && o->argv[0])
        return o->argv;
    if (m && m->command.argv && m->command.argv[0])
        return m->command.argv;
    return NULL;
}

static void sh_words(struct cordon_strbuf *sb, char *const *argv) {
    for (size_t i = 0; argv && argv[i]; i++) {
        if (i)
            cordon_strbuf_adds(sb, " ");
        cordon_export_sh_quote(sb, argv[i]);
    }
}

static void header_source(struct cordon_strbuf *sb, const struct cordon_export_options *o) {
    cordon_strbuf_adds(sb, "exported by cordon from ");
    comment_text(sb, o->source ? o->source : "(unnamed)");
    cordon_strbuf_adds(sb, ".\n");
}

/* ---- bwrap -------------------------------------------------------------- */

/* One bwrap option with its operands, placed by the path it mounts. */
struct op {
    const char *key; /* the path in the sandbox (borrowed) */
    int rank;        /* among ops on one path: tmpfs, dir, bind */
    char *text;
};

static int cmp_op(const void *a, const void *b) {
    const struct op *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : x->rank - y->rank;
}

struct ops {
    struct op *v;
    size_t n, cap;
    bool failed;
};

static void op_add(struct ops *ops, const char *key, int rank, struct cordon_strbuf *text) {
    char *t = cordon_strbuf_detach(text);
    if (!t || cordon_grow((void **)&ops->v, &ops->cap, ops->n + 1, sizeof *ops->v) < 0) {
        free(t);
        ops->failed = true;
        return;
    }
    ops->v[ops->n++] = (struct op){key, rank, t};
}

/* "--flag A B" with A and B quoted. */
static void op_add2(struct ops *ops, const char *key, int rank, const char *flag, const char *a,
                    const char *b) {
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    cordon_strbuf_adds(&sb, flag);
    cordon_strbuf_adds(&sb, " ");
    cordon_export_sh_quote(&sb, a);
    if (b) {
        cordon_strbuf_adds(&sb, " ");
        cordon_export_sh_quote(&sb, b);
    }
    op_add(ops, key, rank, &sb);
}

static void ops_release(struct ops *ops) {
    for (size_t i = 0; i < ops->n; i++)
        free(ops->v[i].text);
    free(ops->v);
}

static void emit_ops(struct cordon_strbuf *sb, struct ops *ops) {
    if (ops->n)
        qsort(ops->v, ops->n, sizeof *ops->v, cmp_op);
    for (size_t i = 0; i < ops->n; i++)
        cordon_strbuf_addf(sb, "    %s \\\n", ops->v[i].text);
}

static bool covered_by_view_dir(const struct view *w, const char *path) {
    const struct ventry *e = cordon_map_get(w->by_path, path);
    return (e && e->kind == V_DIR) || covered_rw(w, path) || cordon_path_under(path, "/tmp");
}

static int bwrap_manifest(struct view *w, struct cordon_strbuf *sb) {
    const struct cordon_export_options *o = w->o;
    bool net = o->network == 1;
    char *const *argv = default_argv(o, w->m);
    note(&w->notes,
         "the environment is the caller's: the recorded one is not replayed (its secrets "
         "were redacted)");
    note(&w->notes, "directories are made by bubblewrap (mode 0755, empty but for what is bound in "
                    "them); a listed directory shows only the inputs it holds");
    if (w->n_rw)
        note(&w->notes, "the outputs' directories outside the work tree are made on the host "
                        "first and bound whole, read-write");
    if (w->uses_sys)
        note(&w->notes, "/sys is bound whole, read-only (the build read from it)");

    struct ops ops = {0};
    op_add2(&ops, "/tmp", 0, "--tmpfs", "/tmp", NULL);
    for (size_t i = 0; i < w->n; i++) {
        const struct ventry *e = w->v[i];
        if (e->inside)
            continue;
        switch (e->kind) {
        case V_DIR:
            if (strcmp(e->path, "/") == 0 || strcmp(e->path, "/tmp") == 0)
                break;
            if (e->collapsed)
                op_add2(&ops, e->path, 2, "--ro-bind", e->path, e->path);
            else
                op_add2(&ops, e->path, 1, "--dir", e->path, NULL);
            break;
        case V_FILE:
            op_add2(&ops, e->path, 2, "--ro-bind", e->path, e->path);
            break;
        case V_SYMLINK:
            op_add2(&ops, e->path, 2, "--symlink", e->target, e->path);
            break;
        }
    }
    if (w->worktree[0]) {
        struct cordon_strbuf t = CORDON_STRBUF_INIT;
        cordon_strbuf_adds(&t, "--bind \"$worktree\" ");
        cordon_export_sh_quote(&t, w->worktree);
        op_add(&ops, w->worktree, 3, &t);
    }
    for (size_t i = 0; i < w->n_rw; i++)
        op_add2(&ops, w->rw[i], 3, "--bind", w->rw[i], w->rw[i]);
    for (size_t i = 0; i < w->n_priv; i++)
        op_add2(&ops, w->priv[i], 0, "--tmpfs", w->priv[i], NULL);
    if (!covered_by_view_dir(w, w->cwd) && strcmp(w->cwd, "/") != 0)
        op_add2(&ops, w->cwd, 1, "--dir", w->cwd, NULL);
    if (w->uses_sys)
        op_add2(&ops, "/sys", 2, "--ro-bind", "/sys", "/sys");
    if (ops.failed || w->notes.failed) {
        ops_release(&ops);
        return oom(w);
    }

    cordon_strbuf_adds(sb, "#!/bin/sh\n# bubblewrap script ");
    header_source(sb, o);
    cordon_strbuf_addf(sb,
                       "# The build sees exactly the manifest's inputs, read-only (%zu files, %zu "
                       "directories,\n# %zu symlinks), the work tree and the outputs' directories "
                       "read-write, a private\n# /tmp, /dev and /proc, %s.\n",
                       w->n_files, w->n_dirs, w->n_symlinks, net ? "the network" : "no network");
    cordon_strbuf_adds(sb, "# Run: sh THIS [COMMAND [ARGS...]] (default: the recorded command, in "
                           "the recorded\n# directory). CORDON_WORKTREE=DIR shows DIR (a fresh "
                           "copy of the work tree)\n# at the recorded work tree's path.\n");
    emit_notes(sb, &w->notes, "# ");
    cordon_strbuf_adds(sb, "set -e\n");
    if (w->worktree[0]) {
        cordon_strbuf_adds(sb, "worktree=");
        cordon_export_sh_quote(sb, w->worktree);
        cordon_strbuf_adds(sb,
                           "\nif [ -n \"${CORDON_WORKTREE-}\" ]; then worktree=$CORDON_WORKTREE; "
                           "fi\n");
    }
    if (w->n_rw) {
        cordon_strbuf_adds(sb, "mkdir -p --");
        for (size_t i = 0; i < w->n_rw; i++) {
            cordon_strbuf_adds(sb, " ");
            cordon_export_sh_quote(sb, w->rw[i]);
        }
        cordon_strbuf_adds(sb, "\n");
    }
    if (argv) {
        cordon_strbuf_adds(sb, "if [ $# -eq 0 ]; then set -- ");
        sh_words(sb, argv);
        cordon_strbuf_adds(sb, "; fi\n");
    }
    cordon_strbuf_adds(sb, "exec bwrap \\\n    --unshare-all \\\n");
    if (net)
        cordon_strbuf_adds(sb, "    --share-net \\\n");
    cordon_strbuf_adds(sb, "    --die-with-parent \\\n    --dev /dev \\\n    --proc /proc \\\n");
    emit_ops(sb, &ops);
    cordon_strbuf_adds(sb, "    --remount-ro / \\\n    --chdir ");
    cordon_export_sh_quote(sb, w->cwd);
    cordon_strbuf_adds(sb, " \\\n    -- \"$@\"\n");
    ops_release(&ops);
    return 0;
}

/* ---- sandbox-exec (SBPL) ------------------------------------------------ */

static void sbpl_rule(struct cordon_strbuf *sb, const char *allow, const char *match,
                      const char *path) {
    cordon_strbuf_addf(sb, "(%s (%s ", allow, match);
    c_quote(sb, path);
    cordon_strbuf_adds(sb, "))\n");
}

static const char sbpl_base[] = "(version 1)\n"
                                "(deny default)\n"
                                "(allow process-fork signal sysctl-read mach-lookup "
                                "ipc-posix-shm iokit-open)\n"
                                "(allow file-read-metadata)\n";

static int sbpl_manifest(struct view *w, struct cordon_strbuf *sb) {
    const struct cordon_export_options *o = w->o;
    char *const *argv = default_argv(o, w->m);
    note(&w->notes, "every path's metadata is readable (file-read-metadata): a missing probe finds "
                    "what the host has; the content of what the manifest does not list is refused "
                    "(EPERM), not absent");
    note(&w->notes, "/tmp, macOS's per-user temporary directories and /dev are the real ones, "
                    "read-write");
    note(&w->notes, "paths are as recorded: macOS shows /tmp, /var and /etc through /private, so "
                    "a manifest recorded elsewhere needs its paths to match this host");
    if (w->notes.failed)
        return oom(w);
    cordon_strbuf_adds(sb, ";; macOS sandbox-exec profile ");
    header_source(sb, o);
    cordon_strbuf_adds(sb, ";; Run: sandbox-exec -f THIS COMMAND [ARGS...]");
    if (argv) {
        cordon_strbuf_adds(sb, " (recorded: ");
        struct cordon_strbuf words = CORDON_STRBUF_INIT;
        sh_words(&words, argv);
        comment_text(sb, words.buf);
        cordon_strbuf_release(&words);
        cordon_strbuf_adds(sb, ", in ");
        comment_text(sb, w->cwd);
        cordon_strbuf_adds(sb, ")");
    }
    cordon_strbuf_adds(sb, "\n");
    emit_notes(sb, &w->notes, ";; ");
    cordon_strbuf_adds(sb, sbpl_base);
    if (o->network == 1)
        cordon_strbuf_adds(sb, "(allow network*)\n");
    for (size_t i = 0; i < w->n; i++) {
        const struct ventry *e = w->v[i];
        if (e->inside)
            continue;
        bool exec = e->uses & (CORDON_USE_EXEC | CORDON_USE_LOAD);
        switch (e->kind) {
        case V_DIR:
            if (e->collapsed)
                sbpl_rule(sb, "allow file-read*", "subpath", e->path);
            else if (e->uses & CORDON_USE_LIST)
                sbpl_rule(sb, "allow file-read*", "literal", e->path);
            break;
        case V_FILE:
        case V_SYMLINK:
            sbpl_rule(sb, exec ? "allow file-read* process-exec" : "allow file-read*", "literal",
                      e->path);
            break;
        }
    }
    if (w->worktree[0])
        sbpl_rule(sb, "allow file-read* file-write* process-exec", "subpath", w->worktree);
    for (size_t i = 0; i < w->n_rw; i++)
        sbpl_rule(sb, "allow file-read* file-write* process-exec", "subpath", w->rw[i]);
    for (size_t i = 0; i < w->n_wfiles; i++)
        sbpl_rule(sb, "allow file-read* file-write*", "literal", w->wfiles[i]);
    for (const char *const *t =
             (const char *const[]){"/tmp", "/private/tmp", "/private/var/folders", "/dev", NULL};
         *t; t++)
        sbpl_rule(sb, "allow file-read* file-write*", "subpath", *t);
    return 0;
}

/* ---- unveil ------------------------------------------------------------- */

/* What a build's programs may do once exec'd. OpenBSD keeps the unveils
 * across execve(2) only for a process with execpromises (kern_exec.c clears
 * them otherwise), so the program pledges these for its children: broad,
 * since compilers, shells and make need most of them; "error" turns a
 * violation into an error instead of a kill. */
static const char pledge_promises[] =
    "stdio rpath wpath cpath dpath tmppath fattr chown flock unix "
    "getpw sendfd recvfd tape tty proc exec prot_exec ps vminfo "
    "id unveil error";

static void unveil_call(struct cordon_strbuf *sb, const char *pathexpr, const char *perms,
                        bool quote) {
    struct cordon_strbuf p = CORDON_STRBUF_INIT;
    if (quote)
        c_quote(&p, pathexpr);
    else
        cordon_strbuf_adds(&p, pathexpr);
    cordon_strbuf_addf(sb, "    if (unveil(%s, \"%s\") == -1 && errno != ENOENT)\n", p.buf, perms);
    cordon_strbuf_addf(sb, "        err(125, \"unveil %%s\", %s);\n", p.buf);
    cordon_strbuf_release(&p);
}

static void c_argv(struct cordon_strbuf *sb, char *const *argv) {
    cordon_strbuf_adds(sb, "static char *const default_argv[] = {");
    for (size_t i = 0; argv && argv[i]; i++) {
        c_quote(sb, argv[i]);
        cordon_strbuf_adds(sb, ", ");
    }
    cordon_strbuf_adds(sb, "NULL};\n");
}

static const char unveil_main_head[] =
    "int\n"
    "main(int argc, char *argv[])\n"
    "{\n"
    "    char *const *args = argc > 1 ? argv + 1 : default_argv;\n"
    "    if (!args[0])\n"
    "        errx(125, \"usage: %s COMMAND [ARGS...]\", argv[0]);\n";

static const char unveil_main_tail[] = "    if (unveil(NULL, NULL) == -1)\n"
                                       "        err(125, \"unveil\");\n"
                                       "    if (pledge(NULL, EXECPROMISES) == -1)\n"
                                       "        err(125, \"pledge\");\n"
                                       "    execvp(args[0], args);\n"
                                       "    err(errno == ENOENT ? 127 : 126, \"%s\", args[0]);\n"
                                       "}\n";

static void unveil_prelude(struct cordon_strbuf *sb, bool net) {
    cordon_strbuf_adds(sb, " */\n#include <err.h>\n#include <errno.h>\n#include <stdlib.h>\n"
                           "#include <unistd.h>\n\n");
    cordon_strbuf_addf(sb, "#define EXECPROMISES \"%s%s\"\n\n", pledge_promises,
                       net ? " inet dns" : "");
}

static int unveil_manifest(struct view *w, struct cordon_strbuf *sb) {
    const struct cordon_export_options *o = w->o;
    char *const *argv = default_argv(o, w->m);
    note(&w->notes, "a directory the build listed is unveiled \"r\", which also opens what is "
                    "below it");
    note(&w->notes, "/tmp is the real one (rwc), and of /dev only /dev/null (rw)");
    note(&w->notes, "the build's programs run pledged with EXECPROMISES: without execpromises "
                    "OpenBSD drops the unveils at exec");
    if (w->notes.failed)
        return oom(w);
    cordon_strbuf_adds(sb, "/*\n * OpenBSD unveil(2) program ");
    header_source(sb, o);
    cordon_strbuf_adds(sb, " * Build: cc -o cordon-unveil THIS.c; run: ./cordon-unveil [COMMAND "
                           "[ARGS...]]\n * (default: the recorded command; run it in ");
    comment_text(sb, w->cwd);
    cordon_strbuf_adds(sb, ").\n * CORDON_WORKTREE=DIR unveils DIR (a fresh copy) instead of the "
                           "recorded work tree.\n");
    emit_notes(sb, &w->notes, " * ");
    unveil_prelude(sb, o->network == 1);
    c_argv(sb, argv);
    cordon_strbuf_adds(sb, "\n");
    cordon_strbuf_adds(sb, unveil_main_head);
    if (w->worktree[0]) {
        cordon_strbuf_adds(sb, "    const char *worktree = getenv(\"CORDON_WORKTREE\");\n"
                               "    if (!worktree || !*worktree)\n        worktree = ");
        c_quote(sb, w->worktree);
        cordon_strbuf_adds(sb, ";\n");
        unveil_call(sb, "worktree", "rwxc", false);
    }
    for (size_t i = 0; i < w->n_rw; i++)
        unveil_call(sb, w->rw[i], "rwxc", true);
    for (size_t i = 0; i < w->n_wfiles; i++)
        unveil_call(sb, w->wfiles[i], "rwc", true);
    unveil_call(sb, "/tmp", "rwc", true);
    unveil_call(sb, "/dev/null", "rw", true);
    for (size_t i = 0; i < w->n; i++) {
        const struct ventry *e = w->v[i];
        if (e->inside)
            continue;
        bool exec = e->uses & (CORDON_USE_EXEC | CORDON_USE_LOAD);
        if (e->kind == V_DIR && !e->collapsed && !(e->uses & CORDON_USE_LIST))
            continue; /* the way to an unveiled path is visible anyway */
        unveil_call(sb, e->path, exec ? "rx" : "r", true);
    }
    cordon_strbuf_adds(sb, unveil_main_tail);
    return 0;
}

/* ---- Landlock ----------------------------------------------------------- */

static const char landlock_prelude[] =
    " */\n"
    "#define _GNU_SOURCE\n"
    "#include <err.h>\n"
    "#include <errno.h>\n"
    "#include <fcntl.h>\n"
    "#include <ftw.h>\n"
    "#include <linux/landlock.h>\n"
    "#include <signal.h>\n"
    "#include <stdio.h>\n"
    "#include <stdlib.h>\n"
    "#include <string.h>\n"
    "#include <sys/prctl.h>\n"
    "#include <sys/stat.h>\n"
    "#include <sys/syscall.h>\n"
    "#include <sys/wait.h>\n"
    "#include <unistd.h>\n"
    "\n"
    "/* Rights of later ABIs, for headers older than the kernel. */\n"
    "#ifndef LANDLOCK_CREATE_RULESET_VERSION\n"
    "#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)\n"
    "#endif\n"
    "#ifndef LANDLOCK_ACCESS_FS_REFER\n"
    "#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)\n"
    "#endif\n"
    "#ifndef LANDLOCK_ACCESS_FS_TRUNCATE\n"
    "#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)\n"
    "#endif\n"
    "\n"
    "#define R_FILE (LANDLOCK_ACCESS_FS_READ_FILE)\n"
    "#define X_FILE (R_FILE | LANDLOCK_ACCESS_FS_EXECUTE)\n"
    "#define R_DIR (LANDLOCK_ACCESS_FS_READ_DIR)\n"
    "#define READ (X_FILE | R_DIR)\n"
    "#define RW_FILE (R_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE)\n"
    "#define ALL_V1 (READ | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | \\\n"
    "                LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR | \\\n"
    "                LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | \\\n"
    "                LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | \\\n"
    "                LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM)\n"
    "#define ALL (ALL_V1 | LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE)\n"
    "/* What a rule on a file (not a directory) may carry. */\n"
    "#define FILE_RIGHTS (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \\\n"
    "                     LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE)\n"
    "\n"
    "struct rule {\n"
    "    const char *path;\n"
    "    __u64 access;\n"
    "};\n"
    "\n"
    "static int ruleset;\n"
    "static __u64 handled;\n"
    "\n"
    "static void\n"
    "allow(const char *path, __u64 access)\n"
    "{\n"
    "    struct landlock_path_beneath_attr rule = {0};\n"
    "    struct stat st;\n"
    "    int fd = open(path, O_PATH | O_CLOEXEC);\n"
    "    if (fd < 0)\n"
    "        return; /* a path this machine lacks */\n"
    "    if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))\n"
    "        access &= FILE_RIGHTS;\n"
    "    rule.parent_fd = fd;\n"
    "    rule.allowed_access = access & handled;\n"
    "    if (rule.allowed_access &&\n"
    "        syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0))\n"
    "        err(125, \"landlock_add_rule '%s'\", path);\n"
    "    close(fd);\n"
    "}\n"
    "\n";

static const char landlock_make_dirs[] =
    "/* mkdir -p: a directory the build writes in must exist to be granted. */\n"
    "static void\n"
    "make_dirs(const char *path)\n"
    "{\n"
    "    char buf[4096];\n"
    "    if (strlen(path) >= sizeof buf)\n"
    "        return;\n"
    "    strcpy(buf, path);\n"
    "    for (char *s = buf + 1;; s++) {\n"
    "        if (*s == '/' || !*s) {\n"
    "            char c = *s;\n"
    "            *s = '\\0';\n"
    "            if (mkdir(buf, 0755) < 0 && errno != EEXIST)\n"
    "                err(125, \"cannot create '%s'\", buf);\n"
    "            *s = c;\n"
    "            if (!c)\n"
    "                break;\n"
    "        }\n"
    "    }\n"
    "}\n"
    "\n";

static const char landlock_main_head[] =
    "int\n"
    "main(int argc, char *argv[])\n"
    "{\n"
    "    char *const *args = argc > 1 ? argv + 1 : default_argv;\n"
    "    if (!args[0])\n"
    "        errx(125, \"usage: %s COMMAND [ARGS...]\", argv[0]);\n"
    "    /* Best effort: the rights this kernel's ABI knows (1: Linux 5.13, 2: REFER\n"
    "     * in 5.19, 3: TRUNCATE in 6.2). Without REFER, ABI 1 refuses every rename\n"
    "     * across directories. */\n"
    "    int abi = syscall(SYS_landlock_create_ruleset, NULL, 0, "
    "LANDLOCK_CREATE_RULESET_VERSION);\n"
    "    if (abi < 0) {\n"
    "        if (errno == ENOSYS)\n"
    "            errx(125, \"landlock: not in this kernel (needs Linux 5.13 built with "
    "CONFIG_SECURITY_LANDLOCK)\");\n"
    "        if (errno == EOPNOTSUPP)\n"
    "            errx(125, \"landlock: disabled at boot (add landlock to the lsm= kernel "
    "parameter)\");\n"
    "        err(125, \"landlock_create_ruleset\");\n"
    "    }\n"
    "    handled = ALL_V1;\n"
    "    if (abi >= 2)\n"
    "        handled |= LANDLOCK_ACCESS_FS_REFER;\n"
    "    if (abi >= 3)\n"
    "        handled |= LANDLOCK_ACCESS_FS_TRUNCATE;\n"
    "    struct landlock_ruleset_attr attr = {.handled_access_fs = handled};\n"
    "    ruleset = syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);\n"
    "    if (ruleset < 0)\n"
    "        err(125, \"landlock_create_ruleset\");\n";

/* Landlock cannot make a private /tmp as bubblewrap's tmpfs does, and
 * granting the real one would open every file in it: the build gets a
 * fresh directory as TMPDIR instead, and this process outlives the build to
 * remove it. */
static const char landlock_private_tmp[] =
    "static int\n"
    "remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)\n"
    "{\n"
    "    (void)st;\n"
    "    (void)flag;\n"
    "    (void)ftw;\n"
    "    remove(path);\n"
    "    return 0;\n"
    "}\n"
    "\n"
    "/* A private temporary directory in place of /tmp: the build runs in a child\n"
    " * with TMPDIR set to it; this process waits, removes it and exits with the\n"
    " * build's status. Returns the directory, in the child. */\n"
    "static const char *\n"
    "private_tmp(void)\n"
    "{\n"
    "    static char dir[4096];\n"
    "    const char *base = getenv(\"TMPDIR\");\n"
    "    if (!base || !*base)\n"
    "        base = \"/tmp\";\n"
    "    if ((size_t)snprintf(dir, sizeof dir, \"%s/cordon-landlock.XXXXXX\", base) >= sizeof "
    "dir)\n"
    "        errx(125, \"TMPDIR is too long\");\n"
    "    if (!mkdtemp(dir))\n"
    "        err(125, \"cannot create a directory in '%s'\", base);\n"
    "    if (setenv(\"TMPDIR\", dir, 1))\n"
    "        err(125, \"setenv\");\n"
    "    pid_t pid = fork();\n"
    "    if (pid < 0)\n"
    "        err(125, \"fork\");\n"
    "    if (pid == 0)\n"
    "        return dir;\n"
    "    signal(SIGINT, SIG_IGN);\n"
    "    signal(SIGQUIT, SIG_IGN);\n"
    "    int status;\n"
    "    while (waitpid(pid, &status, 0) < 0)\n"
    "        if (errno != EINTR)\n"
    "            err(125, \"waitpid\");\n"
    "    nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);\n"
    "    exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));\n"
    "}\n"
    "\n";

static const char landlock_main_tail[] =
    "    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)\n"
    "        allow(rules[i].path, rules[i].access);\n"
    "    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))\n"
    "        err(125, \"prctl(PR_SET_NO_NEW_PRIVS)\");\n"
    "    if (syscall(SYS_landlock_restrict_self, ruleset, 0))\n"
    "        err(125, \"landlock_restrict_self\");\n"
    "    close(ruleset);\n"
    "    execvp(args[0], args);\n"
    "    err(errno == ENOENT ? 127 : 126, \"%s\", args[0]);\n"
    "}\n";

static void ll_rule(struct cordon_strbuf *sb, const char *path, const char *rights) {
    cordon_strbuf_adds(sb, "    {");
    c_quote(sb, path);
    cordon_strbuf_addf(sb, ", %s},\n", rights);
}

static int landlock_manifest(struct view *w, struct cordon_strbuf *sb) {
    const struct cordon_export_options *o = w->o;
    char *const *argv = default_argv(o, w->m);
    note(&w->notes, "Landlock does not confine stat or the walk to a path: what the manifest does "
                    "not list is refused (EACCES) when opened, and a missing probe finds what the "
                    "host has");
    note(&w->notes, "a directory the build listed may be listed below too (READ_DIR is granted "
                    "beneath)");
    note(&w->notes, "/tmp: the build gets a private directory under $TMPDIR (or /tmp) as TMPDIR, "
                    "removed when it ends; a program that ignores TMPDIR and writes in /tmp "
                    "itself is refused");
    note(&w->notes, "/dev is the real one, read-write; /proc is readable");
    if (o->network == 0)
        note(&w->notes, "the network is not confined (Landlock's TCP rules need ABI 4 and cover "
                        "only TCP)");
    if (w->notes.failed)
        return oom(w);
    cordon_strbuf_adds(sb, "/*\n * Landlock program ");
    header_source(sb, o);
    cordon_strbuf_adds(sb, " * Build: cc -o cordon-landlock THIS.c; run: ./cordon-landlock "
                           "[COMMAND [ARGS...]]\n * (default: the recorded command; run it in ");
    comment_text(sb, w->cwd);
    cordon_strbuf_adds(sb, ").\n * CORDON_WORKTREE=DIR grants DIR (a fresh copy) instead of the "
                           "recorded work tree.\n");
    emit_notes(sb, &w->notes, " * ");
    cordon_strbuf_adds(sb, landlock_prelude);
    if (w->n_rw)
        cordon_strbuf_adds(sb, landlock_make_dirs);
    cordon_strbuf_adds(sb, landlock_private_tmp);
    c_argv(sb, argv);
    cordon_strbuf_adds(sb, "\n/* The work tree comes first, in main. */\nstatic const struct rule "
                           "rules[] = {\n");
    for (size_t i = 0; i < w->n_rw; i++)
        ll_rule(sb, w->rw[i], "ALL");
    for (size_t i = 0; i < w->n_wfiles; i++)
        ll_rule(sb, w->wfiles[i], "RW_FILE");
    ll_rule(sb, "/dev", "ALL");
    ll_rule(sb, "/proc", "READ");
    if (w->uses_sys)
        ll_rule(sb, "/sys", "READ");
    for (size_t i = 0; i < w->n; i++) {
        const struct ventry *e = w->v[i];
        if (e->inside)
            continue;
        bool exec = e->uses & (CORDON_USE_EXEC | CORDON_USE_LOAD);
        bool content = cordon_use_needs_content(e->uses);
        switch (e->kind) {
        case V_DIR:
            if (e->collapsed)
                ll_rule(sb, e->path, "READ");
            else if (e->uses & CORDON_USE_LIST)
                ll_rule(sb, e->path, "R_DIR");
            break;
        case V_FILE:
            if (content)
                ll_rule(sb, e->path, exec ? "X_FILE" : "R_FILE");
            break;
        case V_SYMLINK:
            break; /* the rule is on what the link leads to, an entry of its own */
        }
    }
    cordon_strbuf_adds(sb, "};\n\n");
    cordon_strbuf_adds(sb, landlock_main_head);
    if (w->worktree[0]) {
        cordon_strbuf_adds(sb, "    const char *worktree = getenv(\"CORDON_WORKTREE\");\n"
                               "    if (!worktree || !*worktree)\n        worktree = ");
        c_quote(sb, w->worktree);
        cordon_strbuf_adds(sb, ";\n    allow(worktree, ALL);\n");
    }
    cordon_strbuf_adds(sb, "    allow(private_tmp(), ALL);\n");
    for (size_t i = 0; i < w->n_rw; i++) {
        cordon_strbuf_adds(sb, "    make_dirs(");
        c_quote(sb, w->rw[i]);
        cordon_strbuf_adds(sb, ");\n");
    }
    cordon_strbuf_adds(sb, landlock_main_tail);
    return 0;
}

int cordon_export_manifest(const struct cordon_manifest *m, const struct cordon_export_options *o,
                           char **ret, struct cordon_error *err) {
    if (o->format < 0 || o->format >= CORDON_EXPORT_FORMAT_MAX)
        return cordon_error_set(err, EINVAL, NULL, 0, 0, "unknown export format");
    char root[PATH_MAX] = "";
    if (o->host_root && strcmp(o->host_root, "/") != 0) {
        if ((size_t)snprintf(root, sizeof root, "%s", o->host_root) >= sizeof root)
            return cordon_error_set(err, ENAMETOOLONG, o->host_root, 0, 0, "'%s': name too long",
                                    o->host_root);
        cordon_path_normalize(root);
    }
    struct view w = {.o = o, .m = m, .err = err, .root = root};
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    int r = view_build(&w);
    if (r == 0) {
        switch (o->format) {
        case CORDON_EXPORT_BWRAP:
            r = bwrap_manifest(&w, &sb);
            break;
        case CORDON_EXPORT_SANDBOX_EXEC:
            r = sbpl_manifest(&w, &sb);
            break;
        case CORDON_EXPORT_UNVEIL:
            r = unveil_manifest(&w, &sb);
            break;
        case CORDON_EXPORT_LANDLOCK:
            r = landlock_manifest(&w, &sb);
            break;
        case CORDON_EXPORT_FORMAT_MAX:
        case CORDON_EXPORT_FORMAT_INVALID:
        default:
            r = -EINVAL;
            break;
        }
    }
    view_release(&w);
    if (r == 0 && sb.failed)
        r = cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    if (r < 0) {
        cordon_strbuf_release(&sb);
        return r;
    }
    *ret = cordon_strbuf_detach(&sb);
    return 0;
}

/* ---- policies ----------------------------------------------------------- */

struct prules {
    const struct cordon_rule **v; /* the effective rules, by path */
    size_t n;
};

static int cmp_rule(const void *a, const void *b) {
    return strcmp((*(const struct cordon_rule *const *)a)->path,
                  (*(const struct cordon_rule *const *)b)->path);
}

/* One rule per path: the last loaded (a command-line flag overrides a
 * profile), sorted by path so that a directory comes before what it holds. */
static int prules_build(const struct cordon_policy *p, struct prules *ret) {
    ret->n = 0;
    ret->v = calloc(p->n_rules + 1, sizeof *ret->v);
    if (!ret->v)
        return -ENOMEM;
    for (size_t i = 0; i < p->n_rules; i++) {
        bool later = false;
        for (size_t j = i + 1; j < p->n_rules && !later; j++)
            later = strcmp(p->rules[i].path, p->rules[j].path) == 0;
        if (!later && p->rules[i].path)
            ret->v[ret->n++] = &p->rules[i];
    }
    if (ret->n)
        qsort(ret->v, ret->n, sizeof *ret->v, cmp_rule);
    return 0;
}

/* The nearest rule above `r` (its path a strict prefix), or NULL. */
static const struct cordon_rule *prules_parent(const struct prules *pr,
                                               const struct cordon_rule *r) {
    const struct cordon_rule *best = NULL;
    for (size_t i = 0; i < pr->n; i++) {
        const struct cordon_rule *q = pr->v[i];
        if (q != r && strcmp(q->path, r->path) != 0 && cordon_path_under(r->path, q->path) &&
            (!best || strlen(q->path) > strlen(best->path)))
            best = q;
    }
    return best;
}

static bool policy_network(const struct cordon_policy *p, const struct cordon_export_options *o) {
    return o->network >= 0 ? o->network == 1 : p->network != 0;
}

/* `first` opens the file (a shebang, a comment's start) and `lead` starts
 * each comment line. */
static void policy_header(struct cordon_strbuf *sb, const struct cordon_policy *p,
                          const struct cordon_export_options *o, const char *first,
                          const char *lead, const char *what) {
    cordon_strbuf_addf(sb, "%s%s%s ", first, lead, what);
    header_source(sb, o);
    if (p->description) {
        cordon_strbuf_addf(sb, "%sPolicy: ", lead);
        comment_text(sb, p->description);
        cordon_strbuf_adds(sb, "\n");
    }
}

/* What a path rule is on this host: 'd' directory, 'f' anything else, 0
 * absent. */
static char host_kind(const struct cordon_export_options *o, const char *path) {
    char host[PATH_MAX];
    const char *root = o->host_root && strcmp(o->host_root, "/") != 0 ? o->host_root : "";
    if ((size_t)snprintf(host, sizeof host, "%s%s", root, path) >= sizeof host)
        return 0;
    struct stat st;
    if (stat(host, &st) < 0)
        return 0;
    return S_ISDIR(st.st_mode) ? 'd' : 'f';
}

static bool env_glob_plain(const char *s) {
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '*' || *s == '?'))
            return false;
    return true;
}

/* A case pattern for the globs of `op` rules: "A|B*"; false if none. */
static bool env_patterns(struct cordon_strbuf *sb, const struct cordon_policy *p,
                         enum cordon_env_op op) {
    bool any = false;
    for (size_t i = 0; i < p->n_env; i++) {
        if (p->env[i].op != op || !p->env[i].name)
            continue;
        if (any)
            cordon_strbuf_adds(sb, "|");
        if (env_glob_plain(p->env[i].name))
            cordon_strbuf_adds(sb, p->env[i].name);
        else
            cordon_export_sh_quote(sb, p->env[i].name);
        any = true;
    }
    return any;
}

/* The environment rules as shell, in order: bwrap's --unsetenv takes no
 * patterns, so the script applies them to its own environment, which
 * bwrap passes on. */
static void bwrap_env(struct cordon_strbuf *sb, const struct cordon_policy *p) {
    for (size_t i = 0; i < p->n_env; i++) {
        const struct cordon_env_rule *e = &p->env[i];
        if (e->op == CORDON_ENV_SET && e->name) {
            cordon_strbuf_adds(sb, "export ");
            cordon_export_sh_quote(sb, e->name);
            cordon_strbuf_adds(sb, "=");
            cordon_export_sh_quote(sb, e->value ? e->value : "");
            cordon_strbuf_adds(sb, "\n");
            continue;
        }
        if (e->op != CORDON_ENV_CLEAR && e->op != CORDON_ENV_UNSET)
            continue;
        /* A run of unsets (and clearenvs, which unset everything) is one
         * loop: between two sets their order does not matter. */
        size_t end = i;
        bool all = false;
        while (end < p->n_env &&
               (p->env[end].op == CORDON_ENV_CLEAR || p->env[end].op == CORDON_ENV_UNSET ||
                p->env[end].op == CORDON_ENV_KEEP)) {
            all |= p->env[end].op == CORDON_ENV_CLEAR;
            end++;
        }
        cordon_strbuf_adds(sb, "for cordon_name in $(env | sed -n "
                               "'s/^\\([A-Za-z_][A-Za-z0-9_]*\\)=.*/\\1/p'); do\n"
                               "    case $cordon_name in\n");
        struct cordon_strbuf keep = CORDON_STRBUF_INIT;
        if (env_patterns(&keep, p, CORDON_ENV_KEEP))
            cordon_strbuf_addf(sb, "    %s) ;;\n", keep.buf);
        cordon_strbuf_release(&keep);
        cordon_strbuf_adds(sb, "    ");
        if (all) {
            cordon_strbuf_adds(sb, "*");
        } else {
            bool first = true;
            for (size_t k = i; k < end; k++) {
                if (p->env[k].op != CORDON_ENV_UNSET || !p->env[k].name)
                    continue;
                if (!first)
                    cordon_strbuf_adds(sb, "|");
                first = false;
                if (env_glob_plain(p->env[k].name))
                    cordon_strbuf_adds(sb, p->env[k].name);
                else
                    cordon_export_sh_quote(sb, p->env[k].name);
            }
        }
        cordon_strbuf_adds(sb, ") unset \"$cordon_name\" 2>/dev/null || : ;;\n"
                               "    esac\ndone\n");
        i = end - 1;
    }
}

static bool visible_kind(enum cordon_rule_kind k) {
    return k == CORDON_RULE_RO || k == CORDON_RULE_RW;
}

static int bwrap_policy(const struct cordon_policy *p, const struct cordon_export_options *o,
                        const struct prules *pr, struct notes *ns, struct cordon_strbuf *sb) {
    struct ops ops = {0};
    bool rule_on_root = false, null_binds = false, empty_dirs = false;
    for (size_t i = 0; i < pr->n; i++) {
        const struct cordon_rule *r = pr->v[i];
        const char *P = r->path;
        rule_on_root |= strcmp(P, "/") == 0;
        switch (r->kind) {
        case CORDON_RULE_RO:
            op_add2(&ops, P, 2, "--ro-bind-try", P, P);
            break;
        case CORDON_RULE_RW:
            op_add2(&ops, P, 2, "--bind-try", P, P);
            break;
        case CORDON_RULE_TMPFS:
            op_add2(&ops, P, 2, "--tmpfs", P, NULL);
            break;
        case CORDON_RULE_DEV:
            op_add2(&ops, P, 2, "--dev", P, NULL);
            break;
        case CORDON_RULE_PROC:
            op_add2(&ops, P, 2, "--proc", P, NULL);
            break;
        case CORDON_RULE_REDIRECT:
            op_add2(&ops, P, 2, "--ro-bind-try", r->to ? r->to : "/dev/null", P);
            break;
        case CORDON_RULE_HIDE:
        case CORDON_RULE_DENY:
        case CORDON_RULE_EMPTY: {
            if (r->kind != CORDON_RULE_EMPTY) {
                const struct cordon_rule *up = prules_parent(pr, r);
                if (!up || !visible_kind(up->kind))
                    break; /* not shown in the first place */
                if (r->kind == CORDON_RULE_DENY)
                    note(ns, "deny %s: shown empty rather than unreadable", P);
            }
            char k = host_kind(o, P);
            if (k == 'd') {
                op_add2(&ops, P, 2, "--tmpfs", P, NULL);
                op_add2(&ops, P, 4, "--remount-ro", P, NULL);
                empty_dirs |= r->kind != CORDON_RULE_EMPTY;
            } else if (k == 'f' || r->kind == CORDON_RULE_EMPTY) {
                op_add2(&ops, P, 2, "--ro-bind", "/dev/null", P);
                null_binds = true;
            }
            break;
        }
        case CORDON_RULE_MAX:
        case CORDON_RULE_INVALID:
        default:
            break;
        }
    }
    if (null_binds)
        note(ns, "a file that is emptied, or hidden or denied inside a visible directory, is an "
                 "empty character device (/dev/null) in its place");
    if (empty_dirs)
        note(ns, "a directory hidden or denied inside a visible directory is an empty read-only "
                 "directory in its place (bubblewrap cannot remove a path)");
    if (p->n_env)
        note(ns, "the environment rules are applied by the script to its own environment "
                 "(bwrap has no patterns such as GIT_CONFIG_*)");
    if (ops.failed || ns->failed) {
        ops_release(&ops);
        return -ENOMEM;
    }
    char *const *argv = default_argv(o, NULL);
    policy_header(sb, p, o, "#!/bin/sh\n", "# ", "bubblewrap script");
    cordon_strbuf_adds(sb, "# Run: sh THIS COMMAND [ARGS...]\n");
    emit_notes(sb, ns, "# ");
    cordon_strbuf_adds(sb, "set -e\n");
    bwrap_env(sb, p);
    if (argv) {
        cordon_strbuf_adds(sb, "if [ $# -eq 0 ]; then set -- ");
        sh_words(sb, argv);
        cordon_strbuf_adds(sb, "; fi\n");
    }
    cordon_strbuf_adds(sb, "exec bwrap \\\n    --unshare-all \\\n");
    if (policy_network(p, o))
        cordon_strbuf_adds(sb, "    --share-net \\\n");
    cordon_strbuf_adds(sb, "    --die-with-parent \\\n");
    emit_ops(sb, &ops);
    ops_release(&ops);
    if (p->home == CORDON_HOME_FRESH)
        cordon_strbuf_adds(sb, "    --tmpfs \"$HOME\" \\\n");
    else if (p->home == CORDON_HOME_PATH && p->home_path) {
        cordon_strbuf_adds(sb, "    --bind ");
        cordon_export_sh_quote(sb, p->home_path);
        cordon_strbuf_adds(sb, " ");
        cordon_export_sh_quote(sb, p->home_path);
        cordon_strbuf_adds(sb, " \\\n    --setenv HOME ");
        cordon_export_sh_quote(sb, p->home_path);
        cordon_strbuf_adds(sb, " \\\n");
    }
    if (!rule_on_root)
        cordon_strbuf_adds(sb, "    --remount-ro / \\\n");
    cordon_strbuf_adds(sb, "    -- \"$@\"\n");
    return 0;
}

static int sbpl_policy(const struct cordon_policy *p, const struct cordon_export_options *o,
                       const struct prules *pr, struct notes *ns, struct cordon_strbuf *sb) {
    note(ns, "hide and deny: access is refused (EPERM), not absent");
    note(ns, "tmpfs and a fresh HOME: the real directories, writable (SBPL cannot make private "
             "ones)");
    note(ns, "the environment is not changed: sandbox-exec covers access only");
    struct cordon_strbuf rules = CORDON_STRBUF_INIT;
    for (size_t i = 0; i < pr->n; i++) {
        const struct cordon_rule *r = pr->v[i];
        switch (r->kind) {
        case CORDON_RULE_RO: {
            sbpl_rule(&rules, "allow file-read* process-exec", "subpath", r->path);
            const struct cordon_rule *up = prules_parent(pr, r);
            /* SBPL allows add up: read-only inside a writable rule needs a
             * denial of its own. */
            if (up && up->kind != CORDON_RULE_RO)
                sbpl_rule(&rules, "deny file-write*", "subpath", r->path);
            break;
        }
        case CORDON_RULE_RW:
        case CORDON_RULE_TMPFS:
            sbpl_rule(&rules, "allow file-read* file-write* process-exec", "subpath", r->path);
            break;
        case CORDON_RULE_DEV:
            sbpl_rule(&rules, "allow file-read* file-write*", "subpath", r->path);
            break;
        case CORDON_RULE_HIDE:
        case CORDON_RULE_DENY:
            sbpl_rule(&rules, "deny file-read* file-write* process-exec", "subpath", r->path);
            break;
        case CORDON_RULE_PROC:
        case CORDON_RULE_EMPTY:
        case CORDON_RULE_REDIRECT:
            note(ns, "%s %s: no SBPL equivalent, left out", cordon_rule_kind_name(r->kind),
                 r->path);
            break;
        case CORDON_RULE_MAX:
        case CORDON_RULE_INVALID:
        default:
            break;
        }
    }
    if (p->home == CORDON_HOME_PATH && p->home_path)
        sbpl_rule(&rules, "allow file-read* file-write*", "subpath", p->home_path);
    if (ns->failed || rules.failed) {
        cordon_strbuf_release(&rules);
        return -ENOMEM;
    }
    policy_header(sb, p, o, "", ";; ", "macOS sandbox-exec profile");
    cordon_strbuf_adds(sb, ";; Run: sandbox-exec -f THIS COMMAND [ARGS...]\n");
    emit_notes(sb, ns, ";; ");
    cordon_strbuf_adds(sb, sbpl_base);
    if (policy_network(p, o))
        cordon_strbuf_adds(sb, "(allow network*)\n");
    cordon_strbuf_adds(sb, rules.buf);
    cordon_strbuf_release(&rules);
    return 0;
}

static int unveil_policy(const struct cordon_policy *p, const struct cordon_export_options *o,
                         const struct prules *pr, struct notes *ns, struct cordon_strbuf *sb) {
    note(ns, "tmpfs and a fresh HOME: the real directories, writable (unveil cannot make "
             "private ones)");
    note(ns, "deny: hidden (ENOENT) rather than unreadable");
    note(ns, "the environment is not changed (unveil covers paths only)");
    note(ns, "the command runs pledged with EXECPROMISES: without execpromises OpenBSD drops the "
             "unveils at exec");
    struct cordon_strbuf calls = CORDON_STRBUF_INIT;
    for (size_t i = 0; i < pr->n; i++) {
        const struct cordon_rule *r = pr->v[i];
        const char *perms = NULL;
        switch (r->kind) {
        case CORDON_RULE_RO:
            perms = "rx";
            break;
        case CORDON_RULE_RW:
        case CORDON_RULE_TMPFS:
            perms = "rwxc";
            break;
        case CORDON_RULE_HIDE:
        case CORDON_RULE_DENY:
            perms = "";
            break;
        case CORDON_RULE_DEV:
            perms = "rw";
            break;
        case CORDON_RULE_PROC:
        case CORDON_RULE_EMPTY:
        case CORDON_RULE_REDIRECT:
        case CORDON_RULE_MAX:
        case CORDON_RULE_INVALID:
        default:
            note(ns, "%s %s: no unveil equivalent, left out", cordon_rule_kind_name(r->kind),
                 r->path);
            break;
        }
        if (perms)
            unveil_call(&calls, r->path, perms, true);
    }
    if (p->home == CORDON_HOME_PATH && p->home_path)
        unveil_call(&calls, p->home_path, "rwc", true);
    if (ns->failed || calls.failed) {
        cordon_strbuf_release(&calls);
        return -ENOMEM;
    }
    policy_header(sb, p, o, "/*\n", " * ", "OpenBSD unveil(2) program");
    cordon_strbuf_adds(sb, " * Build: cc -o cordon-unveil THIS.c; run: ./cordon-unveil COMMAND "
                           "[ARGS...]\n");
    emit_notes(sb, ns, " * ");
    unveil_prelude(sb, policy_network(p, o));
    c_argv(sb, default_argv(o, NULL));
    cordon_strbuf_adds(sb, "\n");
    cordon_strbuf_adds(sb, unveil_main_head);
    cordon_strbuf_adds(sb, calls.buf);
    cordon_strbuf_release(&calls);
    cordon_strbuf_adds(sb, unveil_main_tail);
    return 0;
}

static int landlock_policy(const struct cordon_policy *p, const struct cordon_export_options *o,
                           const struct prules *pr, struct notes *ns, struct cordon_strbuf *sb) {
    note(ns, "hide and deny: not granted, so access is refused (EACCES) and existence stays "
             "visible through stat");
    note(ns, "tmpfs and a fresh HOME: the real directories, writable (Landlock cannot make "
             "private ones)");
    note(ns, "the environment is not changed (Landlock covers access only)");
    if (!policy_network(p, o))
        note(ns, "network off: not confined (Landlock's TCP rules need ABI 4 and cover only "
                 "TCP)");
    struct cordon_strbuf rules = CORDON_STRBUF_INIT;
    for (size_t i = 0; i < pr->n; i++) {
        const struct cordon_rule *r = pr->v[i];
        const struct cordon_rule *up = prules_parent(pr, r);
        switch (r->kind) {
        case CORDON_RULE_RO:
        case CORDON_RULE_PROC:
            ll_rule(&rules, r->path, "READ");
            if (up && (up->kind == CORDON_RULE_RW || up->kind == CORDON_RULE_TMPFS ||
                       up->kind == CORDON_RULE_DEV))
                note(ns, "%s %s: stays writable (Landlock grants are inherited from %s)",
                     cordon_rule_kind_name(r->kind), r->path, up->path);
            break;
        case CORDON_RULE_RW:
        case CORDON_RULE_TMPFS:
        case CORDON_RULE_DEV:
            ll_rule(&rules, r->path, "ALL");
            break;
        case CORDON_RULE_HIDE:
        case CORDON_RULE_DENY:
            if (up && up->kind != CORDON_RULE_HIDE && up->kind != CORDON_RULE_DENY)
                note(ns, "%s %s: stays reachable (Landlock grants are inherited from %s)",
                     cordon_rule_kind_name(r->kind), r->path, up->path);
            break;
        case CORDON_RULE_EMPTY:
        case CORDON_RULE_REDIRECT:
        case CORDON_RULE_MAX:
        case CORDON_RULE_INVALID:
        default:
            note(ns, "%s %s: no Landlock equivalent, left out", cordon_rule_kind_name(r->kind),
                 r->path);
            break;
        }
    }
    if (p->home == CORDON_HOME_PATH && p->home_path)
        ll_rule(&rules, p->home_path, "ALL");
    if (ns->failed || rules.failed) {
        cordon_strbuf_release(&rules);
        return -ENOMEM;
    }
    policy_header(sb, p, o, "/*\n", " * ", "Landlock program");
    cordon_strbuf_adds(sb, " * Build: cc -o cordon-landlock THIS.c; run: ./cordon-landlock COMMAND "
                           "[ARGS...]\n");
    emit_notes(sb, ns, " * ");
    cordon_strbuf_adds(sb, landlock_prelude);
    c_argv(sb, default_argv(o, NULL));
    cordon_strbuf_adds(sb, "\nstatic const struct rule rules[] = {\n");
    cordon_strbuf_adds(sb, rules.buf);
    cordon_strbuf_adds(sb, "};\n\n");
    cordon_strbuf_release(&rules);
    cordon_strbuf_adds(sb, landlock_main_head);
    cordon_strbuf_adds(sb, landlock_main_tail);
    return 0;
}

int cordon_export_policy(const struct cordon_policy *p, const struct cordon_export_options *o,
                         char **ret, struct cordon_error *err) {
    struct prules pr = {0};
    struct notes ns = {0};
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    int r = prules_build(p, &pr);
    if (r == 0) {
        switch (o->format) {
        case CORDON_EXPORT_BWRAP:
            r = bwrap_policy(p, o, &pr, &ns, &sb);
            break;
        case CORDON_EXPORT_SANDBOX_EXEC:
            r = sbpl_policy(p, o, &pr, &ns, &sb);
            break;
        case CORDON_EXPORT_UNVEIL:
            r = unveil_policy(p, o, &pr, &ns, &sb);
            break;
        case CORDON_EXPORT_LANDLOCK:
            r = landlock_policy(p, o, &pr, &ns, &sb);
            break;
        case CORDON_EXPORT_FORMAT_MAX:
        case CORDON_EXPORT_FORMAT_INVALID:
        default:
            r = cordon_error_set(err, EINVAL, NULL, 0, 0, "unknown export format");
            break;
        }
    }
    free(pr.v);
    notes_release(&ns);
    if (r == 0 && sb.failed)
        r = -ENOMEM;
    if (r < 0) {
        if (r == -ENOMEM)
            cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
        cordon_strbuf_release(&sb);
        return r;
    }
    *ret = cordon_strbuf_detach(&sb);
    return 0;
}
