/* cordon export --to FORMAT MANIFEST|POLICY [-- CMD...]: the front end of
 * cordon_export_manifest and cordon_export_policy. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cordon/cli.h>
#include <cordon/error.h>
#include <cordon/export.h>
#include <cordon/manifest.h>
#include <cordon/policy.h>
#include <cordon/util.h>

static void usage(FILE *f) {
    fputs("Usage: cordon export --to bwrap|sandbox-exec|unveil|landlock [-o FILE] [--collapse]\n"
          "                     [--network on|off] [--host-root DIR] MANIFEST|POLICY [-- CMD...]\n"
          "Write a manifest's inputs, or a policy, as a sandbox's own configuration\n"
          "(see cordon-export(1)).\n",
          f);
}

/* The whole file (or stdin for "-"), NUL-terminated. */
static int read_all(const char *path, char **ret, size_t *ret_len) {
    _cleanup_fclose_ FILE *f = strcmp(path, "-") == 0 ? NULL : fopen(path, "re");
    FILE *in = strcmp(path, "-") == 0 ? stdin : f;
    if (!in)
        return -errno;
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        cordon_strbuf_addn(&sb, buf, n);
    if (ferror(in)) {
        int e = errno ? errno : EIO;
        cordon_strbuf_release(&sb);
        return -e;
    }
    if (sb.failed) {
        cordon_strbuf_release(&sb);
        return -ENOMEM;
    }
    *ret_len = sb.len;
    *ret = cordon_strbuf_detach(&sb);
    return *ret ? 0 : -ENOMEM;
}

/* A manifest is a JSON object; a policy is text whose first word is a
 * keyword, never "{". */
static bool looks_like_manifest(const char *text) {
    text += strspn(text, " \t\r\n");
    return *text == '{';
}

static int write_output(const char *path, const char *text, bool executable) {
    if (!path || strcmp(path, "-") == 0) {
        if (fputs(text, stdout) < 0 || fflush(stdout) != 0)
            cordon_die("cannot write the export: %s", strerror(errno));
        return 0;
    }
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path) >= sizeof tmp)
        cordon_die("'%s': name too long", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        cordon_die("cannot create '%s': %s", tmp, strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int e = errno;
        close(fd);
        unlink(tmp);
        cordon_die("cannot write '%s': %s", tmp, strerror(e));
    }
    bool ok = fputs(text, f) >= 0;
    ok &= fchmod(fileno(f), executable ? 0755 : 0644) == 0;
    int e = errno;
    if (fclose(f) != 0 && ok) {
        ok = false;
        e = errno;
    }
    if (!ok || rename(tmp, path) < 0) {
        e = ok ? errno : e;
        unlink(tmp);
        cordon_die("cannot write '%s': %s", path, strerror(e));
    }
    return 0;
}

int cordon_cmd_export(int argc, char **argv) {
    static const struct option longopts[] = {
        {"to", required_argument, NULL, 't'},
        {"output", required_argument, NULL, 'o'},
        {"collapse", no_argument, NULL, 'c'},
        {"network", required_argument, NULL, 'n'},
        {"host-root", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    struct cordon_export_options o = {.format = CORDON_EXPORT_FORMAT_INVALID, .network = -1};
    const char *arg_output = NULL;
    /* What follows "--" is the command, which getopt must not see. */
    int nopt = argc;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--") == 0) {
            nopt = i;
            break;
        }
    char **cmd = nopt < argc ? argv + nopt + 1 : NULL;
    int c;
    optind = 1;
    opterr = 0; /* one message, ours, rather than getopt's and then ours */
    while ((c = getopt_long(nopt, argv, ":t:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 't':
            o.format = cordon_export_format_from_name(optarg);
            if (o.format == CORDON_EXPORT_FORMAT_INVALID)
                cordon_usage_error("export",
                                   "unknown format '%s' (valid: bwrap, sandbox-exec, unveil, "
                                   "landlock)",
                                   optarg);
            break;
        case 'o':
            arg_output = optarg;
            break;
        case 'c':
            o.collapse = true;
            break;
        case 'n':
            if (strcmp(optarg, "on") == 0)
                o.network = 1;
            else if (strcmp(optarg, "off") == 0)
                o.network = 0;
            else
                cordon_usage_error("export", "--network takes 'on' or 'off', not '%s'", optarg);
            break;
        case 'r':
            o.host_root = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default: /* '?' or ':' */
            cordon_usage_bad_option("export", c, argv);
        }
    }
    if (o.format == CORDON_EXPORT_FORMAT_INVALID)
        cordon_usage_error("export", "missing --to FORMAT");
    if (optind >= nopt)
        cordon_usage_error("export", "missing the manifest or policy");
    if (optind + 1 < nopt)
        cordon_usage_error("export", "unexpected argument '%s' (the command goes after '--')",
                           argv[optind + 1]);
    if (cmd && !cmd[0])
        cordon_usage_error("export", "no command after '--'");
    o.argv = cmd;
    const char *path = argv[optind];

    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    int r = read_all(path, &text, &len);
    if (r < 0 || !text)
        cordon_die("cannot read '%s': %s", path, strerror(r < 0 ? -r : ENOMEM));

    struct cordon_error err = {0};
    _cleanup_free_ char *out = NULL;
    _cleanup_free_ char *source = NULL;
    if (looks_like_manifest(text)) {
        struct cordon_manifest *m = NULL;
        r = cordon_manifest_loadb(text, len, path, &m, &err);
        if (r < 0) {
            cordon_print_error(&err);
            return CORDON_EXIT_FAILURE;
        }
        if (asprintf(&source, "manifest '%s'", path) < 0)
            cordon_die("out of memory");
        o.source = source;
        r = cordon_export_manifest(m, &o, &out, &err);
        cordon_manifest_free(m);
    } else {
        if (strlen(text) != len)
            cordon_die("'%s' is neither a manifest nor a policy (it holds a NUL byte)", path);
        struct cordon_policy *p = cordon_policy_new();
        if (!p)
            cordon_die("out of memory");
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash)
            slash == dir ? (void)(slash[1] = '\0') : (void)(*slash = '\0');
        struct cordon_policy_vars vars = {0};
        r = cordon_policy_load_string(p, text, path, slash ? dir : ".", &vars, &err);
        if (r < 0) {
            cordon_policy_free(p);
            cordon_print_error(&err);
            return CORDON_EXIT_FAILURE;
        }
        if (asprintf(&source, "policy '%s'", path) < 0)
            cordon_die("out of memory");
        o.source = source;
        r = cordon_export_policy(p, &o, &out, &err);
        cordon_policy_free(p);
    }
    if (r < 0) {
        cordon_print_error(&err);
        return CORDON_EXIT_FAILURE;
    }
    write_output(arg_output, out, o.format == CORDON_EXPORT_BWRAP);
    return 0;
}
