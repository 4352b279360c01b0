/* The manifest's canonical JSON form (docs/manifest-schema.md): writing,
 * and reading with strict validation that names the field at fault.
 *
 * Strings: JSON needs UTF-8 and file names are bytes. A byte that is not
 * part of a valid UTF-8 sequence is written as the code point U+10FF00 plus
 * the byte (U+10FF80..U+10FFFF, in the last private-use plane); so that the
 * mapping is one-to-one, a name that really contains one of those code
 * points has each of its four bytes escaped the same way. Reading maps every
 * code point of that range back to its byte. Plain names are unaffected.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include <cordon/error.h>
#include <cordon/manifest.h>
#include <cordon/util.h>

#ifndef CORDON_VERSION
#define CORDON_VERSION "0"
#endif

static const char *const input_flag_names[] = {"changed", "unhashed", "stored"};
static const char *const process_flag_names[] = {"static", "forked", "unfinished"};

/* ---- byte strings <-> UTF-8 --------------------------------------------- */

/* Length of the valid UTF-8 sequence at `s` (strictly: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0. Sets *cp. */
static size_t utf8_seq(const unsigned char *s, uint32_t *cp) {
    unsigned char c = s[0];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        n = 2, v = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3, v = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
            return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

static bool is_escape_cp(uint32_t cp) {
    return cp >= 0x10ff80 && cp <= 0x10ffff;
}

/* The bytes of a JSON string (valid UTF-8 from jansson), unescaped. New. */
static char *unescape(const char *s, size_t len) {
    if (!memchr(s, 0xf4, len))
        return strndup(s, len);
    char *out = malloc(len + 1), *o = out;
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        if (p[0] == 0xf4 && end - p >= 4 && p[1] == 0x8f && (p[2] == 0xbe || p[2] == 0xbf)) {
            *o++ = (char)(0x80 | ((p[2] & 1) << 6) | (p[3] & 0x3f));
            p += 4;
        } else {
            *o++ = (char)*p++;
        }
    }
    *o = '\0';
    return out;
}

/* ---- writing ------------------------------------------------------------ */

/* The canonical form is what jansson's json_dumps(JSON_SORT_KEYS |
 * JSON_INDENT(2)) gives for the manifest's tree, written straight to a
 * stream instead: building that tree for 200,000 inputs cost more time and
 * memory than the rest of the recording's bookkeeping. Each object's keys are
 * written in their sorted (strcmp) order by hand; the unit test checks the
 * bytes against jansson's own dump of the same text. */
struct jw {
    FILE *f;
    int depth;
    bool empty[8]; /* per open container: nothing written into it yet */
};

static void jw_indent(struct jw *w, int depth) {
    static const char spaces[] = "                ";
    putc_unlocked('\n', w->f);
    fwrite_unlocked(spaces, 1, (size_t)depth * 2, w->f);
}

static void jw_open(struct jw *w, char c) {
    putc_unlocked(c, w->f);
    w->empty[++w->depth] = true;
}

static void jw_close(struct jw *w, char c) {
    if (!w->empty[w->depth])
        jw_indent(w, w->depth - 1);
    w->depth--;
    putc_unlocked(c, w->f);
}

/* Before an element of an array or a member of an object. */
static void jw_next(struct jw *w) {
    if (!w->empty[w->depth])
        putc_unlocked(',', w->f);
    w->empty[w->depth] = false;
    jw_indent(w, w->depth);
}

/* `key` is a plain ASCII constant: no escaping needed. */
static void jw_key(struct jw *w, const char *key) {
    jw_next(w);
    putc_unlocked('"', w->f);
    fputs_unlocked(key, w->f);
    fwrite_unlocked("\": ", 1, 3, w->f);
}

static void put_byte_escape(FILE *f, unsigned char b) {
    uint32_t cp = 0x10ff00u + b;
    char u[4] = {(char)0xf4, (char)(0x80 | ((cp >> 12) & 0x3f)), (char)(0x80 | ((cp >> 6) & 0x3f)),
                 (char)(0x80 | (cp & 0x3f))};
    fwrite_unlocked(u, 1, 4, f);
}

/* A C string of arbitrary bytes as a JSON string: bytes that are not UTF-8
 * mapped as the file's head comment says, then JSON's escapes as jansson
 * writes them (\" \\ \b \f \n \r \t, other controls \u00XX). */
