/* Owners recorded in the manifest (`package`) and what diff makes of them:
 * a package whose version differs is one line, not one per file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <cordon/classify.h>
#include <cordon/error.h>
#include <cordon/manifest.h>
#include <cordon/verify.h>

#define DPKG CORDON_TEST_DATA "/owners/dpkg"

static struct cordon_input *file(struct cordon_manifest *m, const char *path, uint8_t fill) {
    struct cordon_input *in = cordon_manifest_add_input(m, path);
    cr_assert(in != NULL);
    in->type = CORDON_FT_FILE;
    in->uses = CORDON_USE_READ;
    in->size = 10;
    in->mode = 0644;
    in->has_hash = true;
    memset(&in->hash, fill, sizeof in->hash);
    return in;
}

static struct cordon_manifest *build(void) {
    struct cordon_manifest *m = cordon_manifest_new();
    m->worktree = strdup("/src/zlib");
    char *env[] = {"HOME=/home/u", NULL};
    m->command.env = cordon_strv_copy(env);
    file(m, "/usr/include/zlib.h", 1);
    file(m, "/usr/include/zconf.h", 1);
    file(m, "/usr/include/stdio.h", 1);
    file(m, "/lib/x86_64-linux-gnu/libc.so.6", 1)->uses = CORDON_USE_LOAD;
    file(m, "/src/zlib/adler32.c", 1);
    file(m, "/home/u/.gitconfig", 1);
    struct cordon_input *miss = cordon_manifest_add_input(m, "/usr/include/zlib-ng.h");
    miss->type = CORDON_FT_MISSING;
    miss->uses = CORDON_USE_PROBE;
    cordon_manifest_sort(m);
    return m;
}

static const char *pkg(const struct cordon_manifest *m, const char *path) {
    const struct cordon_input *in = cordon_manifest_find_input(m, path);
    cr_assert(in != NULL, "%s", path);
    return in->package ? in->package : "-";
}

Test(manifest_classify_packages, record_time_owners_fill_package) {
    struct cordon_manifest *m = build();
    struct cordon_owners *o = cordon_owners_new(DPKG, false);
    cr_assert(eq(int, cordon_classify_manifest_owners(m, o), 0));
    cr_assert(eq(str, (char *)pkg(m, "/usr/include/zlib.h"), "dpkg:zlib1g-dev 1:1.2.13.dfsg-1"));
    cr_assert(eq(str, (char *)pkg(m, "/usr/include/stdio.h"), "dpkg:libc6-dev 2.36-9+deb12u4"));
    cr_assert(
        eq(str, (char *)pkg(m, "/lib/x86_64-linux-gnu/libc.so.6"), "dpkg:libc6 2.36-9+deb12u4"));
    /* The work tree, the user's files and what was missing have no package. */
    cr_assert(eq(str, (char *)pkg(m, "/src/zlib/adler32.c"), "-"));
    cr_assert(eq(str, (char *)pkg(m, "/home/u/.gitconfig"), "-"));
    cr_assert(eq(str, (char *)pkg(m, "/usr/include/zlib-ng.h"), "-"));
    cr_assert(eq(str, cordon_manifest_find_input(m, "/usr/include/zlib.h")->category, "system"));
    /* It survives the JSON round trip. */
    char *text = cordon_manifest_dumps(m);
    cr_assert(strstr(text, "\"package\": \"dpkg:zlib1g-dev 1:1.2.13.dfsg-1\"") != NULL);
    struct cordon_manifest *back = NULL;
    struct cordon_error err;
    cr_assert(eq(int, cordon_manifest_loadb(text, strlen(text), "t", &back, &err), 0), "%s",
              err.text);
    cr_assert(eq(str, (char *)pkg(back, "/usr/include/zlib.h"), "dpkg:zlib1g-dev 1:1.2.13.dfsg-1"));
    free(text);
    cordon_manifest_free(back);
    cordon_owners_free(o);
    cordon_manifest_free(m);
}

static char *diff_text(const struct cordon_manifest *a, const struct cordon_manifest *b, int *ret) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct cordon_error err;
    *ret = cordon_diff(a, b, f, &err);
    fclose(f);
    return buf;
}

static void set_package(struct cordon_manifest *m, const char *path, const char *p) {
    struct cordon_input *in = (struct cordon_input *)cordon_manifest_find_input(m, path);
    free(in->package);
    in->package = p ? strdup(p) : NULL;
}

