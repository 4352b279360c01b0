/* Pack: a manifest's inputs as a minimal root, deterministic to the byte.
 *
 * Every input is resolved on the host one component at a time, so each
 * symlink on its way (merged /usr, alternatives) becomes an entry of its own
 * and the bytes land where the last link points. The bytes are hashed
 * before anything is written (to choose between the host and the store) and
 * again as they stream into the archive (to catch a change in between). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_STATIC_LINKING_ONLY
#include <archive.h>
#include <archive_entry.h>
#include <xxhash.h>

#include <cordon/classify.h>
#include <cordon/error.h>
#include <cordon/hash.h>
#include <cordon/manifest.h>
#include <cordon/pack.h>
#include <cordon/store.h>
#include <cordon/util.h>

#include "archive-dl.h"

static const char *const format_names[CORDON_PACK_FORMAT_MAX] = {
    [CORDON_PACK_TAR_ZSTD] = "tar.zst",
    [CORDON_PACK_TAR] = "tar",
    [CORDON_PACK_TAR_GZ] = "tar.gz",
    [CORDON_PACK_DIR] = "dir",
};

const char *cordon_pack_format_name(enum cordon_pack_format f) {
    return f >= 0 && f < CORDON_PACK_FORMAT_MAX ? format_names[f] : NULL;
}

enum cordon_pack_format cordon_pack_format_from_name(const char *s) {
    for (int i = 0; s && i < CORDON_PACK_FORMAT_MAX; i++)
        if (strcmp(s, format_names[i]) == 0)
            return (enum cordon_pack_format)i;
    return CORDON_PACK_FORMAT_INVALID;
}

/* The runners' fakechroot, where Debian and others install it. */
static const char *const fakechroot_paths[] = {
#if defined(__x86_64__)
    "/usr/lib/x86_64-linux-gnu/fakechroot/libfakechroot.so",
#elif defined(__aarch64__)
    "/usr/lib/aarch64-linux-gnu/fakechroot/libfakechroot.so",
#elif defined(__i386__)
    "/usr/lib/i386-linux-gnu/fakechroot/libfakechroot.so",
#endif
    "/usr/lib64/fakechroot/libfakechroot.so",
    "/usr/lib/fakechroot/libfakechroot.so",
};

enum pkind { PK_DIR, PK_FILE, PK_SYMLINK };

struct pentry {
    char *name; /* relative to the root, normalised */
    enum pkind kind;
    bool dotcordon;     /* one of the root's own .cordon entries */
    bool from_manifest; /* metadata from a manifest input rather than made up */
    bool exact;         /* ... from the input at exactly this path */
    const char *meta_input;
    bool content; /* files: bytes needed */
    bool changed; /* files: the host copy is known to differ (CORDON_INPUT_CHANGED) */
    bool has_hash;
    struct cordon_hash hash;
    const char *need_path; /* the input that needed the bytes, for messages */
    unsigned mode;
    int64_t mtime_ns;
    uint64_t size;
    char *target; /* symlinks */
    char *source; /* files: host or store path of the bytes, or NULL for `mem` */
    const char *mem;
    size_t mem_len;
    bool verify;         /* the bytes from `source` must hash to `hash` */
    int host_error;      /* -errno reading the host copy, 0 if it read (and differed) */
    const char *link_to; /* hard link to this earlier entry */
};

struct pack {
    const struct cordon_pack_options *o;
    const struct cordon_manifest *m;
    const char *home;
    const char *worktree;
    char store[PATH_MAX];
    bool have_store;
    struct cordon_map *by_name;
    struct pentry **v;
    size_t n, cap;
    cordon_warn_fn warn;
    void *warn_ctx;
    struct cordon_pack_stats stats;
    struct cordon_error *err;
    char *manifest_json;
    size_t manifest_len;
    char *contents;
    size_t contents_len;
    struct cordon_progress progress;
};