static void jw_str(struct jw *w, const char *s) {
    FILE *f = w->f;
    const unsigned char *p = (const unsigned char *)s;
    putc_unlocked('"', f);
    while (*p) {
        const unsigned char *run = p;
        while (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        if (p > run)
            fwrite_unlocked(run, 1, (size_t)(p - run), f);
        unsigned char c = *p;
        if (!c)
            break;
        if (c < 0x80) {
            static const char hex[] = "0123456789ABCDEF";
            char e[6] = {'\\', 0};
            size_t n = 2;
            switch (c) {
            case '"':
            case '\\':
                e[1] = (char)c;
                break;
            case '\b':
                e[1] = 'b';
                break;
            case '\f':
                e[1] = 'f';
                break;
            case '\n':
                e[1] = 'n';
                break;
            case '\r':
                e[1] = 'r';
                break;
            case '\t':
                e[1] = 't';
                break;
            default:
                e[1] = 'u';
                e[2] = '0';
                e[3] = '0';
                e[4] = hex[c >> 4];
                e[5] = hex[c & 0xf];
                n = 6;
                break;
            }
            fwrite_unlocked(e, 1, n, f);
            p++;
            continue;
        }
        uint32_t cp;
        size_t n = utf8_seq(p, &cp);
        if (n && !is_escape_cp(cp)) {
            fwrite_unlocked(p, 1, n, f);
            p += n;
        } else if (n) {
            for (size_t i = 0; i < n; i++)
                put_byte_escape(f, p[i]);
            p += n;
        } else {
            put_byte_escape(f, *p++);
        }
    }
    putc_unlocked('"', f);
}

static void jw_int(struct jw *w, int64_t v) {
    char buf[24], *e = buf + sizeof buf, *q = e;
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
    do {
        *--q = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--q = '-';
    fwrite_unlocked(q, 1, (size_t)(e - q), w->f);
}

static void key_str(struct jw *w, const char *key, const char *s) {
    if (s) {
        jw_key(w, key);
        jw_str(w, s);
    }
}

static void key_int(struct jw *w, const char *key, int64_t v) {
    jw_key(w, key);
    jw_int(w, v);
}

static void key_hash(struct jw *w, const char *key, const struct cordon_hash *h) {
    char hex[CORDON_HASH_HEX_LEN + 1];
    jw_key(w, key);
    putc_unlocked('"', w->f);
    fwrite_unlocked(cordon_hash_to_hex(h, hex), 1, CORDON_HASH_HEX_LEN, w->f);
    putc_unlocked('"', w->f);
}

static void key_strv(struct jw *w, const char *key, char *const *v) {
    jw_key(w, key);
    jw_open(w, '[');
    for (size_t i = 0; v && v[i]; i++) {
        jw_next(w);
        jw_str(w, v[i]);
    }
    jw_close(w, ']');
}

/* `name(bit)` for each set bit, in bit order. */
static void key_names(struct jw *w, const char *key, unsigned bits, const char *const *names,
                      size_t n) {
    jw_key(w, key);
    jw_open(w, '[');
    for (size_t i = 0; i < n; i++)
        if (bits & (1u << i)) {
            jw_next(w);
            jw_str(w, names[i]);
        }
    jw_close(w, ']');
}

static void key_uses(struct jw *w, unsigned uses) {
    jw_key(w, "uses");
    jw_open(w, '[');
    for (unsigned i = 0; i < CORDON_USE_COUNT; i++)
        if (uses & (1u << i)) {
            jw_next(w);
            jw_str(w, cordon_use_name(1u << i));
        }
    jw_close(w, ']');
}

/* exit_code and signal are derived from the wait status, for readers that
 * do not want to decode it. The three keys sort apart ("exit_code" <
 * "signal" < "status"), so each is written where its turn comes. */
static void status_exit_code(struct jw *w, int status) {
    if (WIFEXITED(status))
        key_int(w, "exit_code", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        key_int(w, "exit_code", 128 + WTERMSIG(status));
}

static void status_signal(struct jw *w, int status) {
    if (!WIFEXITED(status) && WIFSIGNALED(status))
        key_int(w, "signal", WTERMSIG(status));
}

static void write_input(struct jw *w, const struct cordon_input *in) {
    bool meta = in->type != CORDON_FT_MISSING;
    jw_open(w, '{');
    key_str(w, "category", in->category);
    if (in->first_pid)
        key_int(w, "first_pid", in->first_pid);
    if (in->flags)
        key_names(w, "flags", in->flags, input_flag_names, CORDON_ARRAY_SIZE(input_flag_names));
    if (meta)
        key_int(w, "ino", (int64_t)in->ino);
    if (in->has_listing)
        key_hash(w, "listing", &in->listing);
    if (meta) {
        key_int(w, "mode", in->mode & 07777);
        key_int(w, "mtime_ns", in->mtime_ns);
    }
    key_str(w, "package", in->package);
    key_str(w, "path", in->path);
    if (meta)
        key_int(w, "size", (int64_t)in->size);
    key_str(w, "target", in->target);
    key_str(w, "type", cordon_ftype_name(in->type) ?: "other");
    key_uses(w, in->uses);
    if (in->has_hash)
        key_hash(w, "xxh3", &in->hash);
    jw_close(w, '}');
}

static void write_output(struct jw *w, const struct cordon_output *out) {
    bool meta = out->type != CORDON_FT_MISSING;
    jw_open(w, '{');
    if (meta)
        key_int(w, "mode", out->mode & 07777);
    key_str(w, "path", out->path);
    if (out->pid)
        key_int(w, "pid", out->pid);
    if (meta)
        key_int(w, "size", (int64_t)out->size);
    key_str(w, "target", out->target);
    key_str(w, "type", cordon_ftype_name(out->type) ?: "other");
    if (out->has_hash)
        key_hash(w, "xxh3", &out->hash);
    jw_close(w, '}');
}

static void write_process(struct jw *w, const struct cordon_process *p) {
    bool done = !(p->flags & CORDON_PROC_UNFINISHED);
    jw_open(w, '{');
    if (p->argv)
        key_strv(w, "argv", p->argv);
    key_str(w, "cwd", p->cwd);
    key_str(w, "exe", p->exe);
    if (done)
        status_exit_code(w, p->status);
    if (p->flags)
        key_names(w, "flags", p->flags, process_flag_names, CORDON_ARRAY_SIZE(process_flag_names));
    key_int(w, "pid", p->pid);
    key_int(w, "ppid", p->ppid);
    if (done) {
        status_signal(w, p->status);
        key_int(w, "status", p->status);
    }
    jw_close(w, '}');
}

static void write_env_read(struct jw *w, const struct cordon_env_read *e) {
    jw_open(w, '{');
    if (e->first_pid)
        key_int(w, "first_pid", e->first_pid);
    key_str(w, "name", e->name);
    if (e->redacted) {
        jw_key(w, "redacted");
        fputs_unlocked("true", w->f);
    }
    key_str(w, "value", e->value);
    jw_close(w, '}');
}

static void write_gap(struct jw *w, const struct cordon_gap *g) {
    jw_open(w, '{');
    key_str(w, "detail", g->detail);
    key_str(w, "kind", g->kind ?: "");
    key_str(w, "path", g->path);
    if (g->pid)
        key_int(w, "pid", g->pid);
    jw_close(w, '}');
}

#define WRITE_LIST(w, key, items, n, fn)                                                           \
    do {                                                                                           \
        jw_key((w), (key));                                                                        \
        jw_open((w), '[');                                                                         \
        for (size_t i_ = 0; i_ < (n); i_++) {                                                      \
            jw_next(w);                                                                            \
            fn((w), &(items)[i_]);                                                                 \
        }                                                                                          \
        jw_close((w), ']');                                                                        \
    } while (0)

/* The whole manifest and a final newline. 0, or -errno from the stream. */
static int write_manifest(FILE *f, const struct cordon_manifest *m) {
    struct jw w = {.f = f};
    const struct cordon_command *c = &m->command;
    jw_open(&w, '{');

    jw_key(&w, "command");
    jw_open(&w, '{');
    key_strv(&w, "argv", c->argv);
    key_str(&w, "cwd", c->cwd);
    key_int(&w, "end_ns", c->end_ns);
    key_strv(&w, "env", c->env);
    status_exit_code(&w, c->status);
    jw_key(&w, "finished");
    fputs_unlocked(c->finished ? "true" : "false", f);
    status_signal(&w, c->status);
    key_int(&w, "start_ns", c->start_ns);
    key_int(&w, "status", c->status);
    jw_close(&w, '}');

    key_int(&w, "cordon_manifest", CORDON_MANIFEST_VERSION);

    jw_key(&w, "coverage");
    jw_open(&w, '{');
    WRITE_LIST(&w, "gaps", m->gaps, m->n_gaps, write_gap);
    jw_close(&w, '}');

    WRITE_LIST(&w, "env_reads", m->env_reads, m->n_env_reads, write_env_read);

    jw_key(&w, "host");
    jw_open(&w, '{');
    key_str(&w, "arch", m->host.arch);
    key_str(&w, "distro", m->host.distro);
    key_str(&w, "kernel", m->host.kernel);
    key_str(&w, "libc", m->host.libc);
    key_str(&w, "os", m->host.os);
    jw_close(&w, '}');

    WRITE_LIST(&w, "inputs", m->inputs, m->n_inputs, write_input);
    WRITE_LIST(&w, "outputs", m->outputs, m->n_outputs, write_output);
    WRITE_LIST(&w, "processes", m->processes, m->n_processes, write_process);
    key_str(&w, "tool", m->tool ?: "cordon " CORDON_VERSION);
    key_str(&w, "worktree", m->worktree);
    jw_close(&w, '}');
    /* A final newline, so that the file is a proper text file. */
    putc_unlocked('\n', f);
    if (fflush(f) != 0 || ferror(f))
        return errno ? -errno : -EIO;
    return 0;
}

char *cordon_manifest_dumps(const struct cordon_manifest *m) {
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    if (!f)
        return NULL;
    int r = write_manifest(f, m);
    if (fclose(f) != 0 || r < 0) {
        free(s);
        return NULL;
    }
    return s;
}

/* The manifest to `path`, "-" for stdout, replacing it atomically. */
static int write_file(const char *path, const struct cordon_manifest *m, struct cordon_error *err) {
    if (strcmp(path, "-") == 0) {
        errno = 0;
        int r = write_manifest(stdout, m);
        if (r < 0)
            return cordon_error_set(err, -r, "-", 0, 0, "cannot write the manifest to stdout");
        return 0;
    }
    /* A temporary name in the same directory, so rename(2) is atomic; made
     * with O_EXCL and mode 0666 so the umask applies as for any new file. */
    char tmp[PATH_MAX];
    int fd = -1;
    for (unsigned attempt = 0; attempt < 100 && fd < 0; attempt++) {
        if (snprintf(tmp, sizeof tmp, "%s.tmp.%d.%u", path, (int)getpid(),
                     attempt + (unsigned)(cordon_now_ns() & 0xffff)) >= (int)sizeof tmp)
            return cordon_error_set(err, ENAMETOOLONG, path, 0, 0, "cannot write '%s'", path);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            return cordon_error_set(err, errno, path, 0, 0, "cannot create '%s'", tmp);
    }
    if (fd < 0)
        return cordon_error_set(err, EEXIST, path, 0, 0, "cannot create a temporary file for '%s'",
                                path);
    int r = 0;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        r = -errno;
        close(fd);
    } else {
        /* Large writes: the manifest of a big build is tens of megabytes. */
        (void)setvbuf(f, NULL, _IOFBF, 1 << 20);
        errno = 0;
        r = write_manifest(f, m);
        if (r == 0 && fsync(fileno(f)) < 0)
            r = -errno;
        if (fclose(f) != 0 && r == 0)
            r = errno ? -errno : -EIO;
    }
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0) {
        (void)unlink(tmp);
        return cordon_error_set(err, -r, path, 0, 0, "cannot write '%s'", path);
    }
    return 0;
}

int cordon_manifest_write(const struct cordon_manifest *m, const char *path,
                          struct cordon_error *err) {
    return write_file(path, m, err);
}

/* ---- parsing ------------------------------------------------------------ */

/* A small JSON tree for reading: jansson's tree for a 200,000-input manifest
 * took 500 MB and most of `verify`'s time (a hash table and a malloc per
 * object and per value). Here values live in arena blocks, each container's
 * children contiguous; strings without escapes point into the text (not
 * NUL-terminated: `n` is their length), keys too. The parser accepts exactly
 * what jansson accepts with JSON_REJECT_DUPLICATES; on any syntax error the
 * caller asks jansson for its message, line and column, so messages stay
 * jansson's. */
enum jv_type { JV_NULL, JV_TRUE, JV_FALSE, JV_INT, JV_REAL, JV_STR, JV_ARR, JV_OBJ };

typedef struct jv {
    const char *key; /* member of an object: its name (klen bytes) */
    uint32_t klen;
    uint32_t n; /* string length, or number of children */
    enum jv_type type;
    union {
        int64_t i;
        double d;
        const char *s;
        struct jv *kids;
    };
} jv_t;

struct arena_block {
    struct arena_block *next;
    size_t used, size;
    max_align_t data[];
};

struct jparser {
    const char *p, *end;
    struct arena_block *blocks;
    jv_t *stack; /* children of the open containers */
    size_t sp, cap;
    int depth;
};

#define ARENA_BLOCK (1u << 20)

static void *arena_alloc(struct jparser *ps, size_t size) {
    size = (size + 15) & ~(size_t)15;
    struct arena_block *b = ps->blocks;
    if (!b || b->size - b->used < size) {
        size_t want = size > ARENA_BLOCK ? size : ARENA_BLOCK;
        b = malloc(sizeof *b + want);
        if (!b)
            return NULL;
        b->size = want;
        b->used = 0;
        b->next = ps->blocks;
        ps->blocks = b;
    }
    void *r = (char *)b->data + b->used;
    b->used += size;
    return r;
}

static void jparser_release(struct jparser *ps) {
    for (struct arena_block *b = ps->blocks, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    ps->blocks = NULL;
    free(ps->stack);
    ps->stack = NULL;
}

static void skip_ws(struct jparser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
        ps->p++;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int hex4(const char *s, uint32_t *ret) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(s[i]);
        if (h < 0)
            return -1;
        v = v << 4 | (uint32_t)h;
    }
    *ret = v;
    return 0;
}

static char *put_utf8(char *o, uint32_t cp) {
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xc0 | cp >> 6);
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xe0 | cp >> 12);
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *o++ = (char)(0xf0 | cp >> 18);
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    }
    return o;
}

