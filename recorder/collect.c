/* From the hook's event log to a manifest.
 *
 * One pass over the log builds a state per path and per process; a second
 * pass over the paths decides what each one is:
 *   - an input, if the build used it before it wrote it (read, exec, stat,
 *     list, readlink, load), or looked for it and did not find it and never
 *     created it;
 *   - an output, if the build wrote it and it exists at the end, or deleted
 *     it and it existed before the build;
 *   - neither (a temporary file, a probe for the build's own output).
 * Inputs the build rewrote after reading are recorded with their content as
 * first read, from the work tree's snapshot, or flagged unhashed. Files are
 * hashed in parallel at the end, never on the hook's path.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cordon/error.h>
#include <cordon/hash.h>
#include <cordon/manifest.h>
#include <cordon/record.h>
#include <cordon/store.h>
#include <cordon/trace.h>
#include <cordon/util.h>

#include "ahead.h"
#include "collect.h"

/* What the log says about one path. */
struct pstate {
    char *path;
    unsigned uses;     /* input uses seen before any write */
    bool written;      /* the build created, modified, renamed or removed it */
    bool deleted;      /* the last write removed it */
    bool seen_present; /* some successful access before any write */
    bool have_id;      /* identity at the first read */
    bool used_after_write;
    uint64_t dev, ino, size;
    int64_t mtime_ns;
    uint32_t mode;
    int first_pid;
    int writer_pid;
    char *target; /* readlink's answer */
};

struct proc {
    int pid;
    int ppid;
    char *exe;
    char *cwd;
    struct cordon_strbuf args; /* NUL-separated */
    unsigned argc;
    bool have_argv;
    bool have_proc; /* a PROC record: the hook ran in it */
    int status;
    bool waited;
    unsigned flags;
    char *static_exe; /* the static program it exec'd, if any */
    bool seccomp;     /* ... observed through the recorder's seccomp filter */
};

struct envr {
    char *name;
    char *value;
    bool present;
    int first_pid;
};

struct collector {
    struct cordon_map *paths; /* path -> struct pstate* */
    struct pstate **plist;
    size_t n_plist, cap_plist;
    struct cordon_map *procs; /* "pid" -> struct proc* */
    struct proc **prlist;
    size_t n_prlist, cap_prlist;
    struct cordon_map *envs;
    struct envr **elist;
    size_t n_elist, cap_elist;
    unsigned long long corrupt_bytes;
    bool torn_tail;
    unsigned long long records;
};

static struct pstate *path_state(struct collector *c, const char *path) {
    struct pstate *s = cordon_map_get(c->paths, path);
    if (s)
        return s;
    if (cordon_grow((void **)&c->plist, &c->cap_plist, c->n_plist + 1, sizeof *c->plist) < 0)
        return NULL;
    s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->path = strdup(path);
    if (!s->path || cordon_map_put(c->paths, path, s) < 0) {
        free(s->path);
        free(s);
        return NULL;
    }
    c->plist[c->n_plist++] = s;
    return s;
}

static struct proc *proc_state(struct collector *c, int pid) {
    char key[16];
    snprintf(key, sizeof key, "%d", pid);
    struct proc *p = cordon_map_get(c->procs, key);
    if (p)
        return p;
    if (cordon_grow((void **)&c->prlist, &c->cap_prlist, c->n_prlist + 1, sizeof *c->prlist) < 0)
        return NULL;
    p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->pid = pid;
    p->args = (struct cordon_strbuf)CORDON_STRBUF_INIT;
    if (cordon_map_put(c->procs, key, p) < 0) {
        free(p);
        return NULL;
    }
    c->prlist[c->n_prlist++] = p;
    return p;
}

static void note_use(struct pstate *s, unsigned use, int pid) {
    if (s->written) {
        s->used_after_write = true;
        return;
    }
    if (!s->uses && !s->first_pid)
        s->first_pid = pid;
    s->uses |= use;
    if (use != CORDON_USE_PROBE)
        s->seen_present = true;
}

static void note_write(struct pstate *s, int pid, bool deleted) {
    s->written = true;
    s->deleted = deleted;
    s->writer_pid = pid;
}

static bool is_missing_errno(int e) {
    return e == ENOENT || e == ENOTDIR;
}

/* A failed lookup: a probe when nothing was there, a stat otherwise (it
 * exists but was refused: EACCES, ELOOP, EISDIR...). */
static void note_lookup(struct pstate *s, int err, unsigned use_on_success, int pid) {
    if (!err)
        note_use(s, use_on_success, pid);
    else if (is_missing_errno(err))
        note_use(s, CORDON_USE_PROBE, pid);
    else
        note_use(s, CORDON_USE_STAT, pid);
}

static void note_identity(struct pstate *s, const struct cordon_trace_rec *r) {
    if (s->have_id || s->written || r->err)
        return;
    s->have_id = true;
    s->dev = r->dev;
    s->ino = r->ino;
    s->size = r->size;
    s->mtime_ns = r->mtime_ns;
    s->mode = r->mode;
}

