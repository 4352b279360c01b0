/* Safe unpacking of a root: the tree writer (every entry created with *at()
 * below a directory fd, never through a symlink), the archive reader that
 * feeds it after checking each entry, and the copy of a `--format dir` root
 * through the same checks. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_STATIC_LINKING_ONLY
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <xxhash.h>

#include <cordon/error.h>
#include <cordon/hash.h>
#include <cordon/pack.h>
#include <cordon/util.h>

#include "archive-dl.h"

/* A .cordon/contents larger than this is not one pack wrote (it would list
 * millions of files); the limit keeps a hostile header from exhausting memory. */
#define CONTENTS_MAX (256u << 20)

/* ---- names -------------------------------------------------------------- */

bool cordon_pack_name_ok(const char *name) {
    if (!name || !*name || *name == '/' || strlen(name) >= PATH_MAX)
        return false;
    for (const char *p = name;;) {
        const char *e = strchrnul(p, '/');
        size_t n = (size_t)(e - p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        if (!*e)
            return true;
        p = e + 1;
    }
}

bool cordon_pack_symlink_ok(const char *name, const char *target) {
    if (!target || !*target)
        return false;
    if (target[0] == '/')
        return true;
    /* The link is read from its directory: as deep as `name` has slashes. */
    long depth = 0;
    for (const char *p = name; *p; p++)
        depth += *p == '/';
    for (const char *p = target;;) {
        const char *e = strchrnul(p, '/');
        size_t n = (size_t)(e - p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (--depth < 0)
                return false;
        } else if (n && !(n == 1 && p[0] == '.')) {
            depth++;
        }
        if (!*e)
            return true;
        p = e + 1;
    }
}

static struct timespec ns_to_ts(int64_t ns) {
    int64_t s = ns / 1000000000, r = ns % 1000000000;
    if (r < 0) {
        s--;
        r += 1000000000;
    }
    return (struct timespec){.tv_sec = s, .tv_nsec = r};
}

/* ---- the tree writer ---------------------------------------------------- */

enum node_kind { NODE_DIR, NODE_FILE, NODE_SYMLINK };

struct node {
    struct node *next;
    enum node_kind kind;
    bool implicit; /* a parent made for a deeper entry, without its own entry yet */
    bool has_hash;
    struct cordon_hash hash;
    unsigned mode;
    int64_t mtime_ns;
    char name[];
};

struct cordon_tree {
    char *dest;
    char *tmp;
    const char *label;
    int rootfd;
    struct cordon_map *nodes;
    struct node *all;
    size_t n_dirs;
    bool committed;
    /* The last parent directory opened: entries come sorted, so most share it. */
    char *cache_name;
    int cache_fd;
};

static const char *kind_word(enum node_kind k) {
    return k == NODE_DIR ? "directory" : k == NODE_FILE ? "file" : "symlink";
}

int cordon_tree_new(const char *dest, const char *label, struct cordon_tree **ret,
                    struct cordon_error *err) {
    struct stat st;
    if (lstat(dest, &st) == 0)
        return cordon_error_set(err, EEXIST, dest, 0, 0, "'%s' already exists", dest);
    if (errno != ENOENT)
        return cordon_error_set(err, errno, dest, 0, 0, "cannot look at '%s'", dest);

    struct cordon_tree *t = calloc(1, sizeof *t);
    if (!t)
        return cordon_error_set(err, ENOMEM, dest, 0, 0, "out of memory");
    t->rootfd = t->cache_fd = -1;
    t->label = label;
    t->dest = strdup(dest);
    t->nodes = cordon_map_new(256);
    if (!t->dest || !t->nodes) {
        cordon_tree_free(t);
        return cordon_error_set(err, ENOMEM, dest, 0, 0, "out of memory");
    }
    size_t n = strlen(t->dest);
    while (n > 1 && t->dest[n - 1] == '/')
        t->dest[--n] = '\0';

    /* The parent may be a cache directory not made yet. */
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", t->dest);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        int r = cordon_mkdir_p(parent, 0755);
        if (r < 0) {
            cordon_tree_free(t);
            return cordon_error_set(err, -r, dest, 0, 0, "cannot create '%s'", parent);
        }
    }
    if (asprintf(&t->tmp, "%s.tmp-XXXXXX", t->dest) < 0) {
        t->tmp = NULL;
        cordon_tree_free(t);
        return cordon_error_set(err, ENOMEM, dest, 0, 0, "out of memory");
    }
    if (!mkdtemp(t->tmp)) {
        int e = errno;
        free(t->tmp);
        t->tmp = NULL;
        cordon_tree_free(t);
        return cordon_error_set(err, e, dest, 0, 0, "cannot create a directory beside '%s'", dest);
    }
    t->rootfd = open(t->tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (t->rootfd < 0) {
        int e = errno;
        cordon_tree_free(t);
        return cordon_error_set(err, e, dest, 0, 0, "cannot open '%s'", dest);
    }
    *ret = t;
    return 0;
}

struct cordon_tree *cordon_tree_free(struct cordon_tree *t) {
    if (!t)
        return NULL;
    if (t->cache_fd >= 0)
        close(t->cache_fd);
    if (t->rootfd >= 0)
        close(t->rootfd);
    if (t->tmp && !t->committed)
        (void)cordon_rm_rf(t->tmp);
    for (struct node *n = t->all, *next; n; n = next) {
        next = n->next;
        free(n);
    }
    cordon_map_free(t->nodes);
    free(t->cache_name);
    free(t->tmp);
    free(t->dest);
    free(t);
    return NULL;
}

static struct node *node_get(struct cordon_tree *t, const char *name) {
    return cordon_map_get(t->nodes, name);
}

static struct node *node_add(struct cordon_tree *t, const char *name, enum node_kind kind) {
    size_t len = strlen(name);
    struct node *n = calloc(1, sizeof *n + len + 1);
    if (!n)
        return NULL;
    memcpy(n->name, name, len + 1);
    n->kind = kind;
    if (cordon_map_put(t->nodes, name, n) < 0) {
        free(n);
        return NULL;
    }
    n->next = t->all;
    t->all = n;
    if (kind == NODE_DIR)
        t->n_dirs++;
    return n;
}

/* Open the directory `dir` (a normalised relative name, "" for the root)
 * one component at a time with O_NOFOLLOW, making missing components when
 * `create`. Returns a new fd or -errno with `err` filled about `entry`. */
static int open_dir(struct cordon_tree *t, const char *dir, const char *entry, bool create,
                    struct cordon_error *err) {
    int fd = fcntl(t->rootfd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0)
        return cordon_error_set(err, errno, t->label, 0, 0, "cannot open the root");
    char prefix[PATH_MAX];
    size_t len = strlen(dir);
    if (len >= sizeof prefix) {
        close(fd);
        return cordon_error_set(err, ENAMETOOLONG, t->label, 0, 0, "entry '%s': name too long",
                                entry);
    }
    for (size_t i = 0; len && i <= len; i++) {
        if (dir[i] != '/' && dir[i] != '\0')
            continue;
        memcpy(prefix, dir, i);
        prefix[i] = '\0';
        const char *comp = strrchr(prefix, '/');
        comp = comp ? comp + 1 : prefix;
        struct node *n = node_get(t, prefix);
        if (n && n->kind != NODE_DIR) {
            close(fd);
            return cordon_error_set(err, EINVAL, t->label, 0, 0,
                                    "refusing '%s': it would be written through the %s '%s'", entry,
                                    kind_word(n->kind), prefix);
        }
        if (!n) {
            if (!create) {
                close(fd);
                return cordon_error_set(err, ENOENT, t->label, 0, 0,
                                        "entry '%s': no directory '%s'", entry, prefix);
            }
            if (mkdirat(fd, comp, 0700) < 0) {
                int e = errno;
                close(fd);
                return cordon_error_set(err, e, t->label, 0, 0, "cannot create '%s'", prefix);
            }
            n = node_add(t, prefix, NODE_DIR);
            if (!n) {
                close(fd);
                return cordon_error_set(err, ENOMEM, t->label, 0, 0, "out of memory");
            }
            n->implicit = true;
            n->mode = 0755;
        }
        int nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int e = errno;
        close(fd);
        if (nfd < 0) {
            if (e == ELOOP || e == ENOTDIR)
                return cordon_error_set(err, EINVAL, t->label, 0, 0,
                                        "refusing '%s': '%s' is not a directory", entry, prefix);
            return cordon_error_set(err, e, t->label, 0, 0, "cannot open '%s'", prefix);
        }
        fd = nfd;
    }
    return fd;
}

/* The parent of `name` as a borrowed fd (the cache's), and its last component. */
static int open_parent(struct cordon_tree *t, const char *name, const char **ret_base,
                       struct cordon_error *err) {
    const char *slash = strrchr(name, '/');
    if (!slash) {
        *ret_base = name;
        return t->rootfd;
    }
    *ret_base = slash + 1;
    size_t n = (size_t)(slash - name);
    if (t->cache_name && strlen(t->cache_name) == n && memcmp(t->cache_name, name, n) == 0)
        return t->cache_fd;
    char *dir = strndup(name, n);
    if (!dir)
        return cordon_error_set(err, ENOMEM, t->label, 0, 0, "out of memory");
    int fd = open_dir(t, dir, name, true, err);
    if (fd < 0) {
        free(dir);
        return fd;
    }
    if (t->cache_fd >= 0)
        close(t->cache_fd);
    free(t->cache_name);
    t->cache_name = dir;
    t->cache_fd = fd;
    return fd;
}

/* Why `name` is refused (absolute, "..", not normalised), or 0. */
static int check_name(const char *label, const char *name, struct cordon_error *err) {
    if (cordon_pack_name_ok(name))
        return 0;
    if (name && (name[0] == '/'))
        return cordon_error_set(err, EINVAL, label, 0, 0, "refusing '%s': absolute name", name);
    if (name && (strcmp(name, "..") == 0 || strncmp(name, "../", 3) == 0 || strstr(name, "/../") ||
                 (strlen(name) >= 3 && strcmp(name + strlen(name) - 3, "/..") == 0)))
        return cordon_error_set(err, EINVAL, label, 0, 0, "refusing '%s': '..' in the name", name);
    return cordon_error_set(err, EINVAL, label, 0, 0,
                            "refusing '%s': not a normalised relative name", name ? name : "");
}

/* Name checks shared by every kind of entry. */
static int check_new(struct cordon_tree *t, const char *name, bool dir, struct cordon_error *err) {
    int r = check_name(t->label, name, err);
    if (r < 0)
        return r;
    struct node *n = node_get(t, name);
    if (n && !(dir && n->kind == NODE_DIR && n->implicit))
        return cordon_error_set(err, EINVAL, t->label, 0, 0, "refusing '%s': duplicate entry",
                                name);
    return 0;
}

int cordon_tree_add_dir(struct cordon_tree *t, const char *name, unsigned mode, int64_t mtime_ns,
                        struct cordon_error *err) {
    int r = check_new(t, name, true, err);
    if (r < 0)
        return r;
    struct node *n = node_get(t, name);
    if (!n) {
        const char *base;
        int pfd = open_parent(t, name, &base, err);
        if (pfd < 0)
            return pfd;
        /* Owner-writable while filling it; the real mode comes at commit. */
        if (mkdirat(pfd, base, 0700) < 0)
            return cordon_error_set(err, errno, t->label, 0, 0, "cannot create '%s'", name);
        n = node_add(t, name, NODE_DIR);
        if (!n)
            return cordon_error_set(err, ENOMEM, t->label, 0, 0, "out of memory");
    }
    n->implicit = false;
    n->mode = mode & 01777;
    n->mtime_ns = mtime_ns;
    return 0;
}

int cordon_tree_add_symlink(struct cordon_tree *t, const char *name, const char *target,
                            int64_t mtime_ns, struct cordon_error *err) {
    int r = check_new(t, name, false, err);
    if (r < 0)
        return r;
    if (!target || !*target)
        return cordon_error_set(err, EINVAL, t->label, 0, 0, "refusing symlink '%s': empty target",
                                name);
    if (!cordon_pack_symlink_ok(name, target))
        return cordon_error_set(err, EINVAL, t->label, 0, 0,
                                "refusing symlink '%s' -> '%s': it climbs out of the root", name,
                                target);
    const char *base;
    int pfd = open_parent(t, name, &base, err);
    if (pfd < 0)
        return pfd;
    if (symlinkat(target, pfd, base) < 0)
        return cordon_error_set(err, errno, t->label, 0, 0, "cannot create symlink '%s'", name);
    struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, ns_to_ts(mtime_ns)};
    if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
        return cordon_error_set(err, errno, t->label, 0, 0, "cannot set the time of '%s'", name);
    if (!node_add(t, name, NODE_SYMLINK))
        return cordon_error_set(err, ENOMEM, t->label, 0, 0, "out of memory");
    return 0;
}

