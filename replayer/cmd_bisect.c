/* cordon bisect: find the host inputs and variables that make a build
 * behave differently natively and in its hermetic replay, by adding them
 * back to the replay's root in halves. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cordon/cli.h>
#include <cordon/error.h>
#include <cordon/learn.h>
#include <cordon/manifest.h>
#include <cordon/pack.h>
#include <cordon/replay.h>
#include <cordon/util.h>

extern char **environ;

static const char bisect_usage[] =
    "Usage: cordon bisect ARCHIVE [--candidates FILE] [--runs-max N] [--backend RUNNER]\n"
    "                     [--keep] [-q] -- TEST [ARGS...]\n"
    "\n"
    "When a build behaves differently here and in its hermetic replay, find which\n"
    "host inputs and which variables make the difference: add what this host has\n"
    "and the replay lacks (inputs the archive left out, inputs that differ here,\n"
    "variables the replay's environment lacks or has with another value) back to\n"
    "a copy of the root in halves, replaying TEST each time, until the few that\n"
    "change TEST's exit status are found.\n"
    "\n"
    "Options:\n"
    "      --candidates FILE  try these instead (lines: 'file PATH', 'env NAME',\n"
    "                         'env NAME=VALUE')\n"
    "      --runs-max N       give up after N runs (default: 200)\n"
    "      --backend RUNNER   auto (default), namespace or fakechroot\n"
    "      --keep             keep the roots and each run's output, and say where\n"
    "  -q, --quiet            no progress lines on standard error\n"
    "  -h, --help             show this help\n"
    "\n"
    "Exit status: 0 when the candidates that make the difference were found, 1\n"
    "when adding every candidate changes nothing or the search gave up, 125 if\n"
    "cordon failed. See cordon-bisect(1).\n";

/* The first file of the pristine root changed since `since`: a run wrote
 * through one of its hard links (a build that rewrites a system file in
 * place), which would taint every later run. */
static char touched_path[PATH_MAX];
static int64_t touched_since;

static int check_touched(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)ftw;
    if (flag == FTW_F && S_ISREG(st->st_mode) &&
        (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec >= touched_since) {
        (void)snprintf(touched_path, sizeof touched_path, "%s", path);
        return 1;
    }
    return 0;
}

static bool pristine_touched(const char *root, int64_t since) {
    touched_since = since;
    touched_path[0] = '\0';
    return nftw(root, check_touched, 32, FTW_PHYS) == 1;
}

struct bisect_ctx {
    const struct cordon_manifest *m;
    const struct cordon_candidates *c;
    const char *pristine;
    const char *base;
    char *const *test;
    enum cordon_backend backend;
    bool keep;
    bool quiet;
    size_t runs;
    int reference;
    int64_t start_ns; /* before the first run */
    struct cordon_error err;
};

/* "3, 7-12" (1-based, as listed), "nothing" or "all N". */
static void describe_subset(struct cordon_strbuf *sb, const size_t *s, size_t k, size_t n) {
    if (k == 0) {
        cordon_strbuf_adds(sb, "nothing");
        return;
    }
    if (k == n && n > 1) {
        cordon_strbuf_addf(sb, "all %zu", n);
        return;
    }
    for (size_t i = 0; i < k;) {
        size_t j = i;
        while (j + 1 < k && s[j + 1] == s[j] + 1)
            j++;
        cordon_strbuf_addf(sb, "%s#%zu", i ? ", " : "", s[i] + 1);
        if (j > i)
            cordon_strbuf_addf(sb, "-#%zu", s[j] + 1);
        i = j + 1;
    }
}

