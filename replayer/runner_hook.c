/* The hook runner of `cordon run`: the recorder's hook enforces the policy
 * in every dynamically linked process (LD_PRELOAD, and LD_AUDIT for the
 * loader's own library searches), and the recorder's seccomp supervisor
 * enforces it in static programs and Go programs, which the hook cannot
 * see. It needs no kernel feature for the first half; the second needs
 * seccomp user notification (Linux 5.0, ADDFD 5.14).
 *
 * Outline:
 *   1. a private directory (under $TMPDIR or /tmp, removed after): the
 *      compiled policy the hook maps (see recorder/hook/enforce.h), the
 *      directories `empty` and `tmpfs` rules point at, a fresh HOME;
 *   2. the environment: the policy's rules applied, HOME, LD_PRELOAD (and
 *      LD_AUDIT where the policy hides a library) with the hook in front of
 *      the caller's entries,
 *      CORDON_POLICY, CORDON_NOTIFY when a supervisor runs;
 *   3. the command started with recorder/launch.c (a static command under
 *      the supervisor's filter, any other with io_uring refused tree-wide,
 *      since no one would see a ring's opens), waited for with the signals
 *      forwarded; the status returned.
 *
 * docs/hook-runner.md says what this enforces, observes, requires and
 * misses, with the escape suite's table. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include <cordon/policy.h>
#include <cordon/replay.h>
#include <cordon/run.h>
#include <cordon/trace.h>
#include <cordon/util.h>

#include "reaper.h"

#include "../recorder/hook/enforce.h"
#include "../recorder/launch.h"
#include "../recorder/trace_seccomp.h"

/* The runner's private state: what is removed after the run. */
struct hook_run {
    char dir[PATH_MAX];    /* the private directory */
    char policy[PATH_MAX]; /* DIR/policy */
    char home[PATH_MAX];   /* a fresh HOME, "" otherwise */
    unsigned n_dirs;       /* empty-N and tmpfs-N made so far */
};

static int put_rule(FILE *f, const char *kind, const char *view, const char *host) {
    /* The compiled format has no quoting: a tab or newline in a path would
     * make another rule. */
    if (strpbrk(view, "\t\n") || strpbrk(host, "\t\n"))
        return -EINVAL;
    return fprintf(f, "%s\t%s\t%s\n", kind, view, host) < 0 ? -EIO : 0;
}

/* A new empty directory DIR/NAME-N for an `empty` or `tmpfs` rule. */
static int private_dir(struct hook_run *hr, const char *name, unsigned mode, char *out,
                       size_t size) {
    int n = snprintf(out, size, "%s/%s-%u", hr->dir, name, ++hr->n_dirs);
    if (n < 0 || (size_t)n >= size)
        return -ENAMETOOLONG;
    if (mkdir(out, mode) < 0)
        return -errno;
    return 0;
}

/* The host path `path` names once every symlink on it is followed: the
 * whole path where it exists, else its deepest existing parent's with the
 * rest appended. False when nothing of it resolves. */
static bool host_real_path(const char *path, char *out, size_t size) {
    char buf[PATH_MAX];
    if ((size_t)snprintf(buf, sizeof buf, "%s", path) >= sizeof buf)
        return false;
    size_t len = strlen(buf);
    for (;;) {
        char resolved[PATH_MAX];
        if (realpath(buf, resolved)) {
            const char *rest = path + len;
            return (size_t)snprintf(out, size, "%s%s", strcmp(resolved, "/") ? resolved : "",
                                    *rest ? rest : (strcmp(resolved, "/") ? "" : "/")) < size;
        }
        char *slash = strrchr(buf, '/');
        if (!slash || slash == buf)
            return false;
        *slash = '\0';
        len = (size_t)(slash - buf);
    }
}

