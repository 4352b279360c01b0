/* cordon learn: record a build (or read its manifest), learn the policy it
 * needs, and verify it by rerunning the build in a copy of the work tree
 * under `cordon run --policy` alone. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cordon/cli.h>
#include <cordon/error.h>
#include <cordon/learn.h>
#include <cordon/manifest.h>
#include <cordon/record.h>
#include <cordon/replay.h>
#include <cordon/store.h>
#include <cordon/util.h>

extern char **environ;

static const char learn_usage[] =
    "Usage: cordon learn [-o POLICY] [--verify|--no-verify] [--max-rules N] [--keep]\n"
    "                    [-q] (-- CMD [ARGS...] | MANIFEST)\n"
    "\n"
    "Write the smallest readable policy for `cordon run` that lets a build run:\n"
    "record CMD in a copy of the working directory (or read MANIFEST), keep the\n"
    "work tree read-write, what it wrote outside read-write, the system paths it\n"
    "read read-only (directories collapsed where it reads most of them), and\n"
    "leave out the user's and the site's configuration it reached for.\n"
    "\n"
    "Options:\n"
    "  -o, --output POLICY   where to write the policy (default: cordon.policy)\n"
    "      --verify          rerun the build in a fresh copy of the work tree under\n"
    "                        the policy alone and say whether it passed (default)\n"
    "      --no-verify       do not\n"
    "      --max-rules N     collapse further until at most N rules (default: 30)\n"
    "      --keep            keep the copies and the recording, and say where\n"
    "  -q, --quiet           say nothing but the verdict and errors\n"
    "  -h, --help            show this help\n"
    "\n"
    "Exit status: 0 when the policy was written (and verified), 1 when the\n"
    "verification failed, 125 if cordon failed, 126/127 if CMD cannot be run.\n"
    "See cordon-learn(1).\n";

struct learn_args {
    const char *output;
    bool verify;
    bool keep;
    bool quiet;
    size_t max_rules;
};

static char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return (char *)(s && s[1] ? s + 1 : "root");
}

/* Put the copied work tree back as the recording found it: an output the
 * build made is removed, so that the verifying build makes it again; one
 * that was there before (configure rewriting a file) gets back the content
 * the build first read, from the store, where the store has it. */
static void restore_tree(const struct cordon_manifest *m, const char *worktree, const char *copy) {
    char store[PATH_MAX];
    bool have_store = cordon_store_default(store, sizeof store) == 0;
    for (size_t i = 0; i < m->n_outputs; i++) {
        const struct cordon_output *o = &m->outputs[i];
        if (!cordon_path_under(o->path, worktree) || !strcmp(o->path, worktree))
            continue;
        char p[PATH_MAX];
        if ((size_t)snprintf(p, sizeof p, "%s%s", copy, o->path + strlen(worktree)) >= sizeof p)
            continue;
        struct stat st;
        if (lstat(p, &st) < 0 || S_ISDIR(st.st_mode))
            continue; /* a directory may hold sources too */
        const struct cordon_input *in = cordon_manifest_find_input(m, o->path);
        if (!in || in->type == CORDON_FT_MISSING) {
            (void)unlink(p);
            continue;
        }
        char from[PATH_MAX];
        if (in->type != CORDON_FT_FILE || !in->has_hash || !have_store ||
            cordon_store_path(store, &in->hash, from, sizeof from) < 0)
            continue;
        _cleanup_close_ int src = open(from, O_RDONLY | O_CLOEXEC);
        if (src < 0)
            continue;
        (void)unlink(p);
        _cleanup_close_ int dst =
            open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, in->mode & 07777);
        if (dst < 0)
            continue;
        char buf[1 << 16];
        ssize_t k;
        while ((k = read(src, buf, sizeof buf)) > 0)
            if (write(dst, buf, (size_t)k) != k)
                break;
    }
}

/* Run `cordon run --policy POLICY -- ARGV` in `cwd` with its output in
 * `log`. The exit code, or -errno. */