/* A string at ps->p (the opening quote). -1 on a syntax error, -2 on ENOMEM. */
static int parse_string(struct jparser *ps, const char **ret, uint32_t *ret_len) {
    const char *start = ++ps->p, *q = start;
    bool escaped = false;
    for (;;) {
        if (q >= ps->end)
            return -1;
        unsigned char c = (unsigned char)*q;
        if (c == '"')
            break;
        if (c < 0x20)
            return -1;
        if (c == '\\') {
            escaped = true;
            if (q + 1 >= ps->end)
                return -1;
            q += 2;
            continue;
        }
        if (c < 0x80) {
            q++;
            continue;
        }
        /* utf8_seq stops at a byte that is not a continuation, so a
         * sequence cut by the end of the text is caught before reading past it */
        uint32_t cp;
        size_t n = 0;
        if (ps->end - q >= 4) {
            n = utf8_seq((const unsigned char *)q, &cp);
        } else {
            char tmp[5] = {0};
            memcpy(tmp, q, (size_t)(ps->end - q));
            n = utf8_seq((const unsigned char *)tmp, &cp);
        }
        if (!n)
            return -1;
        q += n;
    }
    size_t len = (size_t)(q - start);
    if (len > UINT32_MAX)
        return -1;
    ps->p = q + 1;
    if (!escaped) {
        *ret = start;
        *ret_len = (uint32_t)len;
        return 0;
    }
    /* Decoded, it is never longer than written. */
    char *out = arena_alloc(ps, len + 1), *o = out;
    if (!out)
        return -2;
    for (const char *s = start; s < q;) {
        if (*s != '\\') {
            *o++ = *s++;
            continue;
        }
        char e = s[1];
        s += 2;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            *o++ = e;
            break;
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'u': {
            uint32_t cp, lo;
            if (q - s < 4 || hex4(s, &cp) < 0)
                return -1;
            s += 4;
            if (cp >= 0xdc00 && cp <= 0xdfff)
                return -1;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (q - s < 6 || s[0] != '\\' || s[1] != 'u' || hex4(s + 2, &lo) < 0 ||
                    lo < 0xdc00 || lo > 0xdfff)
                    return -1;
                s += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            if (cp == 0) /* jansson refuses it without JSON_ALLOW_NUL */
                return -1;
            o = put_utf8(o, cp);
            break;
        }
        default:
            return -1;
        }
    }
    *o = '\0';
    *ret = out;
    *ret_len = (uint32_t)(o - out);
    return 0;
}