/* Write the compiled policy. Host targets of the rules that move a path
 * come first, as rules of their own: a dynamic program that joins the
 * supervisor (it spawned a static one) names them after the hook's
 * translation, and they must stay reachable there. The policy's own rules
 * follow in load order, so the last on a path still wins. */
static int compile_policy(struct hook_run *hr, const struct cordon_policy *p, const char *hook,
                          struct cordon_error *err) {
    size_t n = p->n_rules;
    char(*host)[PATH_MAX] = calloc(n ? n : 1, sizeof *host);
    if (!host)
        return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    const char **kind = calloc(n ? n : 1, sizeof *kind);
    if (!kind) {
        free(host);
        return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    }
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        const struct cordon_rule *rule = &p->rules[i];
        struct stat st;
        snprintf(host[i], PATH_MAX, "%s", rule->path);
        switch (rule->kind) {
        case CORDON_RULE_RO:
            kind[i] = "ro";
            break;
        case CORDON_RULE_RW:
            kind[i] = "rw";
            break;
        case CORDON_RULE_HIDE:
            kind[i] = "hide";
            break;
        case CORDON_RULE_DENY:
            kind[i] = "deny";
            break;
        case CORDON_RULE_EMPTY:
            kind[i] = "ro";
            if (stat(rule->path, &st) == 0 && S_ISDIR(st.st_mode))
                r = private_dir(hr, "empty", 0555, host[i], PATH_MAX);
            else
                snprintf(host[i], PATH_MAX, "/dev/null");
            break;
        case CORDON_RULE_REDIRECT:
            kind[i] = "ro";
            snprintf(host[i], PATH_MAX, "%s", rule->to ? rule->to : "/dev/null");
            break;
        case CORDON_RULE_TMPFS:
            kind[i] = "rw";
            r = private_dir(hr, "tmpfs", 0700, host[i], PATH_MAX);
            break;
        case CORDON_RULE_DEV:  /* the host's /dev: the hook cannot make a smaller one */
        case CORDON_RULE_PROC: /* the host's /proc: no pid namespace here */
            kind[i] = "rw";
            break;
        case CORDON_RULE_MAX:
        case CORDON_RULE_INVALID:
        default:
            r = -EINVAL;
            break;
        }
        if (r < 0)
            r = cordon_error_set(err, -r, rule->path, rule->line, 0,
                                 "cannot prepare the rule on '%s' for the hook", rule->path);
    }
    FILE *f = NULL;
    if (r == 0) {
        int fd = open(hr->policy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        f = fd < 0 ? NULL : fdopen(fd, "w");
        if (!f) {
            r = cordon_error_set(err, errno, hr->policy, 0, 0, "cannot write the policy '%s'",
                                 hr->policy);
            if (fd >= 0)
                close(fd);
        }
    }
    for (size_t i = 0; i < n && r == 0; i++)
        if (strcmp(host[i], p->rules[i].path) != 0)
            r = put_rule(f, kind[i], host[i], host[i]);
    for (size_t i = 0; i < n && r == 0; i++) {
        r = put_rule(f, kind[i], p->rules[i].path, host[i]);
        /* The same rule on the path the host's symlinks lead to (merged
         * /usr: a rule on /lib/x must hold for /usr/lib/x), right after it
         * so that load order still decides. */
        /* Both the name itself through its parent's links and what it
         * finally points to: hiding a library's symlink hides its name and
         * its file. */
        const char *path = p->rules[i].path;
        bool moved = strcmp(host[i], path) != 0;
        char real[2][PATH_MAX];
        bool have[2] = {false, false};
        const char *slash = strrchr(path, '/');
        if (slash && slash != path && slash[1]) {
            char parent[PATH_MAX];
            snprintf(parent, sizeof parent, "%.*s", (int)(slash - path), path);
            char rp[PATH_MAX];
            have[0] = host_real_path(parent, rp, sizeof rp) &&
                      (size_t)snprintf(real[0], PATH_MAX, "%s%s", strcmp(rp, "/") ? rp : "",
                                       slash) < PATH_MAX;
        }
        have[1] = host_real_path(path, real[1], PATH_MAX);
        if (have[0] && have[1] && !strcmp(real[0], real[1]))
            have[1] = false;
        for (int k = 0; k < 2 && r == 0; k++)
            if (have[k] && strcmp(real[k], path) != 0)
                r = put_rule(f, kind[i], real[k], moved ? host[i] : real[k]);
    }
    /* HOME is read-write whatever the rules say: it was asked for. */
    if (r == 0 && hr->home[0])
        r = put_rule(f, "rw", hr->home, hr->home);
    if (r == 0 && p->home == CORDON_HOME_PATH && p->home_path)
        r = put_rule(f, "rw", p->home_path, p->home_path);
    /* cordon's own directory of private programs (the hook, which the
     * loader maps into every process, and its helpers) stays readable
     * whatever the policy hides: without it nothing would be enforced. */
    char hookdir[PATH_MAX];
    if (r == 0 && hook && realpath(hook, hookdir)) {
        char *slash = strrchr(hookdir, '/');
        if (slash && slash != hookdir) {
            *slash = '\0';
            r = put_rule(f, "ro", hookdir, hookdir);
        }
    }
    if (f && fclose(f) != 0 && r == 0)
        r = -errno;
    if (r < 0 && err && !err->code)
        r = cordon_error_set(err, -r, hr->policy, 0, 0, "cannot write the policy '%s'", hr->policy);
    free(host);
    free(kind);
    return r;
}