static void pwarn(struct pack *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pwarn(struct pack *p, const char *fmt, ...) {
    if (!p->warn)
        return;
    char buf[PATH_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    p->warn(p->warn_ctx, buf);
}

/* The error helpers return their constant themselves rather than
 * cordon_error_set's result: its body is in another file, and the analyzer
 * would otherwise follow a failure as if it were a success that left the
 * out parameters unset. */
static int oom(struct pack *p) {
    cordon_error_set(p->err, ENOMEM, NULL, 0, 0, "out of memory");
    return -ENOMEM;
}

static int name_too_long(struct pack *p, const char *path) {
    cordon_error_set(p->err, ENAMETOOLONG, path, 0, 0, "'%s': name too long", path);
    return -ENAMETOOLONG;
}

static bool under_dotcordon(const char *name) {
    return strncmp(name, ".cordon", 7) == 0 && (name[7] == '\0' || name[7] == '/');
}

/* The entry for `abs` (an absolute normalised path; "/" has none), new or
 * existing. *ret_new says which. */
static int entry_get(struct pack *p, const char *abs, enum pkind kind, struct pentry **ret,
                     bool *ret_new) {
    const char *name = abs[0] == '/' ? abs + 1 : abs;
    struct pentry *e = cordon_map_get(p->by_name, name);
    if (e) {
        *ret = e;
        *ret_new = false;
        return 0;
    }
    if (cordon_grow((void **)&p->v, &p->cap, p->n + 1, sizeof *p->v) < 0)
        return oom(p);
    e = calloc(1, sizeof *e);
    if (!e || !(e->name = strdup(name))) {
        free(e);
        return oom(p);
    }
    e->kind = kind;
    if (cordon_map_put(p->by_name, name, e) < 0) {
        free(e->name);
        free(e);
        return oom(p);
    }
    p->v[p->n++] = e;
    *ret = e;
    *ret_new = true;
    return 0;
}

static int conflict(struct pack *p, const char *abs, enum pkind had, enum pkind want) {
    static const char *const w[] = {"directory", "file", "symlink"};
    return cordon_error_set(p->err, EINVAL, abs, 0, 0,
                            "conflicting entries for '%s': a %s and a %s", abs, w[had], w[want]);
}

static int check_name(struct pack *p, const char *abs) {
    if (under_dotcordon(abs + 1))
        return cordon_error_set(p->err, EINVAL, abs, 0, 0,
                                "'%s' collides with the root's own .cordon directory", abs);
    return 0;
}

/* A directory; the manifest's metadata beats a made-up one. */
static int add_dir(struct pack *p, const char *abs, unsigned mode, int64_t mtime_ns,
                   bool from_manifest) {
    if (strcmp(abs, "/") == 0)
        return 0;
    int r = check_name(p, abs);
    if (r < 0)
        return r;
    struct pentry *e;
    bool isnew;
    r = entry_get(p, abs, PK_DIR, &e, &isnew);
    if (r < 0)
        return r;
    if (e->kind == PK_SYMLINK)
        return 0; /* the host's structure: the directory is where the link points */
    if (e->kind != PK_DIR)
        return conflict(p, abs, e->kind, PK_DIR);
    if (isnew || (from_manifest && !e->from_manifest)) {
        e->mode = mode & 01777;
        e->mtime_ns = mtime_ns;
        e->from_manifest = from_manifest;
    }
    return 0;
}

/* A directory the manifest does not describe: the host's permissions (the
 * build may need /tmp's sticky bit), no time. */
static int add_synth_dir(struct pack *p, const char *abs) {
    const struct cordon_input *in = cordon_manifest_find_input(p->m, abs);
    if (in && in->type == CORDON_FT_DIR)
        return add_dir(p, abs, in->mode, in->mtime_ns, true);
    struct stat st;
    unsigned mode = lstat(abs, &st) == 0 && S_ISDIR(st.st_mode) ? st.st_mode & 01777 : 0755;
    return add_dir(p, abs, mode, 0, false);
}

static int add_symlink(struct pack *p, const char *abs, const char *text, int64_t mtime_ns,
                       bool from_manifest) {
    int r = check_name(p, abs);
    if (r < 0)
        return r;
    /* A relative target with more ".." than the link is deep means the same
     * as its clamped absolute form on the host; unpack would refuse the
     * relative one, so store the absolute. */
    char fixed[PATH_MAX];
    if (!cordon_pack_symlink_ok(abs + 1, text)) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", abs);
        char *slash = strrchr(dir, '/');
        if (slash == dir)
            dir[1] = '\0';
        else
            *slash = '\0';
        if (cordon_path_join(dir, text, fixed, sizeof fixed) < 0)
            return cordon_error_set(p->err, ENAMETOOLONG, abs, 0, 0, "'%s': target too long", abs);
        text = fixed;
    }
    struct pentry *e;
    bool isnew;
    r = entry_get(p, abs, PK_SYMLINK, &e, &isnew);
    if (r < 0)
        return r;
    if (e->kind == PK_DIR && !isnew) {
        /* A directory someone added lexically before the host showed a link. */
        e->kind = PK_SYMLINK;
        isnew = true;
    }
    if (e->kind != PK_SYMLINK)
        return conflict(p, abs, e->kind, PK_SYMLINK);
    if (isnew || (from_manifest && !e->from_manifest)) {
        char *t = strdup(text);
        if (!t)
            return oom(p);
        free(e->target);
        e->target = t;
        e->mtime_ns = mtime_ns;
        e->mode = 0777;
        e->from_manifest = from_manifest;
    }
    return 0;
}

static int pack_link(void *ctx, const char *link, const char *target) {
    struct pack *p = ctx;
    const struct cordon_input *in = cordon_manifest_find_input(p->m, link);
    return add_symlink(p, link, target, in && in->type == CORDON_FT_SYMLINK ? in->mtime_ns : 0,
                       false);
}

/* Where `path` lands on the host, every symlink on the way an entry
 * (cordon_path_walk). 1 (and no `out`) if it leads into /proc, /sys or
 * /dev, which the runners provide. */
static int resolve(struct pack *p, const char *path, bool follow_last, char *out, size_t size) {
    cordon_error_clear(p->err);
    int r = cordon_path_walk(NULL, path, follow_last, pack_link, p, out, size);
    if (r >= 0 || (p->err && p->err->code))
        return r;
    if (r == -ENAMETOOLONG)
        return name_too_long(p, path);
    if (r == -ELOOP)
        return cordon_error_set(p->err, ELOOP, path, 0, 0, "too many symlinks resolving '%s'",
                                path);
    return cordon_error_set(p->err, -r, out, 0, 0, "cannot read the symlink '%s'", out);
}

static int add_file(struct pack *p, const char *abs, const struct cordon_input *in) {
    if (strcmp(abs, "/") == 0)
        return 0;
    int r = check_name(p, abs);
    if (r < 0)
        return r;
    struct pentry *e;
    bool isnew;
    r = entry_get(p, abs, PK_FILE, &e, &isnew);
    if (r < 0)
        return r;
    if (e->kind != PK_FILE)
        return conflict(p, abs, e->kind, PK_FILE);
    if (cordon_use_needs_content(in->uses)) {
        if (!in->has_hash || (in->flags & CORDON_INPUT_UNHASHED))
            return cordon_error_set(p->err, ENODATA, in->path, 0, 0,
                                    "'%s' was read but its content was not recorded (unhashed)",
                                    in->path);
        if (e->has_hash && !cordon_hash_equal(&e->hash, &in->hash))
            return cordon_error_set(p->err, EINVAL, in->path, 0, 0,
                                    "'%s' and '%s' lead to '%s' but were recorded with different "
                                    "content",
                                    e->need_path, in->path, abs);
        e->content = true;
        e->has_hash = true;
        e->hash = in->hash;
        if (in->flags & CORDON_INPUT_CHANGED)
            e->changed = true;
        if (!e->need_path || strcmp(in->path, e->need_path) < 0)
            e->need_path = in->path;
    }
    /* The input at exactly this path describes it best; among others the
     * first by path, so that the order of the manifest does not matter. */
    bool exact = strcmp(in->path, abs) == 0;
    if (!e->meta_input || (exact && !e->exact) ||
        (exact == e->exact && strcmp(in->path, e->meta_input) < 0)) {
        e->meta_input = in->path;
        e->exact = exact;
        e->mode = in->mode & 0777;
        e->mtime_ns = in->mtime_ns;
        e->size = in->size;
        e->from_manifest = true;
    }
    return 0;
}

static const char *manifest_home(const struct cordon_manifest *m) {
    for (char **e = m->command.env; e && *e; e++)
        if (strncmp(*e, "HOME=", 5) == 0)
            return *e + 5;
    return NULL;
}

static int add_input(struct pack *p, const struct cordon_input *in) {
    if (in->type != CORDON_FT_FILE && in->type != CORDON_FT_DIR && in->type != CORDON_FT_SYMLINK)
        return 0;
    if (!in->path || in->path[0] != '/')
        return cordon_error_set(p->err, EINVAL, NULL, 0, 0, "input '%s' is not absolute",
                                in->path ? in->path : "");
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s", in->path) >= sizeof path)
        return cordon_error_set(p->err, ENAMETOOLONG, in->path, 0, 0, "'%s': name too long",
                                in->path);
    cordon_path_normalize(path);
    if (cordon_path_is_virtual(path))
        return 0;
    enum cordon_category cat = cordon_classify_path(path, p->home, p->worktree);
    if (cat == CORDON_CAT_CREDENTIALS && !p->o->include_credentials) {
        pwarn(p, "leaving out the credential '%s' (pack it with --include credentials)", path);
        p->stats.dropped++;
        return 0;
    }
    if (cat >= 0 && cat < CORDON_CAT_MAX && (p->o->drop & (1u << cat))) {
        p->stats.dropped++;
        return 0;
    }
    /* The recording's own classification knows more than the path (a
     * system library that shadowed the work tree's): it may add a drop,
     * never take one away, so a manifest saying "system" cannot bring a
     * credential in. */
    enum cordon_category recorded = cordon_category_from_name(in->category);
    if (recorded >= 0 && recorded < CORDON_CAT_MAX && (p->o->drop & (1u << recorded))) {
        p->stats.dropped++;
        return 0;
    }
    char out[PATH_MAX];
    int r;
    switch (in->type) {
    case CORDON_FT_DIR:
        r = resolve(p, path, true, out, sizeof out);
        if (r == 0)
            r = add_dir(p, out, in->mode, in->mtime_ns, true);
        return r < 0 ? r : 0;
    case CORDON_FT_FILE:
        r = resolve(p, path, true, out, sizeof out);
        if (r == 0)
            r = add_file(p, out, in);
        return r < 0 ? r : 0;
    case CORDON_FT_SYMLINK: {
        if (!in->target || !*in->target)
            return cordon_error_set(p->err, EINVAL, path, 0, 0,
                                    "the symlink '%s' has no target in the manifest", path);
        /* The link itself is not followed: it goes where its directory
         * resolves, with the target the recording saw. */
        r = resolve(p, path, false, out, sizeof out);
        if (r == 0)
            r = add_symlink(p, out, in->target, in->mtime_ns, true);
        if (r < 0)
            return r;
        /* Used through (exec, stat, open): the rest of the chain too, or
         * the link dangles in the root (/usr/bin/gcc -> gcc-12 ->
         * x86_64-linux-gnu-gcc-12, where the recording names only the
         * first and the last). The last is an input of its own. */
        if (in->uses & ~(unsigned)CORDON_USE_READLINK) {
            r = resolve(p, path, true, out, sizeof out);
            if (r < 0)
                return r;
        }
        return 0;
    }
    case CORDON_FT_MISSING:
    case CORDON_FT_OTHER:
    case CORDON_FT_MAX:
    case CORDON_FT_INVALID:
    default:
        return 0;
    }
}

/* A directory the build must find to write in (an output's parent, the
 * work tree, the working directory). */
static int add_writable_dir(struct pack *p, const char *path) {
    if (!path || path[0] != '/')
        return 0;
    char norm[PATH_MAX], out[PATH_MAX];
    if ((size_t)snprintf(norm, sizeof norm, "%s", path) >= sizeof norm)
        return 0;
    cordon_path_normalize(norm);
    if (cordon_path_is_virtual(norm))
        return 0;
    int r = resolve(p, norm, true, out, sizeof out);
    if (r != 0)
        return r < 0 ? r : 0;
    if (strcmp(out, "/") == 0 || cordon_path_is_virtual(out))
        return 0;
    struct pentry *e = cordon_map_get(p->by_name, out + 1);
    if (e)
        return e->kind == PK_DIR ? 0 : conflict(p, out, e->kind, PK_DIR);
    return add_synth_dir(p, out);
}

/* Every entry's parents, as directories. */
static int add_parents(struct pack *p) {
    size_t n = p->n;
    for (size_t i = 0; i < n; i++) {
        if (p->v[i]->dotcordon)
            continue;
        char abs[PATH_MAX];
        snprintf(abs, sizeof abs, "/%s", p->v[i]->name);
        for (char *s = strchr(abs + 1, '/'); s; s = strchr(s + 1, '/')) {
            *s = '\0';
            struct pentry *e = cordon_map_get(p->by_name, abs + 1);
            int r = 0;
            if (!e)
                r = add_synth_dir(p, abs);
            else if (e->kind != PK_DIR)
                r = cordon_error_set(p->err, EINVAL, abs, 0, 0,
                                     "'/%s' would be packed below the %s '%s'", p->v[i]->name,
                                     e->kind == PK_SYMLINK ? "symlink" : "file", abs);
            *s = '/';
            if (r < 0)
                return r;
        }
    }
    return 0;
}

static int add_dotcordon(struct pack *p, const char *name, enum pkind kind, struct pentry **ret) {
    char abs[PATH_MAX];
    snprintf(abs, sizeof abs, "/%s", name);
    bool isnew;
    int r = entry_get(p, abs, kind, ret, &isnew);
    if (r < 0)
        return r;
    (*ret)->dotcordon = true;
    (*ret)->mode = kind == PK_DIR ? 0755 : 0644;
    return 0;
}

static int read_whole(const char *path, char **ret, size_t *ret_len, struct cordon_error *err) {
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cordon_error_set(err, errno, path, 0, 0, "cannot open '%s'", path);
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            cordon_strbuf_release(&sb);
            return cordon_error_set(err, e, path, 0, 0, "cannot read '%s'", path);
        }
        cordon_strbuf_addn(&sb, buf, (size_t)n);
    }
    *ret_len = sb.len;
    *ret = cordon_strbuf_detach(&sb);
    if (!*ret)
        return cordon_error_set(err, ENOMEM, path, 0, 0, "out of memory");
    return 0;
}