/* One run: a fresh root with `subset` added, TEST replayed in it. */
static int one_run(void *vctx, const size_t *subset, size_t k) {
    struct bisect_ctx *x = vctx;
    x->runs++;
    char root[PATH_MAX], log[PATH_MAX];
    (void)snprintf(root, sizeof root, "%s/run-%zu", x->base, x->runs);
    (void)snprintf(log, sizeof log, "%s/run-%zu.log", x->base, x->runs);
    int r = cordon_bisect_prepare_root(x->m, x->pristine, root, x->c, subset, k, &x->err);
    if (r < 0)
        return r;
    char **env = calloc(k + 1, sizeof *env);
    if (!env)
        return -ENOMEM;
    size_t ne = 0;
    for (size_t i = 0; i < k; i++) {
        const struct cordon_candidate *it = &x->c->items[subset[i]];
        if (it->kind == CORDON_CANDIDATE_ENV &&
            asprintf(&env[ne++], "%s=%s", it->name, it->value ? it->value : "") < 0) {
            env[--ne] = NULL;
            cordon_strv_free(env);
            return -ENOMEM;
        }
    }
    /* TEST's output goes to the run's log, not between our lines */
    FILE *out = fopen(log, "we");
    if (!out) {
        r = -errno;
        cordon_strv_free(env);
        return cordon_error_set(&x->err, -r, log, 0, 0, "cannot create '%s'", log);
    }
    (void)fflush(stdout);
    (void)fflush(stderr);
    int saved1 = fcntl(1, F_DUPFD_CLOEXEC, 3), saved2 = fcntl(2, F_DUPFD_CLOEXEC, 3);
    if (saved1 < 0 || saved2 < 0 || dup2(fileno(out), 1) < 0 || dup2(fileno(out), 2) < 0) {
        r = -errno;
        fclose(out);
        cordon_strv_free(env);
        return cordon_error_set(&x->err, -r, log, 0, 0, "cannot redirect to '%s'", log);
    }
    struct cordon_replay_options o = {
        .backend = x->backend, .argv = x->test, .root = root, .env = env, .quiet = true};
    struct cordon_replay_result res;
    r = cordon_replay(&o, &res, out, &x->err);
    (void)fflush(out);
    (void)dup2(saved1, 1);
    (void)dup2(saved2, 2);
    close(saved1);
    close(saved2);
    fclose(out);
    cordon_strv_free(env);
    int code;
    if (r == -ENOENT && res.exec_error)
        code = CORDON_EXIT_NOT_FOUND;
    else if (r < 0 && res.exec_error)
        code = CORDON_EXIT_CANNOT_EXEC;
    else if (r < 0)
        return r;
    else
        code = cordon_exit_code(res.status);
    cordon_error_clear(&x->err);
    if (pristine_touched(x->pristine, x->start_ns))
        return cordon_error_set(&x->err, EROFS, touched_path, 0, 0,
                                "run %zu changed '%s' in place, which every run shares with the "
                                "unpacked root: later runs would not start from the archive",
                                x->runs, touched_path);
    if (x->runs == 1)
        x->reference = code;
    if (!x->keep) {
        (void)cordon_rm_rf(root);
        (void)unlink(log);
    }
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    describe_subset(&sb, subset, k, x->c->n);
    printf("run %zu: added %s -> exit %d%s\n", x->runs, sb.failed ? "?" : sb.buf, code,
           x->runs == 1           ? " (the hermetic replay)"
           : code == x->reference ? " (as the replay)"
                                  : " (differs)");
    (void)fflush(stdout);
    cordon_strbuf_release(&sb);
    return code;
}

static void print_candidate(const struct cordon_candidate *it, size_t i) {
    if (it->kind == CORDON_CANDIDATE_FILE)
        printf("  #%zu file %s  (%s)\n", i + 1, it->name, it->why ? it->why : "");
    else
        printf("  #%zu env %s=%s  (%s)\n", i + 1, it->name, it->value ? it->value : "",
               it->why ? it->why : "");
}

