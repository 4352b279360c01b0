/* cordon run: the front end. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cordon/cli.h>
#include <cordon/error.h>
#include <cordon/manifest.h>
#include <cordon/policy.h>
#include <cordon/replay.h>
#include <cordon/run.h>
#include <cordon/util.h>

extern char **environ;

static const char run_usage[] =
    "Usage: cordon run [OPTIONS] -- CMD [ARGS...]\n"
    "\n"
    "Run CMD on this machine's own root seen through a policy: what it may read,\n"
    "write, not see at all, its environment, its HOME and its network.\n"
    "\n"
    "Policy (applied in order: files and profiles first, then the flags):\n"
    "      --policy FILE       load a policy file (may repeat)\n"
    "      --profile NAME      load a built-in profile (may repeat; default: build)\n"
    "      --ro PATH           show PATH read-only\n"
    "      --rw PATH           show PATH read-write\n"
    "      --hide PATH         PATH does not exist (ENOENT)\n"
    "      --deny PATH         PATH exists but cannot be read (EACCES)\n"
    "      --empty PATH        an empty file or directory at PATH\n"
    "      --tmpfs PATH        a private empty writable directory at PATH\n"
    "      --redirect P=OTHER  OTHER's content at P, read-only\n"
    "      --unset NAME        remove NAME from the environment (globs: * ?)\n"
    "      --set NAME=VALUE    set NAME in the environment\n"
    "      --home MODE         fresh (an empty private HOME), keep, or a PATH\n"
    "      --network on|off    off: only a loopback interface\n"
    "\n"
    "Runner:\n"
    "      --backend RUNNER    auto (default), namespace, hook or landlock\n"
    "      --require enforce   refuse to run where isolation would only be advisory\n"
    "  -q, --quiet             say nothing but errors\n"
    "  -h, --help              show this help\n"
    "\n"
    "Exit status: the command's own (128+N if it died of signal N); 125 if cordon\n"
    "failed, 126 if the command cannot be executed, 127 if it is not found.\n"
    "See cordon-run(1).\n";

enum { OPT_POLICY = 256, OPT_PROFILE, OPT_UNSET, OPT_SET, OPT_HOME, OPT_NETWORK, OPT_REQUIRE };

/* A policy source or flag, kept in command-line order and applied in two
 * passes: files and profiles first, then the flags. */
struct item {
    int opt;
    const char *arg;
};

static void die_error(const struct cordon_error *err) {
    cordon_print_error(err);
    exit(CORDON_EXIT_FAILURE);
}

/* A policy line's token for `s`: quoted, with \ " $ escaped. */
static char *quote(const char *s) {
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    cordon_strbuf_adds(&sb, "\"");
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\' || *p == '$')
            cordon_strbuf_adds(&sb, "\\");
        if (*p == '\n')
            cordon_strbuf_adds(&sb, "\\n");
        else if (*p == '\t')
            cordon_strbuf_adds(&sb, "\\t");
        else
            cordon_strbuf_addn(&sb, p, 1);
    }
    cordon_strbuf_adds(&sb, "\"");
    char *out = cordon_strbuf_detach(&sb);
    if (!out)
        cordon_die("out of memory");
    return out;
}

static void load_line(struct cordon_policy *p, const char *kw, const char *arg,
                      const struct cordon_policy_vars *vars) {
    char *q = quote(arg);
    char *line = NULL;
    if (asprintf(&line, "%s %s\n", kw, q) < 0)
        cordon_die("out of memory");
    free(q);
    struct cordon_error err;
    cordon_error_clear(&err);
    if (cordon_policy_load_string(p, line, "command line", NULL, vars, &err) < 0) {
        free(line);
        cordon_usage_error("run", "invalid --%s '%s': %s", kw, arg, err.text);
    }
    free(line);
}

