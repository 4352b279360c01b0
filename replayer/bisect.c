/* cordon bisect: which host inputs and variables make a build behave
 * differently natively and in its hermetic replay.
 *
 * The candidates are what this host has that the replay lacks: inputs the
 * archive left out (pack's dropped categories and credentials, which the
 * packed manifest does not mark: an input absent from the unpacked root is
 * one), inputs that were missing when recorded and exist here, inputs whose
 * bytes here differ from the recording's, and variables of this environment
 * that the replay's lacks or has with another value. They are added back to
 * a copy of the root in halves (the search below) until the few that make
 * the difference are found. Behaviour ported from the Rust tree's
 * bisect.rs (commit 3f89736), turned around: the Rust tree hid breaches
 * from a native run, this adds them back to a replay.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cordon/classify.h>
#include <cordon/error.h>
#include <cordon/hash.h>
#include <cordon/learn.h>
#include <cordon/manifest.h>
#include <cordon/replay.h>
#include <cordon/trace.h>
#include <cordon/util.h>

/* ---- candidates ------------------------------------------------------------ */

void cordon_candidates_release(struct cordon_candidates *c) {
    for (size_t i = 0; i < c->n; i++) {
        free(c->items[i].name);
        free(c->items[i].value);
        free(c->items[i].why);
    }
    free(c->items);
    c->items = NULL;
    c->n = c->cap = 0;
}

int cordon_candidates_add(struct cordon_candidates *c, enum cordon_candidate_kind kind,
                          const char *name, const char *value, const char *why) {
    if (cordon_grow((void **)&c->items, &c->cap, c->n + 1, sizeof *c->items) < 0)
        return -ENOMEM;
    struct cordon_candidate *it = &c->items[c->n];
    it->kind = kind;
    it->name = strdup(name);
    it->value = cordon_strdup0(value);
    it->why = cordon_strdup0(why);
    if (!it->name || (value && !it->value) || (why && !it->why)) {
        free(it->name);
        free(it->value);
        free(it->why);
        return -ENOMEM;
    }
    c->n++;
    return 0;
}

static const char *env_lookup(char *const *env, const char *name, size_t len) {
    for (char *const *e = env; e && *e; e++)
        if (!strncmp(*e, name, len) && (*e)[len] == '=')
            return *e + len + 1;
    return NULL;
}

/* Variables that say where a shell or cordon itself is, not what the build
 * sees: never candidates. The loader's preload and audit lists would bring
 * the host's libraries into the root. */
static bool env_ignored(const char *name, size_t len) {
    static const char *const names[] = {
        "PWD",          "OLDPWD",        "SHLVL",           "_", "LD_PRELOAD", "LD_AUDIT",
        CORDON_ENV_LOG, CORDON_ENV_HOOK, CORDON_ENV_NOTIFY,
    };
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(names); i++)
        if (strlen(names[i]) == len && !memcmp(names[i], name, len))
            return true;
    return false;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether the host's file at `path` differs from what the manifest says. */
static bool host_differs(const struct cordon_input *in) {
    struct stat st;
    if (lstat(in->path, &st) < 0)
        return false;
    if (cordon_ftype_from_mode(st.st_mode) != in->type)
        return true;
    if (in->type == CORDON_FT_SYMLINK && in->target) {
        char t[PATH_MAX];
        ssize_t k = readlink(in->path, t, sizeof t - 1);
        if (k < 0)
            return false;
        t[k] = '\0';
        return strcmp(t, in->target) != 0;
    }
    if (in->type == CORDON_FT_FILE && in->has_hash && cordon_use_needs_content(in->uses)) {
        if ((uint64_t)st.st_size != in->size)
            return true;
        struct cordon_hash h;
        uint64_t size;
        if (cordon_hash_file(AT_FDCWD, in->path, &h, &size) < 0)
            return false;
        return !cordon_hash_equal(&h, &in->hash);
    }
    return false;
}

