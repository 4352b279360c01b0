/* The shared helpers: lexical paths, rm -rf of unpacked roots, strbuf, map. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/parameterized.h>

#include <cordon/util.h>

/* Arrays, not pointers: Criterion runs each case in a new process. */
struct norm_case {
    char in[48];
    char want[48];
};

ParameterizedTestParameters(manifest_util, normalize) {
    static struct norm_case cases[] = {
        {"/", "/"},
        {"//usr//lib/", "/usr/lib"},
        {"/usr/./lib/.", "/usr/lib"},
        {"/usr/lib/../include", "/usr/include"},
        {"/../..", "/"},
        {"/a/b/../../..", "/"},
        {"/a/./b/./../c", "/a/c"},
        {"/usr/lib/x86_64-linux-gnu/../../include", "/usr/include"},
    };
    return cr_make_param_array(struct norm_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct norm_case *c, manifest_util, normalize) {
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", c->in);
    size_t n = cordon_path_normalize(buf);
    cr_assert(eq(str, buf, (char *)c->want), "normalize(%s)", c->in);
    cr_assert(eq(sz, n, strlen(c->want)));
}

Test(manifest_util, join_and_under) {
    char out[PATH_MAX];
    cr_assert(eq(int, cordon_path_join("/work/src", "../include/x.h", out, sizeof out), 0));
    cr_assert(eq(str, out, "/work/include/x.h"));
    cr_assert(eq(int, cordon_path_join("/work", "/abs/./y", out, sizeof out), 0));
    cr_assert(eq(str, out, "/abs/y"));
    cr_assert(cordon_path_under("/usr/lib/x", "/usr/lib"));
    cr_assert(cordon_path_under("/usr/lib", "/usr/lib"));
    cr_assert(not(cordon_path_under("/usr/lib64", "/usr/lib")));
    cr_assert(cordon_path_under("/anything", "/"));
    char small[8];
    cr_assert(eq(int, cordon_path_join("/a", "bcdefghij", small, sizeof small), -ENAMETOOLONG));
}

Test(manifest_util, rm_rf_removes_read_only_directories) {
    char dir[] = "/tmp/cordon-test-rmrf-XXXXXX";
    cr_assert(mkdtemp(dir) != NULL);
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/usr/bin", dir);
    cr_assert(eq(int, cordon_mkdir_p(p, 0755), 0));
    snprintf(p, sizeof p, "%s/usr/bin/tool", dir);
    FILE *f = fopen(p, "w");
    cr_assert(f != NULL);
    fclose(f);
    /* As unpacked roots have them: directories without write permission. */
    snprintf(p, sizeof p, "%s/usr/bin", dir);
    cr_assert(eq(int, chmod(p, 0555), 0));
    snprintf(p, sizeof p, "%s/usr", dir);
    cr_assert(eq(int, chmod(p, 0555), 0));
    cr_assert(eq(int, cordon_rm_rf(dir), 0));
    struct stat st;
    cr_assert(eq(int, lstat(dir, &st), -1));
    cr_assert(eq(int, cordon_rm_rf(dir), 0), "a missing path is not an error");
}

Test(manifest_util, strbuf_and_map) {
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    cr_assert(eq(str, sb.buf, ""));
    cordon_strbuf_adds(&sb, "abc");
    cordon_strbuf_addf(&sb, "-%d-", 42);
    cordon_strbuf_addn(&sb, "xyz", 2);
    cr_assert(eq(str, sb.buf, "abc-42-xy"));
    char *s = cordon_strbuf_detach(&sb);
    cr_assert(eq(str, s, "abc-42-xy"));
    free(s);
    cr_assert(eq(str, sb.buf, ""), "detach leaves an empty strbuf");

    struct cordon_map *m = cordon_map_new(0);
    int values[2000];
    char key[32];
    for (int i = 0; i < 2000; i++) {
        values[i] = i;
        snprintf(key, sizeof key, "/path/%d", i);
        cr_assert(eq(int, cordon_map_put(m, key, &values[i]), 0));
    }
    cr_assert(eq(sz, cordon_map_size(m), 2000));
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "/path/%d", i);
        int *v = cordon_map_get(m, key);
        cr_assert(v != NULL);
        cr_assert(eq(int, *v, i));
    }
    cr_assert(cordon_map_get(m, "/path/2000") == NULL);
    cordon_map_free(m);
}

/* Keys are copied into chunks the map owns: long keys (a chunk of their
 * own) between short ones, and keys that fill chunks exactly, all come
 * back intact after the map has grown. */
