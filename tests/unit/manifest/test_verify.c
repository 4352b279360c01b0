/* verify against a temporary tree: content, missing, appeared, type, target,
 * listing, mode and environment changes, with and without --root. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <cordon/error.h>
#include <cordon/manifest.h>
#include <cordon/verify.h>

#include "helpers.h"

TestSuite(manifest_verify, .init = tmpdir_setup, .fini = tmpdir_teardown);

static int64_t mtime_of(const struct stat *st) {
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* Record `path` as it is now. */
static struct cordon_input *record(struct cordon_manifest *m, const char *path, unsigned uses) {
    struct cordon_input *in = cordon_manifest_add_input(m, path);
    struct stat st;
    if (lstat(path, &st) < 0) {
        in->type = CORDON_FT_MISSING;
        in->uses = CORDON_USE_PROBE;
        return in;
    }
    in->uses = uses;
    in->size = (uint64_t)st.st_size;
    in->mode = st.st_mode & 07777;
    in->mtime_ns = mtime_of(&st);
    in->ino = (uint64_t)st.st_ino;
    if (S_ISREG(st.st_mode)) {
        in->type = CORDON_FT_FILE;
        in->has_hash = true;
        cr_assert(eq(int, cordon_hash_file(AT_FDCWD, path, &in->hash, NULL), 0));
    } else if (S_ISLNK(st.st_mode)) {
        in->type = CORDON_FT_SYMLINK;
        char buf[PATH_MAX];
        ssize_t n = readlink(path, buf, sizeof buf - 1);
        buf[n] = '\0';
        in->target = strdup(buf);
    } else if (S_ISDIR(st.st_mode)) {
        in->type = CORDON_FT_DIR;
        in->has_listing = true;
        cr_assert(eq(int, cordon_listing_hash(path, &in->listing), 0));
    }
    return in;
}

/* Run verify, returning its count and its text (new). */
static int run_verify(const struct cordon_manifest *m, const struct cordon_verify_options *o,
                      char **text) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct cordon_error err;
    int r = cordon_verify(m, o, f, &err);
    fclose(f);
    *text = buf;
    return r;
}

static struct cordon_manifest *build_tree_manifest(void) {
    char p[PATH_MAX];
    cr_assert(eq(int, cordon_mkdir_p(tpath(p, "usr/include"), 0755), 0));
    cr_assert(eq(int, cordon_mkdir_p(tpath(p, "usr/local/include"), 0755), 0));
    write_file(tpath(p, "usr/include/zlib.h"), "#define ZLIB_VERSION \"1.2.13\"\n");
    write_file(tpath(p, "usr/include/stdio.h"), "int printf(const char *, ...);\n");
    write_file(tpath(p, "usr/include/gone.h"), "x\n");
    write_file(tpath(p, "usr/include/mode.h"), "m\n");
    cr_assert(eq(int, symlink("zlib.h", tpath(p, "usr/include/link.h")), 0));
    struct cordon_manifest *m = cordon_manifest_new();
    record(m, tpath(p, "usr/include/zlib.h"), CORDON_USE_READ);
    record(m, tpath(p, "usr/include/stdio.h"), CORDON_USE_READ);
    record(m, tpath(p, "usr/include/gone.h"), CORDON_USE_READ);
    record(m, tpath(p, "usr/include/mode.h"), CORDON_USE_READ);
    record(m, tpath(p, "usr/include/link.h"), CORDON_USE_READLINK);
    record(m, tpath(p, "usr/local/include/foo.h"), CORDON_USE_PROBE);
    record(m, tpath(p, "usr/local/include"), CORDON_USE_LIST);
    setenv("CORDON_TEST_CC", "gcc", 1);
    cordon_manifest_add_env_read(m, "CORDON_TEST_CC")->value = strdup("gcc");
    cordon_manifest_add_env_read(m, "CORDON_TEST_UNSET");
    struct cordon_env_read *e = cordon_manifest_add_env_read(m, "CORDON_TEST_TOKEN");
    e->value = strdup("<redacted>");
    e->redacted = true;
    setenv("CORDON_TEST_TOKEN", "something else", 1);
    cordon_manifest_sort(m);
    return m;
}

Test(manifest_verify, unchanged_tree_has_no_differences) {
    struct cordon_manifest *m = build_tree_manifest();
    char *text;
    struct cordon_verify_options o = {.quiet = true};
    cr_assert(eq(int, run_verify(m, &o, &text), 0), "%s", text);
    cr_assert(strstr(text, "no differences") != NULL);
    free(text);
    o.rehash = true;
    cr_assert(eq(int, run_verify(m, &o, &text), 0), "%s", text);
    free(text);
    cordon_manifest_free(m);
}

