/* The manifest model: allocation, canonical order, lookup, name tables and
 * the secret-variable rule. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cordon/manifest.h>
#include <cordon/util.h>

/* ---- name tables -------------------------------------------------------- */

static const char *const ftype_names[CORDON_FT_MAX] = {
    [CORDON_FT_FILE] = "file",       [CORDON_FT_SYMLINK] = "symlink", [CORDON_FT_DIR] = "dir",
    [CORDON_FT_MISSING] = "missing", [CORDON_FT_OTHER] = "other",
};

const char *cordon_ftype_name(enum cordon_ftype t) {
    if ((int)t < 0 || t >= CORDON_FT_MAX)
        return NULL;
    return ftype_names[t];
}

enum cordon_ftype cordon_ftype_from_name(const char *s) {
    if (!s)
        return CORDON_FT_INVALID;
    for (int i = 0; i < CORDON_FT_MAX; i++)
        if (strcmp(s, ftype_names[i]) == 0)
            return (enum cordon_ftype)i;
    return CORDON_FT_INVALID;
}

/* Indexed by bit number. */
static const char *const use_names[CORDON_USE_COUNT] = {
    "read", "exec", "stat", "probe", "list", "readlink", "load", "search",
};

const char *cordon_use_name(unsigned bit) {
    /* Exactly one bit, and a known one. */
    if (!bit || (bit & (bit - 1)))
        return NULL;
    unsigned i = (unsigned)__builtin_ctz(bit);
    return i < CORDON_USE_COUNT ? use_names[i] : NULL;
}

unsigned cordon_use_from_name(const char *s) {
    if (!s)
        return 0;
    for (unsigned i = 0; i < CORDON_USE_COUNT; i++)
        if (strcmp(s, use_names[i]) == 0)
            return 1u << i;
    return 0;
}

/* ---- lifecycle ---------------------------------------------------------- */

struct cordon_manifest *cordon_manifest_new(void) {
    struct cordon_manifest *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->version = CORDON_MANIFEST_VERSION;
    return m;
}

char **cordon_strv_free(char **v) {
    if (!v)
        return NULL;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
    return NULL;
}

size_t cordon_strv_length(char *const *v) {
    size_t n = 0;
    if (v)
        while (v[n])
            n++;
    return n;
}

char **cordon_strv_copy(char *const *v) {
    if (!v)
        return NULL;
    size_t n = cordon_strv_length(v);
    char **c = calloc(n + 1, sizeof *c);
    if (!c)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!(c[i] = strdup(v[i])))
            return cordon_strv_free(c);
    return c;
}

static void input_release(struct cordon_input *in) {
    free(in->path);
    free(in->target);
    free(in->category);
    free(in->package);
}

static void output_release(struct cordon_output *o) {
    free(o->path);
    free(o->target);
}

static void process_release(struct cordon_process *p) {
    free(p->exe);
    free(p->cwd);
    cordon_strv_free(p->argv);
}

static void env_read_release(struct cordon_env_read *e) {
    free(e->name);
    free(e->value);
}

static void gap_release(struct cordon_gap *g) {
    free(g->kind);
    free(g->path);
    free(g->detail);
}

struct cordon_manifest *cordon_manifest_free(struct cordon_manifest *m) {
    if (!m)
        return NULL;
    free(m->tool);
    free(m->worktree);
    free(m->host.os);
    free(m->host.arch);
    free(m->host.kernel);
    free(m->host.distro);
    free(m->host.libc);
    cordon_strv_free(m->command.argv);
    free(m->command.cwd);
    cordon_strv_free(m->command.env);
    for (size_t i = 0; i < m->n_inputs; i++)
        input_release(&m->inputs[i]);
    free(m->inputs);
    for (size_t i = 0; i < m->n_outputs; i++)
        output_release(&m->outputs[i]);
    free(m->outputs);
    for (size_t i = 0; i < m->n_processes; i++)
        process_release(&m->processes[i]);
    free(m->processes);
    for (size_t i = 0; i < m->n_env_reads; i++)
        env_read_release(&m->env_reads[i]);
    free(m->env_reads);
    for (size_t i = 0; i < m->n_gaps; i++)
        gap_release(&m->gaps[i]);
    free(m->gaps);
    free(m);
    return NULL;
}

