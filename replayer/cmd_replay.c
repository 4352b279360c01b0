/* cordon replay: the front end. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <cordon/cli.h>
#include <cordon/error.h>
#include <cordon/replay.h>

static const char replay_usage[] =
    "Usage: cordon replay ARCHIVE [OPTIONS] [-- CMD [ARGS...]]\n"
    "       cordon replay --root DIR [OPTIONS] [-- CMD [ARGS...]]\n"
    "\n"
    "Unpack ARCHIVE (made by cordon pack), rerun the recorded command (or CMD)\n"
    "inside it with the recorded working directory and environment, and compare\n"
    "its outputs with the recorded ones.\n"
    "\n"
    "Options:\n"
    "      --backend RUNNER  auto (default), namespace or fakechroot\n"
    "      --into DIR        unpack into DIR (absent or empty) instead of the cache,\n"
    "                        and keep it there\n"
    "      --root DIR        run in DIR, a root unpacked before, as it is\n"
    "      --record          record the replay too and report what the root lacked\n"
    "      --check           exit 1 when the command succeeded but outputs differ\n"
    "  -q, --quiet           no progress or summary lines\n"
    "  -h, --help            show this help\n"
    "\n"
    "Without --into the root is unpacked once into $XDG_CACHE_HOME/cordon/roots/\n"
    "(keyed by the archive's XXH3-128) and each replay runs in a fresh copy made of\n"
    "hard links beside it (KEY.run/), with the work tree and the outputs copied.\n"
    "\n"
    "Exit status: the command's own status (128+N if it died of signal N), also\n"
    "when outputs differ unless --check is given; 125 if cordon failed, 126 if the\n"
    "command cannot be executed in the root, 127 if it is not found there.\n"
    "See cordon-replay(1).\n";

static void print_warning(void *ctx, const char *text) {
    (void)ctx;
    cordon_warn("%s", text);
}

int cordon_cmd_replay(int argc, char **argv) {
    static const struct option longopts[] = {
        {"backend", required_argument, NULL, 'b'}, {"into", required_argument, NULL, 'i'},
        {"root", required_argument, NULL, 'R'},    {"record", no_argument, NULL, 'r'},
        {"check", no_argument, NULL, 'c'},         {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},          {0},
    };
    struct cordon_replay_options opts = {.backend = CORDON_BACKEND_AUTO, .warn = print_warning};
    bool check = false;
    /* The command starts after the first "--"; options and ARCHIVE, in any
     * order, come before it. */
    int ncmd = argc;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--")) {
            ncmd = i;
            break;
        }
    int c;
    opterr = 0; /* one message, ours, rather than getopt's and then ours */
    while ((c = getopt_long(ncmd, argv, ":qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            opts.backend = cordon_backend_from_name(optarg);
            if (opts.backend != CORDON_BACKEND_AUTO && opts.backend != CORDON_BACKEND_NAMESPACE &&
                opts.backend != CORDON_BACKEND_FAKECHROOT)
                cordon_usage_error("replay", "unknown backend '%s' (auto, namespace or fakechroot)",
                                   optarg);
            break;
        case 'i':
            opts.into = optarg;
            break;
        case 'R':
            opts.root = optarg;
            break;
        case 'r':
            opts.record = true;
            break;
        case 'c':
            check = true;
            break;
        case 'q':
            opts.quiet = true;
            break;
        case 'h':
            (void)fputs(replay_usage, stdout);
            return 0;
        default: /* '?' or ':' */
            cordon_usage_bad_option("replay", c, argv);
        }
    }
    int nargs = ncmd - optind;
    if (opts.root) {
        if (opts.into)
            cordon_usage_error("replay", "--root and --into exclude each other");
        if (nargs > 0)
            cordon_usage_error("replay", "unexpected argument '%s' with --root", argv[optind]);
    } else {
        if (nargs < 1)
            cordon_usage_error("replay", "no archive to replay");
        if (nargs > 1)
            cordon_usage_error("replay", "unexpected argument '%s' (a command goes after --)",
                               argv[optind + 1]);
        opts.archive = argv[optind];
        if (!*opts.archive)
            cordon_usage_error("replay", "empty archive path");
    }
    if (ncmd < argc) {
        if (ncmd + 1 >= argc)
            cordon_usage_error("replay", "no command after --");
        opts.argv = argv + ncmd + 1;
    }

    char hook[PATH_MAX];
    if (opts.record) {
        /* The archive carries a hook; this cordon's is the fallback. */
        if (cordon_find_hook(hook, sizeof hook) == 0)
            opts.hook = hook;
    }

    if (opts.backend == CORDON_BACKEND_AUTO) {
        int u = cordon_userns_available();
        if (u == 0) {
            opts.backend = CORDON_BACKEND_NAMESPACE;
            if (!opts.quiet)
                cordon_warn("replaying with namespace (user namespaces available)");
        } else {
            char why[512];
            opts.backend = CORDON_BACKEND_FAKECHROOT;
            if (!opts.quiet)
                cordon_warn("replaying with fakechroot (user namespaces unavailable: %s)",
                            cordon_userns_reason(-u, why, sizeof why));
        }
    } else if (!opts.quiet) {
        cordon_warn("replaying with %s", cordon_backend_name(opts.backend));
    }
    (void)fflush(stdout);
    (void)fflush(stderr);

    struct cordon_replay_result res;
    struct cordon_error err;
    cordon_error_clear(&err);
    int r = cordon_replay(&opts, &res, stdout, &err);
    (void)fflush(stdout);
    if (r < 0) {
        cordon_print_error(&err);
        if (res.exec_error == ENOENT)
            return CORDON_EXIT_NOT_FOUND;
        if (res.exec_error)
            return CORDON_EXIT_CANNOT_EXEC;
        return CORDON_EXIT_FAILURE;
    }
    if (!opts.quiet)
        cordon_warn("root: %s%s", res.root, res.reused && !opts.root ? " (cached)" : "");
    int code = cordon_exit_code(res.status);
    if (check && code == 0 && res.outputs_differ)
        return 1;
    return code;
}
