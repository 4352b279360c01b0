/* cordon verify [--rehash] [--root DIR] [--quiet] MANIFEST */
#include <getopt.h>
#include <stdio.h>

#include <cordon/cli.h>
#include <cordon/error.h>
#include <cordon/manifest.h>
#include <cordon/verify.h>

static const char verify_usage[] =
    "Usage: cordon verify [--rehash] [--root DIR] [--quiet] MANIFEST\n"
    "\n"
    "Check this host against a manifest: inputs changed, missing, or present\n"
    "where the recording found nothing, and consulted variables that differ.\n"
    "See cordon-verify(1).\n"
    "\n"
    "      --rehash     hash every file, even where size, mtime and inode match\n"
    "      --root DIR   check the paths inside DIR instead of /\n"
    "  -q, --quiet      no progress line\n"
    "  -h, --help       show this help\n"
    "\n"
    "Exit status: 0 no difference, 1 differences, 125 error.\n";

int cordon_cmd_verify(int argc, char **argv) {
    enum { OPT_REHASH = 256, OPT_ROOT };
    static const struct option options[] = {
        {"rehash", no_argument, NULL, OPT_REHASH},
        {"root", required_argument, NULL, OPT_ROOT},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    struct cordon_verify_options opts = {0};
    int c;
    optind = 1;
    opterr = 0; /* our own messages, in our own style */
    while ((c = getopt_long(argc, argv, ":qh", options, NULL)) != -1) {
        switch (c) {
        case OPT_REHASH:
            opts.rehash = true;
            break;
        case OPT_ROOT:
            opts.root = optarg;
            break;
        case 'q':
            opts.quiet = true;
            break;
        case 'h':
            fputs(verify_usage, stdout);
            return 0;
        default: /* '?' or ':' */
            cordon_usage_bad_option("verify", c, argv);
        }
    }
    if (argc - optind != 1)
        cordon_usage_error("verify", argc - optind < 1 ? "missing MANIFEST" : "too many arguments");
    struct cordon_error err;
    cordon_error_clear(&err);
    struct cordon_manifest *m = NULL;
    if (cordon_manifest_read(argv[optind], &m, &err) < 0) {
        cordon_print_error(&err);
        return CORDON_EXIT_FAILURE;
    }
    int r = cordon_verify(m, &opts, stdout, &err);
    cordon_manifest_free(m);
    if (r < 0) {
        cordon_print_error(&err);
        return CORDON_EXIT_FAILURE;
    }
    if (fflush(stdout) != 0)
        return CORDON_EXIT_FAILURE;
    return r > 0 ? 1 : 0;
}
