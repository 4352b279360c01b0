/* Loading the rules file, matching paths against it, the gaps file and the
 * environment the exec wrappers carry over.
 *
 * Rules file: one rule per line, `ro|rw|hide|deny TAB path TAB host LF`.
 * The longest matching path prefix (by whole components) wins, and of rules
 * for the same path the last; a path no rule matches is hidden, except the
 * ancestors of a visible rule, which are traversable and read-only (as the
 * directories leading to a bind mount). The rules are kept sorted by path, so
 * that a lookup is a few binary searches rather than a pass over them all.
 */
#include "shim.h"

#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

hidden struct cp_reals cp_real;
hidden int cp_active;

struct cp_rule {
    enum cp_access access;
    const char *path;
    size_t plen;
    const char *host;
    size_t hlen;
};

#define CP_MAX_RULES 4096
static struct cp_rule rules[CP_MAX_RULES];
static size_t nrules;
static int inited;
static int strict;
static char gaps_path[PATH_MAX];

/* "NAME=value" of each contract variable present at start, for execve. */
static const char *const env_names[] = {"LD_PRELOAD", "CORDON_PRELOAD_RULES",
                                        "CORDON_PRELOAD_GAPS",
                                        "CORDON_PRELOAD_STRICT",
                                        "CORDON_PRELOAD_FASTPATH"};
#define CP_NENV (sizeof env_names / sizeof env_names[0])
static char env_saved[CP_NENV][PATH_MAX + 32];

static void say(const char *a, const char *b) {
    /* stderr, unbuffered, one write: no stdio in the shim */
    char line[PATH_MAX + 128];
    size_t n = 0;
    const char *parts[] = {"cordon-preload: ", a, ": ", b, "\n"};
    for (size_t i = 0; i < 5; i++)
        for (const char *p = parts[i]; *p && n < sizeof line - 1; p++)
            line[n++] = *p;
    if (syscall(SYS_write, 2, line, n) < 0) {
        /* nothing left to tell */
    }
}

/* Fail closed: with no rules every path is hidden, and the reason is on
 * stderr and in the gaps file. */
static void load_failed(const char *why, const char *file) {
    say(why, file);
    nrules = 0;
    cp_gap("error", why);
}

