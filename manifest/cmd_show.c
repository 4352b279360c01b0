/* cordon show MANIFEST: a summary for a human. */
#include <getopt.h>
#include <stdio.h>

#include <cordon/cli.h>
#include <cordon/error.h>
#include <cordon/manifest.h>
#include <cordon/verify.h>

static const char show_usage[] = "Usage: cordon show MANIFEST\n"
                                 "\n"
                                 "Summarise a manifest: command, host, inputs by type, use,\n"
                                 "directory and category, the largest inputs, processes and\n"
                                 "coverage gaps. See cordon-show(1).\n"
                                 "\n"
                                 "  -h, --help   show this help\n";

int cordon_cmd_show(int argc, char **argv) {
    static const struct option options[] = {{"help", no_argument, NULL, 'h'}, {0}};
    int c;
    optind = 1;
    opterr = 0; /* our own messages, in our own style */
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(show_usage, stdout);
            return 0;
        default: /* '?' or ':' */
            cordon_usage_bad_option("show", c, argv);
        }
    }
    if (argc - optind != 1)
        cordon_usage_error("show", argc - optind < 1 ? "missing MANIFEST" : "too many arguments");
    struct cordon_error err;
    cordon_error_clear(&err);
    struct cordon_manifest *m = NULL;
    if (cordon_manifest_read(argv[optind], &m, &err) < 0) {
        cordon_print_error(&err);
        return CORDON_EXIT_FAILURE;
    }
    int r = cordon_show(m, stdout, &err);
    cordon_manifest_free(m);
    if (r < 0) {
        cordon_print_error(&err);
        return CORDON_EXIT_FAILURE;
    }
    if (fflush(stdout) != 0)
        return CORDON_EXIT_FAILURE;
    return 0;
}
