/* Owners: dpkg from a fixture database (tests/data/owners/dpkg), Spack and
 * conda prefixes made in a temporary directory, Nix and Homebrew by path. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <cordon/classify.h>

#include "helpers.h"

#define DPKG CORDON_TEST_DATA "/owners/dpkg"

/* "manager name version" of a path's owner, or "none". */
static const char *who(struct cordon_owners *o, const char *path, char *buf, size_t size) {
    struct cordon_owner w;
    int r = cordon_owners_lookup(o, path, &w);
    cr_assert(r >= 0, "lookup of %s failed: %d", path, r);
    if (r == 0)
        snprintf(buf, size, "none");
    else
        snprintf(buf, size, "%s %s %s", w.manager, w.name, w.version ? w.version : "-");
    return buf;
}

#define WHO(o, p) who(o, p, (char[512]){0}, 512)

Test(manifest_owners, dpkg_lists_and_versions) {
    struct cordon_owners *o = cordon_owners_new(DPKG, false);
    cr_assert(o != NULL);
    cr_assert(eq(str, (char *)WHO(o, "/usr/include/zlib.h"), "dpkg zlib1g-dev 1:1.2.13.dfsg-1"));
    cr_assert(eq(str, (char *)WHO(o, "/usr/include/stdio.h"), "dpkg libc6-dev 2.36-9+deb12u4"));
    cr_assert(eq(str, (char *)WHO(o, "/usr/bin/cpp-12"), "dpkg cpp-12 12.2.0-14"));
    cr_assert(eq(str, (char *)WHO(o, "/usr/include/nothing.h"), "none"));
    cr_assert(eq(str, (char *)WHO(o, "/usr/share/lib/x"), "none"));
    /* "/." and directories shared by packages are not files of one package. */
    cr_assert(eq(str, (char *)WHO(o, "/"), "none"));
    cordon_owners_free(o);
}

Test(manifest_owners, merged_usr_either_spelling) {
    struct cordon_owners *o = cordon_owners_new(DPKG, false);
    cr_assert(
        eq(str, (char *)WHO(o, "/lib/x86_64-linux-gnu/libz.so.1"), "dpkg zlib1g 1:1.2.13.dfsg-1"));
    cr_assert(eq(str, (char *)WHO(o, "/usr/lib/x86_64-linux-gnu/libz.so.1"),
                 "dpkg zlib1g 1:1.2.13.dfsg-1"));
    cr_assert(
        eq(str, (char *)WHO(o, "/lib/x86_64-linux-gnu/libc.so.6"), "dpkg libc6 2.36-9+deb12u4"));
    cr_assert(eq(str, (char *)WHO(o, "/bin/cpp-12"), "dpkg cpp-12 12.2.0-14"));
    cr_assert(eq(str, (char *)WHO(o, "/usrx/lib/libz.so.1"), "none"));
    cordon_owners_free(o);
}

Test(manifest_owners, wanted_paths_alone_are_kept_and_a_late_one_reloads) {
    struct cordon_owners *o = cordon_owners_new(DPKG, false);
    cr_assert(eq(int, cordon_owners_want(o, "/usr/include/zlib.h"), 0));
    cr_assert(eq(int, cordon_owners_want(o, "/lib/x86_64-linux-gnu/libz.so.1"), 0));
    cr_assert(eq(str, (char *)WHO(o, "/usr/include/zlib.h"), "dpkg zlib1g-dev 1:1.2.13.dfsg-1"));
    /* said under one spelling, found under the other */
    cr_assert(eq(str, (char *)WHO(o, "/usr/lib/x86_64-linux-gnu/libz.so.1"),
                 "dpkg zlib1g 1:1.2.13.dfsg-1"));
    /* not said: the database kept nothing of it */
    cr_assert(eq(str, (char *)WHO(o, "/usr/include/stdio.h"), "none"));
    /* said after lookups: the next lookup loads again, with it */
    cr_assert(eq(int, cordon_owners_want(o, "/usr/include/stdio.h"), 0));
    cr_assert(eq(str, (char *)WHO(o, "/usr/include/stdio.h"), "dpkg libc6-dev 2.36-9+deb12u4"));
    cr_assert(eq(str, (char *)WHO(o, "/usr/include/zlib.h"), "dpkg zlib1g-dev 1:1.2.13.dfsg-1"));
    cordon_owners_free(o);
}

