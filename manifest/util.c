/* Growable arrays and strings, and a string-keyed hash map. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <xxhash.h>

#include <cordon/util.h>

const char cordon_strbuf_empty_[1];

int cordon_grow(void **items, size_t *cap, size_t need, size_t size) {
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 8;
    while (n < need) {
        if (n > SIZE_MAX / 2)
            return -ENOMEM;
        n *= 2;
    }
    /* realloc(p, 0) would free p and return NULL: an element has a size. */
    if (size == 0)
        return -EINVAL;
    if (n > SIZE_MAX / size)
        return -ENOMEM;
    void *p = realloc(*items, n * size);
    if (!p)
        return -ENOMEM;
    *items = p;
    *cap = n;
    return 0;
}

char *cordon_strdup0(const char *s) {
    return s ? strdup(s) : NULL;
}

static bool strbuf_reserve(struct cordon_strbuf *sb, size_t extra) {
    if (sb->failed)
        return false;
    if (extra > SIZE_MAX - sb->len - 1) {
        sb->failed = true;
        return false;
    }
    size_t need = sb->len + extra + 1;
    if (need <= sb->alloc)
        return true;
    size_t n = sb->alloc ? sb->alloc : 64;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    char *p = realloc(sb->alloc ? sb->buf : NULL, n);
    if (!p) {
        sb->failed = true;
        return false;
    }
    if (!sb->alloc)
        p[0] = '\0';
    sb->buf = p;
    sb->alloc = n;
    return true;
}

void cordon_strbuf_addn(struct cordon_strbuf *sb, const char *s, size_t n) {
    if (!strbuf_reserve(sb, n))
        return;
    memcpy(sb->buf + sb->len, s, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
}

void cordon_strbuf_adds(struct cordon_strbuf *sb, const char *s) {
    cordon_strbuf_addn(sb, s, strlen(s));
}

void cordon_strbuf_addf(struct cordon_strbuf *sb, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !strbuf_reserve(sb, (size_t)n)) {
        sb->failed = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

void cordon_strbuf_reset(struct cordon_strbuf *sb) {
    sb->len = 0;
    if (sb->alloc)
        sb->buf[0] = '\0';
}

void cordon_strbuf_release(struct cordon_strbuf *sb) {
    if (sb->alloc)
        free(sb->buf);
    *sb = (struct cordon_strbuf)CORDON_STRBUF_INIT;
}

char *cordon_strbuf_detach(struct cordon_strbuf *sb) {
    char *p = NULL;
    if (!sb->failed)
        p = sb->alloc ? sb->buf : strdup("");
    else if (sb->alloc)
        free(sb->buf);
    *sb = (struct cordon_strbuf)CORDON_STRBUF_INIT;
    return p;
}

/* ---- map ---------------------------------------------------------------- */

struct map_slot {
    char *key; /* NULL: empty */
    uint64_t hash;
    void *value;
};

/* Keys live in chunks the map owns and frees together: a map of a package
 * database's 150,000 paths is filled and freed without a malloc and a free
 * per key (keys are never removed). */
struct key_chunk {
    struct key_chunk *next;
    char data[];
};
#define KEY_CHUNK (64 * 1024)

struct cordon_map {
    struct map_slot *slots;
    size_t cap; /* power of two */
    size_t used;
    struct key_chunk *chunks;
    char *pos; /* free space in the newest chunk */
    size_t left;
};

static uint64_t key_hash(const char *k) {
    return XXH3_64bits(k, strlen(k));
}

struct cordon_map *cordon_map_new(size_t expected) {
    struct cordon_map *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    size_t cap = 16;
    while (cap < expected * 2 && cap < (SIZE_MAX >> 2))
        cap <<= 1;
    m->slots = calloc(cap, sizeof *m->slots);
    if (!m->slots) {
        free(m);
        return NULL;
    }
    m->cap = cap;
    return m;
}

struct cordon_map *cordon_map_free(struct cordon_map *m) {
    if (!m)
        return NULL;
    for (struct key_chunk *c = m->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(m->slots);
    free(m);
    return NULL;
}

static struct map_slot *map_find(const struct cordon_map *m, const char *key, uint64_t h) {
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct map_slot *s = &m->slots[i];
        if (!s->key || (s->hash == h && strcmp(s->key, key) == 0))
            return s;
    }
}

void *cordon_map_get(const struct cordon_map *m, const char *key) {
    struct map_slot *s = map_find(m, key, key_hash(key));
    return s->key ? s->value : NULL;
}

static int map_rehash(struct cordon_map *m) {
    size_t ncap = m->cap * 2;
    struct map_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        struct map_slot *s = &m->slots[i];
        if (!s->key)
            continue;
        size_t j = s->hash & (ncap - 1);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = *s;
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return 0;
}

static char *map_key_copy(struct cordon_map *m, const char *key) {
    size_t size = strlen(key) + 1;
    if (size > m->left) {
        /* A key of more than a quarter chunk gets a chunk of its own, and
         * the current chunk's space stays in use. */
        bool own = size > KEY_CHUNK / 4;
        struct key_chunk *c = malloc(sizeof *c + (own ? size : KEY_CHUNK));
        if (!c)
            return NULL;
        c->next = m->chunks;
        m->chunks = c;
        if (own)
            return memcpy(c->data, key, size);
        m->pos = c->data;
        m->left = KEY_CHUNK;
    }
    char *k = memcpy(m->pos, key, size);
    m->pos += size;
    m->left -= size;
    return k;
}

int cordon_map_put(struct cordon_map *m, const char *key, void *value) {
    uint64_t h = key_hash(key);
    struct map_slot *s = map_find(m, key, h);
    if (s->key) {
        s->value = value;
        return 0;
    }
    if ((m->used + 1) * 4 > m->cap * 3) {
        if (map_rehash(m) < 0)
            return -ENOMEM;
        s = map_find(m, key, h);
    }
    s->key = map_key_copy(m, key);
    if (!s->key)
        return -ENOMEM;
    s->hash = h;
    s->value = value;
    m->used++;
    return 0;
}

size_t cordon_map_size(const struct cordon_map *m) {
    return m->used;
}

int64_t cordon_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

char *cordon_audit_tunables(const char *old) {
    char *v = NULL;
    int r;
    if (old && strstr(old, CORDON_AUDIT_TUNABLE "="))
        r = asprintf(&v, "%s", old);
    else if (old && *old)
        r = asprintf(&v, "%s:%s=%d", old, CORDON_AUDIT_TUNABLE, CORDON_AUDIT_STATIC_TLS);
    else
        r = asprintf(&v, "%s=%d", CORDON_AUDIT_TUNABLE, CORDON_AUDIT_STATIC_TLS);
    return r < 0 ? NULL : v;
}

int cordon_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int r = pthread_create(thread, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return r;
}