/* ---- adding ------------------------------------------------------------- */

/* Reserve one zeroed slot at the end of an array; NULL on ENOMEM. */
static void *append(void **items, size_t *n, size_t *cap, size_t size) {
    if (*n == SIZE_MAX || cordon_grow(items, cap, *n + 1, size) < 0)
        return NULL;
    void *slot = (char *)*items + *n * size;
    memset(slot, 0, size);
    (*n)++;
    return slot;
}

struct cordon_input *cordon_manifest_add_input(struct cordon_manifest *m, const char *path) {
    char *p = strdup(path);
    if (!p)
        return NULL;
    struct cordon_input *in =
        append((void **)&m->inputs, &m->n_inputs, &m->cap_inputs, sizeof *m->inputs);
    if (!in) {
        free(p);
        return NULL;
    }
    in->path = p;
    return in;
}

struct cordon_output *cordon_manifest_add_output(struct cordon_manifest *m, const char *path) {
    char *p = strdup(path);
    if (!p)
        return NULL;
    struct cordon_output *o =
        append((void **)&m->outputs, &m->n_outputs, &m->cap_outputs, sizeof *m->outputs);
    if (!o) {
        free(p);
        return NULL;
    }
    o->path = p;
    return o;
}

struct cordon_process *cordon_manifest_add_process(struct cordon_manifest *m, int pid) {
    struct cordon_process *p =
        append((void **)&m->processes, &m->n_processes, &m->cap_processes, sizeof *m->processes);
    if (p)
        p->pid = pid;
    return p;
}

struct cordon_env_read *cordon_manifest_add_env_read(struct cordon_manifest *m, const char *name) {
    char *n = strdup(name);
    if (!n)
        return NULL;
    struct cordon_env_read *e =
        append((void **)&m->env_reads, &m->n_env_reads, &m->cap_env_reads, sizeof *m->env_reads);
    if (!e) {
        free(n);
        return NULL;
    }
    e->name = n;
    return e;
}

int cordon_manifest_add_gap(struct cordon_manifest *m, const char *kind, const char *path, int pid,
                            const char *detail) {
    struct cordon_gap g = {.pid = pid};
    if ((kind && !(g.kind = strdup(kind))) || (path && !(g.path = strdup(path))) ||
        (detail && !(g.detail = strdup(detail)))) {
        gap_release(&g);
        return -ENOMEM;
    }
    struct cordon_gap *slot = append((void **)&m->gaps, &m->n_gaps, &m->cap_gaps, sizeof *m->gaps);
    if (!slot) {
        gap_release(&g);
        return -ENOMEM;
    }
    *slot = g;
    return 0;
}

/* ---- canonical order ---------------------------------------------------- */