int cordon_tree_add_hardlink(struct cordon_tree *t, const char *name, const char *target,
                             const struct cordon_hash *hash, struct cordon_error *err) {
    int r = check_new(t, name, false, err);
    if (r < 0)
        return r;
    if (!cordon_pack_name_ok(target))
        return cordon_error_set(err, EINVAL, t->label, 0, 0,
                                "refusing hard link '%s' -> '%s': the target is outside the root",
                                name, target ? target : "");
    struct node *tn = node_get(t, target);
    if (!tn || tn->kind != NODE_FILE)
        return cordon_error_set(err, EINVAL, t->label, 0, 0,
                                "refusing hard link '%s' -> '%s': the target is not an earlier "
                                "file of the archive",
                                name, target);
    if ((hash != NULL) != tn->has_hash || (hash && !cordon_hash_equal(hash, &tn->hash)))
        return cordon_error_set(err, EBADMSG, t->label, 0, 0,
                                "hard link '%s' -> '%s' does not match its hash in %s", name,
                                target, CORDON_PACK_CONTENTS);
    const char *tslash = strrchr(target, '/');
    /* On the stack: cordon_pack_name_ok bounds the name by PATH_MAX. */
    char tdir[PATH_MAX];
    snprintf(tdir, sizeof tdir, "%.*s", tslash ? (int)(tslash - target) : 0, target);
    _cleanup_close_ int tfd = open_dir(t, tdir, name, false, err);
    if (tfd < 0)
        return tfd;
    const char *base;
    int pfd = open_parent(t, name, &base, err);
    if (pfd < 0)
        return pfd;
    /* No AT_SYMLINK_FOLLOW: the target's last component is a file we made. */
    if (linkat(tfd, tslash ? tslash + 1 : target, pfd, base, 0) < 0)
        return cordon_error_set(err, errno, t->label, 0, 0, "cannot link '%s' to '%s'", name,
                                target);
    struct node *n = node_add(t, name, NODE_FILE);
    if (!n)
        return cordon_error_set(err, ENOMEM, t->label, 0, 0, "out of memory");
    n->has_hash = tn->has_hash;
    n->hash = tn->hash;
    return 0;
}