static void apply_flag(struct cordon_policy *p, const struct item *it,
                       const struct cordon_policy_vars *vars) {
    struct cordon_error err;
    cordon_error_clear(&err);
    enum cordon_rule_kind k = CORDON_RULE_INVALID;
    switch (it->opt) {
    case 'r':
        k = CORDON_RULE_RO;
        break;
    case 'w':
        k = CORDON_RULE_RW;
        break;
    case 'H':
        k = CORDON_RULE_HIDE;
        break;
    case 'D':
        k = CORDON_RULE_DENY;
        break;
    case 'E':
        k = CORDON_RULE_EMPTY;
        break;
    case 'T':
        k = CORDON_RULE_TMPFS;
        break;
    case 'R': {
        const char *eq = strchr(it->arg, '=');
        if (!eq || eq == it->arg || !eq[1])
            cordon_usage_error("run", "--redirect takes P=OTHER, not '%s'", it->arg);
        _cleanup_free_ char *path = strndup(it->arg, (size_t)(eq - it->arg));
        if (!path)
            cordon_die("out of memory");
        if (cordon_policy_add_rule(p, CORDON_RULE_REDIRECT, path, eq + 1, vars, &err) < 0)
            die_error(&err);
        return;
    }
    case OPT_UNSET:
        load_line(p, "unset", it->arg, vars);
        return;
    case OPT_SET:
        if (!strchr(it->arg, '=') || it->arg[0] == '=')
            cordon_usage_error("run", "--set takes NAME=VALUE, not '%s'", it->arg);
        load_line(p, "set", it->arg, vars);
        return;
    case OPT_HOME:
        if (strcmp(it->arg, "fresh") != 0 && strcmp(it->arg, "keep") != 0) {
            char abs[PATH_MAX];
            const char *base = vars->cwd ? vars->cwd : "/";
            if (!it->arg[0] || cordon_path_join(base, it->arg, abs, sizeof abs) < 0)
                cordon_usage_error("run", "--home takes fresh, keep or a path, not '%s'", it->arg);
            load_line(p, "home", abs, vars);
            return;
        }
        load_line(p, "home", it->arg, vars);
        return;
    case OPT_NETWORK:
        if (strcmp(it->arg, "on") != 0 && strcmp(it->arg, "off") != 0)
            cordon_usage_error("run", "--network takes on or off, not '%s'", it->arg);
        p->network = !strcmp(it->arg, "on");
        return;
    default:
        return;
    }
    if (!it->arg[0])
        cordon_usage_error("run", "empty path");
    if (cordon_policy_add_rule(p, k, it->arg, NULL, vars, &err) < 0)
        die_error(&err);
}