/* "NAME=hook" or "NAME=hook:old" (the caller's entries kept behind ours). */
static int prepend_env(char ***envp, const char *name, const char *hook) {
    size_t nl = strlen(name);
    const char *old = NULL;
    for (char **e = *envp; e && *e; e++)
        if (!strncmp(*e, name, nl) && (*e)[nl] == '=')
            old = *e + nl + 1;
    char *v = NULL;
    if (old && *old) {
        if (asprintf(&v, "%s:%s", hook, old) < 0)
            return -ENOMEM;
    } else if (!(v = strdup(hook))) {
        return -ENOMEM;
    }
    int r = cordon_env_set(envp, name, v);
    free(v);
    return r;
}

/* Room for large TLS blocks under the audit module (util.h). */
static int audit_tunables(char ***envp) {
    char *v = cordon_audit_tunables(cordon_env_get(*envp, "GLIBC_TUNABLES"));
    if (!v)
        return -ENOMEM;
    int r = cordon_env_set(envp, "GLIBC_TUNABLES", v);
    free(v);
    return r;
}

/* Does the policy take a library away from the dynamic loader? Its own
 * searches (DT_NEEDED, dlopen by name) pass no wrapper; only LD_AUDIT sees
 * them, at the price of a second libc in every process (about 2% of a
 * build), so it is loaded only where a rule could hide, deny or replace a
 * library or a library directory. */
static bool policy_touches_libraries(const struct cordon_policy *p) {
    for (size_t i = 0; i < p->n_rules; i++) {
        const struct cordon_rule *r = &p->rules[i];
        if (r->kind != CORDON_RULE_HIDE && r->kind != CORDON_RULE_DENY &&
            r->kind != CORDON_RULE_EMPTY && r->kind != CORDON_RULE_REDIRECT)
            continue;
        const char *base = strrchr(r->path, '/');
        if (base && strstr(base, ".so"))
            return true;
        static const char *const libdirs[] = {"/lib",           "/lib32",          "/lib64",
                                              "/usr/lib",       "/usr/lib32",      "/usr/lib64",
                                              "/usr/local/lib", "/usr/local/lib64"};
        for (size_t k = 0; k < sizeof libdirs / sizeof libdirs[0]; k++)
            if (cordon_path_under(r->path, libdirs[k]) || cordon_path_under(libdirs[k], r->path))
                return true;
    }
    return false;
}