/* A number as jansson reads it: an integer unless it has a fraction or an
 * exponent; an integer out of range and a real that overflows are errors. */
static int parse_number(struct jparser *ps, jv_t *v) {
    const char *s = ps->p, *q = s;
    bool neg = false, real = false;
    if (q < ps->end && *q == '-') {
        neg = true;
        q++;
    }
    if (q >= ps->end || !(*q >= '0' && *q <= '9'))
        return -1;
    if (*q == '0') {
        q++;
        if (q < ps->end && *q >= '0' && *q <= '9')
            return -1;
    } else {
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    }
    const char *int_end = q;
    if (q < ps->end && *q == '.') {
        real = true;
        q++;
        if (q >= ps->end || !(*q >= '0' && *q <= '9'))
            return -1;
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        real = true;
        q++;
        if (q < ps->end && (*q == '+' || *q == '-'))
            q++;
        if (q >= ps->end || !(*q >= '0' && *q <= '9'))
            return -1;
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    }
    ps->p = q;
    if (!real) {
        uint64_t u = 0;
        for (const char *d = s + neg; d < int_end; d++) {
            unsigned k = (unsigned)(*d - '0');
            if (u > (UINT64_MAX - k) / 10)
                return -1;
            u = u * 10 + k;
        }
        if (neg ? u > (uint64_t)INT64_MAX + 1 : u > (uint64_t)INT64_MAX)
            return -1;
        v->type = JV_INT;
        v->i = neg ? (int64_t)(0 - u) : (int64_t)u;
        return 0;
    }
    char buf[512];
    size_t n = (size_t)(q - s);
    if (n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    double d = strtod(buf, NULL);
    if (errno == ERANGE && (d > 1.0 || d < -1.0))
        return -1;
    v->type = JV_REAL;
    v->d = d;
    return 0;
}

static int key_cmp(const void *a, const void *b) {
    const jv_t *x = a, *y = b;
    uint32_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->key, y->key, n);
    return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

static bool has_duplicate_keys(jv_t *kids, uint32_t n) {
    if (n <= 16) {
        for (uint32_t i = 1; i < n; i++)
            for (uint32_t j = 0; j < i; j++)
                if (kids[i].klen == kids[j].klen &&
                    memcmp(kids[i].key, kids[j].key, kids[i].klen) == 0)
                    return true;
        return false;
    }
    jv_t *copy = malloc(n * sizeof *copy);
    if (!copy)
        return true;
    memcpy(copy, kids, n * sizeof *copy);
    qsort(copy, n, sizeof *copy, key_cmp);
    bool dup = false;
    for (uint32_t i = 1; i < n && !dup; i++)
        dup = key_cmp(&copy[i - 1], &copy[i]) == 0;
    free(copy);
    return dup;
}

static int parse_value(struct jparser *ps, jv_t *v);

static int push_child(struct jparser *ps, const jv_t *v) {
    if (cordon_grow((void **)&ps->stack, &ps->cap, ps->sp + 1, sizeof *ps->stack) < 0)
        return -2;
    ps->stack[ps->sp++] = *v;
    return 0;
}

/* An array or an object at ps->p: children go on the stack, then move to
 * the arena in one block. */
static int parse_container(struct jparser *ps, jv_t *v, bool object) {
    char close = object ? '}' : ']';
    /* jansson's JSON_PARSER_MAX_DEPTH */
    if (++ps->depth > 2048)
        return -1;
    ps->p++;
    size_t base = ps->sp;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
    } else {
        for (;;) {
            jv_t kid = {0};
            int r;
            if (object) {
                skip_ws(ps);
                if (ps->p >= ps->end || *ps->p != '"')
                    return -1;
                if ((r = parse_string(ps, &kid.key, &kid.klen)) < 0)
                    return r;
                skip_ws(ps);
                if (ps->p >= ps->end || *ps->p != ':')
                    return -1;
                ps->p++;
            }
            skip_ws(ps);
            if ((r = parse_value(ps, &kid)) < 0 || (r = push_child(ps, &kid)) < 0)
                return r;
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                skip_ws(ps);
                continue;
            }
            if (ps->p < ps->end && *ps->p == close) {
                ps->p++;
                break;
            }
            return -1;
        }
    }
    size_t n = ps->sp - base;
    if (n > UINT32_MAX)
        return -1;
    v->type = object ? JV_OBJ : JV_ARR;
    v->n = (uint32_t)n;
    v->kids = NULL;
    if (n) {
        v->kids = arena_alloc(ps, n * sizeof *v->kids);
        if (!v->kids)
            return -2;
        memcpy(v->kids, ps->stack + base, n * sizeof *v->kids);
    }
    ps->sp = base;
    ps->depth--;
    if (object && has_duplicate_keys(v->kids, v->n))
        return -1;
    return 0;
}

static bool literal(struct jparser *ps, const char *word, size_t n) {
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return false;
    ps->p += n;
    return true;
}

static int parse_value(struct jparser *ps, jv_t *v) {
    if (ps->p >= ps->end)
        return -1;
    switch (*ps->p) {
    case '{':
        return parse_container(ps, v, true);
    case '[':
        return parse_container(ps, v, false);
    case '"':
        v->type = JV_STR;
        return parse_string(ps, &v->s, &v->n);
    case 't':
        v->type = JV_TRUE;
        return literal(ps, "true", 4) ? 0 : -1;
    case 'f':
        v->type = JV_FALSE;
        return literal(ps, "false", 5) ? 0 : -1;
    case 'n':
        v->type = JV_NULL;
        return literal(ps, "null", 4) ? 0 : -1;
    default:
        return parse_number(ps, v);
    }
}

/* The document: an object or an array, then only white space. 0, -1 on a
 * syntax error, -2 on ENOMEM. */
static int jparse(struct jparser *ps, const char *buf, size_t len, jv_t *root) {
    ps->p = buf;
    ps->end = buf + len;
    skip_ws(ps);
    if (ps->p >= ps->end || (*ps->p != '{' && *ps->p != '['))
        return -1;
    int r = parse_value(ps, root);
    if (r < 0)
        return r;
    skip_ws(ps);
    return ps->p == ps->end ? 0 : -1;
}