int cordon_tree_create_file(struct cordon_tree *t, const char *name, struct cordon_error *err) {
    int r = check_new(t, name, false, err);
    if (r < 0)
        return r;
    const char *base;
    int pfd = open_parent(t, name, &base, err);
    if (pfd < 0)
        return pfd;
    int fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return cordon_error_set(err, errno, t->label, 0, 0, "cannot create '%s'", name);
    if (!node_add(t, name, NODE_FILE)) {
        close(fd);
        return cordon_error_set(err, ENOMEM, t->label, 0, 0, "out of memory");
    }
    return fd;
}

int cordon_tree_finish_file(struct cordon_tree *t, int fd, const char *name, uint64_t size,
                            unsigned mode, int64_t mtime_ns, const struct cordon_hash *hash,
                            struct cordon_error *err) {
    _cleanup_close_ int cfd = fd;
    if (size > (uint64_t)INT64_MAX || ftruncate(cfd, (off_t)size) < 0)
        return cordon_error_set(err, size > (uint64_t)INT64_MAX ? EFBIG : errno, t->label, 0, 0,
                                "cannot set the size of '%s'", name);
    if (fchmod(cfd, mode & 0777) < 0)
        return cordon_error_set(err, errno, t->label, 0, 0, "cannot set the mode of '%s'", name);
    struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, ns_to_ts(mtime_ns)};
    if (futimens(cfd, ts) < 0)
        return cordon_error_set(err, errno, t->label, 0, 0, "cannot set the time of '%s'", name);
    struct node *n = node_get(t, name);
    if (n && hash) {
        n->has_hash = true;
        n->hash = *hash;
    }
    return 0;
}

static int cmp_desc(const void *a, const void *b) {
    return -strcmp((*(struct node *const *)a)->name, (*(struct node *const *)b)->name);
}