static int on_open(struct collector *c, const struct cordon_trace_rec *r, const char *path) {
    struct pstate *s = path_state(c, path);
    if (!s)
        return -ENOMEM;
    int flags = (int)r->arg;
    int acc = flags & O_ACCMODE;
    bool creates = flags & (O_CREAT | O_TRUNC);
    bool tmpfile = (flags & O_TMPFILE) == O_TMPFILE;
    if (tmpfile) /* an unnamed file in that directory: the directory is only looked at */
        return note_lookup(s, r->err, CORDON_USE_STAT, r->pid), 0;
    if (acc == O_RDONLY && !creates) {
        unsigned use = (flags & O_DIRECTORY) ? CORDON_USE_STAT : CORDON_USE_READ;
        note_lookup(s, r->err, use, r->pid);
        note_identity(s, r);
        return 0;
    }
    if (r->err) {
        /* A failed write-open changes nothing; ENOENT says the directory
         * is missing, which the build will find out on any host. */
        if (!is_missing_errno(r->err))
            note_use(s, CORDON_USE_STAT, r->pid);
        return 0;
    }
    /* Read-write without truncation reads what was there. */
    if (acc == O_RDWR && !(flags & O_TRUNC) && !(flags & O_EXCL)) {
        note_use(s, CORDON_USE_READ, r->pid);
        note_identity(s, r);
    }
    note_write(s, r->pid, false);
    return 0;
}

static int on_path_use(struct collector *c, const struct cordon_trace_rec *r, const char *path,
                       unsigned use) {
    struct pstate *s = path_state(c, path);
    if (!s)
        return -ENOMEM;
    note_lookup(s, r->err, use, r->pid);
    return 0;
}

static int on_write(struct collector *c, const struct cordon_trace_rec *r, const char *path,
                    bool deleted) {
    if (r->err)
        return 0;
    struct pstate *s = path_state(c, path);
    if (!s)
        return -ENOMEM;
    note_write(s, r->pid, deleted);
    return 0;
}

static int on_proc(struct collector *c, const struct cordon_trace_rec *r, const char *exe,
                   const char *cwd) {
    struct proc *p = proc_state(c, r->pid);
    if (!p)
        return -ENOMEM;
    /* A new image of the same pid replaces what came before (sh execs make). */
    p->ppid = (int)r->arg;
    free(p->exe);
    free(p->cwd);
    p->exe = cordon_strdup0(exe);
    p->cwd = cordon_strdup0(cwd);
    cordon_strbuf_reset(&p->args);
    p->argc = 0;
    p->have_argv = false;
    p->have_proc = true;
    p->flags &= ~(unsigned)CORDON_PROC_FORKED;
    free(p->static_exe);
    p->static_exe = NULL;
    if (exe && exe[0] == '/') {
        struct pstate *s = path_state(c, exe);
        if (!s)
            return -ENOMEM;
        note_use(s, CORDON_USE_EXEC, r->pid);
    }
    return 0;
}

static int on_argv(struct collector *c, const struct cordon_trace_rec *r, const char *s1) {
    struct proc *p = proc_state(c, r->pid);
    if (!p)
        return -ENOMEM;
    if (r->arg == 0) {
        cordon_strbuf_reset(&p->args);
        p->argc = 0;
    }
    /* len1 counts the chunk with its final NUL; arguments inside are
     * NUL-separated, so the chunk is appended whole. */
    size_t n = r->len1;
    if (s1 && n)
        cordon_strbuf_addn(&p->args, s1, n);
    p->argc = r->mode;
    p->have_argv = true;
    return 0;
}

static int on_env(struct collector *c, const struct cordon_trace_rec *r, const char *name,
                  const char *value) {
    if (!name || !*name)
        return 0;
    if (cordon_map_get(c->envs, name))
        return 0; /* the first answer is what steered the build */
    if (cordon_grow((void **)&c->elist, &c->cap_elist, c->n_elist + 1, sizeof *c->elist) < 0)
        return -ENOMEM;
    struct envr *e = calloc(1, sizeof *e);
    if (!e)
        return -ENOMEM;
    e->name = strdup(name);
    e->present = r->arg != 0;
    e->value = e->present ? cordon_strdup0(value ? value : "") : NULL;
    e->first_pid = r->pid;
    if (!e->name || (e->present && !e->value) || cordon_map_put(c->envs, name, e) < 0) {
        free(e->name);
        free(e->value);
        free(e);
        return -ENOMEM;
    }
    c->elist[c->n_elist++] = e;
    return 0;
}

static bool absolute(const char *p) {
    return p && p[0] == '/';
}

/* Whether a path needs normalising: "//", "/./", "/../", a trailing "/". */
static bool needs_canon(const char *p) {
    if (!p || p[0] != '/')
        return false;
    for (const char *q = p; *q; q++) {
        if (q[0] != '/')
            continue;
        if (q[1] == '/' || (q[1] == '\0' && q != p))
            return true;
        if (q[1] == '.' && (q[2] == '/' || q[2] == '\0'))
            return true;
        if (q[1] == '.' && q[2] == '.' && (q[3] == '/' || q[3] == '\0'))
            return true;
    }
    return false;
}

/* The loader's candidates come as it built them ("$ORIGIN/../lib"). A ".."
 * after a symlink is not the lexical parent, so the part up to the last ".."
 * is resolved on this host when it exists; the rest is lexical. */
