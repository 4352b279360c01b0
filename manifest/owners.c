/* Which package owns a file: dpkg, rpm, Spack, conda, Nix, Homebrew.
 *
 * Lookups are lazy and bulk: the first lookup reads every dpkg info/NAME.list
 * and the status file (for versions) into one map, so a report over a
 * million inputs costs one pass over dpkg's database instead of a
 * `dpkg -S` per file. rpm is asked once for every file of every package
 * (`rpm -qa` with a FILENAMES query), for the same reason. Spack and conda
 * prefixes are found by walking up from the file's directory, each
 * directory's answer cached. Ported from the Rust analyzer
 * (analysis/owners.rs), with versions added for `diff`.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include <cordon/classify.h>
#include <cordon/hash.h>
#include <cordon/util.h>

struct pkg {
    char *manager;
    char *name;
    char *version;
    struct pkg *next; /* every package, for freeing */
};

/* A Spack or conda prefix; `files` (conda: relative path -> pkg) may be NULL. */
struct prefix {
    char *root;
    struct pkg *spack;
    struct cordon_map *files;
    struct prefix *next;
};

/* dpkg's database as an index file, mapped (see "the dpkg index" below). */
struct dpkg_index {
    const struct idx_head *head; /* the mapping's start */
    size_t size;
    const struct idx_pkg *pkgs;
    const struct idx_path *paths;
    const char *strings;
};

struct cordon_owners;
static void index_close(struct cordon_owners *o);

struct cordon_owners {
    char *dpkg_admindir;
    char *index_dir;          /* NULL: no index file */
    struct dpkg_index *index; /* dpkg's files when read from the index */
    bool rpm;
    bool dpkg_loaded, rpm_loaded;
    struct cordon_map *files;    /* absolute path -> pkg (dpkg, rpm) */
    struct cordon_map *dirs;     /* directory -> prefix, or &no_prefix */
    struct cordon_map *interned; /* "manager\0name\0version" -> pkg */
    struct cordon_map *want;     /* NULL, or the only paths to keep (cordon_owners_want) */
    struct pkg *pkgs;
    struct prefix *prefixes;
};

static struct prefix no_prefix;

struct cordon_owners *cordon_owners_new(const char *dpkg_admindir, bool rpm) {
    struct cordon_owners *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->rpm = rpm;
    o->files = cordon_map_new(1 << 16);
    o->dirs = cordon_map_new(1024);
    o->interned = cordon_map_new(1024);
    if (!o->files || !o->dirs || !o->interned ||
        (dpkg_admindir && !(o->dpkg_admindir = strdup(dpkg_admindir))))
        return cordon_owners_free(o);
    return o;
}

struct cordon_owners *cordon_owners_new_host(void) {
    struct stat st;
    bool dpkg = stat("/var/lib/dpkg/info", &st) == 0 && S_ISDIR(st.st_mode);
    bool rpm = stat("/var/lib/rpm", &st) == 0;
    return cordon_owners_new(dpkg ? "/var/lib/dpkg" : NULL, rpm);
}

struct cordon_owners *cordon_owners_free(struct cordon_owners *o) {
    if (!o)
        return NULL;
    for (struct pkg *p = o->pkgs, *n; p; p = n) {
        n = p->next;
        free(p->manager);
        free(p->name);
        free(p->version);
        free(p);
    }
    for (struct prefix *p = o->prefixes, *n; p; p = n) {
        n = p->next;
        free(p->root);
        cordon_map_free(p->files);
        free(p);
    }
    cordon_map_free(o->files);
    cordon_map_free(o->dirs);
    cordon_map_free(o->interned);
    cordon_map_free(o->want);
    index_close(o);
    free(o->index_dir);
    free(o->dpkg_admindir);
    free(o);
    return NULL;
}

/* One struct per (manager, name, version), shared by all its files. */
static struct pkg *intern(struct cordon_owners *o, const char *manager, const char *name,
                          size_t name_len, const char *version) {
    char key[512];
    int n = snprintf(key, sizeof key, "%s\t%.*s\t%s", manager, (int)name_len, name,
                     version ? version : "");
    if (n < 0 || (size_t)n >= sizeof key)
        return NULL;
    struct pkg *p = cordon_map_get(o->interned, key);
    if (p)
        return p;
    p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->manager = strdup(manager);
    p->name = strndup(name, name_len);
    p->version = version ? strdup(version) : NULL;
    p->next = o->pkgs;
    o->pkgs = p;
    if (!p->manager || !p->name || (version && !p->version) ||
        cordon_map_put(o->interned, key, p) < 0)
        return NULL;
    return p;
}