/* NULL sorts before every string. */
static int strcmp0(const char *a, const char *b) {
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

static int strvcmp(char *const *a, char *const *b) {
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    for (size_t i = 0;; i++) {
        if (!a[i] || !b[i])
            return (a[i] != NULL) - (b[i] != NULL);
        int c = strcmp(a[i], b[i]);
        if (c)
            return c;
    }
}

#define CMP(a, b) (((a) > (b)) - ((a) < (b)))

/* Sorting goes through an index array so that ties keep insertion order
 * (qsort is not stable), which is what "the first entry's metadata kept"
 * needs when duplicates merge. */
struct sort_ctx {
    const void *items;
    size_t size;
    int (*cmp)(const void *, const void *);
};

static int by_index(const void *pa, const void *pb, void *arg) {
    const struct sort_ctx *c = arg;
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    int r = c->cmp((const char *)c->items + a * c->size, (const char *)c->items + b * c->size);
    return r ? r : CMP(a, b);
}

/* Stable sort of `n` items of `size` bytes. Falls back to a plain qsort
 * when the index array cannot be allocated (order then still canonical,
 * ties aside). Skips all work when already in order, which is the common
 * case for a manifest just read from disk. */
static void stable_sort(void *items, size_t n, size_t size,
                        int (*cmp)(const void *, const void *)) {
    if (n < 2)
        return;
    size_t i;
    for (i = 1; i < n; i++)
        if (cmp((char *)items + (i - 1) * size, (char *)items + i * size) > 0)
            break;
    if (i == n)
        return;
    size_t *idx = malloc(n * sizeof *idx);
    char *tmp = n <= SIZE_MAX / size ? malloc(n * size) : NULL;
    if (!idx || !tmp) {
        free(idx);
        free(tmp);
        qsort(items, n, size, cmp);
        return;
    }
    for (i = 0; i < n; i++)
        idx[i] = i;
    struct sort_ctx ctx = {items, size, cmp};
    qsort_r(idx, n, sizeof *idx, by_index, &ctx);
    for (i = 0; i < n; i++)
        memcpy(tmp + i * size, (char *)items + idx[i] * size, size);
    memcpy(items, tmp, n * size);
    free(tmp);
    free(idx);
}

static int input_cmp(const void *pa, const void *pb) {
    const struct cordon_input *a = pa, *b = pb;
    return strcmp(a->path, b->path);
}

static int output_cmp(const void *pa, const void *pb) {
    const struct cordon_output *a = pa, *b = pb;
    return strcmp(a->path, b->path);
}

/* Processes by pid; a reused pid is ordered by what it ran, so that the
 * order does not depend on the order of insertion. */
static int process_cmp(const void *pa, const void *pb) {
    const struct cordon_process *a = pa, *b = pb;
    int r;
    if ((r = CMP(a->pid, b->pid)) || (r = CMP(a->ppid, b->ppid)) || (r = strcmp0(a->exe, b->exe)) ||
        (r = strvcmp(a->argv, b->argv)) || (r = strcmp0(a->cwd, b->cwd)) ||
        (r = CMP(a->status, b->status)))
        return r;
    return CMP(a->flags, b->flags);
}

static int env_read_cmp(const void *pa, const void *pb) {
    const struct cordon_env_read *a = pa, *b = pb;
    return strcmp(a->name, b->name);
}

static int gap_cmp(const void *pa, const void *pb) {
    const struct cordon_gap *a = pa, *b = pb;
    int r;
    if ((r = strcmp0(a->kind, b->kind)) || (r = strcmp0(a->path, b->path)) ||
        (r = CMP(a->pid, b->pid)))
        return r;
    return strcmp0(a->detail, b->detail);
}

/* Fold `dup` into `keep` (the earlier entry): uses and flags are OR-ed,
 * and a field the earlier entry lacks is taken from the later one. */
static void input_merge(struct cordon_input *keep, struct cordon_input *dup) {
    keep->uses |= dup->uses;
    keep->flags |= dup->flags;
    if (!keep->has_hash && dup->has_hash) {
        keep->has_hash = true;
        keep->hash = dup->hash;
    }
    if (!keep->has_listing && dup->has_listing) {
        keep->has_listing = true;
        keep->listing = dup->listing;
    }
    if (!keep->target)
        keep->target = TAKE_PTR(dup->target);
    if (!keep->category)
        keep->category = TAKE_PTR(dup->category);
    if (!keep->package)
        keep->package = TAKE_PTR(dup->package);
    if (!keep->first_pid)
        keep->first_pid = dup->first_pid;
    input_release(dup);
}

void cordon_manifest_sort(struct cordon_manifest *m) {
    stable_sort(m->inputs, m->n_inputs, sizeof *m->inputs, input_cmp);
    size_t w = 0;
    for (size_t r = 0; r < m->n_inputs; r++) {
        if (w && strcmp(m->inputs[w - 1].path, m->inputs[r].path) == 0)
            input_merge(&m->inputs[w - 1], &m->inputs[r]);
        else
            m->inputs[w++] = m->inputs[r];
    }
    m->n_inputs = w;

    stable_sort(m->outputs, m->n_outputs, sizeof *m->outputs, output_cmp);
    w = 0;
    for (size_t r = 0; r < m->n_outputs; r++) {
        if (w && strcmp(m->outputs[w - 1].path, m->outputs[r].path) == 0)
            output_release(&m->outputs[r]);
        else
            m->outputs[w++] = m->outputs[r];
    }
    m->n_outputs = w;

    stable_sort(m->env_reads, m->n_env_reads, sizeof *m->env_reads, env_read_cmp);
    w = 0;
    for (size_t r = 0; r < m->n_env_reads; r++) {
        if (w && strcmp(m->env_reads[w - 1].name, m->env_reads[r].name) == 0) {
            if (!m->env_reads[w - 1].first_pid)
                m->env_reads[w - 1].first_pid = m->env_reads[r].first_pid;
            env_read_release(&m->env_reads[r]);
        } else {
            m->env_reads[w++] = m->env_reads[r];
        }
    }
    m->n_env_reads = w;

    stable_sort(m->processes, m->n_processes, sizeof *m->processes, process_cmp);
    stable_sort(m->gaps, m->n_gaps, sizeof *m->gaps, gap_cmp);
}

const struct cordon_input *cordon_manifest_find_input(const struct cordon_manifest *m,
                                                      const char *path) {
    size_t lo = 0, hi = m->n_inputs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(path, m->inputs[mid].path);
        if (!c)
            return &m->inputs[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const struct cordon_output *cordon_manifest_find_output(const struct cordon_manifest *m,
                                                        const char *path) {
    size_t lo = 0, hi = m->n_outputs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(path, m->outputs[mid].path);
        if (!c)
            return &m->outputs[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* ---- secrets -------------------------------------------------------------
 * A variable's value is a secret when its name (compared case-insensitively)
 *   - contains TOKEN, SECRET, PASSWORD, PASSWD, PASSPHRASE, APIKEY, API_KEY,
 *     ACCESS_KEY, PRIVATE_KEY, CREDENTIAL, AUTHORIZATION, COOKIE or SESSION_KEY;
 *   - ends in _KEY, _PASS, _PWD (but not OLDPWD/PWD themselves, which are
 *     directories) or _AUTH, or contains _AUTH_ (NPM_CONFIG__AUTH,
 *     NODE_AUTH_TOKEN), except SSH_AUTH_SOCK, which is a socket path that
 *     the build may need and that grants nothing off this host;
 *   - is one of the well-known credential variables listed below.
 * GIT_AUTHOR_NAME is not a secret: "_AUTH" must be followed by "_" or the end.
 */
static bool contains_ci(const char *s, const char *needle) {
    return strcasestr(s, needle);
}

static bool ends_ci(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

bool cordon_env_is_secret(const char *name) {
    static const char *const contains[] = {
        "TOKEN",       "SECRET",  "PASSWORD",   "PASSWD",        "PASSPHRASE",
        "APIKEY",      "API_KEY", "ACCESS_KEY", "PRIVATE_KEY",   "CREDENTIAL",
        "SESSION_KEY", "COOKIE",  "_AUTH_",     "AUTHORIZATION",
    };
    static const char *const suffixes[] = {"_KEY", "_PASS", "_PWD", "_AUTH"};
    static const char *const exact[] = {
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "NPM_TOKEN",
        "PGPASSWORD",
        "MYSQL_PWD",
        "TWINE_PASSWORD",
        "VAULT_TOKEN",
        "DOCKER_AUTH_CONFIG",
    };
    if (!name || !*name)
        return false;
    if (strcasecmp(name, "SSH_AUTH_SOCK") == 0)
        return false;
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(exact); i++)
        if (strcasecmp(name, exact[i]) == 0)
            return true;
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(contains); i++)
        if (contains_ci(name, contains[i]))
            return true;
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(suffixes); i++)
        if (ends_ci(name, suffixes[i]))
            return true;
    return false;
}

enum cordon_ftype cordon_ftype_from_mode(unsigned mode) {
    if (S_ISREG(mode))
        return CORDON_FT_FILE;
    if (S_ISLNK(mode))
        return CORDON_FT_SYMLINK;
    if (S_ISDIR(mode))
        return CORDON_FT_DIR;
    return CORDON_FT_OTHER;
}