static void strv_free(char **v) {
    for (char **e = v; e && *e; e++)
        free(*e);
    free(v);
}

/* Is the command itself something the policy lets run? The hook is not in
 * cordon, so cordon asks the same question of the same rules. */
static int check_command(const char *policy, const char *program, struct cordon_error *err) {
    FILE *f = fopen(policy, "re");
    if (!f)
        return cordon_error_set(err, errno, policy, 0, 0, "cannot read the policy '%s'", policy);
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        cordon_strbuf_addn(&sb, buf, got);
    fclose(f);
    struct hook_rules *rules = malloc(sizeof *rules);
    struct hook_resolved *res = malloc(sizeof *res);
    int r = 0;
    unsigned line = 0;
    if (!rules || !res || sb.failed) {
        r = cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    } else if (hook_rules_parse(rules, sb.buf, sb.len, &line) < 0) {
        r = cordon_error_set(err, EINVAL, policy, (int)line, 0, "not a compiled policy");
    } else {
        int e = hook_enforce_resolve(rules, NULL, program, 0, 0, res);
        if (e)
            r = cordon_error_set(err, e == EACCES ? EACCES : ENOENT, program, 0, 0,
                                 "cannot run '%s': %s by the policy", program,
                                 e == EACCES ? "denied" : "hidden");
    }
    free(rules);
    free(res);
    cordon_strbuf_release(&sb);
    return r;
}

/* ---- the keeper ---------------------------------------------------------
 * Without a pid namespace nothing ends a process tree when cordon gets
 * kill -9. The keeper, cordon's child and the command's parent, does: it is
 * the subreaper of all the command starts (PR_SET_CHILD_SUBREAPER), gets
 * SIGUSR2 when cordon dies (PR_SET_PDEATHSIG) and then kills what is left.
 * It forwards kill(1)'s signals, and ends what the command left running
 * when it exits, as the namespace runner's init does (the landlock runner
 * has the same shape). Forked from a process with the supervisor's thread:
 * it allocates nothing. */

struct keeper {
    const char *program;
    char *const *argv;
    char *const *envp;
    const char *notify;
    bool uring_only;
    pid_t cordon;
    int status_fd;
};

struct keeper_msg {
    int err;    /* the start: 0 or an errno */
    int status; /* the end: the command's wait status */
};

static int read_msg(int fd, struct keeper_msg *m) {
    ssize_t n;
    do
        n = read(fd, m, sizeof *m);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof *m ? 0 : -EIO;
}