static char *read_all(const char *path, size_t *ret_len) {
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        cordon_strbuf_addn(&sb, buf, (size_t)n);
    if (n < 0) {
        cordon_strbuf_release(&sb);
        return NULL;
    }
    if (ret_len)
        *ret_len = sb.len;
    return cordon_strbuf_detach(&sb);
}

/* status: "Package: NAME", "Architecture:", "Version:" stanzas -> name[:arch] -> version. */
static struct cordon_map *dpkg_versions(const char *admindir, char **ret_text) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/status", admindir);
    char *text = read_all(path, NULL);
    struct cordon_map *v = cordon_map_new(4096);
    if (!v) {
        free(text);
        return NULL;
    }
    *ret_text = text;
    if (!text)
        return v;
    const char *name = NULL, *arch = NULL, *version = NULL;
    size_t name_n = 0, arch_n = 0;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (!*line) {
            name = arch = version = NULL;
        } else if (strncmp(line, "Package: ", 9) == 0) {
            name = line + 9;
            name_n = strlen(name);
        } else if (strncmp(line, "Architecture: ", 14) == 0) {
            arch = line + 14;
            arch_n = strlen(arch);
        } else if (strncmp(line, "Version: ", 9) == 0) {
            version = line + 9;
        }
        if (name && version && arch) {
            char key[512];
            /* Both spellings: info lists are named NAME.list or NAME:ARCH.list. */
            snprintf(key, sizeof key, "%.*s", (int)name_n, name);
            if (!cordon_map_get(v, key) && cordon_map_put(v, key, (void *)version) < 0)
                break;
            snprintf(key, sizeof key, "%.*s:%.*s", (int)name_n, name, (int)arch_n, arch);
            if (cordon_map_put(v, key, (void *)version) < 0)
                break;
            name = arch = version = NULL;
        }
        line = nl ? nl + 1 : NULL;
    }
    return v;
}

static int name_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether a database line names a path worth keeping: every path, unless
 * the caller said which it will ask about. */
static bool wanted(const struct cordon_owners *o, const char *path) {
    return !o->want || cordon_map_get(o->want, path);
}

static bool usrmerge_alternative(const char *path, char *out, size_t size);
static int load_dpkg(struct cordon_owners *o, const int *stop);
static int load_rpm(struct cordon_owners *o);

/* Back to nothing loaded: the next lookup loads again. */
static int forget_loaded(struct cordon_owners *o) {
    struct cordon_map *files = cordon_map_new(1 << 10);
    if (!files)
        return -ENOMEM;
    cordon_map_free(o->files);
    o->files = files;
    index_close(o);
    o->dpkg_loaded = o->rpm_loaded = false;
    return 0;
}

int cordon_owners_load(struct cordon_owners *o, const int *stop) {
    if (!o || o->want || o->dpkg_loaded || o->rpm_loaded)
        return -EINVAL;
    int r = load_dpkg(o, stop);
    if (r == 0 && !(stop && __atomic_load_n(stop, __ATOMIC_RELAXED)))
        r = load_rpm(o);
    else if (r == 0)
        r = -ECANCELED;
    if (r < 0) {
        /* Half a database would answer "no package" for what it has not
         * read: start again empty, so that the next lookup loads it whole. */
        int e = forget_loaded(o);
        if (e < 0)
            return e;
    }
    return r;
}

int cordon_owners_want(struct cordon_owners *o, const char *path) {
    if (!o || !path || path[0] != '/' || o->index_dir)
        return 0;
    if (o->dpkg_loaded || o->rpm_loaded) {
        /* Loaded whole, or already with this path: nothing to do. Else the
         * loaded subset lacks it: forget it, the next lookup reloads. */
        if (!o->want || cordon_map_get(o->want, path))
            return 0;
        int e = forget_loaded(o);
        if (e < 0)
            return e;
    }
    if (!o->want && !(o->want = cordon_map_new(1024)))
        return -ENOMEM;
    char alt[PATH_MAX];
    int r = cordon_map_put(o->want, path, o);
    if (r == 0 && usrmerge_alternative(path, alt, sizeof alt))
        r = cordon_map_put(o->want, alt, o);
    return r;
}

