/* Classification: the built-in rules as a table, and a whole manifest. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/parameterized.h>

#include <cordon/classify.h>
#include <cordon/manifest.h>

/* Inline strings: Criterion runs each case in a new process. */
struct cls_case {
    char path[80];
    char want[32];
};

ParameterizedTestParameters(manifest_classify, path_rules) {
    static struct cls_case cases[] = {
        {"/proc/self/maps", "virtual"},
        {"/sys/devices/system/cpu/online", "virtual"},
        {"/dev/null", "virtual"},
        {"/devx/foo", "undeclared-read"},
        {"/home/u/src/zlib/zlib.h", "declared"},
        {"/home/u/src/zlib", "declared"},
        {"/home/u/.ssh/id_ed25519", "credentials"},
        {"/home/u/.ssh", "credentials"},
        {"/home/u/.ssh/config", "user-config"},
        {"/home/u/.ssh/known_hosts", "user-config"},
        {"/home/u/.gnupg/private-keys-v1.d/AB.key", "credentials"},
        {"/home/u/.gnupg/secring.gpg", "credentials"},
        {"/home/u/.gnupg/S.gpg-agent", "credentials"},
        {"/home/u/.gnupg/pubring.kbx", "user-config"},
        {"/home/u/.netrc", "credentials"},
        {"/home/u/.aws/credentials", "credentials"},
        {"/home/u/.docker/config.json", "credentials"},
        {"/home/u/.docker/contexts/meta", "user-config"},
        {"/home/u/.npmrc", "credentials"},
        {"/home/u/.pypirc", "credentials"},
        {"/home/u/.config/gh/hosts.yml", "credentials"},
        {"/home/u/.git-credentials", "credentials"},
        {"/home/u/.cargo/credentials.toml", "credentials"},
        {"/home/u/.kube/config", "credentials"},
        {"/home/u/.gitconfig", "user-config"},
        {"/home/u/.config/git/config", "user-config"},
        {"/home/u/.cache/pip/http/x", "cache"},
        {"/home/u/.ccache/a/b.o", "cache"},
        {"/home/u/.cmake/packages/Foo/abc", "user-package-registry"},
        {"/home/u/.local/lib/python3.11/site-packages/six.py", "user-site-packages"},
        {"/home/u/.local/lib/python3.11/other.py", "undeclared-read"},
        {"/home/u/.local/bin/tool", "undeclared-read"},
        {"/home/u/notes.txt", "undeclared-read"},
        {"/home/u", "undeclared-read"},
        {"/home/other/.gitconfig", "undeclared-read"},
        {"/etc/gitconfig", "site-config"},
        {"/etc/pip.conf", "site-config"},
        {"/etc/npmrc", "site-config"},
        {"/etc/xdg/user-dirs.defaults", "site-config"},
        {"/etc/ssh/ssh_host_ed25519_key", "credentials"},
        {"/etc/ld.so.cache", "system"},
        {"/usr/local/include/foo.h", "system-header"},
        {"/usr/local/lib/libfoo.so", "system-library"},
        {"/usr/local/bin/tool", "undeclared-read"},
        {"/usr/include/stdio.h", "system"},
        {"/usr/lib/x86_64-linux-gnu/libc.so.6", "system"},
        {"/lib64/ld-linux-x86-64.so.2", "system"},
        {"/bin/sh", "system"},
        {"/", "system"},
        {"/opt/tool/bin/x", "undeclared-read"},
        {"/tmp/cc123.s", "undeclared-read"},
        {"/run/user/1000/gnupg/S.gpg-agent", "credentials"},
    };
    return cr_make_param_array(struct cls_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct cls_case *c, manifest_classify, path_rules) {
    enum cordon_category got = cordon_classify_path(c->path, "/home/u/", "/home/u/src/zlib");
    cr_assert(eq(str, (char *)cordon_category_name(got), c->want), "%s", c->path);
}

Test(manifest_classify, names_round_trip) {
    for (int i = 0; i < CORDON_CAT_MAX; i++)
        cr_assert(eq(int, cordon_category_from_name(cordon_category_name(i)), i));
    cr_assert(eq(int, cordon_category_from_name("nonsense"), CORDON_CAT_INVALID));
    cr_assert(eq(str, (char *)cordon_category_name(CORDON_CAT_UNDECLARED), "undeclared-read"));
}

Test(manifest_classify, manifest_uses_the_recorded_home) {
    struct cordon_manifest *m = cordon_manifest_new();
    char *env[] = {"PATH=/usr/bin", "HOME=/home/rec", NULL};
    m->command.env = cordon_strv_copy(env);
    m->worktree = strdup("/w");
    cordon_manifest_add_input(m, "/home/rec/.gitconfig");
    cordon_manifest_add_input(m, "/w/a.c");
    cordon_manifest_add_input(m, "/usr/include/zlib.h")->category = strdup("stale");
    cordon_manifest_sort(m);
    cr_assert(eq(int, cordon_classify_manifest(m), 0));
    cr_assert(
        eq(str, cordon_manifest_find_input(m, "/home/rec/.gitconfig")->category, "user-config"));
    cr_assert(eq(str, cordon_manifest_find_input(m, "/w/a.c")->category, "declared"));
    cr_assert(eq(str, cordon_manifest_find_input(m, "/usr/include/zlib.h")->category, "system"));
    cordon_manifest_free(m);
}