/* Accessors in jansson's shape, so that the validation reads the same. */
static const jv_t *jv_get(const jv_t *obj, const char *key) {
    size_t n = strlen(key);
    for (uint32_t i = 0; i < obj->n; i++)
        if (obj->kids[i].klen == n && memcmp(obj->kids[i].key, key, n) == 0)
            return &obj->kids[i];
    return NULL;
}
#define jv_is_string(v) ((v)->type == JV_STR)
#define jv_is_integer(v) ((v)->type == JV_INT)
#define jv_is_boolean(v) ((v)->type == JV_TRUE || (v)->type == JV_FALSE)
#define jv_is_true(v) ((v)->type == JV_TRUE)
#define jv_is_array(v) ((v)->type == JV_ARR)
#define jv_is_object(v) ((v)->type == JV_OBJ)

/* A short string (a name, a type) NUL-terminated into `buf`; false if it
 * does not fit, and then it is no name that cordon knows. */
static bool jv_small(const jv_t *v, char *buf, size_t size) {
    if (v->n >= size)
        return false;
    memcpy(buf, v->s, v->n);
    buf[v->n] = '\0';
    return true;
}

/* ---- reading ------------------------------------------------------------ */

struct rd {
    const char *name;
    struct cordon_error *err;
};

static const char *jtype(const jv_t *v) {
    switch (v->type) {
    case JV_OBJ:
        return "an object";
    case JV_ARR:
        return "an array";
    case JV_STR:
        return "a string";
    case JV_INT:
        return "an integer";
    case JV_REAL:
        return "a number";
    case JV_TRUE:
    case JV_FALSE:
        return "a boolean";
    case JV_NULL:
        return "null";
    default:
        return "something else";
    }
}

/* "ctx.key", "key" at the top level. */
#define FIELD_FMT "%s%s%s"
#define FIELD_ARGS(ctx, key) (ctx), (*(ctx) ? "." : ""), (key)

__attribute__((format(printf, 2, 3))) static void set_bad(struct rd *rd, const char *fmt, ...) {
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    /* The position of a field is its JSON path, so the file goes first. */
    cordon_error_set(rd->err, EINVAL, rd->name, 0, 0, "%s: %s", rd->name, text);
}

/* Fill the error and evaluate to -EINVAL. A macro, because the analyzer
 * does not follow calls into variadic functions: spelled out at the call it
 * sees that a failure is negative and that no out parameter is read after
 * one. */
#define bad(rd, ...) (set_bad((rd), __VA_ARGS__), -EINVAL)

static int oom(struct rd *rd) {
    cordon_error_set(rd->err, ENOMEM, rd->name, 0, 0, "%s: cannot load the manifest", rd->name);
    return -ENOMEM;
}

/* The member `key` of `obj`, NULL if absent (an error when required). */
static int member(struct rd *rd, const jv_t *obj, const char *ctx, const char *key, bool required,
                  const jv_t **ret) {
    const jv_t *v = jv_get(obj, key);
    if (!v && required) {
        if (*ctx)
            return bad(rd, "%s: missing field '%s'", ctx, key);
        return bad(rd, "missing field '%s'", key);
    }
    *ret = v;
    return 0;
}

static int want_string(struct rd *rd, const jv_t *v, const char *ctx, const char *key, char **ret) {
    if (!jv_is_string(v))
        return bad(rd, FIELD_FMT ": expected a string, got %s", FIELD_ARGS(ctx, key), jtype(v));
    const char *s = v->s;
    size_t n = v->n;
    if (memchr(s, '\0', n))
        return bad(rd, FIELD_FMT ": contains a NUL character", FIELD_ARGS(ctx, key));
    char *c = unescape(s, n);
    if (!c)
        return oom(rd);
    *ret = c;
    return 0;
}

/* An optional (or required) string member into *ret (which must be NULL). */
static int get_string(struct rd *rd, const jv_t *obj, const char *ctx, const char *key,
                      bool required, char **ret) {
    const jv_t *v = NULL;
    int r = member(rd, obj, ctx, key, required, &v);
    if (r < 0 || !v)
        return r;
    return want_string(rd, v, ctx, key, ret);
}

static int get_int(struct rd *rd, const jv_t *obj, const char *ctx, const char *key, bool required,
                   int64_t min, int64_t max, int64_t *ret) {
    const jv_t *v = NULL;
    int r = member(rd, obj, ctx, key, required, &v);
    if (r < 0 || !v)
        return r;
    if (!jv_is_integer(v))
        return bad(rd, FIELD_FMT ": expected an integer, got %s", FIELD_ARGS(ctx, key), jtype(v));
    int64_t i = v->i;
    if (i < min || i > max)
        return bad(rd, FIELD_FMT ": %" PRId64 " is out of range", FIELD_ARGS(ctx, key), i);
    *ret = i;
    return 0;
}

static int get_bool(struct rd *rd, const jv_t *obj, const char *ctx, const char *key, bool required,
                    bool *ret) {
    const jv_t *v = NULL;
    int r = member(rd, obj, ctx, key, required, &v);
    if (r < 0 || !v)
        return r;
    if (!jv_is_boolean(v))
        return bad(rd, FIELD_FMT ": expected a boolean, got %s", FIELD_ARGS(ctx, key), jtype(v));
    *ret = jv_is_true(v);
    return 0;
}

/* Returns 1 when present and parsed, 0 when absent. */
static int get_hash(struct rd *rd, const jv_t *obj, const char *ctx, const char *key,
                    struct cordon_hash *ret) {
    const jv_t *v = NULL;
    int r = member(rd, obj, ctx, key, false, &v);
    if (r < 0 || !v)
        return r;
    if (!jv_is_string(v))
        return bad(rd, FIELD_FMT ": expected a string of 32 hex digits, got %s",
                   FIELD_ARGS(ctx, key), jtype(v));
    char hex[CORDON_HASH_HEX_LEN + 1];
    if (!jv_small(v, hex, sizeof hex) || v->n != CORDON_HASH_HEX_LEN ||
        cordon_hash_from_hex(hex, ret) < 0)
        return bad(rd, FIELD_FMT ": expected 32 hex digits", FIELD_ARGS(ctx, key));
    return 1;
}

static int get_array(struct rd *rd, const jv_t *obj, const char *ctx, const char *key,
                     bool required, const jv_t **ret) {
    const jv_t *v = NULL;
    int r = member(rd, obj, ctx, key, required, &v);
    if (r < 0)
        return r;
    if (v && !jv_is_array(v))
        return bad(rd, FIELD_FMT ": expected an array, got %s", FIELD_ARGS(ctx, key), jtype(v));
    *ret = v;
    return 0;
}

static int get_object(struct rd *rd, const jv_t *obj, const char *ctx, const char *key,
                      bool required, const jv_t **ret) {
    const jv_t *v = NULL;
    int r = member(rd, obj, ctx, key, required, &v);
    if (r < 0)
        return r;
    if (v && !jv_is_object(v))
        return bad(rd, FIELD_FMT ": expected an object, got %s", FIELD_ARGS(ctx, key), jtype(v));
    *ret = v;
    return 0;
}

