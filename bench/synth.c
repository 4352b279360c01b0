/* synth: the synthetic workload of bench/run.sh --synthetic.
 *
 *   synth gen DIR N    make DIR with N small files, 1000 per subdirectory,
 *                      each with distinct content (so no two hash alike)
 *   synth read DIR OUT list DIR's subdirectories, open and read every file,
 *                      and write the count, the byte total and a checksum
 *                      to OUT: one process doing N opens, as a build that
 *                      reads many small sources would
 *
 * Plain libc calls (opendir, open, read), dynamically linked, so that a
 * preload hook sees every one of them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PER_DIR 1000

static int gen(const char *dir, long n) {
    char path[4096];
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "synth: cannot create '%s': %s\n", dir, strerror(errno));
        return 1;
    }
    for (long i = 0; i < n; i++) {
        if (i % PER_DIR == 0) {
            snprintf(path, sizeof path, "%s/d%04ld", dir, i / PER_DIR);
            if (mkdir(path, 0755) < 0 && errno != EEXIST) {
                fprintf(stderr, "synth: cannot create '%s': %s\n", path, strerror(errno));
                return 1;
            }
        }
        snprintf(path, sizeof path, "%s/d%04ld/f%07ld.c", dir, i / PER_DIR, i);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            fprintf(stderr, "synth: cannot create '%s': %s\n", path, strerror(errno));
            return 1;
        }
        char buf[256];
        int len =
            snprintf(buf, sizeof buf,
                     "/* generated source %ld */\nint f%07ld(int x) { return x * %ld + %ld; }\n", i,
                     i, i % 97 + 1, i);
        ssize_t w = write(fd, buf, (size_t)len);
        if (w != len || close(fd) < 0) {
            fprintf(stderr, "synth: cannot write '%s': %s\n", path, strerror(errno));
            return 1;
        }
    }
    return 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of `dir` not starting with '.', sorted; NULL on error. */
static char **list(const char *dir, size_t *ret_n) {
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "synth: cannot list '%s': %s\n", dir, strerror(errno));
        return NULL;
    }
    size_t n = 0, cap = 64;
    char **names = malloc(cap * sizeof *names);
    struct dirent *e;
    while (names && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            char **bigger = realloc(names, (cap *= 2) * sizeof *names);
            if (!bigger) {
                free(names);
                names = NULL;
                break;
            }
            names = bigger;
        }
        if (!(names[n++] = strdup(e->d_name))) {
            names = NULL; /* leaks on the way out of a failing run only */
            break;
        }
    }
    closedir(d);
    if (!names) {
        fputs("synth: out of memory\n", stderr);
        return NULL;
    }
    qsort(names, n, sizeof *names, by_name);
    *ret_n = n;
    return names;
}

static int read_all(const char *dir, const char *out) {
    size_t nsub;
    char **subs = list(dir, &nsub);
    if (!subs)
        return 1;
    uint64_t files = 0, bytes = 0, sum = 1469598103934665603ull;
    char path[4096], buf[65536];
    for (size_t s = 0; s < nsub; s++) {
        snprintf(path, sizeof path, "%s/%s", dir, subs[s]);
        size_t nf;
        char **names = list(path, &nf);
        if (!names)
            return 1;
        for (size_t f = 0; f < nf; f++) {
            snprintf(path, sizeof path, "%s/%s/%s", dir, subs[s], names[f]);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                fprintf(stderr, "synth: cannot open '%s': %s\n", path, strerror(errno));
                return 1;
            }
            ssize_t r;
            while ((r = read(fd, buf, sizeof buf)) > 0) {
                for (ssize_t i = 0; i < r; i++)
                    sum = (sum ^ (unsigned char)buf[i]) * 1099511628211ull; /* FNV-1a */
                bytes += (uint64_t)r;
            }
            if (r < 0) {
                fprintf(stderr, "synth: cannot read '%s': %s\n", path, strerror(errno));
                return 1;
            }
            close(fd);
            files++;
            free(names[f]);
        }
        free(names);
        free(subs[s]);
    }
    free(subs);
    FILE *o = fopen(out, "w");
    if (!o) {
        fprintf(stderr, "synth: cannot create '%s': %s\n", out, strerror(errno));
        return 1;
    }
    fprintf(o, "files %llu\nbytes %llu\nfnv1a %016llx\n", (unsigned long long)files,
            (unsigned long long)bytes, (unsigned long long)sum);
    if (fclose(o) != 0) {
        fprintf(stderr, "synth: cannot write '%s': %s\n", out, strerror(errno));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "gen")) {
        char *end;
        long n = strtol(argv[3], &end, 10);
        if (*end || n <= 0) {
            fprintf(stderr, "synth: bad file count '%s'\n", argv[3]);
            return 2;
        }
        return gen(argv[2], n);
    }
    if (argc == 4 && !strcmp(argv[1], "read"))
        return read_all(argv[2], argv[3]);
    fputs("usage: synth gen DIR N | synth read DIR OUT\n", stderr);
    return 2;
}
