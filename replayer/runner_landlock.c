/* The landlock runner of cordon run: the policy as Landlock rules (raw
 * system calls, linux/landlock.h), applied to the command before exec.
 *
 * Enforces read (and execute) on `ro` paths, everything on `rw` and `tmpfs`
 * ones, nothing elsewhere, for every process the command starts, static or
 * not: the kernel checks it (Linux 5.13+, the best ABI the kernel offers).
 * Cannot make a path absent: a hidden path answers EACCES, and stat, access
 * and listings still see it; `tmpfs` keeps the host's directory (writable,
 * not private); a fresh HOME is a directory cordon makes under /tmp with the
 * real home unreadable; `empty` and `redirect` are refused. A hidden entry
 * inside a visible directory is carved out by granting the directory's
 * other entries one by one (Landlock grants whole trees), so that entries
 * created there later are unreachable. docs/runners.md lists the gaps.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/landlock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cordon/error.h>
#include <cordon/manifest.h>
#include <cordon/policy.h>
#include <cordon/replay.h>
#include <cordon/run.h>
#include <cordon/util.h>

#include "reaper.h"

enum access { A_RO, A_RW, A_HIDE };

struct entry {
    char *path;
    enum access access;
};

struct entries {
    struct entry *v;
    size_t n, cap;
};

static char *real_or_same(const char *path) {
    char buf[PATH_MAX];
    if (realpath(path, buf))
        return strdup(buf);
    return strdup(path);
}

static int entry_add(struct entries *es, char *path, enum access a) {
    if (!path)
        return -ENOMEM;
    /* The later rule for the same path wins. */
    for (size_t i = 0; i < es->n; i++)
        if (!strcmp(es->v[i].path, path)) {
            free(path);
            es->v[i].access = a;
            return 0;
        }
    if (cordon_grow((void **)&es->v, &es->cap, es->n + 1, sizeof *es->v) < 0) {
        free(path);
        return -ENOMEM;
    }
    es->v[es->n++] = (struct entry){.path = path, .access = a};
    return 0;
}

static int cmp_entry(const void *a, const void *b) {
    return strcmp(((const struct entry *)a)->path, ((const struct entry *)b)->path);
}

static const struct entry *entry_find(const struct entries *es, const char *path) {
    struct entry key = {.path = (char *)path};
    return bsearch(&key, es->v, es->n, sizeof *es->v, cmp_entry);
}

struct out {
    struct cordon_landlock_rule *v;
    size_t n, cap;
};

static int out_add(struct out *o, const char *path, bool write, bool list_only) {
    if (cordon_grow((void **)&o->v, &o->cap, o->n + 1, sizeof *o->v) < 0)
        return -ENOMEM;
    char *p = strdup(path);
    if (!p)
        return -ENOMEM;
    o->v[o->n++] = (struct cordon_landlock_rule){.path = p, .write = write, .list_only = list_only};
    return 0;
}