int cordon_tree_commit(struct cordon_tree *t, struct cordon_error *err) {
    if (t->cache_fd >= 0) {
        close(t->cache_fd);
        t->cache_fd = -1;
        free(t->cache_name);
        t->cache_name = NULL;
    }
    _cleanup_free_ struct node **dirs = calloc(t->n_dirs ? t->n_dirs : 1, sizeof *dirs);
    if (!dirs)
        return cordon_error_set(err, ENOMEM, t->label, 0, 0, "out of memory");
    size_t n = 0;
    for (struct node *p = t->all; p; p = p->next)
        if (p->kind == NODE_DIR)
            dirs[n++] = p;
    /* Deepest first: a directory's time is set after its last child is made. */
    qsort(dirs, n, sizeof *dirs, cmp_desc);
    for (size_t i = 0; i < n; i++) {
        int fd = open_dir(t, dirs[i]->name, dirs[i]->name, false, err);
        if (fd < 0)
            return fd;
        struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, ns_to_ts(dirs[i]->mtime_ns)};
        int r = fchmod(fd, dirs[i]->mode) < 0 || futimens(fd, ts) < 0 ? -errno : 0;
        close(fd);
        if (r < 0)
            return cordon_error_set(err, -r, t->label, 0, 0, "cannot set the mode of '%s'",
                                    dirs[i]->name);
    }
    if (fchmod(t->rootfd, 0755) < 0)
        return cordon_error_set(err, errno, t->label, 0, 0, "cannot set the mode of the root");
    if (renameat2(AT_FDCWD, t->tmp, AT_FDCWD, t->dest, RENAME_NOREPLACE) < 0)
        return cordon_error_set(err, errno, t->dest, 0, 0, "cannot rename '%s' to '%s'", t->tmp,
                                t->dest);
    t->committed = true;
    return 0;
}

/* ---- the content index -------------------------------------------------- */

struct index_item {
    char *name;
    struct cordon_hash hash;
    bool seen;
};

struct index {
    struct index_item *items;
    size_t n, cap;
    struct cordon_map *map;
};

static void index_release(struct index *x) {
    for (size_t i = 0; i < x->n; i++)
        free(x->items[i].name);
    free(x->items);
    cordon_map_free(x->map);
    *x = (struct index){0};
}

static int index_parse(struct index *x, const char *buf, size_t len, const char *label,
                       struct cordon_error *err) {
    x->map = cordon_map_new(len / 64 + 16);
    if (!x->map)
        return cordon_error_set(err, ENOMEM, label, 0, 0, "out of memory");
    int line = 0;
    for (size_t pos = 0; pos < len;) {
        line++;
        const char *nl = memchr(buf + pos, '\n', len - pos);
        if (!nl)
            return cordon_error_set(err, EINVAL, label, 0, 0, "%s line %d: no newline at the end",
                                    CORDON_PACK_CONTENTS, line);
        size_t n = (size_t)(nl - (buf + pos));
        const char *l = buf + pos;
        pos += n + 1;
        char hex[CORDON_HASH_HEX_LEN + 1];
        if (n < CORDON_HASH_HEX_LEN + 2 || l[CORDON_HASH_HEX_LEN] != ' ')
            return cordon_error_set(err, EINVAL, label, 0, 0, "%s line %d: expected 'HASH NAME'",
                                    CORDON_PACK_CONTENTS, line);
        memcpy(hex, l, CORDON_HASH_HEX_LEN);
        hex[CORDON_HASH_HEX_LEN] = '\0';
        struct cordon_hash h;
        if (cordon_hash_from_hex(hex, &h) < 0)
            return cordon_error_set(err, EINVAL, label, 0, 0, "%s line %d: expected 32 hex digits",
                                    CORDON_PACK_CONTENTS, line);
        const char *s = l + CORDON_HASH_HEX_LEN + 1, *end = l + n;
        char *name = malloc((size_t)(end - s) + 1);
        if (!name)
            return cordon_error_set(err, ENOMEM, label, 0, 0, "out of memory");
        char *o = name;
        for (; s < end; s++) {
            if (*s != '\\') {
                *o++ = *s;
                continue;
            }
            if (s + 1 < end && (s[1] == '\\' || s[1] == 'n')) {
                *o++ = s[1] == 'n' ? '\n' : '\\';
                s++;
                continue;
            }
            free(name);
            return cordon_error_set(err, EINVAL, label, 0, 0, "%s line %d: bad escape",
                                    CORDON_PACK_CONTENTS, line);
        }
        *o = '\0';
        if ((size_t)(o - name) != strlen(name) || !cordon_pack_name_ok(name) ||
            (x->n && strcmp(x->items[x->n - 1].name, name) >= 0)) {
            free(name);
            return cordon_error_set(err, EINVAL, label, 0, 0,
                                    "%s line %d: bad, duplicate or unsorted name",
                                    CORDON_PACK_CONTENTS, line);
        }
        if (cordon_grow((void **)&x->items, &x->cap, x->n + 1, sizeof *x->items) < 0) {
            free(name);
            return cordon_error_set(err, ENOMEM, label, 0, 0, "out of memory");
        }
        x->items[x->n++] = (struct index_item){.name = name, .hash = h};
    }
    /* The map points into the array, so it is filled once the array stops moving. */
    for (size_t i = 0; i < x->n; i++)
        if (cordon_map_put(x->map, x->items[i].name, &x->items[i]) < 0)
            return cordon_error_set(err, ENOMEM, label, 0, 0, "out of memory");
    return 0;
}

static int index_check_all_seen(const struct index *x, const char *label,
                                struct cordon_error *err) {
    for (size_t i = 0; i < x->n; i++)
        if (!x->items[i].seen)
            return cordon_error_set(err, EBADMSG, label, 0, 0,
                                    "'%s' is listed in %s but missing from the archive",
                                    x->items[i].name, CORDON_PACK_CONTENTS);
    return 0;
}

/* ---- data --------------------------------------------------------------- */

