/* libcordon-shebang.so: preloaded just before libfakechroot.so by the
 * fakechroot runner, it does the kernel's part of a #! exec itself.
 *
 * fakechroot 2.20.1's execve() runs a script through FAKECHROOT_ELFLOADER
 * wrongly when FAKECHROOT_ELFLOADER_OPT_ARGV0 is set: it shifts the new argv
 * (interpreter, its argument, the script, the arguments) by three slots to
 * make room for "LOADER --argv0 ARGV0" but moves only n+1 of the n+3 entries,
 * so the script loses its last two arguments (`sh -c './configure
 * --prefix=P'` ran configure as `./configure`; dex4er/fakechroot#124, not
 * merged). Without --argv0 every later program would see the host path of
 * its file as argv[0], which gcc takes as the base of its own install
 * (cc1 then is not found). So: a #! file is executed here as the kernel
 * would, as its interpreter with [INTERP, [ARG,] PATH, argv[1]...], which
 * fakechroot's execve() runs as an ELF program, correctly.
 *
 * Calls from here to open() and read() reach libfakechroot's wrappers (the
 * next definitions in the lookup order), so PATH is read inside the root.
 * fakechroot's own execv*() call execve() through the PLT and come here too.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int execve_fn(const char *, char *const[], char *const[]);

/* The kernel reads this much of the first line (BINPRM_BUF_SIZE). */
#define LINE_MAX_BYTES 256

__attribute__((visibility("default"))) int execve(const char *path, char *const argv[],
                                                  char *const envp[]) {
    static execve_fn *next;
    if (!next)
        next = (execve_fn *)dlsym(RTLD_NEXT, "execve");
    if (!next) {
        errno = ENOSYS;
        return -1;
    }
    int saved = errno;
    char line[LINE_MAX_BYTES + 1];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        errno = saved;
        return next(path, argv, envp); /* let it report the error */
    }
    ssize_t n = read(fd, line, LINE_MAX_BYTES);
    (void)close(fd);
    errno = saved;
    if (n < 2 || line[0] != '#' || line[1] != '!')
        return next(path, argv, envp);
    line[n] = '\0';
    char *end = strchr(line, '\n');
    if (end)
        *end = '\0';

    /* As the kernel: the interpreter up to a blank, then the rest of the
     * line, blanks trimmed, as one argument. */
    char *interp = line + 2;
    while (*interp == ' ' || *interp == '\t')
        interp++;
    char *arg = interp + strcspn(interp, " \t");
    if (*arg)
        *arg++ = '\0';
    while (*arg == ' ' || *arg == '\t')
        arg++;
    size_t len = strlen(arg);
    while (len && (arg[len - 1] == ' ' || arg[len - 1] == '\t'))
        arg[--len] = '\0';
    if (!*interp) {
        errno = ENOEXEC;
        return -1;
    }

    size_t argc = 0;
    while (argv[argc])
        argc++;
    char **v = malloc((argc + 4) * sizeof *v);
    if (!v) {
        errno = ENOMEM;
        return -1;
    }
    size_t k = 0;
    v[k++] = interp;
    if (*arg)
        v[k++] = arg;
    v[k++] = (char *)path;
    for (size_t i = 1; i < argc; i++)
        v[k++] = argv[i];
    v[k] = NULL;
    int r = next(interp, v, envp);
    saved = errno;
    free(v);
    errno = saved;
    return r;
}