int cordon_bisect_candidates(const struct cordon_manifest *m, const char *root,
                             char *const *host_env, char *const *replay_env,
                             struct cordon_candidates *ret, struct cordon_error *err) {
    const char *worktree = m->worktree ? m->worktree : m->command.cwd;
    const char *home = env_lookup(m->command.env, "HOME", 4);
    int r;
    for (size_t i = 0; i < m->n_inputs; i++) {
        const struct cordon_input *in = &m->inputs[i];
        if (cordon_path_is_virtual(in->path) || !strcmp(in->path, "/") ||
            (worktree && cordon_path_under(in->path, worktree)))
            continue;
        struct stat st;
        if (lstat(in->path, &st) < 0)
            continue; /* not here either */
        char inroot[PATH_MAX];
        if ((size_t)snprintf(inroot, sizeof inroot, "%s%s", root, in->path) >= sizeof inroot)
            return cordon_error_set(err, ENAMETOOLONG, in->path, 0, 0, "'%s%s' is too long", root,
                                    in->path);
        enum cordon_category cat =
            in->category ? cordon_category_from_name(in->category) : CORDON_CAT_INVALID;
        if (cat == CORDON_CAT_INVALID)
            cat = cordon_classify_path(in->path, home, worktree);
        char why[256];
        struct stat rst;
        if (lstat(inroot, &rst) < 0) {
            if (in->type == CORDON_FT_MISSING)
                (void)snprintf(why, sizeof why, "missing when recorded, present here (%s)",
                               cordon_category_name(cat));
            else
                (void)snprintf(why, sizeof why, "left out of the archive (%s)",
                               cordon_category_name(cat));
        } else if (in->type != CORDON_FT_MISSING && host_differs(in)) {
            (void)snprintf(why, sizeof why, "differs here from the recording (%s)",
                           cordon_category_name(cat));
        } else {
            continue;
        }
        if (cordon_candidates_add(ret, CORDON_CANDIDATE_FILE, in->path, NULL, why) < 0)
            return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    }
    /* variables, by name */
    size_t n = cordon_strv_length(host_env);
    char **sorted = calloc(n + 1, sizeof *sorted);
    if (!sorted)
        return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    if (n)
        memcpy(sorted, host_env, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_str);
    r = 0;
    for (size_t i = 0; i < n; i++) {
        const char *e = sorted[i];
        const char *eq = strchr(e, '=');
        if (!eq || eq == e)
            continue;
        size_t len = (size_t)(eq - e);
        if (env_ignored(e, len))
            continue;
        const char *rv = env_lookup(replay_env, e, len);
        if (rv && !strcmp(rv, eq + 1))
            continue;
        const char *rec = env_lookup(m->command.env, e, len);
        char why[256];
        if (rec && !strcmp(rec, "<redacted>"))
            (void)snprintf(why, sizeof why, "redacted in the recording, not passed by the replay");
        else if (!rv)
            (void)snprintf(why, sizeof why, "not in the recording");
        else
            (void)snprintf(why, sizeof why, "recorded with another value");
        char name[256];
        if (len >= sizeof name)
            continue;
        memcpy(name, e, len);
        name[len] = '\0';
        if ((r = cordon_candidates_add(ret, CORDON_CANDIDATE_ENV, name, eq + 1, why)) < 0) {
            r = cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
            break;
        }
    }
    free(sorted);
    return r;
}

/* ---- candidates from a file --------------------------------------------------- */

