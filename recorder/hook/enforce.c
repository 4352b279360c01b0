/* Policy enforcement: the compiled policy, matching, and the path walk. See
 * enforce.h. Ported from the Rust tree's preload shim (rules.c, path.c),
 * which found the hard cases: links resolved one component at a time after
 * mapping their prefix, magic /proc links, the ancestors of a visible rule.
 * Only raw system calls: this runs inside wrappers and a vfork child. */
#include <string.h>
#include <sys/stat.h>

#include "enforce.h"
#include "hook.h"

#define MAX_LINKS 40 /* the kernel's MAXSYMLINKS */

static int parse_access(const char *w, enum hook_access *a) {
    if (!strcmp(w, "ro"))
        *a = HOOK_ACC_RO;
    else if (!strcmp(w, "rw"))
        *a = HOOK_ACC_RW;
    else if (!strcmp(w, "hide"))
        *a = HOOK_ACC_HIDE;
    else if (!strcmp(w, "deny"))
        *a = HOOK_ACC_DENY;
    else
        return -1;
    return 0;
}

static size_t trim_slashes(const char *p, size_t n) {
    while (n > 1 && p[n - 1] == '/')
        n--;
    return n;
}

/* Byte order of two paths (not NUL-terminated). */
static int cmp_path(const char *a, size_t an, const char *b, size_t bn) {
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

int hook_rules_parse(struct hook_rules *rs, char *text, size_t len, unsigned *ret_line) {
    unsigned line = 0;
    size_t i = 0;
    rs->n = 0;
    memset(rs->known, 0, sizeof rs->known);
    while (i < len) {
        line++;
        char *start = text + i;
        char *end = memchr(start, '\n', len - i);
        if (!end)
            goto bad;
        *end = 0;
        i = (size_t)(end - text) + 1;
        char *t1 = strchr(start, '\t');
        char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t2 || strchr(t2 + 1, '\t'))
            goto bad;
        *t1 = *t2 = 0;
        struct hook_rule r = {.path = t1 + 1, .host = t2 + 1};
        if (parse_access(start, &r.access) || r.path[0] != '/' || r.host[0] != '/')
            goto bad;
        if (rs->n == HOOK_RULES_MAX) {
            rs->n = 0;
            *ret_line = line;
            return -E2BIG;
        }
        r.plen = trim_slashes(r.path, strlen(r.path));
        r.hlen = trim_slashes(r.host, strlen(r.host));
        /* Insertion sort, stable: the same path keeps the file's order, so
         * the last rule on a path is the last of its run. */
        size_t k = rs->n++;
        while (k > 0 && cmp_path(rs->r[k - 1].path, rs->r[k - 1].plen, r.path, r.plen) > 0) {
            rs->r[k] = rs->r[k - 1];
            k--;
        }
        rs->r[k] = r;
    }
    return 0;
bad:
    rs->n = 0;
    *ret_line = line;
    return -EINVAL;
}