static bool all_zero(const void *buf, size_t n) {
    const unsigned char *p = buf;
    return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

static int write_all(int fd, const void *buf, size_t n, uint64_t off) {
    const char *p = buf;
    while (n) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

static void hash_digest(XXH3_state_t *st, struct cordon_hash *ret) {
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits_digest(st));
    memcpy(ret->bytes, c.digest, sizeof ret->bytes);
}

/* One file's bytes as they arrive: a listed file is hashed and written
 * contiguously; an unlisted one is a placeholder and may hold only zeros,
 * which are not written (the size makes the hole). */
struct file_sink {
    XXH3_state_t hs; /* first: it is 64-byte aligned */
    const char *label;
    const char *name;
    const struct index_item *item;
    uint64_t next; /* the offset the next byte of a listed file must have */
    int fd;
};

static int sink_data(struct file_sink *s, const void *buf, size_t n, uint64_t off,
                     struct cordon_error *err) {
    if (!s->item) {
        if (!all_zero(buf, n))
            return cordon_error_set(err, EBADMSG, s->label, 0, 0,
                                    "'%s' has content but is not listed in %s", s->name,
                                    CORDON_PACK_CONTENTS);
        return 0;
    }
    if (off != s->next)
        return cordon_error_set(err, EBADMSG, s->label, 0, 0,
                                "'%s' is listed in %s but stored with holes", s->name,
                                CORDON_PACK_CONTENTS);
    XXH3_128bits_update(&s->hs, buf, n);
    int r = write_all(s->fd, buf, n, off);
    if (r < 0)
        return cordon_error_set(err, -r, s->label, 0, 0, "cannot write '%s'", s->name);
    s->next += n;
    return 0;
}

static int sink_check(struct file_sink *s, uint64_t size, struct cordon_error *err) {
    if (!s->item)
        return 0;
    struct cordon_hash h;
    hash_digest(&s->hs, &h);
    if (s->next != size || !cordon_hash_equal(&h, &s->item->hash))
        return cordon_error_set(err, EBADMSG, s->label, 0, 0, "'%s' does not match its hash in %s",
                                s->name, CORDON_PACK_CONTENTS);
    return 0;
}

/* ---- unpacking an archive ----------------------------------------------- */

struct unpack {
    const char *label;
    struct archive *a;
    struct cordon_tree *tree;
    struct index index;
    bool have_index;
};

static void archive_freep(struct archive **a) {
    if (*a)
        archive_read_free(*a);
}

/* A read error inside the entry `name` (`after`: past it, in the next header). */
static int archive_fail(struct unpack *u, const char *name, bool after, struct cordon_error *err) {
    const char *s = archive_error_string(u->a);
    if (name)
        return cordon_error_set(err, EINVAL, u->label, 0, 0,
                                "truncated or corrupt archive %s '%s': %s", after ? "after" : "in",
                                name, s ? s : "read error");
    return cordon_error_set(err, EINVAL, u->label, 0, 0, "truncated or corrupt archive: %s",
                            s ? s : "read error");
}

static int read_index(struct unpack *u, struct archive_entry *e, const char *name,
                      struct cordon_error *err) {
    if (u->have_index)
        return cordon_error_set(err, EINVAL, u->label, 0, 0, "refusing '%s': duplicate entry",
                                name);
    if (archive_entry_size(e) < 0 || (uint64_t)archive_entry_size(e) > CONTENTS_MAX)
        return cordon_error_set(err, EINVAL, u->label, 0, 0, "refusing '%s': too large", name);
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    const void *buf;
    size_t n;
    la_int64_t off;
    int r;
    while ((r = archive_read_data_block(u->a, &buf, &n, &off)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        if (off != (la_int64_t)sb.len || sb.len + n > CONTENTS_MAX) {
            cordon_strbuf_release(&sb);
            return cordon_error_set(err, EINVAL, u->label, 0, 0, "refusing '%s': malformed", name);
        }
        cordon_strbuf_addn(&sb, buf, n);
    }
    if (r != ARCHIVE_EOF) {
        cordon_strbuf_release(&sb);
        return archive_fail(u, name, false, err);
    }
    if (sb.failed) {
        cordon_strbuf_release(&sb);
        return cordon_error_set(err, ENOMEM, u->label, 0, 0, "out of memory");
    }
    r = index_parse(&u->index, sb.buf, sb.len, u->label, err);
    if (r >= 0) {
        u->have_index = true;
        int fd = cordon_tree_create_file(u->tree, name, err);
        r = fd;
        if (fd >= 0) {
            r = write_all(fd, sb.buf, sb.len, 0);
            if (r < 0) {
                close(fd);
                r = cordon_error_set(err, -r, u->label, 0, 0, "cannot write '%s'", name);
            } else {
                r = cordon_tree_finish_file(
                    u->tree, fd, name, sb.len, archive_entry_perm(e) & 0777,
                    archive_entry_mtime(e) * 1000000000LL + archive_entry_mtime_nsec(e), NULL, err);
            }
        }
    }
    cordon_strbuf_release(&sb);
    return r;
}

static int64_t entry_mtime(struct archive_entry *e) {
    if (!archive_entry_mtime_is_set(e))
        return 0;
    return (int64_t)archive_entry_mtime(e) * 1000000000LL + archive_entry_mtime_nsec(e);
}

static int read_file(struct unpack *u, struct archive_entry *e, const char *name,
                     struct cordon_error *err) {
    la_int64_t size = archive_entry_size(e);
    if (size < 0)
        return cordon_error_set(err, EINVAL, u->label, 0, 0, "refusing '%s': negative size", name);
    struct file_sink s = {.label = u->label, .name = name};
    s.item = cordon_map_get(u->index.map, name);
    XXH3_INITSTATE(&s.hs);
    (void)XXH3_128bits_reset(&s.hs);
    s.fd = cordon_tree_create_file(u->tree, name, err);
    if (s.fd < 0)
        return s.fd;
    const void *buf;
    size_t n;
    la_int64_t off;
    int r;
    while ((r = archive_read_data_block(u->a, &buf, &n, &off)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        if (off < 0 || (uint64_t)off + n > (uint64_t)size) {
            close(s.fd);
            return cordon_error_set(err, EINVAL, u->label, 0, 0,
                                    "refusing '%s': data beyond its size", name);
        }
        int w = sink_data(&s, buf, n, (uint64_t)off, err);
        if (w < 0) {
            close(s.fd);
            return w;
        }
    }
    if (r != ARCHIVE_EOF) {
        close(s.fd);
        return archive_fail(u, name, false, err);
    }
    r = sink_check(&s, (uint64_t)size, err);
    if (r < 0) {
        close(s.fd);
        return r;
    }
    if (s.item)
        ((struct index_item *)s.item)->seen = true;
    return cordon_tree_finish_file(u->tree, s.fd, name, (uint64_t)size,
                                   archive_entry_perm(e) & 0777, entry_mtime(e),
                                   s.item ? &s.item->hash : NULL, err);
}

static int read_entry(struct unpack *u, struct archive_entry *e, struct cordon_error *err) {
    const char *raw = archive_entry_pathname(e);
    if (!raw)
        return cordon_error_set(err, EINVAL, u->label, 0, 0, "refusing an entry without a name");
    char name[PATH_MAX];
    size_t len = strlen(raw);
    if (len >= sizeof name)
        return cordon_error_set(err, EINVAL, u->label, 0, 0, "refusing an entry: name too long");
    memcpy(name, raw, len + 1);
    /* Tar writers end directory names with one '/'. */
    if (len > 1 && name[len - 1] == '/')
        name[--len] = '\0';

    /* The name first: a hostile entry is refused for what makes it hostile. */
    int r = check_name(u->label, name, err);
    if (r < 0)
        return r;
    mode_t type = archive_entry_filetype(e);
    unsigned perm = archive_entry_perm(e) & 07777;
    const char *hardlink = archive_entry_hardlink(e);
    if (!hardlink && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
        const char *what = type == AE_IFCHR || type == AE_IFBLK ? "a device node"
                           : type == AE_IFIFO                   ? "a fifo"
                           : type == AE_IFSOCK                  ? "a socket"
                                                                : "an unknown file type";
        return cordon_error_set(err, EINVAL, u->label, 0, 0, "refusing '%s': %s", name, what);
    }
    if (hardlink && !cordon_pack_name_ok(hardlink))
        return cordon_error_set(err, EINVAL, u->label, 0, 0,
                                "refusing hard link '%s' -> '%s': the target is outside the root",
                                name, hardlink);
    if (perm & (S_ISUID | S_ISGID))
        return cordon_error_set(err, EINVAL, u->label, 0, 0,
                                "refusing '%s': setuid or setgid bit (mode %04o)", name, perm);

    if (!hardlink && type == AE_IFDIR)
        return cordon_tree_add_dir(u->tree, name, perm, entry_mtime(e), err);
    if (!hardlink && type == AE_IFLNK)
        return cordon_tree_add_symlink(u->tree, name, archive_entry_symlink(e), entry_mtime(e),
                                       err);

    /* Regular files and hard links: the index comes first, so that every
     * byte can be checked as it is written. */
    if (strcmp(name, CORDON_PACK_CONTENTS) == 0 && !hardlink)
        return read_index(u, e, name, err);
    if (!u->have_index)
        return cordon_error_set(err, EBADMSG, u->label, 0, 0, "'%s' comes before %s", name,
                                CORDON_PACK_CONTENTS);
    if (hardlink) {
        char target[PATH_MAX];
        snprintf(target, sizeof target, "%s", hardlink);
        struct index_item *item = cordon_map_get(u->index.map, name);
        r = cordon_tree_add_hardlink(u->tree, name, target, item ? &item->hash : NULL, err);
        if (r >= 0 && item)
            item->seen = true;
        return r;
    }
    return read_file(u, e, name, err);
}

static int unpack_archive(const struct cordon_unpack_options *opts, struct cordon_error *err) {
    struct unpack u = {.label = opts->archive};
    __attribute__((cleanup(archive_freep))) struct archive *a = archive_read_new();
    if (!a)
        return cordon_error_set(err, ENOMEM, opts->archive, 0, 0, "out of memory");
    u.a = a;
    /* Only what pack writes: no external decompressor programs, no other formats. */
    archive_read_support_format_tar(a);
    archive_read_support_filter_zstd(a);
    archive_read_support_filter_gzip(a);
    if (archive_read_open_filename(a, opts->archive, 1 << 16) != ARCHIVE_OK) {
        /* libarchive says EILSEQ for "not a format I read". */
        int e = archive_errno(a) > 0 && archive_errno(a) != EILSEQ ? archive_errno(a) : EINVAL;
        return cordon_error_set(err, e, opts->archive, 0, 0, "cannot open '%s': %s", opts->archive,
                                archive_error_string(a));
    }
    int r = cordon_tree_new(opts->dest, opts->archive, &u.tree, err);
    if (r < 0)
        return r;
    struct stat st;
    struct cordon_progress progress;
    cordon_progress_init(&progress, "unpacking",
                         stat(opts->archive, &st) == 0 ? (uint64_t)st.st_size : 0, opts->quiet);
    struct archive_entry *e;
    const char *last = NULL;
    char lastbuf[PATH_MAX] = "";
    for (;;) {
        int h = archive_read_next_header(a, &e);
        if (h == ARCHIVE_EOF)
            break;
        if (h < ARCHIVE_WARN) {
            r = archive_fail(&u, last, true, err);
            goto out;
        }
        r = read_entry(&u, e, err);
        if (r < 0)
            goto out;
        /* Progress in archive bytes read: known up front, unlike the content. */
        la_int64_t done = archive_filter_bytes(a, -1);
        if (done > 0 && (uint64_t)done > progress.done)
            cordon_progress_step(&progress, (uint64_t)done - progress.done);
        snprintf(lastbuf, sizeof lastbuf, "%s", archive_entry_pathname(e));
        last = lastbuf;
    }
    if (!u.have_index) {
        r = cordon_error_set(err, EINVAL, opts->archive, 0, 0, "the archive has no %s",
                             CORDON_PACK_CONTENTS);
        goto out;
    }
    r = index_check_all_seen(&u.index, opts->archive, err);
    if (r < 0)
        goto out;
    r = cordon_tree_commit(u.tree, err);
out:
    cordon_progress_done(&progress);
    cordon_tree_free(u.tree);
    index_release(&u.index);
    return r;
}

/* ---- copying a --format dir root ---------------------------------------- */

struct dcopy {
    struct unpack u;
    struct cordon_map *inodes; /* "dev:ino" -> first name, for hard links */
    char **names;              /* what `inodes` points to */
    size_t n_names, cap_names;
};

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int copy_file(struct dcopy *d, int dirfd, const char *base, const char *name,
                     const struct stat *st, struct cordon_error *err) {
    struct unpack *u = &d->u;
    char key[64];
    snprintf(key, sizeof key, "%llu:%llu", (unsigned long long)st->st_dev,
             (unsigned long long)st->st_ino);
    struct index_item *item = cordon_map_get(u->index.map, name);
    if (st->st_nlink > 1) {
        const char *first = cordon_map_get(d->inodes, key);
        if (first) {
            int r = cordon_tree_add_hardlink(u->tree, name, first, item ? &item->hash : NULL, err);
            if (r >= 0 && item)
                item->seen = true;
            return r;
        }
    }
    _cleanup_close_ int in = openat(dirfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return cordon_error_set(err, errno, u->label, 0, 0, "cannot open '%s'", name);
    struct file_sink s = {.label = u->label, .name = name, .item = item};
    XXH3_INITSTATE(&s.hs);
    (void)XXH3_128bits_reset(&s.hs);
    s.fd = cordon_tree_create_file(u->tree, name, err);
    if (s.fd < 0)
        return s.fd;
    static char buf[1 << 17];
    uint64_t off = 0;
    for (;;) {
        if (!item) {
            /* A placeholder: only its data regions need reading. */
            off_t data = lseek(in, (off_t)off, SEEK_DATA);
            if (data < 0)
                break;
            off = (uint64_t)data;
        }
        ssize_t n = pread(in, buf, sizeof buf, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(s.fd);
            return cordon_error_set(err, e, u->label, 0, 0, "cannot read '%s'", name);
        }
        if (n == 0)
            break;
        int r = sink_data(&s, buf, (size_t)n, off, err);
        if (r < 0) {
            close(s.fd);
            return r;
        }
        off += (uint64_t)n;
    }
    int r = sink_check(&s, (uint64_t)st->st_size, err);
    if (r < 0) {
        close(s.fd);
        return r;
    }
    if (item)
        item->seen = true;
    r = cordon_tree_finish_file(u->tree, s.fd, name, (uint64_t)st->st_size, st->st_mode & 0777,
                                (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec,
                                item ? &item->hash : NULL, err);
    if (r < 0 || st->st_nlink <= 1)
        return r;
    char *copy = strdup(name);
    if (!copy ||
        cordon_grow((void **)&d->names, &d->cap_names, d->n_names + 1, sizeof *d->names) < 0) {
        free(copy);
        return cordon_error_set(err, ENOMEM, u->label, 0, 0, "out of memory");
    }
    d->names[d->n_names++] = copy;
    if (cordon_map_put(d->inodes, key, copy) < 0)
        return cordon_error_set(err, ENOMEM, u->label, 0, 0, "out of memory");
    return 0;
}

/* Copy the directory `dirfd` (whose name in the root is `prefix`, "" for
 * the root) entry by entry, sorted, never following a symlink. */
static int copy_dir(struct dcopy *d, int dirfd, const char *prefix, int depth,
                    struct cordon_error *err) {
    struct unpack *u = &d->u;
    if (depth > 512)
        return cordon_error_set(err, ELOOP, u->label, 0, 0, "'%s' is nested too deep", prefix);
    int dfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
    if (dfd < 0)
        return cordon_error_set(err, errno, u->label, 0, 0, "cannot read '%s'", prefix);
    DIR *dir = fdopendir(dfd);
    if (!dir) {
        close(dfd);
        return cordon_error_set(err, errno, u->label, 0, 0, "cannot read '%s'", prefix);
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int r = 0;
    struct dirent *de;
    while ((de = readdir(dir))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *s = strdup(de->d_name);
        if (!s || cordon_grow((void **)&names, &cap, n + 1, sizeof *names) < 0) {
            free(s);
            r = cordon_error_set(err, ENOMEM, u->label, 0, 0, "out of memory");
            goto out;
        }
        names[n++] = s;
    }
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n && r >= 0; i++) {
        char name[PATH_MAX];
        if ((size_t)snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "/" : "", names[i]) >=
            sizeof name) {
            r = cordon_error_set(err, ENAMETOOLONG, u->label, 0, 0, "'%s/%s': name too long",
                                 prefix, names[i]);
            break;
        }
        struct stat st;
        if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
            r = cordon_error_set(err, errno, u->label, 0, 0, "cannot look at '%s'", name);
            break;
        }
        unsigned perm = st.st_mode & 07777;
        if (perm & (S_ISUID | S_ISGID)) {
            r = cordon_error_set(err, EINVAL, u->label, 0, 0,
                                 "refusing '%s': setuid or setgid bit (mode %04o)", name, perm);
            break;
        }
        int64_t mtime = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
        if (S_ISDIR(st.st_mode)) {
            r = cordon_tree_add_dir(u->tree, name, perm, mtime, err);
            if (r < 0)
                break;
            _cleanup_close_ int sub =
                openat(dirfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                r = cordon_error_set(err, errno, u->label, 0, 0, "cannot open '%s'", name);
                break;
            }
            r = copy_dir(d, sub, name, depth + 1, err);
        } else if (S_ISLNK(st.st_mode)) {
            char target[PATH_MAX];
            ssize_t len = readlinkat(dirfd, names[i], target, sizeof target - 1);
            if (len < 0) {
                r = cordon_error_set(err, errno, u->label, 0, 0, "cannot read '%s'", name);
                break;
            }
            target[len] = '\0';
            r = cordon_tree_add_symlink(u->tree, name, target, mtime, err);
        } else if (S_ISREG(st.st_mode)) {
            if (strcmp(name, CORDON_PACK_CONTENTS) == 0)
                continue; /* read first, by unpack_dir */
            r = copy_file(d, dirfd, names[i], name, &st, err);
        } else {
            const char *what = S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device node"
                               : S_ISFIFO(st.st_mode)                     ? "a fifo"
                               : S_ISSOCK(st.st_mode)                     ? "a socket"
                                                                          : "an unknown type";
            r = cordon_error_set(err, EINVAL, u->label, 0, 0, "refusing '%s': %s", name, what);
        }
    }
out:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(dir);
    return r;
}

static int unpack_dir(const struct cordon_unpack_options *opts, struct cordon_error *err) {
    struct dcopy d = {.u = {.label = opts->archive}};
    _cleanup_close_ int src = open(opts->archive, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (src < 0)
        return cordon_error_set(err, errno, opts->archive, 0, 0, "cannot open '%s'", opts->archive);
    /* The index first, as in an archive. */
    _cleanup_close_ int dotc =
        openat(src, ".cordon", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    _cleanup_close_ int ifd =
        dotc < 0 ? -1 : openat(dotc, "contents", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat ist;
    if (ifd < 0 || fstat(ifd, &ist) < 0 || !S_ISREG(ist.st_mode))
        return cordon_error_set(err, EINVAL, opts->archive, 0, 0, "'%s' has no %s", opts->archive,
                                CORDON_PACK_CONTENTS);
    if ((uint64_t)ist.st_size > CONTENTS_MAX)
        return cordon_error_set(err, EINVAL, opts->archive, 0, 0, "refusing '%s': too large",
                                CORDON_PACK_CONTENTS);
    /* Freed at `out` by hand: clang-tidy 14 does not run cleanup
     * attributes and reported _cleanup_free_ as a leak. */
    char *ibuf = malloc((size_t)ist.st_size + 1);
    if (!ibuf)
        return cordon_error_set(err, ENOMEM, opts->archive, 0, 0, "out of memory");
    size_t got = 0;
    int r = 0;
    while (got < (size_t)ist.st_size) {
        ssize_t n = read(ifd, ibuf + got, (size_t)ist.st_size - got);
        if (n <= 0) {
            r = cordon_error_set(err, n < 0 ? errno : EIO, opts->archive, 0, 0, "cannot read '%s'",
                                 CORDON_PACK_CONTENTS);
            goto out;
        }
        got += (size_t)n;
    }
    r = index_parse(&d.u.index, ibuf, got, opts->archive, err);
    if (r < 0)
        goto out;
    d.u.have_index = true;
    d.inodes = cordon_map_new(64);
    if (!d.inodes) {
        r = cordon_error_set(err, ENOMEM, opts->archive, 0, 0, "out of memory");
        goto out;
    }
    r = cordon_tree_new(opts->dest, opts->archive, &d.u.tree, err);
    /* The tree is set exactly when r is 0. Both are tested because the
     * analyzer cannot see that cordon_error_set's -code is negative. */
    if (r < 0 || !d.u.tree)
        goto out;
    /* .cordon is made implicitly here; its own entry comes with the walk. */
    int fd = cordon_tree_create_file(d.u.tree, CORDON_PACK_CONTENTS, err);
    if (fd < 0) {
        r = fd;
        goto out;
    }
    r = write_all(fd, ibuf, got, 0);
    if (r < 0) {
        close(fd);
        r = cordon_error_set(err, -r, opts->archive, 0, 0, "cannot write '%s'",
                             CORDON_PACK_CONTENTS);
        goto out;
    }
    r = cordon_tree_finish_file(d.u.tree, fd, CORDON_PACK_CONTENTS, got, ist.st_mode & 0777,
                                (int64_t)ist.st_mtim.tv_sec * 1000000000LL + ist.st_mtim.tv_nsec,
                                NULL, err);
    if (r < 0)
        goto out;
    r = copy_dir(&d, src, "", 0, err);
    if (r < 0)
        goto out;
    r = index_check_all_seen(&d.u.index, opts->archive, err);
    if (r < 0)
        goto out;
    r = cordon_tree_commit(d.u.tree, err);
out:
    free(ibuf);
    cordon_tree_free(d.u.tree);
    index_release(&d.u.index);
    cordon_map_free(d.inodes);
    for (size_t i = 0; i < d.n_names; i++)
        free(d.names[i]);
    free(d.names);
    return r;
}

int cordon_unpack(const struct cordon_unpack_options *opts, struct cordon_error *err) {
    if (!opts || !opts->archive || !opts->dest)
        return cordon_error_set(err, EINVAL, NULL, 0, 0, "unpack needs an archive and a root");
    struct stat st;
    if (lstat(opts->dest, &st) == 0)
        return cordon_error_set(err, EEXIST, opts->dest, 0, 0, "'%s' already exists", opts->dest);
    if (stat(opts->archive, &st) < 0)
        return cordon_error_set(err, errno, opts->archive, 0, 0, "cannot open '%s'", opts->archive);
    /* A root packed with --format dir is copied through the same checks
     * rather than used in place: the copy is what gets verified. */
    if (S_ISDIR(st.st_mode))
        return unpack_dir(opts, err);
    int r = cordon_archive_load(err);
    if (r < 0)
        return r;
    return unpack_archive(opts, err);
}