static int run_under_policy(const char *policy, char *const *argv, const char *cwd,
                            const char *log) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0)
        return -errno;
    self[n] = '\0';
    size_t argc = cordon_strv_length(argv);
    const char **av = calloc(argc + 7, sizeof *av);
    if (!av)
        return -ENOMEM;
    size_t k = 0;
    av[k++] = self;
    av[k++] = "run";
    av[k++] = "-q";
    av[k++] = "--policy";
    av[k++] = policy;
    av[k++] = "--";
    for (size_t i = 0; i < argc; i++)
        av[k++] = argv[i];
    av[k] = NULL;
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        free(av);
        return -errno;
    }
    (void)fflush(stdout);
    (void)fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fd);
        free(av);
        return -e;
    }
    if (pid == 0) {
        if (chdir(cwd) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || setenv("PWD", cwd, 1) < 0)
            _exit(CORDON_EXIT_FAILURE);
        execv(self, (char *const *)av);
        _exit(CORDON_EXIT_CANNOT_EXEC);
    }
    close(fd);
    free(av);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    return cordon_exit_code(status);
}

/* The last lines of a file, on stderr. */
static void show_tail(const char *path, int lines) {
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (!f)
        return;
    char *ring[64] = {0};
    int n = lines < 64 ? lines : 64, at = 0, total = 0;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) >= 0) {
        free(ring[at]);
        ring[at] = strdup(line);
        at = (at + 1) % n;
        total++;
    }
    free(line);
    int first = total < n ? 0 : at;
    for (int i = 0; i < n && i < total; i++) {
        char *l = ring[(first + i) % n];
        if (l)
            fprintf(stderr, "  | %s%s", l, l[strlen(l) - 1] == '\n' ? "" : "\n");
    }
    for (int i = 0; i < n; i++)
        free(ring[i]);
}

static int write_policy(const struct cordon_learned *l, const char *verdict, const char *out) {
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", out) >= sizeof tmp)
        return -ENAMETOOLONG;
    FILE *f = fopen(tmp, "we");
    if (!f)
        return -errno;
    int r = cordon_learned_write(l, verdict, f);
    if (fclose(f) != 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(tmp, out) < 0)
        r = -errno;
    if (r < 0)
        (void)unlink(tmp);
    return r;
}