static int parse_access(const char *w, enum cp_access *a) {
    if (!strcmp(w, "ro"))
        *a = CP_RO;
    else if (!strcmp(w, "rw"))
        *a = CP_RW;
    else if (!strcmp(w, "hide"))
        *a = CP_HIDE;
    else if (!strcmp(w, "deny"))
        *a = CP_DENY;
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

/* The first rule whose path is not below `p` in byte order. */
static size_t lower_bound(const char *p, size_t n) {
    size_t lo = 0, hi = nrules;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_path(rules[mid].path, rules[mid].plen, p, n) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The last rule for exactly the path `p`, or nrules. */
static size_t find_rule(const char *p, size_t n) {
    size_t i = lower_bound(p, n);
    if (i == nrules || cmp_path(rules[i].path, rules[i].plen, p, n))
        return nrules;
    while (i + 1 < nrules && !cmp_path(rules[i + 1].path, rules[i + 1].plen, p, n))
        i++;
    return i;
}

static void load_rules(const char *file) {
    int fd = (int)syscall(SYS_openat, AT_FDCWD, file, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || syscall(SYS_fstat, fd, &st) < 0) {
        load_failed("cannot read the rules file", file);
        return;
    }
    size_t size = (size_t)st.st_size;
    char *buf = mmap(0, size + 1, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED) {
        syscall(SYS_close, fd);
        load_failed("cannot map the rules file", file);
        return;
    }
    size_t got = 0;
    while (got < size) {
        long n = syscall(SYS_read, fd, buf + got, size - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    syscall(SYS_close, fd);
    buf[got] = 0;
    if (got != size) {
        load_failed("short read of the rules file", file);
        return;
    }
    char *line = buf;
    while (*line) {
        char *end = strchr(line, '\n');
        if (!end) {
            load_failed("rules file does not end in a newline", file);
            return;
        }
        *end = 0;
        char *t1 = strchr(line, '\t');
        char *t2 = t1 ? strchr(t1 + 1, '\t') : 0;
        struct cp_rule r;
        if (!t2 || strchr(t2 + 1, '\t')) {
            load_failed("rules line without three fields", file);
            return;
        }
        *t1 = *t2 = 0;
        r.path = t1 + 1;
        r.host = t2 + 1;
        if (parse_access(line, &r.access) || r.path[0] != '/' ||
            r.host[0] != '/') {
            load_failed("bad rules line", file);
            return;
        }
        if (nrules == CP_MAX_RULES) {
            load_failed("too many rules", file);
            return;
        }
        r.plen = trim_slashes(r.path, strlen(r.path));
        r.hlen = trim_slashes(r.host, strlen(r.host));
        /* Insertion sort, stable: the same path keeps the file's order, and
         * cordon writes the rules nearly sorted already. */
        size_t i = nrules++;
        while (i > 0 && cmp_path(rules[i - 1].path, rules[i - 1].plen, r.path, r.plen) > 0) {
            rules[i] = rules[i - 1];
            i--;
        }
        rules[i] = r;
        line = end + 1;
    }
}

hidden void cp_init(void) {
    if (inited)
        return;
    inited = 1;
#define CP_RESOLVE(name) cp_real.name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name);
    CP_REALS(CP_RESOLVE)
#undef CP_RESOLVE
    for (size_t i = 0; i < CP_NENV; i++) {
        const char *v = getenv(env_names[i]);
        size_t n = strlen(env_names[i]);
        if (!v || n + 1 + strlen(v) >= sizeof env_saved[i])
            continue;
        memcpy(env_saved[i], env_names[i], n);
        env_saved[i][n] = '=';
        strcpy(env_saved[i] + n + 1, v);
    }
    const char *g = getenv("CORDON_PRELOAD_GAPS");
    if (g && strlen(g) < sizeof gaps_path)
        strcpy(gaps_path, g);
    const char *s = getenv("CORDON_PRELOAD_STRICT");
    strict = s && !strcmp(s, "1");
    const char *file = getenv("CORDON_PRELOAD_RULES");
    if (file && *file) {
        cp_active = 1;
        load_rules(file);
    }
    cp_map_stub();
}

__attribute__((constructor)) static void cp_ctor(void) { cp_init(); }

hidden int cp_strict(void) { return strict; }

/* Is `p` (length n) equal to or below the rule prefix `r` (length rn)? */
static int under(const char *r, size_t rn, const char *p, size_t n) {
    if (rn == 1)
        return 1; /* "/" */
    return n >= rn && !memcmp(r, p, rn) && (n == rn || p[rn] == '/');
}

/* dst = base + p[bn..] without doubling the slash of "/". */
static int join(char *dst, const char *base, size_t bn, const char *p,
                size_t n, size_t pn) {
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
    return 0;
}

/* Map a canonical view path to its host path and its access; -errno when
 * the host path does not fit. */
hidden enum cp_access cp_match(const char *view, size_t vlen, char *host) {
    /* The view path itself, then each shorter prefix ending at a slash. */
    size_t best = nrules, blen = 0;
    for (size_t n = vlen; n > 0;) {
        best = find_rule(view, n);
        if (best < nrules) {
            blen = n;
            break;
        }
        if (n == 1)
            break;
        while (--n > 1 && view[n] != '/')
            ;
    }
    enum cp_access a = best < nrules ? rules[best].access : CP_NONE;
    if (best < nrules) {
        if (join(host, rules[best].host, rules[best].hlen, view, vlen, blen))
            return CP_HIDE;
    } else {
        memcpy(host, view, vlen + 1);
    }
    if (a == CP_NONE || a == CP_HIDE) {
        /* an ancestor of a visible rule is a read-only directory; the rules
         * below `view` are among those that start with its bytes, together */
        for (size_t i = lower_bound(view, vlen);
             i < nrules && rules[i].plen >= vlen && !memcmp(rules[i].path, view, vlen); i++)
            if (rules[i].access != CP_HIDE && rules[i].plen > vlen &&
                under(view, vlen, rules[i].path, rules[i].plen))
                return CP_RO;
    }
    return a;
}

/* The reverse mapping: host path to the view path of the longest matching
 * host prefix. Returns the length, or 0 if it does not fit. */
hidden size_t cp_unmap(const char *host, size_t hlen, char *view) {
    size_t best = nrules, blen = 0;
    for (size_t i = 0; i < nrules; i++)
        if (rules[i].hlen >= blen && under(rules[i].host, rules[i].hlen, host, hlen)) {
            best = i;
            blen = rules[i].hlen;
        }
    if (best == nrules) {
        if (hlen >= PATH_MAX)
            return 0;
        memcpy(view, host, hlen + 1);
        return hlen;
    }
    if (join(view, rules[best].path, rules[best].plen, host, hlen, blen))
        return 0;
    return strlen(view);
}

/* Append `kind TAB path LF` to CORDON_PRELOAD_GAPS, with \t, \n and \\
 * escaped, in one O_APPEND write. */
hidden void cp_gap(const char *kind, const char *path) {
    if (!gaps_path[0])
        return;
    char line[2 * PATH_MAX + 64];
    size_t n = 0;
    for (const char *p = kind; *p && n < 64; p++)
        line[n++] = *p;
    line[n++] = '\t';
    for (const char *p = path; *p && n < sizeof line - 3; p++) {
        char c = *p;
        if (c == '\t' || c == '\n' || c == '\\') {
            line[n++] = '\\';
            c = c == '\t' ? 't' : c == '\n' ? 'n' : '\\';
        }
        line[n++] = c;
    }
    line[n++] = '\n';
    int fd = (int)syscall(SYS_openat, AT_FDCWD, gaps_path,
                          O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    if (syscall(SYS_write, fd, line, n) < 0) {
        /* a gap we cannot record: nowhere else to say it */
    }
    syscall(SYS_close, fd);
}

hidden size_t cp_env_count(char *const *envp) {
    size_t n = 0;
    while (envp && envp[n])
        n++;
    return n;
}

static int has_name(const char *entry, const char *name) {
    size_t n = strlen(name);
    return !strncmp(entry, name, n) && entry[n] == '=';
}

/* The environment for an exec: envp with each contract variable that was
 * set at start and is now missing added back, and our library put back in
 * front of an LD_PRELOAD that lost it. `out` holds n + CP_ENV_EXTRA + 1
 * pointers; `ld` holds the rebuilt LD_PRELOAD entry. */
hidden char *const *cp_fix_env(char *const *envp, size_t n, char **out,
                               char *ld, size_t ldcap) {
    size_t k = 0;
    int changed = 0;
    for (size_t i = 0; i < n; i++)
        out[k++] = envp[i];
    for (size_t v = 0; v < CP_NENV; v++) {
        if (!env_saved[v][0])
            continue;
        size_t i = 0;
        while (i < n && !has_name(envp[i], env_names[v]))
            i++;
        if (i == n) {
            out[k++] = env_saved[v];
            changed = 1;
            continue;
        }
        if (v != 0)
            continue; /* the other variables are the program's to change */
        const char *ours = env_saved[0] + sizeof "LD_PRELOAD";
        const char *theirs = envp[i] + sizeof "LD_PRELOAD";
        if (strstr(theirs, ours))
            continue;
        size_t a = strlen(env_saved[0]), b = strlen(theirs);
        if (a + 1 + b + 1 > ldcap)
            continue;
        memcpy(ld, env_saved[0], a);
        ld[a] = ':';
        memcpy(ld + a + 1, theirs, b + 1);
        out[i] = ld;
        changed = 1;
    }
    out[k] = 0;
    return changed ? out : envp;
}
