/* cordon record: snapshot, launch under the hook, wait, collect, write.
 *
 * The recording must survive the recorder: before the command starts, a
 * watcher process is forked that holds one end of a pipe. If the recorder
 * dies without saying "done" on it (kill -9), the watcher waits for the
 * command to end and writes the manifest from the log itself, marked
 * unfinished. The log is appended to by the build's own processes, so
 * nothing the build did is lost with the recorder.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cordon/error.h>
#include <cordon/manifest.h>
#include <cordon/record.h>
#include <cordon/classify.h>
#include <cordon/store.h>
#include <cordon/trace.h>
#include <cordon/util.h>

#include "ahead.h"
#include "collect.h"
#include "launch.h"
#include "trace_seccomp.h"

extern char **environ;

/* A snapshot of a work tree larger than this is cut short (and says so in
 * coverage): recording from $HOME must not copy $HOME into the store. */
#define SNAPSHOT_LIMIT (2ULL << 30)

static volatile sig_atomic_t child_pid;

static inline void strv_freep(char ***v) {
    cordon_strv_free(*v);
}

static void forward_signal(int sig) {
    if (child_pid > 0)
        (void)kill(child_pid, sig);
}

/* "NAME=VALUE" with VALUE replaced for secrets. New, or NULL. */
static char *redacted_entry(const char *kv) {
    const char *eq = strchr(kv, '=');
    if (!eq)
        return strdup(kv);
    char name[256];
    size_t n = (size_t)(eq - kv);
    if (n >= sizeof name)
        return strdup(kv);
    memcpy(name, kv, n);
    name[n] = '\0';
    if (!cordon_env_is_secret(name))
        return strdup(kv);
    char *out = NULL;
    return asprintf(&out, "%s=<redacted>", name) < 0 ? NULL : out;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The command's environment as recorded: sorted, secrets redacted, and
 * without the recorder's own variables. */
static char **recorded_env(char *const *env) {
    size_t n = cordon_strv_length(env), k = 0;
    char **v = calloc(n + 1, sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (!strncmp(env[i], CORDON_ENV_LOG "=", strlen(CORDON_ENV_LOG) + 1) ||
            !strncmp(env[i], CORDON_ENV_HOOK "=", strlen(CORDON_ENV_HOOK) + 1) ||
            !strncmp(env[i], CORDON_ENV_NOTIFY "=", strlen(CORDON_ENV_NOTIFY) + 1))
            continue;
        v[k] = redacted_entry(env[i]);
        if (!v[k])
            return cordon_strv_free(v);
        k++;
    }
    qsort(v, k, sizeof *v, cmp_str);
    return v;
}

/* Put `hook` first in a colon-separated variable's value. New, or NULL. */
static char *prepend(const char *name, const char *hook) {
    const char *old = getenv(name);
    char *out = NULL;
    int r = old && *old ? asprintf(&out, "%s=%s:%s", name, hook, old)
                        : asprintf(&out, "%s=%s", name, hook);
    return r < 0 ? NULL : out;
}

/* `name` beside the hook, in `out` (PATH_MAX bytes): its LD_AUDIT module or
 * its posix_spawn trampoline. False when the hook's path has no directory
 * or the result does not fit. */
static bool beside_hook(const char *hook, const char *name, char *out) {
    const char *slash = strrchr(hook, '/');
    if (!slash)
        return false;
    int n = snprintf(out, PATH_MAX, "%.*s/%s", (int)(slash - hook), hook, name);
    return n > 0 && n < PATH_MAX;
}

/* The LD_AUDIT module: the libc-free one beside the hook (audit_module.c),
 * or, in a tree that lacks it, the hook itself, which also audits. */
static const char *audit_module(const char *hook, char *buf) {
    return beside_hook(hook, CORDON_AUDIT_MODULE, buf) && access(buf, R_OK) == 0 ? buf : hook;
}

/* The command's environment: ours, with the hook's contract added (and the
 * supervisor's socket, when `notify` is not NULL). */
static char **hooked_env(const char *hook, const char *log, bool audit, const char *notify) {
    size_t n = cordon_strv_length(environ), k = 0;
    char **v = calloc(n + 7, sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const char *e = environ[i];
        if (!strncmp(e, "LD_PRELOAD=", 11) || (audit && !strncmp(e, "LD_AUDIT=", 9)) ||
            !strncmp(e, CORDON_ENV_LOG "=", strlen(CORDON_ENV_LOG) + 1) ||
            !strncmp(e, CORDON_ENV_HOOK "=", strlen(CORDON_ENV_HOOK) + 1) ||
            !strncmp(e, CORDON_ENV_NOTIFY "=", strlen(CORDON_ENV_NOTIFY) + 1) ||
            (audit && !strncmp(e, "GLIBC_TUNABLES=", 15)))
            continue;
        if (!(v[k++] = strdup(e)))
            return cordon_strv_free(v);
    }
    if (!(v[k++] = prepend("LD_PRELOAD", hook)))
        return cordon_strv_free(v);
    char module[PATH_MAX];
    if (audit && !(v[k++] = prepend("LD_AUDIT", audit_module(hook, module))))
        return cordon_strv_free(v);
    if (audit) {
        char *t = cordon_audit_tunables(getenv("GLIBC_TUNABLES"));
        int r = t ? asprintf(&v[k], "GLIBC_TUNABLES=%s", t) : -1;
        free(t);
        if (r < 0) {
            v[k] = NULL;
            return cordon_strv_free(v);
        }
        k++;
    }
    if (asprintf(&v[k++], "%s=%s", CORDON_ENV_LOG, log) < 0) {
        v[k - 1] = NULL;
        return cordon_strv_free(v);
    }
    if (asprintf(&v[k++], "%s=%s", CORDON_ENV_HOOK, hook) < 0) {
        v[k - 1] = NULL;
        return cordon_strv_free(v);
    }
    if (notify && asprintf(&v[k++], "%s=%s", CORDON_ENV_NOTIFY, notify) < 0) {
        v[k - 1] = NULL;
        return cordon_strv_free(v);
    }
    return v;
}

struct session {
    const struct cordon_record_options *opts;
    char output[PATH_MAX];
    char log[PATH_MAX];
    char worktree[PATH_MAX];
    char cwd[PATH_MAX];
    char store[PATH_MAX];
    char owners_index[PATH_MAX + 8]; /* the store's index/: dpkg's database as one file */
    struct cordon_snapshot *snapshot;
    bool snapshot_cut;
    int64_t start_ns;
    int seccomp_err; /* why --complete could not be had (a positive errno), or 0 */
    /* The recorder's own files, beside the hook: no inputs of the build,
     * though the complete path sees the loader open them. */
    char module[PATH_MAX];
    char helper[PATH_MAX];
    const char *ignore[5];
    struct ahead *ahead; /* the work done while the build runs, or NULL */
};

static void recorder_files(struct session *s) {
    const char *hook = s->opts->hook ? s->opts->hook : "";
    (void)beside_hook(hook, CORDON_AUDIT_MODULE, s->module);
    (void)beside_hook(hook, CORDON_EXEC_HELPER, s->helper);
    const char *ignore[] = {s->log, s->output, hook, s->module, s->helper};
    memcpy(s->ignore, ignore, sizeof ignore);
}

/* Collect the log and write the manifest; `status` is the command's, or
 * `finished` false when nobody saw it end. */
static int finish(struct session *s, pid_t root, int status, bool finished,
                  struct cordon_error *err) {
    struct collector_config cfg = {.ignore = s->ignore, .n_ignore = 5, .ahead = s->ahead};
    struct cordon_collect_options co = {
        .log = s->log,
        .snapshot = s->snapshot,
        .store = s->store,
        .worktree = s->worktree,
        .root_pid = (int)root,
        .quiet = s->opts->quiet,
    };
    struct cordon_manifest *m = NULL;
    int r = collect_build(&co, &cfg, &m, err);
    if (r < 0)
        return r;
    char tool[64];
    snprintf(tool, sizeof tool, "cordon %s", CORDON_VERSION);
    m->tool = strdup(tool);
    m->worktree = strdup(s->worktree);
    m->command.argv = cordon_strv_copy(s->opts->argv);
    m->command.cwd = strdup(s->cwd);
    m->command.env = recorded_env(environ);
    m->command.status = status;
    m->command.finished = finished;
    m->command.start_ns = s->start_ns;
    m->command.end_ns = cordon_now_ns();
    if (!m->tool || !m->worktree || !m->command.argv || !m->command.cwd || !m->command.env ||
        cordon_host_probe(&m->host) < 0)
        goto oom;
    /* The root process's status is the one the recorder saw. */
    for (size_t i = 0; i < m->n_processes; i++)
        if (m->processes[i].pid == (int)root) {
            m->processes[i].status = status;
            if (finished)
                m->processes[i].flags &= ~(unsigned)CORDON_PROC_UNFINISHED;
            else
                m->processes[i].flags |= CORDON_PROC_UNFINISHED;
        }
    if (!finished && cordon_manifest_add_gap(m, "recorder-killed", NULL, (int)root,
                                             "the recorder died before the command ended; "
                                             "its exit status is unknown") < 0)
        goto oom;
    if (s->seccomp_err) {
        /* Said only where it mattered: a static program ran unobserved. */
        bool unobserved = false;
        for (size_t i = 0; i < m->n_gaps; i++)
            unobserved |= !strcmp(m->gaps[i].kind, "static-exec");
        char detail[256];
        snprintf(detail, sizeof detail,
                 "this kernel has no seccomp user notification (%s): static programs ran "
                 "unobserved",
                 strerror(s->seccomp_err));
        if (unobserved && cordon_manifest_add_gap(m, "seccomp-unavailable", NULL, 0, detail) < 0)
            goto oom;
    }
    if (s->snapshot_cut &&
        cordon_manifest_add_gap(m, "snapshot-incomplete", s->worktree, 0,
                                "the work tree was larger than the snapshot limit: files the "
                                "build rewrote after reading may be unhashed") < 0)
        goto oom;
    /* The package databases, loaded during the build if there was time. */
    struct cordon_owners *owners = ahead_take_owners(s->ahead);
    if (!owners && (owners = cordon_owners_new_host()))
        (void)cordon_owners_set_index_dir(owners, s->owners_index);
    r = owners ? cordon_classify_manifest_owners(m, owners) : -ENOMEM;
    cordon_owners_free(owners);
    if (r < 0)
        goto oom;
    cordon_manifest_sort(m);
    r = cordon_manifest_write(m, s->output, err);
    if (r >= 0 && s->opts->summary) {
        struct cordon_record_summary *sum = s->opts->summary;
        *sum = (struct cordon_record_summary){.inputs = m->n_inputs,
                                              .outputs = m->n_outputs,
                                              .processes = m->n_processes,
                                              .gaps = m->n_gaps};
        for (size_t i = 0; i < m->n_inputs; i++)
            sum->missing += m->inputs[i].type == CORDON_FT_MISSING;
    }
    cordon_manifest_free(m);
    if (r < 0)
        return r;
    if (!s->opts->keep_log)
        (void)unlink(s->log);
    return 0;
oom:
    cordon_manifest_free(m);
    return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
}

/* The watcher: see the top of this file. Runs in its own process. */
static _Noreturn void watch(struct session *s, int rd) {
    /* The terminal's signals are for the build and the recorder. */
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    pid_t root = 0;
    char done = 0;
    ssize_t n;
    while ((n = read(rd, &root, sizeof root)) < 0 && errno == EINTR)
        ;
    if (n != (ssize_t)sizeof root)
        _exit(0); /* the recorder ended before the command started */
    while ((n = read(rd, &done, 1)) < 0 && errno == EINTR)
        ;
    if (n == 1)
        _exit(0); /* the recorder finished its job */
    /* The recorder died. Wait for the command, then do its work. */
    int pfd = (int)syscall(SYS_pidfd_open, root, 0);
    if (pfd >= 0) {
        struct pollfd p = {.fd = pfd, .events = POLLIN};
        while (poll(&p, 1, -1) < 0 && errno == EINTR)
            ;
        close(pfd);
    }
    struct cordon_error err;
    cordon_error_clear(&err);
    s->opts = &(struct cordon_record_options){.argv = s->opts->argv,
                                              .output = s->opts->output,
                                              .quiet = true,
                                              .keep_log = s->opts->keep_log};
    if (finish(s, root, 0, false, &err) < 0) {
        char buf[PATH_MAX + 1024];
        fprintf(stderr, "cordon: recorder was killed; cannot write '%s' from '%s': %s\n", s->output,
                s->log, cordon_error_format(&err, buf, sizeof buf));
        _exit(1);
    }
    fprintf(stderr, "cordon: recorder was killed; wrote '%s' from its log\n", s->output);
    _exit(0);
}

/* The candidates the PATH search did not find, kept until the pid is known. */
struct probes {
    char **paths;
    size_t n, cap;
};

static void note_probe(void *ctx, const char *path) {
    struct probes *p = ctx;
    char *copy = strdup(path);
    if (!copy || cordon_grow((void **)&p->paths, &p->cap, p->n + 1, sizeof *p->paths) < 0) {
        free(copy); /* a probe less in the manifest; not worth failing for */
        return;
    }
    p->paths[p->n++] = copy;
}

static void probes_release(struct probes *p) {
    for (size_t i = 0; i < p->n; i++)
        free(p->paths[i]);
    free(p->paths);
}

static void log_record(int fd, unsigned kind, pid_t pid, int err, uint32_t arg, const char *path) {
    struct cordon_trace_rec head = {.kind = (uint16_t)kind, .pid = pid, .err = err, .arg = arg};
    char buf[CORDON_TRACE_MAX];
    size_t n = cordon_trace_encode(buf, &head, path, strlen(path), NULL, 0);
    (void)!write(fd, buf, n);
}

/* The arguments of a command no hook runs in (a static program), in one
 * ARGV record as far as they fit. */
static void log_argv(int fd, pid_t pid, char *const *argv) {
    struct cordon_strbuf b = CORDON_STRBUF_INIT;
    size_t argc = cordon_strv_length(argv);
    for (size_t i = 0; i < argc; i++)
        cordon_strbuf_addn(&b, argv[i], strlen(argv[i]) + 1);
    struct cordon_trace_rec head = {
        .kind = CORDON_TRACE_ARGV, .pid = pid, .mode = (uint32_t)argc, .size = 1};
    char buf[CORDON_TRACE_MAX];
    size_t n = cordon_trace_encode(buf, &head, b.buf, b.len ? b.len - 1 : 0, NULL, 0);
    (void)!write(fd, buf, n);
    cordon_strbuf_release(&b);
}

/* `exec_arg`: the EXEC record's arg (static, observed through seccomp). */
static void log_launch(int fd, pid_t pid, const char *program, uint32_t exec_arg, char *const *argv,
                       const struct probes *p) {
    for (size_t i = 0; i < p->n; i++)
        log_record(fd, CORDON_TRACE_STAT, pid, ENOENT, 0, p->paths[i]);
    log_record(fd, CORDON_TRACE_EXEC, pid, 0, exec_arg, program);
    if (exec_arg & CORDON_TRACE_EXEC_STATIC)
        log_argv(fd, pid, argv);
}

static int absolute_path(const char *cwd, const char *p, char *out, size_t size) {
    return cordon_path_join(cwd, p, out, size);
}

int cordon_record_run(const struct cordon_record_options *opts, int *ret_status,
                      struct cordon_error *err) {
    struct session s = {.opts = opts};
    _cleanup_(strv_freep) char **env = NULL;
    int r;
    if (!getcwd(s.cwd, sizeof s.cwd))
        return cordon_error_set(err, errno, NULL, 0, 0, "cannot get the current directory");
    if ((r = absolute_path(s.cwd, opts->output, s.output, sizeof s.output)) < 0)
        return cordon_error_set(err, -r, opts->output, 0, 0, "output path too long");
    if (snprintf(s.log, sizeof s.log, "%s.log", s.output) >= (int)sizeof s.log)
        return cordon_error_set(err, ENAMETOOLONG, s.output, 0, 0, "output path too long");
    if (opts->worktree) {
        if (!realpath(opts->worktree, s.worktree))
            return cordon_error_set(err, errno, opts->worktree, 0, 0,
                                    "cannot use '%s' as "
                                    "the work tree",
                                    opts->worktree);
    } else {
        snprintf(s.worktree, sizeof s.worktree, "%s", s.cwd);
    }
    if (opts->store)
        r = absolute_path(s.cwd, opts->store, s.store, sizeof s.store);
    else
        r = cordon_store_default(s.store, sizeof s.store);
    if (r < 0)
        return cordon_error_set(err, -r, NULL, 0, 0,
                                "no store directory: set XDG_CACHE_HOME or HOME, or pass --store");

    recorder_files(&s);
    snprintf(s.owners_index, sizeof s.owners_index, "%s/index", s.store);

    /* The log first: if it cannot be made, nothing is run. */
    _cleanup_close_ int logfd =
        open(s.log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (logfd < 0)
        return cordon_error_set(err, errno, s.log, 0, 0, "cannot create the event log '%s'", s.log);

    struct cordon_progress progress;
    cordon_progress_init(&progress, "snapshotting the work tree", 0, opts->quiet);
    r = cordon_snapshot_take(s.store, s.worktree, SNAPSHOT_LIMIT, &progress, &s.snapshot, err);
    cordon_progress_done(&progress);
    if (r == -EFBIG)
        s.snapshot_cut = true;
    else if (r < 0)
        goto out;

    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        r = cordon_error_set(err, errno, NULL, 0, 0, "cannot create a pipe");
        goto out;
    }
    pid_t watcher = fork();
    if (watcher < 0) {
        r = cordon_error_set(err, errno, NULL, 0, 0, "cannot fork the watcher");
        close(pipefd[0]);
        close(pipefd[1]);
        goto out;
    }
    if (watcher == 0) {
        close(pipefd[1]);
        watch(&s, pipefd[0]);
    }
    close(pipefd[0]);

    /* The complete path: started after the watcher's fork, which must not
     * hold the socket (a connect to it would then wait for nobody). */
    struct seccomp_supervisor *sup = NULL;
    if (opts->complete != CORDON_COMPLETE_NEVER) {
        /* Without the kernel feature the recording goes on, and says so. */
        int e = seccomp_supported();
        if (e == 0)
            e = seccomp_supervisor_start(logfd, &sup);
        if (e < 0)
            s.seccomp_err = -e;
    }
    env = hooked_env(opts->hook, s.log, !opts->no_audit, sup ? seccomp_supervisor_path(sup) : NULL);
    if (!env) {
        r = cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
        seccomp_supervisor_stop(sup);
        close(pipefd[1]);
        while (waitpid(watcher, NULL, 0) < 0 && errno == EINTR)
            ;
        goto out;
    }

    /* Ctrl-C reaches the command from the terminal; the recorder stays to
     * write the manifest. SIGTERM and SIGHUP aimed at cordon go on to it. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, fwd = {.sa_handler = forward_signal};
    struct sigaction old_int, old_quit, old_term, old_hup;
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    sigaction(SIGTERM, &fwd, &old_term);
    sigaction(SIGHUP, &fwd, &old_hup);

    s.start_ns = cordon_now_ns();
    /* The command's own PATH search happens here, out of the hook's sight:
     * what it tried and found go into the log as the build's first events. */
    struct probes probes = {0};
    char program[PATH_MAX];
    pid_t pid = 0;
    r = launch_find(opts->argv[0], s.cwd, program, sizeof program, note_probe, &probes);
    uint32_t exec_arg = 0;
    if (r < 0) {
        r = cordon_error_set(err, -r, opts->argv[0], 0, 0, "cannot run '%s'", opts->argv[0]);
    } else {
        /* A static command gets the filter in auto mode, every command in
         * always mode; the supervisor's count says whether it took. */
        if (seccomp_is_static(program))
            exec_arg |= CORDON_TRACE_EXEC_STATIC;
        bool observe = sup && (opts->complete == CORDON_COMPLETE_ALWAYS ||
                               (exec_arg & CORDON_TRACE_EXEC_STATIC));
        unsigned long before = seccomp_supervisor_observed(sup);
        /* Otherwise, with the complete path on, the tree still gets
         * io_uring refused: no one would see a dynamic program's ring. */
        r = launch_spawn_observed(program, opts->argv, env,
                                  observe ? seccomp_supervisor_path(sup) : NULL, sup && !observe,
                                  &pid, err);
        if (observe && seccomp_supervisor_observed(sup) > before)
            exec_arg |= CORDON_TRACE_EXEC_SECCOMP;
    }
    if (r >= 0)
        log_launch(logfd, pid, program, exec_arg, opts->argv, &probes);
    probes_release(&probes);
    if (r < 0) {
        seccomp_supervisor_stop(sup);
        close(pipefd[1]);
        while (waitpid(watcher, NULL, 0) < 0 && errno == EINTR)
            ;
        (void)unlink(s.log);
        goto restore;
    }
    child_pid = pid;
    (void)!write(pipefd[1], &pid, sizeof pid);
    /* Hashing and the package databases while the build runs, on what CPU
     * it leaves idle. Without it, the same work is done after. */
    s.ahead = ahead_start(&(struct ahead_options){.log = s.log,
                                                  .worktree = s.worktree,
                                                  .ignore = s.ignore,
                                                  .n_ignore = 5,
                                                  .owners_index = s.owners_index,
                                                  .settle_ns = AHEAD_SETTLE_NS});

    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            r = cordon_error_set(err, errno, NULL, 0, 0, "cannot wait for the command");
            status = 0;
            break;
        }
    }
    child_pid = 0;
    ahead_stop(s.ahead);
    /* Every record is in the log before it is read. Processes the command
     * left behind under the filter now get ENOSYS from its calls. */
    seccomp_supervisor_stop(sup);
    *ret_status = status;
    if (r >= 0)
        r = finish(&s, pid, status, true, err);
    (void)!write(pipefd[1], "d", 1);
    close(pipefd[1]);
    while (waitpid(watcher, NULL, 0) < 0 && errno == EINTR)
        ;
restore:
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
out:
    ahead_free(s.ahead);
    cordon_snapshot_free(s.snapshot);
    return r < 0 ? r : 0;
}
