/* cordon import --from FORMAT [-o MANIFEST] [--cwd DIR] [--home DIR] [--no-hash] [--quiet] LOG */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cordon/cli.h>
#include <cordon/error.h>
#include <cordon/import.h>
#include <cordon/manifest.h>

static const char import_usage[] =
    "Usage: cordon import --from FORMAT [-o MANIFEST] [--cwd DIR] [--home DIR] [--no-hash]\n"
    "                     [--quiet] LOG\n"
    "\n"
    "Turn another tracer's log into a manifest: strace (-f, -ff, -y, -tt, -s),\n"
    "fs_usage and dtruss (macOS), kdump (OpenBSD, FreeBSD ktrace). Files that\n"
    "exist on this host are hashed; the others are marked unhashed.\n"
    "See cordon-import(1).\n"
    "\n"
    "      --from FORMAT  strace, fs_usage, dtruss or kdump\n"
    "  -o, --output FILE  the manifest to write (default: cordon.json; - for stdout)\n"
    "      --cwd DIR      the traced command's working directory, when the log lacks it\n"
    "      --home DIR     the traced user's home directory (default: from the log's\n"
    "                     environment, else inferred from its paths)\n"
    "      --no-hash      do not hash: inputs whose content matters are marked unhashed\n"
    "  -q, --quiet        no progress line, no summary\n"
    "  -h, --help         show this help\n"
    "\n"
    "For strace -ff, LOG is the directory of LOG.PID files or their common prefix.\n"
    "Exit status: 0 written, 125 error.\n";

/* How many of the parser's warnings are printed before the summary. */
#define SHOWN_WARNINGS 3

int cordon_cmd_import(int argc, char **argv) {
    enum { OPT_FROM = 256, OPT_CWD, OPT_HOME, OPT_NO_HASH };
    static const struct option options[] = {
        {"from", required_argument, NULL, OPT_FROM},
        {"output", required_argument, NULL, 'o'},
        {"cwd", required_argument, NULL, OPT_CWD},
        {"home", required_argument, NULL, OPT_HOME},
        {"no-hash", no_argument, NULL, OPT_NO_HASH},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    const char *arg_from = NULL, *arg_output = "cordon.json", *arg_cwd = NULL, *arg_home = NULL;
    bool arg_no_hash = false, arg_quiet = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:qh", options, NULL)) != -1) {
        switch (c) {
        case OPT_FROM:
            arg_from = optarg;
            break;
        case 'o':
            arg_output = optarg;
            break;
        case OPT_CWD:
            arg_cwd = optarg;
            break;
        case OPT_HOME:
            arg_home = optarg;
            break;
        case OPT_NO_HASH:
            arg_no_hash = true;
            break;
        case 'q':
            arg_quiet = true;
            break;
        case 'h':
            fputs(import_usage, stdout);
            return 0;
        default: /* '?' or ':' */
            cordon_usage_bad_option("import", c, argv);
        }
    }
    if (!arg_from)
        cordon_usage_error("import", "missing --from FORMAT (strace, fs_usage, dtruss or kdump)");
    enum cordon_import_format format = cordon_import_format_from_name(arg_from);
    if (format < 0)
        cordon_usage_error("import", "unknown format '%s' (strace, fs_usage, dtruss or kdump)",
                           arg_from);
    if (argc - optind != 1)
        cordon_usage_error("import", argc - optind < 1 ? "missing LOG" : "too many arguments");
    if (arg_cwd && arg_cwd[0] != '/')
        cordon_usage_error("import", "--cwd needs an absolute directory, not '%s'", arg_cwd);
    if (arg_home && arg_home[0] != '/')
        cordon_usage_error("import", "--home needs an absolute directory, not '%s'", arg_home);
    const char *log = argv[optind];

    struct cordon_error err;
    cordon_error_clear(&err);
    struct cordon_import *imp = cordon_import_new(format);
    if (!imp)
        cordon_die("out of memory");
    if ((arg_cwd && cordon_import_set_cwd(imp, arg_cwd) < 0) ||
        (arg_home && cordon_import_set_home(imp, arg_home) < 0))
        cordon_die("out of memory");
    struct cordon_import_source *srcs = NULL;
    size_t n = 0;
    struct cordon_manifest *m = NULL;
    int status = CORDON_EXIT_FAILURE;
    if (cordon_import_load(format, log, &srcs, &n, &err) < 0 ||
        cordon_import_parse(imp, srcs, n, &err) < 0) {
        cordon_print_error(&err);
        goto out;
    }
    size_t problems = cordon_import_n_problems(imp);
    for (size_t i = 0; i < cordon_import_n_warnings(imp) && i < SHOWN_WARNINGS; i++)
        cordon_warn("%s", cordon_import_warning(imp, i));
    if (problems > SHOWN_WARNINGS || (problems && n > 1))
        cordon_warn("%zu lines of '%s' not understood or incomplete (%zu understood); they are "
                    "left out and counted in the manifest's coverage",
                    problems, log, cordon_import_n_understood(imp));
    const char *logs[] = {log};
    struct cordon_import_build_options bo = {
        .no_hash = arg_no_hash,
        .quiet = arg_quiet,
        .logs = logs,
        .n_logs = 1,
    };
    if (cordon_import_build(imp, &bo, &m, &err) < 0 ||
        cordon_manifest_write(m, arg_output, &err) < 0) {
        cordon_print_error(&err);
        goto out;
    }
    if (!arg_quiet) {
        size_t missing = 0, unhashed = 0;
        for (size_t i = 0; i < m->n_inputs; i++) {
            missing += m->inputs[i].type == CORDON_FT_MISSING;
            unhashed += (m->inputs[i].flags & CORDON_INPUT_UNHASHED) != 0;
        }
        fprintf(stderr,
                "cordon: imported %zu inputs (%zu missing, %zu unhashed), %zu outputs, %zu "
                "processes from %s log '%s' into '%s'\n",
                m->n_inputs, missing, unhashed, m->n_outputs, m->n_processes,
                cordon_import_format_name(format), log, arg_output);
    }
    status = 0;
out:
    cordon_manifest_free(m);
    cordon_import_sources_free(srcs, n);
    cordon_import_free(imp);
    return status;
}