int cordon_cmd_learn(int argc, char **argv) {
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"verify", no_argument, NULL, 'v'},
        {"no-verify", no_argument, NULL, 'n'},    {"max-rules", required_argument, NULL, 'm'},
        {"keep", no_argument, NULL, 'k'},         {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},         {0},
    };
    struct learn_args a = {.output = "cordon.policy", .verify = true, .max_rules = 30};
    int ncmd = argc;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--")) {
            ncmd = i;
            break;
        }
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(ncmd, argv, ":o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            a.output = optarg;
            break;
        case 'v':
            a.verify = true;
            break;
        case 'n':
            a.verify = false;
            break;
        case 'm': {
            char *end;
            errno = 0;
            unsigned long v = strtoul(optarg, &end, 10);
            if (errno || *end || !*optarg || optarg[0] == '-' || v < 6 || v > 100000)
                cordon_usage_error("learn", "--max-rules takes a number from 6 up, not '%s'",
                                   optarg);
            a.max_rules = v;
            break;
        }
        case 'k':
            a.keep = true;
            break;
        case 'q':
            a.quiet = true;
            break;
        case 'h':
            (void)fputs(learn_usage, stdout);
            return 0;
        default:
            cordon_usage_bad_option("learn", c, argv);
        }
    }
    const char *manifest_path = NULL;
    char **cmd = NULL;
    if (ncmd < argc) {
        if (ncmd + 1 >= argc)
            cordon_usage_error("learn", "no command after --");
        if (optind < ncmd)
            cordon_usage_error("learn", "give a command after -- or a manifest, not both ('%s')",
                               argv[optind]);
        cmd = argv + ncmd + 1;
    } else {
        if (optind >= argc)
            cordon_usage_error("learn", "missing the command (after --) or a manifest");
        if (optind + 1 < argc)
            cordon_usage_error("learn", "unexpected argument '%s'", argv[optind + 1]);
        manifest_path = argv[optind];
    }
    if (!*a.output)
        cordon_usage_error("learn", "empty policy path");

    char cwd[PATH_MAX], policy[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        cordon_die("cannot find the working directory: %s", strerror(errno));
    if (cordon_path_join(cwd, a.output, policy, sizeof policy) < 0)
        cordon_die("'%s' is too long", a.output);
    const char *tmpdir = getenv("TMPDIR");
    char base[PATH_MAX];
    if ((size_t)snprintf(base, sizeof base, "%s/cordon-learn-XXXXXX",
                         tmpdir && tmpdir[0] == '/' ? tmpdir : "/tmp") >= sizeof base)
        cordon_die("TMPDIR is too long");
    if (!mkdtemp(base))
        cordon_die("cannot create a temporary directory '%s': %s", base, strerror(errno));

    int ret = CORDON_EXIT_FAILURE, r;
    struct cordon_error err = {0};
    struct cordon_manifest *m = NULL;
    struct cordon_learned *l = NULL;
    int recorded_code = 0;
    char mpath[PATH_MAX], worktree[PATH_MAX], rec[PATH_MAX];

    /* 1. the recording */
    if (cmd) {
        char hook[PATH_MAX];
        if (cordon_find_hook(hook, sizeof hook) < 0) {
            cordon_warn("no hook library at '%s'", hook);
            goto out;
        }
        (void)snprintf(worktree, sizeof worktree, "%s", cwd);
        (void)snprintf(rec, sizeof rec, "%s/record", base);
        if (mkdir(rec, 0700) < 0 ||
            (size_t)snprintf(rec + strlen(rec), sizeof rec - strlen(rec), "/%s", base_name(cwd)) >=
                sizeof rec - strlen(rec)) {
            cordon_warn("cannot create '%s': %s", rec, strerror(errno));
            goto out;
        }
        if (cordon_copy_tree(cwd, rec, NULL, NULL, &err) < 0) {
            cordon_print_error(&err);
            goto out;
        }
        (void)snprintf(mpath, sizeof mpath, "%s/manifest.json", base);
        struct cordon_record_options ro = {
            .argv = cmd, .output = mpath, .hook = hook, .worktree = rec, .quiet = a.quiet};
        if (!a.quiet)
            cordon_warn("recording '%s' in a copy of the work tree: %s", cmd[0], rec);
        if (chdir(rec) < 0) {
            cordon_warn("cannot enter '%s': %s", rec, strerror(errno));
            goto out;
        }
        int status = 0;
        (void)fflush(stdout);
        /* the shell trusts PWD when it names the directory it is in */
        (void)setenv("PWD", rec, 1);
        r = cordon_record_run(&ro, &status, &err);
        (void)setenv("PWD", cwd, 1);
        if (chdir(cwd) < 0)
            cordon_die("cannot return to '%s': %s", cwd, strerror(errno));
        if (r < 0) {
            cordon_print_error(&err);
            ret = r == -ENOENT                    ? CORDON_EXIT_NOT_FOUND
                  : r == -EACCES || r == -ENOEXEC ? CORDON_EXIT_CANNOT_EXEC
                                                  : CORDON_EXIT_FAILURE;
            goto out;
        }
        recorded_code = cordon_exit_code(status);
    } else {
        (void)snprintf(mpath, sizeof mpath, "%s", manifest_path);
    }
    if (cordon_manifest_read(mpath, &m, &err) < 0) {
        cordon_print_error(&err);
        goto out;
    }
    const char *mwork = m->worktree ? m->worktree : m->command.cwd;
    if (!mwork || mwork[0] != '/' || !m->command.argv || !m->command.argv[0]) {
        cordon_warn("'%s' names no work tree or no command to learn from", mpath);
        goto out;
    }
    if (!cmd) {
        recorded_code = m->command.finished ? cordon_exit_code(m->command.status) : 0;
        (void)snprintf(worktree, sizeof worktree, "%s", mwork);
    }
    if (recorded_code != 0)
        cordon_warn("warning: the build exited %d when recorded: the policy is learned from a "
                    "failing build",
                    recorded_code);

    /* 2. learn */
    struct cordon_learn_options lo = {
        .manifest = m, .max_rules = a.max_rules, .resolve_host = true};
    if (cordon_learn(&lo, &l, &err) < 0) {
        cordon_print_error(&err);
        goto out;
    }
    size_t rules = cordon_learned_rule_count(l);
    if ((r = write_policy(l, a.verify ? "pending" : "not verified (--no-verify)", policy)) < 0) {
        cordon_warn("cannot write '%s': %s", policy, strerror(-r));
        goto out;
    }
    if (rules > a.max_rules)
        cordon_warn("warning: %zu rules, over --max-rules %zu: the paths lie in more separate "
                    "places than that",
                    rules, a.max_rules);
    if (!a.verify) {
        if (!a.quiet)
            cordon_warn("%zu rules written to %s (not verified)", rules, policy);
        ret = 0;
        goto out;
    }

    /* 3. verify in a fresh copy of the work tree */
    char ver[PATH_MAX], vcwd[PATH_MAX], log[PATH_MAX];
    (void)snprintf(ver, sizeof ver, "%s/verify", base);
    if (mkdir(ver, 0700) < 0) {
        cordon_warn("cannot create '%s': %s", ver, strerror(errno));
        goto out;
    }
    (void)snprintf(ver + strlen(ver), sizeof ver - strlen(ver), "/%s", base_name(worktree));
    if (cordon_copy_tree(cmd ? cwd : worktree, ver, NULL, NULL, &err) < 0) {
        cordon_print_error(&err);
        goto out;
    }
    if (!cmd)
        restore_tree(m, mwork, ver);
    const char *rcwd = m->command.cwd ? m->command.cwd : mwork;
    if ((size_t)snprintf(vcwd, sizeof vcwd, "%s%s", ver,
                         cordon_path_under(rcwd, mwork) ? rcwd + strlen(mwork) : "") >= sizeof vcwd)
        cordon_die("'%s' is too long", ver);
    (void)snprintf(log, sizeof log, "%s/verify.log", base);
    if (!a.quiet)
        cordon_warn("verifying: the build again in %s under the policy alone", vcwd);
    int code = run_under_policy(policy, cmd ? cmd : m->command.argv, vcwd, log);
    if (code < 0) {
        cordon_warn("cannot run the verification: %s", strerror(-code));
        goto out;
    }
    size_t made = 0, lacking = 0;
    struct cordon_strbuf missing = CORDON_STRBUF_INIT;
    for (size_t i = 0; i < m->n_outputs; i++) {
        const struct cordon_output *o = &m->outputs[i];
        if (o->type == CORDON_FT_MISSING || !cordon_path_under(o->path, mwork) ||
            !strcmp(o->path, mwork))
            continue;
        char p[PATH_MAX];
        struct stat st;
        (void)snprintf(p, sizeof p, "%s%s", ver, o->path + strlen(mwork));
        if (lstat(p, &st) == 0) {
            made++;
        } else {
            if (lacking < 8)
                cordon_strbuf_addf(&missing, "%s%s", lacking ? ", " : "",
                                   o->path + strlen(mwork) + 1);
            lacking++;
        }
    }
    bool pass = code == recorded_code && lacking == 0;
    char verdict[1024];
    if (pass)
        (void)snprintf(verdict, sizeof verdict,
                       "passed: rerun in a fresh copy of the work tree under this policy alone, "
                       "the build exited %d as recorded and made all %zu outputs",
                       code, made);
    else
        (void)snprintf(verdict, sizeof verdict,
                       "FAILED: rerun in a fresh copy of the work tree under this policy alone, "
                       "the build exited %d (%d recorded)%s%s%s",
                       code, recorded_code, lacking ? " and did not make " : "",
                       lacking ? missing.buf : "", lacking > 8 ? ", ..." : "");
    cordon_strbuf_release(&missing);
    if ((r = write_policy(l, verdict, policy)) < 0) {
        cordon_warn("cannot write '%s': %s", policy, strerror(-r));
        goto out;
    }
    if (pass) {
        cordon_warn("%zu rules written to %s; verification %s", rules, policy, verdict);
        ret = 0;
    } else {
        cordon_warn("%zu rules written to %s; verification %s", rules, policy, verdict);
        cordon_warn("the end of the build's output under the policy:");
        show_tail(log, 12);
        if (l->n_left_out)
            cordon_warn("the policy leaves out %zu breach%s the build reached for (listed in "
                        "%s): one may be needed",
                        l->n_left_out, l->n_left_out == 1 ? "" : "es", policy);
        ret = 1;
    }

out:
    if (a.keep) {
        cordon_warn("copies and the recording kept in %s", base);
    } else if ((r = cordon_rm_rf(base)) < 0) {
        cordon_warn("warning: cannot remove '%s': %s", base, strerror(-r));
    }
    cordon_learned_free(l);
    cordon_manifest_free(m);
    return ret;
}