/* The root's own files: the manifest and the runners' libraries. */
static int add_dotcordon_files(struct pack *p) {
    struct pentry *e;
    int r = add_dotcordon(p, ".cordon", PK_DIR, &e);
    if (r < 0)
        return r;
    if (p->o->manifest_path) {
        r = read_whole(p->o->manifest_path, &p->manifest_json, &p->manifest_len, p->err);
        if (r < 0)
            return r;
    } else {
        p->manifest_json = cordon_manifest_dumps(p->m);
        if (!p->manifest_json)
            return oom(p);
        p->manifest_len = strlen(p->manifest_json);
    }
    r = add_dotcordon(p, CORDON_PACK_MANIFEST, PK_FILE, &e);
    if (r < 0)
        return r;
    e->content = e->has_hash = true;
    e->mem = p->manifest_json;
    e->size = e->mem_len = p->manifest_len;
    cordon_hash_buffer(e->mem, e->mem_len, &e->hash);

    const char *fc = p->o->fakechroot;
    for (size_t i = 0; !fc && i < CORDON_ARRAY_SIZE(fakechroot_paths); i++)
        if (access(fakechroot_paths[i], R_OK) == 0)
            fc = fakechroot_paths[i];
    if (!fc)
        pwarn(p,
              "no libfakechroot.so found (looked in %s and others): the root will replay "
              "only in namespaces",
              fakechroot_paths[0]);
    /* fakechroot's companion for #! scripts lives beside the hook
     * (replayer/fc_shebang.c); the root carries it as it carries the rest. */
    char shebang[PATH_MAX] = "";
    const char *slash = p->o->hook ? strrchr(p->o->hook, '/') : NULL;
    if (slash &&
        (size_t)snprintf(shebang, sizeof shebang, "%.*s/libcordon-shebang.so",
                         (int)(slash - p->o->hook), p->o->hook) < sizeof shebang &&
        access(shebang, R_OK) != 0)
        shebang[0] = '\0';
    const char *libs[3][2] = {{p->o->hook, ".cordon/lib/libcordon-hook.so"},
                              {fc, ".cordon/lib/libfakechroot.so"},
                              {shebang[0] ? shebang : NULL, ".cordon/lib/libcordon-shebang.so"}};
    for (int i = 0; i < 3; i++) {
        if (!libs[i][0])
            continue;
        r = add_dotcordon(p, ".cordon/lib", PK_DIR, &e);
        if (r < 0)
            return r;
        r = add_dotcordon(p, libs[i][1], PK_FILE, &e);
        if (r < 0)
            return r;
        e->content = true;
        /* Opened with O_NOFOLLOW later: the file itself, not a link to it. */
        e->source = realpath(libs[i][0], NULL);
        if (!e->source)
            return cordon_error_set(p->err, errno, libs[i][0], 0, 0, "cannot open '%s'",
                                    libs[i][0]);
        e->need_path = libs[i][0];
        e->mode = 0755;
    }
    return 0;
}