/* An array of strings into a new NULL-terminated vector. */
static int get_strv(struct rd *rd, const jv_t *obj, const char *ctx, const char *key, bool required,
                    char ***ret) {
    const jv_t *a;
    int r = get_array(rd, obj, ctx, key, required, &a);
    if (r < 0 || !a)
        return r;
    size_t n = a->n;
    char **v = calloc(n + 1, sizeof *v);
    if (!v)
        return oom(rd);
    for (size_t i = 0; i < n; i++) {
        char sub[64];
        snprintf(sub, sizeof sub, "%s[%zu]", key, i);
        r = want_string(rd, &a->kids[i], ctx, sub, &v[i]);
        if (r < 0) {
            cordon_strv_free(v);
            return r;
        }
    }
    *ret = v;
    return 0;
}

/* An array of names into bits: `lookup` maps a name to its bit (0: unknown). */
static int get_names(struct rd *rd, const jv_t *obj, const char *ctx, const char *key,
                     bool required, unsigned (*lookup)(const char *, const void *), const void *arg,
                     unsigned *ret) {
    const jv_t *a;
    int r = get_array(rd, obj, ctx, key, required, &a);
    if (r < 0 || !a)
        return r;
    unsigned bits = 0;
    for (size_t i = 0; i < a->n; i++) {
        const jv_t *v = &a->kids[i];
        if (!jv_is_string(v))
            return bad(rd, FIELD_FMT "[%zu]: expected a string, got %s", FIELD_ARGS(ctx, key), i,
                       jtype(v));
        char name[64];
        unsigned b = jv_small(v, name, sizeof name) ? lookup(name, arg) : 0;
        if (!b)
            return bad(rd, FIELD_FMT "[%zu]: unknown name '%.*s'", FIELD_ARGS(ctx, key), i,
                       (int)v->n, v->s);
        bits |= b;
    }
    *ret = bits;
    return 0;
}

static unsigned lookup_use(const char *s, const void *arg) {
    (void)arg;
    return cordon_use_from_name(s);
}

struct name_table {
    const char *const *names;
    size_t n;
};

static unsigned lookup_table(const char *s, const void *arg) {
    const struct name_table *t = arg;
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(s, t->names[i]) == 0)
            return 1u << i;
    return 0;
}

static int get_type(struct rd *rd, const jv_t *obj, const char *ctx, enum cordon_ftype *ret) {
    const jv_t *v = NULL;
    int r = member(rd, obj, ctx, "type", true, &v);
    if (r < 0)
        return r;
    if (!jv_is_string(v))
        return bad(rd, "%s.type: expected a string, got %s", ctx, jtype(v));
    char name[16];
    enum cordon_ftype t =
        jv_small(v, name, sizeof name) ? cordon_ftype_from_name(name) : CORDON_FT_INVALID;
    if (t == CORDON_FT_INVALID)
        return bad(rd,
                   "%s.type: unknown type '%.*s' (expected file, symlink, dir, missing or other)",
                   ctx, (int)v->n, v->s);
    *ret = t;
    return 0;
}

static int check_path(struct rd *rd, const char *ctx, const char *path) {
    char buf[PATH_MAX];
    size_t n = strlen(path);
    if (path[0] != '/')
        return bad(rd, "%s.path: '%s' is not an absolute path", ctx, path);
    if (n >= sizeof buf)
        return bad(rd, "%s.path: longer than PATH_MAX (%zu bytes)", ctx, n);
    memcpy(buf, path, n + 1);
    if (cordon_path_normalize(buf) != n || memcmp(buf, path, n) != 0)
        return bad(rd, "%s.path: '%s' is not normalised (expected '%s')", ctx, path, buf);
    return 0;
}

#define PID_MAX_JSON INT_MAX

static int read_input(struct rd *rd, struct cordon_manifest *m, const jv_t *o, size_t idx) {
    char ctx[48];
    snprintf(ctx, sizeof ctx, "inputs[%zu]", idx);
    if (!jv_is_object(o))
        return bad(rd, "%s: expected an object, got %s", ctx, jtype(o));
    _cleanup_free_ char *path = NULL;
    int r = get_string(rd, o, ctx, "path", true, &path);
    if (r < 0 || (r = check_path(rd, ctx, path)) < 0)
        return r;
    struct cordon_input in = {0};
    int64_t size = 0, mode = 0, mtime = 0, ino = 0, pid = 0;
    /* Inode numbers above 2^63-1 are written as their two's complement. */
    if ((r = get_type(rd, o, ctx, &in.type)) < 0 ||
        (r = get_names(rd, o, ctx, "uses", true, lookup_use, NULL, &in.uses)) < 0 ||
        (r = get_int(rd, o, ctx, "size", false, 0, INT64_MAX, &size)) < 0 ||
        (r = get_int(rd, o, ctx, "mode", false, 0, 07777, &mode)) < 0 ||
        (r = get_int(rd, o, ctx, "mtime_ns", false, INT64_MIN, INT64_MAX, &mtime)) < 0 ||
        (r = get_int(rd, o, ctx, "ino", false, INT64_MIN, INT64_MAX, &ino)) < 0 ||
        (r = get_int(rd, o, ctx, "first_pid", false, 0, PID_MAX_JSON, &pid)) < 0)
        return r;
    in.size = (uint64_t)size;
    in.mode = (uint32_t)mode;
    in.mtime_ns = mtime;
    in.ino = (uint64_t)ino;
    in.first_pid = (int)pid;
    if ((r = get_hash(rd, o, ctx, "xxh3", &in.hash)) < 0)
        return r;
    in.has_hash = r > 0;
    if ((r = get_hash(rd, o, ctx, "listing", &in.listing)) < 0)
        return r;
    in.has_listing = r > 0;
    static const struct name_table flags = {input_flag_names, CORDON_ARRAY_SIZE(input_flag_names)};
    if ((r = get_names(rd, o, ctx, "flags", false, lookup_table, &flags, &in.flags)) < 0)
        return r;
    _cleanup_free_ char *target = NULL, *category = NULL, *package = NULL;
    if ((r = get_string(rd, o, ctx, "target", false, &target)) < 0 ||
        (r = get_string(rd, o, ctx, "category", false, &category)) < 0 ||
        (r = get_string(rd, o, ctx, "package", false, &package)) < 0)
        return r;

    struct cordon_input *slot = cordon_manifest_add_input(m, path);
    if (!slot)
        return oom(rd);
    in.path = slot->path;
    in.target = TAKE_PTR(target);
    in.category = TAKE_PTR(category);
    in.package = TAKE_PTR(package);
    *slot = in;
    return 0;
}