static bool is_dir_nofollow(const char *p) {
    struct stat st;
    return lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Whether an entry strictly under `path` has fewer rights than `write`
 * gives; *ret_hidden_dir: one of them is a hidden directory (whose names a
 * right to list `path` would show). */
static bool weaker_inside(const struct entries *es, const char *path, bool write,
                          bool *ret_hidden_dir) {
    bool weaker = false;
    *ret_hidden_dir = false;
    for (size_t i = 0; i < es->n; i++) {
        const struct entry *e = &es->v[i];
        if (!strcmp(e->path, path) || !cordon_path_under(e->path, path))
            continue;
        if (e->access == A_HIDE) {
            weaker = true;
            if (is_dir_nofollow(e->path))
                *ret_hidden_dir = true;
        } else if (e->access == A_RO && write) {
            weaker = true;
        }
    }
    return weaker;
}

static int carve(const struct entries *es, const char *path, bool write, struct out *o, int depth) {
    bool hidden_dir;
    if (!weaker_inside(es, path, write, &hidden_dir) || depth > 64)
        return out_add(o, path, write, false);
    /* Listing is granted to a whole tree: only where no hidden directory
     * lies beneath, whose names it would list. */
    if (!hidden_dir) {
        int r = out_add(o, path, false, true);
        if (r < 0)
            return r;
    }
    DIR *d = opendir(path);
    if (!d)
        return 0;
    struct dirent *de;
    int r = 0;
    while (r >= 0 && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char child[PATH_MAX];
        if (snprintf(child, sizeof child, "%s/%s", strcmp(path, "/") ? path : "", de->d_name) >=
            (int)sizeof child)
            continue;
        struct stat st;
        /* Landlock checks where a walk lands, never the symlink itself. */
        if (lstat(child, &st) < 0 || S_ISLNK(st.st_mode))
            continue;
        if (entry_find(es, child))
            continue; /* an entry at this very path decides for itself */
        r = carve(es, child, write, o, depth + 1);
    }
    closedir(d);
    return r;
}

static const char *const dev_rw[] = {"/dev/null",    "/dev/zero", "/dev/full", "/dev/random",
                                     "/dev/urandom", "/dev/tty",  "/dev/pts",  "/dev/ptmx"};

void cordon_landlock_rules_free(struct cordon_landlock_rule *rules, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(rules[i].path);
    free(rules);
}

int cordon_landlock_rules(const struct cordon_policy *p, const char *home, const char *extra_rw,
                          struct cordon_landlock_rule **ret, size_t *ret_n) {
    struct entries es = {0};
    struct out o = {0};
    int r = 0;
    for (size_t i = 0; i < p->n_rules && r >= 0; i++) {
        const struct cordon_rule *ru = &p->rules[i];
        switch (ru->kind) {
        case CORDON_RULE_RO:
        case CORDON_RULE_PROC:
            r = entry_add(&es, real_or_same(ru->path), A_RO);
            break;
        case CORDON_RULE_RW:
        case CORDON_RULE_TMPFS:
            r = entry_add(&es, real_or_same(ru->path), A_RW);
            break;
        case CORDON_RULE_DEV:
            r = entry_add(&es, real_or_same(ru->path), A_RO);
            for (size_t k = 0; k < CORDON_ARRAY_SIZE(dev_rw) && r >= 0; k++)
                if (!strcmp(ru->path, "/dev") && access(dev_rw[k], F_OK) == 0)
                    r = entry_add(&es, strdup(dev_rw[k]), A_RW);
            break;
        case CORDON_RULE_HIDE:
        case CORDON_RULE_DENY:
        case CORDON_RULE_EMPTY:
        case CORDON_RULE_REDIRECT: {
            /* A hide of a symlink hides the link's target here: Landlock
             * only sees where a walk lands. */
            char *rp = real_or_same(ru->path);
            if (rp && access(rp, F_OK) != 0) {
                free(rp); /* nothing there to hide */
                break;
            }
            r = entry_add(&es, rp, A_HIDE);
            break;
        }
        case CORDON_RULE_MAX:
        case CORDON_RULE_INVALID:
        default:
            break;
        }
    }
    if (r >= 0 && home && p->home == CORDON_HOME_FRESH) {
        /* The real home is unreadable; the fresh one is HOME. */
        const char *real_home = getenv("HOME");
        if (real_home && real_home[0] == '/') {
            char *rh = real_or_same(real_home);
            bool visible_rule = false; /* a rule on the very path decides */
            for (size_t i = 0; rh && i < es.n; i++)
                visible_rule |= !strcmp(es.v[i].path, rh);
            if (rh && !visible_rule && access(rh, F_OK) == 0)
                r = entry_add(&es, rh, A_HIDE);
            else
                free(rh);
        }
        if (r >= 0)
            r = entry_add(&es, real_or_same(home), A_RW);
    } else if (r >= 0 && p->home == CORDON_HOME_PATH && p->home_path) {
        r = entry_add(&es, real_or_same(p->home_path), A_RW);
    }
    if (r >= 0 && extra_rw)
        r = entry_add(&es, real_or_same(extra_rw), A_RW);
    if (r < 0)
        goto out;
    if (es.v)
        qsort(es.v, es.n, sizeof *es.v, cmp_entry);
    for (size_t i = 0; es.v && i < es.n && r >= 0; i++)
        if (es.v[i].access != A_HIDE)
            r = carve(&es, es.v[i].path, es.v[i].access == A_RW, &o, 0);
out:
    for (size_t i = 0; es.v && i < es.n; i++)
        free(es.v[i].path);
    free(es.v);
    if (r < 0) {
        cordon_landlock_rules_free(o.v, o.n);
        return r;
    }
    *ret = o.v;
    *ret_n = o.n;
    return 0;
}

/* ---- the runner ---------------------------------------------------------- */

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

/* The file-system rights an ABI knows. */
static uint64_t fs_all(int abi) {
    uint64_t all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0-12 */
    if (abi >= 2)
        all |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        all |= LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi >= 5)
        all |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
    return all;
}