static const char *canon(const char *p, char *buf) {
    if (!needs_canon(p))
        return p;
    const char *last = NULL;
    for (const char *q = strstr(p, "/.."); q; q = strstr(q + 1, "/.."))
        if (q[3] == '/' || q[3] == '\0')
            last = q;
    if (last) {
        char head[PATH_MAX];
        size_t n = (size_t)(last - p) + 3;
        if (n < sizeof head) {
            memcpy(head, p, n);
            head[n] = '\0';
            char real[PATH_MAX];
            if (realpath(head, real) &&
                snprintf(buf, PATH_MAX, "%s/%s", real, last + 3) < PATH_MAX) {
                cordon_path_normalize(buf);
                return buf;
            }
        }
    }
    snprintf(buf, PATH_MAX, "%s", p);
    cordon_path_normalize(buf);
    return buf;
}

static int on_record(struct collector *c, const struct cordon_trace_rec *r, const char *s1,
                     const char *s2) {
    c->records++;
    char b1[PATH_MAX], b2[PATH_MAX];
    /* GETENV's strings are a name and a value, READLINK's second a link's
     * text, SYMLINK's first one too: those are not paths to normalise. */
    if (r->kind != CORDON_TRACE_GETENV && r->kind != CORDON_TRACE_ARGV &&
        r->kind != CORDON_TRACE_SYMLINK)
        s1 = canon(s1, b1);
    if (r->kind == CORDON_TRACE_RENAME || r->kind == CORDON_TRACE_LINK ||
        r->kind == CORDON_TRACE_SYMLINK || r->kind == CORDON_TRACE_DLOPEN)
        s2 = canon(s2, b2);
    switch ((enum cordon_trace_kind)r->kind) {
    case CORDON_TRACE_OPEN:
        return absolute(s1) ? on_open(c, r, s1) : 0;
    case CORDON_TRACE_STAT:
        return absolute(s1) ? on_path_use(c, r, s1, CORDON_USE_STAT) : 0;
    case CORDON_TRACE_READLINK: {
        if (!absolute(s1))
            return 0;
        struct pstate *s = path_state(c, s1);
        if (!s)
            return -ENOMEM;
        if (!r->err) {
            note_use(s, CORDON_USE_READLINK, r->pid);
            if (!s->target && !s->written)
                s->target = cordon_strdup0(s2);
        } else {
            /* EINVAL: it exists and is not a symlink. */
            note_lookup(s, r->err, CORDON_USE_STAT, r->pid);
        }
        return 0;
    }
    case CORDON_TRACE_LIST:
        return absolute(s1) ? on_path_use(c, r, s1, CORDON_USE_LIST) : 0;
    case CORDON_TRACE_EXEC: {
        if (!absolute(s1))
            return 0;
        if (r->err) {
            struct pstate *s = path_state(c, s1);
            if (!s)
                return -ENOMEM;
            if (is_missing_errno(r->err))
                note_use(s, CORDON_USE_PROBE, r->pid);
            return 0;
        }
        int e = on_path_use(c, r, s1, CORDON_USE_EXEC);
        if (e < 0)
            return e;
        struct proc *p = proc_state(c, r->pid);
        if (!p)
            return -ENOMEM;
        if (r->arg & CORDON_TRACE_EXEC_STATIC) {
            /* The hook will not run in a static program: unless the
             * seccomp supervisor watched it, nothing it does is seen, so
             * the process is named in coverage. */
            free(p->static_exe);
            p->static_exe = strdup(s1);
            if (!p->static_exe)
                return -ENOMEM;
            p->seccomp = r->arg & CORDON_TRACE_EXEC_SECCOMP;
        }
        return 0;
    }
    case CORDON_TRACE_PROC:
        return on_proc(c, r, s1, s2);
    case CORDON_TRACE_ARGV:
        return on_argv(c, r, s1);
    case CORDON_TRACE_FORK: {
        struct proc *p = proc_state(c, r->pid);
        if (!p)
            return -ENOMEM;
        if (!p->have_proc) {
            p->ppid = (int)r->arg;
            p->flags |= CORDON_PROC_FORKED;
        }
        return 0;
    }
    case CORDON_TRACE_WAIT: {
        struct proc *p = proc_state(c, (int)r->size);
        if (!p)
            return -ENOMEM;
        p->status = (int)r->arg;
        p->waited = true;
        if (!p->ppid)
            p->ppid = r->pid;
        return 0;
    }
    case CORDON_TRACE_UNLINK:
    case CORDON_TRACE_RMDIR:
        return absolute(s1) ? on_write(c, r, s1, true) : 0;
    case CORDON_TRACE_MKDIR:
    case CORDON_TRACE_TRUNCATE:
    case CORDON_TRACE_CHMOD:
    case CORDON_TRACE_UTIME:
        return absolute(s1) ? on_write(c, r, s1, false) : 0;
    case CORDON_TRACE_RENAME: {
        if (r->err || !absolute(s1) || !absolute(s2))
            return 0;
        int e = on_write(c, r, s1, true);
        return e < 0 ? e : on_write(c, r, s2, false);
    }
    case CORDON_TRACE_LINK: {
        if (r->err || !absolute(s1) || !absolute(s2))
            return 0;
        int e = on_path_use(c, r, s1, CORDON_USE_STAT);
        return e < 0 ? e : on_write(c, r, s2, false);
    }
    case CORDON_TRACE_SYMLINK:
        return absolute(s2) ? on_write(c, r, s2, false) : 0;
    case CORDON_TRACE_CHDIR:
        return absolute(s1) ? on_path_use(c, r, s1, CORDON_USE_STAT) : 0;
    case CORDON_TRACE_DLOPEN:
        if (!r->err && absolute(s2))
            return on_path_use(c, r, s2, CORDON_USE_LOAD);
        if (r->err && absolute(s1))
            return on_path_use(c, r, s1, CORDON_USE_LOAD);
        return 0;
    case CORDON_TRACE_LA_SEARCH: {
        /* A candidate the loader will try: whether it was there is decided
         * at the end, by looking. */
        if (!absolute(s1))
            return 0;
        struct pstate *s = path_state(c, s1);
        if (!s)
            return -ENOMEM;
        if (!s->written) {
            if (!s->uses && !s->first_pid)
                s->first_pid = r->pid;
            s->uses |= CORDON_USE_SEARCH;
        }
        return 0;
    }
    case CORDON_TRACE_LA_OPEN: {
        if (!absolute(s1))
            return 0;
        struct pstate *s = path_state(c, s1);
        if (!s)
            return -ENOMEM;
        note_use(s, CORDON_USE_LOAD, r->pid);
        note_identity(s, r);
        return 0;
    }
    case CORDON_TRACE_GETENV:
        return on_env(c, r, s1, s2);
    case CORDON_TRACE_NONE:
    case CORDON_TRACE_KIND_MAX:
        break;
    }
    return 0; /* a kind this collector does not know: newer hook, ignore */
}

