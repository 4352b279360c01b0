/* The store and snapshots. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <cordon/error.h>
#include <cordon/store.h>

#include "helpers.h"

TestSuite(manifest_store, .init = tmpdir_setup, .fini = tmpdir_teardown);

Test(manifest_store, add_has_and_path) {
    char store[PATH_MAX], f[PATH_MAX], entry[PATH_MAX];
    tpath(store, "store");
    write_file(tpath(f, "a.c"), "int main(void) { return 0; }\n");
    struct cordon_hash h, want;
    struct cordon_error err;
    cr_assert(eq(int, cordon_hash_file(AT_FDCWD, f, &want, NULL), 0));
    cr_assert(not(cordon_store_has(store, &want)));
    cr_assert(eq(int, cordon_store_add_file(store, f, &h, &err), 0), "%s", err.text);
    cr_assert(cordon_hash_equal(&h, &want));
    cr_assert(cordon_store_has(store, &h));
    cr_assert(eq(int, cordon_store_path(store, &h, entry, sizeof entry), 0));
    char hex[33];
    cordon_hash_to_hex(&h, hex);
    char expect[PATH_MAX + 64];
    snprintf(expect, sizeof expect, "%s/%.2s/%s", store, hex, hex + 2);
    cr_assert(eq(str, entry, expect));
    char *content = read_text(entry);
    cr_assert(eq(str, content, "int main(void) { return 0; }\n"));
    free(content);
    struct stat st;
    cr_assert(eq(int, stat(entry, &st), 0));
    cr_assert(eq(uint, st.st_mode & 07777, 0444), "entries are read-only");
    /* adding again is a no-op */
    cr_assert(eq(int, cordon_store_add_file(store, f, &h, &err), 0));
    cr_assert(eq(int, cordon_store_add_file(store, tpath(f, "nope"), &h, &err), -ENOENT));
    cr_assert(strstr(err.text, "nope") != NULL);
    cr_assert(eq(int, cordon_store_add_file(store, tmpdir, &h, &err), -EINVAL));
    char small[8];
    cr_assert(eq(int, cordon_store_path(store, &h, small, sizeof small), -ENAMETOOLONG));
}

Test(manifest_store, default_follows_xdg_then_home) {
    char out[PATH_MAX];
    setenv("XDG_CACHE_HOME", "/x/cache", 1);
    cr_assert(eq(int, cordon_store_default(out, sizeof out), 0));
    cr_assert(eq(str, out, "/x/cache/cordon/store"));
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/home/u", 1);
    cr_assert(eq(int, cordon_store_default(out, sizeof out), 0));
    cr_assert(eq(str, out, "/home/u/.cache/cordon/store"));
    unsetenv("HOME");
    cr_assert(eq(int, cordon_store_default(out, sizeof out), -ENOENT));
}

Test(manifest_store, snapshot_takes_files_skips_links_and_the_store) {
    char tree[PATH_MAX], p[PATH_MAX], store[PATH_MAX];
    tpath(tree, "tree");
    cr_assert(eq(int, cordon_mkdir_p(tpath(p, "tree/sub/deep"), 0755), 0));
    write_file(tpath(p, "tree/a.c"), "a\n");
    write_file(tpath(p, "tree/sub/b.h"), "b\n");
    write_file(tpath(p, "tree/sub/deep/c\nnewline"), "c\n");
    cr_assert(eq(int, symlink("a.c", tpath(p, "tree/link")), 0));
    /* the store inside the tree it snapshots */
    tpath(store, "tree/.cordon-store");
    struct cordon_snapshot *s = NULL;
    struct cordon_error err;
    int r = cordon_snapshot_take(store, tree, 0, NULL, &s, &err);
    cr_assert(eq(int, r, 0), "%s", err.text);
    cr_assert(eq(sz, cordon_snapshot_count(s), 3));
    const struct cordon_snapshot_entry *e = cordon_snapshot_find(s, tpath(p, "tree/sub/b.h"));
    cr_assert(e != NULL);
    cr_assert(eq(u64, e->size, 2));
    struct stat st;
    cr_assert(eq(int, stat(p, &st), 0));
    cr_assert(eq(uint, e->mode, st.st_mode & 07777));
    cr_assert(eq(u64, e->ino, (uint64_t)st.st_ino));
    struct cordon_hash want;
    cordon_hash_buffer("b\n", 2, &want);
    cr_assert(cordon_hash_equal(&e->hash, &want));
    cr_assert(cordon_store_has(store, &want));
    cr_assert(cordon_snapshot_find(s, tpath(p, "tree/link")) == NULL, "symlinks are not files");

    /* a second snapshot sees the store's own files nowhere */
    struct cordon_snapshot *s2 = NULL;
    cr_assert(eq(int, cordon_snapshot_take(store, tree, 0, NULL, &s2, &err), 0));
    cr_assert(eq(sz, cordon_snapshot_count(s2), 3));
    cordon_snapshot_free(s2);

    /* save and load give the same entries, the odd name included */
    char idx[PATH_MAX];
    cr_assert(eq(int, cordon_snapshot_save(s, tpath(idx, "index"), &err), 0));
    struct cordon_snapshot *l = NULL;
    cr_assert(eq(int, cordon_snapshot_load(idx, &l, &err), 0), "%s", err.text);
    cr_assert(eq(sz, cordon_snapshot_count(l), 3));
    const struct cordon_snapshot_entry *le =
        cordon_snapshot_find(l, tpath(p, "tree/sub/deep/c\nnewline"));
    cr_assert(le != NULL);
    const struct cordon_snapshot_entry *se = cordon_snapshot_find(s, le->path);
    cr_assert(cordon_hash_equal(&le->hash, &se->hash));
    cr_assert(eq(u64, le->ino, se->ino));
    cr_assert(eq(i64, le->mtime_ns, se->mtime_ns));
    cr_assert(eq(uint, le->mode, se->mode));
    cordon_snapshot_free(l);
    cordon_snapshot_free(s);
}