/* The first rule whose path is not below `p` in byte order. */
static size_t lower_bound(const struct hook_rules *rs, const char *p, size_t n) {
    size_t lo = 0, hi = rs->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_path(rs->r[mid].path, rs->r[mid].plen, p, n) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The last rule for exactly the path `p`, or rs->n. */
static size_t find_rule(const struct hook_rules *rs, const char *p, size_t n) {
    size_t i = lower_bound(rs, p, n);
    if (i == rs->n || cmp_path(rs->r[i].path, rs->r[i].plen, p, n))
        return rs->n;
    while (i + 1 < rs->n && !cmp_path(rs->r[i + 1].path, rs->r[i + 1].plen, p, n))
        i++;
    return i;
}

/* Is `p` (n bytes) equal to or below the prefix `r` (rn bytes)? */
static bool under(const char *r, size_t rn, const char *p, size_t n) {
    if (rn == 1)
        return true; /* "/" */
    return n >= rn && !memcmp(r, p, rn) && (n == rn || p[rn] == '/');
}

/* dst = base + p[pn..n) without doubling the slash of "/". */
static int join(char *dst, const char *base, size_t bn, const char *p, size_t n, size_t pn) {
    const char *rest = p + (pn == 1 ? 0 : pn);
    size_t rn = n - (pn == 1 ? 0 : pn);
    if (rn == 1 && rest[0] == '/')
        rn = 0; /* p == "/" */
    if (bn == 1 && rn)
        bn = 0;
    if (bn + rn >= PATH_MAX)
        return -1;
    memcpy(dst, base, bn);
    memcpy(dst + bn, rest, rn);
    dst[bn + rn] = 0;
    if (!bn && !rn) {
        dst[0] = '/';
        dst[1] = 0;
    }
    return 0;
}

enum hook_access hook_rules_match(const struct hook_rules *rs, const char *view, size_t vlen,
                                  char *host) {
    /* The view path itself, then each shorter prefix ending at a slash. */
    size_t best = rs->n, blen = 0;
    for (size_t n = vlen; n > 0;) {
        best = find_rule(rs, view, n);
        if (best < rs->n) {
            blen = n;
            break;
        }
        if (n == 1)
            break;
        while (--n > 1 && view[n] != '/')
            ;
    }
    enum hook_access a = best < rs->n ? rs->r[best].access : HOOK_ACC_NONE;
    if (best < rs->n) {
        if (join(host, rs->r[best].host, rs->r[best].hlen, view, vlen, blen))
            return HOOK_ACC_HIDE;
    } else {
        if (vlen >= PATH_MAX)
            return HOOK_ACC_HIDE;
        memcpy(host, view, vlen);
        host[vlen] = 0;
    }
    if (a == HOOK_ACC_NONE || a == HOOK_ACC_HIDE) {
        /* An ancestor of a visible rule is a read-only directory. The rules
         * below `view` are among those that start with its bytes, together. */
        for (size_t i = lower_bound(rs, view, vlen);
             i < rs->n && rs->r[i].plen >= vlen && !memcmp(rs->r[i].path, view, vlen); i++)
            if (rs->r[i].access != HOOK_ACC_HIDE && rs->r[i].plen > vlen &&
                under(view, vlen, rs->r[i].path, rs->r[i].plen))
                return HOOK_ACC_RO;
    }
    return a;
}

size_t hook_rules_unmap(const struct hook_rules *rs, const char *host, size_t hlen, char *view) {
    size_t best = rs->n, blen = 0;
    for (size_t i = 0; i < rs->n; i++) {
        const struct hook_rule *r = &rs->r[i];
        /* only rules that move a path: the others map onto themselves */
        if (r->hlen == r->plen && !memcmp(r->host, r->path, r->plen))
            continue;
        if (r->hlen >= blen && under(r->host, r->hlen, host, hlen)) {
            best = i;
            blen = r->hlen;
        }
    }
    if (best == rs->n) {
        if (hlen >= PATH_MAX)
            return 0;
        memcpy(view, host, hlen);
        view[hlen] = 0;
        return hlen;
    }
    if (join(view, rs->r[best].path, rs->r[best].plen, host, hlen, blen))
        return 0;
    return strlen(view);
}

bool hook_rules_entry_hidden(const struct hook_rules *rs, const char *dir, size_t dlen,
                             const char *name) {
    char view[PATH_MAX], host[PATH_MAX];
    size_t vlen = dlen, nlen = strlen(name);
    if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0)))
        return false;
    if (vlen + 1 + nlen >= sizeof view)
        return false;
    memcpy(view, dir, vlen);
    if (vlen > 1)
        view[vlen++] = '/';
    memcpy(view + vlen, name, nlen + 1);
    enum hook_access a = hook_rules_match(rs, view, vlen + nlen, host);
    return a == HOOK_ACC_HIDE || a == HOOK_ACC_NONE;
}