__attribute__((noreturn)) static void run_keeper(const struct keeper *k) {
    sigset_t set;
    cordon_reaper_sigset(&set, true);
    (void)sigprocmask(SIG_BLOCK, &set, NULL);
    (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    (void)prctl(PR_SET_PDEATHSIG, SIGUSR2, 0, 0, 0);
    if (getppid() != k->cordon)
        _exit(125); /* cordon died before the death signal was set */
    pid_t cmd = 0;
    struct keeper_msg m = {0};
    int r =
        launch_spawn_observed(k->program, k->argv, k->envp, k->notify, k->uring_only, &cmd, NULL);
    m.err = r < 0 ? -r : 0;
    (void)!write(k->status_fd, &m, sizeof m);
    if (r < 0)
        _exit(125);
    m.status = cordon_reap_until(cmd, &set, k->cordon);
    cordon_kill_children();
    (void)!write(k->status_fd, &m, sizeof m);
    _exit(WIFEXITED(m.status) ? WEXITSTATUS(m.status) : 128 + WTERMSIG(m.status));
}

int cordon_run_host_hook(const struct cordon_host_run_spec *spec, int *ret_status,
                         struct cordon_error *err) {
    const struct cordon_policy *p = spec->policy;
    if (!spec->hook || spec->hook[0] != '/')
        return cordon_error_set(err, EINVAL, NULL, 0, 0, "the hook runner needs the hook library");
    struct hook_run hr = {0};
    const char *tmp = getenv("TMPDIR");
    if (!tmp || tmp[0] != '/')
        tmp = "/tmp";
    if (snprintf(hr.dir, sizeof hr.dir, "%s/cordon-run-XXXXXX", tmp) >= (int)sizeof hr.dir)
        return cordon_error_set(err, ENAMETOOLONG, tmp, 0, 0, "TMPDIR '%s' is too long", tmp);
    if (!mkdtemp(hr.dir))
        return cordon_error_set(err, errno, hr.dir, 0, 0,
                                "cannot make the runner's private directory in '%s'", tmp);
    (void)snprintf(hr.policy, sizeof hr.policy, "%s/policy", hr.dir);

    int r = 0;
    char **env = NULL;
    struct seccomp_supervisor *sup = NULL;
    if (p->home == CORDON_HOME_FRESH) {
        (void)snprintf(hr.home, sizeof hr.home, "%s/home", hr.dir);
        if (mkdir(hr.home, 0700) < 0) {
            r = cordon_error_set(err, errno, hr.home, 0, 0, "cannot make the fresh HOME '%s'",
                                 hr.home);
            goto out;
        }
    }
    if ((r = compile_policy(&hr, p, spec->hook, err)) < 0)
        goto out;

    /* The complete path, where the kernel has it: the supervisor enforces
     * the same compiled policy in the programs the hook cannot see. */
    if (seccomp_supported() == 0)
        (void)seccomp_supervisor_start_enforcing(-1, hr.policy, &sup);

    if (cordon_policy_apply_env(p, spec->envp, hr.home[0] ? hr.home : NULL, &env) < 0 ||
        prepend_env(&env, "LD_PRELOAD", spec->hook) < 0 ||
        (policy_touches_libraries(p) &&
         (prepend_env(&env, "LD_AUDIT", spec->hook) < 0 || audit_tunables(&env) < 0)) ||
        cordon_env_set(&env, CORDON_ENV_POLICY, hr.policy) < 0 ||
        cordon_env_set(&env, CORDON_ENV_HOOK, spec->hook) < 0 ||
        (sup && cordon_env_set(&env, CORDON_ENV_NOTIFY, seccomp_supervisor_path(sup)) < 0)) {
        r = cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
        goto out;
    }

    char cwd[PATH_MAX];
    if (spec->cwd)
        (void)snprintf(cwd, sizeof cwd, "%s", spec->cwd);
    else if (!getcwd(cwd, sizeof cwd)) {
        r = cordon_error_set(err, errno, NULL, 0, 0, "cannot get the working directory");
        goto out;
    }
    char program[PATH_MAX];
    /* PATH as the command will have it: the policy may set it */
    const char *path_env = NULL;
    for (char **e = env; *e; e++)
        if (!strncmp(*e, "PATH=", 5))
            path_env = *e + 5;
    /* launch_find searches $PATH: the command's, for the moment of it */
    const char *old_path = getenv("PATH");
    char *saved_path = old_path ? strdup(old_path) : NULL;
    if (path_env && setenv("PATH", path_env, 1) < 0) {
        free(saved_path);
        r = cordon_error_set(err, errno, NULL, 0, 0, "cannot set PATH");
        goto out;
    }
    r = launch_find(spec->argv[0], cwd, program, sizeof program, NULL, NULL);
    if (saved_path)
        (void)setenv("PATH", saved_path, 1);
    else if (path_env)
        (void)unsetenv("PATH");
    free(saved_path);
    if (r < 0) {
        r = cordon_error_set(err, -r, spec->argv[0], 0, 0, "cannot run '%s'", spec->argv[0]);
        goto out;
    }
    if ((r = check_command(hr.policy, program, err)) < 0)
        goto out;
    bool is_static = seccomp_is_static(program);
    if (is_static && !sup) {
        (void)cordon_error_set(err, ENOSYS, program, 0, 0,
                               "'%s' is a static program and this kernel has no seccomp user "
                               "notification: the hook cannot enforce the policy in it",
                               program);
        r = CORDON_RUN_SETUP_FAILED;
        goto out;
    }

    /* The command starts in its working directory: launch_spawn_observed
     * inherits ours, so cordon moves there and back around the fork. */
    int here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (here < 0 || chdir(cwd) < 0) {
        r = cordon_error_set(err, errno, cwd, 0, 0, "cannot change to '%s'", cwd);
        if (here >= 0)
            close(here);
        goto out;
    }
    struct cordon_sigblock sb;
    if ((r = cordon_signals_block(&sb)) < 0) {
        r = cordon_error_set(err, -r, NULL, 0, 0, "cannot block signals");
        (void)!fchdir(here);
        close(here);
        goto out;
    }
    unsigned long before = seccomp_supervisor_observed(sup);
    /* What steps around a path policy (mounts, new user or mount
     * namespaces, io_uring) is refused in the whole tree: installed here,
     * in cordon's main thread, which only waits from now on, and inherited
     * by the keeper and the command. */
    seccomp_set_enforcing(true);
    bool fenced = seccomp_refuse_escapes(p->network == 0) == 0;
    struct keeper k = {
        .program = program,
        .argv = spec->argv,
        .envp = env,
        .notify = is_static && sup ? seccomp_supervisor_path(sup) : NULL,
        .uring_only = !is_static && !fenced,
        .cordon = getpid(),
    };
    int kp[2];
    pid_t keeper = -1;
    if (pipe2(kp, O_CLOEXEC) < 0) {
        r = cordon_error_set(err, errno, NULL, 0, 0, "cannot create a pipe");
    } else if ((keeper = fork()) < 0) {
        r = cordon_error_set(err, errno, NULL, 0, 0, "cannot fork");
        close(kp[0]);
        close(kp[1]);
    } else if (keeper == 0) {
        close(kp[0]);
        k.status_fd = kp[1];
        run_keeper(&k);
    } else {
        close(kp[1]);
    }
    (void)!fchdir(here);
    close(here);
    /* The keeper says first how the start went, then the status. */
    struct keeper_msg started = {.err = EIO};
    if (keeper > 0 && r == 0 && read_msg(kp[0], &started) == 0 && started.err) {
        r = cordon_error_set(err, started.err, spec->argv[0], 0, 0, "cannot run '%s'",
                             spec->argv[0]);
    } else if (keeper > 0 && r == 0 && is_static && seccomp_supervisor_observed(sup) == before) {
        /* the filter did not take: the program runs outside the policy */
        (void)kill(keeper, SIGKILL);
        (void)cordon_error_set(err, ENOSYS, program, 0, 0,
                               "'%s' is a static program and it could not be put under the "
                               "supervisor: the policy would not hold in it",
                               program);
        r = CORDON_RUN_SETUP_FAILED;
    }
    if (keeper > 0) {
        int kstatus = 0;
        int w = r == 0 ? cordon_wait_forwarding(keeper, &kstatus) : 0;
        if (r != 0)
            while (waitpid(keeper, &kstatus, 0) < 0 && errno == EINTR)
                ;
        struct keeper_msg done;
        if (r == 0 && w < 0)
            r = cordon_error_set(err, -w, NULL, 0, 0, "cannot wait for the command");
        else if (r == 0)
            /* no message: the keeper itself was killed; its status says how */
            *ret_status = read_msg(kp[0], &done) == 0 ? done.status : kstatus;
        close(kp[0]);
    }
    cordon_signals_restore(&sb);
out:
    /* Processes the command left behind under the filter now get ENOSYS. */
    seccomp_supervisor_stop(sup);
    strv_free(env);
    (void)cordon_rm_rf(hr.dir);
    return r < 0 ? r : 0;
}
