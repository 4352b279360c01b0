/* The hook's state: the real-function table, the log descriptor, the
 * per-process de-duplication table, the cached cwd, the constructor (PROC
 * and ARGV records) and the guards that keep a program from closing the log.
 *
 * Shared state is touched only with atomics; a vfork child (detected by a
 * pid that is not the owner's) reads it but never writes it. */
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>

#include "../trace_seccomp.h"
#include "hook.h"
#include "path.h"

extern char **environ;

/* ---- real functions ------------------------------------------------------ */

void *hook_slots[HOOK_ID_MAX];

static const char *const hook_names[HOOK_ID_MAX] = {
#define HOOK(name) [HOOK_ID_##name] = #name,
#include "hooks.def"
#undef HOOK
};

void *hook_resolve(enum hook_id id) {
    int saved = errno;
    void *p = dlsym(RTLD_NEXT, hook_names[id]);
    errno = saved;
    /* A benign race: every thread stores the same pointer. */
    __atomic_store_n(&hook_slots[id], p, __ATOMIC_RELAXED);
    return p;
}

/* ---- state --------------------------------------------------------------- */

#define LOG_FD_MIN 900 /* out of the way of programs that assume low fds */

enum { INIT_NONE, INIT_BUSY, INIT_DONE };

static struct {
    int init; /* INIT_* */
    bool active;
    bool audit; /* the LD_AUDIT instance */
    int pid;    /* the process that owns the caches below */
    int log_fd;
    uint64_t log_dev, log_ino;
    char log_path[PATH_MAX];
    /* cwd cache: a seqlock (odd gen while written) */
    unsigned cwd_gen;
    int cwd_untrusted;
    int cwd_vfork; /* a vfork child that changed directory: not for it */
    size_t cwd_len;
    char cwd[PATH_MAX];
    /* the environment snapshot */
    struct hook_env env;
    char env_log[PATH_MAX + 16];
    char env_hook[PATH_MAX + 16];
    char env_policy[PATH_MAX + 16];
    char env_notify[PATH_MAX + 16];
    char audit_module[PATH_MAX];
    char env_tunables[PATH_MAX + 16];
    bool enforce; /* a policy was named: calls are checked (fail closed) */
} st = {.log_fd = -1};

/* The compiled policy: rules pointing into an anonymous mapping of the
 * file, made once at init and never freed. */
static struct hook_rules rules;

static const char *env_in(char *const *envp, const char *name) {
    size_t n = strlen(name);
    if (!envp)
        return NULL;
    for (char *const *e = envp; *e; e++)
        if (!strncmp(*e, name, n) && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

const char *hook_environ_get(const char *name) {
    return env_in(environ, name);
}

static bool list_has(const char *list, const char *item) {
    size_t n = strlen(item);
    if (!list || !n)
        return false;
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, ": ");
        if (k == n && !memcmp(p, item, n))
            return true;
        p += k;
        if (*p)
            p++;
    }
    return false;
}

static void log_open(void) {
    int fd = (int)hook_sys6(SYS_openat, AT_FDCWD, (long)st.log_path,
                            O_WRONLY | O_APPEND | O_CLOEXEC | O_CREAT, 0644, 0, 0);
    if (fd < 0)
        return;
    if (fd < LOG_FD_MIN) {
        int high = (int)hook_sys(SYS_fcntl, fd, F_DUPFD_CLOEXEC, LOG_FD_MIN, 0);
        if (high >= 0) {
            hook_sys(SYS_close, fd, 0, 0, 0);
            fd = high;
        }
    }
    struct stat sb;
    if (hook_sys(SYS_fstat, fd, &sb, 0, 0) < 0) {
        hook_sys(SYS_close, fd, 0, 0, 0);
        return;
    }
    st.log_dev = sb.st_dev;
    st.log_ino = sb.st_ino;
    __atomic_store_n(&st.log_fd, fd, __ATOMIC_RELEASE);
}