/* Where each file's bytes come from: the host when it still hashes as
 * recorded, else the store. */
static int choose_sources_with(struct pack *p, struct cordon_hash_job *jobs,
                               struct pentry **owner) {
    size_t nj = 0;
    for (size_t i = 0; i < p->n; i++) {
        struct pentry *e = p->v[i];
        if (e->kind != PK_FILE || !e->content || e->mem)
            continue;
        if (!e->dotcordon && e->changed)
            continue;
        if (!e->source) {
            if (asprintf(&e->source, "/%s", e->name) < 0) {
                e->source = NULL;
                return oom(p);
            }
        }
        jobs[nj].path = e->source;
        owner[nj++] = e;
    }
    int r = cordon_hash_many(jobs, nj, 0, NULL);
    if (r < 0)
        return cordon_error_set(p->err, -r, NULL, 0, 0, "cannot start hashing");
    for (size_t j = 0; j < nj; j++) {
        struct pentry *e = owner[j];
        if (e->dotcordon) {
            if (jobs[j].error)
                return cordon_error_set(p->err, -jobs[j].error, e->source, 0, 0, "cannot read '%s'",
                                        e->source);
            e->hash = jobs[j].hash;
            e->has_hash = true;
            e->size = jobs[j].size;
            e->verify = true;
            continue;
        }
        if (!jobs[j].error && cordon_hash_equal(&jobs[j].hash, &e->hash)) {
            e->size = jobs[j].size;
            e->verify = true;
            continue;
        }
        e->changed = true;
        e->host_error = jobs[j].error;
    }
    for (size_t i = 0; i < p->n; i++) {
        struct pentry *e = p->v[i];
        if (e->kind != PK_FILE || !e->content || e->mem || e->dotcordon || !e->changed)
            continue;
        char sp[PATH_MAX];
        struct stat st;
        if (p->have_store && cordon_store_path(p->store, &e->hash, sp, sizeof sp) == 0 &&
            cordon_store_has(p->store, &e->hash) && stat(sp, &st) == 0) {
            free(e->source);
            e->source = strdup(sp);
            if (!e->source)
                return oom(p);
            e->size = (uint64_t)st.st_size;
            e->verify = true;
            continue;
        }
        if (e->host_error == -ENOENT)
            return cordon_error_set(p->err, ENOENT, e->need_path, 0, 0,
                                    "'%s' is gone since it was recorded and the store has no copy",
                                    e->need_path);
        if (e->host_error)
            return cordon_error_set(p->err, -e->host_error, e->need_path, 0, 0,
                                    "cannot read '%s' and the store has no copy", e->need_path);
        return cordon_error_set(p->err, EBADMSG, e->need_path, 0, 0,
                                "'%s' changed since it was recorded and the store has no copy",
                                e->need_path);
    }
    return 0;
}