#define FS_READ                                                                                    \
    (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define FS_FILE                                                                                    \
    (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |   \
     LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)

/* Landlock ABI 4's TCP rights (linux/landlock.h of Linux 6.7). */
#define LL_NET_BIND_TCP (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)

static int landlock_abi(void) {
    long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return v < 0 ? -errno : (int)v;
}

enum ll_stage { LS_NO_NEW_PRIVS, LS_RESTRICT, LS_CWD, LS_EXEC, LS_EXEC_INTERP, LS_FORK };

struct ll_failure {
    int stage;
    int err;
    int index;
};

__attribute__((noreturn)) static void ll_fail(int fd, int stage, int err, int index, int code) {
    struct ll_failure f = {.stage = stage, .err = err, .index = index};
    ssize_t w = write(fd, &f, sizeof f);
    (void)w;
    _exit(code);
}

struct ll_child {
    int ruleset;
    int err_fd;
    int status_fd;
    pid_t cordon;
    const char *cwd;
    char **candidates;
    char **sh_argv;
    char *const *argv;
    char **envp;
};

__attribute__((noreturn)) static void ll_command(const struct ll_child *c) {
    /* The keeper's death (it only dies with cordon) ends the command. */
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    cordon_signals_child_reset();
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        ll_fail(c->err_fd, LS_NO_NEW_PRIVS, errno, 0, 125);
    if (chdir(c->cwd) < 0)
        ll_fail(c->err_fd, LS_CWD, errno, 0, 125);
    if (syscall(SYS_landlock_restrict_self, c->ruleset, 0) < 0)
        ll_fail(c->err_fd, LS_RESTRICT, errno, 0, 125);
    int index;
    bool interp;
    int err = cordon_exec_search(c->candidates, c->argv, c->envp, c->sh_argv, &index, &interp);
    ll_fail(c->err_fd, interp ? LS_EXEC_INTERP : LS_EXEC, err, index, index < 0 ? 127 : 126);
}

/* The keeper: cordon's child and the command's parent. Without a pid
 * namespace nothing ends a process tree when cordon gets kill -9; the
 * keeper does: it is the subreaper of all the command starts
 * (PR_SET_CHILD_SUBREAPER) and gets SIGUSR2 when cordon dies
 * (PR_SET_PDEATHSIG), then kills what is left. It forwards kill(1)'s
 * signals as the namespace runner's init does, and ends what the command
 * left running when it exits. */
__attribute__((noreturn)) static void ll_keeper(const struct ll_child *c) {
    sigset_t set;
    cordon_reaper_sigset(&set, true);
    (void)sigprocmask(SIG_BLOCK, &set, NULL);
    (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    (void)prctl(PR_SET_PDEATHSIG, SIGUSR2, 0, 0, 0);
    if (getppid() != c->cordon)
        _exit(125); /* cordon died before the death signal was set */
    pid_t cmd = (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
    if (cmd == 0)
        ll_command(c);
    if (cmd < 0)
        ll_fail(c->err_fd, LS_FORK, errno, 0, 125);
    (void)close(c->err_fd);
    int status = cordon_reap_until(cmd, &set, c->cordon);
    cordon_kill_children();
    ssize_t wr = write(c->status_fd, &status, sizeof status);
    (void)wr;
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

static int make_ruleset(const struct cordon_policy *p, int abi, const char *home, int *ret_fd,
                        struct cordon_error *err) {
    for (size_t i = 0; i < p->n_rules; i++) {
        const struct cordon_rule *r = &p->rules[i];
        if (r->kind == CORDON_RULE_EMPTY || r->kind == CORDON_RULE_REDIRECT)
            return cordon_error_set(err, EOPNOTSUPP, r->origin ? r->origin : "command line",
                                    r->line, 0,
                                    "%s %s: the landlock runner cannot show other content at a "
                                    "path; use --backend namespace or hook",
                                    cordon_rule_kind_name(r->kind), r->path);
    }
    uint64_t all = fs_all(abi);
    /* Our own layout: the installed header may predate ABI 4's network
     * member. The size passed says which members the kernel reads. */
    struct {
        uint64_t handled_access_fs;
        uint64_t handled_access_net;
    } attr = {.handled_access_fs = all};
    size_t attr_size = sizeof attr.handled_access_fs;
    if (abi >= 4 && p->network == 0) {
        attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
        attr_size = sizeof attr;
    }
    int fd = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
    if (fd < 0)
        return cordon_error_set(err, errno, NULL, 0, 0, "cannot create a Landlock ruleset");
    struct cordon_landlock_rule *rules = NULL;
    size_t n = 0;
    int r = cordon_landlock_rules(p, home, NULL, &rules, &n);
    if (r < 0) {
        (void)close(fd);
        return cordon_error_set(err, -r, NULL, 0, 0, "cannot compute the Landlock rules");
    }
    for (size_t i = 0; i < n; i++) {
        int pfd = open(rules[i].path, O_PATH | O_CLOEXEC);
        if (pfd < 0)
            continue; /* gone since it was listed: nothing to grant */
        struct stat st;
        bool dir = fstat(pfd, &st) == 0 && S_ISDIR(st.st_mode);
        uint64_t access = rules[i].list_only ? LANDLOCK_ACCESS_FS_READ_DIR
                          : rules[i].write   ? all
                                             : FS_READ;
        if (!dir)
            access &= FS_FILE; /* directory rights on a file are invalid */
        access &= all;
        struct landlock_path_beneath_attr pb = {.allowed_access = access, .parent_fd = pfd};
        int e = access ? (int)syscall(SYS_landlock_add_rule, fd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0)
                       : 0;
        int saved = errno;
        (void)close(pfd);
        if (e < 0) {
            cordon_error_set(err, saved, rules[i].path, 0, 0,
                             "cannot add the Landlock rule for '%s'", rules[i].path);
            cordon_landlock_rules_free(rules, n);
            (void)close(fd);
            return -saved;
        }
    }
    cordon_landlock_rules_free(rules, n);
    *ret_fd = fd;
    return 0;
}

int cordon_run_host_landlock(const struct cordon_host_run_spec *spec, int *ret_status,
                             struct cordon_error *err) {
    const struct cordon_policy *pol = spec->policy;
    int abi = landlock_abi();
    if (abi <= 0) {
        int e = abi < 0 ? -abi : ENOSYS;
        cordon_error_set(err, e, NULL, 0, 0, "this kernel does not offer Landlock%s",
                         e == EOPNOTSUPP ? " (built in but not enabled: add landlock to the lsm= "
                                           "boot parameter)"
                         : e == ENOSYS
                             ? " (Linux 5.13 or later built with CONFIG_SECURITY_LANDLOCK)"
                             : "");
        return CORDON_RUN_SETUP_FAILED;
    }
    char home[PATH_MAX] = "";
    int r = 0, ruleset = -1, errp[2] = {-1, -1}, statp[2] = {-1, -1};
    struct ll_child c = {.ruleset = -1, .err_fd = -1, .status_fd = -1, .cordon = getpid()};
    if (pol->home == CORDON_HOME_FRESH) {
        (void)snprintf(home, sizeof home, "/tmp/cordon-home-XXXXXX");
        if (!mkdtemp(home)) {
            cordon_error_set(err, errno, "/tmp", 0, 0, "cannot make a fresh HOME under '/tmp'");
            home[0] = '\0';
            r = CORDON_RUN_SETUP_FAILED;
            goto out;
        }
    }
    r = make_ruleset(pol, abi, home[0] ? home : NULL, &ruleset, err);
    if (r < 0) {
        r = CORDON_RUN_SETUP_FAILED;
        goto out;
    }
    const char *home_dir = pol->home == CORDON_HOME_PATH ? pol->home_path : home[0] ? home : NULL;
    r = cordon_policy_apply_env(pol, spec->envp ? spec->envp : (char *const[]){NULL}, home_dir,
                                &c.envp);
    if (r < 0) {
        r = cordon_error_set(err, -r, NULL, 0, 0, "cannot apply the policy's environment");
        goto out;
    }
    r = cordon_exec_candidates(spec->argv[0], c.envp, &c.candidates);
    if (r < 0) {
        r = cordon_error_set(err, -r, NULL, 0, 0, "cannot search for '%s'", spec->argv[0]);
        goto out;
    }
    size_t argc = cordon_strv_length(spec->argv);
    c.sh_argv = calloc(argc + 2, sizeof *c.sh_argv);
    if (!c.sh_argv) {
        r = cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
        goto out;
    }
    c.sh_argv[0] = (char *)"/bin/sh";
    for (size_t i = 1; i < argc; i++)
        c.sh_argv[i + 1] = spec->argv[i];
    c.argv = spec->argv;
    c.ruleset = ruleset;
    char cwdbuf[PATH_MAX];
    c.cwd = spec->cwd ? spec->cwd : getcwd(cwdbuf, sizeof cwdbuf) ? cwdbuf : "/";
    if (pipe2(errp, O_CLOEXEC) < 0 || pipe2(statp, O_CLOEXEC) < 0) {
        r = cordon_error_set(err, errno, NULL, 0, 0, "cannot create a pipe");
        goto out;
    }
    c.err_fd = errp[1];
    c.status_fd = statp[1];
    struct cordon_sigblock sb;
    if ((r = cordon_signals_block(&sb)) < 0) {
        cordon_error_set(err, -r, NULL, 0, 0, "cannot block signals");
        goto out;
    }
    pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid == 0)
        ll_keeper(&c);
    int fork_errno = errno;
    (void)close(TAKE_FD(errp[1]));
    (void)close(TAKE_FD(statp[1]));
    if (pid < 0) {
        cordon_signals_restore(&sb);
        r = cordon_error_set(err, fork_errno, NULL, 0, 0, "cannot fork the command");
        goto out;
    }
    struct ll_failure f;
    ssize_t n;
    while ((n = read(errp[0], &f, sizeof f)) < 0 && errno == EINTR)
        ;
    int status = 0;
    int w = cordon_wait_forwarding(pid, &status);
    cordon_signals_restore(&sb);
    if (n == (ssize_t)sizeof f) {
        int e = f.err > 0 ? f.err : EIO;
        switch ((enum ll_stage)f.stage) {
        case LS_EXEC:
            if (f.index < 0 || e == ENOENT) {
                cordon_error_set(err, ENOENT, spec->argv[0], 0, 0, "'%s' not found", spec->argv[0]);
                r = -ENOENT;
            } else {
                cordon_error_set(err, e, c.candidates[f.index], 0, 0, "cannot execute '%s'%s",
                                 c.candidates[f.index],
                                 e == EACCES ? " (is it visible through the policy?)" : "");
                r = -EACCES;
            }
            break;
        case LS_EXEC_INTERP:
            cordon_error_set(err, ENOENT, c.candidates[f.index], 0, 0,
                             "cannot execute '%s': its interpreter is missing",
                             c.candidates[f.index]);
            r = -EACCES;
            break;
        case LS_NO_NEW_PRIVS:
            cordon_error_set(err, e, NULL, 0, 0, "cannot set PR_SET_NO_NEW_PRIVS");
            r = CORDON_RUN_SETUP_FAILED;
            break;
        case LS_RESTRICT:
            cordon_error_set(err, e, NULL, 0, 0, "cannot apply the Landlock ruleset");
            r = CORDON_RUN_SETUP_FAILED;
            break;
        case LS_FORK:
            cordon_error_set(err, e, NULL, 0, 0, "cannot fork the command");
            r = CORDON_RUN_SETUP_FAILED;
            break;
        case LS_CWD:
            cordon_error_set(err, e, c.cwd, 0, 0, "cannot change to the working directory '%s'",
                             c.cwd);
            r = CORDON_RUN_SETUP_FAILED;
            break;
        default:
            cordon_error_set(err, e, NULL, 0, 0, "the landlock runner failed (step %d)", f.stage);
            r = CORDON_RUN_SETUP_FAILED;
        }
        goto out;
    }
    if (w < 0) {
        r = cordon_error_set(err, -w, NULL, 0, 0, "cannot wait for the command");
        goto out;
    }
    int cmd_status;
    while ((n = read(statp[0], &cmd_status, sizeof cmd_status)) < 0 && errno == EINTR)
        ;
    /* No status: the keeper itself was killed; its own status says how. */
    *ret_status = n == (ssize_t)sizeof cmd_status ? cmd_status : status;
    r = 0;
out:
    for (int i = 0; i < 2; i++) {
        if (errp[i] >= 0)
            (void)close(errp[i]);
        if (statp[i] >= 0)
            (void)close(statp[i]);
    }
    if (ruleset >= 0)
        (void)close(ruleset);
    cordon_strv_free(c.candidates);
    cordon_strv_free(c.envp);
    free(c.sh_argv);
    if (home[0])
        (void)cordon_rm_rf(home);
    return r;
}