/* ---- the dpkg index ------------------------------------------------------
 * Reading dpkg's 900 file lists (150,000 paths, 9 MB) takes 40-100 ms,
 * each time: too much for a recording of a short build. The first load
 * with an index directory writes what it read as one file, sorted by path;
 * later loads map that file and look paths up by binary search, while
 * dpkg's status file and info directory are the ones it was made from
 * (dpkg rewrites the status file at the end of every operation, and adds,
 * removes or renames into info/ whenever a package's list changes). The
 * file is checked whole when it is mapped: a damaged one is made again,
 * never trusted. */

#define IDX_MAGIC "CORDOWN1"

/* The database's state the index was made from. */
struct idx_stamp {
    uint64_t status_mtime_ns, status_size, status_ino;
    uint64_t info_mtime_ns, info_ino;
};

struct idx_head {
    char magic[8];
    struct idx_stamp stamp;
    uint64_t file_size;
    uint32_t n_pkgs, n_paths;
    uint64_t strings_size;
};
struct idx_pkg {
    uint32_t name, version; /* offsets into the strings; version UINT32_MAX: none */
};
struct idx_path {
    uint32_t path, pkg; /* path: offset into the strings; pkg: index */
};

static uint64_t ns_of(const struct timespec *ts) {
    return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

static int dpkg_stamp(const char *admindir, struct idx_stamp *h) {
    char path[PATH_MAX];
    struct stat st;
    snprintf(path, sizeof path, "%s/status", admindir);
    if (stat(path, &st) < 0)
        return -errno;
    h->status_mtime_ns = ns_of(&st.st_mtim);
    h->status_size = (uint64_t)st.st_size;
    h->status_ino = (uint64_t)st.st_ino;
    snprintf(path, sizeof path, "%s/info", admindir);
    if (stat(path, &st) < 0)
        return -errno;
    h->info_mtime_ns = ns_of(&st.st_mtim);
    h->info_ino = (uint64_t)st.st_ino;
    return 0;
}

static int index_file(const struct cordon_owners *o, char *out, size_t size) {
    struct cordon_hash h;
    char hex[CORDON_HASH_HEX_LEN + 1];
    cordon_hash_buffer(o->dpkg_admindir, strlen(o->dpkg_admindir), &h);
    int n = snprintf(out, size, "%s/owners-dpkg-%.16s", o->index_dir, cordon_hash_to_hex(&h, hex));
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Map the index if it is whole and made from the database's state `now`. */
static struct dpkg_index *index_open(const struct cordon_owners *o, const struct idx_stamp *now) {
    char path[PATH_MAX];
    if (index_file(o, path, sizeof path) < 0)
        return NULL;
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size < sizeof(struct idx_head) || (uint64_t)st.st_size > UINT32_MAX)
        return NULL;
    size_t size = (size_t)st.st_size;
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED)
        return NULL;
    const struct idx_head *h = map;
    /* The layout: head, pkgs, paths, strings, to the byte. */
    uint64_t tables = sizeof *h + (uint64_t)h->n_pkgs * sizeof(struct idx_pkg) +
                      (uint64_t)h->n_paths * sizeof(struct idx_path);
    bool ok = memcmp(h->magic, IDX_MAGIC, 8) == 0 && h->file_size == size &&
              memcmp(&h->stamp, now, sizeof *now) == 0 && h->strings_size > 0 &&
              tables + h->strings_size == size;
    struct dpkg_index *x = ok ? calloc(1, sizeof *x) : NULL;
    if (!x) {
        munmap(map, size);
        return NULL;
    }
    *x = (struct dpkg_index){.head = h,
                             .size = size,
                             .pkgs = (const struct idx_pkg *)(h + 1),
                             .strings = (const char *)map + tables};
    x->paths = (const struct idx_path *)(x->pkgs + h->n_pkgs);
    /* Every offset inside the strings, which end in a NUL: every string
     * read from the file is then terminated inside it. */
    ok = x->strings[h->strings_size - 1] == '\0';
    for (uint32_t i = 0; ok && i < h->n_pkgs; i++)
        ok = x->pkgs[i].name < h->strings_size &&
             (x->pkgs[i].version == UINT32_MAX || x->pkgs[i].version < h->strings_size);
    for (uint32_t i = 0; ok && i < h->n_paths; i++)
        ok = x->paths[i].path < h->strings_size && x->paths[i].pkg < h->n_pkgs;
    if (!ok) {
        munmap(map, size);
        free(x);
        return NULL;
    }
    return x;
}

