/* The model: canonical order, merging, lookup, name tables, secrets. */
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/parameterized.h>

#include <cordon/manifest.h>

static struct cordon_manifest *three_inputs(const char *const *paths, unsigned const *uses) {
    struct cordon_manifest *m = cordon_manifest_new();
    cr_assert(m != NULL);
    for (size_t i = 0; i < 3; i++) {
        struct cordon_input *in = cordon_manifest_add_input(m, paths[i]);
        cr_assert(in != NULL);
        in->uses = uses[i];
        in->size = i + 1;
    }
    return m;
}

Test(manifest_model, sort_orders_inputs_bytewise_and_find_works) {
    const char *paths[] = {"/usr/lib/b", "/etc/a", "/usr/include/zlib.h"};
    unsigned uses[] = {CORDON_USE_READ, CORDON_USE_STAT, CORDON_USE_READ};
    struct cordon_manifest *m = three_inputs(paths, uses);
    cordon_manifest_sort(m);
    cr_assert(eq(str, m->inputs[0].path, "/etc/a"));
    cr_assert(eq(str, m->inputs[1].path, "/usr/include/zlib.h"));
    cr_assert(eq(str, m->inputs[2].path, "/usr/lib/b"));
    const struct cordon_input *in = cordon_manifest_find_input(m, "/usr/lib/b");
    cr_assert(in != NULL);
    cr_assert(eq(u64, in->size, 1));
    cr_assert(cordon_manifest_find_input(m, "/usr/lib") == NULL);
    cordon_manifest_free(m);
}

Test(manifest_model, duplicates_merge_with_uses_ored_and_first_metadata_kept) {
    const char *paths[] = {"/x", "/a", "/x"};
    unsigned uses[] = {CORDON_USE_STAT, CORDON_USE_READ, CORDON_USE_READ | CORDON_USE_EXEC};
    struct cordon_manifest *m = three_inputs(paths, uses);
    m->inputs[2].has_hash = true;
    m->inputs[2].hash.bytes[0] = 7;
    cordon_manifest_sort(m);
    cr_assert(eq(sz, m->n_inputs, 2));
    cr_assert(eq(str, m->inputs[1].path, "/x"));
    cr_assert(eq(uint, m->inputs[1].uses, CORDON_USE_STAT | CORDON_USE_READ | CORDON_USE_EXEC));
    cr_assert(eq(u64, m->inputs[1].size, 1), "the first entry's metadata is kept");
    cr_assert(m->inputs[1].has_hash, "a hash only the later entry had is taken");
    cr_assert(eq(u8, m->inputs[1].hash.bytes[0], 7));
    cordon_manifest_free(m);
}

Test(manifest_model, processes_env_and_gaps_sort) {
    struct cordon_manifest *m = cordon_manifest_new();
    cordon_manifest_add_process(m, 30);
    cordon_manifest_add_process(m, 4);
    cordon_manifest_add_env_read(m, "PATH");
    cordon_manifest_add_env_read(m, "CC")->value = strdup("gcc");
    cordon_manifest_add_env_read(m, "CC");
    cr_assert(eq(int, cordon_manifest_add_gap(m, "unfinished", NULL, 9, NULL), 0));
    cr_assert(eq(int, cordon_manifest_add_gap(m, "static-exec", "/sbin/ldconfig", 3, "x"), 0));
    cordon_manifest_sort(m);
    cr_assert(eq(int, m->processes[0].pid, 4));
    cr_assert(eq(sz, m->n_env_reads, 2));
    cr_assert(eq(str, m->env_reads[0].name, "CC"));
    cr_assert(eq(str, m->env_reads[0].value, "gcc"));
    cr_assert(eq(str, m->gaps[0].kind, "static-exec"));
    cordon_manifest_free(m);
}

Test(manifest_model, names_round_trip) {
    for (int t = 0; t < CORDON_FT_MAX; t++)
        cr_assert(eq(int, cordon_ftype_from_name(cordon_ftype_name(t)), t));
    cr_assert(eq(int, cordon_ftype_from_name("pipe"), CORDON_FT_INVALID));
    for (unsigned i = 0; i < CORDON_USE_COUNT; i++)
        cr_assert(eq(uint, cordon_use_from_name(cordon_use_name(1u << i)), 1u << i));
    cr_assert(eq(str, (char *)cordon_use_name(CORDON_USE_LOAD), "load"));
    cr_assert(cordon_use_name(3) == NULL);
    cr_assert(eq(uint, cordon_use_from_name("write"), 0));
}

Test(manifest_model, strv_copy_and_length) {
    char *v[] = {"a", "bb", NULL};
    char **c = cordon_strv_copy(v);
    cr_assert(eq(sz, cordon_strv_length(c), 2));
    cr_assert(eq(str, c[1], "bb"));
    cr_assert(cordon_strv_free(c) == NULL);
    cr_assert(cordon_strv_copy(NULL) == NULL);
}

/* Inline names: Criterion runs each test in a new process (with its own
 * address layout), so parameters must not hold pointers. */
struct secret_case {
    char name[40];
    bool secret;
};

ParameterizedTestParameters(manifest_model, env_is_secret) {
    static struct secret_case cases[] = {
        {"GITHUB_TOKEN", true},
        {"AWS_SECRET_ACCESS_KEY", true},
        {"AWS_SESSION_TOKEN", true},
        {"gh_token", true},
        {"NPM_TOKEN", true},
        {"DB_PASSWORD", true},
        {"MY_PASSWD", true},
        {"SIGNING_KEY", true},
        {"OPENAI_APIKEY", true},
        {"GOOGLE_API_KEY", true},
        {"AZURE_CREDENTIALS", true},
        {"NPM_CONFIG__AUTH", true},
        {"NODE_AUTH_TOKEN", true},
        {"HTTP_AUTHORIZATION", true},
        {"SSH_AUTH_SOCK", false},
        {"GIT_AUTHOR_NAME", false},
        {"PATH", false},
        {"HOME", false},
        {"CC", false},
        {"PWD", false},
        {"OLDPWD", false},
        {"KEYBOARD", false},
        {"CFLAGS", false},
        {"LANG", false},
    };
    return cr_make_param_array(struct secret_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct secret_case *c, manifest_model, env_is_secret) {
    cr_assert(eq(int, cordon_env_is_secret(c->name), c->secret), "%s", c->name);
}
