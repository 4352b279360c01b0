/* cordon diff A B: two manifests, likely cause first. */
#include <getopt.h>
#include <stdio.h>

#include <cordon/cli.h>
#include <cordon/error.h>
#include <cordon/manifest.h>
#include <cordon/verify.h>

static const char diff_usage[] = "Usage: cordon diff A B\n"
                                 "\n"
                                 "Compare two manifests and print what differs, the likely\n"
                                 "cause of a different build first. See cordon-diff(1).\n"
                                 "\n"
                                 "  -h, --help   show this help\n"
                                 "\n"
                                 "Exit status: 0 no difference, 1 differences, 125 error.\n";

int cordon_cmd_diff(int argc, char **argv) {
    static const struct option options[] = {{"help", no_argument, NULL, 'h'}, {0}};
    int c;
    optind = 1;
    opterr = 0; /* our own messages, in our own style */
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(diff_usage, stdout);
            return 0;
        default: /* '?' or ':' */
            cordon_usage_bad_option("diff", c, argv);
        }
    }
    if (argc - optind != 2)
        cordon_usage_error("diff", argc - optind < 2 ? "expected two manifests, A and B"
                                                     : "too many arguments");
    struct cordon_error err;
    cordon_error_clear(&err);
    struct cordon_manifest *a = NULL, *b = NULL;
    if (cordon_manifest_read(argv[optind], &a, &err) < 0 ||
        cordon_manifest_read(argv[optind + 1], &b, &err) < 0) {
        cordon_print_error(&err);
        cordon_manifest_free(a);
        return CORDON_EXIT_FAILURE;
    }
    int r = cordon_diff(a, b, stdout, &err);
    cordon_manifest_free(a);
    cordon_manifest_free(b);
    if (r < 0) {
        cordon_print_error(&err);
        return CORDON_EXIT_FAILURE;
    }
    if (fflush(stdout) != 0)
        return CORDON_EXIT_FAILURE;
    return r > 0 ? 1 : 0;
}