static void index_close(struct cordon_owners *o) {
    if (!o->index)
        return;
    munmap((void *)o->index->head, o->index->size);
    free(o->index);
    o->index = NULL;
}

static struct pkg *index_find(struct cordon_owners *o, const char *path) {
    const struct dpkg_index *x = o->index;
    size_t lo = 0, hi = x->head->n_paths;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(x->strings + x->paths[mid].path, path);
        if (c == 0) {
            const struct idx_pkg *p = &x->pkgs[x->paths[mid].pkg];
            const char *name = x->strings + p->name;
            return intern(o, "dpkg", name, strlen(name),
                          p->version == UINT32_MAX ? NULL : x->strings + p->version);
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* What a load puts in the index as it goes. */
struct index_builder {
    struct cordon_strbuf strings;
    struct idx_path *paths;
    size_t n_paths, cap_paths;
    struct idx_pkg *pkgs;
    size_t n_pkgs, cap_pkgs;
};

static uint32_t builder_string(struct index_builder *b, const char *s) {
    size_t off = b->strings.len;
    cordon_strbuf_addn(&b->strings, s, strlen(s) + 1);
    return (uint32_t)off;
}

static int path_cmp(const void *a, const void *b, void *strings) {
    const char *s = strings;
    return strcmp(s + ((const struct idx_path *)a)->path, s + ((const struct idx_path *)b)->path);
}

/* Write the index next to where it will be read, then rename it into
 * place: a reader sees the old file or the new one. Failing to write it
 * only costs the next load its time. */
static void index_write(const struct cordon_owners *o, struct index_builder *b,
                        const struct idx_stamp *stamp) {
    if (b->strings.failed || b->strings.len == 0 || b->strings.len > UINT32_MAX / 2 ||
        cordon_mkdir_p(o->index_dir, 0755) < 0)
        return;
    qsort_r(b->paths, b->n_paths, sizeof *b->paths, path_cmp, b->strings.buf);
    struct idx_head h = {.stamp = *stamp};
    memcpy(h.magic, IDX_MAGIC, 8);
    h.n_pkgs = (uint32_t)b->n_pkgs;
    h.n_paths = (uint32_t)b->n_paths;
    h.strings_size = b->strings.len;
    h.file_size =
        sizeof h + b->n_pkgs * sizeof *b->pkgs + b->n_paths * sizeof *b->paths + b->strings.len;
    char path[PATH_MAX], tmp[PATH_MAX + 16];
    if (index_file(o, path, sizeof path) < 0)
        return;
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return;
    FILE *f = fchmod(fd, 0644) == 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        close(fd);
        (void)unlink(tmp);
        return;
    }
    bool ok = fwrite(&h, sizeof h, 1, f) == 1 &&
              (!b->n_pkgs || fwrite(b->pkgs, sizeof *b->pkgs, b->n_pkgs, f) == b->n_pkgs) &&
              (!b->n_paths || fwrite(b->paths, sizeof *b->paths, b->n_paths, f) == b->n_paths) &&
              fwrite(b->strings.buf, 1, b->strings.len, f) == b->strings.len;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) < 0)
        (void)unlink(tmp);
}

static void builder_release(struct index_builder *b) {
    cordon_strbuf_release(&b->strings);
    free(b->paths);
    free(b->pkgs);
}

int cordon_owners_set_index_dir(struct cordon_owners *o, const char *dir) {
    if (!o || !dir || o->dpkg_loaded || o->rpm_loaded)
        return -EINVAL;
    char *d = strdup(dir);
    if (!d)
        return -ENOMEM;
    free(o->index_dir);
    o->index_dir = d;
    /* A subset would not make a whole index: the index makes one needless. */
    o->want = cordon_map_free(o->want);
    return 0;
}