static bool env_name_ok(const char *s, size_t len) {
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!(s[i] == '_' || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (i > 0 && s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

static int load_env(const char *path, int line, const char *s, char *const *host_env,
                    struct cordon_candidates *ret, struct cordon_error *err) {
    const char *eq = strchr(s, '=');
    size_t len = eq ? (size_t)(eq - s) : strlen(s);
    if (!env_name_ok(s, len))
        return cordon_error_set(err, EINVAL, path, line, 0, "'%s' is not a variable name", s);
    char name[256];
    if (len >= sizeof name)
        return cordon_error_set(err, EINVAL, path, line, 0, "the variable name is too long");
    memcpy(name, s, len);
    name[len] = '\0';
    const char *value = eq ? eq + 1 : env_lookup(host_env, s, len);
    if (!value)
        return cordon_error_set(err, EINVAL, path, line, 0,
                                "'%s' is not set here: give its value as %s=VALUE", name, name);
    if (cordon_candidates_add(ret, CORDON_CANDIDATE_ENV, name, value, path) < 0)
        return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    return 0;
}

int cordon_bisect_candidates_load(const char *path, char *const *host_env,
                                  struct cordon_candidates *ret, struct cordon_error *err) {
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (!f)
        return cordon_error_set(err, errno, path, 0, 0, "cannot open '%s'", path);
    _cleanup_free_ char *buf = NULL;
    size_t cap = 0;
    int line = 0, r;
    while (getline(&buf, &cap, f) >= 0) {
        line++;
        char *s = buf;
        char *hash = strchr(s, '#');
        if (hash)
            *hash = '\0';
        s += strspn(s, " \t");
        size_t len = strlen(s);
        while (len && strchr(" \t\r\n", s[len - 1]))
            s[--len] = '\0';
        if (!*s)
            continue;
        if (!strncmp(s, "file", 4) && (s[4] == ' ' || s[4] == '\t')) {
            s += 4 + strspn(s + 4, " \t");
            if (s[0] != '/')
                return cordon_error_set(err, EINVAL, path, line, 0, "'%s' is not an absolute path",
                                        s);
        } else if (!strncmp(s, "env", 3) && (s[3] == ' ' || s[3] == '\t')) {
            if ((r = load_env(path, line, s + 3 + strspn(s + 3, " \t"), host_env, ret, err)) < 0)
                return r;
            continue;
        } else if (s[0] != '/') {
            if (!strchr(s, '='))
                return cordon_error_set(err, EINVAL, path, line, 0,
                                        "expected 'file PATH', 'env NAME[=VALUE]', an absolute "
                                        "path or NAME=VALUE, not '%s'",
                                        s);
            if ((r = load_env(path, line, s, host_env, ret, err)) < 0)
                return r;
            continue;
        }
        char norm[PATH_MAX];
        if ((size_t)snprintf(norm, sizeof norm, "%s", s) >= sizeof norm)
            return cordon_error_set(err, ENAMETOOLONG, path, line, 0, "the path is too long");
        cordon_path_normalize(norm);
        if (cordon_candidates_add(ret, CORDON_CANDIDATE_FILE, norm, NULL, path) < 0)
            return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    }
    if (ferror(f))
        return cordon_error_set(err, errno ? errno : EIO, path, 0, 0, "cannot read '%s'", path);
    return 0;
}

/* ---- the root of one run ---------------------------------------------------- */

struct link_ctx {
    const struct cordon_manifest *m;
    const char *pristine;
    size_t plen;
    const char *worktree;
};

/* Hard-link a file of the pristine root unless the build may change it in
 * place: the work tree and the outputs are copied. */
static bool may_link(void *ctx, const char *src) {
    const struct link_ctx *c = ctx;
    const char *p = src + c->plen; /* the path inside the root */
    if (!strncmp(p, "/.cordon/", 9))
        return true;
    if (c->worktree && cordon_path_under(p, c->worktree))
        return false;
    return !cordon_manifest_find_output(c->m, p);
}

static int copy_fd(int in, int out) {
    for (;;) {
        ssize_t r = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
        if (r == 0)
            return 0;
        if (r > 0)
            continue;
        if (errno == EINTR)
            continue;
        if (errno != EXDEV && errno != ENOSYS && errno != EOPNOTSUPP && errno != EINVAL)
            return -errno;
        char buf[1 << 16];
        ssize_t k;
        while ((k = read(in, buf, sizeof buf)) > 0)
            if (write(out, buf, (size_t)k) != k)
                return errno ? -errno : -EIO;
        return k < 0 ? -errno : 0;
    }
}

/* Put the host's `path` at the same place in the root open on `rootfd`. */
static int add_host_path(int rootfd, const char *root, const char *path, struct cordon_error *err) {
    struct stat st;
    if (lstat(path, &st) < 0)
        return cordon_error_set(err, errno, path, 0, 0, "cannot add '%s' to the root", path);
    char parent[PATH_MAX];
    (void)snprintf(parent, sizeof parent, "%s", path);
    char *slash = strrchr(parent, '/');
    if (!slash || !slash[1])
        return 0;
    const char *base = path + (slash - parent) + 1;
    if (slash == parent)
        strcpy(parent, "/");
    else
        *slash = '\0';
    int r = cordon_root_mkdir_p(rootfd, parent[1] ? parent + 1 : "");
    if (r < 0)
        return cordon_error_set(err, -r, parent, 0, 0, "cannot create '%s' in the root '%s'",
                                parent, root);
    _cleanup_close_ int dfd = cordon_root_open(rootfd, parent, O_PATH | O_DIRECTORY);
    if (dfd < 0)
        return cordon_error_set(err, -dfd, parent, 0, 0, "cannot open '%s' in the root '%s'",
                                parent, root);
    if (S_ISDIR(st.st_mode)) {
        if (mkdirat(dfd, base, st.st_mode & 07777) < 0 && errno != EEXIST)
            return cordon_error_set(err, errno, path, 0, 0, "cannot create '%s' in the root", path);
        return 0;
    }
    if (unlinkat(dfd, base, 0) < 0 && errno != ENOENT)
        return cordon_error_set(err, errno, path, 0, 0, "cannot replace '%s' in the root", path);
    if (S_ISLNK(st.st_mode)) {
        char t[PATH_MAX];
        ssize_t k = readlink(path, t, sizeof t - 1);
        if (k < 0)
            return cordon_error_set(err, errno, path, 0, 0, "cannot read the link '%s'", path);
        t[k] = '\0';
        if (symlinkat(t, dfd, base) < 0)
            return cordon_error_set(err, errno, path, 0, 0, "cannot create '%s' in the root", path);
        return 0;
    }
    if (!S_ISREG(st.st_mode))
        return 0; /* sockets, fifos, devices: not copied */
    _cleanup_close_ int in = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0)
        return cordon_error_set(err, errno, path, 0, 0, "cannot open '%s'", path);
    _cleanup_close_ int out =
        openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0)
        return cordon_error_set(err, errno, path, 0, 0, "cannot create '%s' in the root", path);
    if ((r = copy_fd(in, out)) < 0)
        return cordon_error_set(err, -r, path, 0, 0, "cannot copy '%s' into the root", path);
    if (fchmod(out, st.st_mode & 0777) < 0)
        return cordon_error_set(err, errno, path, 0, 0, "cannot set the mode of '%s'", path);
    return 0;
}

int cordon_bisect_prepare_root(const struct cordon_manifest *m, const char *pristine,
                               const char *dst, const struct cordon_candidates *c,
                               const size_t *subset, size_t k, struct cordon_error *err) {
    struct link_ctx lc = {
        .m = m,
        .pristine = pristine,
        .plen = strlen(pristine),
        .worktree = m->worktree ? m->worktree : m->command.cwd,
    };
    int r = cordon_copy_tree(pristine, dst, may_link, &lc, err);
    if (r < 0)
        return r;
    _cleanup_close_ int rootfd = open(dst, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return cordon_error_set(err, errno, dst, 0, 0, "cannot open '%s'", dst);
    for (size_t i = 0; i < k; i++) {
        const struct cordon_candidate *it = &c->items[subset[i]];
        if (it->kind != CORDON_CANDIDATE_FILE)
            continue;
        if ((r = add_host_path(rootfd, dst, it->name, err)) < 0)
            return r;
    }
    return 0;
}

/* ---- the search ----------------------------------------------------------- */

struct search {
    cordon_bisect_run_fn run;
    void *ctx;
    size_t runs_max;
    struct cordon_bisect_result *res;
    size_t *trial; /* scratch for one subset */
    int last;      /* the last run's code */
    /* the codes of the subsets run so far ("3,7,9" -> code + 1): the
     * search may ask for one twice (the rest after a group, say) */
    struct cordon_map *seen;
    char **keys; /* values of `seen`, to free */
    size_t n_keys, cap_keys;
};

/* The subset as a key: its indexes in hex, comma-separated. NULL on ENOMEM. */
static char *subset_key(const size_t *s, size_t k) {
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    cordon_strbuf_adds(&sb, "#");
    for (size_t i = 0; i < k; i++)
        cordon_strbuf_addf(&sb, "%zx,", s[i]);
    return cordon_strbuf_detach(&sb);
}

static int cmp_size(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Run the union of `a` (na) and `b` (nb), sorted. 1 differs, 0 not,
 * -ECANCELED at the run limit, else the oracle's error. */
static int differs(struct search *s, const size_t *a, size_t na, const size_t *b, size_t nb) {
    if (na)
        memcpy(s->trial, a, na * sizeof *a);
    if (nb)
        memcpy(s->trial + na, b, nb * sizeof *b);
    qsort(s->trial, na + nb, sizeof *s->trial, cmp_size);
    char *key = subset_key(s->trial, na + nb);
    if (!key)
        return -ENOMEM;
    void *known = cordon_map_get(s->seen, key);
    if (known) {
        free(key);
        s->last = (int)((intptr_t)known - 1);
        return s->last != s->res->reference;
    }
    if (s->runs_max && s->res->runs >= s->runs_max) {
        free(key);
        s->res->gave_up = true;
        return -ECANCELED;
    }
    s->res->runs++;
    int code = s->run(s->ctx, s->trial, na + nb);
    if (code < 0) {
        free(key);
        return code;
    }
    if (cordon_grow((void **)&s->keys, &s->cap_keys, s->n_keys + 1, sizeof *s->keys) < 0 ||
        cordon_map_put(s->seen, key, (void *)((intptr_t)code + 1)) < 0) {
        free(key);
        return -ENOMEM;
    }
    s->keys[s->n_keys++] = key;
    s->last = code;
    return code != s->res->reference;
}

/* The smallest group within `play` (np, which differs as a whole): the
 * shortest prefix that, with the group so far, still differs ends with a
 * member of the group; what follows it is not needed. Into `group`. */
static int find_group(struct search *s, const size_t *play, size_t np, size_t *group,
                      size_t *ret_ng) {
    size_t ng = 0, nr = np;
    for (;;) {
        if (nr == 0)
            break;
        if (ng > 0) {
            int d = differs(s, group, ng, NULL, 0);
            if (d < 0)
                return d;
            if (d)
                break;
        }
        /* group + play[0..nr) differs; find the shortest such prefix */
        size_t lo = 1, hi = nr;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            int d = differs(s, group, ng, play, mid);
            if (d < 0)
                return d;
            if (d)
                hi = mid;
            else
                lo = mid + 1;
        }
        group[ng++] = play[lo - 1];
        nr = lo - 1;
    }
    qsort(group, ng, sizeof *group, cmp_size);
    *ret_ng = ng;
    return 0;
}

void cordon_bisect_result_release(struct cordon_bisect_result *r) {
    for (size_t i = 0; i < r->n_groups; i++)
        free(r->groups[i].items);
    free(r->groups);
    r->groups = NULL;
    r->n_groups = 0;
}

/* The search proper; `play`, `group` and sp->trial are scratch arrays of
 * n + 1, n + 1 and 2n + 1 elements. */
static int search(size_t n, struct search *sp, size_t *play, size_t *group,
                  struct cordon_bisect_result *ret) {
    cordon_bisect_run_fn run = sp->run;
    void *ctx = sp->ctx;
    for (size_t i = 0; i < n; i++)
        play[i] = i;
    size_t np = n, cap = 0;

    /* the reference: nothing added */
    ret->runs = 1;
    int code = run(ctx, NULL, 0);
    if (code < 0)
        return code;
    ret->reference = code;
    char *key = subset_key(NULL, 0);
    if (!key ||
        cordon_grow((void **)&sp->keys, &sp->cap_keys, sp->n_keys + 1, sizeof *sp->keys) < 0 ||
        cordon_map_put(sp->seen, key, (void *)((intptr_t)code + 1)) < 0) {
        free(key);
        return -ENOMEM;
    }
    sp->keys[sp->n_keys++] = key;
    /* everything added */
    int d = differs(sp, play, np, NULL, 0);
    if (d == -ECANCELED)
        return 0;
    if (d < 0)
        return d;
    ret->all = sp->last;
    ret->differs = d;
    if (!d)
        return 0;
    for (;;) {
        size_t ng = 0;
        int r = find_group(sp, play, np, group, &ng);
        if (r == -ECANCELED)
            return 0;
        if (r < 0)
            return r;
        if (cordon_grow((void **)&ret->groups, &cap, ret->n_groups + 1, sizeof *ret->groups) < 0)
            return -ENOMEM;
        struct cordon_bisect_group *g = &ret->groups[ret->n_groups];
        g->items = malloc((ng ? ng : 1) * sizeof *g->items);
        if (!g->items)
            return -ENOMEM;
        if (ng)
            memcpy(g->items, group, ng * sizeof *group);
        g->n = ng;
        ret->n_groups++;
        /* take the group out of play; does the rest still differ? */
        size_t k = 0;
        for (size_t i = 0; i < np; i++)
            if (!bsearch(&play[i], group, ng, sizeof *group, cmp_size))
                play[k++] = play[i];
        np = k;
        if (np == 0 || ng == 0)
            break;
        d = differs(sp, play, np, NULL, 0);
        if (d == -ECANCELED)
            return 0;
        if (d < 0)
            return d;
        if (!d)
            break;
    }
    return 0;
}

int cordon_bisect_search(size_t n, cordon_bisect_run_fn run, void *ctx, size_t runs_max,
                         struct cordon_bisect_result *ret) {
    memset(ret, 0, sizeof *ret);
    struct search s = {.run = run, .ctx = ctx, .runs_max = runs_max, .res = ret};
    size_t *play = calloc(n + 1, sizeof *play);
    size_t *group = calloc(n + 1, sizeof *group);
    s.trial = calloc(2 * n + 1, sizeof *s.trial);
    s.seen = cordon_map_new(64);
    int r = -ENOMEM;
    if (play && group && s.trial && s.seen)
        r = search(n, &s, play, group, ret);
    free(play);
    free(group);
    free(s.trial);
    cordon_map_free(s.seen);
    for (size_t i = 0; i < s.n_keys; i++)
        free(s.keys[i]);
    free(s.keys);
    return r;
}