/* The scratch arrays are freed here by hand, not by _cleanup_free_:
 * clang-tidy 14 does not run cleanup attributes and reported a leak. */
static int choose_sources(struct pack *p) {
    struct cordon_hash_job *jobs = calloc(p->n ? p->n : 1, sizeof *jobs);
    struct pentry **owner = calloc(p->n ? p->n : 1, sizeof *owner);
    int r = jobs && owner ? choose_sources_with(p, jobs, owner) : oom(p);
    free(jobs);
    free(owner);
    return r;
}

static int cmp_entry(const void *a, const void *b) {
    const struct pentry *x = *(struct pentry *const *)a, *y = *(struct pentry *const *)b;
    if (x->dotcordon != y->dotcordon)
        return x->dotcordon ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int cmp_name(const void *a, const void *b) {
    return strcmp((*(struct pentry *const *)a)->name, (*(struct pentry *const *)b)->name);
}

/* Hard links for repeated content, and the index of every file with bytes.
 * Content, mode and time must all agree for two paths to share one inode. */
static int link_and_index(struct pack *p) {
    struct cordon_map *first = cordon_map_new(p->n);
    if (!first)
        return oom(p);
    int r = 0;
    for (size_t i = 0; i < p->n && r == 0; i++) {
        struct pentry *e = p->v[i];
        if (e->kind != PK_FILE || !e->content)
            continue;
        char key[CORDON_HASH_HEX_LEN + 64];
        char hex[CORDON_HASH_HEX_LEN + 1];
        snprintf(key, sizeof key, "%s %o %lld", cordon_hash_to_hex(&e->hash, hex), e->mode,
                 (long long)e->mtime_ns);
        struct pentry *f = cordon_map_get(first, key);
        if (f)
            e->link_to = f->name;
        else if (cordon_map_put(first, key, e) < 0)
            r = oom(p);
    }
    cordon_map_free(first);
    if (r < 0)
        return r;

    /* Allocated only now, with no return before qsort takes it: clang-tidy
     * 14 does not run cleanup attributes and calls any earlier return a
     * leak. */
    _cleanup_free_ struct pentry **files = calloc(p->n ? p->n : 1, sizeof *files);
    if (!files)
        return oom(p);
    size_t nf = 0;
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i]->kind == PK_FILE && p->v[i]->content)
            files[nf++] = p->v[i];
    qsort(files, nf, sizeof *files, cmp_name);
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    for (size_t i = 0; i < nf; i++) {
        char hex[CORDON_HASH_HEX_LEN + 1];
        cordon_strbuf_adds(&sb, cordon_hash_to_hex(&files[i]->hash, hex));
        cordon_strbuf_adds(&sb, " ");
        for (const char *c = files[i]->name; *c; c++) {
            if (*c == '\\')
                cordon_strbuf_adds(&sb, "\\\\");
            else if (*c == '\n')
                cordon_strbuf_adds(&sb, "\\n");
            else
                cordon_strbuf_addn(&sb, c, 1);
        }
        cordon_strbuf_adds(&sb, "\n");
    }
    p->contents_len = sb.len;
    p->contents = cordon_strbuf_detach(&sb);
    if (!p->contents)
        return oom(p);
    struct pentry *e;
    r = add_dotcordon(p, CORDON_PACK_CONTENTS, PK_FILE, &e);
    if (r < 0)
        return r;
    e->content = true;
    e->mem = p->contents;
    e->size = e->mem_len = p->contents_len;
    return 0;
}