/* `stop` (may be NULL) is polled between lists: -ECANCELED when it is set. */
static int load_dpkg(struct cordon_owners *o, const int *stop) {
    o->dpkg_loaded = true;
    if (!o->dpkg_admindir)
        return 0;
    struct idx_stamp stamp = {0};
    bool indexing = o->index_dir && dpkg_stamp(o->dpkg_admindir, &stamp) == 0;
    if (indexing && (o->index = index_open(o, &stamp)))
        return 0;
    struct index_builder b = {.strings = CORDON_STRBUF_INIT};
    char info[PATH_MAX];
    snprintf(info, sizeof info, "%s/info", o->dpkg_admindir);
    DIR *d = opendir(info);
    if (!d)
        return 0; /* no database: nothing is dpkg's */
    char **lists = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    int r = 0;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".list") != 0)
            continue;
        if (cordon_grow((void **)&lists, &cap, n + 1, sizeof *lists) < 0 ||
            !(lists[n] = strdup(de->d_name))) {
            r = -ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    /* Sorted, so that a path several packages list (directories) has a
     * stable owner: the first. */
    if (n)
        qsort(lists, n, sizeof *lists, name_cmp);
    _cleanup_free_ char *status = NULL;
    struct cordon_map *versions = r == 0 ? dpkg_versions(o->dpkg_admindir, &status) : NULL;
    if (r == 0 && !versions)
        r = -ENOMEM;
    for (size_t i = 0; i < n && r == 0; i++) {
        if (stop && __atomic_load_n(stop, __ATOMIC_RELAXED)) {
            r = -ECANCELED;
            break;
        }
        char stem[NAME_MAX + 1];
        snprintf(stem, sizeof stem, "%.*s", (int)(strlen(lists[i]) - 5), lists[i]);
        const char *version = cordon_map_get(versions, stem);
        size_t name_len = strcspn(stem, ":");
        struct pkg *p = intern(o, "dpkg", stem, name_len, version);
        if (!p) {
            r = -ENOMEM;
            break;
        }
        uint32_t pkg_no = (uint32_t)b.n_pkgs;
        if (indexing) {
            if (cordon_grow((void **)&b.pkgs, &b.cap_pkgs, b.n_pkgs + 1, sizeof *b.pkgs) < 0) {
                r = -ENOMEM;
                break;
            }
            b.pkgs[b.n_pkgs].name = builder_string(&b, p->name);
            b.pkgs[b.n_pkgs++].version = p->version ? builder_string(&b, p->version) : UINT32_MAX;
        }
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", info, lists[i]);
        _cleanup_free_ char *text = read_all(path, NULL);
        for (char *line = text; line && *line && r == 0;) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            if (line[0] == '/' && strcmp(line, "/.") != 0 && wanted(o, line) &&
                !cordon_map_get(o->files, line)) {
                r = cordon_map_put(o->files, line, p);
                if (r == 0 && indexing) {
                    if (cordon_grow((void **)&b.paths, &b.cap_paths, b.n_paths + 1,
                                    sizeof *b.paths) < 0)
                        r = -ENOMEM;
                    else
                        b.paths[b.n_paths++] =
                            (struct idx_path){.path = builder_string(&b, line), .pkg = pkg_no};
                }
            }
            line = nl ? nl + 1 : NULL;
        }
    }
    if (r == 0 && indexing)
        index_write(o, &b, &stamp);
    builder_release(&b);
    for (size_t i = 0; i < n; i++)
        free(lists[i]);
    free(lists);
    cordon_map_free(versions);
    return r;
}

/* Every file of every package, from one rpm call. */
static int load_rpm(struct cordon_owners *o) {
    o->rpm_loaded = true;
    if (!o->rpm)
        return 0;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return 0;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    char *argv[] = {"rpm", "-qa", "--qf", "[%{FILENAMES}\\t%{NAME}\\t%{VERSION}-%{RELEASE}\\n]",
                    NULL};
    extern char **environ;
    pid_t pid;
    int sr = posix_spawnp(&pid, "rpm", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (sr != 0) {
        close(fds[0]);
        return 0; /* no rpm: nothing is rpm's */
    }
    FILE *f = fdopen(fds[0], "r");
    if (!f) {
        close(fds[0]);
        waitpid(pid, NULL, 0);
        return -ENOMEM;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int r = 0;
    while (r == 0 && (len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] == '\n')
            line[len - 1] = '\0';
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t2 || line[0] != '/')
            continue;
        *t1 = *t2 = '\0';
        struct pkg *p = intern(o, "rpm", t1 + 1, strlen(t1 + 1), t2 + 1);
        if (!p)
            r = -ENOMEM;
        else if (wanted(o, line) && !cordon_map_get(o->files, line))
            r = cordon_map_put(o->files, line, p);
    }
    free(line);
    fclose(f);
    waitpid(pid, NULL, 0);
    return r;
}