static void cwd_refresh(void) {
    char buf[PATH_MAX];
    long n = hook_sys(SYS_getcwd, buf, sizeof buf, 0, 0);
    unsigned g = __atomic_add_fetch(&st.cwd_gen, 1, __ATOMIC_ACQ_REL);
    if (n > 1 && buf[0] == '/') {
        memcpy(st.cwd, buf, (size_t)n);
        st.cwd_len = (size_t)n - 1;
    } else {
        st.cwd_len = 0; /* unreachable or deleted: ask the kernel each time */
    }
    __atomic_store_n(&st.cwd_gen, g + 1, __ATOMIC_RELEASE);
}

static bool in_audit_namespace(void) {
    Dl_info info;
    struct link_map *lm = NULL;
    Lmid_t ns = LM_ID_BASE;
    if (!dladdr1((void *)&in_audit_namespace, &info, (void **)&lm, RTLD_DL_LINKMAP) || !lm)
        return false;
    if (dlinfo(lm, RTLD_DI_LMID, &ns) != 0)
        return false;
    return ns != LM_ID_BASE;
}

/* One message on stderr, one write(2): no stdio in the hook. */
static void say(const char *a, const char *b, const char *c) {
    char line[2 * PATH_MAX];
    size_t n = 0;
    const char *parts[] = {"cordon: ", a, b, c, "\n"};
    for (size_t i = 0; i < 5; i++)
        for (const char *p = parts[i]; p && *p && n < sizeof line - 1; p++)
            line[n++] = *p;
    hook_sys(SYS_write, 2, line, n, 0);
}

/* Load the compiled policy. Any failure leaves no rule: every path hidden,
 * and the program is told why on stderr. */