static int collect_log(struct collector *c, const char *log, struct cordon_error *err) {
    _cleanup_close_ int fd = open(log, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cordon_error_set(err, errno, log, 0, 0, "cannot open the event log '%s'", log);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return cordon_error_set(err, errno, log, 0, 0, "cannot stat '%s'", log);
    if (st.st_size == 0)
        return 0;
    size_t len = (size_t)st.st_size;
    const unsigned char *base = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (base == MAP_FAILED)
        return cordon_error_set(err, errno, log, 0, 0, "cannot map '%s'", log);
    (void)madvise((void *)base, len, MADV_SEQUENTIAL);
    size_t off = 0;
    int ret = 0;
    while (off < len) {
        const struct cordon_trace_rec *r;
        const char *s1, *s2;
        long n = cordon_trace_decode(base + off, len - off, &r, &s1, &s2);
        if (n > 0) {
            ret = on_record(c, r, s1, s2);
            if (ret < 0)
                break;
            off += (size_t)n;
        } else if (n == 0) {
            c->torn_tail = true; /* a process died in the middle of its write */
            break;
        } else {
            /* Not a record: skip to the next magic. Counted, never silent. */
            size_t start = off;
            do
                off++;
            while (off + 2 <= len && !(base[off] == (CORDON_TRACE_MAGIC & 0xff) &&
                                       base[off + 1] == (CORDON_TRACE_MAGIC >> 8)));
            if (off + 2 > len)
                off = len;
            c->corrupt_bytes += off - start;
        }
    }
    munmap((void *)base, len);
    if (ret < 0)
        return cordon_error_set(err, -ret, log, 0, 0, "cannot collect the event log");
    return 0;
}

/* ---- deciding, per path ------------------------------------------------ */

static int64_t mtime_ns_of(const struct stat *st) {
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

struct hash_target {
    bool input; /* else output */
    size_t index;
};

struct builder {
    const struct cordon_collect_options *opts;
    const struct ahead *ahead;
    struct cordon_manifest *m;
    struct cordon_hash_job *jobs;
    struct hash_target *targets;
    size_t n_jobs, cap_jobs, cap_targets;
};

static int add_job(struct builder *b, const char *path, bool input, size_t index) {
    if (cordon_grow((void **)&b->jobs, &b->cap_jobs, b->n_jobs + 1, sizeof *b->jobs) < 0 ||
        cordon_grow((void **)&b->targets, &b->cap_targets, b->n_jobs + 1, sizeof *b->targets) < 0)
        return -ENOMEM;
    b->jobs[b->n_jobs] = (struct cordon_hash_job){.path = path};
    b->targets[b->n_jobs] = (struct hash_target){.input = input, .index = index};
    b->n_jobs++;
    return 0;
}

/* The content of a file that changed during the build, as it was first
 * read: the snapshot has it when the identity matches what the hook saw. */
static void from_snapshot(struct builder *b, struct cordon_input *in, const struct pstate *s) {
    const struct cordon_snapshot_entry *e =
        b->opts->snapshot ? cordon_snapshot_find(b->opts->snapshot, s->path) : NULL;
    bool same = e && (!s->have_id ||
                      (e->size == s->size && e->ino == s->ino && e->mtime_ns == s->mtime_ns));
    in->flags |= CORDON_INPUT_CHANGED;
    if (same) {
        in->has_hash = true;
        in->hash = e->hash;
        in->size = e->size;
        in->mtime_ns = e->mtime_ns;
        in->mode = e->mode & 07777;
        in->ino = e->ino;
        in->flags |= CORDON_INPUT_STORED;
    } else {
        in->flags |= CORDON_INPUT_UNHASHED;
    }
}

static int decide_input(struct builder *b, struct pstate *s) {
    unsigned uses = s->uses;
    if (!uses)
        return 0;
    struct stat st;
    bool exists = lstat(s->path, &st) == 0;
    /* A loader candidate: an input if it was there, a probe if not. */
    if (uses == CORDON_USE_SEARCH && !exists)
        uses = CORDON_USE_PROBE;
    /* Looked for, not found, then made by the build: the build's own
     * output, not something another host could change. */
    if (uses == CORDON_USE_PROBE && s->written)
        return 0;

    struct cordon_input *in = cordon_manifest_add_input(b->m, s->path);
    if (!in)
        return -ENOMEM;
    size_t index = b->m->n_inputs - 1;
    in->uses = uses;
    in->first_pid = s->first_pid;
    if (uses == CORDON_USE_PROBE && !s->seen_present) {
        in->type = CORDON_FT_MISSING;
        return 0;
    }
    if (!exists) {
        /* It was there when used and is gone now: the build removed it
         * (or something else did). Keep what the hook saw. */
        in->type = s->have_id ? cordon_ftype_from_mode(s->mode) : CORDON_FT_FILE;
        in->size = s->size;
        in->mode = s->mode & 07777;
        in->mtime_ns = s->mtime_ns;
        in->ino = s->ino;
        if (in->type == CORDON_FT_FILE && cordon_use_needs_content(uses))
            from_snapshot(b, in, s);
        else if (in->type == CORDON_FT_FILE)
            in->flags |= CORDON_INPUT_CHANGED;
        return 0;
    }
    in->type = cordon_ftype_from_mode(st.st_mode);
    in->size = (uint64_t)st.st_size;
    in->mode = st.st_mode & 07777;
    in->mtime_ns = mtime_ns_of(&st);
    in->ino = st.st_ino;
    switch (in->type) {
    case CORDON_FT_SYMLINK:
        in->target = s->target && !s->written ? strdup(s->target) : cordon_read_link(s->path);
        if (!in->target)
            return errno == ENOMEM ? -ENOMEM : 0;
        return 0;
    case CORDON_FT_DIR:
        /* A listing of /proc or /sys is the moment's (/proc/self/fd is the
         * collector's own fds): nothing to compare it with later. */
        if ((uses & CORDON_USE_LIST) && !cordon_path_is_virtual(s->path)) {
            if (cordon_listing_hash(s->path, &in->listing) == 0)
                in->has_listing = true;
        }
        in->size = 0; /* a directory's size says nothing portable */
        return 0;
    case CORDON_FT_FILE:
        break;
    case CORDON_FT_OTHER:
    case CORDON_FT_MISSING:
    case CORDON_FT_MAX:
    case CORDON_FT_INVALID:
        return 0;
    }
    if (cordon_path_is_virtual(s->path))
        return 0; /* /proc and friends: content is the moment's, not the build's */
    /* Changed since the hook saw it, by the build or by anyone: the bytes
     * now are not the bytes read. */
    bool changed = s->written || (s->have_id && (s->ino != (uint64_t)st.st_ino ||
                                                 s->size != (uint64_t)st.st_size ||
                                                 s->mtime_ns != mtime_ns_of(&st)));
    if (changed) {
        from_snapshot(b, in, s);
        return 0;
    }
    const struct cordon_snapshot_entry *e =
        b->opts->snapshot ? cordon_snapshot_find(b->opts->snapshot, s->path) : NULL;
    if (e && e->ino == (uint64_t)st.st_ino && e->size == (uint64_t)st.st_size &&
        e->mtime_ns == mtime_ns_of(&st)) {
        /* Unchanged since the snapshot: its hash holds, and the store has
         * the bytes. */
        in->has_hash = true;
        in->hash = e->hash;
        in->flags |= CORDON_INPUT_STORED;
        return 0;
    }
    if (!cordon_use_needs_content(uses))
        return 0; /* only looked at: metadata is what mattered */
    return add_job(b, in->path, true, index);
}

static int decide_output(struct builder *b, struct pstate *s, bool was_input) {
    if (!s->written || cordon_path_is_virtual(s->path))
        return 0;
    struct stat st;
    if (lstat(s->path, &st) < 0) {
        /* Gone at the end: an output only if it was there before the build. */
        bool existed =
            was_input || (b->opts->snapshot && cordon_snapshot_find(b->opts->snapshot, s->path));
        if (!existed)
            return 0;
        struct cordon_output *o = cordon_manifest_add_output(b->m, s->path);
        if (!o)
            return -ENOMEM;
        o->type = CORDON_FT_MISSING;
        o->pid = s->writer_pid;
        return 0;
    }
    struct cordon_output *o = cordon_manifest_add_output(b->m, s->path);
    if (!o)
        return -ENOMEM;
    o->type = cordon_ftype_from_mode(st.st_mode);
    o->mode = st.st_mode & 07777;
    o->pid = s->writer_pid;
    if (o->type == CORDON_FT_SYMLINK) {
        o->target = cordon_read_link(s->path);
    } else if (o->type == CORDON_FT_FILE) {
        o->size = (uint64_t)st.st_size;
        return add_job(b, o->path, false, b->m->n_outputs - 1);
    }
    return 0;
}

static bool ignored(const struct collector_config *cfg, const char *path) {
    for (size_t i = 0; i < cfg->n_ignore; i++)
        if (cfg->ignore[i] && strcmp(cfg->ignore[i], path) == 0)
            return true;
    return false;
}

static char **argv_from(const struct proc *p) {
    if (!p->have_argv || !p->argc)
        return NULL;
    char **v = calloc((size_t)p->argc + 1, sizeof *v);
    if (!v)
        return NULL;
    const char *s = p->args.buf, *end = p->args.buf + p->args.len;
    unsigned i = 0;
    while (s < end && i < p->argc) {
        size_t n = strnlen(s, (size_t)(end - s));
        v[i] = strndup(s, n);
        if (!v[i])
            return cordon_strv_free(v);
        i++;
        s += n + 1;
    }
    return v;
}

/* One coverage gap per kind and program, however many processes ran it:
 * 10,000 runs of a static `cat` are one thing the recording could not see. */
struct gap_agg {
    const char *kind;
    const char *path; /* borrowed from the process state, may be NULL */
    const char *what;
    int first_pid;
    size_t count;
};

struct gaps {
    struct cordon_map *index; /* "kind\npath" -> 1 + position in list */
    struct gap_agg *list;
    size_t n, cap;
};

static int note_gap(struct gaps *g, const char *kind, const char *path, int pid, const char *what) {
    char key[PATH_MAX + 64];
    snprintf(key, sizeof key, "%s\n%s", kind, path ? path : "");
    uintptr_t at = (uintptr_t)cordon_map_get(g->index, key);
    if (at) {
        g->list[at - 1].count++;
        return 0;
    }
    if (cordon_grow((void **)&g->list, &g->cap, g->n + 1, sizeof *g->list) < 0)
        return -ENOMEM;
    g->list[g->n] = (struct gap_agg){kind, path, what, pid, 1};
    g->n++;
    return cordon_map_put(g->index, key, (void *)(uintptr_t)g->n);
}

static int emit_gaps(const struct gaps *g, struct cordon_manifest *m) {
    for (size_t i = 0; i < g->n; i++) {
        const struct gap_agg *a = &g->list[i];
        char detail[512];
        if (a->count > 1)
            snprintf(detail, sizeof detail, "%s (%zu processes; the first is pid %d)", a->what,
                     a->count, a->first_pid);
        else
            snprintf(detail, sizeof detail, "%s", a->what);
        if (cordon_manifest_add_gap(m, a->kind, a->path, a->first_pid, detail) < 0)
            return -ENOMEM;
    }
    return 0;
}

static int add_processes_with(struct collector *c, struct cordon_manifest *m, int root_pid,
                              struct gaps *gaps) {
    for (size_t i = 0; i < c->n_prlist; i++) {
        struct proc *p = c->prlist[i];
        if (p->flags & CORDON_PROC_FORKED) {
            /* A fork without exec runs its parent's program. */
            char key[16];
            snprintf(key, sizeof key, "%d", p->ppid);
            struct proc *parent = cordon_map_get(c->procs, key);
            if (parent && !p->exe) {
                p->exe = cordon_strdup0(parent->exe);
                p->cwd = cordon_strdup0(parent->cwd);
                if (parent->have_argv) {
                    cordon_strbuf_addn(&p->args, parent->args.buf, parent->args.len);
                    p->argc = parent->argc;
                    p->have_argv = true;
                }
            }
        }
        struct cordon_process *mp = cordon_manifest_add_process(m, p->pid);
        if (!mp)
            return -ENOMEM;
        mp->ppid = p->ppid;
        mp->exe = cordon_strdup0(p->static_exe ? p->static_exe : p->exe);
        mp->cwd = cordon_strdup0(p->cwd);
        mp->argv = argv_from(p); /* for a static program, the hook sends its argv at exec */
        mp->status = p->status;
        mp->flags = p->flags;
        if (!p->waited && p->pid != root_pid)
            mp->flags |= CORDON_PROC_UNFINISHED;
        if (p->static_exe && p->seccomp) {
            /* Seen, but not as the hook sees: a call's result is the
             * supervisor's own lookup, and its forks and waits are not. */
            mp->flags |= CORDON_PROC_STATIC;
            if (note_gap(gaps, "seccomp-observed", p->static_exe, p->pid,
                         "a statically linked program observed through seccomp: the paths it "
                         "used are recorded, their results are the recorder's own lookups") < 0)
                return -ENOMEM;
        } else if (p->static_exe) {
            mp->flags |= CORDON_PROC_STATIC;
            if (note_gap(gaps, "static-exec", p->static_exe, p->pid,
                         "a statically linked program: the hook cannot see the files it opens") < 0)
                return -ENOMEM;
        } else if (!p->have_proc && !(p->flags & CORDON_PROC_FORKED) && p->pid != root_pid) {
            /* Reaped by a hooked parent, never seen itself: its program
             * dropped LD_PRELOAD (setuid, a cleared environment). */
            if (note_gap(gaps, "unobserved-process", NULL, p->pid,
                         "a child process the hook never ran in") < 0)
                return -ENOMEM;
        }
    }
    return 0;
}

static int add_processes(struct collector *c, struct cordon_manifest *m, int root_pid) {
    struct gaps gaps = {.index = cordon_map_new(16)};
    int r = gaps.index ? add_processes_with(c, m, root_pid, &gaps) : -ENOMEM;
    if (r >= 0)
        r = emit_gaps(&gaps, m);
    free(gaps.list);
    cordon_map_free(gaps.index);
    return r;
}

static int add_env_reads(struct collector *c, struct cordon_manifest *m) {
    for (size_t i = 0; i < c->n_elist; i++) {
        struct envr *e = c->elist[i];
        struct cordon_env_read *er = cordon_manifest_add_env_read(m, e->name);
        if (!er)
            return -ENOMEM;
        er->first_pid = e->first_pid;
        if (e->present) {
            er->redacted = cordon_env_is_secret(e->name);
            er->value = strdup(er->redacted ? "<redacted>" : e->value);
            if (!er->value)
                return -ENOMEM;
        }
    }
    return 0;
}

static void collector_free(struct collector *c) {
    for (size_t i = 0; i < c->n_plist; i++) {
        free(c->plist[i]->path);
        free(c->plist[i]->target);
        free(c->plist[i]);
    }
    free(c->plist);
    for (size_t i = 0; i < c->n_prlist; i++) {
        struct proc *p = c->prlist[i];
        free(p->exe);
        free(p->cwd);
        free(p->static_exe);
        cordon_strbuf_release(&p->args);
        free(p);
    }
    free(c->prlist);
    for (size_t i = 0; i < c->n_elist; i++) {
        free(c->elist[i]->name);
        free(c->elist[i]->value);
        free(c->elist[i]);
    }
    free(c->elist);
    cordon_map_free(c->paths);
    cordon_map_free(c->procs);
    cordon_map_free(c->envs);
}

/* What the kernel opens on exec, out of every hook's sight: a script's "#!"
 * interpreter and an ELF program's PT_INTERP loader. Writes the path into
 * `out` and returns true if there is one. */
static bool exec_interpreter(const char *path, char *out, size_t size) {
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return false;
    unsigned char buf[512];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n < 4)
        return false;
    buf[n] = 0;
    if (buf[0] == '#' && buf[1] == '!') {
        const char *p = (const char *)buf + 2;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t len = strcspn(p, " \t\n");
        if (!len || p[0] != '/' || len >= size)
            return false;
        memcpy(out, p, len);
        out[len] = '\0';
        return true;
    }
    if (n < (ssize_t)sizeof(Elf64_Ehdr) || memcmp(buf, ELFMAG, SELFMAG) != 0 ||
        buf[EI_CLASS] != ELFCLASS64)
        return false;
    Elf64_Ehdr eh;
    memcpy(&eh, buf, sizeof eh);
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 64)
        return false;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) != (ssize_t)sizeof ph)
            return false;
        if (ph.p_type != PT_INTERP)
            continue;
        if (!ph.p_filesz || ph.p_filesz >= size)
            return false;
        if (pread(fd, out, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz)
            return false;
        out[ph.p_filesz - 1] = '\0';
        return out[0] == '/';
    }
    return false;
}

