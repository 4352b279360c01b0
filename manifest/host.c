/* What machine this is: uname, the distribution's name, the C library. */
#include <errno.h>
#include <gnu/libc-version.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <cordon/manifest.h>
#include <cordon/util.h>

/* PRETTY_NAME from os-release(5): /etc/os-release, else /usr/lib/os-release.
 * The value may be quoted with ' or " and use backslash escapes. New, or
 * NULL when there is none (not an error). */
static char *os_release_pretty(void) {
    static const char *const files[] = {"/etc/os-release", "/usr/lib/os-release"};
    for (size_t f = 0; f < CORDON_ARRAY_SIZE(files); f++) {
        _cleanup_fclose_ FILE *fp = fopen(files[f], "re");
        if (!fp)
            continue;
        char line[1024];
        while (fgets(line, sizeof line, fp)) {
            if (strncmp(line, "PRETTY_NAME=", 12) != 0)
                continue;
            char *v = line + 12, *o = v;
            char quote = (*v == '"' || *v == '\'') ? *v++ : 0;
            for (; *v && *v != '\n'; v++) {
                if (quote && *v == quote)
                    break;
                if (*v == '\\' && v[1])
                    v++;
                *o++ = *v;
            }
            *o = '\0';
            return strdup(line + 12);
        }
    }
    return NULL;
}

int cordon_host_probe(struct cordon_host *h) {
    struct utsname u;
    struct cordon_host n = {0};
    if (uname(&u) < 0)
        memset(&u, 0, sizeof u);
    char libc[64];
    snprintf(libc, sizeof libc, "glibc %s", gnu_get_libc_version());
    n.os = strdup(u.sysname[0] ? u.sysname : "unknown");
    n.arch = strdup(u.machine[0] ? u.machine : "unknown");
    n.kernel = strdup(u.release[0] ? u.release : "unknown");
    n.distro = os_release_pretty();
    n.libc = strdup(libc);
    if (!n.os || !n.arch || !n.kernel || !n.libc) {
        free(n.os);
        free(n.arch);
        free(n.kernel);
        free(n.distro);
        free(n.libc);
        return -ENOMEM;
    }
    *h = n;
    return 0;
}