/* ---- writing ------------------------------------------------------------ */

struct writer {
    struct pack *p;
    enum cordon_pack_format fmt;
    struct archive *a;
    struct archive_entry *ae;
    int fd;
    char *tmp;
    struct cordon_tree *tree;
};

static int archive_error(struct writer *w, const char *name) {
    const char *s = archive_error_string(w->a);
    int e = archive_errno(w->a) > 0 ? archive_errno(w->a) : EIO;
    return cordon_error_set(w->p->err, e, w->p->o->output, 0, 0, "cannot write '%s': %s", name,
                            s ? s : "error");
}

static int writer_open(struct writer *w) {
    const char *out = w->p->o->output;
    if (w->fmt == CORDON_PACK_DIR)
        return cordon_tree_new(out, out, &w->tree, w->p->err);
    if (asprintf(&w->tmp, "%s.tmp-XXXXXX", out) < 0) {
        w->tmp = NULL;
        return oom(w->p);
    }
    w->fd = mkostemp(w->tmp, O_CLOEXEC);
    if (w->fd < 0) {
        int e = errno;
        free(w->tmp);
        w->tmp = NULL;
        return cordon_error_set(w->p->err, e, out, 0, 0, "cannot create '%s'", out);
    }
    (void)fchmod(w->fd, 0644);
    w->a = archive_write_new();
    w->ae = archive_entry_new();
    if (!w->a || !w->ae)
        return oom(w->p);
    /* Full pax: restricted pax drops the nanoseconds of an mtime that
     * needs no other extension. libarchive's pax headers are named
     * "PaxHeader/NAME" and carry only what the entry has: no pid, no time. */
    if (archive_write_set_format_pax(w->a) != ARCHIVE_OK)
        return archive_error(w, out);
    int r = ARCHIVE_OK;
    switch (w->fmt) {
    case CORDON_PACK_TAR_ZSTD:
        r = archive_write_add_filter_zstd(w->a);
        if (r == ARCHIVE_OK)
            r = archive_write_set_filter_option(w->a, "zstd", "compression-level", "3");
        if (r == ARCHIVE_OK) {
            /* zstd's multi-threaded mode writes the same bytes for any
             * number of workers from one up (not for zero), so the count
             * can follow the machine; it is also ~1.5x faster than zero
             * workers through libarchive 3.6.2 on one core. */
            long cpus = sysconf(_SC_NPROCESSORS_ONLN);
            char threads[16];
            snprintf(threads, sizeof threads, "%ld", cpus < 1 ? 1 : cpus > 8 ? 8 : cpus);
            r = archive_write_set_filter_option(w->a, "zstd", "threads", threads);
        }
        break;
    case CORDON_PACK_TAR_GZ:
        r = archive_write_add_filter_gzip(w->a);
        /* No time in the gzip header. */
        if (r == ARCHIVE_OK)
            r = archive_write_set_filter_option(w->a, "gzip", "timestamp", NULL);
        break;
    case CORDON_PACK_TAR:
    case CORDON_PACK_DIR:
    case CORDON_PACK_FORMAT_MAX:
    case CORDON_PACK_FORMAT_INVALID:
    default:
        break;
    }
    if (r < ARCHIVE_WARN)
        return archive_error(w, out);
    /* Full blocks of 10 KiB would pad the end with zeros for nothing. */
    archive_write_set_bytes_in_last_block(w->a, 1);
    if (archive_write_open_fd(w->a, w->fd) != ARCHIVE_OK)
        return archive_error(w, out);
    return 0;
}

static void writer_abort(struct writer *w) {
    if (w->a) {
        archive_write_fail(w->a);
        archive_write_free(w->a);
        w->a = NULL;
    }
    archive_entry_free(w->ae);
    w->ae = NULL;
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    if (w->tmp)
        unlink(w->tmp);
    free(w->tmp);
    w->tmp = NULL;
    w->tree = cordon_tree_free(w->tree);
}

