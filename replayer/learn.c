/* cordon learn: the smallest readable policy that lets a recorded build run.
 *
 * From the manifest: the work tree is `rw ${CWD}`; every path outside it
 * that the build needed (read, executed, loaded, listed, stat'ed and
 * found) and that is not a breach of the user's or the site's
 * configuration becomes read-only, collapsed into directories by
 * cordon_collapse(); what it wrote outside the work tree becomes
 * read-write; /dev, /proc and a tmpfs /tmp are always there; HOME is fresh
 * unless the build needed files below it. Breaches it reached for (user
 * and site configuration, credentials, caches, user package registries and
 * site-packages) get no rule, so they stay hidden, and are listed in the
 * policy's comments: a build that really needs one fails verification and
 * the list says which. Behaviour ported from the Rust tree's learn.rs
 * (commit 3f89736): the kernel's own opens (interpreters) are learned,
 * breaches are left out and listed, never a blanket `ro /`.
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
#include <cordon/learn.h>
#include <cordon/manifest.h>
#include <cordon/util.h>

/* ---- the collapse --------------------------------------------------------- */

struct node {
    char *name; /* the component; "" for the root */
    struct node *parent;
    struct node **kids; /* sorted by name once built */
    size_t n_kids, cap_kids;
    int depth;      /* components: "/" 0, "/usr" 1 */
    size_t inputs;  /* needed paths exactly here */
    bool listed;    /* listed by the build */
    bool dir_only;  /* every input here was a directory only stat'ed */
    bool rule;      /* a rule here */
    bool has_rule;  /* a rule at or below */
    size_t rules;   /* rules at or below */
    size_t covered; /* needed paths at or below */
};

static void node_free(struct node *n) {
    if (!n)
        return;
    for (size_t i = 0; i < n->n_kids; i++)
        node_free(n->kids[i]);
    free(n->kids);
    free(n->name);
    free(n);
}

static struct node *node_child(struct node *n, const char *name, size_t len) {
    for (size_t i = 0; i < n->n_kids; i++)
        if (strlen(n->kids[i]->name) == len && !memcmp(n->kids[i]->name, name, len))
            return n->kids[i];
    if (cordon_grow((void **)&n->kids, &n->cap_kids, n->n_kids + 1, sizeof *n->kids) < 0)
        return NULL;
    struct node *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->name = strndup(name, len);
    if (!c->name) {
        free(c);
        return NULL;
    }
    c->parent = n;
    c->depth = n->depth + 1;
    c->dir_only = true;
    n->kids[n->n_kids++] = c;
    return c;
}

/* The path of a node into `out`. */
static void node_path(const struct node *n, char *out, size_t size) {
    const struct node *chain[PATH_MAX / 2];
    size_t k = 0;
    for (const struct node *p = n; p && p->parent && k < CORDON_ARRAY_SIZE(chain); p = p->parent)
        chain[k++] = p;
    size_t len = 0;
    out[0] = '\0';
    if (k == 0) {
        (void)snprintf(out, size, "/");
        return;
    }
    while (k-- > 0) {
        int w = snprintf(out + len, size - len, "/%s", chain[k]->name);
        if (w < 0 || (size_t)w >= size - len)
            return;
        len += (size_t)w;
    }
}

static int cmp_node(const void *a, const void *b) {
    return strcmp((*(struct node *const *)a)->name, (*(struct node *const *)b)->name);
}

static void sort_tree(struct node *n) {
    if (n->n_kids > 1)
        qsort(n->kids, n->n_kids, sizeof *n->kids, cmp_node);
    for (size_t i = 0; i < n->n_kids; i++)
        sort_tree(n->kids[i]);
}

/* The roots whose entries are unrelated things: a rule is at least one
 * level below them. */
static int unit_depth(const struct node *n) {
    const struct node *top = n;
    while (top->parent && top->parent->parent)
        top = top->parent;
    if (!top->parent)
        return 1;
    static const char *const wide[] = {"etc", "home",  "opt", "var", "srv",
                                       "mnt", "media", "run", "tmp"};
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(wide); i++)
        if (!strcmp(top->name, wide[i]))
            return 2;
    if (!strcmp(top->name, "nix") || !strcmp(top->name, "gnu"))
        return 3; /* /nix/store/HASH-NAME */
    return 1;
}

struct collapse {
    const struct cordon_collapse_options *o;
    size_t fanin;
};

/* Whether a rule may sit at `n`: deep enough, and not at or above a stop. */
static bool allowed(const struct collapse *c, const struct node *n) {
    if (n->depth < unit_depth(n))
        return false;
    if (c->o->stop) {
        char p[PATH_MAX];
        node_path(n, p, sizeof p);
        for (const char *const *s = c->o->stop; *s; s++)
            if (cordon_path_under(*s, p))
                return false;
    }
    return true;
}

static void clear_below(struct node *n) {
    for (size_t i = 0; i < n->n_kids; i++) {
        n->kids[i]->rule = false;
        n->kids[i]->has_rule = false;
        n->kids[i]->rules = 0;
        clear_below(n->kids[i]);
    }
}