Test(manifest_owners, loaded_whole_ahead_of_any_lookup) {
    struct cordon_owners *o = cordon_owners_new(DPKG, false);
    cr_assert(eq(int, cordon_owners_load(o, NULL), 0));
    cr_assert(eq(str, (char *)WHO(o, "/usr/include/zlib.h"), "dpkg zlib1g-dev 1:1.2.13.dfsg-1"));
    cr_assert(
        eq(str, (char *)WHO(o, "/lib/x86_64-linux-gnu/libc.so.6"), "dpkg libc6 2.36-9+deb12u4"));
    /* Whole: a path said now needs no reload. */
    cr_assert(eq(int, cordon_owners_want(o, "/usr/bin/cpp-12"), 0));
    cr_assert(eq(str, (char *)WHO(o, "/usr/bin/cpp-12"), "dpkg cpp-12 12.2.0-14"));
    /* Loaded already: a second load is refused, not repeated. */
    cr_assert(eq(int, cordon_owners_load(o, NULL), -EINVAL));
    cordon_owners_free(o);

    o = cordon_owners_new(DPKG, false);
    cr_assert(eq(int, cordon_owners_want(o, "/usr/include/zlib.h"), 0));
    cr_assert(eq(int, cordon_owners_load(o, NULL), -EINVAL), "a subset was asked for");
    cordon_owners_free(o);
}

Test(manifest_owners, a_stopped_load_leaves_nothing_half_read) {
    struct cordon_owners *o = cordon_owners_new(DPKG, false);
    int stop = 1;
    cr_assert(eq(int, cordon_owners_load(o, &stop), -ECANCELED));
    /* The next lookup loads it all, as if no load had been tried. */
    cr_assert(eq(str, (char *)WHO(o, "/usr/include/stdio.h"), "dpkg libc6-dev 2.36-9+deb12u4"));
    cr_assert(eq(str, (char *)WHO(o, "/usr/bin/cpp-12"), "dpkg cpp-12 12.2.0-14"));
    cordon_owners_free(o);
}

Test(manifest_owners, no_database_owns_nothing) {
    struct cordon_owners *o = cordon_owners_new(CORDON_TEST_DATA "/owners/missing", false);
    cr_assert(eq(str, (char *)WHO(o, "/usr/include/zlib.h"), "none"));
    cordon_owners_free(o);
    o = cordon_owners_new(NULL, false);
    cr_assert(eq(str, (char *)WHO(o, "/usr/include/zlib.h"), "none"));
    cr_assert(eq(str, (char *)WHO(o, "relative/path"), "none"));
    cordon_owners_free(o);
}

/* A copy of the fixture database in the test's directory, to change. */
static void copy_db(void) {
    char cmd[2 * PATH_MAX];
    snprintf(cmd, sizeof cmd, "cp -a '%s' '%s/dpkg' && mkdir '%s/idx'", DPKG, tmpdir, tmpdir);
    cr_assert(eq(int, system(cmd), 0));
}

static struct cordon_owners *indexed(void) {
    char db[PATH_MAX], idx[PATH_MAX];
    struct cordon_owners *o = cordon_owners_new(tpath(db, "dpkg"), false);
    cr_assert(o != NULL);
    cr_assert(eq(int, cordon_owners_set_index_dir(o, tpath(idx, "idx")), 0));
    return o;
}

static size_t index_files(void) {
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "ls '%s/idx' | grep -c '^owners-dpkg-'", tmpdir);
    FILE *p = popen(cmd, "r");
    cr_assert(p != NULL);
    unsigned n = 0;
    cr_assert(fscanf(p, "%u", &n) == 1);
    pclose(p);
    return n;
}