static int writer_commit(struct writer *w) {
    if (w->tree)
        return cordon_tree_commit(w->tree, w->p->err);
    if (archive_write_close(w->a) != ARCHIVE_OK)
        return archive_error(w, w->p->o->output);
    archive_write_free(w->a);
    w->a = NULL;
    /* No fsync: tar does not either, and it costs seconds on a large
     * archive; the rename still means no reader sees half an archive. */
    if (close(w->fd) < 0) {
        w->fd = -1;
        return cordon_error_set(w->p->err, errno, w->p->o->output, 0, 0, "cannot write '%s'",
                                w->p->o->output);
    }
    w->fd = -1;
    if (rename(w->tmp, w->p->o->output) < 0)
        return cordon_error_set(w->p->err, errno, w->p->o->output, 0, 0,
                                "cannot rename '%s' to '%s'", w->tmp, w->p->o->output);
    free(w->tmp);
    w->tmp = NULL;
    return 0;
}

static void entry_reset(struct writer *w, const struct pentry *e, mode_t type) {
    struct archive_entry *ae = w->ae;
    archive_entry_clear(ae);
    archive_entry_set_pathname(ae, e->name);
    archive_entry_set_filetype(ae, type);
    archive_entry_set_perm(ae, e->mode);
    int64_t s = e->mtime_ns / 1000000000, ns = e->mtime_ns % 1000000000;
    if (ns < 0) {
        s--;
        ns += 1000000000;
    }
    archive_entry_set_mtime(ae, (time_t)s, (long)ns);
    archive_entry_set_uid(ae, 0);
    archive_entry_set_gid(ae, 0);
}

static int write_header(struct writer *w, const struct pentry *e) {
    int r = archive_write_header(w->a, w->ae);
    if (r < ARCHIVE_WARN)
        return archive_error(w, e->name);
    return 0;
}

/* Stream one file's bytes (from memory or a file) into the archive or the
 * tree fd, hashing them on the way. */
static int write_content(struct writer *w, const struct pentry *e, int outfd) {
    struct pack *p = w->p;
    XXH3_state_t hs;
    XXH3_INITSTATE(&hs);
    (void)XXH3_128bits_reset(&hs);
    uint64_t total = 0;
    if (e->mem) {
        XXH3_128bits_update(&hs, e->mem, e->mem_len);
        total = e->mem_len;
        if (outfd >= 0) {
            for (size_t off = 0; off < e->mem_len;) {
                ssize_t n = write(outfd, e->mem + off, e->mem_len - off);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n < 0)
                    return cordon_error_set(p->err, errno, p->o->output, 0, 0, "cannot write '%s'",
                                            e->name);
                off += (size_t)n;
            }
        } else if (e->mem_len && archive_write_data(w->a, e->mem, e->mem_len) < 0) {
            return archive_error(w, e->name);
        }
    } else {
        _cleanup_close_ int in = open(e->source, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (in < 0)
            return cordon_error_set(p->err, errno, e->need_path, 0, 0, "cannot open '%s'",
                                    e->source);
        (void)posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
        static char buf[CORDON_HASH_BUFSIZE];
        while (total < e->size) {
            size_t want = e->size - total < sizeof buf ? (size_t)(e->size - total) : sizeof buf;
            ssize_t n = read(in, buf, want);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return cordon_error_set(p->err, errno, e->need_path, 0, 0, "cannot read '%s'",
                                        e->source);
            if (n == 0)
                break;
            XXH3_128bits_update(&hs, buf, (size_t)n);
            total += (uint64_t)n;
            for (ssize_t off = 0; off < n;) {
                ssize_t m = outfd >= 0 ? write(outfd, buf + off, (size_t)(n - off))
                                       : archive_write_data(w->a, buf + off, (size_t)(n - off));
                if (m < 0 && outfd >= 0 && errno == EINTR)
                    continue;
                if (m <= 0)
                    return outfd >= 0 ? cordon_error_set(p->err, errno, p->o->output, 0, 0,
                                                         "cannot write '%s'", e->name)
                                      : archive_error(w, e->name);
                off += m;
            }
            cordon_progress_step(&p->progress, (uint64_t)n);
        }
        /* One byte more would mean the file grew since it was hashed. */
        if (total == e->size && read(in, buf, 1) > 0)
            total++;
    }
    struct cordon_hash h;
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits_digest(&hs));
    memcpy(h.bytes, c.digest, sizeof h.bytes);
    if (total != e->size || (e->verify && !cordon_hash_equal(&h, &e->hash)))
        return cordon_error_set(p->err, EBADMSG, e->need_path ? e->need_path : e->name, 0, 0,
                                "'%s' changed while it was being packed",
                                e->need_path ? e->need_path : e->name);
    if (!e->dotcordon)
        p->stats.bytes += total;
    return 0;
}