Test(manifest_verify, detects_every_kind_of_change) {
    struct cordon_manifest *m = build_tree_manifest();
    char p[PATH_MAX], q[PATH_MAX + 128];
    /* same size, different bytes, mtime kept: only a rehash sees it */
    write_file(tpath(p, "usr/include/stdio.h"), "int printf(const char *, ...);\n");
    write_file(tpath(p, "usr/include/zlib.h"), "#define ZLIB_VERSION \"1.3.01\"\n");
    unlink(tpath(p, "usr/include/gone.h"));
    chmod(tpath(p, "usr/include/mode.h"), 0600);
    unlink(tpath(p, "usr/include/link.h"));
    cr_assert(eq(int, symlink("stdio.h", p), 0));
    write_file(tpath(p, "usr/local/include/foo.h"), "appeared\n");
    setenv("CORDON_TEST_CC", "clang", 1);
    setenv("CORDON_TEST_UNSET", "now set", 1);
    char *text;
    struct cordon_verify_options o = {.quiet = true};
    int n = run_verify(m, &o, &text);
    cr_log_info("%s", text);
    snprintf(q, sizeof q, "content  %s/usr/include/zlib.h\n", tmpdir);
    cr_assert(strstr(text, q) != NULL, "%s", text);
    snprintf(q, sizeof q, "missing  %s/usr/include/gone.h\n", tmpdir);
    cr_assert(strstr(text, q) != NULL, "%s", text);
    snprintf(q, sizeof q, "appeared %s/usr/local/include/foo.h (file)\n", tmpdir);
    cr_assert(strstr(text, q) != NULL, "%s", text);
    snprintf(q, sizeof q, "mode     %s/usr/include/mode.h: 0644 -> 0600\n", tmpdir);
    cr_assert(strstr(text, q) != NULL, "%s", text);
    snprintf(q, sizeof q, "target   %s/usr/include/link.h: 'zlib.h' -> 'stdio.h'\n", tmpdir);
    cr_assert(strstr(text, q) != NULL, "%s", text);
    snprintf(q, sizeof q, "listing  %s/usr/local/include\n", tmpdir);
    cr_assert(strstr(text, q) != NULL, "%s", text);
    cr_assert(strstr(text, "env      CORDON_TEST_CC: 'gcc' -> 'clang'\n") != NULL, "%s", text);
    cr_assert(strstr(text, "env      CORDON_TEST_UNSET: (unset) -> 'now set'\n") != NULL, "%s",
              text);
    cr_assert(strstr(text, "CORDON_TEST_TOKEN") == NULL, "redacted values are not compared");
    cr_assert(strstr(text, "stdio.h\n") == NULL, "same bytes are not a difference");
    cr_assert(eq(int, n, 8), "%s", text);
    free(text);
    cordon_manifest_free(m);
}

Test(manifest_verify, fast_path_trusts_metadata_unless_rehash) {
    struct cordon_manifest *m = build_tree_manifest();
    char p[PATH_MAX];
    struct stat st;
    tpath(p, "usr/include/stdio.h");
    cr_assert(eq(int, stat(p, &st), 0));
    /* same size, other bytes, mtime put back: like git's racy-clean case */
    write_file(p, "int printf(const char *, ...)X\n");
    struct timespec ts[2] = {st.st_atim, st.st_mtim};
    cr_assert(eq(int, utimensat(AT_FDCWD, p, ts, 0), 0));
    char *text;
    struct cordon_verify_options o = {.quiet = true};
    cr_assert(eq(int, run_verify(m, &o, &text), 0), "%s", text);
    free(text);
    o.rehash = true;
    cr_assert(eq(int, run_verify(m, &o, &text), 1), "%s", text);
    cr_assert(strstr(text, "content ") != NULL);
    free(text);
    cordon_manifest_free(m);
}

Test(manifest_verify, root_checks_paths_inside_a_directory) {
    char p[PATH_MAX];
    cr_assert(eq(int, cordon_mkdir_p(tpath(p, "root/etc"), 0755), 0));
    write_file(tpath(p, "root/etc/hello.conf"), "greeting=hi\n");
    /* an absolute link inside the root must resolve inside it */
    cr_assert(eq(int, symlink("/etc", tpath(p, "root/cfg")), 0));
    struct cordon_manifest *m = cordon_manifest_new();
    struct cordon_input *in = record(m, tpath(p, "root/etc/hello.conf"), CORDON_USE_READ);
    free(in->path);
    in->path = strdup("/etc/hello.conf");
    struct cordon_input copy = *in; /* `in` moves when the array grows */
    struct cordon_input *via = cordon_manifest_add_input(m, "/cfg/hello.conf");
    free(via->path);
    *via = copy;
    via->path = strdup("/cfg/hello.conf");
    via->category = NULL;
    via->target = NULL;
    cordon_manifest_add_input(m, "/etc/absent.conf")->type = CORDON_FT_MISSING;
    cordon_manifest_sort(m);
    char *text;
    char root[PATH_MAX];
    struct cordon_verify_options o = {.quiet = true, .root = tpath(root, "root")};
    cr_assert(eq(int, run_verify(m, &o, &text), 0), "%s", text);
    free(text);
    write_file(tpath(p, "root/etc/absent.conf"), "now\n");
    cr_assert(eq(int, run_verify(m, &o, &text), 1), "%s", text);
    cr_assert(strstr(text, "appeared /etc/absent.conf") != NULL, "%s", text);
    free(text);
    o.root = tpath(root, "no-such-root");
    struct cordon_error err;
    FILE *f = fopen("/dev/null", "we");
    cr_assert(eq(int, cordon_verify(m, &o, f, &err), -ENOENT));
    fclose(f);
    cordon_manifest_free(m);
}