static int add_interpreters(struct collector *c) {
    /* Indexes, not pointers: adding states may move the list. Interpreters
     * added at the end are visited too (a script run by a script). */
    for (size_t i = 0; i < c->n_plist; i++) {
        struct pstate *s = c->plist[i];
        if (!(s->uses & CORDON_USE_EXEC))
            continue;
        char interp[PATH_MAX];
        if (!exec_interpreter(s->path, interp, sizeof interp))
            continue;
        int pid = s->first_pid;
        struct pstate *t = path_state(c, interp);
        if (!t)
            return -ENOMEM;
        if (!(t->uses & CORDON_USE_EXEC))
            note_use(t, CORDON_USE_EXEC, pid);
    }
    return 0;
}

/* A file reached through symlinks (cc -> /etc/alternatives/cc -> ... ->
 * gcc-12) is every link of the chain and the file at its end: all are
 * inputs, so each link's text and the file's bytes are recorded, verified
 * and packed. */
static int follow_symlinks(struct collector *c) {
    size_t n = c->n_plist;
    for (size_t i = 0; i < n; i++) {
        struct pstate *s = c->plist[i];
        unsigned uses = s->uses & (CORDON_USE_READ | CORDON_USE_EXEC | CORDON_USE_LOAD |
                                   CORDON_USE_LIST | CORDON_USE_STAT);
        if (!uses || cordon_path_is_virtual(s->path))
            continue;
        char cur[PATH_MAX];
        snprintf(cur, sizeof cur, "%s", s->path);
        for (int depth = 0; depth < 40; depth++) {
            struct stat st;
            if (lstat(cur, &st) < 0 || !S_ISLNK(st.st_mode))
                break;
            char next[PATH_MAX];
            if (!cordon_path_link_next(cur, next) || !strcmp(next, cur))
                break;
            struct pstate *t = path_state(c, next);
            if (!t)
                return -ENOMEM;
            /* path_state may move the list, never the states themselves. */
            if (!t->written) {
                if (!t->uses)
                    t->first_pid = s->first_pid;
                t->uses |= uses;
                t->seen_present = true;
                if (s->have_id && !t->have_id) {
                    t->have_id = true;
                    t->dev = s->dev;
                    t->ino = s->ino;
                    t->size = s->size;
                    t->mtime_ns = s->mtime_ns;
                    t->mode = s->mode;
                }
            }
            memcpy(cur, next, sizeof cur);
        }
    }
    return 0;
}

