/* A build with 100,000 inputs end to end through the manifest module: write
 * the manifest to a file, read it back, verify the tree against it, change
 * one file and verify again. Correctness only: timings are bench/scale.sh's. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cordon/error.h>
#include <cordon/manifest.h>
#include <cordon/verify.h>

#include "helpers.h"

TestSuite(manifest_scale, .init = tmpdir_setup, .fini = tmpdir_teardown);

#define FILES 1000
#define LINKS 100 /* each file is an input under LINKS names: 100,000 inputs */

static int verify_text(const struct cordon_manifest *m, char **text) {
    size_t len = 0;
    FILE *f = open_memstream(text, &len);
    struct cordon_error err;
    struct cordon_verify_options o = {.quiet = true};
    int r = cordon_verify(m, &o, f, &err);
    fclose(f);
    return r;
}

Test(manifest_scale, hundred_thousand_inputs_write_read_verify, .timeout = 120) {
    char p[PATH_MAX];
    cr_assert(eq(int, cordon_mkdir_p(tpath(p, "d"), 0755), 0));
    struct cordon_input proto[FILES];
    for (int i = 0; i < FILES; i++) {
        char name[64], content[64];
        snprintf(name, sizeof name, "d/f%04d.c", i);
        snprintf(content, sizeof content, "int f%d;\n", i);
        write_file(tpath(p, name), content);
        struct stat st;
        cr_assert(eq(int, lstat(p, &st), 0));
        proto[i] = (struct cordon_input){
            .type = CORDON_FT_FILE,
            .uses = CORDON_USE_READ,
            .size = (uint64_t)st.st_size,
            .mode = st.st_mode & 07777,
            .mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
            .ino = (uint64_t)st.st_ino,
            .has_hash = true,
            .first_pid = 1000 + i,
        };
        cr_assert(eq(int, cordon_hash_file(AT_FDCWD, p, &proto[i].hash, NULL), 0));
    }
    struct cordon_manifest *m = cordon_manifest_new();
    char *argv[] = {"make", NULL};
    m->command.argv = cordon_strv_copy(argv);
    m->command.finished = true;
    for (int l = 0; l < LINKS; l++) {
        char link[32];
        snprintf(link, sizeof link, "l%03d", l);
        cr_assert(eq(int, symlink("d", tpath(p, link)), 0));
        /* in reverse, so that sorting has work to do */
        for (int i = FILES - 1; i >= 0; i--) {
            char name[64];
            snprintf(name, sizeof name, "l%03d/f%04d.c", l, i);
            struct cordon_input *in = cordon_manifest_add_input(m, tpath(p, name));
            char *path = in->path;
            *in = proto[i];
            in->path = path;
        }
    }
    cordon_manifest_sort(m);
    cr_assert(eq(sz, m->n_inputs, (size_t)FILES * LINKS));

    struct cordon_error err;
    char mp[PATH_MAX];
    cr_assert(eq(int, cordon_manifest_write(m, tpath(mp, "m.json"), &err), 0), "%s", err.text);
    struct cordon_manifest *back = NULL;
    cr_assert(eq(int, cordon_manifest_read(mp, &back, &err), 0), "%s", err.text);
    cr_assert(eq(sz, back->n_inputs, m->n_inputs));
    for (size_t i = 0; i < m->n_inputs; i++) {
        const struct cordon_input *a = &m->inputs[i], *b = &back->inputs[i];
        cr_assert(eq(str, a->path, b->path));
        cr_assert(a->size == b->size && a->mtime_ns == b->mtime_ns && a->ino == b->ino &&
                      a->first_pid == b->first_pid && cordon_hash_equal(&a->hash, &b->hash),
                  "input %zu differs after the round trip", i);
    }
    /* the text read back writes the same bytes */
    char *text = read_text(mp), *again = cordon_manifest_dumps(back);
    cr_assert(eq(str, text, again));
    free(text);
    free(again);

    char *out = NULL;
    cr_assert(eq(int, verify_text(back, &out), 0), "%.300s", out);
    cr_assert(strstr(out, "no differences: 100000 inputs") != NULL, "%s", out);
    free(out);

    /* One file changes, same size: every one of its 100 names differs, and
     * nothing else. */
    write_file(tpath(p, "d/f0500.c"), "int X500;\n");
    cr_assert(eq(int, verify_text(back, &out), LINKS), "%.300s", out);
    cr_assert(strstr(out, "/l000/f0500.c") != NULL && strstr(out, "/l099/f0500.c") != NULL);
    cr_assert(strstr(out, "f0499") == NULL && strstr(out, "f0501") == NULL);
    free(out);
    cordon_manifest_free(m);
    cordon_manifest_free(back);
}