static int write_entry(struct writer *w, const struct pentry *e) {
    struct pack *p = w->p;
    bool count = !e->dotcordon;
    if (e->kind == PK_DIR) {
        if (count)
            p->stats.dirs++;
        if (w->tree)
            return cordon_tree_add_dir(w->tree, e->name, e->mode, e->mtime_ns, p->err);
        entry_reset(w, e, AE_IFDIR);
        return write_header(w, e);
    }
    if (e->kind == PK_SYMLINK) {
        if (count)
            p->stats.symlinks++;
        if (w->tree)
            return cordon_tree_add_symlink(w->tree, e->name, e->target, e->mtime_ns, p->err);
        entry_reset(w, e, AE_IFLNK);
        archive_entry_set_symlink(w->ae, e->target);
        return write_header(w, e);
    }
    if (count && e->content)
        p->stats.files++;
    else if (count)
        p->stats.sparse++;
    if (e->link_to) {
        if (w->tree)
            return cordon_tree_add_hardlink(w->tree, e->name, e->link_to, &e->hash, p->err);
        entry_reset(w, e, AE_IFREG);
        archive_entry_set_hardlink(w->ae, e->link_to);
        archive_entry_set_size(w->ae, 0);
        return write_header(w, e);
    }
    if (w->tree) {
        int fd = cordon_tree_create_file(w->tree, e->name, p->err);
        if (fd < 0)
            return fd;
        int r = e->content ? write_content(w, e, fd) : 0;
        if (r < 0) {
            close(fd);
            return r;
        }
        return cordon_tree_finish_file(w->tree, fd, e->name, e->size, e->mode, e->mtime_ns,
                                       e->content && e->has_hash ? &e->hash : NULL, p->err);
    }
    entry_reset(w, e, AE_IFREG);
    archive_entry_set_size(w->ae, (la_int64_t)e->size);
    if (!e->content && e->size > 0) {
        /* A placeholder: pax sparse with one zero byte at the end, since
         * libarchive 3.6.2 cannot read back a map without any region. */
        archive_entry_sparse_add_entry(w->ae, (la_int64_t)e->size - 1, 1);
        int r = write_header(w, e);
        if (r < 0)
            return r;
        if (archive_write_data(w->a, "", 1) < 0)
            return archive_error(w, e->name);
        return 0;
    }
    int r = write_header(w, e);
    if (r < 0)
        return r;
    return e->content ? write_content(w, e, -1) : 0;
}

/* ---- the whole ---------------------------------------------------------- */

static void pack_release(struct pack *p) {
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i]->name);
        free(p->v[i]->target);
        free(p->v[i]->source);
        free(p->v[i]);
    }
    free(p->v);
    cordon_map_free(p->by_name);
    free(p->manifest_json);
    free(p->contents);
}

static int pack_build(struct pack *p) {
    const struct cordon_manifest *m = p->m;
    int r = add_dotcordon_files(p);
    if (r < 0)
        return r;
    for (size_t i = 0; i < m->n_inputs; i++) {
        r = add_input(p, &m->inputs[i]);
        if (r < 0)
            return r;
    }
    for (size_t i = 0; i < m->n_outputs; i++) {
        const char *path = m->outputs[i].path;
        if (!path || path[0] != '/')
            continue;
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash == dir)
            dir[1] = '\0';
        else
            *slash = '\0';
        r = add_writable_dir(p, dir);
        if (r < 0)
            return r;
    }
    r = add_writable_dir(p, m->command.cwd);
    if (r < 0)
        return r;
    r = add_writable_dir(p, m->worktree);
    if (r < 0)
        return r;
    r = add_parents(p);
    if (r < 0)
        return r;
    r = choose_sources(p);
    if (r < 0)
        return r;
    qsort(p->v, p->n, sizeof *p->v, cmp_entry);
    return link_and_index(p);
}

int cordon_pack(const struct cordon_pack_options *opts, struct cordon_pack_stats *ret_stats,
                cordon_warn_fn warn, void *warn_ctx, struct cordon_error *err) {
    if (!opts || !opts->manifest || !opts->output)
        return cordon_error_set(err, EINVAL, NULL, 0, 0, "pack needs a manifest and an output");
    if (opts->format < 0 || opts->format >= CORDON_PACK_FORMAT_MAX)
        return cordon_error_set(err, EINVAL, NULL, 0, 0, "unknown archive format");
    /* Every format: the writer's cleanup frees its entry through the table. */
    int loaded = cordon_archive_load(err);
    if (loaded < 0)
        return loaded;
    struct pack p = {
        .o = opts,
        .m = opts->manifest,
        .warn = warn,
        .warn_ctx = warn_ctx,
        .err = err,
    };
    p.home = manifest_home(p.m);
    p.worktree = p.m->worktree;
    if (opts->store) {
        p.have_store =
            (size_t)snprintf(p.store, sizeof p.store, "%s", opts->store) < sizeof p.store;
    } else {
        p.have_store = cordon_store_default(p.store, sizeof p.store) == 0;
    }
    p.by_name = cordon_map_new(p.m->n_inputs * 2 + 16);
    if (!p.by_name)
        return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");

    int r = pack_build(&p);
    if (r < 0) {
        pack_release(&p);
        return r;
    }
    /* Re-sorted: the index joined the list after the sort. */
    qsort(p.v, p.n, sizeof *p.v, cmp_entry);

    uint64_t total = 0;
    for (size_t i = 0; i < p.n; i++)
        if (p.v[i]->kind == PK_FILE && p.v[i]->content && !p.v[i]->link_to && !p.v[i]->mem)
            total += p.v[i]->size;
    cordon_progress_init(&p.progress, "packing", total, opts->quiet);

    struct writer w = {.p = &p, .fmt = opts->format, .fd = -1};
    r = writer_open(&w);
    for (size_t i = 0; r >= 0 && i < p.n; i++)
        r = write_entry(&w, p.v[i]);
    if (r >= 0)
        r = writer_commit(&w);
    writer_abort(&w);
    cordon_progress_done(&p.progress);
    if (r >= 0 && ret_stats)
        *ret_stats = p.stats;
    pack_release(&p);
    return r < 0 ? r : 0;
}