/* A job's file as the thread ahead hashed it during the build, if it is
 * still the same file. */
static bool hashed_ahead(const struct builder *b, struct cordon_hash_job *j) {
    struct stat st;
    if (!b->ahead || lstat(j->path, &st) < 0 || !ahead_lookup(b->ahead, j->path, &st, &j->hash))
        return false;
    j->size = (uint64_t)st.st_size;
    j->dev = (uint64_t)st.st_dev;
    j->ino = (uint64_t)st.st_ino;
    j->mtime_ns = mtime_ns_of(&st);
    j->error = 0;
    return true;
}

static int hash_all(struct builder *b, struct cordon_error *err) {
    if (!b->n_jobs)
        return 0;
    /* Paths were borrowed from entries that later adds may have moved:
     * point the jobs at the final arrays. The rest of the jobs, those not
     * hashed ahead, go to the pool. */
    struct cordon_hash_job *rest = calloc(b->n_jobs, sizeof *rest);
    size_t *rest_of = calloc(b->n_jobs, sizeof *rest_of);
    if (!rest || !rest_of) {
        free(rest);
        free(rest_of);
        return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    }
    size_t n_rest = 0;
    uint64_t total = 0;
    for (size_t i = 0; i < b->n_jobs; i++) {
        struct hash_target *t = &b->targets[i];
        b->jobs[i].path = t->input ? b->m->inputs[t->index].path : b->m->outputs[t->index].path;
        if (hashed_ahead(b, &b->jobs[i]))
            continue;
        rest[n_rest] = b->jobs[i];
        rest_of[n_rest++] = i;
        total += t->input ? b->m->inputs[t->index].size : b->m->outputs[t->index].size;
    }
    struct cordon_progress progress;
    cordon_progress_init(&progress, "hashing", total, b->opts->quiet);
    int r = cordon_hash_many(rest, n_rest, 0, &progress);
    cordon_progress_done(&progress);
    for (size_t k = 0; r >= 0 && k < n_rest; k++)
        b->jobs[rest_of[k]] = rest[k];
    free(rest);
    free(rest_of);
    if (r < 0)
        return cordon_error_set(err, -r, NULL, 0, 0, "cannot start the hashing threads");
    for (size_t i = 0; i < b->n_jobs; i++) {
        struct hash_target *t = &b->targets[i];
        const struct cordon_hash_job *j = &b->jobs[i];
        if (t->input) {
            struct cordon_input *in = &b->m->inputs[t->index];
            if (j->error) {
                in->flags |= CORDON_INPUT_UNHASHED;
                continue;
            }
            in->has_hash = true;
            in->hash = j->hash;
            in->size = j->size;
        } else {
            struct cordon_output *o = &b->m->outputs[t->index];
            if (j->error)
                continue;
            o->has_hash = true;
            o->hash = j->hash;
            o->size = j->size;
        }
    }
    return 0;
}