int cordon_cmd_run(int argc, char **argv) {
    static const struct option longopts[] = {
        {"policy", required_argument, NULL, OPT_POLICY},
        {"profile", required_argument, NULL, OPT_PROFILE},
        {"ro", required_argument, NULL, 'r'},
        {"rw", required_argument, NULL, 'w'},
        {"hide", required_argument, NULL, 'H'},
        {"deny", required_argument, NULL, 'D'},
        {"empty", required_argument, NULL, 'E'},
        {"tmpfs", required_argument, NULL, 'T'},
        {"redirect", required_argument, NULL, 'R'},
        {"unset", required_argument, NULL, OPT_UNSET},
        {"set", required_argument, NULL, OPT_SET},
        {"home", required_argument, NULL, OPT_HOME},
        {"network", required_argument, NULL, OPT_NETWORK},
        {"backend", required_argument, NULL, 'b'},
        {"require", required_argument, NULL, OPT_REQUIRE},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    enum cordon_backend backend = CORDON_BACKEND_AUTO;
    bool quiet = false, require_enforce = false;
    struct item *items = calloc((size_t)argc + 1, sizeof *items);
    size_t n_items = 0;
    if (!items)
        cordon_die("out of memory");
    /* The command starts after the first "--". */
    int ncmd = argc;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--")) {
            ncmd = i;
            break;
        }
    int c;
    opterr = 0;
    while ((c = getopt_long(ncmd, argv, ":qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            backend = cordon_backend_from_name(optarg);
            if (backend != CORDON_BACKEND_AUTO && backend != CORDON_BACKEND_NAMESPACE &&
                backend != CORDON_BACKEND_HOOK && backend != CORDON_BACKEND_LANDLOCK)
                cordon_usage_error(
                    "run", "unknown backend '%s' (auto, namespace, hook or landlock)", optarg);
            break;
        case OPT_REQUIRE:
            if (strcmp(optarg, "enforce") != 0)
                cordon_usage_error("run", "--require takes 'enforce', not '%s'", optarg);
            require_enforce = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            (void)fputs(run_usage, stdout);
            free(items);
            return 0;
        case OPT_POLICY:
        case OPT_PROFILE:
        case 'r':
        case 'w':
        case 'H':
        case 'D':
        case 'E':
        case 'T':
        case 'R':
        case OPT_UNSET:
        case OPT_SET:
        case OPT_HOME:
        case OPT_NETWORK:
            items[n_items++] = (struct item){.opt = c, .arg = optarg};
            break;
        default: /* '?' or ':' */
            cordon_usage_bad_option("run", c, argv);
        }
    }
    if (optind < ncmd)
        cordon_usage_error("run", "unexpected argument '%s' (the command goes after --)",
                           argv[optind]);
    if (ncmd >= argc || ncmd + 1 >= argc || !argv[ncmd + 1][0])
        cordon_usage_error("run", "no command to run (cordon run [OPTIONS] -- CMD)");
    char **cmd = argv + ncmd + 1;

    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        cordon_die("cannot get the working directory: %s", strerror(errno));
    struct cordon_policy_vars vars = {.cwd = cwd};

    struct cordon_policy *policy = cordon_policy_new();
    if (!policy)
        cordon_die("out of memory");
    struct cordon_error err;
    cordon_error_clear(&err);
    bool sources = false;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n_items; i++) {
            int r = 0;
            if (items[i].opt == OPT_POLICY) {
                r = cordon_policy_load_file(policy, items[i].arg, &vars, &err);
                sources = true;
            } else if (items[i].opt == OPT_PROFILE) {
                r = cordon_policy_load_profile(policy, items[i].arg, &vars, &err);
                sources = true;
            }
            if (r < 0)
                die_error(&err);
        }
        /* Policies that say nothing about "/" are layers (--profile git):
         * alone they would hide the whole system, so they go over the base
         * profile, loaded first so that theirs are the later rules. */
        if (!sources || pass == 1 || cordon_policy_lookup(policy, "/"))
            break;
        if (!quiet)
            cordon_warn("no rule of the policy covers '/': it goes over the base profile "
                        "(the system read-only, the working directory writable)");
        cordon_policy_free(policy);
        if (!(policy = cordon_policy_new()))
            cordon_die("out of memory");
        if (cordon_policy_load_profile(policy, "base", &vars, &err) < 0)
            die_error(&err);
    }
    if (!sources && cordon_policy_load_profile(policy, "build", &vars, &err) < 0)
        die_error(&err);
    for (size_t i = 0; i < n_items; i++)
        if (items[i].opt != OPT_POLICY && items[i].opt != OPT_PROFILE)
            apply_flag(policy, &items[i], &vars);
    free(items);

    char why[1024] = "";
    if (backend == CORDON_BACKEND_AUTO) {
        struct cordon_machine m;
        cordon_machine_probe(&m);
        backend = cordon_pick_run_backend(&m, why, sizeof why);
        /* Enforcement asked for: Landlock before a hook that only advises. */
        if (require_enforce && !cordon_backend_enforces(backend) && m.landlock_abi > 0) {
            (void)snprintf(why, sizeof why,
                           "--require enforce: user namespaces are unavailable (%s) and the hook "
                           "only advises; Landlock ABI %d enforces, with hidden paths as EACCES",
                           strerror(m.userns_error), m.landlock_abi);
            backend = CORDON_BACKEND_LANDLOCK;
        }
    }
    if (require_enforce && !cordon_backend_enforces(backend)) {
        cordon_warn("refusing to run: the %s runner only advises (a program that bypasses libc "
                    "escapes it) and --require enforce was given",
                    cordon_backend_name(backend));
        if (why[0])
            cordon_warn("%s", why);
        cordon_policy_free(policy);
        return CORDON_EXIT_FAILURE;
    }
    if (!quiet)
        cordon_warn("running with %s%s%s%s", cordon_backend_name(backend), why[0] ? " (" : "", why,
                    why[0] ? ")" : "");
    if (!quiet && backend == CORDON_BACKEND_LANDLOCK)
        cordon_warn("landlock: hidden paths appear as EACCES, not ENOENT");

    char hook[PATH_MAX];
    struct cordon_host_run_spec spec = {
        .policy = policy,
        .argv = cmd,
        .envp = environ,
        .cwd = cwd,
        .backend = backend,
    };
    if (backend == CORDON_BACKEND_HOOK) {
        if (cordon_find_hook(hook, sizeof hook) < 0)
            cordon_die("cannot find the hook library (looked for '%s')", hook);
        spec.hook = hook;
    }
    (void)fflush(stdout);
    (void)fflush(stderr);
    int status = 0;
    int r = cordon_run_host(&spec, &status, &err);
    cordon_policy_free(policy);
    if (r < 0) {
        cordon_print_error(&err);
        if (r == -ENOENT)
            return CORDON_EXIT_NOT_FOUND;
        if (r == -EACCES)
            return CORDON_EXIT_CANNOT_EXEC;
        return CORDON_EXIT_FAILURE;
    }
    return cordon_exit_code(status);
}
