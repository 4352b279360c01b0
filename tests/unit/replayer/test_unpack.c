/* Unpack: hostile archives are refused with an error naming the entry, and
 * leave nothing behind, inside the destination or outside it. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/parameterized.h>

#include <cordon/error.h>
#include <cordon/pack.h>
#include <cordon/util.h>

#include "mkhostile.h"

static char T[256];

static void setup(void) {
    cr_assert(snprintf(T, sizeof T, "/tmp/cordon-unpack-XXXXXX") < PATH_MAX);
    cr_assert(mkdtemp(T) != NULL);
}

static void teardown(void) {
    cordon_rm_rf(T);
}

/* The names in T, sorted, joined by spaces. */
static void listing(char *out, size_t size) {
    out[0] = '\0';
    DIR *d = opendir(T);
    cr_assert(d != NULL);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        strncat(out, de->d_name, size - strlen(out) - 2);
        strcat(out, " ");
    }
    closedir(d);
}

static bool dir_empty(const char *path) {
    DIR *d = opendir(path);
    if (!d)
        return false;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        n++;
    closedir(d);
    return n == 2;
}

ParameterizedTestParameters(replayer_unpack, hostile_archives_are_refused) {
    static size_t idx[64];
    size_t n = mkhostile_n_cases < 64 ? mkhostile_n_cases : 64;
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    return cr_make_param_array(size_t, idx, n);
}

ParameterizedTest(size_t *i, replayer_unpack, hostile_archives_are_refused) {
    const struct mkhostile_case *c = &mkhostile_cases[*i];
    char archive[PATH_MAX], root[PATH_MAX];
    cr_assert(snprintf(archive, sizeof archive, "%s/x.tar", T) < PATH_MAX);
    cr_assert(snprintf(root, sizeof root, "%s/root", T) < PATH_MAX);
    cr_assert(eq(int, mkhostile_write(c->name, archive), 0), "cannot write case %s", c->name);
    bool canary = strcmp(c->name, "through-symlink") == 0;
    if (canary)
        cr_assert(eq(int, cordon_mkdir_p(MKHOSTILE_CANARY, 0755), 0));

    struct cordon_unpack_options o = {.archive = archive, .dest = root, .quiet = true};
    struct cordon_error err = {0};
    int r = cordon_unpack(&o, &err);
    cr_assert(eq(int, r, -c->error), "%s: got %d (%s)", c->name, r, err.text);
    cr_assert(strstr(err.text, c->text) != NULL, "%s: message '%s' lacks '%s'", c->name, err.text,
              c->text);
    cr_assert(eq(str, err.path, archive), "the error names the archive");

    char names[1024];
    listing(names, sizeof names);
    cr_assert(eq(str, names, "x.tar "), "%s left '%s' behind", c->name, names);
    struct stat st;
    cr_assert(ne(int, lstat(MKHOSTILE_ABSOLUTE, &st), 0));
    if (canary) {
        cr_assert(dir_empty(MKHOSTILE_CANARY), "written through the symlink");
        rmdir(MKHOSTILE_CANARY);
    }
}

TestSuite(replayer_unpack, .init = setup, .fini = teardown);

Test(replayer_unpack, an_existing_destination_is_eexist) {
    char archive[PATH_MAX];
    cr_assert(snprintf(archive, sizeof archive, "%s/x.tar", T) < PATH_MAX);
    cr_assert(eq(int, mkhostile_write("dotdot", archive), 0));
    struct cordon_unpack_options o = {.archive = archive, .dest = T};
    struct cordon_error err = {0};
    cr_assert(eq(int, cordon_unpack(&o, &err), -EEXIST));
    cr_assert(strstr(err.text, T) != NULL);
}

Test(replayer_unpack, a_missing_archive_names_it) {
    char archive[PATH_MAX], root[PATH_MAX];
    cr_assert(snprintf(archive, sizeof archive, "%s/none.tar", T) < PATH_MAX);
    cr_assert(snprintf(root, sizeof root, "%s/root", T) < PATH_MAX);
    struct cordon_unpack_options o = {.archive = archive, .dest = root};
    struct cordon_error err = {0};
    cr_assert(eq(int, cordon_unpack(&o, &err), -ENOENT));
    cr_assert(strstr(err.text, "none.tar") != NULL);
}

