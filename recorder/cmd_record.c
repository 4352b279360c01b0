/* cordon record: the front end. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <cordon/cli.h>
#include <cordon/error.h>
#include <cordon/record.h>

static const char record_usage[] =
    "Usage: cordon record [-o MANIFEST] [OPTIONS] -- CMD [ARGS...]\n"
    "\n"
    "Run CMD with cordon's hook in every process of its tree and write a manifest of\n"
    "every file it read, probed, listed, executed and wrote, every process, and the\n"
    "variables it consulted, each input hashed (XXH3-128).\n"
    "\n"
    "Options:\n"
    "  -o, --output MANIFEST  where to write the manifest (default: cordon.json)\n"
    "      --worktree DIR     the tree to snapshot before the run (default: the\n"
    "                         current directory)\n"
    "      --store DIR        the content store (default: $XDG_CACHE_HOME/cordon/store)\n"
    "      --no-audit         do not load the LD_AUDIT module (the dynamic\n"
    "                         loader's own searches go unrecorded)\n"
    "      --keep-log         keep the event log (MANIFEST.log) after writing the manifest\n"
    "      --complete=WHEN    observe static programs through seccomp: auto (those\n"
    "                         the hook cannot see; default), always (every process),\n"
    "                         never\n"
    "  -q, --quiet            no progress lines\n"
    "  -h, --help             show this help\n"
    "\n"
    "Exit status: CMD's own status (128+N if it died of signal N); 125 if cordon\n"
    "failed, 126 if CMD cannot be executed, 127 if it is not found. A manifest is\n"
    "written whatever CMD's status. See cordon-record(1).\n";

int cordon_cmd_record(int argc, char **argv) {
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"worktree", required_argument, NULL, 'w'},
        {"store", required_argument, NULL, 's'},
        {"no-audit", no_argument, NULL, 'A'},
        {"keep-log", no_argument, NULL, 'k'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"complete", required_argument, NULL, 'C'},
        {0},
    };
    struct cordon_record_options opts = {.output = "cordon.json"};
    int c;
    opterr = 0; /* one message, ours, rather than getopt's and then ours */
    /* "+": options end at the command, so `cordon record make -j2` works;
     * ":": a missing argument is ':', told apart from an unknown option. */
    while ((c = getopt_long(argc, argv, "+:o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            opts.output = optarg;
            break;
        case 'w':
            opts.worktree = optarg;
            break;
        case 's':
            opts.store = optarg;
            break;
        case 'A':
            opts.no_audit = true;
            break;
        case 'k':
            opts.keep_log = true;
            break;
        case 'C':
            if (!strcmp(optarg, "auto"))
                opts.complete = CORDON_COMPLETE_AUTO;
            else if (!strcmp(optarg, "never"))
                opts.complete = CORDON_COMPLETE_NEVER;
            else if (!strcmp(optarg, "always"))
                opts.complete = CORDON_COMPLETE_ALWAYS;
            else
                cordon_usage_error("record", "invalid --complete '%s' (auto, never or always)",
                                   optarg);
            break;
        case 'q':
            opts.quiet = true;
            break;
        case 'h':
            fputs(record_usage, stdout);
            return 0;
        default: /* '?' or ':' */
            cordon_usage_bad_option("record", c, argv);
        }
    }
    if (optind >= argc)
        cordon_usage_error("record", "no command to record");
    if (!*opts.output)
        cordon_usage_error("record", "empty manifest path");
    opts.argv = argv + optind;

    char hook[PATH_MAX];
    int r = cordon_find_hook(hook, sizeof hook);
    if (r < 0)
        cordon_die("cannot find the hook library '%s': %s (set CORDON_HOOK_LIBRARY)", hook,
                   strerror(-r));
    opts.hook = hook;

    struct cordon_error err;
    cordon_error_clear(&err);
    struct cordon_record_summary summary = {0};
    opts.summary = &summary;
    int status = 0;
    r = cordon_record_run(&opts, &status, &err);
    if (r < 0) {
        cordon_print_error(&err);
        if (r == -ENOENT && err.path[0] && !strcmp(err.path, opts.argv[0]))
            return CORDON_EXIT_NOT_FOUND;
        if ((r == -EACCES || r == -ENOEXEC || r == -EPERM || r == -EISDIR) && err.path[0] &&
            !strcmp(err.path, opts.argv[0]))
            return CORDON_EXIT_CANNOT_EXEC;
        return CORDON_EXIT_FAILURE;
    }
    if (!opts.quiet)
        fprintf(stderr,
                "cordon: wrote '%s': %zu inputs (%zu looked for and missing), %zu outputs, "
                "%zu processes, %s\n",
                opts.output, summary.inputs, summary.missing, summary.outputs, summary.processes,
                summary.gaps ? "coverage gaps listed in it" : "no coverage gaps");
    return cordon_exit_code(status);
}