int hook_enforce_open_flags(int flags) {
    int f = 0;
    if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC))
        f |= HOOK_ENF_WRITE | HOOK_ENF_DATA;
    if ((flags & O_TMPFILE) == O_TMPFILE)
        f |= HOOK_ENF_WRITE;
    else if (flags & O_CREAT)
        f |= HOOK_ENF_CREATE;
    /* O_CREAT|O_EXCL never follows the last link (open(2)) */
    if ((flags & O_NOFOLLOW) || (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
        f |= HOOK_ENF_NOFOLLOW;
    return f;
}

/* ---- the walk ------------------------------------------------------------ */

static uint64_t path_hash(const char *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a, then a final mix */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h ? h : 1;
}

#define KNOWN_PROBE 8

static bool known_has(const struct hook_rules *rs, uint64_t h) {
    size_t mask = (1u << HOOK_KNOWN_BITS) - 1;
    for (size_t i = 0; i < KNOWN_PROBE; i++) {
        uint64_t v = __atomic_load_n(&rs->known[(h + i) & mask], __ATOMIC_RELAXED);
        if (v == h)
            return true;
        if (!v)
            return false;
    }
    return false;
}

/* A full neighbourhood just means the path is walked in full next time. */
static void known_add(const struct hook_rules *rs, uint64_t h) {
    uint64_t *tab = (uint64_t *)rs->known; /* the cache is the mutable part */
    size_t mask = (1u << HOOK_KNOWN_BITS) - 1;
    for (size_t i = 0; i < KNOWN_PROBE; i++) {
        uint64_t zero = 0;
        uint64_t *slot = &tab[(h + i) & mask];
        if (__atomic_compare_exchange_n(slot, &zero, h, false, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED) ||
            zero == h)
            return;
    }
}

static long raw_readlink(const char *p, char *buf, size_t n) {
    return hook_sys(SYS_readlinkat, AT_FDCWD, p, buf, n);
}

static bool host_exists(const char *host) {
    struct stat st;
    return hook_sys(SYS_newfstatat, AT_FDCWD, host, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* A device, fifo or socket: writing to it does not modify the file system,
 * so the kernel allows it on a read-only mount and so do we. */
static bool is_special(const char *host) {
    struct stat st;
    if (hook_sys(SYS_newfstatat, AT_FDCWD, host, &st, 0) < 0)
        return false;
    return !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

static void pop(char *v, size_t *vlen) {
    size_t n = *vlen;
    while (n > 1 && v[n - 1] != '/')
        n--;
    if (n > 1)
        n--; /* the slash before the component, unless it is the root */
    v[n] = 0;
    *vlen = n;
}

/* Below /proc/PID/, links such as fd/N, exe and cwd are magic: follow only
 * those that read as an absolute path of a file that still exists. */
static bool magic(const char *v, size_t vlen, const char *target, size_t tlen) {
    if (vlen < 6 || memcmp(v, "/proc/", 6))
        return false;
    if (!memchr(v + 6, '/', vlen - 6))
        return false; /* /proc/self, /proc/mounts, ...: plain links */
    static const char del[] = " (deleted)";
    size_t dl = sizeof del - 1;
    return target[0] != '/' || (tlen > dl && !memcmp(target + tlen - dl, del, dl));
}

static int decide(enum hook_access a, int flags, const char *host) {
    if (a == HOOK_ACC_NONE || a == HOOK_ACC_HIDE)
        return ENOENT;
    if (a == HOOK_ACC_DENY)
        return flags & HOOK_ENF_LOOK ? 0 : EACCES;
    if (a == HOOK_ACC_RO && (flags & (HOOK_ENF_WRITE | HOOK_ENF_CREATE))) {
        if ((flags & HOOK_ENF_DATA) && is_special(host))
            return 0;
        if (!(flags & HOOK_ENF_WRITE) && host_exists(host))
            return 0; /* creating what exists: the real call says EEXIST */
        return EROFS;
    }
    return 0;
}

/* "/proc/self" or "/proc/thread-self" at the start of v: made /proc/PID. */
static int proc_self(char *v, size_t *vlen, int pid) {
    static const char self[] = "/proc/self", thread[] = "/proc/thread-self";
    size_t skip = 0;
    if (*vlen >= sizeof self - 1 && !memcmp(v, self, sizeof self - 1) &&
        (*vlen == sizeof self - 1 || v[sizeof self - 1] == '/'))
        skip = sizeof self - 1;
    else if (*vlen >= sizeof thread - 1 && !memcmp(v, thread, sizeof thread - 1) &&
             (*vlen == sizeof thread - 1 || v[sizeof thread - 1] == '/'))
        skip = sizeof thread - 1;
    if (!skip)
        return 0;
    char digits[12];
    size_t d = 0;
    for (unsigned u = (unsigned)pid; d == 0 || u; u /= 10)
        digits[d++] = (char)('0' + u % 10);
    size_t newlen = 6 + d + (*vlen - skip);
    if (newlen >= PATH_MAX)
        return ENAMETOOLONG;
    memmove(v + 6 + d, v + skip, *vlen - skip + 1);
    for (size_t k = 0; k < d; k++)
        v[6 + k] = digits[d - 1 - k];
    *vlen = newlen;
    return 0;
}

int hook_enforce_resolve(const struct hook_rules *rs, const char *base, const char *path, int flags,
                         int proc_pid, struct hook_resolved *r) {
    r->access = HOOK_ACC_NONE;
    r->view[0] = r->host[0] = 0;
    if (hook_isnull(path))
        return EFAULT;
    size_t plen = strlen(path);
    if (!plen)
        return ENOENT;
    char pend[PATH_MAX];
    if (plen >= sizeof pend)
        return ENAMETOOLONG;
    memcpy(pend, path, plen + 1);
    bool trailing = path[plen - 1] == '/';

    char *v = r->view;
    size_t vlen = 1;
    v[0] = '/';
    v[1] = 0;
    if (path[0] != '/') {
        if (!base || base[0] != '/')
            return base && base[0] ? ENOTDIR : ENOENT; /* "pipe:[..]", unreachable */
        vlen = hook_rules_unmap(rs, base, strlen(base), v);
        if (!vlen)
            return ENAMETOOLONG;
    }

    char tmp[PATH_MAX], tv[PATH_MAX];
    size_t pi = 0;
    int links = 0;
    for (;;) {
        while (pend[pi] == '/')
            pi++;
        if (!pend[pi])
            break;
        size_t s = pi;
        while (pend[pi] && pend[pi] != '/')
            pi++;
        size_t clen = pi - s;
        size_t k = pi;
        while (pend[k] == '/')
            k++;
        bool last = pend[k] == 0;
        if (clen == 1 && pend[s] == '.')
            continue;
        if (clen == 2 && pend[s] == '.' && pend[s + 1] == '.') {
            pop(v, &vlen);
            continue;
        }
        if (vlen + 1 + clen >= PATH_MAX)
            return ENAMETOOLONG;
        if (vlen > 1)
            v[vlen++] = '/';
        memcpy(v + vlen, pend + s, clen);
        vlen += clen;
        v[vlen] = 0;
        if (proc_pid > 0) {
            int e = proc_self(v, &vlen, proc_pid);
            if (e)
                return e;
        }

        if (last && (flags & HOOK_ENF_NOFOLLOW) && pend[pi] != '/')
            break; /* the last component itself: decided below */
        uint64_t h = path_hash(v, vlen);
        if (known_has(rs, h))
            continue; /* read-only, itself, not a link: nothing to read */
        enum hook_access a = hook_rules_match(rs, v, vlen, r->host);
        if (a == HOOK_ACC_NONE || a == HOOK_ACC_HIDE)
            return ENOENT;
        /* A denied path is there: a look at it (stat) goes on to the end. */
        if (a == HOOK_ACC_DENY && !(last && (flags & HOOK_ENF_LOOK)))
            return EACCES;
        long n = raw_readlink(r->host, tmp, sizeof tmp - 1);
        if (n == -EINVAL && a == HOOK_ACC_RO && !strcmp(r->host, v))
            known_add(rs, h);
        if (n < 0)
            continue; /* not a link, or absent: the real call will say */
        tmp[n] = 0;
        if (magic(v, vlen, tmp, (size_t)n))
            continue;
        if (++links > MAX_LINKS)
            return ELOOP;
        const char *t = tmp;
        size_t tlen = (size_t)n;
        if (tmp[0] == '/') {
            tlen = hook_rules_unmap(rs, tmp, tlen, tv); /* a host target under a redirect */
            if (!tlen)
                return ENAMETOOLONG;
            t = tv;
            v[1] = 0;
            vlen = 1;
        } else {
            pop(v, &vlen);
        }
        size_t rest = strlen(pend + pi);
        if (tlen + 1 + rest >= sizeof pend)
            return ENAMETOOLONG;
        memmove(pend + tlen + (rest ? 1 : 0), pend + pi, rest + 1);
        memcpy(pend, t, tlen);
        if (rest)
            pend[tlen] = '/';
        pi = 0;
    }

    enum hook_access a = hook_rules_match(rs, v, vlen, r->host);
    r->access = a;
    int e = decide(a, flags, r->host);
    if (e)
        return e;
    size_t hn = strlen(r->host);
    if (trailing && hn > 1 && hn + 1 < PATH_MAX) {
        r->host[hn] = '/';
        r->host[hn + 1] = 0;
    }
    return 0;
}