static int read_output(struct rd *rd, struct cordon_manifest *m, const jv_t *o, size_t idx) {
    char ctx[48];
    snprintf(ctx, sizeof ctx, "outputs[%zu]", idx);
    if (!jv_is_object(o))
        return bad(rd, "%s: expected an object, got %s", ctx, jtype(o));
    _cleanup_free_ char *path = NULL, *target = NULL;
    int r = get_string(rd, o, ctx, "path", true, &path);
    if (r < 0 || (r = check_path(rd, ctx, path)) < 0)
        return r;
    struct cordon_output out = {0};
    int64_t size = 0, mode = 0, pid = 0;
    if ((r = get_type(rd, o, ctx, &out.type)) < 0 ||
        (r = get_int(rd, o, ctx, "size", false, 0, INT64_MAX, &size)) < 0 ||
        (r = get_int(rd, o, ctx, "mode", false, 0, 07777, &mode)) < 0 ||
        (r = get_int(rd, o, ctx, "pid", false, 0, PID_MAX_JSON, &pid)) < 0)
        return r;
    out.size = (uint64_t)size;
    out.mode = (uint32_t)mode;
    out.pid = (int)pid;
    if ((r = get_hash(rd, o, ctx, "xxh3", &out.hash)) < 0)
        return r;
    out.has_hash = r > 0;
    if ((r = get_string(rd, o, ctx, "target", false, &target)) < 0)
        return r;
    struct cordon_output *slot = cordon_manifest_add_output(m, path);
    if (!slot)
        return oom(rd);
    out.path = slot->path;
    out.target = TAKE_PTR(target);
    *slot = out;
    return 0;
}

/* status, plus the derived exit_code and signal, which are only type-checked. */
static int read_status(struct rd *rd, const jv_t *o, const char *ctx, bool required,
                       bool *ret_present, int *ret) {
    int64_t i = 0;
    const jv_t *v = NULL;
    int r = member(rd, o, ctx, "status", required, &v);
    if (r < 0)
        return r;
    *ret_present = v != NULL;
    if ((r = get_int(rd, o, ctx, "status", false, INT_MIN, INT_MAX, &i)) < 0)
        return r;
    *ret = (int)i;
    int64_t ignored;
    if ((r = get_int(rd, o, ctx, "exit_code", false, 0, 255, &ignored)) < 0 ||
        (r = get_int(rd, o, ctx, "signal", false, 1, 255, &ignored)) < 0)
        return r;
    return 0;
}

static int read_process(struct rd *rd, struct cordon_manifest *m, const jv_t *o, size_t idx) {
    char ctx[48];
    snprintf(ctx, sizeof ctx, "processes[%zu]", idx);
    if (!jv_is_object(o))
        return bad(rd, "%s: expected an object, got %s", ctx, jtype(o));
    int64_t pid, ppid = 0;
    int r;
    if ((r = get_int(rd, o, ctx, "pid", true, 0, PID_MAX_JSON, &pid)) < 0 ||
        (r = get_int(rd, o, ctx, "ppid", false, 0, PID_MAX_JSON, &ppid)) < 0)
        return r;
    _cleanup_free_ char *exe = NULL, *cwd = NULL;
    char **argv = NULL;
    unsigned flags = 0;
    int status = 0;
    bool has_status;
    static const struct name_table ft = {process_flag_names, CORDON_ARRAY_SIZE(process_flag_names)};
    if ((r = get_string(rd, o, ctx, "exe", false, &exe)) < 0 ||
        (r = get_string(rd, o, ctx, "cwd", false, &cwd)) < 0 ||
        (r = get_names(rd, o, ctx, "flags", false, lookup_table, &ft, &flags)) < 0 ||
        (r = read_status(rd, o, ctx, false, &has_status, &status)) < 0 ||
        (r = get_strv(rd, o, ctx, "argv", false, &argv)) < 0)
        return r;
    if (!has_status && !(flags & CORDON_PROC_UNFINISHED)) {
        cordon_strv_free(argv);
        return bad(rd, "%s: missing field 'status' (required unless flags has 'unfinished')", ctx);
    }
    struct cordon_process *p = cordon_manifest_add_process(m, (int)pid);
    if (!p) {
        cordon_strv_free(argv);
        return oom(rd);
    }
    p->ppid = (int)ppid;
    p->exe = TAKE_PTR(exe);
    p->cwd = TAKE_PTR(cwd);
    p->argv = argv;
    p->status = has_status ? status : 0;
    p->flags = flags;
    return 0;
}

static int read_env_read(struct rd *rd, struct cordon_manifest *m, const jv_t *o, size_t idx) {
    char ctx[48];
    snprintf(ctx, sizeof ctx, "env_reads[%zu]", idx);
    if (!jv_is_object(o))
        return bad(rd, "%s: expected an object, got %s", ctx, jtype(o));
    _cleanup_free_ char *name = NULL, *value = NULL;
    bool redacted = false;
    int64_t pid = 0;
    int r;
    if ((r = get_string(rd, o, ctx, "name", true, &name)) < 0 ||
        (r = get_string(rd, o, ctx, "value", false, &value)) < 0 ||
        (r = get_bool(rd, o, ctx, "redacted", false, &redacted)) < 0 ||
        (r = get_int(rd, o, ctx, "first_pid", false, 0, PID_MAX_JSON, &pid)) < 0)
        return r;
    if (!*name || strchr(name, '='))
        return bad(rd, "%s.name: '%s' is not a variable name", ctx, name);
    struct cordon_env_read *e = cordon_manifest_add_env_read(m, name);
    if (!e)
        return oom(rd);
    e->value = TAKE_PTR(value);
    e->redacted = redacted;
    e->first_pid = (int)pid;
    return 0;
}

static int read_gap(struct rd *rd, struct cordon_manifest *m, const jv_t *o, size_t idx) {
    char ctx[48];
    snprintf(ctx, sizeof ctx, "coverage.gaps[%zu]", idx);
    if (!jv_is_object(o))
        return bad(rd, "%s: expected an object, got %s", ctx, jtype(o));
    _cleanup_free_ char *kind = NULL, *path = NULL, *detail = NULL;
    int64_t pid = 0;
    int r;
    if ((r = get_string(rd, o, ctx, "kind", true, &kind)) < 0 ||
        (r = get_string(rd, o, ctx, "path", false, &path)) < 0 ||
        (r = get_string(rd, o, ctx, "detail", false, &detail)) < 0 ||
        (r = get_int(rd, o, ctx, "pid", false, 0, PID_MAX_JSON, &pid)) < 0)
        return r;
    if (cordon_manifest_add_gap(m, kind, path, (int)pid, detail) < 0)
        return oom(rd);
    return 0;
}

static int read_command(struct rd *rd, struct cordon_manifest *m, const jv_t *o) {
    const char *ctx = "command";
    struct cordon_command *c = &m->command;
    int r;
    bool has_status;
    int64_t start = 0, end = 0;
    if ((r = get_strv(rd, o, ctx, "argv", true, &c->argv)) < 0 ||
        (r = get_string(rd, o, ctx, "cwd", false, &c->cwd)) < 0 ||
        (r = get_strv(rd, o, ctx, "env", false, &c->env)) < 0 ||
        (r = read_status(rd, o, ctx, true, &has_status, &c->status)) < 0 ||
        (r = get_bool(rd, o, ctx, "finished", true, &c->finished)) < 0 ||
        (r = get_int(rd, o, ctx, "start_ns", false, INT64_MIN, INT64_MAX, &start)) < 0 ||
        (r = get_int(rd, o, ctx, "end_ns", false, INT64_MIN, INT64_MAX, &end)) < 0)
        return r;
    c->start_ns = start;
    c->end_ns = end;
    for (size_t i = 0; c->env && c->env[i]; i++)
        if (c->env[i][0] == '=' || !strchr(c->env[i], '='))
            return bad(rd, "command.env[%zu]: expected NAME=VALUE, got '%s'", i, c->env[i]);
    return 0;
}