Test(manifest_store, snapshot_limit_returns_efbig_with_a_partial_snapshot) {
    char tree[PATH_MAX], p[PATH_MAX], store[PATH_MAX];
    tpath(tree, "tree");
    cr_assert(eq(int, cordon_mkdir_p(tree, 0755), 0));
    write_file(tpath(p, "tree/a"), "0123456789");
    write_file(tpath(p, "tree/b"), "0123456789");
    struct cordon_snapshot *s = NULL;
    struct cordon_error err;
    cr_assert(
        eq(int, cordon_snapshot_take(tpath(store, "store"), tree, 15, NULL, &s, &err), -EFBIG));
    cr_assert(s != NULL);
    cr_assert(eq(sz, cordon_snapshot_count(s), 1));
    cordon_snapshot_free(s);
}

Test(manifest_store, snapshot_load_names_the_bad_line) {
    char idx[PATH_MAX];
    write_file(tpath(idx, "index"), "99aa06d3014798d86001c324468d497f 0 1 2 644 /a\nnot a line\n");
    struct cordon_snapshot *s = NULL;
    struct cordon_error err;
    cr_assert(eq(int, cordon_snapshot_load(idx, &s, &err), -EINVAL));
    cr_assert(eq(int, err.line, 2));
    cr_assert(s == NULL);
}

/* Rewrite `path` in place (same inode and size) and put its mtime back. */
static void rewrite_keeping_identity(const char *path, const char *content) {
    struct stat st;
    cr_assert(eq(int, stat(path, &st), 0));
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    cr_assert(ge(int, fd, 0));
    cr_assert(eq(long, (long)write(fd, content, strlen(content)), (long)strlen(content)));
    close(fd);
    struct timespec t[2] = {st.st_atim, st.st_mtim};
    cr_assert(eq(int, utimensat(AT_FDCWD, path, t, 0), 0));
}

/* The second snapshot of a tree takes the hash of a file whose identity
 * (size, inode, mtime, mode) is unchanged from the first's index, without
 * reading it, unless its mtime is too recent to be trusted. */
Test(manifest_store, snapshot_reuses_the_previous_index) {
    char store[PATH_MAX], tree[PATH_MAX], old[PATH_MAX], recent[PATH_MAX];
    tpath(store, "store");
    cr_assert(eq(int, cordon_mkdir_p(tpath(tree, "tree"), 0755), 0));
    write_file(tpath(old, "tree/old.c"), "old 1\n");
    write_file(tpath(recent, "tree/recent.c"), "new 1\n");
    /* old.c last changed an hour ago */
    struct timespec t[2] = {{.tv_sec = time(NULL) - 3600}, {.tv_sec = time(NULL) - 3600}};
    cr_assert(eq(int, utimensat(AT_FDCWD, old, t, 0), 0));
    struct cordon_snapshot *s1 = NULL, *s2 = NULL;
    struct cordon_error err;
    cr_assert(eq(int, cordon_snapshot_take(store, tree, 0, NULL, &s1, &err), 0), "%s", err.text);
    rewrite_keeping_identity(old, "old 2\n");
    rewrite_keeping_identity(recent, "new 2\n");
    cr_assert(eq(int, cordon_snapshot_take(store, tree, 0, NULL, &s2, &err), 0), "%s", err.text);
    const struct cordon_snapshot_entry *a1 = cordon_snapshot_find(s1, old),
                                       *a2 = cordon_snapshot_find(s2, old),
                                       *b1 = cordon_snapshot_find(s1, recent),
                                       *b2 = cordon_snapshot_find(s2, recent);
    cr_assert(a1 && a2 && b1 && b2);
    /* identity unchanged and old: trusted, as git trusts its index */
    cr_assert(cordon_hash_equal(&a1->hash, &a2->hash));
    /* identity unchanged but racily recent: read again */
    struct cordon_hash want;
    cordon_hash_buffer("new 2\n", 6, &want);
    cr_assert(cordon_hash_equal(&b2->hash, &want));
    cr_assert(not(cordon_hash_equal(&b1->hash, &b2->hash)));
    cordon_snapshot_free(s1);
    cordon_snapshot_free(s2);
    /* a changed size is never trusted */
    write_file(old, "old 33\n");
    cr_assert(eq(int, utimensat(AT_FDCWD, old, t, 0), 0));
    cr_assert(eq(int, cordon_snapshot_take(store, tree, 0, NULL, &s2, &err), 0), "%s", err.text);
    cordon_hash_buffer("old 33\n", 7, &want);
    cr_assert(cordon_hash_equal(&cordon_snapshot_find(s2, old)->hash, &want));
    cordon_snapshot_free(s2);
}
