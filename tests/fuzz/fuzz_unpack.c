/* libFuzzer target: any bytes as an archive for cordon_unpack. It must
 * return an error or a root, never crash, and never leave anything beside
 * the root it was asked to make (a hostile entry that got out would). */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cordon/error.h>
#include <cordon/pack.h>
#include <cordon/util.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

/* Everything in `dir` but the archive and the root goes: it got out. */
static void check_nothing_else(void) {
    DIR *d = opendir(dir);
    if (!d)
        abort();
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, "archive") &&
            strcmp(de->d_name, "root")) {
            fprintf(stderr, "fuzz_unpack: '%s/%s' was written outside the root\n", dir, de->d_name);
            abort();
        }
    }
    closedir(d);
}

static void remove_dir(void) {
    cordon_rm_rf(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/cordon-fuzz-unpack-XXXXXX");
        if (!mkdtemp(dir))
            abort();
        atexit(remove_dir);
    }
    char archive[PATH_MAX], root[PATH_MAX];
    snprintf(archive, sizeof archive, "%s/archive", dir);
    snprintf(root, sizeof root, "%s/root", dir);
    int fd = open(archive, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    for (size_t off = 0; off < size;) {
        ssize_t n = write(fd, data + off, size - off);
        if (n <= 0)
            abort();
        off += (size_t)n;
    }
    close(fd);

    struct cordon_unpack_options o = {.archive = archive, .dest = root, .quiet = true};
    struct cordon_error err;
    int r = cordon_unpack(&o, &err);
    if (r < 0 && err.text[0] == '\0')
        abort(); /* every failure says why */
    check_nothing_else();
    cordon_rm_rf(root);
    return 0;
}