/* 100,000 unchanged inputs: the fast path is one lstat each. The files are
 * 2,000 real ones, each recorded under 50 names through directory links,
 * so that the test does not need 100,000 files. */
Test(manifest_verify, hundred_thousand_unchanged_inputs_verify_clean, .timeout = 120) {
    char p[PATH_MAX];
    cr_assert(eq(int, cordon_mkdir_p(tpath(p, "d"), 0755), 0));
    struct cordon_manifest *m = cordon_manifest_new();
    for (int i = 0; i < 2000; i++) {
        char name[64];
        snprintf(name, sizeof name, "d/f%04d.h", i);
        write_file(tpath(p, name), name);
    }
    for (int l = 0; l < 50; l++) {
        char link[64];
        snprintf(link, sizeof link, "l%02d", l);
        cr_assert(eq(int, symlink("d", tpath(p, link)), 0));
    }
    struct cordon_input proto[2000];
    for (int i = 0; i < 2000; i++) {
        char name[64];
        snprintf(name, sizeof name, "d/f%04d.h", i);
        struct cordon_manifest *t = cordon_manifest_new();
        proto[i] = *record(t, tpath(p, name), CORDON_USE_READ);
        proto[i].path = NULL;
        free(t->inputs[0].path);
        t->n_inputs = 0;
        cordon_manifest_free(t);
    }
    for (int l = 0; l < 50; l++)
        for (int i = 0; i < 2000; i++) {
            char name[64];
            snprintf(name, sizeof name, "l%02d/f%04d.h", l, i);
            struct cordon_input *in = cordon_manifest_add_input(m, tpath(p, name));
            char *path = in->path;
            *in = proto[i];
            in->path = path;
        }
    cordon_manifest_sort(m);
    cr_assert(eq(sz, m->n_inputs, 100000));
    char *text;
    struct cordon_verify_options o = {.quiet = true};
    /* Correctness only: how long it takes is bench/scale.sh's to say. */
    int n = run_verify(m, &o, &text);
    cr_assert(eq(int, n, 0), "%.300s", text);
    free(text);
    cordon_manifest_free(m);
}

Test(manifest_verify, stat_only_inputs_compare_metadata_not_bytes) {
    char p[PATH_MAX];
    write_file(tpath(p, "probe.h"), "1234\n");
    struct cordon_manifest *m = cordon_manifest_new();
    record(m, p, CORDON_USE_STAT);
    cordon_manifest_sort(m);
    write_file(p, "abcd\n"); /* same size, other bytes: the build could not tell */
    char *text;
    struct cordon_verify_options o = {.quiet = true, .rehash = true};
    cr_assert(eq(int, run_verify(m, &o, &text), 0), "%s", text);
    free(text);
    write_file(p, "longer now\n");
    cr_assert(eq(int, run_verify(m, &o, &text), 1), "%s", text);
    cr_assert(strstr(text, "size 5 -> 11 (metadata only") != NULL, "%s", text);
    free(text);
    cordon_manifest_free(m);
}

/* /proc, /sys and /dev describe the system and the reader, not the build:
 * a listed /proc/self/fd differs for every process that lists it. */
Test(manifest_verify, virtual_paths_are_not_compared) {
    struct cordon_manifest *m = cordon_manifest_new();
    struct cordon_input *in = cordon_manifest_add_input(m, "/proc/self/fd");
    in->type = CORDON_FT_DIR;
    in->uses = CORDON_USE_LIST;
    in->has_listing = true;
    cordon_hash_buffer("not this", 8, &in->listing);
    in = cordon_manifest_add_input(m, "/dev/null");
    in->type = CORDON_FT_FILE; /* wrong on purpose */
    in->uses = CORDON_USE_READ;
    in->has_hash = true;
    in = cordon_manifest_add_input(m, "/sys/no-such-entry");
    in->type = CORDON_FT_FILE;
    in->uses = CORDON_USE_READ;
    /* but a path that only starts like one is compared */
    char p[PATH_MAX];
    record(m, tpath(p, "proc"), CORDON_USE_PROBE);
    write_file(p, "now here\n");
    cordon_manifest_sort(m);
    char *text;
    struct cordon_verify_options o = {.quiet = true};
    cr_assert(eq(int, run_verify(m, &o, &text), 1), "%s", text);
    cr_assert(strstr(text, "appeared") != NULL, "%s", text);
    cr_assert(strstr(text, "/proc/self") == NULL, "%s", text);
    free(text);
    cordon_manifest_free(m);
}