/* /usr/lib/x <-> /lib/x (bin, sbin, lib32, lib64, libx32 too): with merged
 * /usr, dpkg may list a file under the other spelling. */
static bool usrmerge_alternative(const char *path, char *out, size_t size) {
    static const char *const merged[] = {"bin", "sbin", "lib", "lib32", "lib64", "libx32"};
    const char *rest = strncmp(path, "/usr/", 5) == 0 ? path + 5 : path + 1;
    size_t n = strcspn(rest, "/");
    bool ok = false;
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(merged); i++)
        ok |= strlen(merged[i]) == n && strncmp(rest, merged[i], n) == 0;
    if (!ok)
        return false;
    int w =
        rest == path + 1 ? snprintf(out, size, "/usr%s", path) : snprintf(out, size, "/%s", rest);
    return w > 0 && (size_t)w < size;
}

/* /nix/store/<32 chars>-NAME-VERSION[-OUTPUT]/... */
static int nix_owner(struct cordon_owners *o, const char *path, struct pkg **ret) {
    if (strncmp(path, "/nix/store/", 11) != 0)
        return 0;
    const char *e = path + 11, *end = strchrnul(e, '/');
    if (end - e < 34 || e[32] != '-')
        return 0;
    for (int i = 0; i < 32; i++)
        if (!((e[i] >= 'a' && e[i] <= 'z') || (e[i] >= '0' && e[i] <= '9')))
            return 0;
    const char *name = e + 33;
    /* The version starts at the first "-DIGIT". */
    const char *v = name;
    while ((v = memchr(v, '-', (size_t)(end - v))) && !(v[1] >= '0' && v[1] <= '9'))
        v++;
    char version[256] = "";
    size_t name_len = (size_t)(end - name);
    if (v && v < end) {
        name_len = (size_t)(v - name);
        snprintf(version, sizeof version, "%.*s", (int)(end - v - 1), v + 1);
    }
    *ret = intern(o, "nix", name, name_len, version[0] ? version : NULL);
    return *ret ? 1 : -ENOMEM;
}

/* .../Cellar/NAME/VERSION/... */
static int homebrew_owner(struct cordon_owners *o, const char *path, struct pkg **ret) {
    const char *c = strstr(path, "/Cellar/");
    if (!c)
        return 0;
    const char *name = c + 8, *ne = strchrnul(name, '/');
    if (ne == name || !*ne)
        return 0;
    const char *ver = ne + 1, *ve = strchrnul(ver, '/');
    if (ve == ver)
        return 0;
    char version[256];
    snprintf(version, sizeof version, "%.*s", (int)(ve - ver), ver);
    *ret = intern(o, "homebrew", name, (size_t)(ne - name), version);
    return *ret ? 1 : -ENOMEM;
}

static struct pkg *spack_pkg(struct cordon_owners *o, const char *dir) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/.spack/spec.json", dir);
    json_t *j = json_load_file(path, 0, NULL);
    const char *name = NULL, *version = NULL;
    json_t *node = json_array_get(json_object_get(json_object_get(j, "spec"), "nodes"), 0);
    name = json_string_value(json_object_get(node, "name"));
    version = json_string_value(json_object_get(node, "version"));
    const char *base = strrchr(dir, '/');
    if (!name)
        name = base && base[1] ? base + 1 : "unknown";
    struct pkg *p = intern(o, "spack", name, strlen(name), version);
    json_decref(j);
    return p;
}

static int conda_files(struct cordon_owners *o, const char *meta, struct cordon_map *files) {
    DIR *d = opendir(meta);
    if (!d)
        return 0;
    struct dirent *de;
    int r = 0;
    while (r == 0 && (de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", meta, de->d_name);
        json_t *j = json_load_file(path, 0, NULL);
        const char *name = json_string_value(json_object_get(j, "name"));
        const char *version = json_string_value(json_object_get(j, "version"));
        json_t *list = json_object_get(j, "files");
        if (name && json_is_array(list)) {
            struct pkg *p = intern(o, "conda", name, strlen(name), version);
            size_t i;
            json_t *f;
            if (!p)
                r = -ENOMEM;
            json_array_foreach(list, i, f) {
                if (r == 0 && json_is_string(f))
                    r = cordon_map_put(files, json_string_value(f), p);
            }
        }
        json_decref(j);
    }
    closedir(d);
    return r;
}

static bool exists(const char *dir, const char *rel, bool want_dir) {
    char p[PATH_MAX];
    struct stat st;
    if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, rel) >= sizeof p || stat(p, &st) < 0)
        return false;
    return want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode);
}

