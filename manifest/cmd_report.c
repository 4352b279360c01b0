/* cordon report MANIFEST: the breaches a manifest shows, explained, with fixes. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cordon/classify.h>
#include <cordon/cli.h>
#include <cordon/error.h>
#include <cordon/manifest.h>
#include <cordon/report.h>
#include <cordon/util.h>

static const char report_usage[] =
    "Usage: cordon report [--format text|markdown|json|html] [--declare PATH]...\n"
    "                     [--no-owners] [-o FILE] MANIFEST\n"
    "\n"
    "Explain what a recorded build read beyond what it declares: each breach\n"
    "(user and site configuration, credentials, caches, user package registries,\n"
    "system headers and libraries, undeclared reads, writes outside the work\n"
    "tree) with the package that owns it, the program and its ancestry, why it\n"
    "matters and a fix. See cordon-report(1).\n"
    "\n"
    "  -f, --format FMT     text (default), markdown, json or html\n"
    "  -d, --declare PATH   a prefix the build declares besides its work tree\n"
    "                       (repeatable)\n"
    "      --no-owners      do not look up which package owns each file\n"
    "  -o, --output FILE    write the report to FILE instead of stdout\n"
    "  -h, --help           show this help\n"
    "\n"
    "Exit status: 0 no breach, 1 breaches found, 125 error.\n";

enum format { FMT_TEXT, FMT_MARKDOWN, FMT_JSON, FMT_HTML };

int cordon_cmd_report(int argc, char **argv) {
    static const struct option options[] = {
        {"format", required_argument, NULL, 'f'}, {"declare", required_argument, NULL, 'd'},
        {"no-owners", no_argument, NULL, 'N'},    {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},         {0}};
    enum format fmt = FMT_TEXT;
    const char *arg_output = NULL;
    bool arg_no_owners = false;
    char **arg_declare = calloc((size_t)argc + 1, sizeof *arg_declare);
    size_t n_declare = 0;
    if (!arg_declare)
        cordon_die("out of memory");
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":f:d:o:h", options, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (!strcmp(optarg, "text"))
                fmt = FMT_TEXT;
            else if (!strcmp(optarg, "markdown") || !strcmp(optarg, "md"))
                fmt = FMT_MARKDOWN;
            else if (!strcmp(optarg, "json"))
                fmt = FMT_JSON;
            else if (!strcmp(optarg, "html"))
                fmt = FMT_HTML;
            else
                cordon_usage_error(
                    "report", "unknown format '%s' (valid: text, markdown, json, html)", optarg);
            break;
        case 'd': {
            char buf[PATH_MAX];
            if (optarg[0] != '/') {
                char cwd[PATH_MAX];
                if (!getcwd(cwd, sizeof cwd) || cordon_path_join(cwd, optarg, buf, sizeof buf) < 0)
                    cordon_usage_error("report", "cannot make '%s' absolute", optarg);
            } else {
                if (strlen(optarg) >= sizeof buf)
                    cordon_usage_error("report", "'%s': name too long", optarg);
                strcpy(buf, optarg);
                cordon_path_normalize(buf);
            }
            if (!(arg_declare[n_declare++] = strdup(buf)))
                cordon_die("out of memory");
            break;
        }
        case 'N':
            arg_no_owners = true;
            break;
        case 'o':
            arg_output = optarg;
            break;
        case 'h':
            fputs(report_usage, stdout);
            cordon_strv_free(arg_declare);
            return 0;
        default:
            cordon_usage_bad_option("report", c, argv);
        }
    }
    if (argc - optind != 1)
        cordon_usage_error("report",
                           argc - optind < 1 ? "expected a manifest" : "too many arguments");
    const char *path = argv[optind];

    struct cordon_error err;
    cordon_error_clear(&err);
    struct cordon_manifest *m = NULL;
    struct cordon_kb *kb = NULL;
    struct cordon_owners *owners = NULL;
    struct cordon_report *r = NULL;
    FILE *out = stdout;
    int code = CORDON_EXIT_FAILURE;
    char kdir[PATH_MAX];
    if (cordon_manifest_read(path, &m, &err) < 0) {
        cordon_print_error(&err);
        goto out;
    }
    if (cordon_kb_find_dir(kdir, sizeof kdir) < 0) {
        const char *env = getenv("CORDON_KNOWLEDGE_DIR");
        if (env && *env)
            cordon_warn("cannot open the knowledge directory '%s' (CORDON_KNOWLEDGE_DIR): %s", env,
                        strerror(ENOENT));
        else
            cordon_warn("cannot find the knowledge base (share/cordon/knowledge beside cordon; "
                        "set CORDON_KNOWLEDGE_DIR)");
        goto out;
    }
    if (cordon_kb_load_dir(kdir, &kb, &err) < 0) {
        cordon_print_error(&err);
        goto out;
    }
    if (!arg_no_owners && !(owners = cordon_owners_new_host()))
        cordon_die("out of memory");
    if (cordon_report_build(m, path, kb, owners, arg_declare, &r, &err) < 0) {
        cordon_print_error(&err);
        goto out;
    }
    if (arg_output && strcmp(arg_output, "-") != 0 && !(out = fopen(arg_output, "we"))) {
        cordon_warn("cannot create '%s': %s", arg_output, strerror(errno));
        out = stdout;
        goto out;
    }
    int w = fmt == FMT_TEXT       ? cordon_report_write_text(r, out)
            : fmt == FMT_MARKDOWN ? cordon_report_write_markdown(r, out)
            : fmt == FMT_JSON     ? cordon_report_write_json(r, out)
                                  : cordon_report_write_html(r, out);
    if (fflush(out) != 0 || ferror(out))
        w = -EIO;
    if (out != stdout && fclose(out) != 0 && w == 0)
        w = -errno;
    out = stdout;
    if (w < 0) {
        cordon_warn("cannot write the report to '%s': %s", arg_output ? arg_output : "stdout",
                    strerror(-w));
        goto out;
    }
    code = r->n_breaches ? 1 : 0;
out:
    if (out != stdout)
        fclose(out);
    cordon_report_free(r);
    cordon_owners_free(owners);
    cordon_kb_free(kb);
    cordon_manifest_free(m);
    cordon_strv_free(arg_declare);
    return code;
}