Test(manifest_util, map_keys_of_every_length) {
    struct cordon_map *m = cordon_map_new(0);
    static char keys[300][20000];
    int values[300];
    for (int i = 0; i < 300; i++) {
        size_t len = i % 10 == 0 ? 16384 + (size_t)i * 10 : (size_t)(i * 37) % 5000 + 8;
        for (size_t k = 0; k < len; k++)
            keys[i][k] = (char)('a' + (i + (int)k) % 26);
        snprintf(keys[i], 8, "%06d", i); /* unique; the NUL is overwritten next */
        keys[i][6] = '-';
        keys[i][len] = '\0';
        values[i] = i;
        cr_assert(eq(int, cordon_map_put(m, keys[i], &values[i]), 0));
    }
    cr_assert(eq(sz, cordon_map_size(m), 300));
    for (int i = 0; i < 300; i++) {
        int *v = cordon_map_get(m, keys[i]);
        cr_assert(v != NULL, "key %d lost", i);
        cr_assert(eq(int, *v, i));
    }
    /* A put of an existing key replaces the value and copies nothing. */
    cr_assert(eq(int, cordon_map_put(m, keys[5], &values[6]), 0));
    cr_assert(eq(int, *(int *)cordon_map_get(m, keys[5]), 6));
    cr_assert(eq(sz, cordon_map_size(m), 300));
    cordon_map_free(m);
}

/* Under an LD_AUDIT module the loader needs room for large static TLS
 * blocks: the tunable is added to what was there, never over a choice the
 * user made. */
Test(manifest_util, audit_tunables_widen_static_tls) {
    char *v = cordon_audit_tunables(NULL);
    cr_assert(eq(str, v, "glibc.rtld.optional_static_tls=40960"));
    free(v);
    v = cordon_audit_tunables("glibc.malloc.check=3");
    cr_assert(eq(str, v, "glibc.malloc.check=3:glibc.rtld.optional_static_tls=40960"));
    free(v);
    v = cordon_audit_tunables("glibc.rtld.optional_static_tls=100000");
    cr_assert(eq(str, v, "glibc.rtld.optional_static_tls=100000"));
    free(v);
}

/* A chain step resolves the link's text against its directory on this host:
 * relative, absolute, and through a symlinked directory on the way. */
Test(manifest_util, link_next_follows_one_step) {
    char dir[] = "/tmp/cordon-linknext-XXXXXX", p[PATH_MAX], q[PATH_MAX], out[PATH_MAX];
    cr_assert(mkdtemp(dir) != NULL);
    snprintf(p, sizeof p, "%s/real", dir);
    cr_assert(eq(int, mkdir(p, 0755), 0));
    snprintf(p, sizeof p, "%s/alias", dir);
    cr_assert(eq(int, symlink("real", p), 0));
    snprintf(p, sizeof p, "%s/real/cc", dir);
    cr_assert(eq(int, symlink("gcc-12", p), 0));
    snprintf(p, sizeof p, "%s/abs", dir);
    cr_assert(eq(int, symlink("/usr/bin/../lib", p), 0));

    snprintf(p, sizeof p, "%s/real/cc", dir);
    cr_assert(cordon_path_link_next(p, out));
    char real[PATH_MAX];
    cr_assert(realpath(dir, real) != NULL);
    snprintf(q, sizeof q, "%s/real/gcc-12", real);
    cr_assert(eq(str, out, q));
    /* the link's directory reached through a symlink: where the kernel goes */
    snprintf(p, sizeof p, "%s/alias/cc", dir);
    cr_assert(cordon_path_link_next(p, out));
    cr_assert(eq(str, out, q));
    snprintf(p, sizeof p, "%s/abs", dir);
    cr_assert(cordon_path_link_next(p, out));
    char usr_lib[PATH_MAX];
    cr_assert(realpath("/usr", usr_lib) != NULL);
    strcat(usr_lib, "/lib");
    cr_assert(eq(str, out, usr_lib));
    snprintf(p, sizeof p, "%s/real", dir);
    cr_assert(not(cordon_path_link_next(p, out))); /* not a link */
    char *t = cordon_read_link(dir);
    cr_assert(t == NULL);
    snprintf(p, sizeof p, "%s/real/cc", dir);
    t = cordon_read_link(p);
    cr_assert(eq(str, t, "gcc-12"));
    free(t);
    cr_assert(eq(int, cordon_rm_rf(dir), 0));
}
