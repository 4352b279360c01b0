/* Replay's pure parts: the cache key of an archive and where fakechroot's
 * library comes from. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cordon/error.h>
#include <cordon/hash.h>
#include <cordon/replay.h>
#include <cordon/util.h>

static char tmp[64]; /* short: keeps -Wformat-truncation quiet */

static void make_tmp(void) {
    snprintf(tmp, sizeof tmp, "/tmp/cordon-test-replay.XXXXXX");
    cr_assert(mkdtemp(tmp) != NULL);
}

static void remove_tmp(void) {
    cordon_rm_rf(tmp);
}

static void write_at(const char *rel, const char *text) {
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", tmp, rel);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", p);
    *strrchr(dir, '/') = '\0';
    cr_assert(eq(int, cordon_mkdir_p(dir, 0755), 0));
    FILE *f = fopen(p, "w");
    cr_assert(f != NULL);
    fputs(text, f);
    fclose(f);
}

static void hex_of(const char *text, char out[CORDON_HASH_HEX_LEN + 1]) {
    struct cordon_hash h;
    cordon_hash_buffer(text, strlen(text), &h);
    cordon_hash_to_hex(&h, out);
}

Test(replayer_replay, cache_key_is_the_archive_hash, .init = make_tmp, .fini = remove_tmp) {
    write_at("a.tar.zst", "archive bytes");
    char p[PATH_MAX], key[CORDON_HASH_HEX_LEN + 1], want[CORDON_HASH_HEX_LEN + 1];
    snprintf(p, sizeof p, "%s/a.tar.zst", tmp);
    struct cordon_error err;
    cordon_error_clear(&err);
    cr_assert(eq(int, cordon_replay_cache_key(p, key, &err), 0));
    hex_of("archive bytes", want);
    cr_assert(eq(str, key, want));
    /* Another content, another key. */
    write_at("a.tar.zst", "archive bytes, changed");
    char key2[CORDON_HASH_HEX_LEN + 1];
    cr_assert(eq(int, cordon_replay_cache_key(p, key2, &err), 0));
    cr_assert(ne(str, key, key2));
}

Test(replayer_replay, cache_key_of_a_directory_is_its_manifest_hash, .init = make_tmp,
     .fini = remove_tmp) {
    write_at("root/.cordon/manifest.json", "{\"cordon_manifest\": 1}\n");
    write_at("root/usr/bin/x", "program");
    char p[PATH_MAX], key[CORDON_HASH_HEX_LEN + 1], want[CORDON_HASH_HEX_LEN + 1];
    snprintf(p, sizeof p, "%s/root", tmp);
    struct cordon_error err;
    cordon_error_clear(&err);
    cr_assert(eq(int, cordon_replay_cache_key(p, key, &err), 0));
    hex_of("{\"cordon_manifest\": 1}\n", want);
    cr_assert(eq(str, key, want));
}

Test(replayer_replay, cache_key_errors_name_the_archive, .init = make_tmp, .fini = remove_tmp) {
    char p[PATH_MAX], key[CORDON_HASH_HEX_LEN + 1];
    snprintf(p, sizeof p, "%s/none.tar.zst", tmp);
    struct cordon_error err;
    cordon_error_clear(&err);
    cr_assert(eq(int, cordon_replay_cache_key(p, key, &err), -ENOENT));
    cr_assert(eq(str, err.path, p));
    cr_assert(strstr(err.text, "none.tar.zst") != NULL, "%s", err.text);
    /* A directory without a manifest is not a packed root. */
    snprintf(p, sizeof p, "%s", tmp);
    cordon_error_clear(&err);
    cr_assert(eq(int, cordon_replay_cache_key(p, key, &err), -ENOENT));
    cr_assert(strstr(err.text, ".cordon/manifest.json") != NULL, "%s", err.text);
}

Test(replayer_replay, fakechroot_library_prefers_the_roots_own, .init = make_tmp,
     .fini = remove_tmp) {
    write_at(".cordon/lib/libfakechroot.so", "carried");
    char got[PATH_MAX], want[PATH_MAX];
    bool host = true;
    cr_assert(eq(int, cordon_fakechroot_library(tmp, got, sizeof got, &host), 0));
    snprintf(want, sizeof want, "%s/.cordon/lib/libfakechroot.so", tmp);
    cr_assert(eq(str, got, want));
    cr_assert(not(host));
}

Test(replayer_replay, fakechroot_library_falls_back_to_the_hosts, .init = make_tmp,
     .fini = remove_tmp) {
    char got[PATH_MAX];
    bool host = false;
    int r = cordon_fakechroot_library(tmp, got, sizeof got, &host);
    if (access("/usr/lib/x86_64-linux-gnu/fakechroot/libfakechroot.so", R_OK) == 0) {
        cr_assert(eq(int, r, 0));
        cr_assert(host);
        cr_assert(eq(str, got, "/usr/lib/x86_64-linux-gnu/fakechroot/libfakechroot.so"));
    } else {
        cr_assert(eq(int, r, -ENOENT));
        cr_assert(strstr(got, "/.cordon/lib/libfakechroot.so") != NULL);
    }
}

Test(replayer_replay, a_symlink_in_the_root_is_not_its_fakechroot, .init = make_tmp,
     .fini = remove_tmp) {
    /* The loader would follow it on the host: only a file counts. */
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/.cordon/lib", tmp);
    cr_assert(eq(int, cordon_mkdir_p(p, 0755), 0));
    snprintf(p, sizeof p, "%s/.cordon/lib/libfakechroot.so", tmp);
    cr_assert(eq(int, symlink("/etc/passwd", p), 0));
    char got[PATH_MAX];
    bool host = false;
    int r = cordon_fakechroot_library(tmp, got, sizeof got, &host);
    cr_assert(r == -ENOENT || host);
}