Test(manifest_owners, the_index_answers_until_dpkg_changes, .init = tmpdir_setup,
     .fini = tmpdir_teardown) {
    copy_db();
    struct cordon_owners *o = indexed();
    cr_assert(eq(str, (char *)WHO(o, "/usr/include/zlib.h"), "dpkg zlib1g-dev 1:1.2.13.dfsg-1"));
    cr_assert(
        eq(str, (char *)WHO(o, "/lib/x86_64-linux-gnu/libz.so.1"), "dpkg zlib1g 1:1.2.13.dfsg-1"));
    cordon_owners_free(o);
    cr_assert(eq(sz, index_files(), 1));

    /* A list rewritten in place changes neither the status file nor the
     * info directory: the index still answers, so it is what was read. */
    char list[PATH_MAX];
    write_file(tpath(list, "dpkg/info/zlib1g-dev:amd64.list"), "/usr/include/zlib2.h\n");
    o = indexed();
    cr_assert(eq(str, (char *)WHO(o, "/usr/include/zlib.h"), "dpkg zlib1g-dev 1:1.2.13.dfsg-1"));
    cr_assert(eq(str, (char *)WHO(o, "/usr/include/zlib2.h"), "none"));
    /* Both merged-/usr spellings, from the index too. */
    cr_assert(eq(str, (char *)WHO(o, "/usr/lib/x86_64-linux-gnu/libz.so.1"),
                 "dpkg zlib1g 1:1.2.13.dfsg-1"));
    cr_assert(eq(str, (char *)WHO(o, "/usr/include/nothing.h"), "none"));
    cordon_owners_free(o);

    /* dpkg rewrites its status file at the end of every operation: the
     * index is made again from the lists. */
    char status[PATH_MAX];
    struct timespec t[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
    cr_assert(eq(int, utimensat(AT_FDCWD, tpath(status, "dpkg/status"), t, 0), 0));
    o = indexed();
    cr_assert(eq(str, (char *)WHO(o, "/usr/include/zlib.h"), "none"));
    cr_assert(eq(str, (char *)WHO(o, "/usr/include/zlib2.h"), "dpkg zlib1g-dev 1:1.2.13.dfsg-1"));
    cordon_owners_free(o);
    cr_assert(eq(sz, index_files(), 1), "the new index replaces the old one");
}

Test(manifest_owners, a_damaged_index_is_made_again, .init = tmpdir_setup,
     .fini = tmpdir_teardown) {
    copy_db();
    struct cordon_owners *o = indexed();
    cr_assert(eq(str, (char *)WHO(o, "/usr/bin/cpp-12"), "dpkg cpp-12 12.2.0-14"));
    cordon_owners_free(o);
    /* Cut short; then its head kept and the rest garbage; then empty. */
    static const char *const damage[] = {
        "truncate -s 100 \"$D\"/idx/owners-dpkg-*",
        "f=$(echo \"$D\"/idx/owners-dpkg-*); head -c 64 $f > $f.x; head -c 4096 /dev/urandom >> "
        "$f.x; truncate -s $(stat -c %s $f) $f.x; mv $f.x $f",
        "truncate -s 0 \"$D\"/idx/owners-dpkg-*",
    };
    cr_assert(eq(int, setenv("D", tmpdir, 1), 0));
    for (size_t i = 0; i < sizeof damage / sizeof *damage; i++) {
        cr_assert(eq(int, system(damage[i]), 0), "%s", damage[i]);
        o = indexed();
        cr_assert(eq(str, (char *)WHO(o, "/usr/bin/cpp-12"), "dpkg cpp-12 12.2.0-14"));
        cr_assert(eq(str, (char *)WHO(o, "/usr/include/stdio.h"), "dpkg libc6-dev 2.36-9+deb12u4"));
        cordon_owners_free(o);
    }
}

Test(manifest_owners, an_index_directory_that_cannot_be_written_costs_only_time,
     .init = tmpdir_setup, .fini = tmpdir_teardown) {
    copy_db();
    char db[PATH_MAX];
    struct cordon_owners *o = cordon_owners_new(tpath(db, "dpkg"), false);
    cr_assert(eq(int, cordon_owners_set_index_dir(o, "/proc/self/cordon-no-such-dir"), 0));
    cr_assert(eq(str, (char *)WHO(o, "/usr/include/zlib.h"), "dpkg zlib1g-dev 1:1.2.13.dfsg-1"));
    cordon_owners_free(o);
}

static void mkdirs(const char *rel) {
    char p[PATH_MAX];
    cr_assert(cordon_mkdir_p(tpath(p, rel), 0755) == 0);
}

static void put(const char *rel, const char *text) {
    char p[PATH_MAX];
    write_file(tpath(p, rel), text);
}

Test(manifest_owners, spack_prefix_above_the_file, .init = tmpdir_setup, .fini = tmpdir_teardown) {
    mkdirs("opt/spack/zlib-1.3.1-abcdef/.spack");
    put("opt/spack/zlib-1.3.1-abcdef/.spack/spec.json",
        "{\"spec\": {\"_meta\": {\"version\": 4}, \"nodes\": [{\"name\": \"zlib\", \"version\": "
        "\"1.3.1\"}, {\"name\": \"gmake\", \"version\": \"4.4.1\"}]}}");
    mkdirs("opt/spack/foo-1.0-xyz/.spack");
    put("opt/spack/foo-1.0-xyz/.spack/spec.json", "{");
    struct cordon_owners *o = cordon_owners_new(NULL, false);
    char p[PATH_MAX];
    cr_assert(eq(str, (char *)WHO(o, tpath(p, "opt/spack/zlib-1.3.1-abcdef/include/zlib.h")),
                 "spack zlib 1.3.1"));
    /* The second lookup in the same prefix comes from the cache, the same. */
    cr_assert(eq(str, (char *)WHO(o, tpath(p, "opt/spack/zlib-1.3.1-abcdef/lib/pkgconfig/z.pc")),
                 "spack zlib 1.3.1"));
    /* An unreadable spec names the package by its directory. */
    cr_assert(
        eq(str, (char *)WHO(o, tpath(p, "opt/spack/foo-1.0-xyz/bin/foo")), "spack foo-1.0-xyz -"));
    cr_assert(eq(str, (char *)WHO(o, tpath(p, "opt/other/x.h")), "none"));
    cordon_owners_free(o);
}

Test(manifest_owners, conda_files_lists, .init = tmpdir_setup, .fini = tmpdir_teardown) {
    mkdirs("conda/conda-meta");
    put("conda/conda-meta/zlib-1.2.13-h0.json",
        "{\"name\": \"zlib\", \"version\": \"1.2.13\", \"files\": [\"include/zlib.h\", "
        "\"lib/libz.so.1\"]}");
    put("conda/conda-meta/python-3.11.5-h0.json",
        "{\"name\": \"python\", \"version\": \"3.11.5\", \"files\": [\"bin/python3.11\"]}");
    put("conda/conda-meta/history", "not json");
    mkdirs("conda/envs/build/conda-meta");
    put("conda/envs/build/conda-meta/zstd.json",
        "{\"name\": \"zstd\", \"files\": [\"include/zstd.h\"]}");
    struct cordon_owners *o = cordon_owners_new(NULL, false);
    char p[PATH_MAX];
    cr_assert(eq(str, (char *)WHO(o, tpath(p, "conda/include/zlib.h")), "conda zlib 1.2.13"));
    cr_assert(eq(str, (char *)WHO(o, tpath(p, "conda/lib/libz.so.1")), "conda zlib 1.2.13"));
    cr_assert(eq(str, (char *)WHO(o, tpath(p, "conda/bin/python3.11")), "conda python 3.11.5"));
    cr_assert(eq(str, (char *)WHO(o, tpath(p, "conda/include/unowned.h")), "none"));
    cr_assert(eq(str, (char *)WHO(o, tpath(p, "conda/envs/build/include/zstd.h")), "conda zstd -"));
    cr_assert(eq(str, (char *)WHO(o, tpath(p, "conda/envs/build/include/zlib.h")), "none"));
    cordon_owners_free(o);
}

Test(manifest_owners, nix_store_and_homebrew_cellar) {
    struct cordon_owners *o = cordon_owners_new(NULL, false);
    cr_assert(eq(str,
                 (char *)WHO(o, "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-zlib-1.3.1-dev/"
                                "include/zlib.h"),
                 "nix zlib 1.3.1-dev"));
    cr_assert(eq(str, (char *)WHO(o, "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-hello/bin/h"),
                 "nix hello -"));
    cr_assert(eq(str, (char *)WHO(o, "/nix/store/short-zlib/x"), "none"));
    cr_assert(
        eq(str, (char *)WHO(o, "/nix/store/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-zlib/x"), "none"));
    cr_assert(eq(str, (char *)WHO(o, "/opt/homebrew/Cellar/zlib/1.3.1/include/zlib.h"),
                 "homebrew zlib 1.3.1"));
    cr_assert(eq(str, (char *)WHO(o, "/opt/homebrew/Cellar/zlib"), "none"));
    cordon_owners_free(o);
}

Test(manifest_owners, format_says_no_package) {
    char buf[64];
    cr_assert(eq(str, (char *)cordon_owner_format(NULL, buf, sizeof buf), "no package"));
    struct cordon_owner w = {"dpkg", "libc6", "2.36-9"};
    cr_assert(eq(str, (char *)cordon_owner_format(&w, buf, sizeof buf), "libc6 2.36-9"));
}