Test(replayer_unpack, garbage_is_a_corrupt_archive) {
    char archive[PATH_MAX], root[PATH_MAX];
    cr_assert(snprintf(archive, sizeof archive, "%s/x.tar", T) < PATH_MAX);
    cr_assert(snprintf(root, sizeof root, "%s/root", T) < PATH_MAX);
    FILE *f = fopen(archive, "w");
    for (int i = 0; i < 3000; i++)
        fputc("garbage"[i % 7], f);
    fclose(f);
    struct cordon_unpack_options o = {.archive = archive, .dest = root};
    struct cordon_error err = {0};
    cr_assert(eq(int, cordon_unpack(&o, &err), -EINVAL));
    char names[256];
    listing(names, sizeof names);
    cr_assert(eq(str, names, "x.tar "));
}

Test(replayer_unpack, names_and_links_are_checked_lexically) {
    cr_assert(cordon_pack_name_ok("a"));
    cr_assert(cordon_pack_name_ok("a/b.c/..d"));
    cr_assert(not(cordon_pack_name_ok("")));
    cr_assert(not(cordon_pack_name_ok("/a")));
    cr_assert(not(cordon_pack_name_ok("a/")));
    cr_assert(not(cordon_pack_name_ok("a//b")));
    cr_assert(not(cordon_pack_name_ok("./a")));
    cr_assert(not(cordon_pack_name_ok("a/../b")));
    cr_assert(not(cordon_pack_name_ok("..")));

    cr_assert(cordon_pack_symlink_ok("lib", "usr/lib"));
    cr_assert(cordon_pack_symlink_ok("usr/bin/cc", "/etc/alternatives/cc"));
    cr_assert(cordon_pack_symlink_ok("a/b/c", "../../x"));
    cr_assert(not(cordon_pack_symlink_ok("a/b/c", "../../../x")));
    cr_assert(not(cordon_pack_symlink_ok("a", "..")));
    cr_assert(cordon_pack_symlink_ok("a/b", "x/../../y"));
    cr_assert(not(cordon_pack_symlink_ok("a/b", "x/../../../y")));
    cr_assert(not(cordon_pack_symlink_ok("a", "")));
}

Test(replayer_unpack, unusual_but_safe_archives_unpack) {
    char archive[PATH_MAX], root[PATH_MAX], p[PATH_MAX];
    cr_assert(snprintf(archive, sizeof archive, "%s/x.tar", T) < PATH_MAX);
    cr_assert(snprintf(root, sizeof root, "%s/root", T) < PATH_MAX);
    cr_assert(eq(int, mkhostile_write("good", archive), 0));
    struct cordon_unpack_options o = {.archive = archive, .dest = root, .quiet = true};
    struct cordon_error err = {0};
    cr_assert(eq(int, cordon_unpack(&o, &err), 0), "%s", err.text);
    struct stat st, st2;
    cr_assert(snprintf(p, sizeof p, "%s/d", root) < PATH_MAX);
    cr_assert(eq(int, lstat(p, &st), 0));
    cr_assert(eq(u32, st.st_mode & 07777, 01777), "the directory's own mode, sticky kept");
    cr_assert(snprintf(p, sizeof p, "%s/abs", root) < PATH_MAX);
    char t[64] = "";
    cr_assert(eq(int, (int)readlink(p, t, sizeof t - 1), 11));
    cr_assert(eq(str, t, "/etc/passwd"), "absolute targets are kept, never followed");
    cr_assert(snprintf(p, sizeof p, "%s/zeros", root) < PATH_MAX);
    cr_assert(eq(int, stat(p, &st), 0));
    cr_assert(eq(i64, st.st_size, 64));
    cr_assert(eq(i64, st.st_blocks, 0), "zeros are not written");
    cr_assert(snprintf(p, sizeof p, "%s/d/f", root) < PATH_MAX);
    cr_assert(eq(int, stat(p, &st), 0));
    cr_assert(snprintf(p, sizeof p, "%s/d/g", root) < PATH_MAX);
    cr_assert(eq(int, stat(p, &st2), 0));
    cr_assert(eq(u64, st.st_ino, st2.st_ino));
}