int cordon_cmd_bisect(int argc, char **argv) {
    static const struct option longopts[] = {
        {"candidates", required_argument, NULL, 'c'},
        {"runs-max", required_argument, NULL, 'r'},
        {"backend", required_argument, NULL, 'b'},
        {"keep", no_argument, NULL, 'k'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    const char *arg_candidates = NULL;
    size_t runs_max = 200;
    enum cordon_backend backend = CORDON_BACKEND_AUTO;
    bool keep = false, quiet = false;
    int ncmd = argc;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--")) {
            ncmd = i;
            break;
        }
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(ncmd, argv, ":qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            arg_candidates = optarg;
            break;
        case 'r': {
            char *end;
            errno = 0;
            unsigned long v = strtoul(optarg, &end, 10);
            if (errno || *end || !*optarg || optarg[0] == '-' || v < 2)
                cordon_usage_error("bisect", "--runs-max takes a number from 2 up, not '%s'",
                                   optarg);
            runs_max = v;
            break;
        }
        case 'b':
            backend = cordon_backend_from_name(optarg);
            if (backend != CORDON_BACKEND_AUTO && backend != CORDON_BACKEND_NAMESPACE &&
                backend != CORDON_BACKEND_FAKECHROOT)
                cordon_usage_error("bisect", "unknown backend '%s' (auto, namespace or fakechroot)",
                                   optarg);
            break;
        case 'k':
            keep = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            (void)fputs(bisect_usage, stdout);
            return 0;
        default:
            cordon_usage_bad_option("bisect", c, argv);
        }
    }
    if (optind >= ncmd)
        cordon_usage_error("bisect", "missing the archive");
    if (optind + 1 < ncmd)
        cordon_usage_error("bisect", "unexpected argument '%s' (the test goes after --)",
                           argv[optind + 1]);
    if (ncmd + 1 >= argc)
        cordon_usage_error("bisect", "missing the test: -- TEST [ARGS...]");
    const char *archive = argv[optind];
    char *const *test = argv + ncmd + 1;

    const char *tmpdir = getenv("TMPDIR");
    char base[PATH_MAX], pristine[PATH_MAX], mpath[PATH_MAX];
    if ((size_t)snprintf(base, sizeof base, "%s/cordon-bisect-XXXXXX",
                         tmpdir && tmpdir[0] == '/' ? tmpdir : "/tmp") >= sizeof base)
        cordon_die("TMPDIR is too long");
    if (!mkdtemp(base))
        cordon_die("cannot create a temporary directory '%s': %s", base, strerror(errno));
    (void)snprintf(pristine, sizeof pristine, "%s/root", base);
    (void)snprintf(mpath, sizeof mpath, "%s/" CORDON_PACK_MANIFEST, pristine);

    int ret = CORDON_EXIT_FAILURE, r;
    struct cordon_error err = {0};
    struct cordon_manifest *m = NULL;
    struct cordon_candidates cands = {0};
    struct cordon_bisect_result res = {0};
    char **replay_env = NULL;

    if (backend == CORDON_BACKEND_AUTO)
        backend =
            cordon_userns_available() == 0 ? CORDON_BACKEND_NAMESPACE : CORDON_BACKEND_FAKECHROOT;
    if (!quiet)
        cordon_warn("unpacking '%s'", archive);
    struct cordon_unpack_options uo = {.archive = archive, .dest = pristine, .quiet = true};
    if (cordon_unpack(&uo, &err) < 0) {
        cordon_print_error(&err);
        goto out;
    }
    if (cordon_manifest_read(mpath, &m, &err) < 0) {
        cordon_print_error(&err);
        goto out;
    }
    if (cordon_replay_env(m->command.env, &replay_env, NULL) < 0)
        cordon_die("out of memory");
    r = arg_candidates ? cordon_bisect_candidates_load(arg_candidates, environ, &cands, &err)
                       : cordon_bisect_candidates(m, pristine, environ, replay_env, &cands, &err);
    if (r < 0) {
        cordon_print_error(&err);
        goto out;
    }
    if (m->command.argv && m->command.argv[0] && m->command.finished)
        printf("the recording: '%s' exited %d\n", m->command.argv[0],
               cordon_exit_code(m->command.status));
    printf("%zu candidate%s: what this host has that the replay lacks%s\n", cands.n,
           cands.n == 1 ? "" : "s", arg_candidates ? " (from the candidates file)" : "");
    for (size_t i = 0; i < cands.n; i++)
        print_candidate(&cands.items[i], i);
    if (!quiet)
        cordon_warn("replaying '%s' with %s, adding candidates in halves", test[0],
                    cordon_backend_name(backend));

    struct bisect_ctx x = {
        .m = m,
        .c = &cands,
        .pristine = pristine,
        .base = base,
        .test = test,
        .backend = backend,
        .keep = keep,
        .quiet = quiet,
        .start_ns = cordon_now_ns(),
    };
    r = cordon_bisect_search(cands.n, one_run, &x, runs_max, &res);
    if (r < 0) {
        if (x.err.text[0])
            cordon_print_error(&x.err);
        else
            cordon_warn("the search stopped: %s", strerror(-r));
        goto out;
    }
    if (!res.differs && !res.gave_up) {
        printf("no difference: TEST exits %d in the hermetic replay and %d with all %zu "
               "candidates added (%zu runs); the difference lies elsewhere\n",
               res.reference, res.all, cands.n, res.runs);
        ret = 1;
        goto out;
    }
    size_t culprits = 0;
    for (size_t g = 0; g < res.n_groups; g++)
        culprits += res.groups[g].n;
    if (res.gave_up)
        printf("gave up after %zu runs (--runs-max): found so far, %zu of %zu candidates:\n",
               res.runs, culprits, cands.n);
    else
        printf("%zu of %zu candidates make the difference (TEST exits %d in the replay, %d with "
               "everything added; %zu runs):\n",
               culprits, cands.n, res.reference, res.all, res.runs);
    for (size_t g = 0; g < res.n_groups; g++) {
        const struct cordon_bisect_group *gr = &res.groups[g];
        if (res.n_groups > 1 || gr->n > 1)
            printf("%s %zu: %s\n", gr->n > 1 ? "together, group" : "alone, group", g + 1,
                   gr->n > 1 ? "these change the status only together"
                             : "this one changes the status by itself");
        for (size_t i = 0; i < gr->n; i++) {
            const struct cordon_candidate *it = &cands.items[gr->items[i]];
            if (it->kind == CORDON_CANDIDATE_FILE)
                printf("culprit file %s  (%s)\n", it->name, it->why ? it->why : "");
            else
                printf("culprit env %s=%s  (%s)\n", it->name, it->value ? it->value : "",
                       it->why ? it->why : "");
        }
    }
    ret = res.gave_up ? 1 : 0;

out:
    if (keep)
        cordon_warn("the roots and each run's output are kept in %s", base);
    else if ((r = cordon_rm_rf(base)) < 0)
        cordon_warn("warning: cannot remove '%s': %s", base, strerror(-r));
    cordon_bisect_result_release(&res);
    cordon_candidates_release(&cands);
    cordon_strv_free(replay_env);
    cordon_manifest_free(m);
    return ret;
}