static void make_rule(struct node *n) {
    clear_below(n);
    n->rule = true;
    n->has_rule = true;
    n->rules = 1;
}

static long host_entries(void *ctx, const char *dir) {
    (void)ctx;
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* Steps 1 and 2, bottom-up. */
static void collapse_walk(const struct collapse *c, struct node *n) {
    size_t used = 0, rules = 0, covered = n->inputs;
    bool any = false;
    for (size_t i = 0; i < n->n_kids; i++) {
        collapse_walk(c, n->kids[i]);
        covered += n->kids[i]->covered;
        if (n->kids[i]->has_rule) {
            used++;
            rules += n->kids[i]->rules;
            any = true;
        }
    }
    n->covered = covered;
    n->rules = rules;
    n->has_rule = any;
    if (!n->parent)
        return;
    /* 1: a needed path of its own; a directory only stat'ed that holds
     * others exists as their parent */
    if (n->inputs && (!n->dir_only || n->listed || !any)) {
        make_rule(n);
        return;
    }
    /* 2: the build reads most of it */
    if (!any || !allowed(c, n))
        return;
    bool collapse = used >= c->fanin;
    if (!collapse) {
        char p[PATH_MAX];
        node_path(n, p, sizeof p);
        long e = c->o->entries ? c->o->entries(c->o->entries_ctx, p) : host_entries(NULL, p);
        collapse = e > 0 && (size_t)e <= 2 * used;
    }
    if (collapse)
        make_rule(n);
}

/* Step 3: the allowed directory with the most rules below it. */
static void best_merge(const struct collapse *c, struct node *n, struct node **best) {
    if (!n->has_rule || n->rule)
        return;
    if (n->parent && n->rules >= 2 && allowed(c, n)) {
        struct node *b = *best;
        if (!b || n->rules > b->rules || (n->rules == b->rules && n->depth > b->depth)) {
            *best = n;
        } else if (n->rules == b->rules && n->depth == b->depth) {
            char pn[PATH_MAX], pb[PATH_MAX];
            node_path(n, pn, sizeof pn);
            node_path(b, pb, sizeof pb);
            if (strcmp(pn, pb) < 0)
                *best = n;
        }
    }
    for (size_t i = 0; i < n->n_kids; i++)
        best_merge(c, n->kids[i], best);
}

static void recount(struct node *n) {
    if (n->rule) {
        n->rules = 1;
        n->has_rule = true;
        return;
    }
    size_t rules = 0;
    bool any = false;
    for (size_t i = 0; i < n->n_kids; i++) {
        recount(n->kids[i]);
        rules += n->kids[i]->rules;
        any |= n->kids[i]->has_rule;
    }
    n->rules = rules;
    n->has_rule = any;
}

static int gather(const struct node *n, struct cordon_collapsed **out, size_t *nout, size_t *cap) {
    if (n->rule) {
        if (cordon_grow((void **)out, cap, *nout + 1, sizeof **out) < 0)
            return -ENOMEM;
        char p[PATH_MAX];
        node_path(n, p, sizeof p);
        (*out)[*nout].path = strdup(p);
        if (!(*out)[*nout].path)
            return -ENOMEM;
        (*out)[*nout].covered = n->covered;
        (*out)[*nout].below = n->n_kids > 0;
        (*nout)++;
        return 0;
    }
    for (size_t i = 0; i < n->n_kids; i++) {
        int r = gather(n->kids[i], out, nout, cap);
        if (r < 0)
            return r;
    }
    return 0;
}

void cordon_collapsed_free(struct cordon_collapsed *c, size_t n) {
    for (size_t i = 0; c && i < n; i++)
        free(c[i].path);
    free(c);
}

int cordon_collapse(const struct cordon_collapse_path *paths, size_t n,
                    const struct cordon_collapse_options *o, struct cordon_collapsed **ret,
                    size_t *ret_n) {
    struct cordon_collapse_options none = {0};
    struct collapse c = {.o = o ? o : &none};
    c.fanin = c.o->fanin ? c.o->fanin : 3;
    struct node *root = calloc(1, sizeof *root);
    if (!root || !(root->name = strdup("")))
        goto oom;
    for (size_t i = 0; i < n; i++) {
        const char *p = paths[i].path;
        if (!p || p[0] != '/') {
            node_free(root);
            return -EINVAL;
        }
        struct node *cur = root;
        const char *s = p;
        while (*s) {
            while (*s == '/')
                s++;
            if (!*s)
                break;
            const char *e = strchrnul(s, '/');
            cur = node_child(cur, s, (size_t)(e - s));
            if (!cur)
                goto oom;
            s = e;
        }
        if (cur == root)
            continue; /* "/" itself: never a rule */
        cur->inputs++;
        cur->listed |= paths[i].listed;
        cur->dir_only &= paths[i].dir_only && !paths[i].listed;
    }
    sort_tree(root);
    collapse_walk(&c, root);
    if (c.o->max_rules) {
        while (root->rules > c.o->max_rules) {
            struct node *best = NULL;
            best_merge(&c, root, &best);
            if (!best)
                break;
            make_rule(best);
            recount(root);
        }
    }
    struct cordon_collapsed *out = NULL;
    size_t nout = 0, cap = 0;
    if (gather(root, &out, &nout, &cap) < 0) {
        cordon_collapsed_free(out, nout);
        goto oom;
    }
    node_free(root);
    *ret = out;
    *ret_n = nout;
    return 0;
oom:
    node_free(root);
    return -ENOMEM;
}

/* ---- interpreters ----------------------------------------------------------- */

/* The PT_INTERP of a 64-bit little-endian ELF file, into out. */
static bool elf_interp(int fd, char *out, size_t size) {
    unsigned char eh[64];
    if (pread(fd, eh, sizeof eh, 0) != (ssize_t)sizeof eh)
        return false;
    if (memcmp(eh, "\177ELF\2\1", 6) != 0)
        return false;
    uint64_t phoff;
    uint16_t phentsize, phnum;
    memcpy(&phoff, eh + 0x20, 8);
    memcpy(&phentsize, eh + 0x36, 2);
    memcpy(&phnum, eh + 0x38, 2);
    if (phentsize < 56)
        return false;
    for (uint16_t i = 0; i < phnum; i++) {
        unsigned char ph[56];
        if (pread(fd, ph, sizeof ph, (off_t)(phoff + (uint64_t)i * phentsize)) !=
            (ssize_t)sizeof ph)
            return false;
        uint32_t type;
        memcpy(&type, ph, 4);
        if (type != 3) /* PT_INTERP */
            continue;
        uint64_t off, filesz;
        memcpy(&off, ph + 8, 8);
        memcpy(&filesz, ph + 32, 8);
        if (filesz == 0 || filesz >= size)
            return false;
        ssize_t r = pread(fd, out, filesz, (off_t)off);
        if (r != (ssize_t)filesz)
            return false;
        out[filesz] = '\0';
        return out[0] == '/';
    }
    return false;
}

size_t cordon_interpreters(const char *path, char **out, size_t max) {
    char cur[PATH_MAX];
    size_t n = 0;
    (void)snprintf(cur, sizeof cur, "%s", path);
    for (int level = 0; level < 4 && n < max; level++) {
        _cleanup_close_ int fd = open(cur, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            break;
        char head[256];
        ssize_t r = pread(fd, head, sizeof head - 1, 0);
        if (r < 2)
            break;
        head[r] = '\0';
        if (head[0] == '#' && head[1] == '!') {
            char *s = head + 2;
            s += strspn(s, " \t");
            size_t len = strcspn(s, " \t\n");
            if (len == 0 || s[0] != '/')
                break;
            s[len] = '\0';
            if (!(out[n] = strdup(s)))
                break;
            n++;
            (void)snprintf(cur, sizeof cur, "%s", s);
            continue;
        }
        char interp[PATH_MAX];
        if (elf_interp(fd, interp, sizeof interp) && (out[n] = strdup(interp)))
            n++;
        break;
    }
    return n;
}

/* ---- copying a tree ----------------------------------------------------------- */

static int copy_file(const char *src, const char *dst, mode_t mode) {
    _cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0)
        return -errno;
    _cleanup_close_ int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0)
        return -errno;
    for (;;) {
        ssize_t r = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
        if (r == 0)
            break;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EXDEV && errno != ENOSYS && errno != EOPNOTSUPP && errno != EINVAL)
                return -errno;
            /* a plain copy where the kernel cannot */
            char buf[1 << 16];
            ssize_t k;
            while ((k = read(in, buf, sizeof buf)) > 0)
                if (write(out, buf, (size_t)k) != k)
                    return errno ? -errno : -EIO;
            if (k < 0)
                return -errno;
            break;
        }
    }
    if (fchmod(out, mode & 07777) < 0)
        return -errno;
    return 0;
}