int collect_build(const struct cordon_collect_options *opts, const struct collector_config *cfg,
                  struct cordon_manifest **ret, struct cordon_error *err) {
    struct collector c = {0};
    struct builder b = {.opts = opts, .ahead = cfg->ahead};
    int r = -ENOMEM;
    c.paths = cordon_map_new(4096);
    c.procs = cordon_map_new(256);
    c.envs = cordon_map_new(64);
    b.m = cordon_manifest_new();
    if (!c.paths || !c.procs || !c.envs || !b.m) {
        cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
        goto out;
    }
    r = collect_log(&c, opts->log, err);
    if (r < 0)
        goto out;
    r = add_interpreters(&c);
    if (r >= 0)
        r = follow_symlinks(&c);
    if (r < 0) {
        cordon_error_set(err, -r, NULL, 0, 0, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < c.n_plist; i++) {
        struct pstate *s = c.plist[i];
        if (ignored(cfg, s->path))
            continue;
        size_t before = b.m->n_inputs;
        r = decide_input(&b, s);
        if (r >= 0)
            r = decide_output(&b, s, b.m->n_inputs > before);
        if (r < 0) {
            cordon_error_set(err, -r, s->path, 0, 0, "cannot record '%s'", s->path);
            goto out;
        }
    }
    r = hash_all(&b, err);
    if (r < 0)
        goto out;
    r = add_processes(&c, b.m, opts->root_pid);
    if (r >= 0)
        r = add_env_reads(&c, b.m);
    if (r >= 0 && c.torn_tail)
        r = cordon_manifest_add_gap(b.m, "truncated-log", NULL, 0,
                                    "the log ends in the middle of a record: a process died "
                                    "while writing it");
    if (r >= 0 && c.corrupt_bytes) {
        char detail[128];
        snprintf(detail, sizeof detail, "%llu bytes of the log were not records and were skipped",
                 c.corrupt_bytes);
        r = cordon_manifest_add_gap(b.m, "corrupt-log", NULL, 0, detail);
    }
    if (r < 0) {
        cordon_error_set(err, -r, NULL, 0, 0, "out of memory");
        goto out;
    }
    cordon_manifest_sort(b.m);
    *ret = TAKE_PTR(b.m);
    r = 0;
out:
    free(b.jobs);
    free(b.targets);
    cordon_manifest_free(b.m);
    collector_free(&c);
    return r;
}

int cordon_record_collect(const struct cordon_collect_options *opts, struct cordon_manifest **ret,
                          struct cordon_error *err) {
    struct collector_config cfg = {0};
    return collect_build(opts, &cfg, ret, err);
}
