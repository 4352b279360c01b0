/* The front end's messages, exit codes and self-location. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cordon/cli.h>
#include <cordon/error.h>

void cordon_warn(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("cordon: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cordon_die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("cordon: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(CORDON_EXIT_FAILURE);
}

void cordon_usage_error(const char *sub, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "cordon %s: ", sub);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'cordon %s --help'.\n", sub);
    va_end(ap);
    exit(CORDON_EXIT_FAILURE);
}

void cordon_usage_bad_option(const char *sub, int c, char *const *argv) {
    /* getopt has moved optind past the element it complains about, except
     * for an unknown letter inside a cluster ("-qx" then more letters): then
     * that cluster is still argv[optind]. */
    const char *last = optind > 0 ? argv[optind - 1] : "";
    const char *cur = argv[optind];
    bool in_cluster =
        c == '?' && optopt && cur && cur[0] == '-' && cur[1] != '-' && strchr(cur + 1, optopt);
    if (!in_cluster && strncmp(last, "--", 2) == 0) {
        int len = (int)strcspn(last, "=");
        if (c == ':')
            cordon_usage_error(sub, "option '%.*s' needs an argument", len, last);
        /* optopt is set for a known long option given a value it does not take. */
        if (optopt && last[len] == '=')
            cordon_usage_error(sub, "option '%.*s' takes no argument", len, last);
        cordon_usage_error(sub, "unknown option '%.*s'", len, last);
    }
    if (c == ':')
        cordon_usage_error(sub, "option '-%c' needs an argument", optopt);
    cordon_usage_error(sub, "unknown option '-%c'", optopt);
}

void cordon_print_error(const struct cordon_error *e) {
    char buf[PATH_MAX + 1024];
    fprintf(stderr, "cordon: %s\n", cordon_error_format(e, buf, sizeof buf));
}

int cordon_exit_code(int status) {
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return CORDON_EXIT_FAILURE;
}

int cordon_self_dir(char *out, unsigned long size) {
    ssize_t n = readlink("/proc/self/exe", out, size - 1);
    if (n < 0)
        return -errno;
    if ((unsigned long)n >= size - 1)
        return -ENAMETOOLONG;
    out[n] = '\0';
    char *slash = strrchr(out, '/');
    if (!slash)
        return -ENOENT;
    *slash = '\0';
    return 0;
}

int cordon_find_hook(char *out, unsigned long size) {
    const char *env = getenv("CORDON_HOOK_LIBRARY");
    if (env && *env) {
        if ((unsigned long)snprintf(out, size, "%s", env) >= size)
            return -ENAMETOOLONG;
    } else {
        char dir[PATH_MAX];
        int r = cordon_self_dir(dir, sizeof dir);
        if (r < 0)
            return r;
        if ((unsigned long)snprintf(out, size, "%s/%s/libcordon-hook.so", dir,
                                    CORDON_HOOK_RELDIR) >= size)
            return -ENAMETOOLONG;
    }
    char real[PATH_MAX];
    if (!realpath(out, real))
        return -errno;
    if ((unsigned long)snprintf(out, size, "%s", real) >= size)
        return -ENAMETOOLONG;
    return 0;
}