struct copy_ctx {
    bool (*link_file)(void *ctx, const char *src_path);
    void *ctx;
    struct cordon_error *err;
};

static int copy_rec(struct copy_ctx *c, const char *src, const char *dst, const struct stat *st) {
    if (mkdir(dst, 0700) < 0)
        return cordon_error_set(c->err, errno, dst, 0, 0, "cannot create '%s'", dst);
    DIR *d = opendir(src);
    if (!d)
        return cordon_error_set(c->err, errno, src, 0, 0, "cannot open '%s'", src);
    int r = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char s[PATH_MAX], t[PATH_MAX];
        if ((size_t)snprintf(s, sizeof s, "%s/%s", src, e->d_name) >= sizeof s ||
            (size_t)snprintf(t, sizeof t, "%s/%s", dst, e->d_name) >= sizeof t) {
            r = cordon_error_set(c->err, ENAMETOOLONG, src, 0, 0, "a path below '%s' is too long",
                                 src);
            break;
        }
        struct stat es;
        if (lstat(s, &es) < 0) {
            r = cordon_error_set(c->err, errno, s, 0, 0, "cannot stat '%s'", s);
            break;
        }
        if (S_ISDIR(es.st_mode)) {
            if ((r = copy_rec(c, s, t, &es)) < 0)
                break;
        } else if (S_ISLNK(es.st_mode)) {
            char target[PATH_MAX];
            ssize_t k = readlink(s, target, sizeof target - 1);
            if (k < 0) {
                r = cordon_error_set(c->err, errno, s, 0, 0, "cannot read the link '%s'", s);
                break;
            }
            target[k] = '\0';
            if (symlink(target, t) < 0) {
                r = cordon_error_set(c->err, errno, t, 0, 0, "cannot create '%s'", t);
                break;
            }
        } else if (S_ISREG(es.st_mode)) {
            if (c->link_file && c->link_file(c->ctx, s) && link(s, t) == 0)
                continue;
            int k = copy_file(s, t, es.st_mode);
            if (k < 0) {
                r = cordon_error_set(c->err, -k, s, 0, 0, "cannot copy '%s' to '%s'", s, t);
                break;
            }
        }
    }
    closedir(d);
    if (r == 0 && chmod(dst, st->st_mode & 07777) < 0)
        r = cordon_error_set(c->err, errno, dst, 0, 0, "cannot change the mode of '%s'", dst);
    return r;
}