static void policy_load(const char *file) {
    st.enforce = true;
    rules.n = 0;
    /* a static program this one starts lists directories through the
     * supervisor, which leaves hidden names out */
    seccomp_set_enforcing(true);
    int fd = (int)hook_sys(SYS_openat, AT_FDCWD, file, O_RDONLY | O_CLOEXEC, 0);
    struct stat sb;
    if (fd < 0 || hook_sys(SYS_fstat, fd, &sb, 0, 0) < 0) {
        if (fd >= 0)
            hook_sys(SYS_close, fd, 0, 0, 0);
        say("cannot read the policy '", file, "': every path is hidden");
        return;
    }
    size_t size = (size_t)sb.st_size;
    char *buf = (char *)hook_sys6(SYS_mmap, 0, (long)size + 1, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if ((unsigned long)buf > -4096UL) {
        hook_sys(SYS_close, fd, 0, 0, 0);
        say("cannot map the policy '", file, "': every path is hidden");
        return;
    }
    size_t got = 0;
    while (got < size) {
        long n = hook_sys(SYS_read, fd, buf + got, size - got, 0);
        if (n == -EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    hook_sys(SYS_close, fd, 0, 0, 0);
    unsigned line = 0;
    if (got != size || hook_rules_parse(&rules, buf, got, &line) < 0)
        say("the policy '", file, "' is not a compiled policy: every path is hidden");
}

/* "NAME=value" into buf (PATH_MAX + 16); "" if it does not fit. */
static const char *env_entry(char *buf, const char *name, const char *value) {
    size_t n = strlen(name), v = strlen(value);
    if (n + 1 + v + 1 > PATH_MAX + 16)
        return "";
    memcpy(buf, name, n);
    buf[n] = '=';
    memcpy(buf + n + 1, value, v + 1);
    return buf;
}

static void init_from(char *const *envp) {
    const char *log = env_in(envp, CORDON_ENV_LOG);
    const char *hook = env_in(envp, CORDON_ENV_HOOK);
    const char *audit = env_in(envp, "LD_AUDIT");
    const char *policy = env_in(envp, CORDON_ENV_POLICY);
    const char *notify = env_in(envp, CORDON_ENV_NOTIFY);
    const char *tunables = env_in(envp, "GLIBC_TUNABLES");
    st.pid = hook_getpid();
    st.audit = in_audit_namespace();
    cwd_refresh();
    bool want_log = log && *log, want_policy = policy && *policy;
    if (!want_log && !want_policy)
        return;
    size_t n = 0;
    if (want_log) {
        n = hook_path_join(st.cwd, st.cwd_len, log, st.log_path, sizeof st.log_path);
        want_log = n != 0;
    }
    if (want_policy)
        policy_load(policy);
    /* Recording under the complete path's filter: the fast lane. */
    else if (want_log && notify && *notify && seccomp_observed())
        hook_stub_map();
    /* The snapshot for exec wrappers. */
    char self[PATH_MAX];
    if (!hook || !*hook) {
        Dl_info info;
        if (dladdr((void *)&init_from, &info) && info.dli_fname && info.dli_fname[0] == '/' &&
            strlen(info.dli_fname) < sizeof self) {
            strcpy(self, info.dli_fname);
            hook = self;
        }
    }
    if (hook && strlen(hook) >= PATH_MAX)
        hook = NULL;
    st.env.log = "";
    if (want_log) {
        memcpy(st.env_log, CORDON_ENV_LOG "=", sizeof CORDON_ENV_LOG);
        memcpy(st.env_log + sizeof CORDON_ENV_LOG, st.log_path, n + 1);
        st.env.log = st.env_log;
    }
    st.env.policy = want_policy ? env_entry(st.env_policy, CORDON_ENV_POLICY, policy) : "";
    st.env.notify = notify && *notify ? env_entry(st.env_notify, CORDON_ENV_NOTIFY, notify) : "";
    st.env.hook = "";
    st.env.hook_path = "";
    if (hook) {
        size_t k = sizeof CORDON_ENV_HOOK;
        memcpy(st.env_hook, CORDON_ENV_HOOK "=", k);
        strcpy(st.env_hook + k, hook);
        st.env.hook = st.env_hook;
        st.env.hook_path = st.env_hook + k;
        /* LD_AUDIT names the hook itself (`cordon run`) or the recorder's
         * libc-free module beside it; an exec must keep whichever it was. */
        st.env.audit = list_has(audit, hook);
        st.env.audit_path = st.env.hook_path;
        if (!st.env.audit && hook_beside(CORDON_AUDIT_MODULE, st.audit_module)) {
            st.env.audit = list_has(audit, st.audit_module);
            st.env.audit_path = st.audit_module;
        }
        /* The static TLS room the audit module needs (cordon/util.h). */
        if (st.env.audit && tunables && *tunables)
            st.env.tunables = env_entry(st.env_tunables, "GLIBC_TUNABLES", tunables);
    }
    if (!want_log)
        return;
    if (st.audit) {
        /* The audit instance keeps no descriptor: the program could not
         * close or reuse it without changing what it sees, and the
         * preload's guards do not know it. It opens the log per record;
         * the loader makes few. */
        st.active = true;
        return;
    }
    log_open();
    st.active = st.log_fd >= 0;
}

/* Returns true when the state is ready and active. */
static bool init_once(char *const *envp) {
    int prev = INIT_NONE;
    if (__atomic_compare_exchange_n(&st.init, &prev, INIT_BUSY, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE)) {
        int saved = errno;
        init_from(envp);
        errno = saved;
        __atomic_store_n(&st.init, INIT_DONE, __ATOMIC_RELEASE);
        return st.active;
    }
    /* INIT_BUSY: another thread (or a call from inside the init) is at it;
     * this call goes unrecorded. */
    return prev == INIT_DONE && st.active;
}

bool hook_active(void) {
    if (__builtin_expect(__atomic_load_n(&st.init, __ATOMIC_ACQUIRE) == INIT_DONE, 1))
        return st.active;
    return init_once(environ);
}

bool hook_enforcing(void) {
    if (__builtin_expect(__atomic_load_n(&st.init, __ATOMIC_ACQUIRE) == INIT_DONE, 1))
        return st.enforce;
    init_once(environ);
    return __atomic_load_n(&st.init, __ATOMIC_ACQUIRE) == INIT_DONE && st.enforce;
}

const struct hook_rules *hook_policy(void) {
    return &rules;
}

int hook_enforce(int dirfd, const char *path, int flags, struct hook_resolved *r) {
    char base[PATH_MAX];
    const char *b = NULL;
    if (!hook_isnull(path) && path[0] && path[0] != '/') {
        if (dirfd == AT_FDCWD) {
            if (!hook_cwd(base))
                return ENOENT; /* a deleted or unreachable cwd */
        } else {
            char proc[48];
            if (dirfd < 0)
                return EBADF;
            hook_path_fd(proc, "/proc/self/fd/", (unsigned)dirfd);
            long n = hook_sys(SYS_readlinkat, AT_FDCWD, proc, base, PATH_MAX - 1);
            if (n <= 0)
                return EBADF;
            base[n] = 0;
        }
        b = base;
    }
    return hook_enforce_resolve(&rules, b, path, flags, 0, r);
}

bool hook_is_audit(void) {
    return st.audit;
}

const struct hook_env *hook_env_snapshot(void) {
    return &st.env;
}

/* ---- records ------------------------------------------------------------- */

void hook_rec_init(struct hook_rec *r, unsigned kind, int err, uint32_t arg) {
    memset(&r->h, 0, sizeof r->h);
    r->h.kind = (uint16_t)kind;
    r->h.err = err;
    r->h.arg = arg;
    r->h.flags = st.audit ? CORDON_TRACE_AUDIT : 0;
    r->pid = 0;
}

void hook_rec_stat(struct hook_rec *r, const struct stat *sb) {
    if (!sb || r->h.err)
        return;
    r->h.mode = sb->st_mode;
    r->h.dev = sb->st_dev;
    r->h.ino = sb->st_ino;
    r->h.size = (uint64_t)sb->st_size;
    r->h.mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
}

bool hook_rec_fstat(struct hook_rec *r, int fd) {
    struct stat sb;
    if (hook_sys(SYS_fstat, fd, &sb, 0, 0) < 0)
        return false;
    hook_rec_stat(r, &sb);
    return true;
}

/* De-duplication: an open-addressed table of 64-bit keys, set by CAS. The
 * pid is part of the key, so a forked child (which inherits the table)
 * records afresh. A full neighbourhood just means a duplicate record. */
#define SEEN_BITS 13 /* 64 KiB: every page a process touches is a fault */
#define SEEN_PROBE 16
static uint64_t seen[1u << SEEN_BITS];

static uint64_t mix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

bool hook_seen(struct hook_rec *r, const char *key, size_t n) {
    /* Keyed with the owner's pid, known without a system call: a hit (the
     * common case) costs none. Only a miss asks who we are, since a vfork
     * child must not insert into the table it shares with its parent. */
    int owner = __atomic_load_n(&st.pid, __ATOMIC_RELAXED);
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)key[i]) * 0x100000001b3ULL;
    h ^= mix(((uint64_t)r->h.kind << 48) ^ ((uint64_t)(r->h.err != 0) << 47) ^
             ((uint64_t)r->h.arg << 8) ^ ((uint64_t)(uint32_t)owner << 16));
    h = mix(h);
    if (!h)
        h = 1;
    size_t mask = (1u << SEEN_BITS) - 1;
    uint64_t *empty = NULL;
    for (size_t i = 0; i < SEEN_PROBE; i++) {
        uint64_t *slot = &seen[(h + i) & mask];
        uint64_t v = __atomic_load_n(slot, __ATOMIC_RELAXED);
        if (v == h)
            return true;
        if (!v) {
            empty = slot;
            break;
        }
    }
    if (!empty || hook_rec_pid(r) != owner)
        return false;
    uint64_t zero = 0;
    if (__atomic_compare_exchange_n(empty, &zero, h, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        return false;
    return zero == h; /* another thread recorded the same meanwhile */
}

void hook_emit(struct hook_rec *r, const char *s1, size_t n1, const char *s2, size_t n2) {
    _Alignas(8) char buf[CORDON_TRACE_MAX];
    r->h.pid = hook_rec_pid(r);
    size_t len = cordon_trace_encode(buf, &r->h, s1, n1, s2, n2);
    if (st.audit) {
        int fd = (int)hook_sys6(SYS_openat, AT_FDCWD, (long)st.log_path,
                                O_WRONLY | O_APPEND | O_CLOEXEC | O_CREAT, 0644, 0, 0);
        if (fd >= 0) {
            hook_sys(SYS_write, fd, buf, len, 0);
            hook_sys(SYS_close, fd, 0, 0, 0);
        }
        return;
    }
    bool owner = r->pid == __atomic_load_n(&st.pid, __ATOMIC_RELAXED);
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = __atomic_load_n(&st.log_fd, __ATOMIC_ACQUIRE);
        if (fd >= 0) {
            long w = hook_sys(SYS_write, fd, buf, len, 0);
            if (w != -EBADF)
                return; /* written, or a failure we cannot fix: dropped */
        }
        /* Closed behind our back (a raw close): reopen, but not from a
         * vfork child, whose descriptor table is not its parent's. */
        if (!owner)
            return;
        __atomic_store_n(&st.log_fd, -1, __ATOMIC_RELEASE);
        log_open();
    }
}

/* ---- paths --------------------------------------------------------------- */

/* Whether the cached cwd is this process's. A vfork child shares the
 * cache but not the cwd once it changes directory: its chdir marks the cache
 * as not its own (cwd_vfork), and the parent, which runs again only when
 * that child has exec'd or exited, clears the mark. So a relative path
 * costs no system call in the common case. */
static bool cwd_cache_mine(void) {
    if (__atomic_load_n(&st.cwd_untrusted, __ATOMIC_RELAXED))
        return false;
    int v = __atomic_load_n(&st.cwd_vfork, __ATOMIC_RELAXED);
    if (!v)
        return true;
    int me = hook_getpid();
    if (me != __atomic_load_n(&st.pid, __ATOMIC_RELAXED))
        return false;
    __atomic_compare_exchange_n(&st.cwd_vfork, &v, 0, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    return true;
}

size_t hook_cwd(char *out) {
    if (cwd_cache_mine()) {
        unsigned g = __atomic_load_n(&st.cwd_gen, __ATOMIC_ACQUIRE);
        size_t n = st.cwd_len;
        if (!(g & 1) && n && n < PATH_MAX) {
            memcpy(out, st.cwd, n + 1);
            __atomic_thread_fence(__ATOMIC_ACQUIRE);
            if (__atomic_load_n(&st.cwd_gen, __ATOMIC_RELAXED) == g && out[0] == '/')
                return n;
        }
    }
    long n = hook_sys(SYS_getcwd, out, PATH_MAX, 0, 0);
    if (n <= 1 || out[0] != '/')
        return 0;
    return (size_t)n - 1;
}

void hook_cwd_changed(int pid) {
    if (pid == __atomic_load_n(&st.pid, __ATOMIC_RELAXED))
        cwd_refresh();
    else
        __atomic_store_n(&st.cwd_vfork, pid, __ATOMIC_RELAXED);
}

void hook_cwd_untrusted(int delta) {
    __atomic_add_fetch(&st.cwd_untrusted, delta, __ATOMIC_RELAXED);
    if (delta < 0)
        cwd_refresh();
}

size_t hook_fd_path(int fd, char *out) {
    char proc[48];
    if (fd < 0)
        return 0;
    hook_path_fd(proc, "/proc/self/fd/", (unsigned)fd);
    long n = hook_sys(SYS_readlinkat, AT_FDCWD, proc, out, PATH_MAX - 1);
    if (n <= 0 || out[0] != '/')
        return 0;
    out[n] = 0;
    static const char deleted[] = " (deleted)";
    size_t dl = sizeof deleted - 1;
    if ((size_t)n > dl && !memcmp(out + n - dl, deleted, dl))
        return 0;
    return (size_t)n;
}

size_t hook_abs(int dirfd, const char *path, char *out) {
    char base[PATH_MAX];
    size_t blen = 0;
    if (hook_isnull(path) || !path[0])
        return 0;
    if (path[0] != '/') {
        blen = dirfd == AT_FDCWD ? hook_cwd(base) : hook_fd_path(dirfd, base);
        if (!blen)
            return 0;
    }
    return hook_path_join(base, blen, path, out, PATH_MAX);
}

void hook_path_event(unsigned kind, int dirfd, const char *path, int err, uint32_t arg,
                     const struct stat *sb, bool dedup) {
    if (!hook_active())
        return;
    struct hook_rec r;
    char abs[PATH_MAX];
    hook_rec_init(&r, kind, err, arg);
    size_t n = hook_abs(dirfd, path, abs);
    if (!n)
        return;
    if (dedup && hook_seen(&r, abs, n))
        return;
    hook_rec_stat(&r, sb);
    hook_emit(&r, abs, n, NULL, 0);
}

void hook_path2_event(unsigned kind, int dirfd1, const char *p1, int dirfd2, const char *p2,
                      int err, uint32_t arg) {
    if (!hook_active())
        return;
    struct hook_rec r;
    char a1[PATH_MAX], a2[PATH_MAX];
    hook_rec_init(&r, kind, err, arg);
    size_t n1 = hook_abs(dirfd1, p1, a1);
    size_t n2 = hook_abs(dirfd2, p2, a2);
    if (!n1 || !n2)
        return;
    hook_emit(&r, a1, n1, a2, n2);
}

/* ---- process start ------------------------------------------------------- */

void hook_emit_argv(int pid, int argc, char *const *argv) {
    /* Chunks end at argument boundaries; an argument longer than a chunk is
     * cut (and flagged), so the collector can concatenate the chunks. */
    const size_t room = CORDON_TRACE_MAX - sizeof(struct cordon_trace_rec) - 1;
    char buf[CORDON_TRACE_MAX];
    size_t used = 0, in_chunk = 0;
    unsigned chunk = 0;
    uint16_t flags = 0;
    for (int i = 0; i <= argc; i++) {
        size_t n = i < argc && argv[i] ? strlen(argv[i]) : 0;
        if (i == argc || (in_chunk && used + 1 + n > room)) {
            struct hook_rec r;
            hook_rec_init(&r, CORDON_TRACE_ARGV, 0, chunk++);
            r.pid = pid;
            r.h.mode = (uint32_t)argc;
            r.h.size = i == argc;
            r.h.flags |= flags;
            hook_emit(&r, buf, used, NULL, 0);
            used = in_chunk = 0;
            flags = 0;
            if (i == argc)
                break;
        }
        if (n > room) {
            n = room;
            flags |= CORDON_TRACE_TRUNCATED;
        }
        if (in_chunk)
            buf[used++] = 0;
        memcpy(buf + used, argv[i] ? argv[i] : "", n);
        used += n;
        in_chunk++;
    }
}

static void on_fork_child(void) {
    int saved = errno;
    __atomic_store_n(&st.pid, hook_getpid(), __ATOMIC_RELAXED);
    if (st.active) {
        struct hook_rec r;
        hook_rec_init(&r, CORDON_TRACE_FORK, 0, (uint32_t)hook_sys(SYS_getppid, 0, 0, 0, 0));
        hook_emit(&r, NULL, 0, NULL, 0);
    }
    errno = saved;
}

/* glibc passes (argc, argv, envp) to the constructors of preloaded objects. */
__attribute__((constructor)) static void hook_ctor(int argc, char **argv, char **envp) {
    int saved = errno;
    bool active = init_once(envp ? envp : environ);
    if (st.audit || (!active && !st.enforce)) {
        errno = saved;
        return;
    }
    pthread_atfork(NULL, NULL, on_fork_child);
    if (!active) {
        errno = saved;
        return;
    }

    struct hook_rec r;
    char exe[PATH_MAX], cwd[PATH_MAX];
    hook_rec_init(&r, CORDON_TRACE_PROC, 0, (uint32_t)hook_sys(SYS_getppid, 0, 0, 0, 0));
    long n = hook_sys(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", exe, sizeof exe - 1);
    if (n < 0)
        n = 0;
    exe[n] = 0;
    /* posix_spawn's trampoline is the recorder's, not a program of the
     * build: the process is named by the static program it execs next. */
    char helper[PATH_MAX];
    bool trampoline =
        argc >= 2 && argv && argv[0] && hook_exec_helper(helper) && !strcmp(argv[0], helper);
    if (trampoline)
        n = 0;
    size_t cn = hook_cwd(cwd);
    cwd[cn] = 0;
    hook_emit(&r, exe, (size_t)n, cwd, cn);
    if (argv && argc >= 0 && !trampoline)
        hook_emit_argv(0, argc, argv);
    errno = saved;
}

/* ---- guards for the log descriptor --------------------------------------- */

/* Without the hook the log's descriptor would not be open: a program that
 * closes it (closing every fd from 3 up) gets EBADF, as it would have. */
static bool is_log_fd(int fd) {
    return fd >= 0 && fd == __atomic_load_n(&st.log_fd, __ATOMIC_RELAXED) &&
           hook_getpid() == __atomic_load_n(&st.pid, __ATOMIC_RELAXED);
}

HOOK_EXPORT int close(int fd) {
    if (is_log_fd(fd)) {
        errno = EBADF;
        return -1;
    }
    __typeof__(&close) real = REAL(close);
    if (!real)
        return (int)hook_sys(SYS_close, fd, 0, 0, 0) < 0 ? (errno = EBADF, -1) : 0;
    return real(fd);
}

/* The program takes the log's number for its own: give it up first. */
static void yield_log_fd(int fd) {
    if (is_log_fd(fd)) {
        __atomic_store_n(&st.log_fd, -1, __ATOMIC_RELEASE);
        hook_sys(SYS_close, fd, 0, 0, 0);
    }
}

HOOK_EXPORT int dup2(int oldfd, int newfd) {
    __typeof__(&dup2) real = REAL(dup2);
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    if (oldfd != newfd)
        yield_log_fd(newfd);
    return real(oldfd, newfd);
}

HOOK_EXPORT int dup3(int oldfd, int newfd, int flags) {
    __typeof__(&dup3) real = REAL(dup3);
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    if (oldfd != newfd)
        yield_log_fd(newfd);
    return real(oldfd, newfd, flags);
}

HOOK_EXPORT int close_range(unsigned lo, unsigned hi, int flags) {
    __typeof__(&close_range) real = REAL(close_range);
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    int fd = __atomic_load_n(&st.log_fd, __ATOMIC_RELAXED);
    if (!is_log_fd(fd) || (unsigned)fd < lo || (unsigned)fd > hi)
        return real(lo, hi, flags);
    /* Around the log's descriptor. */
    int r = 0;
    if ((unsigned)fd > lo)
        r = real(lo, (unsigned)fd - 1, flags);
    if (r == 0 && (unsigned)fd < hi)
        r = real((unsigned)fd + 1, hi, flags & ~CLOSE_RANGE_UNSHARE);
    return r;
}

HOOK_EXPORT void closefrom(int lo) {
    __typeof__(&closefrom) real = REAL(closefrom);
    int fd = __atomic_load_n(&st.log_fd, __ATOMIC_RELAXED);
    if (!real)
        return;
    if (!is_log_fd(fd) || fd < lo) {
        real(lo);
        return;
    }
    __typeof__(&close_range) range = REAL(close_range);
    if (fd > lo && range)
        range((unsigned)lo, (unsigned)fd - 1, 0);
    real(fd + 1);
}
