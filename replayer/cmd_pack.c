/* cordon pack MANIFEST -o ARCHIVE: the front end of cordon_pack. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <cordon/classify.h>
#include <cordon/cli.h>
#include <cordon/error.h>
#include <cordon/manifest.h>
#include <cordon/pack.h>
#include <cordon/util.h>

static void print_warning(void *ctx, const char *text) {
    (void)ctx;
    cordon_warn("warning: %s", text);
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The format an output name asks for; tar.zst when it does not say. */
static enum cordon_pack_format format_from_output(const char *out) {
    if (ends_with(out, ".tar.gz") || ends_with(out, ".tgz"))
        return CORDON_PACK_TAR_GZ;
    if (ends_with(out, ".tar"))
        return CORDON_PACK_TAR;
    if (ends_with(out, "/"))
        return CORDON_PACK_DIR;
    return CORDON_PACK_TAR_ZSTD;
}

static void usage(FILE *f) {
    fputs("Usage: cordon pack MANIFEST -o ARCHIVE [--format tar.zst|tar|tar.gz|dir]\n"
          "                   [--drop CATEGORY]... [--include credentials] [--store DIR]\n"
          "                   [--quiet]\n"
          "Pack the inputs of MANIFEST into a minimal root (see cordon-pack(1)).\n",
          f);
}

static void valid_categories(char *buf, size_t size) {
    size_t n = 0;
    buf[0] = '\0';
    for (int c = 0; c < CORDON_CAT_MAX; c++) {
        int w = snprintf(buf + n, size - n, "%s%s", c ? ", " : "",
                         cordon_category_name((enum cordon_category)c));
        if (w < 0 || (size_t)w >= size - n)
            break;
        n += (size_t)w;
    }
}

int cordon_cmd_pack(int argc, char **argv) {
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"format", required_argument, NULL, 'f'},
        {"drop", required_argument, NULL, 'd'},   {"include", required_argument, NULL, 'i'},
        {"store", required_argument, NULL, 's'},  {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},         {0},
    };
    struct cordon_pack_options o = {.format = CORDON_PACK_FORMAT_INVALID};
    const char *arg_format = NULL;
    int c;
    optind = 1;
    opterr = 0; /* one message, ours, rather than getopt's and then ours */
    while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            o.output = optarg;
            break;
        case 'f':
            arg_format = optarg;
            o.format = cordon_pack_format_from_name(optarg);
            if (o.format == CORDON_PACK_FORMAT_INVALID)
                cordon_usage_error("pack", "unknown format '%s' (valid: tar.zst, tar, tar.gz, dir)",
                                   optarg);
            break;
        case 'd': {
            enum cordon_category cat = cordon_category_from_name(optarg);
            if (cat == CORDON_CAT_INVALID) {
                char list[1024];
                valid_categories(list, sizeof list);
                cordon_usage_error("pack", "unknown category '%s' (valid: %s)", optarg, list);
            }
            o.drop |= 1u << cat;
            break;
        }
        case 'i':
            if (strcmp(optarg, "credentials") != 0)
                cordon_usage_error("pack", "--include takes 'credentials', not '%s'", optarg);
            o.include_credentials = true;
            break;
        case 's':
            o.store = optarg;
            break;
        case 'q':
            o.quiet = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default: /* '?' or ':' */
            cordon_usage_bad_option("pack", c, argv);
        }
    }
    if (optind >= argc)
        cordon_usage_error("pack", "missing the manifest");
    if (optind + 1 < argc)
        cordon_usage_error("pack", "unexpected argument '%s'", argv[optind + 1]);
    if (!o.output)
        cordon_usage_error("pack", "missing -o ARCHIVE");
    if (!arg_format)
        o.format = format_from_output(o.output);
    /* --drop credentials wins over --include credentials. */
    if (o.drop & (1u << CORDON_CAT_CREDENTIALS))
        o.include_credentials = false;

    const char *path = argv[optind];
    struct cordon_error err = {0};
    struct cordon_manifest *m = NULL;
    int r = cordon_manifest_read(path, &m, &err);
    if (r < 0) {
        cordon_print_error(&err);
        return CORDON_EXIT_FAILURE;
    }
    o.manifest = m;
    o.manifest_path = path;

    char hook[PATH_MAX];
    r = cordon_find_hook(hook, sizeof hook);
    if (r < 0)
        cordon_warn("warning: no hook library at '%s' (%s): the root carries none", hook,
                    strerror(-r));
    else
        o.hook = hook;

    struct cordon_pack_stats st = {0};
    r = cordon_pack(&o, &st, print_warning, NULL, &err);
    cordon_manifest_free(m);
    if (r < 0) {
        cordon_print_error(&err);
        return CORDON_EXIT_FAILURE;
    }
    if (!o.quiet)
        printf("packed %llu files (%llu sparse), %llu dirs, %llu symlinks, %.1f MB into %s\n",
               (unsigned long long)st.files + st.sparse, (unsigned long long)st.sparse,
               (unsigned long long)st.dirs, (unsigned long long)st.symlinks, (double)st.bytes / 1e6,
               o.output);
    return 0;
}