int cordon_copy_tree(const char *src, const char *dst,
                     bool (*link_file)(void *ctx, const char *src_path), void *ctx,
                     struct cordon_error *err) {
    struct stat st;
    if (stat(src, &st) < 0)
        return cordon_error_set(err, errno, src, 0, 0, "cannot open '%s'", src);
    if (!S_ISDIR(st.st_mode))
        return cordon_error_set(err, ENOTDIR, src, 0, 0, "'%s' is not a directory", src);
    struct copy_ctx c = {.link_file = link_file, .ctx = ctx, .err = err};
    return copy_rec(&c, src, dst, &st);
}

/* ---- learn ------------------------------------------------------------------- */

static bool left_out_category(enum cordon_category c) {
    switch (c) {
    case CORDON_CAT_USER_CONFIG:
    case CORDON_CAT_SITE_CONFIG:
    case CORDON_CAT_CREDENTIALS:
    case CORDON_CAT_CACHE:
    case CORDON_CAT_USER_PACKAGE_REGISTRY:
    case CORDON_CAT_USER_SITE_PACKAGES:
        return true;
    case CORDON_CAT_DECLARED:
    case CORDON_CAT_SYSTEM:
    case CORDON_CAT_SYSTEM_HEADER:
    case CORDON_CAT_SYSTEM_LIBRARY:
    case CORDON_CAT_UNDECLARED:
    case CORDON_CAT_VIRTUAL:
    case CORDON_CAT_MAX:
    case CORDON_CAT_INVALID:
    default:
        return false;
    }
}

struct needed {
    struct cordon_collapse_path *items;
    size_t n, cap;
    char **owned; /* strings to free */
    size_t n_owned, cap_owned;
};

static int needed_add(struct needed *nd, const char *path, bool listed, bool dir_only) {
    if (cordon_grow((void **)&nd->items, &nd->cap, nd->n + 1, sizeof *nd->items) < 0 ||
        cordon_grow((void **)&nd->owned, &nd->cap_owned, nd->n_owned + 1, sizeof *nd->owned) < 0)
        return -ENOMEM;
    char *p = strdup(path);
    if (!p)
        return -ENOMEM;
    nd->owned[nd->n_owned++] = p;
    nd->items[nd->n++] =
        (struct cordon_collapse_path){.path = p, .listed = listed, .dir_only = dir_only};
    return 0;
}

static void needed_release(struct needed *nd) {
    for (size_t i = 0; i < nd->n_owned; i++)
        free(nd->owned[i]);
    free(nd->owned);
    free(nd->items);
}

/* Add `path`, and on this host every symlink on its way and what it
 * resolves to: a rule never has to reach through a symlink (merged /usr's
 * /lib -> usr/lib gets a rule of its own, and so does /usr/lib). */
static int needed_add_host(struct needed *nd, struct cordon_map *seen, const char *path,
                           bool listed, bool dir_only, bool resolve) {
    int r = needed_add(nd, path, listed, dir_only);
    if (r < 0 || !resolve)
        return r;
    char prefix[PATH_MAX];
    size_t len = strlen(path);
    if (len >= sizeof prefix)
        return 0;
    for (size_t i = 1; i <= len; i++) {
        if (i < len && path[i] != '/')
            continue;
        memcpy(prefix, path, i);
        prefix[i] = '\0';
        if (cordon_map_get(seen, prefix))
            continue;
        if (cordon_map_put(seen, prefix, (void *)1) < 0)
            return -ENOMEM;
        struct stat st;
        if (lstat(prefix, &st) < 0 || !S_ISLNK(st.st_mode))
            continue;
        if (i < len && (r = needed_add(nd, prefix, false, false)) < 0)
            return r;
    }
    char real[PATH_MAX];
    if (realpath(path, real) && strcmp(real, path) != 0)
        return needed_add(nd, real, listed, dir_only);
    return 0;
}