Test(manifest_classify_packages, diff_folds_a_version_change_into_one_line) {
    struct cordon_manifest *a = build(), *b = build();
    struct cordon_owners *o = cordon_owners_new(DPKG, false);
    cordon_classify_manifest_owners(a, o);
    cordon_classify_manifest_owners(b, o);
    /* B's zlib1g-dev is newer and both of its headers differ. */
    set_package(b, "/usr/include/zlib.h", "dpkg:zlib1g-dev 1:1.3-1");
    set_package(b, "/usr/include/zconf.h", "dpkg:zlib1g-dev 1:1.3-1");
    memset(&((struct cordon_input *)cordon_manifest_find_input(b, "/usr/include/zlib.h"))->hash, 2,
           16);
    memset(&((struct cordon_input *)cordon_manifest_find_input(b, "/usr/include/zconf.h"))->hash, 2,
           16);
    int r;
    char *t = diff_text(a, b, &r);
    cr_assert(eq(int, r, 1), "%s", t);
    cr_assert(strstr(t, "package  zlib1g-dev: 1:1.2.13.dfsg-1 -> 1:1.3-1: 2 files, 2 differ") !=
                  NULL,
              "%s", t);
    cr_assert(strstr(t, "/usr/include/zlib.h") == NULL, "%s", t);
    free(t);
    /* Without owners, the same change is a line per file. */
    set_package(a, "/usr/include/zlib.h", NULL);
    set_package(a, "/usr/include/zconf.h", NULL);
    set_package(b, "/usr/include/zlib.h", NULL);
    set_package(b, "/usr/include/zconf.h", NULL);
    t = diff_text(a, b, &r);
    cr_assert(eq(int, r, 2), "%s", t);
    cr_assert(strstr(t, "content  /usr/include/zlib.h") != NULL, "%s", t);
    free(t);
    cordon_owners_free(o);
    cordon_manifest_free(a);
    cordon_manifest_free(b);
}

Test(manifest_classify_packages, diff_names_a_package_one_side_used) {
    struct cordon_manifest *a = build(), *b = build();
    struct cordon_owners *o = cordon_owners_new(DPKG, false);
    cordon_classify_manifest_owners(a, o);
    file(b, "/usr/bin/cpp-12", 3)->uses = CORDON_USE_EXEC;
    cordon_manifest_sort(b);
    cordon_classify_manifest_owners(b, o);
    int r;
    char *t = diff_text(a, b, &r);
    cr_assert(eq(int, r, 1), "%s", t);
    cr_assert(strstr(t, "package  cpp-12: 12.2.0-14 used by B only: 1 file") != NULL, "%s", t);
    free(t);
    cordon_owners_free(o);
    cordon_manifest_free(a);
    cordon_manifest_free(b);
}

/* The report's classifier: headers and libraries by owner and toolchain,
 * and a system library that shadows the work tree's. */
Test(manifest_classify_packages, headers_and_libraries) {
    struct cordon_manifest *m = build();
    file(m, "/usr/lib/x86_64-linux-gnu/libz.so", 1);
    file(m, "/usr/lib/x86_64-linux-gnu/libc.so", 1);
    file(m, "/lib/x86_64-linux-gnu/libz.so.1", 1)->uses = CORDON_USE_LOAD;
    file(m, "/src/zlib/prefix/lib/libpython3.11.so", 1);
    file(m, "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0", 1)->uses = CORDON_USE_LOAD;
    file(m, "/usr/local/include/zlib.h", 1);
    file(m, "/usr/include/x86_64-linux-gnu/bits/types.h", 1);
    file(m, "/usr/include/unowned/thing.h", 1);
    cordon_manifest_sort(m);
    struct cordon_kb *kb = NULL;
    struct cordon_error err;
    cr_assert(eq(int, cordon_kb_load_dir(CORDON_TEST_DATA "/../../knowledge", &kb, &err), 0));
    cr_assert(eq(int, cordon_kb_bind(kb, m->command.env), 0));
    struct cordon_owners *o = cordon_owners_new(DPKG, false);
    char *declared[] = {"/opt/declared", NULL};
    struct cordon_classifier *c = cordon_classifier_new(m, kb, o, declared);
    cr_assert(c != NULL);
    struct {
        const char *path, *want;
    } cases[] = {
        {"/usr/include/zlib.h", "system-header"}, /* zlib1g-dev: not the toolchain */
        {"/usr/include/stdio.h", "system"},       /* libc6-dev */
        {"/usr/include/x86_64-linux-gnu/bits/types.h", "system"},
        {"/usr/include/unowned/thing.h", "system-header"}, /* no owner, not libc's */
        {"/usr/local/include/zlib.h", "system-header"},
        {"/usr/lib/x86_64-linux-gnu/libz.so", "system-library"}, /* linked */
        {"/usr/lib/x86_64-linux-gnu/libc.so", "system"},
        {"/lib/x86_64-linux-gnu/libz.so.1", "system"}, /* loaded: a runtime */
        {"/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0", "system-library"}, /* shadows */
        {"/src/zlib/prefix/lib/libpython3.11.so", "declared"},
        {"/home/u/.gitconfig", "user-config"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cordon_verdict v;
        cr_assert(
            eq(int, cordon_classify_input(c, cordon_manifest_find_input(m, cases[i].path), &v), 0));
        cr_assert(eq(str, (char *)cordon_category_name(v.category), (char *)cases[i].want), "%s",
                  cases[i].path);
    }
    struct cordon_verdict v;
    cordon_classify_input(
        c, cordon_manifest_find_input(m, "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0"), &v);
    cr_assert(eq(str, (char *)v.shadowed, "/src/zlib/prefix/lib/libpython3.11.so"));
    /* A declared prefix is declared, whatever is below it. */
    struct cordon_input *d = file(m, "/opt/declared/include/x.h", 1);
    cr_assert(eq(int, cordon_classify_input(c, d, &v), 0));
    cr_assert(eq(str, (char *)cordon_category_name(v.category), "declared"));
    cordon_classifier_free(c);
    cordon_owners_free(o);
    cordon_kb_free(kb);
    cordon_manifest_free(m);
}