typedef int (*entry_reader)(struct rd *, struct cordon_manifest *, const jv_t *, size_t);

static int read_list(struct rd *rd, struct cordon_manifest *m, const jv_t *obj, const char *ctx,
                     const char *key, bool required, entry_reader fn) {
    const jv_t *a;
    int r = get_array(rd, obj, ctx, key, required, &a);
    if (r < 0 || !a)
        return r;
    for (size_t i = 0; i < a->n; i++)
        if ((r = fn(rd, m, &a->kids[i], i)) < 0)
            return r;
    return 0;
}

static int read_manifest(struct rd *rd, const jv_t *root, struct cordon_manifest *m) {
    if (!jv_is_object(root))
        return bad(rd, "expected a JSON object at the top level, got %s", jtype(root));
    const jv_t *v = jv_get(root, "cordon_manifest");
    if (!v)
        return bad(rd, "not a cordon manifest: missing field 'cordon_manifest'");
    if (!jv_is_integer(v))
        return bad(rd, "cordon_manifest: expected an integer, got %s", jtype(v));
    if (v->i != CORDON_MANIFEST_VERSION)
        return cordon_error_set(rd->err, EPROTONOSUPPORT, rd->name, 0, 0,
                                "%s: unsupported manifest version %" PRId64
                                " (this cordon reads %d)",
                                rd->name, v->i, CORDON_MANIFEST_VERSION);
    int r;
    const jv_t *host, *cmd, *cov;
    if ((r = get_string(rd, root, "", "tool", true, &m->tool)) < 0 ||
        (r = get_string(rd, root, "", "worktree", false, &m->worktree)) < 0 ||
        (r = get_object(rd, root, "", "host", true, &host)) < 0 ||
        (r = get_string(rd, host, "host", "os", false, &m->host.os)) < 0 ||
        (r = get_string(rd, host, "host", "arch", false, &m->host.arch)) < 0 ||
        (r = get_string(rd, host, "host", "kernel", false, &m->host.kernel)) < 0 ||
        (r = get_string(rd, host, "host", "distro", false, &m->host.distro)) < 0 ||
        (r = get_string(rd, host, "host", "libc", false, &m->host.libc)) < 0 ||
        (r = get_object(rd, root, "", "command", true, &cmd)) < 0 ||
        (r = read_command(rd, m, cmd)) < 0 ||
        (r = read_list(rd, m, root, "", "inputs", true, read_input)) < 0 ||
        (r = read_list(rd, m, root, "", "outputs", false, read_output)) < 0 ||
        (r = read_list(rd, m, root, "", "processes", false, read_process)) < 0 ||
        (r = read_list(rd, m, root, "", "env_reads", false, read_env_read)) < 0 ||
        (r = get_object(rd, root, "", "coverage", false, &cov)) < 0)
        return r;
    if (m->worktree) {
        char buf[PATH_MAX];
        size_t n = strlen(m->worktree);
        if (m->worktree[0] != '/' || n >= sizeof buf ||
            cordon_path_normalize(memcpy(buf, m->worktree, n + 1)) != n ||
            memcmp(buf, m->worktree, n) != 0)
            return bad(rd, "worktree: '%s' is not an absolute normalised path", m->worktree);
    }
    if (cov && (r = read_list(rd, m, cov, "coverage", "gaps", false, read_gap)) < 0)
        return r;
    return 0;
}

/* The message for a text the parser refused: jansson's, with its line and
 * column, as cordon always gave. */
static int syntax_error(const char *buf, size_t len, const char *name, size_t offset,
                        struct cordon_error *err) {
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root) {
        /* Not expected: the two parsers disagree. Say where ours stopped. */
        json_decref(root);
        return cordon_error_set(err, EINVAL, name, 0, 0, "%s: invalid JSON near byte %zu", name,
                                offset);
    }
    /* With a line, the front end prints "NAME:LINE:COL: "; jansson has
     * none for failures that are not about a position (out of memory),
     * and then the name goes into the text, as for every other error. */
    if (jerr.line > 0)
        return cordon_error_set(err, EINVAL, name, jerr.line, jerr.column > 0 ? jerr.column : 0,
                                "%s", jerr.text);
    return cordon_error_set(err, EINVAL, name, 0, 0, "%s: %s", name, jerr.text);
}

int cordon_manifest_loadb(const char *buf, size_t len, const char *name,
                          struct cordon_manifest **ret, struct cordon_error *err) {
    struct rd rd = {.name = name, .err = err};
    struct jparser ps = {0};
    jv_t root = {0};
    /* Duplicate keys are rejected: a manifest with two "xxh3" is not one. */
    int r = jparse(&ps, buf, len, &root);
    if (r < 0) {
        size_t offset = (size_t)(ps.p - buf);
        jparser_release(&ps);
        if (r == -2)
            return oom(&rd);
        return syntax_error(buf, len, name, offset, err);
    }
    /* The children's stack is not needed past parsing. */
    free(ps.stack);
    ps.stack = NULL;
    struct cordon_manifest *m = cordon_manifest_new();
    if (!m) {
        jparser_release(&ps);
        return oom(&rd);
    }
    r = read_manifest(&rd, &root, m);
    jparser_release(&ps);
    if (r < 0) {
        cordon_manifest_free(m);
        return r;
    }
    cordon_manifest_sort(m);
    *ret = m;
    return 0;
}

int cordon_manifest_read(const char *path, struct cordon_manifest **ret, struct cordon_error *err) {
    bool is_stdin = strcmp(path, "-") == 0;
    /* Every message names its source; "-:3:5:" would not read as one. */
    const char *name = is_stdin ? "<stdin>" : path;
    _cleanup_close_ int fd = is_stdin ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cordon_error_set(err, errno, name, 0, 0, "cannot open '%s'", name);
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
        return cordon_error_set(err, EISDIR, name, 0, 0, "cannot read '%s'", name);
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            cordon_strbuf_release(&sb);
            return cordon_error_set(err, e, name, 0, 0, "cannot read '%s'", name);
        }
        if (n == 0)
            break;
        cordon_strbuf_addn(&sb, chunk, (size_t)n);
    }
    if (sb.failed) {
        cordon_strbuf_release(&sb);
        return cordon_error_set(err, ENOMEM, name, 0, 0, "cannot read '%s'", name);
    }
    int r = cordon_manifest_loadb(sb.buf, sb.len, name, ret, err);
    cordon_strbuf_release(&sb);
    return r;
}