static int add_rule(struct cordon_learned *l, enum cordon_rule_kind kind, const char *path,
                    size_t reads, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int add_rule(struct cordon_learned *l, enum cordon_rule_kind kind, const char *path,
                    size_t reads, const char *fmt, ...) {
    if (cordon_grow((void **)&l->rules, &l->cap_rules, l->n_rules + 1, sizeof *l->rules) < 0)
        return -ENOMEM;
    struct cordon_learned_rule *r = &l->rules[l->n_rules];
    r->kind = kind;
    r->reads = reads;
    r->path = strdup(path);
    va_list ap;
    va_start(ap, fmt);
    int k = vasprintf(&r->why, fmt, ap);
    va_end(ap);
    if (k < 0)
        r->why = NULL;
    if (!r->path || !r->why) {
        free(r->path);
        free(r->why);
        return -ENOMEM;
    }
    l->n_rules++;
    return 0;
}

struct cordon_learned *cordon_learned_free(struct cordon_learned *l) {
    if (!l)
        return NULL;
    for (size_t i = 0; i < l->n_rules; i++) {
        free(l->rules[i].path);
        free(l->rules[i].why);
    }
    free(l->rules);
    for (size_t i = 0; i < l->n_left_out; i++)
        free(l->left_out[i].path);
    free(l->left_out);
    cordon_strv_free(l->steering);
    free(l->home_why);
    free(l->command);
    free(l);
    return NULL;
}

size_t cordon_learned_rule_count(const struct cordon_learned *l) {
    return l->n_rules + 2; /* and `hide /` and `home` */
}

static const char *env_value(char *const *env, const char *name) {
    size_t n = strlen(name);
    for (char *const *e = env; e && *e; e++)
        if (!strncmp(*e, name, n) && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

/* Variables that say where a shell is, not how to build. */
static bool shell_variable(const char *name) {
    return !strcmp(name, "PWD") || !strcmp(name, "OLDPWD") || !strcmp(name, "SHLVL") ||
           !strcmp(name, "_");
}

static const char *input_category(const struct cordon_input *in, const char *home,
                                  const char *worktree, enum cordon_category *ret) {
    enum cordon_category c =
        in->category ? cordon_category_from_name(in->category) : CORDON_CAT_INVALID;
    if (c == CORDON_CAT_INVALID)
        c = cordon_classify_path(in->path, home, worktree);
    *ret = c;
    return cordon_category_name(c);
}

/* The outputs outside the work tree: read-write rules. A file that existed
 * before the build (an input too) is granted alone; a new one, its
 * directory. Loose files in /tmp and /var/tmp (tmpfs) and those below a
 * fresh HOME need none. */
/* Whether `path` is a directory the build created: an output directory
 * that was not there before (no existing input). */
static bool created_dir(const struct cordon_manifest *m, const char *path) {
    const struct cordon_output *o = cordon_manifest_find_output(m, path);
    if (!o || o->type != CORDON_FT_DIR)
        return false;
    const struct cordon_input *in = cordon_manifest_find_input(m, path);
    return !in || in->type == CORDON_FT_MISSING;
}

static int learn_writes(const struct cordon_manifest *m, const char *worktree, const char *home,
                        bool home_keep, struct cordon_learned *l, bool *ret_var_tmp) {
    char **dirs = NULL;
    size_t n = 0, cap = 0;
    int r = 0;
    for (size_t i = 0; i < m->n_outputs; i++) {
        const struct cordon_output *o = &m->outputs[i];
        if (o->type == CORDON_FT_MISSING || cordon_path_under(o->path, worktree) ||
            cordon_path_is_virtual(o->path))
            continue;
        if (home && !home_keep && cordon_path_under(o->path, home))
            continue;
        /* A file that was there before is granted alone. Else the
         * directory it went into, or, where the build made that directory
         * (and its parents), the one it made them in: the build must be
         * able to make them again. */
        char p[PATH_MAX];
        (void)snprintf(p, sizeof p, "%s", o->path);
        const struct cordon_input *in = cordon_manifest_find_input(m, o->path);
        bool existed = in && in->type != CORDON_FT_MISSING;
        if (!(existed && o->type != CORDON_FT_DIR)) {
            if (o->type != CORDON_FT_DIR || created_dir(m, p)) {
                do {
                    char *slash = strrchr(p, '/');
                    if (!slash || slash == p) {
                        p[1] = '\0';
                        break;
                    }
                    *slash = '\0';
                } while (created_dir(m, p));
            }
        }
        /* loose files and directories in /tmp and /var/tmp are scratch */
        if (!strcmp(p, "/") || !strcmp(p, "/tmp"))
            continue;
        if (!strcmp(p, "/var/tmp")) {
            *ret_var_tmp = true;
            continue;
        }
        if (cordon_grow((void **)&dirs, &cap, n + 1, sizeof *dirs) < 0 || !(dirs[n] = strdup(p))) {
            r = -ENOMEM;
            goto out;
        }
        n++;
    }
    /* the outermost of nested ones, once */
    for (size_t i = 0; i < n; i++) {
        bool skip = false;
        for (size_t j = 0; j < n && !skip; j++)
            if (i != j && dirs[j] && cordon_path_under(dirs[i], dirs[j]) &&
                (strcmp(dirs[i], dirs[j]) != 0 || j < i))
                skip = true;
        if (skip)
            continue;
        size_t count = 0;
        for (size_t k = 0; k < m->n_outputs; k++)
            count += m->outputs[k].type != CORDON_FT_DIR &&
                     cordon_path_under(m->outputs[k].path, dirs[i]);
        if ((r = add_rule(l, CORDON_RULE_RW, dirs[i], 0, "the build wrote %zu file%s here", count,
                          count == 1 ? "" : "s")) < 0)
            goto out;
    }
out:
    for (size_t i = 0; i < n; i++)
        free(dirs[i]);
    free(dirs);
    return r;
}

static int cmp_left_out(const void *a, const void *b) {
    return strcmp(((const struct cordon_left_out *)a)->path,
                  ((const struct cordon_left_out *)b)->path);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "${CWD}" with as many "/.." as the cwd is below the work tree. */
static void cwd_rule(const char *worktree, const char *cwd, char *out, size_t size) {
    size_t len = (size_t)snprintf(out, size, "${CWD}");
    if (!cwd || !cordon_path_under(cwd, worktree))
        return;
    for (const char *s = cwd + strlen(worktree); *s && len < size; s++)
        if (*s == '/')
            len += (size_t)snprintf(out + len, size - len, "/..");
}

int cordon_learn(const struct cordon_learn_options *o, struct cordon_learned **ret,
                 struct cordon_error *err) {
    const struct cordon_manifest *m = o->manifest;
    const char *worktree = m->worktree ? m->worktree : m->command.cwd;
    if (!worktree || worktree[0] != '/')
        return cordon_error_set(err, EINVAL, NULL, 0, 0,
                                "the manifest names no work tree and no working directory");
    const char *home = env_value(m->command.env, "HOME");
    if (home && (!strcmp(home, "/") || home[0] != '/'))
        home = NULL;
    struct cordon_learned *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    struct needed nd = {0};
    struct cordon_map *seen = cordon_map_new(256);
    struct cordon_collapsed *col = NULL;
    size_t ncol = 0;
    int r = -ENOMEM;
    if (!seen)
        goto fail;

    bool dev = false, proc = false, sys = false;
    size_t home_reads = 0;
    const char *home_example = NULL;
    for (size_t i = 0; i < m->n_inputs; i++) {
        const struct cordon_input *in = &m->inputs[i];
        if (in->type == CORDON_FT_MISSING)
            continue;
        if (cordon_path_under(in->path, worktree) || cordon_path_under(worktree, in->path))
            continue; /* the work tree, and the directories that lead to it */
        if (cordon_path_under(in->path, "/dev")) {
            dev = true;
            continue;
        }
        if (cordon_path_under(in->path, "/proc")) {
            proc = true;
            continue;
        }
        if (cordon_path_under(in->path, "/sys")) {
            sys = true;
            continue;
        }
        enum cordon_category cat;
        const char *catname = input_category(in, home, worktree, &cat);
        if (left_out_category(cat)) {
            if (cordon_grow((void **)&l->left_out, &l->cap_left_out, l->n_left_out + 1,
                            sizeof *l->left_out) < 0)
                goto fail;
            l->left_out[l->n_left_out].path = strdup(in->path);
            l->left_out[l->n_left_out].category = catname;
            if (!l->left_out[l->n_left_out].path)
                goto fail;
            l->n_left_out++;
            continue;
        }
        if (home && cordon_path_under(in->path, home)) {
            if (!strcmp(in->path, home))
                continue; /* HOME itself: the home line gives one */
            home_reads++;
            if (!home_example)
                home_example = in->path;
        }
        bool listed = in->uses & CORDON_USE_LIST;
        bool dir_only = in->type == CORDON_FT_DIR && !listed;
        if ((r = needed_add_host(&nd, seen, in->path, listed, dir_only, o->resolve_host)) < 0)
            goto fail;
        l->reads++;
        if (o->resolve_host && (in->uses & CORDON_USE_EXEC)) {
            char *interp[4];
            size_t k = cordon_interpreters(in->path, interp, CORDON_ARRAY_SIZE(interp));
            for (size_t j = 0; j < k; j++) {
                if (r >= 0 && !cordon_path_under(interp[j], worktree))
                    r = needed_add_host(&nd, seen, interp[j], false, false, true);
                free(interp[j]);
            }
            if (r < 0)
                goto fail;
        }
    }
    if (l->n_left_out > 1)
        qsort(l->left_out, l->n_left_out, sizeof *l->left_out, cmp_left_out);
    l->home = home_reads ? CORDON_HOME_KEEP : CORDON_HOME_FRESH;
    if (home_reads)
        r = asprintf(&l->home_why, "the build read %zu path%s below HOME, such as %s", home_reads,
                     home_reads == 1 ? "" : "s", home_example);
    else
        r = asprintf(&l->home_why, "%s",
                     home ? "the build needed nothing below HOME" : "the recording names no HOME");
    if (r < 0) {
        l->home_why = NULL;
        r = -ENOMEM;
        goto fail;
    }

    /* what the build wrote outside the work tree */
    bool var_tmp = false;
    struct cordon_learned writes = {0};
    if ((r = learn_writes(m, worktree, home, home_reads > 0, &writes, &var_tmp)) < 0)
        goto fail_writes;

    /* the rules that are there whatever the collapse does */
    size_t fixed = 4 + writes.n_rules + (var_tmp ? 1 : 0) + (sys ? 1 : 0) + 1 /* home */;
    const char *stop[3] = {home, NULL, NULL};
    struct cordon_collapse_options co = {
        .entries = o->entries, .entries_ctx = o->entries_ctx, .stop = home ? stop : NULL};
    size_t max = o->max_rules ? o->max_rules : 30;
    /* a first pass tells how many hides the collapsed directories need;
     * when there are some, a second one leaves room for them */
    co.max_rules = max > fixed ? max - fixed : 1;
    if ((r = cordon_collapse(nd.items, nd.n, &co, &col, &ncol)) < 0)
        goto fail_writes;
    size_t hides = 0;
    for (size_t i = 0; i < l->n_left_out; i++)
        for (size_t j = 0; j < ncol; j++)
            if (cordon_path_under(l->left_out[i].path, col[j].path)) {
                hides++;
                break;
            }
    if (hides && max > fixed + hides && ncol > max - fixed - hides) {
        cordon_collapsed_free(col, ncol);
        col = NULL;
        co.max_rules = max - fixed - hides;
        if ((r = cordon_collapse(nd.items, nd.n, &co, &col, &ncol)) < 0)
            goto fail_writes;
    }

    for (size_t j = 0; j < ncol; j++) {
        bool written = false;
        for (size_t i = 0; i < writes.n_rules && !written; i++)
            written = cordon_path_under(col[j].path, writes.rules[i].path);
        if (written)
            continue; /* read-write already */
        if (col[j].covered == 1 && !col[j].below)
            r = add_rule(l, CORDON_RULE_RO, col[j].path, 1, "the build read it");
        else if (!col[j].below)
            r = add_rule(l, CORDON_RULE_RO, col[j].path, col[j].covered,
                         "the build read it by %zu paths", col[j].covered);
        else
            r = add_rule(l, CORDON_RULE_RO, col[j].path, col[j].covered,
                         "the build read %zu paths below it", col[j].covered);
        if (r < 0)
            goto fail_writes;
    }
    if (sys && (r = add_rule(l, CORDON_RULE_RO, "/sys", 0, "the build read the kernel's /sys")) < 0)
        goto fail_writes;
    if (cordon_grow((void **)&l->rules, &l->cap_rules, l->n_rules + writes.n_rules,
                    sizeof *l->rules) < 0)
        goto fail_writes;
    for (size_t i = 0; i < writes.n_rules; i++)
        l->rules[l->n_rules++] = writes.rules[i];
    writes.n_rules = 0;
    free(writes.rules);
    writes.rules = NULL;
    char cw[PATH_MAX];
    cwd_rule(worktree, m->command.cwd, cw, sizeof cw);
    if ((r = add_rule(l, CORDON_RULE_RW, cw, 0, "the work tree")) < 0 ||
        (r = add_rule(l, CORDON_RULE_TMPFS, "/tmp", 0, "scratch space, private to the build")) <
            0 ||
        (var_tmp && (r = add_rule(l, CORDON_RULE_TMPFS, "/var/tmp", 0,
                                  "the build wrote here: scratch space")) < 0) ||
        (r = add_rule(l, CORDON_RULE_DEV, "/dev", 0,
                      dev ? "the build used devices" : "the runner's minimal /dev")) < 0 ||
        (r = add_rule(l, CORDON_RULE_PROC, "/proc", 0,
                      proc ? "the build read /proc" : "a fresh /proc for the build's processes")) <
            0)
        goto fail;
    for (size_t i = 0; i < l->n_left_out; i++)
        for (size_t j = 0; j < ncol; j++)
            if (cordon_path_under(l->left_out[i].path, col[j].path)) {
                if ((r = add_rule(l, CORDON_RULE_HIDE, l->left_out[i].path, 0,
                                  "%s: stays hidden under %s", l->left_out[i].category,
                                  col[j].path)) < 0)
                    goto fail;
                break;
            }

    /* the variables the build consulted that it started with */
    size_t ns = 0;
    for (size_t i = 0; i < m->n_env_reads; i++) {
        const struct cordon_env_read *e = &m->env_reads[i];
        if (e->value && !e->redacted && env_value(m->command.env, e->name) &&
            !shell_variable(e->name))
            ns++;
    }
    if (ns) {
        l->steering = calloc(ns + 1, sizeof *l->steering);
        if (!l->steering)
            goto fail;
        ns = 0;
        for (size_t i = 0; i < m->n_env_reads; i++) {
            const struct cordon_env_read *e = &m->env_reads[i];
            if (!e->value || e->redacted || !env_value(m->command.env, e->name) ||
                shell_variable(e->name))
                continue;
            if (asprintf(&l->steering[ns], "%s=%s", e->name, e->value) < 0) {
                l->steering[ns] = NULL;
                goto fail;
            }
            ns++;
        }
        qsort(l->steering, ns, sizeof *l->steering, cmp_str);
    }
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    for (char **a = m->command.argv; a && *a; a++) {
        if (a != m->command.argv)
            cordon_strbuf_adds(&sb, " ");
        cordon_strbuf_adds(&sb, *a);
    }
    l->command = cordon_strbuf_detach(&sb);
    if (!l->command)
        goto fail;
    cordon_collapsed_free(col, ncol);
    cordon_map_free(seen);
    needed_release(&nd);
    *ret = l;
    return 0;

fail_writes:
    for (size_t i = 0; i < writes.n_rules; i++) {
        free(writes.rules[i].path);
        free(writes.rules[i].why);
    }
    free(writes.rules);
fail:
    cordon_collapsed_free(col, ncol);
    cordon_map_free(seen);
    needed_release(&nd);
    cordon_learned_free(l);
    if (r >= 0)
        r = -ENOMEM;
    if (r == -ENOMEM)
        cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    return r;
}

/* The keyword of a rule kind (policy.h's spelling). */
static const char *kind_name(enum cordon_rule_kind k) {
    switch (k) {
    case CORDON_RULE_RO:
        return "ro";
    case CORDON_RULE_RW:
        return "rw";
    case CORDON_RULE_HIDE:
        return "hide";
    case CORDON_RULE_DENY:
        return "deny";
    case CORDON_RULE_EMPTY:
        return "empty";
    case CORDON_RULE_REDIRECT:
        return "redirect";
    case CORDON_RULE_TMPFS:
        return "tmpfs";
    case CORDON_RULE_DEV:
        return "dev";
    case CORDON_RULE_PROC:
        return "proc";
    case CORDON_RULE_MAX:
    case CORDON_RULE_INVALID:
    default:
        return "?";
    }
}

/* A token as the policy parser reads it: quoted when it holds a blank, a
 * quote, a backslash or a '#'. */
static void put_token(FILE *out, const char *s) {
    if (!s[strcspn(s, " \t\"\\#")]) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

int cordon_learned_write(const struct cordon_learned *l, const char *verdict, FILE *out) {
    fprintf(out, "# Learned by cordon learn from: %s\n", l->command ? l->command : "");
    if (verdict)
        fprintf(out, "# Verification: %s\n", verdict);
    fprintf(out,
            "# %zu rules for %zu paths the build needed outside its work tree;\n"
            "# see cordon-learn(1) for how directories are collapsed.\n",
            cordon_learned_rule_count(l), l->reads);
    fputs("description learned by cordon learn\n", out);
    /* Said, not implied: a policy silent about "/" is run over the base
     * profile (the whole system read-only), which would verify nothing. */
    fputs("hide /  # nothing of the host but what follows\n", out);
    size_t width = 0;
    for (size_t i = 0; i < l->n_rules; i++) {
        size_t w = strlen(kind_name(l->rules[i].kind)) + 1 + strlen(l->rules[i].path);
        if (w > width && w < 60)
            width = w;
    }
    for (size_t i = 0; i < l->n_rules; i++) {
        const struct cordon_learned_rule *r = &l->rules[i];
        const char *kw = kind_name(r->kind);
        fputs(kw, out);
        fputc(' ', out);
        put_token(out, r->path);
        size_t w = strlen(kw) + 1 + strlen(r->path);
        fprintf(out, "%*s # %s\n", w < width ? (int)(width - w) : 0, "", r->why);
    }
    fprintf(out, "home %s  # %s\n", l->home == CORDON_HOME_KEEP ? "keep" : "fresh",
            l->home_why ? l->home_why : "");
    if (l->n_left_out) {
        fprintf(out,
                "\n# Left out: %zu breach%s the build reached for, hidden (add a rule only\n"
                "# if the build must have one):\n",
                l->n_left_out, l->n_left_out == 1 ? "" : "es");
        for (size_t i = 0; i < l->n_left_out; i++)
            fprintf(out, "#   %s  (%s)\n", l->left_out[i].path, l->left_out[i].category);
    }
    if (l->steering && l->steering[0]) {
        fputs("\n# The build consulted these variables it started with; the policy passes\n"
              "# the environment as it is:\n",
              out);
        for (char **s = l->steering; *s; s++)
            fprintf(out, "#   %s\n", *s);
    }
    return ferror(out) ? -EIO : 0;
}