/* The prefix `dir` is, or NULL; -ENOMEM through *err. */
static struct prefix *detect_prefix(struct cordon_owners *o, const char *dir, int *err) {
    bool spack = exists(dir, ".spack/spec.json", false);
    bool conda = !spack && exists(dir, "conda-meta", true);
    if (!spack && !conda)
        return NULL;
    struct prefix *p = calloc(1, sizeof *p);
    if (!p || !(p->root = strdup(dir))) {
        free(p);
        *err = -ENOMEM;
        return NULL;
    }
    p->next = o->prefixes;
    o->prefixes = p;
    if (spack) {
        if (!(p->spack = spack_pkg(o, dir)))
            *err = -ENOMEM;
    } else {
        char meta[PATH_MAX];
        snprintf(meta, sizeof meta, "%s/conda-meta", dir);
        if (!(p->files = cordon_map_new(1024)) || conda_files(o, meta, p->files) < 0)
            *err = -ENOMEM;
    }
    return p;
}

/* The nearest Spack or conda prefix at or above the directory of `path`. */
static int prefix_of(struct cordon_owners *o, const char *path, struct prefix **ret) {
    char dir[PATH_MAX];
    if ((size_t)snprintf(dir, sizeof dir, "%s", path) >= sizeof dir)
        return 0;
    char *visited[PATH_MAX / 2];
    size_t nv = 0;
    struct prefix *found = NULL;
    int err = 0;
    for (;;) {
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir)
            break; /* not at "/": a prefix is never the root */
        *slash = '\0';
        struct prefix *cached = cordon_map_get(o->dirs, dir);
        if (cached) {
            found = cached == &no_prefix ? NULL : cached;
            break;
        }
        found = detect_prefix(o, dir, &err);
        if (err == 0 && found && cordon_map_put(o->dirs, dir, found) < 0)
            err = -ENOMEM;
        if (err < 0 || found)
            break;
        if (nv < CORDON_ARRAY_SIZE(visited)) {
            if (!(visited[nv] = strdup(dir))) {
                err = -ENOMEM;
                break;
            }
            nv++;
        }
    }
    int r = err;
    for (size_t i = 0; i < nv; i++) {
        if (r == 0)
            r = cordon_map_put(o->dirs, visited[i], found ? found : &no_prefix);
        free(visited[i]);
    }
    *ret = found;
    return r;
}

static void fill(struct cordon_owner *ret, const struct pkg *p) {
    *ret = (struct cordon_owner){p->manager, p->name, p->version};
}

int cordon_owners_lookup(struct cordon_owners *o, const char *path, struct cordon_owner *ret) {
    if (!o || !path || path[0] != '/')
        return 0;
    struct pkg *p = NULL;
    int r;
    if ((r = nix_owner(o, path, &p)) != 0 || (r = homebrew_owner(o, path, &p)) != 0) {
        if (r > 0)
            fill(ret, p);
        return r;
    }
    if (!o->dpkg_loaded && (r = load_dpkg(o, NULL)) < 0)
        return r;
    if (!o->rpm_loaded && (r = load_rpm(o)) < 0)
        return r;
    char alt[PATH_MAX];
    bool alt_ok = usrmerge_alternative(path, alt, sizeof alt);
    if ((o->index && ((p = index_find(o, path)) || (alt_ok && (p = index_find(o, alt))))) ||
        (p = cordon_map_get(o->files, path)) || (alt_ok && (p = cordon_map_get(o->files, alt)))) {
        fill(ret, p);
        return 1;
    }
    struct prefix *pre = NULL;
    if ((r = prefix_of(o, path, &pre)) < 0)
        return r;
    if (!pre)
        return 0;
    if (pre->spack) {
        fill(ret, pre->spack);
        return 1;
    }
    const char *rel = path + strlen(pre->root);
    while (*rel == '/')
        rel++;
    if (pre->files && (p = cordon_map_get(pre->files, rel))) {
        fill(ret, p);
        return 1;
    }
    return 0;
}

const char *cordon_owner_format(const struct cordon_owner *o, char *out, size_t size) {
    if (!o || !o->name)
        snprintf(out, size, "no package");
    else if (o->version)
        snprintf(out, size, "%s %s", o->name, o->version);
    else
        snprintf(out, size, "%s", o->name);
    return out;
}
